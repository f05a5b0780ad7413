"""The Store contract.

Every backend reads into the same shapes (:class:`~mlscope.core.table.RunTable` for runs,
plain frames for experiments, history and registry); the searching and the conversion to
MLflow's frame happen once, here, for all of them. What differs between the backends is
declared on each class (see :class:`Store`), never found out by asking which kind it is.
``open_store()`` lives in :mod:`mlscope.core.opening` (importing the backends from here
would be a circle); ``from mlscope.core.store import open_store`` still works.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd

from .errors import StoreError
from .locate import Location
from .search import select
from .table import RunTable, mlflow_frame

VIEWS = ("active", "deleted", "all")
EXPERIMENT_COLUMNS = [
    "experiment_id", "name", "lifecycle_stage", "artifact_location", "creation_time",
    "last_update_time",
]
LOGGED_MODEL_COLUMNS = ["model_id", "experiment_id", "name", "source_run_id", "status", "model_type",
                        "artifact_location", "creation_timestamp", "last_updated_timestamp",
                        "lifecycle_stage"]
LOGGED_MODEL_STATUS = {0: "UNSPECIFIED", 1: "PENDING", 2: "READY", 3: "FAILED"}


@dataclass(frozen=True)
class Problem:
    """Something that could not be read, in words, with the path or URL it concerns."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_view(view: str) -> str:
    view = (view or "active").lower()
    if view not in VIEWS:
        raise StoreError(f"Unknown view {view!r}: use 'active', 'deleted' or 'all'.")
    return view


def in_view(frame: pd.DataFrame, view: str) -> pd.DataFrame:
    """The rows of ``frame`` whose lifecycle_stage belongs to ``view``."""
    if view == "all":
        return frame
    return frame[(frame["lifecycle_stage"] == "deleted").to_numpy(dtype=bool) == (view == "deleted")]


def empty_history() -> pd.DataFrame:
    return history_frame([], [], [], [], [])


def history_frame(run_ids, keys, steps, timestamps, values) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": pd.Series(run_ids, dtype=object),
            "key": pd.Series(keys, dtype=object),
            "step": pd.Series(steps, dtype="int64"),
            "timestamp": pd.Series(timestamps, dtype="int64"),
            "value": pd.Series(values, dtype="float64"),
        }
    )


