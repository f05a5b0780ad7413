"""Numbers behind the metric charts: smoothing, decimation, grouping, axes (numpy only).

Kept free of Qt so every figure a chart shows can be checked by a test without a screen.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

X_MODES = ("step", "wall", "relative")
AGGREGATES = ("mean", "median")
BANDS = ("minmax", "std", "none")

# Tableau 10, then darker partners that stay readable on white (the light Tableau 20 half
# is too faint for thin lines): distinct and colour-blind aware.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#393b79", "#b35806", "#1b7837", "#843c39", "#7b4173",
    "#5254a3", "#8c6d31", "#637939", "#ad494a", "#3182bd",
)


class ColorBook:
    """Gives each run one colour for good: the first palette colour no run has yet (so the
    runs on screen differ), remembered in ``saved`` (the app keeps it in its settings, so a
    run has the same colour in every launch, in the table, the charts and every later view).
    ``set`` pins another colour; ``on_new(run_id, color)`` hears of each new assignment."""

    def __init__(self, palette=PALETTE, saved: dict | None = None, on_new=None):
        self._palette = tuple(palette)
        self._colors: dict[str, str] = dict(saved or {})
        self._on_new = on_new
        self._used: dict[str, int] = {}
        for c in self._colors.values():
            self._used[c] = self._used.get(c, 0) + 1

    def color(self, run_id: str) -> str:
        got = self._colors.get(run_id)
        if got is None:
            least = min(self._used.get(c, 0) for c in self._palette)
            got = next(c for c in self._palette if self._used.get(c, 0) == least)
            self._assign(run_id, got)
            if self._on_new is not None:
                self._on_new(run_id, got)
        return got

    def _assign(self, run_id: str, color: str) -> None:
        old = self._colors.get(run_id)
        if old is not None:
            self._used[old] -= 1
        self._colors[run_id] = color
        self._used[color] = self._used.get(color, 0) + 1

    def set(self, run_id: str, color: str) -> None:
        self._assign(run_id, color)

    def peek(self, run_id: str) -> str | None:
        """The run's colour if it has one yet (the table marks only runs already charted)."""
        return self._colors.get(run_id)


# -- layout -------------------------------------------------------------------------------------

CHART_MIN_WIDTH = 440  # narrower, tick labels crowd and a curve's shape is hard to read


