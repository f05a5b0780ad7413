"""A large mlruns folder keeps a copy of its last table: reopened, the copy shows at once while
every run folder is checked, then the checked table replaces it (with what changed since).
Small folders keep none. The stores are written by MLflow's own client; "large" is the
threshold (FOLDER_COPY_AFTER_S) lowered to 0 so that three runs count."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from test_cli import run_app

from mlscope.core import server_cache
from mlscope.ui.controllers import loading


@pytest.fixture
def store(tmp_path, fresh_cache):
    root = tmp_path / "mlruns"
    client = MlflowClient(root.as_uri())
    exp = client.create_experiment("sweep")
    ids = []
    for i in range(3):
        run = client.create_run(exp, run_name=f"run-{i}")
        client.log_param(run.info.run_id, "lr", str(0.1 * (i + 1)))
        client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1))
        client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)
    return root, client, exp, ids


def open_page(qtbot, settings, root, exp):
    from mlscope.ui.store_page import StorePage

    page = StorePage(str(root), settings, experiment=exp)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    seen = []  # each table the page was given: (run ids, a copy?, the bar's words, still reading?)
    page.loading.runsLoaded.connect(lambda frame, _keep: seen.append(
        (set(frame["run_id"]), page.loading.cache_shown, page.loading.bar_text, page.is_loading())))
    page.open()
    qtbot.waitUntil(lambda: page.loaded_once and not page.is_loading(), timeout=60_000)
    return page, seen


def kept(page):
    return server_cache.load(server_cache.copy_key(page.store.location))


def test_a_small_folder_keeps_no_copy(store, qtbot, settings):
    root, _client, exp, ids = store
    page, seen = open_page(qtbot, settings, root, exp)
    assert [s[:2] for s in seen] == [(set(ids), False)]
    qtbot.wait(300)  # a save would have started with the table
    assert not page.loading.running("cache-save")
    assert kept(page) is None and not server_cache.folder(root.as_uri()).exists()
    page.shutdown()


def test_reopened_the_copy_shows_then_the_checked_table(store, qtbot, settings, monkeypatch):
    root, client, exp, ids = store
    monkeypatch.setattr(loading, "FOLDER_COPY_AFTER_S", 0.0)
    page, _ = open_page(qtbot, settings, root, exp)
    qtbot.waitUntil(lambda: kept(page) is not None, timeout=10_000)
    assert set(kept(page).runs["run_id"]) == set(ids)
    page.shutdown()

    # Meanwhile, training went on: a run added, one deleted.
    new = client.create_run(exp, run_name="run-3").info.run_id
    client.delete_run(ids[0])
    now = {*ids[1:], new}
    page, seen = open_page(qtbot, settings, root, exp)
    first, last = seen[0], seen[-1]
    assert first[0] == set(ids) and first[1] and first[3], seen  # the copy, while reading
    assert "as last read" in first[2] and "checking every run folder" in first[2]
    assert last[:3] == (now, False, ""), seen  # then the folder as it is now, the bar gone
    assert not page.cache_bar.isVisible()
    assert set(page.loading.frame["run_id"]) == now
    qtbot.waitUntil(lambda: set(kept(page).runs["run_id"]) == now, timeout=10_000)

    # F5 on the checked table reads the folder again with no older copy in between.
    seen.clear()
    page.reload()
    qtbot.waitUntil(lambda: bool(seen) and not page.is_loading(), timeout=60_000)
    assert all(not shown for _, shown, _, _ in seen) and seen[-1][0] == now
    page.shutdown()


def test_a_script_acts_on_the_checked_table_not_the_copy(store, qtbot, settings, monkeypatch,
                                                        tmp_path):
    """``--bench`` (and ``--screenshot``) wait for the folder as it is, past its copy."""
    root, client, exp, ids = store
    monkeypatch.setenv("MLSCOPE_CACHE_DIR", str(tmp_path / "cache"))  # run_app's cache
    monkeypatch.setattr(loading, "FOLDER_COPY_AFTER_S", 0.0)
    page, _ = open_page(qtbot, settings, root, exp)
    qtbot.waitUntil(lambda: kept(page) is not None, timeout=10_000)
    page.shutdown()
    client.create_run(exp, run_name="run-3")
    out = run_app([str(root), "--experiment", "sweep", "--bench"], tmp_path)
    assert out.returncode == 0, out.stderr
    events = [line.split()[1:3] for line in out.stdout.splitlines()
              if line.startswith("mlscope-event")]
    names = [e[0] for e in events]
    assert ["copy", "3"] in events and ["loaded", "4"] in events, events
    assert names.index("copy") < names.index("loaded")