class Store:
    """A read-only view of one MLflow tracking store.

    Backends implement ``_experiments_all()``, ``_run_table()`` and ``metric_history()``;
    the rest (views, filtering, ordering, MLflow's frame) is shared. What differs between
    them is declared here and set by each backend, so callers ask the store what it can do:

    - ``location``: the :class:`~mlscope.core.locate.Location` the store was opened from
      (``.path``, ``.experiment_id`` and ``.run_id`` to select, ``.note``, ``.alternatives``);
      set in the constructor, never attached afterwards.
    - ``streams_partial``: ``runs(partial=...)`` hands over the runs read so far during a
      long read (mlruns folders, servers); elsewhere ``partial`` is never called.
    - ``cheap_counts``: ``experiment_stats()`` costs little next to reading the runs once
      (False on a server, where it would page through every run).
    - ``can_write`` and ``write_uri``: the tracking URI MLflow's own client must be given to
      write to this store (the user's database, not a snapshot mlscope reads; the mlruns
      folder; the server). None, with the reason in ``read_only_note``, where MLflow must
      not write yet (an older schema it would migrate first). It may hold a database
      password: pass it to MLflow, never show or log it.
    - ``kind``: "file", "sql" or "rest", a label for people; nothing branches on it.
    """

    kind = "?"
    streams_partial = False
    cheap_counts = True
    read_only_note = ""  # why MLflow must not write here, e.g. "run `mlflow db upgrade` first"

    def __init__(self, uri: str, location: Location):
        self.uri = uri
        self.location = location
        self.problems: list[Problem] = []
        self._lock = threading.RLock()
        self._tail_counts: dict[tuple, int] = {}  # metric_tail(): points seen per (run, key)

    @property
    def write_uri(self) -> str | None:
        """The URI for MLflow's client to write to this store, None where it must not."""
        return None

    @property
    def can_write(self) -> bool:
        return self.write_uri is not None

    # -- what backends provide -------------------------------------------------------------
    def _experiments_all(self) -> pd.DataFrame:
        """Every experiment, active and deleted: EXPERIMENT_COLUMNS + tags.*."""
        raise NotImplementedError

    def _run_table(self, experiment_ids: list[str] | None, progress=None, cancel=None,
                   partial=None) -> RunTable:
        """Every run (any lifecycle) of these experiments (None: of all).

        ``progress(done, total)`` reports runs read; ``cancel()`` returning True stops the
        read with :class:`~mlscope.core.errors.Cancelled`; ``partial(table)`` (given only
        where ``streams_partial``) gets the runs read so far.
        """
        raise NotImplementedError

    def metric_history(self, run_ids, keys=None) -> pd.DataFrame:
        """Every logged point: run_id, key, step, timestamp (ms), value; ``keys=None``: all keys."""
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------
    def problem(self, where: str, message: str) -> None:
        """Record what could not be read, once (reads repeat; the list should not)."""
        with self._lock:
            item = Problem(str(where), message)
            if item not in self.problems:
                self.problems.append(item)

    def experiments(self, view: str = "active") -> pd.DataFrame:
        view = check_view(view)
        return in_view(self._experiments_all(), view).reset_index(drop=True)

    def _experiment_ids(self, experiment_ids) -> list[str] | None:
        if experiment_ids is None:
            return None
        if isinstance(experiment_ids, (str, int)):
            experiment_ids = [experiment_ids]
        return [str(e) for e in experiment_ids]

    def run_table(self, experiment_ids=None, view: str = "active", progress=None,
                  cancel=None, partial=None) -> RunTable:
        """The runs of these experiments in ``view``, in long form (before any filter).

        ``partial(table)``, where the store ``streams_partial``, gets the runs read so far
        while a long read goes on."""
        view = check_view(view)
        ids = self._experiment_ids(experiment_ids)
        if partial is not None and self.streams_partial:
            table = self._run_table(ids, progress=progress, cancel=cancel,
                                    partial=lambda t: partial(self._scope(t, ids, view)))
        else:
            table = self._run_table(ids, progress=progress, cancel=cancel)
        return self._scope(table, ids, view)

    @staticmethod
    def _scope(table: RunTable, ids, view: str) -> RunTable:
        info = in_view(table.info, view)
        if ids is not None:
            info = info[info["experiment_id"].isin(ids)]
        return table if len(info) == len(table.info) else table.subset(info["run_id"])

    def runs(
        self,
        experiment_ids=None,
        filter_string: str = "",
        order_by: list[str] | None = None,
        view: str = "active",
        *,
        attributes: bool = False,
        progress=None,
        cancel=None,
        partial=None,
    ) -> pd.DataFrame:
        """``mlflow.search_runs()``'s frame. ``experiment_ids=None``: every experiment.

        ``attributes=True`` appends run_name, user_id and lifecycle_stage (not in MLflow's frame).
        ``partial(frame)`` gets the frame of the runs read so far during a long read.
        """
        if isinstance(order_by, str):
            order_by = [order_by]
        return self._search_runs(self._experiment_ids(experiment_ids), filter_string or "",
                                 list(order_by or []), check_view(view), attributes, progress,
                                 cancel, partial)

    def _search_runs(self, experiment_ids, filter_string, order_by, view, attributes, progress,
                     cancel, partial) -> pd.DataFrame:
        """``runs()`` with its arguments checked: MLflow's search over the run table, here
        (a server overrides it to let the server search)."""

        def frame(table):
            return mlflow_frame(table, select(table, filter_string, order_by), attributes)

        table = self.run_table(experiment_ids, view, progress, cancel,
                               partial and (lambda t: partial(frame(t))))
        return frame(table)

    def metric_tail(self, run_ids, keys=None) -> pd.DataFrame:
        """Points logged since the last ``metric_tail`` call for the same runs and keys (the
        first call returns every point): how charts follow RUNNING runs without re-reading.

        This generic version slices a full read by the count already seen; backends that can
        read only the new part (the end of a metric file, rows past a count) override it.
        """
        hist = self.metric_history(run_ids, keys)
        seen = self._tail_counts
        parts = []
        for (run_id, key), group in hist.groupby(["run_id", "key"], sort=False):
            n = seen.get((run_id, key), 0)
            if len(group) < n:  # the history shrank (rewritten): start over
                n = 0
            parts.append(group.iloc[n:])
            seen[(run_id, key)] = len(group)
        return pd.concat(parts, ignore_index=True) if parts else empty_history()

    def change_token(self, experiment_ids) -> object | None:
        """Something that changes whenever MLflow writes to these experiments, read cheaply:
        Watch asks for it every few seconds and reads the runs again only when it moves.
        Here, file times (the database and its WAL, or the mlruns root and experiment
        folders); backends without files answer with one small query or request. None: unknown."""
        from .watch import file_signature

        return file_signature(self.location, [str(e) for e in experiment_ids])

    def refresh(self) -> None:
        """Forget what was read, so the next call sees the store as it is now (cheap on
        mlruns folders: unchanged runs come back from the signature cache)."""
        with self._lock:
            self._forget()
            self.problems.clear()  # what is still wrong is found again by the next read

    def _forget(self) -> None:
        pass

    def experiment_stats(self, view: str = "active") -> pd.DataFrame:
        """Per experiment: runs (count in ``view``) and last_activity (epoch ms, NaN if none)."""
        info = self.run_table(None, view).info
        last = info[["start_time", "end_time"]].max(axis=1)
        grouped = last.groupby(info["experiment_id"])
        return pd.DataFrame({"experiment_id": grouped.size().index.astype(str),
                             "runs": grouped.size().to_numpy(dtype="int64"),
                             "last_activity": grouped.max().to_numpy(dtype="float64")})

    def _one_run(self, run_id: str) -> RunTable:
        """The table of one run (backends with a cheaper road than the whole table override it)."""
        return self._run_table(None).subset([run_id])

    def run(self, run_id: str) -> dict:
        """One run in full: info, params, latest metrics, tags, datasets and logged models."""
        table = self._one_run(run_id)
        if table.info.empty:
            raise StoreError(f"Run {run_id} is not in {self.uri}.", self.uri)
        return {
            "info": table.info.iloc[0].to_dict(),
            "params": dict(zip(table.params["key"], table.params["value"], strict=True)),
            "metrics": {
                k: {"value": v, "step": int(s), "timestamp": int(t)}
                for k, v, s, t in zip(table.metrics["key"], table.metrics["value"],
                                      table.metrics["step"], table.metrics["timestamp"], strict=True)
            },
            "tags": dict(zip(table.tags["key"], table.tags["value"], strict=True)),
            "inputs": _inputs(table),
            "logged_models": self.logged_models(view="all").query("source_run_id == @run_id")
            .to_dict("records"),
        }

    def logged_models(self, experiment_ids=None, view: str = "active") -> pd.DataFrame:
        """MLflow 3 LoggedModels: LOGGED_MODEL_COLUMNS (empty where the store has none)."""
        view = check_view(view)
        frame = in_view(self._logged_models_all(), view)
        ids = self._experiment_ids(experiment_ids)
        if ids is not None:
            frame = frame[frame["experiment_id"].isin(ids)]
        return frame.reset_index(drop=True)

    def _logged_models_all(self) -> pd.DataFrame:
        return pd.DataFrame(columns=LOGGED_MODEL_COLUMNS)

    def registered_models(self) -> pd.DataFrame:
        """The model registry's models (:data:`~mlscope.core.registry.schema.MODEL_COLUMNS`),
        prompts left out; empty where the store has no registry."""
        from .registry.schema import models_frame

        return models_frame()

    def model_versions(self, name: str | None = None) -> pd.DataFrame:
        """Versions of every model, or of ``name``
        (:data:`~mlscope.core.registry.schema.VERSION_COLUMNS`), sorted by name and version."""
        from .registry.schema import versions_frame

        return versions_frame()

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.uri}>"


def _inputs(table: RunTable) -> list[dict]:
    if table.datasets is None or table.datasets.empty:
        return []
    return table.datasets.drop(columns=["run_id"]).to_dict("records")


def __getattr__(name):
    """``open_store`` from here, as before it moved to :mod:`mlscope.core.opening`."""
    if name == "open_store":
        from .opening import open_store

        return open_store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
