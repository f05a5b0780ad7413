"""The run cache's packing gives back exactly the tables it was given: every corpus mlruns
store's run tables, and text columns holding None, NaN, repeats and odd strings."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from corpus_location import corpus_dir, require
from mlscope.core import open_store
from mlscope.core.frame_codec import pack_frame, pack_table, unpack_frame, unpack_table
from mlscope.core.table import RunTable

CORPUS = corpus_dir()
STORES = sorted(p.parent for p in CORPUS.glob("*/**/mlruns/*/meta.yaml")
                if p.parent.parent.name == "mlruns") if CORPUS.is_dir() else []


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for name in a.columns:  # None stays None and NaN stays NaN, not one for the other
        if a[name].dtype == object:
            assert [type(v) for v in a[name]] == [type(v) for v in b[name]], name


def _round_trip(frame: pd.DataFrame) -> pd.DataFrame:
    return unpack_frame(pickle.loads(pickle.dumps(pack_frame(frame))))


def test_text_columns_with_missing_values_and_repeats():
    text = lambda values: pd.Series(values, dtype=object, index=index)  # noqa: E731
    index = pd.RangeIndex(3, 10)
    frame = pd.DataFrame({
        "run_id": text(["a", "b", "a", None, "c", np.nan, "a"]),
        "value": text(["", "0.1", "x\ny", "é", None, "", "0.1"]),
        "n": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0, 7.0],
        "i": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
        "all_none": text([None] * 7),
    }, index=index)
    assert sum(dtype is np.dtype(object) for dtype in frame.dtypes) == 3
    _same(frame, _round_trip(frame))
    empty = frame.iloc[:0]
    _same(empty, _round_trip(empty))


def test_every_corpus_mlruns_store_round_trips(tmp_path, monkeypatch):
    require(CORPUS, "the corpus")
    monkeypatch.setenv("MLSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    assert len(STORES) >= 5, STORES
    for root in STORES:
        store = open_store(str(root.parent))
        table = store.run_table(None)
        back = unpack_table(pickle.loads(pickle.dumps(pack_table(table))))
        for field in ("info", "metrics", "params", "tags"):
            _same(getattr(table, field), getattr(back, field))
        if table.datasets is None:
            assert back.datasets is None
        else:
            _same(table.datasets, back.datasets)
        store.close()


def test_empty_table():
    back = unpack_table(pack_table(RunTable()))
    _same(RunTable().info, back.info)
    assert back.datasets is None


@pytest.mark.parametrize("field", ["info", "params"])
def test_a_changed_cell_is_seen(field):
    """The test's own check can fail: a table changed after packing is not equal."""
    table = RunTable(info=pd.DataFrame({"run_id": ["a", "b"], "status": ["FINISHED", None]}),
                     params=pd.DataFrame({"run_id": ["a"], "key": ["k"], "value": ["1"]}))
    packed = pack_table(table)
    frame = getattr(table, field).copy()
    frame.iloc[0, 0] = "z"
    with pytest.raises(AssertionError):
        _same(frame, getattr(unpack_table(packed), field))
