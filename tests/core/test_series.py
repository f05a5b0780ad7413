"""Chart maths checked against values worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from mlscope.core import series
from mlscope.core.format import format_duration
from mlscope.core.series import (
    ColorBook,
    MinMaxPyramid,
    aggregate,
    drawable,
    ema,
    group_runs,
    isolated,
    nearest_point,
    split_history,
    x_values,
)


def _ema_loop(values, w):
    """TensorBoard's loop, literally."""
    out, last, n = [], 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * w + (1 - w) * v
        n += 1
        out.append(last / (1 - w ** n))
    return np.array(out)


def test_ema_by_hand():
    # w=0.5 over [1, 2, 4]: last = 0.5, 1.25, 2.625; debias by 0.5, 0.75, 0.875
    assert ema([1.0, 2.0, 4.0], 0.5) == pytest.approx([1.0, 5 / 3, 3.0])


def test_ema_skips_non_finite_and_passes_them_through():
    # the NaN and inf neither count in n nor move `last`
    got = ema([1.0, np.nan, 2.0, np.inf, 4.0], 0.5)
    assert got[0] == pytest.approx(1.0)
    assert math.isnan(got[1])
    assert got[2] == pytest.approx(5 / 3)
    assert got[3] == math.inf
    assert got[4] == pytest.approx(3.0)


def test_ema_weight_zero_and_constant_series_unchanged():
    y = np.array([3.0, 1.0, 2.0])
    assert np.array_equal(ema(y, 0.0), y)
    assert np.array_equal(ema(np.full(5, 0.1), 0.999), np.full(5, 0.1))
    with pytest.raises(ValueError):
        ema(y, 1.0)


@pytest.mark.parametrize("w", [0.1, 0.6, 0.9, 0.999])
def test_ema_matches_tensorboard_loop_both_paths(monkeypatch, w):
    rng = np.random.default_rng(0)
    y = rng.normal(5, 3, 3000)
    y[::97] = np.nan
    expected = _ema_loop(y, w)
    np.testing.assert_allclose(ema(y, w), expected, rtol=1e-9, atol=1e-12)
    monkeypatch.setattr(series, "_lfilter", lambda: None)  # the numpy fallback
    np.testing.assert_allclose(ema(y, w), expected, rtol=1e-9, atol=1e-12)


def test_pyramid_keeps_a_single_spike_at_every_zoom():
    n = 1_000_003  # not a power of two: the padded tail must not invent extremes
    x = np.arange(n, dtype=float)
    y = np.zeros(n)
    y[654_321] = 7.0
    y[10] = -3.0
    pyr = MinMaxPyramid(x, y)
    for x0, x1, width in [(0, n, 800), (600_000, 700_000, 300), (654_000, 655_000, 50)]:
        wx, wy, connect = pyr.window(x0, x1, width)
        assert wy.max() == 7.0
        assert wx[wy.argmax()] == 654_321.0  # the spike stays where it is
        assert len(wx) <= width + 4
        assert connect.dtype == bool and len(connect) == len(wx)
    wx, wy, _ = pyr.window(0, n, 800)
    assert wy.min() == -3.0
    assert np.all(np.diff(wx) >= 0)


def test_pyramid_small_window_is_full_resolution():
    x = np.arange(100, dtype=float)
    y = np.sin(x)
    wx, wy, connect = MinMaxPyramid(x, y).window(10, 20, 1000)
    assert np.array_equal(wx, x[9:22])  # one point beyond each edge
    assert np.array_equal(wy, y[9:22])
    assert connect.all()


def test_pyramid_breaks_survive_decimation():
    x = np.arange(10_000, dtype=float)
    curve = drawable(x, np.where(x == 5000, np.nan, 1.0))
    wx, _, connect = MinMaxPyramid(curve.x, curve.y, curve.breaks).window(0, 10_000, 100)
    assert not connect[:-1].all()  # the gap at 5000 is still a gap
    full = MinMaxPyramid(curve.x, curve.y, curve.breaks).window(4990, 5010, 1000)
    assert list(full[2]).count(False) == 1


