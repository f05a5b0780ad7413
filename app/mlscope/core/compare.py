"""Comparing runs: keys aligned across runs, values compared as MLflow stores them (text)
with a numeric view, deltas against a baseline run, metric directions, JSON and long-text
diffs, and the numbers behind the parallel-coordinates and scatter plots.

Qt-free and vectorised: a comparison is a few 2-D numpy arrays (rows = keys, columns =
runs), so 1,000 runs x 50 params compare in milliseconds. A missing value is ``None``
(never an empty string, which is a value MLflow can store).
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import StoreError
from .format import format_duration
from .table import RunTable

SECTIONS = ("attributes", "params", "metrics", "tags", "datasets")

# Row status, in the order "differing first" sorts them.
DIFFERS, MISSING, NUMBERS, SPACES, SAME = "differs", "missing", "numbers", "whitespace", "same"
STATUS_ORDER = {DIFFERS: 0, MISSING: 1, NUMBERS: 2, SPACES: 3, SAME: 4}
STATUS_WORDS = {
    DIFFERS: "differs",
    MISSING: "missing in some runs",
    NUMBERS: "equal as numbers, different as text",
    SPACES: "differs only in whitespace",
    SAME: "the same",
}

# Cell status against the baseline run.
C_SAME, C_DIFF, C_NUMBERS, C_SPACES, C_MISSING, C_ADDED, C_ABSENT = range(7)
CELL_WORDS = {
    C_SAME: "same as the baseline",
    C_DIFF: "differs from the baseline",
    C_NUMBERS: "equal to the baseline as a number, different as text",
    C_SPACES: "differs from the baseline only in whitespace",
    C_MISSING: "missing here, set in the baseline",
    C_ADDED: "set here, missing in the baseline",
    C_ABSENT: "missing here and in the baseline",
}

# Tags shown as attributes (or as the column title), so not repeated among the tags.
ATTRIBUTE_TAGS = {
    "source": "mlflow.source.name",
    "git commit": "mlflow.source.git.commit",
    "parent": "mlflow.parentRunId",
}
HIDDEN_TAGS = {"mlflow.runName", "mlflow.user", *ATTRIBUTE_TAGS.values()}

LONG_VALUE = 80  # characters: past this a value is shown shortened and opens a side-by-side diff

# Metric names where lower is better: whole words, or words ending so (val_loss, logloss).
_LOWER_WORDS = {
    "loss", "error", "err", "rmse", "mse", "mae", "mape", "smape", "rmsle", "msle", "wer",
    "cer", "ter", "perplexity", "ppl", "nll", "latency", "duration", "time", "cost", "regret",
    "fpr", "fnr", "far", "frr", "eer", "bpc", "bpd", "distance", "divergence", "kl", "fid",
    "brier", "hamming", "runtime", "seconds", "memory",
}
_LOWER_SUFFIXES = ("loss", "error", "rmse", "mse", "mae", "mape", "perplexity", "latency")
_WORD = re.compile(r"[a-z0-9]+")


def metric_direction(key: str) -> str:
    """"min" when lower is better (loss, error, rmse, mae, ... -like names), else "max"."""
    words = _WORD.findall(str(key).lower())
    for w in words:
        if w in _LOWER_WORDS or w.endswith(_LOWER_SUFFIXES):
            return "min"
    return "max"


# -- what is compared ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One run of the comparison. ``uid`` is unique across stores (the run id when one
    store is compared, ``store|run_id`` otherwise)."""

    uid: str
    run_id: str
    name: str
    store: str
    experiment_id: str

    @property
    def title(self) -> str:
        return self.name or self.run_id[:8]


@dataclass
class Source:
    """The runs of one store to compare: its label (shown on each column when several
    stores are compared), the store's tables restricted to these runs, and their order."""

    label: str
    table: RunTable
    run_ids: list[str]


def gather(store, run_ids, experiment_ids=None, label: str | None = None) -> tuple[Source, list[str]]:
    """The runs ``run_ids`` of ``store`` as a :class:`Source`, and the ids it no longer holds
    (deleted from the disk, or never there). Deleted (lifecycle) runs are kept: they can be
    compared like any other. Reads through the store's own cached table."""
    run_ids = list(dict.fromkeys(str(r) for r in run_ids))
    exps = None if experiment_ids is None else sorted({str(e) for e in experiment_ids})
    if getattr(store, "cheap_counts", True) and not getattr(store, "streams_partial", False):
        # A store read whole at once (a database) keeps one table of every run: picking the
        # runs from it directly is 10x faster than scoping it to experiments first.
        exps = None
    if exps is None:
        table = _subset(store.run_table(None, view="all"), run_ids)
    else:  # one experiment's table is kept as it is (no copy): pick from each
        table = RunTable.concat([_subset(store.run_table([e], view="all"), run_ids)
                                 for e in exps])
    have = set(table.info["run_id"])
    if exps is not None and len(have) < len(run_ids):  # some lie in other experiments
        table = _subset(store.run_table(None, view="all"), run_ids)
        have = set(table.info["run_id"])
    missing = [r for r in run_ids if r not in have]
    kept = [r for r in run_ids if r in have]
    return Source(label or getattr(store, "uri", "store"), table, kept), missing


