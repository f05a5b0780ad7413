"""FrameIndex (the run detail's instant answers from the table): run ids through a pandas
Index and children grouped from the child runs must answer as the per-row dicts did."""

from __future__ import annotations

import pandas as pd
import pytest

from mlscope.core.records import FrameIndex

PARENT = "tags.mlflow.parentRunId"


@pytest.mark.parametrize("text", [object, pd.StringDtype("pyarrow", na_value=float("nan"))], ids=["object", "arrow"])
def test_lookups_children_and_links(text):
    frame = pd.DataFrame({
        "run_id": pd.Series(["p", "c1", "x", "c2", "p2", "c3"], dtype=text),
        "experiment_id": pd.Series(["1"] * 6, dtype=text),
        "run_name": pd.Series(["parent", "kid", None, "kid2", "other", "kid3"], dtype=text),
        PARENT: pd.Series([None, "p", None, "p", None, "p2"], dtype=text),
        "params.lr": pd.Series(["0.1", None, "1", None, None, None], dtype=text),
    })
    ix = FrameIndex(frame)
    assert "c2" in ix and "nope" not in ix and None not in ix
    assert ix.children("p") == ["c1", "c2"] and ix.children("p2") == ["c3"]
    assert ix.children("x") == []
    assert ix.name("x") == "x" and ix.name("c1") == "kid"
    links = ix.links("c1", {"1": "exp"})
    assert links == {"experiment": "exp", "parent": ("p", "parent"), "children": []}
    assert ix.run("p")["params"] == {"lr": "0.1"}
    assert ix.run("nope") == {"info": {"run_id": "nope"}}


def test_a_repeated_run_id_answers_its_last_row():
    ix = FrameIndex(pd.DataFrame({"run_id": ["a", "b", "a"], "run_name": ["one", "two", "three"]}))
    assert ix.name("a") == "three"


def test_an_empty_or_missing_frame():
    assert "a" not in FrameIndex(None) and FrameIndex(pd.DataFrame()).children("a") == []