def test_drawable_drops_non_finite_and_log_non_positive():
    c = drawable([1, 2, 3, 4, 5], [1.0, np.nan, 10.0, -1.0, 100.0], log_y=True)
    assert c.x.tolist() == [1, 3, 5]
    assert c.y.tolist() == [0.0, 1.0, 2.0]  # log10
    assert c.breaks.tolist() == [True, True, False]
    assert (c.nonfinite, c.nonpositive) == (1, 1)
    assert c.source.tolist() == [0, 2, 4]


def test_isolated_points_single_and_between_gaps():
    assert isolated(drawable([0], [1.0])).tolist() == [0]
    c = drawable([0, 1, 2, 3, 4], [1.0, np.nan, 2.0, np.nan, 3.0])
    assert isolated(c).tolist() == [0, 1, 2]
    assert isolated(drawable([0, 1], [1.0, 2.0])).tolist() == []


def test_x_values_modes():
    step = np.array([0, 1, 2])
    ts = np.array([10_000, 12_000, 15_000])
    assert x_values(step, ts, "step")[0].tolist() == [0, 1, 2]
    assert x_values(step, ts, "wall")[0].tolist() == [10.0, 12.0, 15.0]
    assert x_values(step, ts, "relative")[0].tolist() == [0.0, 2.0, 5.0]
    assert x_values(step, ts, "relative", start_ms=9_000)[0].tolist() == [1.0, 3.0, 6.0]
    x, note = x_values(np.zeros(3, int), ts, "step")  # logged without steps
    assert x.tolist() == [0, 1, 2] and note
    with pytest.raises(ValueError):
        x_values(step, ts, "epoch")


def test_format_duration():
    assert format_duration(42, compact=True) == "42s"
    assert format_duration(750, compact=True) == "12m30s"
    assert format_duration(3725, compact=True) == "1h02m05s"
    assert format_duration(90000, compact=True) == "1d01h00m"


def test_aggregate_mean_minmax_on_shared_steps():
    a = ([0, 1, 2], [1.0, 2.0, 3.0])
    b = ([0, 1, 2], [3.0, 4.0, 8.0])
    agg = aggregate([a, b], "mean", "minmax")
    assert agg.x.tolist() == [0, 1, 2]
    assert agg.center.tolist() == [2.0, 3.0, 5.5]
    assert agg.lo.tolist() == [1.0, 2.0, 3.0]
    assert agg.hi.tolist() == [3.0, 4.0, 8.0]
    assert agg.n.tolist() == [2, 2, 2]


def test_aggregate_median_std_and_ragged_runs():
    runs = [([0, 1], [1.0, 1.0]), ([0, 1], [2.0, 5.0]), ([0, 1, 2], [6.0, 9.0, 4.0])]
    agg = aggregate(runs, "median", "std")
    assert agg.center.tolist() == [2.0, 5.0, 4.0]
    # std (ddof 0) of [1, 2, 6] is sqrt(14/3); of the lone run at step 2 it is 0
    assert agg.hi[0] - agg.center[0] == pytest.approx(math.sqrt(14 / 3))
    assert agg.lo[2] == agg.hi[2] == 4.0
    assert agg.n.tolist() == [3, 3, 1]


def test_aggregate_interpolates_inside_a_run_never_beyond():
    agg = aggregate([([0, 10], [0.0, 10.0]), ([5, 20], [1.0, 1.0])], "mean", "none")
    assert agg.x.tolist() == [0, 5, 10, 20]
    # step 5: run a interpolated to 5, run b 1 -> 3; step 20: only run b
    assert agg.center.tolist() == [0.0, 3.0, 5.5, 1.0]
    assert agg.n.tolist() == [1, 2, 2, 1]


def test_group_runs_natural_order_and_missing():
    runs = pd.DataFrame({"run_id": ["a", "b", "c", "d"],
                         "params.lr": ["0.1", "0.01", None, "0.001"]})
    got = group_runs(runs, ["a", "b", "c", "d"], "params.lr")
    assert list(got) == ["0.001", "0.01", "0.1", "(not set)"]
    assert got["(not set)"] == ["c"]
    assert group_runs(runs, ["a"], None) == {"all runs": ["a"]}


