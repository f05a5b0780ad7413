"""One run as the runs table already knows it: what the run detail shows at once, before
the full read of the run comes back from a worker."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .format import epoch_ms

PARENT_TAG = "tags.mlflow.parentRunId"
_INFO = ("experiment_id", "status", "artifact_uri", "run_name", "user_id", "lifecycle_stage")


class FrameIndex:
    """Row lookups by run id in a runs frame (MLflow's search_runs frame), built once."""

    def __init__(self, frame: pd.DataFrame | None):
        self.frame = frame if frame is not None else pd.DataFrame()
        ids = self.frame["run_id"].tolist() if "run_id" in self.frame else []
        self.row = {rid: i for i, rid in enumerate(ids)}
        self._children: dict[str, list[str]] | None = None

    def __contains__(self, run_id) -> bool:
        return run_id in self.row

    def value(self, run_id: str, column: str):
        i = self.row.get(run_id)
        if i is None or column not in self.frame:
            return None
        v = self.frame[column].iat[i]
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else v

    def name(self, run_id: str) -> str:
        return str(self.value(run_id, "run_name") or run_id[:8])

    def children(self, run_id: str) -> list[str]:
        if self._children is None:
            self._children = {}
            if PARENT_TAG in self.frame:
                for rid, parent in zip(self.frame["run_id"], self.frame[PARENT_TAG], strict=True):
                    if isinstance(parent, str):
                        self._children.setdefault(parent, []).append(rid)
        return self._children.get(run_id, [])

    def run(self, run_id: str) -> dict:
        """The run in ``store.run()``'s shape, from the table's columns (latest metrics only)."""
        info: dict = {"run_id": run_id}
        i = self.row.get(run_id)
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
