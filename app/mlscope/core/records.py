"""One run as the runs table already knows it: what the run detail shows at once, before
the full read of the run comes back from a worker."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .format import epoch_ms

PARENT_TAG = "tags.mlflow.parentRunId"
_INFO = ("experiment_id", "status", "artifact_uri", "run_name", "user_id", "lifecycle_stage")


def last_row(index: pd.Index, run_id) -> int | None:
    """The row of ``run_id`` in ``index`` (its last, were an id repeated), None if absent."""
    try:
        loc = index.get_loc(run_id)
    except (KeyError, TypeError, ValueError):
        return None
    if isinstance(loc, slice):
        return loc.stop - 1
    if isinstance(loc, np.ndarray):
        return int(np.flatnonzero(loc)[-1])
    return int(loc)


class FrameIndex:
    """Row lookups by run id in a runs frame (MLflow's search_runs frame), built once: a
    pandas Index over the run id column (a hash table in C), not a dict of one Python entry
    a run, and children grouped from the few runs that have a parent."""

    def __init__(self, frame: pd.DataFrame | None):
        self.frame = frame if frame is not None else pd.DataFrame()
        ids = self.frame["run_id"] if "run_id" in self.frame else pd.Series([], dtype=object)
        self._ids = pd.Index(ids)
        self._children: dict[str, list[str]] | None = None

    def row(self, run_id) -> int | None:
        """The frame row of a run (its last, were an id repeated), None if absent."""
        return last_row(self._ids, run_id)

    def __contains__(self, run_id) -> bool:
        return self.row(run_id) is not None

    def value(self, run_id: str, column: str):
        i = self.row(run_id)
        if i is None or column not in self.frame:
            return None
        v = self.frame[column].iat[i]
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else v

    def name(self, run_id: str) -> str:
        return str(self.value(run_id, "run_name") or run_id[:8])

    def children(self, run_id: str) -> list[str]:
        if self._children is None:
            self._children = {}
            if PARENT_TAG in self.frame and "run_id" in self.frame:
                f = self.frame[["run_id", PARENT_TAG]]
                f = f[f[PARENT_TAG].notna().to_numpy()]  # the few child runs only
                for rid, parent in zip(f["run_id"], f[PARENT_TAG], strict=True):
                    if isinstance(parent, str):
                        self._children.setdefault(parent, []).append(rid)
        return self._children.get(run_id, [])

    def run(self, run_id: str) -> dict:
        """The run in ``store.run()``'s shape, from the table's columns (latest metrics only)."""
        info: dict = {"run_id": run_id}
        i = self.row(run_id)
        if i is None:
            return {"info": info}
        f = self.frame
        for key in _INFO:
            if key in f:
                info[key] = f[key].iat[i]
        for key in ("start_time", "end_time"):
            info[key] = epoch_ms(f[key].iloc[i:i + 1])[0] if key in f else np.nan
        params, metrics, tags = {}, {}, {}
        for col in f.columns:
            v = f[col].iat[i]
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            if col.startswith("params."):
                params[col[7:]] = v
            elif col.startswith("metrics."):
                metrics[col[8:]] = {"value": v, "step": None}
            elif col.startswith("tags."):
                tags[col[5:]] = v
        return {"info": info, "params": params, "metrics": metrics, "tags": tags}

    def links(self, run_id: str, experiment_names: dict[str, str]) -> dict:
        """The experiment's name, the parent and the children, as (run_id, name) pairs."""
        parent = self.value(run_id, PARENT_TAG)
        exp = self.value(run_id, "experiment_id")
        return {
            "experiment": experiment_names.get(str(exp), exp),
            "parent": (parent, self.value(parent, "run_name")) if isinstance(parent, str) else None,
            "children": [(c, self.value(c, "run_name")) for c in self.children(run_id)],
        }
