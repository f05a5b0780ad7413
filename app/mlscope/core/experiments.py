"""Which experiments a store opens on, decided from what is known before any run is read."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .format import epoch_ms


def _ms(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), np.nan)
    col = frame[column]
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype="float64", na_value=np.nan)
    return epoch_ms(col)


def initial_experiments(exps: pd.DataFrame, wanted: str | None = None,
                        remembered: list[str] | None = None) -> list[str]:
    """The experiment asked for (id or name), else the ones the user had open last time,
    else the one touched last; "Default" only if it is all there is."""
    ids = [str(x) for x in exps.get("experiment_id", [])]
    if not ids:
        return []
    names = exps["name"].astype(str).tolist()
    if wanted:
        if str(wanted) in ids:
            return [str(wanted)]
        if str(wanted) in names:
            return [ids[names.index(str(wanted))]]
    if remembered and all(r in ids for r in remembered):
        return list(remembered)
    updated = _ms(exps, "last_update_time")
    updated = np.where(np.isnan(updated), _ms(exps, "creation_time"), updated)
    order = sorted(range(len(ids)), key=lambda i: (names[i] != "Default",
                                                   -1 if updated[i] != updated[i] else updated[i]),
                   reverse=True)
    return [ids[order[0]]]
