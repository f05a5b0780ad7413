"""The runs table's column arrays (what keeps 100,000 runs cheap, benchmarks/bench_scale.py):
sorts ranked on distinct values, the quick search joined in Arrow and run ids through an
Index must answer exactly what the per-row code they replaced answered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt

from mlscope.ui.models import RunsModel

NAMES = ["Adam", "adam", None, "sgd", "SGD", "adamw", "Straße", "zeta", None, "adam"]
LRS = ["0.1", "0.01", None, "1", "1e-3", "0.01", "10", "0.5", "2", None]


def runs_frame(text_dtype) -> pd.DataFrame:
    n = len(NAMES)
    return pd.DataFrame({
        "run_id": [f"{i:032x}" for i in range(n)],
        "experiment_id": pd.Series(["1"] * n, dtype=text_dtype),
        "status": pd.Series(["FINISHED"] * (n - 1) + ["RUNNING"], dtype=text_dtype),
        "start_time": pd.to_datetime(np.arange(n) * 60_000 + 1.7e12, unit="ms", utc=True),
        "end_time": pd.to_datetime(np.arange(n) * 60_000 + 1.7e12 + 1000, unit="ms", utc=True),
        "metrics.loss": [0.5, np.nan, 0.1, 0.3, 0.3, np.nan, 0.2, 0.9, 0.0, 0.4],
        "params.optimizer": pd.Series(NAMES, dtype=text_dtype),
        "params.lr": pd.Series(LRS, dtype=text_dtype),
        "run_name": pd.Series([f"run-{i}" for i in range(n)], dtype=text_dtype),
    })


def reference_order(values: list, ascending: bool) -> list[int]:
    """The per-row sort the ranks replaced: all-number text as numbers, else casefolded text;
    missing last both ways; ties in the store's order."""
    present = [i for i, v in enumerate(values) if v is not None]
    try:
        keys = {i: float(values[i]) for i in present}
    except ValueError:
        keys = {i: values[i].casefold() for i in present}
    # stable both ways: ties keep the store's order when descending too
    ordered = sorted(present, key=lambda i: keys[i] if ascending else _Desc(keys[i]))
    return ordered + [i for i, v in enumerate(values) if v is None]


class _Desc:
    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return self.v > other.v


@pytest.fixture(params=["object", "str"], ids=["object-columns", "arrow-strings"])
def model(request, qtbot):
    m = RunsModel()
    m.set_frame(runs_frame(object if request.param == "object" else pd.StringDtype("pyarrow", na_value=np.nan)))
    m.set_columns(["run_name", "params.optimizer", "params.lr", "metrics.loss"])
    return m


def shown(m: RunsModel) -> list[int]:
    return [int(m.run_id(m.index(r, 0)), 16) for r in range(m.rowCount())]


@pytest.mark.parametrize("key, values", [("params.optimizer", NAMES), ("params.lr", LRS)])
@pytest.mark.parametrize("order", [Qt.AscendingOrder, Qt.DescendingOrder])
def test_text_and_number_params_sort_as_before(model, key, values, order):
    model.sort(model.visible_columns().index(key), order)
    assert shown(model) == reference_order(values, order == Qt.AscendingOrder)


def test_quick_search_matches_words_values_and_casefolded_text(model):
    model.set_quick_filter("optimizer=adam")  # key=value, a prefix of adamw too
    assert sorted(shown(model)) == [0, 1, 5, 9]
    model.set_quick_filter("STRASSE")  # casefold, not lower: ß is ss
    assert shown(model) == [6]
    model.set_quick_filter("sgd lr=1")  # every word must match
    assert sorted(shown(model)) == [3, 4]
    model.set_quick_filter("optimizer=None")  # a missing value is not searchable text
    assert shown(model) == []


def test_columns_stay_the_frames_until_shown_and_ids_resolve(model):
    col = model._cols["params.lr"]
    assert col._values is None, "a param column was copied to Python objects on load"
    model.data(model.index(0, model.visible_columns().index("params.lr")))
    assert col._values is not None
    rid = f"{6:032x}"
    assert model.value(rid, "params.optimizer") == "Straße"
    assert model.index_of(rid).isValid() and not model.contains("nope")