def _subset(table: RunTable, run_ids: list[str]) -> RunTable:
    """``table.subset(run_ids)``, with pyarrow's ``is_in`` on Arrow-backed columns (pandas'
    own ``isin`` there makes a pyarrow scalar of each wanted id per column: a third of the
    time for 1,000 of 10,000 runs)."""
    def pick(df):
        if df is None:
            return None
        col = df["run_id"]
        if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
            import pyarrow as pa  # installed: the column is made of it
            import pyarrow.compute as pc

            arr = pa.array(col)  # the column's own buffers, not a copy
            wanted = pa.array(run_ids, type=arr.type)
            mask = pc.is_in(arr, value_set=wanted).to_numpy(zero_copy_only=False).astype(bool)
        else:
            mask = col.isin(set(run_ids)).to_numpy(bool)
        return df[mask]

    return RunTable(pick(table.info), pick(table.metrics), pick(table.params),
                    pick(table.tags), pick(table.datasets))


def metric_extremes(history: pd.DataFrame) -> pd.DataFrame:
    """Per (run_id, key): the min and max of the finite values and the step of each.

    NaN and inf are left out (a diverged run's min is its best finite value); a series
    with no finite value gives NaN and step -1.
    """
    cols = ["run_id", "key", "min", "min_step", "max", "max_step"]
    if history is None or len(history) == 0:
        return pd.DataFrame({c: pd.Series([], dtype=object if c in ("run_id", "key") else float)
                             for c in cols})
    h = history[np.isfinite(history["value"].to_numpy(dtype=float))]
    groups = h.groupby(["run_id", "key"], sort=False)["value"]
    lo, hi = groups.idxmin(), groups.idxmax()
    out = pd.DataFrame({
        "run_id": [k[0] for k in lo.index], "key": [k[1] for k in lo.index],
        "min": h.loc[lo.to_numpy(), "value"].to_numpy(float),
        "min_step": h.loc[lo.to_numpy(), "step"].to_numpy(np.int64),
        "max": h.loc[hi.to_numpy(), "value"].to_numpy(float),
        "max_step": h.loc[hi.to_numpy(), "step"].to_numpy(np.int64),
    })
    every = history[["run_id", "key"]].drop_duplicates()
    out = every.merge(out, on=["run_id", "key"], how="left")
    out["min_step"] = out["min_step"].fillna(-1).astype(np.int64)
    out["max_step"] = out["max_step"].fillna(-1).astype(np.int64)
    return out[cols].reset_index(drop=True)


# -- the comparison ---------------------------------------------------------------------------