def grid_columns(width: float, n_charts: int, min_width: int = CHART_MIN_WIDTH,
                 most: int = 3) -> int:
    """How many charts side by side fit ``width`` pixels: each at least ``min_width``
    wide, never more columns than charts, never more than ``most``, always one."""
    if n_charts <= 0:
        return 1
    return max(1, min(n_charts, most, int(width // min_width)))


# -- kinds of metric ------------------------------------------------------------------------------


def single_valued(lengths) -> bool:
    """Whether a metric is one number per run (rmse, r2 in most stores): every run that has
    it logged exactly one value. Such a metric is read as bars across runs; a line through
    one point per run is a stack of dots at step 0."""
    counts = [int(n) for n in lengths if n]
    return bool(counts) and all(n == 1 for n in counts)


def bar_order(values) -> np.ndarray:
    """Indices from the largest value to the smallest, ties in their given order; values
    that cannot be drawn (NaN, inf) last, so a ranking reads top down."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    ranked = np.flatnonzero(finite)[np.argsort(-v[finite], kind="stable")]
    return np.concatenate([ranked, np.flatnonzero(~finite)]).astype(np.intp)


def param_axis(values):
    """Positions of runs on a param's axis: ``(x, ticks)``. Numbers stay numbers (ticks
    None); otherwise each distinct value gets a slot in natural order and ``ticks`` names
    them. A run without the param is NaN (not drawn)."""
    labels = [None if v is None or (isinstance(v, float) and math.isnan(v)) or v == ""
              else str(v) for v in values]
    present = [v for v in labels if v is not None]
    try:
        numbers = [float(v) for v in present]
    except ValueError:
        numbers = None
    if numbers is not None and all(math.isfinite(n) for n in numbers):
        return np.array([np.nan if v is None else float(v) for v in labels]), None
    slots = sorted(set(present), key=lambda v: (v.lower(), v))
    where = {v: i for i, v in enumerate(slots)}
    x = np.array([np.nan if v is None else float(where[v]) for v in labels])
    return x, list(enumerate(slots))


def scale_range(values) -> tuple[float, float] | None:
    """(low, high) of the finite values, for scaling a metric to 0-1 beside others in one
    chart; None when there is nothing finite. A flat metric gets a span of 1 around it."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    if hi == lo:
        return lo - 0.5, hi + 0.5
    return lo, hi


# -- smoothing ------------------------------------------------------------------------------


def ema(values, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average.

    Over the finite values only: ``last = w*last + (1-w)*y``, shown as ``last / (1 - w**n)``
    with ``n`` the count of finite values so far; non-finite values pass through as they
    are. A series whose finite values are all equal is returned unchanged (as TensorBoard
    does, so rounding never wiggles a flat line).
    """
    y = np.asarray(values, dtype=np.float64)
    out = y.copy()
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    finite = np.isfinite(y)
    f = y[finite]
    if weight == 0.0 or f.size == 0 or np.all(f == f[0]):
        return out
    w = float(weight)
    lfilter = _lfilter()
    smoothed = lfilter([1.0 - w], [1.0, -w], f) if lfilter else _ema_numpy(f, w)
    n = np.arange(1, f.size + 1, dtype=np.float64)
    smoothed /= 1.0 - w ** n
    out[finite] = smoothed
    return out


@functools.cache
def _lfilter():
    """scipy's IIR filter runs the EMA recurrence in C; scipy comes with mlflow, but is
    imported only when first needed (it costs ~0.3 s) and is optional."""
    try:
        from scipy.signal import lfilter
    except ImportError:
        return None
    return lfilter


def _ema_numpy(f: np.ndarray, w: float) -> np.ndarray:
    """The same recurrence without scipy: per chunk it is a scaled cumulative sum, each
    chunk short enough that ``w**-k`` stays far from overflow (about 10x slower)."""
    chunk = int(max(1, min(4096, 300.0 / -math.log(w))))
    smoothed = np.empty_like(f)
    last = 0.0
    for start in range(0, f.size, chunk):
        part = f[start:start + chunk]
        p = w ** np.arange(part.size, dtype=np.float64)
        acc = w * p * last + (1.0 - w) * p * np.cumsum(part / p)
        smoothed[start:start + part.size] = acc
        last = acc[-1]
    return smoothed


# -- x axes -----------------------------------------------------------------------------------


def x_values(step, timestamp, mode: str, start_ms: float | None = None):
    """The x coordinate of each point: step, wall time (s since epoch) or seconds since start.

    A metric logged without steps has every step equal (MLflow stores 0); on the step axis
    its points are then spread by logging order instead of stacked on one x. Returns
    ``(x, note)`` where ``note`` says when that happened.
    """
    step = np.asarray(step)
    ts = np.asarray(timestamp, dtype=np.float64)
    if mode == "step":
        if step.size > 1 and step[0] == step[-1] and np.all(step == step[0]):
            return np.arange(step.size, dtype=np.float64), "no steps: by logging order"
        return step.astype(np.float64), ""
    if mode == "wall":
        return ts / 1000.0, ""
    if mode == "relative":
        start = ts.min() if start_ms is None and ts.size else (start_ms or 0.0)
        return (ts - start) / 1000.0, ""
    raise ValueError(f"unknown x mode {mode!r}: use one of {X_MODES}")


# -- drawable curves ------------------------------------------------------------------------


@dataclass
class Curve:
    """A series ready to draw: finite x/y, where the line must break, and what was left out.

    ``source`` maps each kept point back to its index in the original series (for hover);
    ``breaks[i]`` is True when point i must not be joined to point i+1 because a value
    between them could not be drawn.
    """

    x: np.ndarray
    y: np.ndarray
    breaks: np.ndarray
    source: np.ndarray
    nonfinite: int = 0
    nonpositive: int = 0


def drawable(x, y, log_x: bool = False, log_y: bool = False) -> Curve:
    """Drops what cannot be drawn (non-finite, or <= 0 on a log axis) and marks the gaps.

    Coordinates come back already in log10 where the axis is logarithmic, which is how
    pyqtgraph's view expects them.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(x) & np.isfinite(y)
    keep = finite.copy()
    if log_x:
        keep &= x > 0
    if log_y:
        keep &= y > 0
    nonfinite = int(np.count_nonzero(~np.isfinite(y)))
    nonpositive = int(np.count_nonzero(finite & ~keep))
    source = np.flatnonzero(keep)
    if source.size > 1 and np.any(np.diff(x[source]) < 0):
        # Time axes of a run whose clock went back: draw in x order, never backwards.
        source = source[np.argsort(x[source], kind="stable")]
    xs, ys = x[source], y[source]
    if log_x:
        xs = np.log10(xs)
    if log_y:
        ys = np.log10(ys)
    breaks = np.zeros(source.size, dtype=bool)
    if source.size > 1:
        breaks[:-1] = np.diff(source) != 1
    return Curve(xs, ys, breaks, source, nonfinite, nonpositive)


def isolated(curve: Curve) -> np.ndarray:
    """Indices of points joined to neither neighbour: invisible as a line, so drawn as dots."""
    n = curve.x.size
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    joined_next = np.zeros(n, dtype=bool)
    joined_next[:-1] = ~curve.breaks[:-1]
    joined_prev = np.zeros(n, dtype=bool)
    joined_prev[1:] = joined_next[:-1]
    return np.flatnonzero(~(joined_next | joined_prev))


# -- spike-preserving decimation ---------------------------------------------------------------


class MinMaxPyramid:
    """Min/max decimation of one sorted series, precomputed at power-of-two block sizes.

    ``window(x0, x1, max_points)`` returns the points of the visible range: all of them when
    they fit, otherwise the minimum and the maximum of each block of the finest level that
    fits (about one block per pixel column, so 2-4 points per column, as M4). Every extreme
    of the data is some block's min or max, so a single spike survives at any zoom, and a
    frame costs O(pixels) whatever the series length. Extrema are kept as indices (int64)
    into the original arrays: the levels together take about 8 bytes per point.
    """

    BASE = 4

    def __init__(self, x: np.ndarray, y: np.ndarray, breaks: np.ndarray | None = None):
        self.x = np.asarray(x, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        n = self.x.size
        self.breaks = np.zeros(n, dtype=bool) if breaks is None else np.asarray(breaks, bool)
        self.levels: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        if n <= 2 * self.BASE:
            return
        size = self.BASE
        blocks = -(-n // size)
        pad = blocks * size - n
        lo = np.concatenate([self.y, np.full(pad, np.inf)]).reshape(blocks, size)
        hi = np.concatenate([self.y, np.full(pad, -np.inf)]).reshape(blocks, size)
        start = np.arange(blocks, dtype=np.int64) * size
        imin = np.minimum(start + lo.argmin(axis=1), n - 1)
        imax = np.minimum(start + hi.argmax(axis=1), n - 1)
        brk = np.concatenate([self.breaks, np.zeros(pad, bool)]).reshape(blocks, size).any(axis=1)
        self.levels.append((size, imin, imax, brk))
        while imin.size > 2:
            if imin.size % 2:
                imin, imax, brk = (np.append(a, a[-1]) for a in (imin, imax, brk))
            a, b = imin[0::2], imin[1::2]
            imin = np.where(self.y[b] < self.y[a], b, a)
            a, b = imax[0::2], imax[1::2]
            imax = np.where(self.y[b] > self.y[a], b, a)
            brk = brk[0::2] | brk[1::2]
            size *= 2
            self.levels.append((size, imin, imax, brk))

    def bounds(self):
        """((xmin, xmax), (ymin, ymax)) of all the data, or Nones when empty."""
        if self.x.size == 0:
            return (None, None), (None, None)
        return (float(self.x[0]), float(self.x[-1])), (float(self.y.min()), float(self.y.max()))

    def window(self, x0: float, x1: float, max_points: int):
        """(x, y, connect) for the range [x0, x1], one point beyond each edge included.

        ``connect[i]`` says whether point i joins point i+1 (pyqtgraph's ``connect`` array).
        """
        n = self.x.size
        i0 = max(int(np.searchsorted(self.x, x0, side="left")) - 1, 0)
        i1 = min(int(np.searchsorted(self.x, x1, side="right")) + 1, n)
        if i1 <= i0:
            empty = np.zeros(0)
            return empty, empty, np.zeros(0, dtype=bool)
        count = i1 - i0
        if count <= max_points or not self.levels:
            return self.x[i0:i1], self.y[i0:i1], ~self.breaks[i0:i1]
        level = next((lv for lv in self.levels if 2 * count / lv[0] <= max_points), self.levels[-1])
        size, imin, imax, brk = level
        b0, b1 = i0 // size, -(-i1 // size)
        lo, hi = imin[b0:b1], imax[b0:b1]
        idx = np.empty(2 * lo.size, dtype=np.int64)
        idx[0::2] = np.minimum(lo, hi)
        idx[1::2] = np.maximum(lo, hi)
        connect = np.ones(idx.size, dtype=bool)
        connect[1::2] = ~brk[b0:b1]
        return self.x[idx], self.y[idx], connect


# -- grouping ------------------------------------------------------------------------------------


def group_runs(runs: pd.DataFrame | None, run_ids, column: str | None) -> dict[str, list[str]]:
    """Runs keyed by their value of ``column`` (a ``params.*`` or ``tags.*`` column).

    Runs without the value go to ``"(not set)"``. Groups come in natural order: numbers
    numerically when every value is a number (so lr 0.001 < 0.01 < 0.1), else as text.
    """
    run_ids = list(run_ids)
    if not column or runs is None or column not in runs.columns or "run_id" not in runs.columns:
        return {"all runs": run_ids} if run_ids else {}
    values = runs.drop_duplicates("run_id").set_index("run_id")[column]
    groups: dict[str, list[str]] = {}
    for rid in run_ids:
        v = values.get(rid)
        label = "(not set)" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        groups.setdefault(label, []).append(rid)

    def order(label: str):
        try:
            return (0, float(label), "")
        except ValueError:
            return (1 if label != "(not set)" else 2, 0.0, label)

    return {k: groups[k] for k in sorted(groups, key=order)}


@dataclass
class Aggregate:
    """A group's central line and band over a common x grid; ``n`` runs behind each x."""

    x: np.ndarray
    center: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    n: np.ndarray


def aggregate(curves, how: str = "mean", band: str = "minmax", max_points: int = 5000):
    """Mean or median of several runs' curves with a min-max or +/-1 std band.

    ``curves`` is a list of (x, y) with x increasing and y finite. Runs are aligned on
    the union of their x values (so runs logged at the same steps are combined exactly);
    a run contributes only inside its own x range, linearly interpolated between its
    points where another run has an x it lacks; it is never extrapolated. When the union
    exceeds ``max_points`` an evenly spread subset of it is used. ``n`` says how many runs
    stand behind each point so a thin tail is visible as such.
    """
    if how not in AGGREGATES:
        raise ValueError(f"unknown aggregate {how!r}: use one of {AGGREGATES}")
    if band not in BANDS:
        raise ValueError(f"unknown band {band!r}: use one of {BANDS}")
    curves = [(np.asarray(x, float), np.asarray(y, float)) for x, y in curves if len(x)]
    if not curves:
        e = np.zeros(0)
        return Aggregate(e, e, e, e, np.zeros(0, dtype=np.int64))
    grid = np.unique(np.concatenate([x for x, _ in curves]))
    if grid.size > max_points:
        grid = grid[np.unique(np.linspace(0, grid.size - 1, max_points).round().astype(np.int64))]
    stack = np.full((len(curves), grid.size), np.nan)
    for i, (x, y) in enumerate(curves):
        stack[i] = np.interp(grid, x, y, left=np.nan, right=np.nan)
    n = np.count_nonzero(np.isfinite(stack), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are expected
        center = np.nanmean(stack, axis=0) if how == "mean" else np.nanmedian(stack, axis=0)
        if band == "minmax":
            lo, hi = np.nanmin(stack, axis=0), np.nanmax(stack, axis=0)
        elif band == "std":
            sd = np.nanstd(stack, axis=0)
            lo, hi = center - sd, center + sd
        else:
            lo = hi = center
    return Aggregate(grid, center, lo, hi, n)


# -- hover ----------------------------------------------------------------------------------------


def nearest_point(curves, cx: float, cy: float, px_per_x: float, px_per_y: float):
    """(curve index, point index) of the point nearest the cursor in screen pixels, or None.

    Each curve is (x, y) with x increasing; only the two points around the cursor's x
    in each curve are candidates, so this is O(curves x log points).
    """
    best, best_d = None, math.inf
    for ci, (x, y) in enumerate(curves):
        if len(x) == 0:
            continue
        j = int(np.searchsorted(x, cx))
        for k in (j - 1, j):
            if 0 <= k < len(x):
                d = math.hypot((x[k] - cx) * px_per_x, (y[k] - cy) * px_per_y)
                if d < best_d:
                    best, best_d = (ci, k), d
    return best


def values_at(curves, cx: float):
    """Per curve, the index of its point nearest to ``cx`` on the x axis (None for an
    empty curve): TensorBoard's hover, one value per run at the cursor's x."""
    out = []
    for x in curves:
        x = np.asarray(x)
        if x.size == 0:
            out.append(None)
            continue
        j = int(np.searchsorted(x, cx))
        if j >= x.size:
            out.append(x.size - 1)
        elif j == 0:
            out.append(0)
        else:
            out.append(j if abs(x[j] - cx) < abs(cx - x[j - 1]) else j - 1)
    return out


# -- splitting the long frame -------------------------------------------------------------------


def split_history(frame: pd.DataFrame):
    """Yields ((run_id, key), step, timestamp, value) per series, points in (step, time) order.

    One sort of the whole frame instead of a pandas groupby per series: for 1,000 runs
    this is the difference between milliseconds and a second.
    """
    if frame is None or len(frame) == 0:
        return
    run_codes, runs = pd.factorize(frame["run_id"])  # hashing, not sorting, a million strings
    key_codes, keys = pd.factorize(frame["key"])
    step = frame["step"].to_numpy(dtype=np.int64)
    ts = frame["timestamp"].to_numpy(dtype=np.int64)
    value = frame["value"].to_numpy(dtype=np.float64)
    order = np.lexsort((ts, step, key_codes, run_codes))
    rc, kc = run_codes[order], key_codes[order]
    edges = np.flatnonzero((np.diff(rc) != 0) | (np.diff(kc) != 0)) + 1
    bounds = np.concatenate([[0], edges, [order.size]])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        sel = order[a:b]
        yield (str(runs[rc[a]]), str(keys[kc[a]])), step[sel], ts[sel], value[sel]
