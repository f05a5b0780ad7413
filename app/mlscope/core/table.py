"""The one in-memory shape every backend reads into, and its conversion to MLflow's frame.

A backend produces a :class:`RunTable` (runs in long form). Filtering and ordering then
run MLflow's own search code over it (:mod:`mlscope.core.search`), and
:func:`mlflow_frame` pivots the chosen runs into exactly what ``mlflow.search_runs()``
returns: same columns, same dtypes, same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

INFO_COLUMNS = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]
# Run attributes MLflow keeps on RunInfo but not in search_runs' frame; the UI wants them.
EXTRA_COLUMNS = ["run_name", "user_id", "lifecycle_stage"]


def empty_long(with_metrics: bool = False) -> pd.DataFrame:
    if with_metrics:
        return pd.DataFrame(
            {
                "run_id": pd.Series([], dtype=object),
                "key": pd.Series([], dtype=object),
                "value": pd.Series([], dtype="float64"),
                "step": pd.Series([], dtype="int64"),
                "timestamp": pd.Series([], dtype="int64"),
            }
        )
    return pd.DataFrame(
        {"run_id": pd.Series([], dtype=object), "key": pd.Series([], dtype=object),
         "value": pd.Series([], dtype=object)}
    )


def info_frame(rows) -> pd.DataFrame:
    """Run-info tuples (INFO_COLUMNS + EXTRA_COLUMNS order) -> RunTable.info: times as epoch
    ms in float64 (NaN when missing), everything else as Python objects."""
    info = pd.DataFrame(list(rows), columns=INFO_COLUMNS + EXTRA_COLUMNS, dtype=object)
    for col in ("start_time", "end_time"):
        info[col] = pd.to_numeric(info[col], errors="coerce").astype("float64")
    return info


def empty_info() -> pd.DataFrame:
    return info_frame([])


def _arrow(col: pd.Series):
    """The Arrow array of a pyarrow-backed string column (its own buffers), else None."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        import pyarrow as pa  # installed: the column is made of it

        return pa.array(col)
    return None


def positions(col: pd.Series, keys) -> np.ndarray:
    """Where each value of col stands in keys (unique), -1 where absent: what
    ``pd.Index(keys).get_indexer(col)`` gives, in Arrow's C++ on Arrow strings (pandas'
    path there makes a Python object of every value: 0.2 s a million rows)."""
    arr = _arrow(col)
    if arr is None:
        return pd.Index(keys).get_indexer(col)
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(arr, value_set=pa.array(list(keys), type=arr.type))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def isin(col: pd.Series, values) -> np.ndarray:
    """``col.isin(values)`` as a bool array; on Arrow strings pandas' own ``isin`` makes a
    pyarrow scalar of every wanted value (1 s for 100,000 run ids), pyarrow's does not."""
    arr = _arrow(col)
    if arr is None:
        return col.isin(values).to_numpy(bool)
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = pa.array(list(values), type=arr.type)
    return pc.is_in(arr, value_set=wanted).to_numpy(zero_copy_only=False).astype(bool)


