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


def _value_set(keys, type_, dedupe: bool = False):
    """keys as an Arrow array of ``type_``, without a Python object a value where they are
    Arrow strings already (a run-id column); ``dedupe``: repeats dropped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(keys, (pd.Series, pd.Index)) and _arrow(pd.Series(keys, copy=False)) is not None:
        keys = _arrow(pd.Series(keys, copy=False))
    if not isinstance(keys, (pa.Array, pa.ChunkedArray)):
        keys = pa.array(np.asarray(list(keys), dtype=object), type=type_)
    if keys.type != type_:
        keys = keys.cast(type_)
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    return pc.unique(keys) if dedupe else keys


def _index_in(arr, value_set) -> np.ndarray:
    """``pc.index_in`` as int64, -1 where absent, looked up once per run of equal values:
    the rows of a run lie together in every store (MLflow writes a run's params, tags and
    metrics in batches; the readers read a run at a time), so 1 million rows of 100,000
    runs hash 100,000 strings instead of a million."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(arr)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    change = pc.not_equal(arr[1:], arr[:-1]).fill_null(True).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate([[True], change]))
    if len(starts) > n // 2:  # not grouped: one lookup a row
        found = pc.index_in(arr, value_set=value_set)
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    heads = pc.index_in(arr.take(pa.array(starts)), value_set=value_set)
    heads = heads.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.repeat(heads, np.diff(np.append(starts, n)))


def positions(col: pd.Series, keys) -> np.ndarray:
    """Where each value of col stands in keys (unique; a list, a pandas Index or an Arrow
    array), -1 where absent: what ``pd.Index(keys).get_indexer(col)`` gives, in Arrow's C++
    on Arrow strings (pandas' path there makes a Python object of every value: 0.2 s a
    million rows)."""
    arr = _arrow(col)
    if arr is None:
        return pd.Index(keys).get_indexer(col)
    return _index_in(arr, _value_set(keys, arr.type))


def isin(col: pd.Series, values) -> np.ndarray:
    """``col.isin(values)`` as a bool array; on Arrow strings pandas' own ``isin`` makes a
    pyarrow scalar of every wanted value (1 s for 100,000 run ids), pyarrow's does not."""
    arr = _arrow(col)
    if arr is None:
        return col.isin(values).to_numpy(bool)
    return _index_in(arr, _value_set(values, arr.type, dedupe=True)) >= 0


def _codes(col: pd.Series) -> tuple[np.ndarray, list]:
    """``pd.factorize(col)`` (codes, uniques), with Arrow's dictionary encoding on Arrow
    strings: no Python object a row (0.3 s for the keys of a million params)."""
    arr = _arrow(col)
    if arr is None:
        codes, keys = pd.factorize(col.to_numpy(dtype=object), sort=False)
        return codes, list(keys)
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = pc.dictionary_encode(arr, null_encoding="encode")
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()


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


def _keyed(long: pd.DataFrame, run_ids) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """The rows of ``long`` that belong to ``run_ids``: (rows, their run's position in
    run_ids, their key's rank among the keys present, those keys sorted by name)."""
    cols = positions(long["run_id"], run_ids)
    mine = np.flatnonzero(cols >= 0)
    if not len(mine):
        return mine, cols[mine], mine, []
    codes, keys = _codes(long["key"])
    codes = codes[mine]
    present = np.flatnonzero(np.bincount(codes, minlength=len(keys)))
    order = sorted(present, key=lambda i: str(keys[i]))
    rank = np.full(len(keys), -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return mine, cols[mine], rank[codes], [keys[i] for i in order]


def _wide(long: pd.DataFrame, run_ids, fill) -> tuple[list, np.ndarray]:
    """Long (run_id, key, value) -> (sorted keys, 2-D array keys x runs), fast with numpy.

    Only keys that at least one of ``run_ids`` has come back, as MLflow builds columns from
    the runs it returns.
    """
    mine, cols, ranks, keys = _keyed(long, run_ids)
    if not keys:
        return [], np.empty((0, len(run_ids)))
    dtype = np.float64 if fill is np.nan else object
    grid = np.full((len(keys), len(run_ids)), fill, dtype=dtype)
    grid[ranks, cols] = long["value"].to_numpy(dtype=dtype)[mine]
    return keys, grid


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

    mine, cols, ranks, keys = _keyed(long, run_ids)
    if not keys:
        return []
    by_key = np.argsort(ranks.astype(np.int16 if len(keys) < 2**15 else np.int64), kind="stable")
    bounds = np.searchsorted(ranks[by_key], np.arange(len(keys) + 1))
    out = []
    for i, key in enumerate(keys):  # rows of a key in store order: the last wins
        seg = by_key[bounds[i]:bounds[i + 1]]
        pick = np.full(len(run_ids), -1, dtype=np.int64)
        pick[cols[seg]] = mine[seg]
        taken = pc.take(arr, pa.array(pick, mask=pick < 0))
        out.append((key, pd.array(taken, dtype=dtype)))
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
    # Arrow strings where the long tables hold them: looked up without a Python object each
    idx = pd.Index(pd.array(list(run_ids), dtype=_text_dtype()))
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