def test_nearest_point_in_pixels():
    curves = [(np.array([0.0, 10.0]), np.array([0.0, 0.0])),
              (np.array([0.0, 10.0]), np.array([1.0, 1.0]))]
    assert nearest_point(curves, 9.0, 0.9, 1.0, 1.0) == (1, 1)
    # with y squeezed (1 px per unit) and x stretched, x distance dominates
    assert nearest_point(curves, 4.0, 0.0, 100.0, 1.0) == (0, 0)
    assert nearest_point([(np.zeros(0), np.zeros(0))], 0, 0, 1, 1) is None


def test_split_history_sorts_each_series():
    frame = pd.DataFrame({"run_id": ["r2", "r1", "r1", "r1"], "key": ["m", "m", "m", "n"],
                          "step": [0, 5, 1, 0], "timestamp": [1, 2, 3, 4],
                          "value": [1.0, 2.0, 3.0, 4.0]})
    got = {pair: (s.tolist(), v.tolist()) for pair, s, _t, v in split_history(frame)}
    assert got == {("r1", "m"): ([1, 5], [3.0, 2.0]), ("r1", "n"): ([0], [4.0]),
                   ("r2", "m"): ([0], [1.0])}
    assert list(split_history(frame.iloc[:0])) == []


def test_color_book_stable_and_distinct():
    saved = {}
    book = ColorBook(saved=saved, on_new=saved.__setitem__)
    first = [book.color(f"run{i}") for i in range(20)]
    assert len(set(first)) == 20  # the whole palette before any colour repeats
    assert book.color("run3") == first[3]
    again = ColorBook(saved=dict(saved))  # the next launch, from what was remembered
    assert [again.color(f"run{i}") for i in range(20)] == first
    assert again.color("run20") in first  # a 21st run reuses the least-used colour
    book.set("run3", "#000000")
    assert book.color("run3") == "#000000"


def test_grid_columns_from_the_width():
    from mlscope.core.series import grid_columns

    assert grid_columns(650, 6) == 1
    assert grid_columns(900, 6) == 2
    assert grid_columns(1400, 6) == 3
    assert grid_columns(3000, 6) == 3  # never more than three
    assert grid_columns(1400, 2) == 2  # never more columns than charts
    assert grid_columns(100, 0) == 1


def test_single_valued_metrics_are_one_value_per_run():
    from mlscope.core.series import single_valued

    assert single_valued([1, 1, 0, 1])  # a run without it does not count
    assert not single_valued([1, 5])  # one run has a history: lines
    assert not single_valued([0, 0])  # nothing at all: not bars either
    assert not single_valued([])


def test_bar_order_largest_first_unreadable_last():
    from mlscope.core.series import bar_order

    assert bar_order([0.2, np.nan, 0.9, -1.0, 0.9, np.inf]).tolist() == [2, 4, 0, 3, 1, 5]
    assert bar_order([]).tolist() == []


def test_values_at_picks_each_curves_nearest_point():
    from mlscope.core.series import values_at

    curves = [np.array([0.0, 2.0, 4.0]), np.array([10.0, 20.0]), np.array([]),
              np.array([0.0, 1.0, 2.9, 3.2])]
    assert values_at(curves, 2.9) == [1, 0, None, 2]
    assert values_at(curves, 3.1) == [2, 0, None, 3]
    assert values_at(curves, 99) == [2, 1, None, 3]


def test_scale_range():
    from mlscope.core.series import scale_range

    assert scale_range([3.0, np.nan, 1.0, np.inf]) == (1.0, 3.0)
    assert scale_range([2.0, 2.0]) == (1.5, 2.5)
    assert scale_range([np.nan]) is None


def test_param_axis_numbers_or_named_slots():
    from mlscope.core.series import param_axis

    x, ticks = param_axis(["0.1", "0.01", None, "1e-3"])
    assert ticks is None
    assert x[[0, 1, 3]].tolist() == [0.1, 0.01, 0.001] and np.isnan(x[2])
    x, ticks = param_axis(["ridge", "lasso", "ridge", float("nan")])
    assert ticks == [(0, "lasso"), (1, "ridge")]
    assert x[:3].tolist() == [1.0, 0.0, 1.0] and np.isnan(x[3])
