"""The runs model on synthetic frames shaped like ``store.runs(..., attributes=True)``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt

from mlscope.ui.models import BRANCH_ROLE, RUN_ID_ROLE, SORT_ROLE, RunsModel
from mlscope.ui.models import columns as C


def frame(n=6, seed=0, parents=None):
    rng = np.random.default_rng(seed)
    start = pd.to_datetime(1_700_000_000_000 + np.arange(n) * 60_000, unit="ms", utc=True)
    rmse = rng.random(n)
    rmse[1] = np.nan  # a run without the metric
    f = pd.DataFrame({
        "run_id": [f"r{i:06d}" for i in range(n)],
        "experiment_id": "1",
        "status": ["FINISHED"] * n,
        "artifact_uri": "file:///tmp",
        "start_time": start,
        "end_time": start + pd.to_timedelta(rng.integers(1, 1000, n), unit="s"),
        "metrics.rmse": rmse,
        "params.alpha": [str(a) for a in rng.choice([0.01, 0.1, 1.0, 10.0], n)],
        "params.model": rng.choice(["Lasso", "ridge", "Elastic"], n).astype(object),
        "tags.developer": rng.choice(["ann", "bob"], n).astype(object),
        "tags.mlflow.parentRunId": [None] * n,
        "run_name": [f"run-{i}" for i in range(n)],
        "user_id": "ann",
        "lifecycle_stage": "active",
    })
    f.loc[2, "params.model"] = None
    for child, parent in (parents or {}).items():
        f.loc[child, "tags.mlflow.parentRunId"] = f.loc[parent, "run_id"]
    return f


def column_values(model, key, role=Qt.DisplayRole):
    col = model.visible_columns().index(key)
    return [model.index(r, col).data(role) for r in range(model.rowCount())]


@pytest.fixture
def model(qtbot):
    m = RunsModel()
    m.set_frame(frame())
    m.set_columns(["status", "run_name", "start_time", "metrics.rmse", "params.alpha",
                   "params.model", "tags.developer"])
    return m


def test_display_and_default_columns(model):
    assert model.rowCount() == 6
    assert model.headerData(3, Qt.Horizontal) == "metrics.rmse"
    assert column_values(model, "status")[0] == "Finished"
    available = model.available_columns()
    assert available[:3] == ["run_name", "status", "start_time"]
    visible = C.apply_layout(available, None)
    assert "tags.mlflow.parentRunId" not in visible and "run_id" not in visible
    assert "metrics.rmse" in visible and "params.alpha" in visible


def test_sort_numbers_as_numbers_missing_last_both_ways(model):
    col = model.visible_columns().index("metrics.rmse")
    model.sort(col, Qt.AscendingOrder)
    vals = column_values(model, "metrics.rmse", SORT_ROLE)
    assert vals[-1] is None and vals[:-1] == sorted(vals[:-1])
    model.sort(col, Qt.DescendingOrder)
    vals = column_values(model, "metrics.rmse", SORT_ROLE)
    assert vals[-1] is None and vals[:-1] == sorted(vals[:-1], reverse=True)


def test_numeric_params_sort_as_numbers_text_case_insensitive(model):
    model.sort(model.visible_columns().index("params.alpha"), Qt.AscendingOrder)
    alphas = [float(a) for a in column_values(model, "params.alpha")]
    assert alphas == sorted(alphas)
    model.sort(model.visible_columns().index("params.model"), Qt.AscendingOrder)
    models = column_values(model, "params.model")
    assert models[-1] == ""  # the missing one, last
    assert [m.lower() for m in models[:-1]] == sorted(m.lower() for m in models[:-1])


def test_times_sort_as_times(model):
    model.sort(model.visible_columns().index("start_time"), Qt.DescendingOrder)
    ts = column_values(model, "start_time", SORT_ROLE)
    assert ts == sorted(ts, reverse=True)


def test_tree_children_under_parent_and_flat(qtbot):
    m = RunsModel()
    m.set_frame(frame(8, parents={3: 0, 4: 0, 5: 4}))
    m.set_columns(["run_name"])
    assert m.rowCount() == 5  # 0,1,2,6,7 at the top; parents start closed
    assert m.index_of("r000000").data(BRANCH_ROLE) == 1 and "(2)" in m.index_of("r000000").data()
    m.set_expanded("r000000", True)
    assert m.rowCount() == 7 and m.index_of("r000000").data(BRANCH_ROLE) == 2
    m.reveal("r000005")  # opens r000004 too
    assert m.rowCount() == 8
    rows = [m.index(r, 0).data(RUN_ID_ROLE) for r in range(m.rowCount())]
    p = rows.index("r000000")
    assert set(rows[p + 1:p + 4]) == {"r000003", "r000004", "r000005"}
    assert rows.index("r000005") == rows.index("r000004") + 1
    assert m.depth_of("r000005") == 2 and m.depth_of("r000004") == 1 and m.depth_of("r000000") == 0
    m.set_expanded("r000000", False)
    assert m.rowCount() == 5 and not m.index_of("r000005").isValid()
    m.set_tree(False)
    assert m.rowCount() == 8 and m.index_of("r000000").data(BRANCH_ROLE) == 0


def test_expand_keeps_selection_rows_inserted_not_reset(qtbot):
    m = RunsModel()
    m.set_frame(frame(8, parents={3: 0, 4: 0}))
    m.set_columns(["run_name", "metrics.rmse"])
    inserted, resets = [], []
    m.rowsInserted.connect(lambda *a: inserted.append(a[1:]))
    m.modelReset.connect(lambda: resets.append(1))
    m.set_expanded("r000000", True)
    p = m.index_of("r000000").row()
    assert inserted == [(p + 1, p + 2)] and not resets
    # Sorting keeps children under their parent, sorted among themselves.
    m.sort(1, Qt.DescendingOrder)
    rows = [m.index(r, 0).data(RUN_ID_ROLE) for r in range(m.rowCount())]
    p = rows.index("r000000")
    assert set(rows[p + 1:p + 3]) == {"r000003", "r000004"}


def test_parent_cycles_do_not_lose_runs(qtbot):
    m = RunsModel()
    m.set_frame(frame(4, parents={0: 1, 1: 0, 2: 2}))
    m.set_all_expanded(True)
    seen = [m.index(r, 0).data(RUN_ID_ROLE) for r in range(m.rowCount())]
    assert sorted(seen) == ["r000000", "r000001", "r000002", "r000003"]


def test_quick_search_matches_names_params_tags(model):
    model.set_quick_filter("lasso")
    assert 0 < model.shown_runs() < 6
    models = column_values(model, "params.model")
    assert models and all(v == "Lasso" for v in models)
    model.set_quick_filter("developer=bob alpha=")
    developers = column_values(model, "tags.developer")
    assert developers and all(v == "bob" for v in developers)  # not vacuous on zero rows
    model.set_quick_filter("no-such-thing")
    assert model.rowCount() == 0 and model.shown_runs() == 0
    model.set_quick_filter("")
    assert model.rowCount() == 6


def test_csv_has_raw_values(model):
    text = model.to_csv(["r000000", "r000003"])
    lines = text.strip().splitlines()
    assert lines[0].split(",")[:3] == ["run_id", "status", "run_name"]
    assert len(lines) == 3 and lines[1].startswith("r000000,FINISHED,run-0")


def test_100k_rows_sort_without_freezing(qtbot):
    """Sorting is an argsort of one array, not row-by-row comparisons in a proxy."""
    big = frame(100_000, seed=1)
    m = RunsModel()
    m.set_frame(big)
    m.set_columns(["status", "run_name", "metrics.rmse", "params.alpha", "params.model"])
    # How fast: benchmarks/bench_table.py (time limits live in benchmarks, not tests).
    for key in ("metrics.rmse", "params.alpha", "params.model", "run_name"):
        for order in (Qt.AscendingOrder, Qt.DescendingOrder):
            m.sort(m.visible_columns().index(key), order)
            col = [m.index(r, m.visible_columns().index(key)).data(SORT_ROLE) for r in range(0, 100_000, 997)]
            present = [v for v in col if v is not None]
            assert present == sorted(present, reverse=order == Qt.DescendingOrder), (key, order)
    m.sort(2, Qt.AscendingOrder)
    vals = [m.index(r, 2).data(SORT_ROLE) for r in range(m.rowCount())]
    present = [v for v in vals if v is not None]
    assert present == sorted(present) and vals[len(present):] == [None] * (len(vals) - len(present))


def test_layout_keeps_user_order_and_places_new_columns():
    avail = ["status", "run_name", "start_time", "metrics.a", "metrics.b", "params.x"]
    layout = C.make_layout(["metrics.b", "run_name"], avail)
    assert C.apply_layout(avail, layout) == ["metrics.b", "run_name"]
    avail2 = avail + ["metrics.c"]
    assert C.apply_layout(avail2, layout) == ["metrics.b", "run_name", "metrics.c"]


def test_filter_box_completes_keys_with_mlflow_quoting(qtbot):
    from mlscope.ui.views.filter_edit import FilterEdit, filter_key

    assert filter_key("metrics.rmse") == "metrics.rmse"
    assert filter_key("params.train-data-path") == "params.`train-data-path`"
    assert filter_key("metrics.train/loss") == "metrics.`train/loss`"
    box = FilterEdit()
    qtbot.addWidget(box)
    box.show()
    box.set_columns(["metrics.rmse", "params.train-data-path", "tags.developer"])
    qtbot.keyClicks(box, "metrics.rmse < 1 and params.tr")
    assert box.current() == "params.`train-data-path`"
    box.completer_.activated.emit(box.completer_.currentCompletion())
    assert box.text() == "metrics.rmse < 1 and params.`train-data-path` "
