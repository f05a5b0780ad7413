"""The shortcuts Compare takes for 1,000 runs give what the plain way gives (no Qt)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from mlscope.core import compare as cmp
from mlscope.core.table import RunTable


@pytest.mark.parametrize("odd", [" adam", "adam ", "adam\t", "ad  am", "ad\nam", "ad\ram",
                                 "\u00a0adam"])
def test_a_whitespace_difference_is_found_among_many_values(odd):
    # a row of 1,000 distinct values where one differs from another only in whitespace
    values = [f"v{k}" for k in range(999)] + [odd]
    values[0] = " ".join(odd.split()) if odd.split() != [odd] else "ad am"
    text = np.array([values], dtype=object)
    number = np.full(text.shape, np.nan)
    _numeric, status, spaces = cmp._statuses(np.array(["text"], dtype=object), text, number)
    assert status[0] == cmp.DIFFERS and spaces[0]  # differs, and partly only in whitespace
    two = np.array([[values[0], odd]], dtype=object)
    _n, status, spaces = cmp._statuses(np.array(["text"], dtype=object), two,
                                       np.full(two.shape, np.nan))
    assert status[0] == cmp.SPACES and spaces[0]


def test_no_whitespace_difference_among_plain_values():
    text = np.array([[f"v{k}" for k in range(1000)]], dtype=object)
    _n, status, spaces = cmp._statuses(np.array(["text"], dtype=object), text,
                                       np.full(text.shape, np.nan))
    assert status[0] == cmp.DIFFERS and not spaces[0]


def test_start_times_as_text_match_datetime():
    ms = np.array([1_700_000_000_999.0, np.nan, 0.0, -1.0, 1_234_567_890_123.0, 4102444800000.0])
    want = [None if np.isnan(v) else datetime.fromtimestamp(v / 1000.0, tz=timezone.utc)
            .strftime("%Y-%m-%d %H:%M:%S UTC") for v in ms]
    assert cmp._utc_texts(ms).tolist() == want


@pytest.mark.parametrize("dtype", [object, "str"])
def test_subset_picks_the_runs_whatever_the_string_storage(dtype):
    ids = [f"r{k}" for k in range(50)]
    long = pd.DataFrame({"run_id": pd.Series([r for r in ids for _ in range(3)], dtype=dtype),
                         "key": pd.Series(["a", "b", "c"] * 50, dtype=dtype),
                         "value": pd.Series(["1"] * 150, dtype=dtype)})
    table = RunTable(params=long, tags=long.iloc[:0])
    want = ["r3", "r7", "nope"]
    got = cmp._subset(table, want)
    ref = table.subset(want)
    pd.testing.assert_frame_equal(got.params, ref.params)
    assert got.params["run_id"].tolist() == ["r3"] * 3 + ["r7"] * 3
    assert len(got.tags) == 0 and got.datasets is None
