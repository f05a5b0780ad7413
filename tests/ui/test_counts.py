"""Experiment run counts stay true: F5 and Watch refresh them; servers show what they know."""

from __future__ import annotations

import shutil

from mlflow.tracking import MlflowClient


def _count(page, exp_id: str) -> str:
    m = page.experiments.model
    return m.data(m.index(m.row_of(exp_id), 1))


def test_counts_follow_f5_and_watch(built, tmp_path, qtbot, open_store_page):
    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    alpha = built["sql_ids"]["alpha"]
    page = open_store_page(db, "alpha")
    qtbot.waitUntil(lambda: _count(page, alpha) not in ("…", ""), timeout=30_000)
    n = int(_count(page, alpha))
    assert n == page.runs.model.total_runs()
    client = MlflowClient(f"sqlite:///{db}")
    client.create_run(alpha, run_name="after-open")
    page.reload()
    qtbot.waitUntil(lambda: _count(page, alpha) == str(n + 1), timeout=30_000)
    client.create_run(alpha, run_name="while-watched")
    page.watch.tick()
    qtbot.waitUntil(lambda: _count(page, alpha) == str(n + 2), timeout=30_000)
