"""SQLite stores stream the newest screenful of runs first (issue 17): what ``partial`` gets
is exactly the top of the frame that follows, under every view, experiment scope and filter,
and it comes before the whole store is read."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from mlscope.core import open_store, sqlstore
from mlscope.core.errors import Cancelled


@pytest.fixture
def few_first(monkeypatch):
    monkeypatch.setattr(sqlstore, "FIRST_ROWS", 3)  # the built store holds a dozen runs


def _streamed(db, **kwargs):
    seen = []
    with open_store(db) as store:
        final = store.runs(attributes=True, partial=seen.append, **kwargs)
    assert len(seen) == 1
    return seen[0], final


@pytest.mark.parametrize("kwargs", [
    {"view": "all"},
    {"view": "active"},
    {"view": "deleted"},
    {"view": "all", "experiment_ids": "alpha"},
    {"view": "active", "filter_string": "attributes.status = 'FINISHED'"},
])
def test_first_rows_are_the_top_of_the_frame(built, few_first, kwargs):
    if "experiment_ids" in kwargs:  # the experiment of that role in the built store
        kwargs = {**kwargs, "experiment_ids": [built["sql_ids"][kwargs["experiment_ids"]]]}
    first, final = _streamed(built["sqlite"], **kwargs)
    # the newest 3 of the experiments, then the view and filter: none may be left (deleted)
    assert len(first) <= 3 and (len(first) > 0 or kwargs["view"] == "deleted")
    if first.empty:
        return
    assert set(first.columns) <= set(final.columns)
    top = final.head(len(first))[list(first.columns)]
    pd.testing.assert_frame_equal(first, top, check_exact=True)


def test_first_rows_hold_the_newest_runs_of_the_store(built, few_first):
    first, final = _streamed(built["sqlite"], view="all")
    newest = final.sort_values("start_time", ascending=False, kind="stable").head(3)
    assert list(first["run_id"]) == list(newest["run_id"])
    assert first.filter(like="params.").shape[1] + first.filter(like="metrics.").shape[1] > 0


def test_cancel_after_the_first_rows_stops_before_the_whole_read(built, few_first):
    seen = []
    with open_store(built["sqlite"]) as store, pytest.raises(Cancelled):
        store.runs(view="all", partial=seen.append, cancel=lambda: bool(seen))
    assert len(seen) == 1


def test_no_streaming_without_run_indexes(built, tmp_path, few_first):
    """An old schema without the run_uuid indexes would scan every table twice: read once."""
    import sqlite3

    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    with sqlite3.connect(db) as conn:
        conn.execute("DROP INDEX index_params_run_uuid")
    conn.close()
    seen = []
    with open_store(db) as store:
        final = store.runs(view="all", partial=seen.append)
    assert seen == [] and len(final) > 3
