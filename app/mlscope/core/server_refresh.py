"""Bringing a server's saved copy up to date with a few small searches, before the full re-read.

MLflow's run search has no ``last_update_time``: what it filters on (``SearchUtils``' valid
attributes in MLflow 3.17) is ``start_time``, ``end_time``, ``status``, ``run_id``,
``run_name``, ``user_id`` and ``artifact_uri``, joined by AND only. So what changed since the
copy is asked as four small searches, merged into the copy:

- runs started since it: ``attributes.start_time >= T``;
- runs ended since it: ``attributes.end_time >= T``;
- runs logging now: ``attributes.status = 'RUNNING'`` (their metrics move);
- the runs RUNNING in the copy, by id (``attributes.run_id IN (...)``): they may have ended
  with any clock, or left the view (deleted), which their absence from the answer says.

``T`` is the latest start or end time in the copy minus ``MARGIN_MS``. Those times are the
clocks of the machines that logged the runs (MLflow's client sends them), never this
computer's, so a laptop whose clock is wrong changes nothing; the margin covers loggers whose
clocks disagree with each other by up to an hour.

What this cannot see: a finished run deleted or restored since, tags or notes edited on a
finished run, a logger whose clock is off by more than the margin. So the merged table is
only ever shown as a copy being checked, and the caller re-reads every run afterwards, which
replaces it (see ``LoadingController``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .errors import Cancelled

MARGIN_MS = 60 * 60 * 1000
IN_CHUNK = 100  # run ids per ``run_id IN (...)`` search


@dataclass
class Delta:
    frame: pd.DataFrame  # the copy with the changed runs put in (new ones added, gone ones dropped)
    changed: int  # runs new or changed since the copy (as the searches saw them)
    gone: int  # runs RUNNING in the copy that are no longer in the view
    since_ms: int  # the T of the searches


def _ms(value) -> int | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return int(pd.Timestamp(value).value // 1_000_000)


def since_ms(copy: pd.DataFrame, margin_ms: int = MARGIN_MS) -> int | None:
    """T: the latest start or end time in the copy, less the margin; None without any."""
    times = [_ms(pd.to_datetime(copy[c], utc=True, errors="coerce").max())
             for c in ("start_time", "end_time") if c in copy and len(copy)]
    times = [t for t in times if t is not None]
    return max(times) - margin_ms if times else None


def _union(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Rows of several runs frames in one, as MLflow's frame of them all would have them: a
    column takes the dtype of a part holding values in it (a part where it is all empty, such
    as ``end_time`` among running runs, may have another), and a part lacking it gets that
    dtype's empty value (None in text, never the float NaN pandas' concat would put there)."""
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    dtypes = {}
    for c in columns:
        having = [f[c].dtype for f in frames if c in f.columns and f[c].notna().any()]
        dtypes[c] = having[0] if having else next(f[c].dtype for f in frames if c in f.columns)
    parts = []
    for f in frames:
        empty = [c for c in columns if c not in f.columns
                 or (f[c].dtype != dtypes[c] and not f[c].notna().any())]
        if empty:
            f = f.assign(**{c: _empty(dtypes[c], len(f), f.index) for c in empty})
        parts.append(f[columns])
    return pd.concat(parts, ignore_index=True)


def _empty(dtype, n: int, index) -> pd.Series:
    if pd.api.types.is_float_dtype(dtype):
        return pd.Series(float("nan"), index=index, dtype=dtype)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return pd.Series(pd.NaT, index=index, dtype=dtype)
    try:  # text: missing as that dtype has it (None in object, NaN in pandas 3's str)
        return pd.Series([None] * n, index=index, dtype=dtype)
    except (TypeError, ValueError):  # integers or booleans cannot hold it
        return pd.Series([None] * n, index=index, dtype=object)


def merge(copy: pd.DataFrame, fresh: pd.DataFrame, gone=()) -> pd.DataFrame:
    """The copy with ``fresh``'s rows in place of its own (same run ids) and added, ``gone``
    dropped, in MLflow's default order (newest start first, then run id)."""
    drop = set(gone) | set(fresh["run_id"]) if len(fresh) else set(gone)
    kept = copy[~copy["run_id"].isin(drop)] if drop else copy
    frame = _union([fresh, kept]) if len(fresh) else kept
    if "start_time" in frame:
        frame = frame.sort_values(["start_time", "run_id"], ascending=[False, True],
                                  na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def changed_runs(store, copy: pd.DataFrame, experiment_ids, view: str, since: int,
                 cancel=None) -> tuple[pd.DataFrame, set[str]]:
    """The runs the searches find changed since ``since``, and the ids of the copy's RUNNING
    runs that are no longer in the view."""
    running = (copy.loc[copy["status"] == "RUNNING", "run_id"].astype(str).tolist()
               if "status" in copy else [])
    filters = [f"attributes.start_time >= {since}", f"attributes.end_time >= {since}",
               "attributes.status = 'RUNNING'"]
    filters += ["attributes.run_id IN ({})".format(", ".join(f"'{r}'" for r in running[i:i + IN_CHUNK]))
                for i in range(0, len(running), IN_CHUNK)]
    found, seen = [], set()
    for filt in filters:
        if cancel is not None and cancel():
            raise Cancelled("Refreshing the copy was cancelled.")
        part = store.runs(list(experiment_ids), filt, None, view, attributes=True)
        part = part[~part["run_id"].isin(seen)]
        seen.update(part["run_id"])
        found.append(part)
    fresh = _union(found) if found else copy.iloc[:0]
    gone = set(running) - seen
    return fresh, gone


def refresh(store, copy: pd.DataFrame, experiment_ids, view: str, cancel=None,
            margin_ms: int = MARGIN_MS) -> Delta | None:
    """The copy brought up to date by the small searches; None when the copy has no time to
    start from (empty): then only a full read will do."""
    since = since_ms(copy, margin_ms)
    if since is None:
        return None
    fresh, gone = changed_runs(store, copy, experiment_ids, view, since, cancel)
    before = copy.set_index("run_id")
    changed = 0
    for rid, row in fresh.set_index("run_id").iterrows():
        if rid not in before.index or not _same_row(before.loc[rid], row):
            changed += 1
    return Delta(merge(copy, fresh, gone), changed, len(gone & set(copy["run_id"])), since)


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _same_row(a: pd.Series, b: pd.Series) -> bool:
    for k in set(a.index) | set(b.index):
        x, y = a.get(k), b.get(k)
        if _missing(x) and _missing(y):
            continue
        if _missing(x) or _missing(y) or x != y:
            return False
    return True