def _rows(df: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """``df[mask]``, with pyarrow's ``filter`` on Arrow string columns: pandas turns the mask
    into indices and takes, twice as slow on the million rows of 100,000 runs' params."""
    arrow = {name: _arrow(df[name]) for name in df.columns} if df.columns.is_unique else {}
    if not any(a is not None for a in arrow.values()):
        return df[mask]
    import pyarrow as pa
    import pyarrow.compute as pc

    keep = pa.array(mask)
    cols = {}
    for name, arr in arrow.items():
        col = df[name]
        if arr is not None:
            cols[name] = pd.array(pc.filter(arr, keep), dtype=col.dtype)
        elif isinstance(col.dtype, np.dtype):
            cols[name] = col.to_numpy()[mask]
        else:
            cols[name] = col.array[mask]
    return pd.DataFrame(cols, index=df.index[mask], columns=df.columns)


@dataclass
class RunTable:
    """Every run of a store in long form.

    ``info``: one row per run: run_id, experiment_id, status, artifact_uri, start_time and
    end_time (epoch ms as float, NaN when missing), run_name, user_id, lifecycle_stage.
    ``metrics``: latest value per (run_id, key): value, step, timestamp.
    ``params`` and ``tags``: run_id, key, value.
    ``datasets``: run_id, name, digest, context (what MLflow's ``datasets.*`` filters see).
    """

    info: pd.DataFrame = field(default_factory=empty_info)
    metrics: pd.DataFrame = field(default_factory=lambda: empty_long(True))
    params: pd.DataFrame = field(default_factory=empty_long)
    tags: pd.DataFrame = field(default_factory=empty_long)
    datasets: pd.DataFrame | None = None

    def subset(self, run_ids) -> RunTable:
        keep = pd.unique(np.asarray(list(run_ids), dtype=object))
        pick = lambda df: _rows(df, isin(df["run_id"], keep)) if df is not None else None  # noqa: E731
        return RunTable(pick(self.info), pick(self.metrics), pick(self.params), pick(self.tags),
                        pick(self.datasets))

    @staticmethod
    def concat(tables: list[RunTable]) -> RunTable:
        if not tables:
            return RunTable()
        if len(tables) == 1:
            return tables[0]
        cat = lambda name: pd.concat([getattr(t, name) for t in tables], ignore_index=True)  # noqa: E731
        ds = [t.datasets for t in tables if t.datasets is not None]
        return RunTable(cat("info"), cat("metrics"), cat("params"), cat("tags"),
                        pd.concat(ds, ignore_index=True) if ds else None)


def fill_run_names(info: pd.DataFrame, tags: pd.DataFrame) -> None:
    """Runs without a stored name take their ``mlflow.runName`` tag, as MLflow's RunInfo does."""
    missing = info["run_name"].isna()
    if not missing.any():
        return
    named = tags[tags["key"] == "mlflow.runName"]
    names = dict(zip(named["run_id"], named["value"], strict=True))
    info.loc[missing, "run_name"] = info.loc[missing, "run_id"].map(names)
    info["run_name"] = info["run_name"].astype(object).where(info["run_name"].notna(), None)


def _when(ms):
    """One time as MLflow's search_runs makes it (None, or NaT under pandas 3, when missing)."""
    return pd.to_datetime(ms, unit="ms", utc=True)


def _time_column(ms: np.ndarray) -> pd.Series:
    """Epoch ms (NaN = missing) -> the column MLflow builds from a list of ``_when(v)``.

    The dtype is what pandas infers for such a list, found on a sample of two: it differs
    by pandas major (a column with no time at all is object/None under pandas 2 and
    datetime64[s]/NaT under pandas 3), so it is asked of the installed pandas, not assumed.
    """
    missing = np.isnan(ms)
    if missing.all():
        return pd.DataFrame({"t": [_when(None)] * len(ms)})["t"]
    sample = [_when(int(ms[~missing][0]))]
    if missing.any():
        sample.append(_when(None))
    return pd.Series(pd.to_datetime(ms, unit="ms", utc=True)).astype(pd.DataFrame({"t": sample})["t"].dtype)


def _wide(long: pd.DataFrame, run_ids: pd.Index, fill) -> tuple[list, np.ndarray]:
    """Long (run_id, key, value) -> (sorted keys, 2-D array keys x runs), fast with numpy.

    Only keys that at least one of ``run_ids`` has come back, as MLflow builds columns from
    the runs it returns.
    """
    cols = positions(long["run_id"], run_ids)
    mine = cols >= 0
    if not mine.any():
        return [], np.empty((0, len(run_ids)))
    codes, keys = pd.factorize(long["key"].to_numpy(dtype=object)[mine], sort=False)
    order = sorted(range(len(keys)), key=lambda i: str(keys[i]))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    dtype = np.float64 if fill is np.nan else object
    grid = np.full((len(keys), len(run_ids)), fill, dtype=dtype)
    grid[rank[codes], cols[mine]] = long["value"].to_numpy(dtype=dtype)[mine]
    return [keys[i] for i in order], grid


def _text_dtype():
    """The dtype pandas gives a column built from a list of str and None, as MLflow builds
    its param and tag columns (object under pandas 2; Arrow-backed ``str`` under pandas 3)."""
    return pd.Series(np.array(["a", None], dtype=object)).dtype


def _wide_arrow(long: pd.DataFrame, run_ids: pd.Index) -> list | None:
    """``_wide`` for text values held as Arrow strings, when pandas makes text columns
    Arrow-backed anyway: each key's column is gathered with pyarrow's ``take``, with no
    Python object per cell (1.7 million for the params and tags of 100,000 runs). None
    where that does not apply: ``_wide`` answers."""
    arr = _arrow(long["value"])
    dtype = _text_dtype()
    if arr is None or not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = positions(long["run_id"], run_ids)
    mine = np.flatnonzero(cols >= 0)
    if not len(mine):
        return []
    codes, keys = pd.factorize(long["key"].to_numpy(dtype=object)[mine], sort=False)
    by_key = np.argsort(codes, kind="stable")  # rows of a key in store order: the last wins
    bounds = np.searchsorted(codes[by_key], np.arange(len(keys) + 1))
    out = []
    for i in sorted(range(len(keys)), key=lambda i: str(keys[i])):
        rows = mine[by_key[bounds[i]:bounds[i + 1]]]
        pick = np.full(len(run_ids), -1, dtype=np.int64)
        pick[cols[rows]] = rows
        taken = pc.take(arr, pa.array(pick, mask=pick < 0))
        out.append((keys[i], pd.array(taken, dtype=dtype)))
    return out


def mlflow_frame(table: RunTable, run_ids: list[str], attributes: bool = False) -> pd.DataFrame:
    """Build ``mlflow.search_runs()``'s frame for ``run_ids`` (in that order).

    Metric, param and tag columns appear only for keys that at least one of these runs has,
    as in MLflow; they are sorted by name (MLflow's own order is a set's order).
    """
    info = table.info.set_index("run_id").reindex(run_ids)
    data: dict[str, object] = {
        "run_id": list(run_ids),
        "experiment_id": info["experiment_id"].tolist(),
        "status": info["status"].tolist(),
        "artifact_uri": info["artifact_uri"].tolist(),
    }
    if not run_ids:
        data.update(start_time=[], end_time=[])
        return pd.DataFrame(data)
    data["start_time"] = _time_column(info["start_time"].to_numpy(dtype="float64"))
    data["end_time"] = _time_column(info["end_time"].to_numpy(dtype="float64"))
    idx = pd.Index(run_ids)
    # A metric whose latest value is NaN still makes a column: presence comes from the long
    # form, not from the values.
    for prefix, long, fill in (("metrics.", table.metrics, np.nan), ("params.", table.params, None),
                               ("tags.", table.tags, None)):
        columns = _wide_arrow(long, idx) if fill is None else None
        if columns is None:
            keys, grid = _wide(long, idx, fill)
            columns = zip(keys, grid, strict=True)
        for key, column in columns:
            data[prefix + key] = column
    frame = pd.DataFrame(data)
    if attributes:
        for name in EXTRA_COLUMNS:
            frame[name] = info[name].tolist()
    return frame
