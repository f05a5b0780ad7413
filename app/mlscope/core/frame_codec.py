"""Run tables in a form that pickles and unpickles fast, for the mlruns run cache.

A pickled DataFrame writes every cell of a text column as its own string: a 100,000-run
table holds millions (run ids repeated in every long table, the same few keys and values
again and again), and unpickling them was a large share of reopening a big folder. Here a
text column travels as integer codes plus its distinct values, once each, and comes back as
the same object column: values, missing values (None or NaN, as they were) and dtypes exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .table import RunTable

_FIELDS = ("info", "metrics", "params", "tags", "datasets")


def pack_frame(frame: pd.DataFrame) -> dict:
    cols = []
    for name in frame.columns:
        col = frame[name]
        if col.dtype != object:  # numbers, times, extension types: pickle them well already
            cols.append((name, "as-is", col))
            continue
        values = col.to_numpy(dtype=object, copy=False)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        missing = np.flatnonzero(codes < 0)
        cols.append((name, "coded", codes.astype(np.int32 if len(uniques) < 2**31 else np.int64),
                     np.asarray(uniques, dtype=object), missing, values[missing]))
    return {"columns": cols, "index": frame.index}


def unpack_frame(packed: dict) -> pd.DataFrame:
    data = {}
    for name, how, *rest in packed["columns"]:
        if how == "as-is":
            data[name] = rest[0]
            continue
        codes, uniques, missing, missing_values = rest
        values = np.append(uniques, None).take(codes)  # code -1 takes the appended slot
        values[missing] = missing_values
        data[name] = pd.Series(values, dtype=object, copy=False, index=packed["index"])
    if not data:
        return pd.DataFrame(index=packed["index"])
    return pd.DataFrame(data, copy=False)


def pack_table(table: RunTable) -> dict:
    return {f: None if getattr(table, f) is None else pack_frame(getattr(table, f)) for f in _FIELDS}


def unpack_table(packed: dict) -> RunTable:
    return RunTable(**{f: None if packed[f] is None else unpack_frame(packed[f]) for f in _FIELDS})