@dataclass
class Comparison:
    """Rows (section, key) x columns (runs).

    ``text``: what MLflow stores, as strings (None: missing). ``number``: the numeric view
    (NaN where missing or not a number). ``numeric[i]``: every present value of row i is a
    number. ``status[i]``: how the row's values relate (:data:`STATUS_WORDS`). ``cells``,
    ``delta``, ``pct`` and ``better`` are against the baseline column (see
    :meth:`set_baseline`); ``better`` is +1/-1 where a number is better/worse than the
    baseline's by the row's ``direction`` ("min", "max", or "" for no direction).
    """

    columns: list[Column]
    section: np.ndarray
    key: np.ndarray
    kind: np.ndarray  # "text", "number", "time", "duration"
    text: np.ndarray
    number: np.ndarray
    numeric: np.ndarray
    status: np.ndarray
    direction: np.ndarray
    baseline: int = 0
    missing_runs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be compared, in words
    cells: np.ndarray | None = None
    delta: np.ndarray | None = None
    pct: np.ndarray | None = None
    better: np.ndarray | None = None
    _spaces: np.ndarray | None = None  # per row: texts equal once whitespace is normalised

    def __len__(self) -> int:
        return len(self.key)

    @property
    def stores(self) -> list[str]:
        return list(dict.fromkeys(c.store for c in self.columns))

    def labels(self) -> list[str]:
        """Column titles: the run name, with the store when runs come from several."""
        several = len(self.stores) > 1
        return [f"{c.title} [{c.store}]" if several else c.title for c in self.columns]

    def row_index(self, section: str, key: str) -> int:
        hits = np.flatnonzero((self.section == section) & (self.key == key))
        if not hits.size:
            raise KeyError(f"{section}: {key}")
        return int(hits[0])

    def differs(self) -> np.ndarray:
        return self.status != SAME

    # -- baseline and directions ---------------------------------------------------------
    def set_baseline(self, index: int) -> None:
        """Cells, deltas and better/worse against column ``index`` (vectorised)."""
        n = len(self.columns)
        if n == 0:
            self.baseline = 0
            shape = (len(self.key), 0)
            self.cells = np.zeros(shape, np.int8)
            self.delta = self.pct = np.zeros(shape)
            self.better = np.zeros(shape, np.int8)
            return
        self.baseline = b = max(0, min(int(index), n - 1))
        present = _present(self.text)
        base_p = present[:, b:b + 1]
        same_text = _eq_objects(self.text, self.text[:, b:b + 1])
        num, base_num = self.number, self.number[:, b:b + 1]
        same_num = _eq_numbers(num, base_num)
        cells = np.full(self.text.shape, C_DIFF, np.int8)
        rows_num = self.numeric[:, None]
        measured = np.isin(self.kind, ("number", "time", "duration"))[:, None]
        cells[np.broadcast_to(rows_num & same_num & ~same_text, cells.shape)] = C_NUMBERS
        cells[same_text | (measured & same_num)] = C_SAME
        # Whitespace-only differences, looked for only in rows that have some.
        for i in np.flatnonzero(self._spaces_rows()):
            base = self.text[i, b]
            if base is None:
                continue
            norm = _norm_space(base)
            for j in np.flatnonzero(cells[i] == C_DIFF):
                v = self.text[i, j]
                if v is not None and _norm_space(v) == norm:
                    cells[i, j] = C_SPACES
        cells[~present & base_p] = C_MISSING
        cells[present & ~base_p] = C_ADDED
        cells[~present & ~base_p] = C_ABSENT
        self.cells = cells
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            delta = num - base_num
            delta[~rows_num[:, 0]] = np.nan
            pct = np.where(np.isfinite(base_num) & (base_num != 0),
                           delta / np.abs(base_num) * 100.0, np.nan)
            pct[~np.isfinite(delta)] = np.nan
        self.delta, self.pct = delta, pct
        self._update_better()

    def set_direction(self, key: str, direction: str, section: str = "metrics") -> None:
        """"min" (lower is better), "max", or "" (no better/worse) for one row's key; rows
        of the metric's min and max follow the metric."""
        if direction not in ("min", "max", ""):
            raise ValueError(f"direction must be 'min', 'max' or '', not {direction!r}")
        rows = (self.section == section) & (
            (self.key == key) | (self.key == f"{key} (min)") | (self.key == f"{key} (max)"))
        self.direction[rows] = direction
        self._update_better()

    def _update_better(self) -> None:
        if self.delta is None:
            return
        sign = np.select([self.direction == "min", self.direction == "max"], [-1.0, 1.0], 0.0)
        with np.errstate(invalid="ignore"):
            s = np.sign(self.delta) * sign[:, None]
        better = np.zeros(self.delta.shape, np.int8)
        better[s > 0] = 1
        better[s < 0] = -1
        self.better = better

    def _spaces_rows(self) -> np.ndarray:
        if self._spaces is None:
            self._spaces = np.zeros(len(self.key), bool)
        return self._spaces

    # -- views of the rows -------------------------------------------------------------------
    def order(self, only_differences: bool = True, differing_first: bool = False,
              sections=SECTIONS) -> np.ndarray:
        """Row indices to show: by section, then (optionally) differing rows first, then key."""
        keep = np.isin(self.section, list(sections))
        if only_differences:
            keep &= self.differs()
        idx = np.flatnonzero(keep)
        sec_rank = np.array([SECTIONS.index(s) if s in SECTIONS else 99 for s in self.section])
        st_rank = np.array([STATUS_ORDER[s] for s in self.status]) if differing_first else \
            np.zeros(len(self.key), int)
        pos = np.arange(len(self.key))  # rows are built in key order within a section
        return idx[np.lexsort((pos[idx], st_rank[idx], sec_rank[idx]))]

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per section: (rows that differ, rows that are the same)."""
        out = {}
        for s in SECTIONS:
            mine = self.section == s
            if mine.any():
                d = int(np.count_nonzero(mine & self.differs()))
                out[s] = (d, int(np.count_nonzero(mine)) - d)
        return out

    def same_note(self, section: str) -> str:
        """'31 params the same' (or '' when none are)."""
        same = self.counts().get(section, (0, 0))[1]
        if not same:
            return ""
        noun = {"attributes": "attribute", "params": "param", "metrics": "metric",
                "tags": "tag", "datasets": "dataset"}[section]
        return f"{same} {noun}{'s' if same != 1 else ''} the same"

    def display(self, i: int, j: int, full: bool = False) -> str:
        """A cell as the table shows it: missing and empty kept apart, long values shortened."""
        v = self.text[i, j]
        if v is None:
            return "—"
        kind = self.kind[i]
        if kind == "number":
            return format_number(self.number[i, j]) if not full else v
        if kind == "duration":
            return format_duration(self.number[i, j])
        if v == "":
            return '""'
        if not full and len(v) > LONG_VALUE:
            return v[:LONG_VALUE - 1].replace("\n", " ⏎ ") + "…"
        return v

    def delta_text(self, i: int, j: int) -> str:
        """'+0.012 (+3.4%)' against the baseline, '' where there is none."""
        if j == self.baseline or self.delta is None:
            return ""
        d = self.delta[i, j]
        if not np.isfinite(d) or d == 0:
            return ""
        if self.kind[i] in ("time", "duration"):
            return ("+" if d > 0 else "-") + format_duration(abs(d))
        p = self.pct[i, j]
        text = f"{d:+.4g}"
        return f"{text} ({p:+.3g}%)" if np.isfinite(p) else text

    def is_long(self, i: int) -> bool:
        row = self.text[i]
        return any(v is not None and (len(v) > LONG_VALUE or "\n" in v) for v in row)

    # -- export ------------------------------------------------------------------------------
    def to_records(self, rows=None, transpose: bool = False) -> list[list]:
        """Header + one list per row (section, key, status, values); None where missing."""
        rows = self.order(False) if rows is None else rows
        header = ["section", "key", "status", *self.labels()]
        body = [[self.section[i], self.key[i], self.status[i], *self.text[i].tolist()]
                for i in rows]
        if not transpose:
            return [header, *body]
        names = ["run", *[f"{r[0]}.{r[1]}" for r in body]]
        cols = [[lab, *[r[3 + j] for r in body]] for j, lab in enumerate(self.labels())]
        return [names, *cols]

    def to_csv(self, rows=None, transpose: bool = False) -> str:
        """CSV where a missing value is an empty field and an empty string is quoted ("")."""
        def field(v) -> str:  # csv's QUOTE_NONNUMERIC would quote None as "" too
            return "" if v is None else '"' + str(v).replace('"', '""') + '"'

        return "".join(",".join(field(v) for v in rec) + "\n"
                       for rec in self.to_records(rows, transpose))

    def to_text(self, rows=None, transpose: bool = False) -> str:
        """Tab-separated text for pasting: '—' where missing, "" for an empty string."""
        out = []
        for rec in self.to_records(rows, transpose):
            out.append("\t".join("—" if v is None else ('""' if v == "" else
                                 str(v).replace("\t", " ").replace("\n", "⏎")) for v in rec))
        return "\n".join(out) + "\n"

    # -- plots -------------------------------------------------------------------------------
    def axis(self, i: int) -> Axis:
        """Row ``i`` as a plot axis: numbers, or categories in natural order (missing: NaN)."""
        section, key = str(self.section[i]), str(self.key[i])
        label = key if section in ("params", "metrics") else f"{section}: {key}"
        if self.numeric[i]:
            return Axis(label, section, key, self.number[i].astype(float), None)
        return categorical_axis(label, section, key, self.text[i])


@dataclass
class Axis:
    """One plot axis: ``values`` per column (NaN: missing); for categories, ``values`` are
    category codes and ``categories`` their names."""

    label: str
    section: str
    key: str
    values: np.ndarray
    categories: list[str] | None

    @property
    def categorical(self) -> bool:
        return self.categories is not None

    def span(self) -> tuple[float, float]:
        if self.categorical:
            return -0.5, max(len(self.categories) - 0.5, 0.5)
        finite = self.values[np.isfinite(self.values)]
        if not finite.size:
            return 0.0, 1.0
        lo, hi = float(finite.min()), float(finite.max())
        if lo == hi:
            pad = abs(lo) * 0.05 or 0.5
            return lo - pad, hi + pad
        return lo, hi

    def normalized(self) -> np.ndarray:
        """Values mapped onto 0..1 (NaN stays NaN), as parallel coordinates draw them."""
        lo, hi = self.span()
        with np.errstate(all="ignore"):
            return (np.clip(self.values, lo, hi) - lo) / (hi - lo)

    def tick(self, value: float) -> str:
        if self.categorical:
            k = int(round(value))
            return self.categories[k] if 0 <= k < len(self.categories) else ""
        return format_number(value)


def categorical_axis(label, section, key, texts) -> Axis:
    present = [v for v in texts if v is not None]
    cats = sorted(set(present), key=_natural)
    code = {c: k for k, c in enumerate(cats)}
    values = np.array([np.nan if v is None else code[v] for v in texts], dtype=float)
    return Axis(label, section, key, values, [c if c != "" else '""' for c in cats])


def _natural(text: str):
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def brush(axes: list[Axis], ranges: dict[int, tuple[float, float]]) -> np.ndarray:
    """Runs inside every brushed range (axis index -> (lo, hi) in the axis's own values);
    a run missing on a brushed axis is outside it."""
    n = len(axes[0].values) if axes else 0
    keep = np.ones(n, bool)
    for a, (lo, hi) in ranges.items():
        if lo > hi:
            lo, hi = hi, lo
        v = axes[a].values
        with np.errstate(invalid="ignore"):
            keep &= (v >= lo) & (v <= hi)
    return keep


def time_value(comp: Comparison, what: str) -> Axis:
    """The 'start time' or 'duration' axis (seconds) of a scatter plot."""
    i = comp.row_index("attributes", "start" if what == "start time" else "duration")
    return Axis(what, "attributes", what, comp.number[i].astype(float), None)


def format_number(v: float) -> str:
    if v is None or not isinstance(v, (float, int, np.floating, np.integer)):
        return str(v)
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"


# -- building ---------------------------------------------------------------------------------


def compare(sources: list[Source], baseline: int = 0, extremes: pd.DataFrame | None = None,
            directions: dict[str, str] | None = None, missing_runs=()) -> Comparison:
    """Align every key of these runs (all sources, in order) and compare them.

    ``extremes`` (from :func:`metric_extremes`, keyed by run_id) adds each metric's min and
    max with their steps; ``directions`` overrides :func:`metric_direction` per metric key.
    """
    several = len({s.label for s in sources}) > 1
    columns: list[Column] = []
    infos, longs = [], {"params": [], "metrics": [], "tags": [], "datasets": []}
    for src in sources:
        offset = len(columns)
        info = src.table.info.drop_duplicates("run_id").set_index("run_id").reindex(src.run_ids)
        for rid, name, exp in zip(src.run_ids, info["run_name"], info["experiment_id"],
                                  strict=True):
            uid = f"{src.label}|{rid}" if several else rid
            columns.append(Column(uid, rid, _str(name) or "", src.label, _str(exp) or ""))
        pos = pd.Index(src.run_ids)
        infos.append((src, info, offset))
        t = src.table
        for name, long in (("params", t.params), ("tags", t.tags), ("metrics", t.metrics)):
            if long is not None and len(long):
                cols = pos.get_indexer(long["run_id"])
                mine = cols >= 0
                part = pd.DataFrame({"col": cols[mine] + offset,
                                     "key": long["key"].to_numpy(object)[mine],
                                     "value": long["value"].to_numpy()[mine]})
                if name == "tags":
                    part = part[~part["key"].isin(HIDDEN_TAGS)]
                longs[name].append(part)
        if t.datasets is not None and len(t.datasets):
            ds = t.datasets
            cols = pos.get_indexer(ds["run_id"])
            mine = cols >= 0
            ctx = ds["context"] if "context" in ds else pd.Series([None] * len(ds))
            keys = [f"{n} [{c}]" if c else str(n) for n, c in
                    zip(ds["name"].to_numpy(object)[mine], ctx.to_numpy(object)[mine], strict=True)]
            longs["datasets"].append(pd.DataFrame({
                "col": cols[mine] + offset, "key": keys,
                "value": ds["digest"].astype(object).to_numpy()[mine]}))
    n = len(columns)
    if extremes is not None and len(extremes):
        uid_of = {c.run_id: j for j, c in enumerate(columns)}  # one store: run ids are unique
        ex = extremes[extremes["run_id"].isin(uid_of)]
        cols = ex["run_id"].map(uid_of).to_numpy(np.int64)
        for which in ("min", "max"):
            longs["metrics"].append(pd.DataFrame({
                "col": cols, "key": (ex["key"] + f" ({which})").to_numpy(object),
                "value": ex[which].to_numpy(float), "step": ex[f"{which}_step"].to_numpy()}))

    parts = [_attributes(infos, n, several)]
    for name in ("params", "metrics", "tags", "datasets"):
        frames = [f for f in longs[name] if len(f)]
        if frames:
            parts.append(_section(name, pd.concat(frames, ignore_index=True), n))
    section = np.concatenate([p[0] for p in parts])
    key = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([p[2] for p in parts])
    text = np.concatenate([p[3] for p in parts]) if n else np.empty((len(key), 0), object)
    number = np.concatenate([p[4] for p in parts]) if n else np.empty((len(key), 0))
    numeric, status, spaces = _statuses(kind, text, number)
    directions = directions or {}
    direction = np.array([
        (directions.get(_metric_of(k), metric_direction(_metric_of(k))) if s == "metrics" else "")
        for s, k in zip(section, key, strict=True)], dtype=object)
    comp = Comparison(columns, section, key, kind, text, number, numeric, status, direction,
                      missing_runs=list(missing_runs), _spaces=spaces)
    comp.set_baseline(baseline)
    return comp


def _metric_of(key: str) -> str:
    for suffix in (" (min)", " (max)"):
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def _str(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return str(v)


def _utc_texts(ms: np.ndarray) -> np.ndarray:
    """Epoch ms as 'YYYY-MM-DD HH:MM:SS UTC' (None where missing), formatted by pandas in
    one go (a datetime per run cost 30 ms for 1,000 runs)."""
    out = np.full(len(ms), None, dtype=object)
    ok = ~np.isnan(ms)
    if ok.any():
        secs = np.floor(ms[ok] / 1000.0).astype(np.int64)
        out[ok] = pd.to_datetime(secs, unit="s", utc=True).strftime(
            "%Y-%m-%d %H:%M:%S UTC").to_numpy(object)
    return out


def _attributes(infos, n: int, several: bool):
    """status, start, duration, user, source, git commit, parent, experiment (+ lifecycle
    when a run is deleted, + store when runs come from several)."""
    names = ["status", "start", "duration", "user", "source", "git commit", "parent",
             "experiment", "lifecycle"] + (["store"] if several else [])
    kinds = {"start": "time", "duration": "duration"}
    text = np.full((len(names), n), None, dtype=object)
    number = np.full((len(names), n), np.nan)
    row = {k: i for i, k in enumerate(names)}
    for src, info, off in infos:
        m = len(src.run_ids)
        if not m:
            continue
        sl = slice(off, off + m)
        start = info["start_time"].to_numpy(dtype=float)
        end = info["end_time"].to_numpy(dtype=float)
        text[row["status"], sl] = [_str(v) for v in info["status"]]
        number[row["start"], sl] = start / 1000.0
        text[row["start"], sl] = _utc_texts(start)
        dur = (end - start) / 1000.0
        number[row["duration"], sl] = dur
        text[row["duration"], sl] = [None if np.isnan(d) else repr(float(d)) for d in dur]
        text[row["user"], sl] = [_str(v) for v in info["user_id"]]
        tags = src.table.tags
        names_of = dict(zip(src.table.info["run_id"], src.table.info["run_name"], strict=True))
        for attr, tag in ATTRIBUTE_TAGS.items():
            t = tags[tags["key"] == tag].drop_duplicates("run_id", keep="last")
            values = dict(zip(t["run_id"], t["value"], strict=True))
            got = [values.get(r) for r in src.run_ids]
            if attr == "parent":  # the parent's name where it is among the compared runs
                got = [None if p is None else (f"{names_of[p]} ({p[:8]})" if names_of.get(p)
                                               else p) for p in got]
            text[row[attr], sl] = got
        text[row["experiment"], sl] = [_str(v) for v in info["experiment_id"]]
        text[row["lifecycle"], sl] = [_str(v) for v in info["lifecycle_stage"]]
        if several:
            text[row["store"], sl] = src.label
    keep = [i for i, k in enumerate(names)
            if k != "lifecycle" or any(v not in (None, "active") for v in text[i])]
    keep = [i for i in keep if any(v is not None for v in text[i]) or names[i] in ("status",)]
    sec = np.array(["attributes"] * len(keep), dtype=object)
    keys = np.array([names[i] for i in keep], dtype=object)
    kind = np.array([kinds.get(names[i], "text") for i in keep], dtype=object)
    return sec, keys, kind, text[keep], number[keep]


def _section(name: str, long: pd.DataFrame, n: int):
    """Long (col, key, value[, step]) -> keys sorted by name x columns grids."""
    codes, keys = pd.factorize(long["key"].to_numpy(object), sort=False)
    order = sorted(range(len(keys)), key=lambda i: str(keys[i]).lower())
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    r, c = rank[codes], long["col"].to_numpy(np.int64)
    text = np.full((len(keys), n), None, dtype=object)
    number = np.full((len(keys), n), np.nan)
    if name == "metrics":
        vals = long["value"].to_numpy(float)
        number[r, c] = vals
        shown = [repr(float(v)) for v in vals]
        if "step" in long:  # a min or max: the value and the step it was logged at
            steps = long["step"].to_numpy()
            shown = [t if pd.isna(s) else f"{t} @ step {int(s)}" for t, s in
                     zip(shown, steps, strict=True)]
        text[r, c] = np.array(shown, dtype=object)
        kind = "number"
    else:
        # Params repeat few distinct values: each is converted and parsed once.
        codes, uniques = pd.factorize(long["value"].to_numpy(object), use_na_sentinel=True)
        u_text = np.array([str(v) for v in uniques] + [None], dtype=object)
        u_num = np.append(_parse_numbers(u_text[:-1]), np.nan)
        text[r, c] = u_text[codes]
        number[r, c] = u_num[codes]
        kind = "text"
    sorted_keys = np.array([keys[i] for i in order], dtype=object)
    sec = np.array([name] * len(keys), dtype=object)
    return sec, sorted_keys, np.array([kind] * len(keys), dtype=object), text, number


def _parse_numbers(values) -> np.ndarray:
    """MLflow's strings as numbers where they are exactly one (NaN elsewhere). 'nan' and
    'inf' count as numbers; '', '1,000', 'True' or '0x10' do not."""
    s = pd.Series(values, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = pd.to_numeric(s, errors="coerce")
    return out.to_numpy(dtype=float, na_value=np.nan)


_NAN_TEXT = {"nan", "+nan", "-nan"}
# Leading or trailing whitespace of a value (values joined by NUL), a double space, a tab or
# a line break: the whitespace that normalising could take away.
_ODD_SPACE = re.compile(r"(?:^|\x00)\s|\s(?:\x00|$)|  |[\t\n\r]")


def _is_number_text(texts: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Where a present value is a number: parsed, or spelled as NaN."""
    ok = ~np.isnan(numbers)
    nan = np.isnan(numbers) & _present(texts)
    if nan.any():
        spelled = pd.Series(texts[nan]).str.strip().str.lower().isin(_NAN_TEXT)
        ok[nan] = spelled.to_numpy(bool)
    return ok


def _present(text: np.ndarray) -> np.ndarray:
    return pd.notna(text) if text.size else np.zeros(text.shape, bool)


def _eq_objects(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise text equality, None equal to None."""
    if not a.size:
        return np.zeros(np.broadcast_shapes(a.shape, b.shape), bool)
    return np.asarray(a == b, dtype=bool)


def _eq_numbers(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (a == b) | (np.isnan(a) & np.isnan(b))


def _norm_space(text: str) -> str:
    return " ".join(text.split())


def _statuses(kind, text, number):
    """Per row: every present value a number?, the row's status, and whether some values
    differ only in whitespace."""
    rows, n = text.shape
    present = _present(text)
    isnum = _is_number_text(text, number) if n else np.zeros(text.shape, bool)
    numeric = np.all(isnum | ~present, axis=1) & present.any(axis=1)
    measured = np.isin(kind, ("number", "time", "duration"))
    numeric |= measured & present.any(axis=1)
    status = np.full(rows, SAME, dtype=object)
    spaces = np.zeros(rows, bool)
    if not n:
        return numeric, status, spaces
    some_missing = ~present.all(axis=1) & present.any(axis=1)
    # First present value per row, then every present value against it.
    first = present.argmax(axis=1)
    ref_text = text[np.arange(rows), first][:, None]
    ref_num = number[np.arange(rows), first][:, None]
    text_same = np.all(_eq_objects(text, ref_text) | ~present, axis=1)
    num_same = np.all(_eq_numbers(number, ref_num) | ~present, axis=1)
    for i in range(rows):
        if measured[i]:
            same = num_same[i]
            st = SAME if same else DIFFERS
        elif text_same[i]:
            st = SAME
        elif numeric[i] and num_same[i]:
            st = NUMBERS
        else:
            distinct = set(text[i][present[i]].tolist())
            # Only values with odd whitespace can collapse into another: one regex over the
            # row's values joined says whether any has some (a value at a time cost 40 ms
            # for 1,000 runs x 50 params).
            odd = [v for v in distinct if v[:1].isspace() or v[-1:].isspace() or "  " in v
                   or "\t" in v or "\n" in v or "\r" in v] if _ODD_SPACE.search(
                "\x00".join(distinct)) else []
            vals = (distinct - set(odd)) | {_norm_space(v) for v in odd} if odd else distinct
            if len(vals) == 1:
                st, spaces[i] = SPACES, True
            else:
                st = DIFFERS
                spaces[i] = len(vals) < len(distinct)
        if some_missing[i] and st != DIFFERS:
            st = MISSING
        status[i] = st
    return numeric, status, spaces


# -- long values: side by side, JSON key by key ----------------------------------------------


def parse_structured(text: str):
    """A param holding a config: JSON, or a Python literal (``str(dict)``, as
    ``mlflow.log_params`` writes a dict value). None when it is neither a dict nor a list."""
    if text is None:
        return None
    s = text.strip()
    if not s or s[0] not in "{[":
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(s)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, (dict, list)):
            return value
    return None


def flatten(value, prefix: str = "") -> dict[str, object]:
    """Nested dicts/lists -> {"a.b[0].c": leaf}; an empty dict or list is a leaf itself."""
    out: dict[str, object] = {}
    if isinstance(value, dict) and value:
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value:
        for k, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{k}]"))
    else:
        out[prefix or "(value)"] = value
    return out


@dataclass(frozen=True)
class KeyDiff:
    path: str
    left: object
    right: object
    status: str  # "same", "changed", "added", "removed"


_MISSING = object()


def json_diff(left: str, right: str) -> list[KeyDiff] | None:
    """Two configs compared key by key (None unless both parse as a dict or list)."""
    a, b = parse_structured(left), parse_structured(right)
    if a is None or b is None:
        return None
    fa, fb = flatten(a), flatten(b)
    out = []
    for path in list(fa) + [p for p in fb if p not in fa]:
        x, y = fa.get(path, _MISSING), fb.get(path, _MISSING)
        if x is _MISSING:
            out.append(KeyDiff(path, None, y, "added"))
        elif y is _MISSING:
            out.append(KeyDiff(path, x, None, "removed"))
        else:
            same = x == y and type(x) is type(y)
            out.append(KeyDiff(path, x, y, "same" if same else "changed"))
    return out


@dataclass(frozen=True)
class DiffLine:
    """One row of a side-by-side diff: left and right text (None: no line on that side),
    tag ('equal', 'replace', 'delete', 'insert'), and for a replaced pair the changed
    character spans of each side."""

    left: str | None
    right: str | None
    tag: str
    left_spans: tuple = ()
    right_spans: tuple = ()


def _lines(text: str) -> list[str]:
    """A value as lines to diff: a config pretty-printed (keys sorted), multi-line text as
    it is, a long single line split at spaces and commas (a command line, a list)."""
    value = parse_structured(text)
    if value is not None:
        return json.dumps(value, indent=2, sort_keys=True, default=str).splitlines()
    if "\n" in text:
        return text.splitlines()
    if len(text) > LONG_VALUE:
        return [p for p in re.split(r"(?<=[,;])\s*|\s+(?=--?\w)", text) if p]
    return [text]


def side_by_side(left: str | None, right: str | None) -> list[DiffLine]:
    """difflib's line diff of two values, the changed characters of replaced lines marked."""
    a = _lines(left) if left is not None else []
    b = _lines(right) if right is not None else []
    out: list[DiffLine] = []
    # A config's last key has no comma after it: a comma alone does not make a line differ.
    sm = difflib.SequenceMatcher(None, [x.rstrip(",") for x in a], [y.rstrip(",") for y in b],
                                 autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out.extend(DiffLine(x, x, "equal") for x in a[i1:i2])
        elif tag == "delete":
            out.extend(DiffLine(x, None, "delete") for x in a[i1:i2])
        elif tag == "insert":
            out.extend(DiffLine(None, y, "insert") for y in b[j1:j2])
        else:
            la, lb = a[i1:i2], b[j1:j2]
            for k in range(max(len(la), len(lb))):
                x = la[k] if k < len(la) else None
                y = lb[k] if k < len(lb) else None
                if x is None or y is None:
                    out.append(DiffLine(x, y, "delete" if y is None else "insert"))
                    continue
                ls, rs = _char_spans(x, y)
                out.append(DiffLine(x, y, "replace", ls, rs))
    return out


def _char_spans(x: str, y: str, limit: int = 400):
    """The changed character spans of two lines. The common head and tail are cut first
    (difflib is quadratic: a 6,000-character line would take seconds); a middle still
    longer than ``limit`` is marked whole."""
    head = len(os.path.commonprefix([x, y]))
    tail = len(os.path.commonprefix([x[head:][::-1], y[head:][::-1]]))
    mx, my = x[head:len(x) - tail], y[head:len(y) - tail]
    if len(mx) > limit or len(my) > limit:
        return (((head, head + len(mx)),) if mx else ()), (((head, head + len(my)),) if my else ())
    sm = difflib.SequenceMatcher(None, mx, my, autojunk=False)
    ls, rs = [], []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "equal":
            if i2 > i1:
                ls.append((head + i1, head + i2))
            if j2 > j1:
                rs.append((head + j1, head + j2))
    return tuple(ls), tuple(rs)


def check_runs(run_ids) -> list[str]:
    """The run ids to compare, de-duplicated; a clear error when there are none."""
    ids = list(dict.fromkeys(str(r) for r in run_ids or [] if r))
    if not ids:
        raise StoreError("Select at least one run to compare.")
    return ids
