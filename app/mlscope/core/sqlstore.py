"""Reader of MLflow's SQL schema, read-only: SQLite files through sqlite3 (bulk reads through
ADBC, in Arrow), PostgreSQL and MySQL through SQLAlchemy Core.

MLflow's own client migrates an older database in place the moment it opens it and cannot
open one read-only. We read whatever schema is there (MLflow 1.x on), table by table and
column by column as reflected, and never write: SQLite files are opened with
``mode=ro``; a database with a WAL or a hot journal beside it is read from a private
snapshot (file + sidecars copied to a temp folder), since even a read-only reader would
otherwise have to roll the journal back in the user's folder.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from .errors import Cancelled, StoreCorrupt, StoreError, StoreLocked, StoreNotFound, StorePermission
from .locate import Location
from .search import select
from .secrets import redact
from .store import (
    EXPERIMENT_COLUMNS,
    LOGGED_MODEL_COLUMNS,
    LOGGED_MODEL_STATUS,
    Store,
    check_view,
    empty_history,
    history_frame,
    in_view,
)
from .table import (
    EXTRA_COLUMNS,
    INFO_COLUMNS,
    RunTable,
    empty_long,
    fill_run_names,
    info_frame,
    mlflow_frame,
)

SIDECARS = ("-wal", "-journal", "-shm")
USED_TABLES = {
    "alembic_version", "experiments", "experiment_tags", "runs", "latest_metrics", "metrics", "params",
    "tags", "inputs", "input_tags", "datasets", "registered_models", "registered_model_tags",
    "model_versions", "model_version_tags", "registered_model_aliases", "logged_models",
}
SQLITE_BUSY_TIMEOUT_S = 5.0
# One query per chunk of run ids: SQLite scans a key's covering index once per query.
IN_CHUNK = 30000 if sqlite3.sqlite_version_info >= (3, 32) else 900
FIRST_ROWS = 500  # the runs streamed first: a screenful and then some
TIMES = ("start_time", "end_time")


def _sqlite_path(uri: str) -> Path:
    raw = uri.split("://", 1)[-1]
    return Path(raw[1:] if raw.startswith("/") else raw)


def _is_wal(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18] == 2 and header[19] == 2


def _explain(exc: Exception, where: str) -> StoreError:
    text = str(getattr(exc, "orig", exc) or exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return StoreLocked(f"{where} is locked by another program (a writer); try again in a moment.", where)
    if "not a database" in low or "malformed" in low or "file is encrypted" in low:
        return StoreCorrupt(f"{where} is not a readable SQLite database ({text}).", where)
    if "unable to open" in low or "permission" in low or "readonly" in low:
        return StorePermission(f"Cannot open {where}: {text}.", where)
    if "password" in low or "authentication" in low or "access denied" in low:
        return StoreError(f"{where} refused the credentials: {text}", where)
    if "could not connect" in low or "connection refused" in low or "timeout" in low:
        return StoreError(f"Cannot reach the database at {where}: {text}", where)
    return StoreError(f"Cannot read {where}: {text}", where)


_KEY = re.compile(r"\bkey\b")


def _mysql_driver(uri: str) -> str:
    """``mysql://`` means MySQLdb to SQLAlchemy; where only PyMySQL (mlscope[mysql]) is
    installed, it reads the same database."""
    import sqlalchemy as sa

    url = sa.engine.make_url(uri)
    if url.drivername == "mysql":
        try:
            import MySQLdb  # noqa: F401
        except ImportError:
            try:
                import pymysql  # noqa: F401

                return url.set(drivername="mysql+pymysql").render_as_string(hide_password=False)
            except ImportError:
                pass
    return uri


class SqlStore(Store):
    kind = "sql"

    @property
    def streams_partial(self) -> bool:
        """Before the first read of a SQLite file (the only long one: later reads come from
        the table kept in memory), ``partial`` gets the newest screenful of runs first. Once
        the table is kept, False: callers then pick runs from that one table directly."""
        return self._tables_cache is None and self.path is not None

    def __init__(self, uri: str, location: Location | None = None):
        super().__init__(uri, location or Location(
            "sql", uri, _sqlite_path(uri).resolve() if uri.startswith("sqlite") else None))
        self.display = redact(uri)  # the URL in messages, without its password
        self.snapshot_dir: Path | None = None
        self._adbc_uri: str | None = None  # SQLite: bulk reads through ADBC (Arrow) when installed
        self._tables_cache: RunTable | None = None
        self.engine = None  # SQLAlchemy's, for database servers; SQLite: sqlite3 itself
        self._connect = None  # SQLite: a new read-only sqlite3 connection
        self._exps: pd.DataFrame | None = None
        self._indexed: bool | None = None  # run_uuid indexes: the first screen can be read alone
        if uri.startswith("sqlite"):
            self.path = _sqlite_path(uri).resolve()
            self.display = str(self.path)
            self._connect = self._open_sqlite()
        else:
            import sqlalchemy as sa

            self.path = None
            args = {"connect_timeout": 10} if uri.startswith(("postgres", "mysql")) else {}
            if uri.startswith("postgres"):
                args["options"] = "-c default_transaction_read_only=on"
            elif uri.startswith("mysql"):
                args["init_command"] = "SET SESSION TRANSACTION READ ONLY"
                uri = _mysql_driver(uri)
            try:
                self.engine = sa.create_engine(uri, connect_args=args, pool_pre_ping=True)
            except ModuleNotFoundError as exc:
                extra = "postgres" if uri.startswith("postgres") else "mysql"
                raise StoreError(f"Cannot open {self.display}: its database driver ({exc.name}) is not "
                                 f"installed; pip install 'mlscope[{extra}]'.", self.display) from exc
            except Exception as exc:  # a malformed URL
                raise StoreError(f"Cannot open {self.display}: {exc}", self.display) from exc
        try:
            self.columns = self._reflect()
            self.schema_version = None
            if "alembic_version" in self.columns:
                rows = self.query("SELECT version_num FROM alembic_version")
                self.schema_version = rows[0][0] if rows else None
        except StoreError:
            self.close()  # a snapshot taken for it goes too
            raise
        except Exception as exc:
            self.close()
            raise _explain(exc, self.display) from exc
        missing = {"experiments", "runs"} - set(self.columns)
        if missing:
            rolled_back = self.snapshot_dir is not None and not self.columns
            self.close()
            what = "no tables at all" if not self.columns else "only the tables " + ", ".join(sorted(self.columns))
            raise StoreCorrupt(
                f"{self.display} is not an MLflow tracking database: it has {what}"
                + (" once its leftover journal is rolled back (a half-initialised database)"
                   if rolled_back else "") + ".",
                self.display,
            )
        self.read_only_note = self._schema_note()

    # -- connection ---------------------------------------------------------------------------
    def _reflect(self) -> dict[str, set[str]]:
        """Table -> its columns (those mlscope reads; empty for the others)."""
        if self._connect is None:
            import sqlalchemy as sa

            with self.engine.connect() as conn:
                insp = sa.inspect(conn)
                return {t: ({c["name"] for c in insp.get_columns(t)} if t in USED_TABLES else set())
                        for t in insp.get_table_names()}
        tables = [r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%'")]
        return {t: ({r[1] for r in self.query(f"PRAGMA table_info(\"{t}\")")} if t in USED_TABLES else set())
                for t in tables}

    def _open_sqlite(self):
        path = self.path
        if not path.is_file():
            raise StoreNotFound(f"{path} does not exist.", str(path))
        if any(Path(str(path) + s).exists() for s in ("-wal", "-journal")) or _is_wal(path):
            target = self._snapshot(path)
            mode = "rw"
        else:
            target, mode = path, "ro"
        uri = f"file:{quote(str(target))}?mode={mode}"
        self._adbc_uri = uri

        def connect():
            conn = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False)
            if mode == "ro":
                conn.execute("PRAGMA query_only = 1")
            return conn

        # A connection per query: sqlite3 connections must not be shared or closed across
        # threads. sqlite3 itself, not SQLAlchemy: its import (a third of pandas') stays off
        # the way from a double-click to the table.
        return connect

    def _snapshot(self, path: Path) -> Path:
        """Copy the database and its sidecars where SQLite may recover them without touching ours."""
        self.snapshot_dir = Path(tempfile.mkdtemp(prefix="mlscope-snapshot-"))
        target = self.snapshot_dir / path.name
        try:
            shutil.copyfile(path, target)
            for suffix in SIDECARS:
                side = Path(str(path) + suffix)
                if side.exists():
                    shutil.copyfile(side, str(target) + suffix)
        except PermissionError as exc:
            raise StorePermission(f"Permission denied reading {path}.", str(path)) from exc
        except OSError as exc:
            raise StoreError(f"Cannot read {path}: {exc}", str(path)) from exc
        # Recover the copied WAL into the copy now, on one connection, and leave WAL mode: the
        # readers that follow open it side by side, and connections opening a copied WAL at
        # once could rebuild its shared-memory file under each other (a bus error, seen in CI).
        try:
            conn = sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_S)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("PRAGMA journal_mode=DELETE")
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            pass  # not a database, or damaged: opening it says so in words
        return target

    def close(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.dispose()
        if self.snapshot_dir is not None:
            shutil.rmtree(self.snapshot_dir, ignore_errors=True)
            self.snapshot_dir = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _dialect(self, sql: str) -> str:
        """Our SQL, written once, in this database's dialect: the ``key`` column quoted (MySQL
        reserves the word) and ``?`` parameters in the driver's style."""
        if self.engine is None:
            return _KEY.sub('"key"', sql)
        sql = _KEY.sub(self.engine.dialect.identifier_preparer.quote_identifier("key"), sql)
        if self.engine.dialect.paramstyle in ("format", "pyformat"):
            sql = sql.replace("?", "%s")
        return sql

    # -- the public read surface (the registry readers use it) ------------------------------
    def query(self, sql: str, params=None) -> list[tuple]:
        """Rows of a read-only query, as plain DB-API tuples (SQLAlchemy's Row objects cost
        more than the query on big tables); ``key`` and ``?`` are written for any dialect."""
        sql = self._dialect(sql)
        try:
            raw = self.engine.raw_connection() if self._connect is None else self._connect()
            try:
                cur = raw.cursor()
                cur.execute(sql, params or ())
                return cur.fetchall()
            finally:
                raw.close()
        except Exception as exc:
            raise _explain(exc, self.display) from exc

    def _arrow_table(self, sql: str, params=()):
        """A bulk read as an Arrow table through ADBC (SQLite only), or None where ADBC is not
        installed or cannot do it (a type it cannot infer, a lock): the DB-API path then
        answers, and explains failures."""
        if self._adbc_uri is None:
            return None
        try:
            import adbc_driver_sqlite.dbapi as adbc

            with adbc.connect(self._adbc_uri) as conn, conn.cursor() as cur:
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
                cur.execute(self._dialect(sql), params or None)
                return cur.fetch_arrow_table()
        except Exception:  # noqa: BLE001 - the DB-API path handles and explains it
            return None

    def _frame(self, sql: str, names: list[str], params=()) -> pd.DataFrame:
        """A bulk read as a frame. On SQLite, ADBC hands the rows over as Arrow arrays, without
        a Python object per cell (3x faster than the DB-API)."""
        table = self._arrow_table(sql, params)
        if table is not None:  # one chunk a column: later Arrow lookups use it without a copy
            frame = table.combine_chunks().to_pandas()
            frame.columns = names
            return frame
        return _object_frame(self.query(sql, params), names)

    def change_token(self, experiment_ids) -> object | None:
        """A file's times where there is a file; on a database server one query: counts and
        latest times of the runs, and the latest metric time of the RUNNING ones."""
        if self.location.path is not None:
            return super().change_token(experiment_ids)
        ids = [int(e) for e in experiment_ids if str(e).lstrip("-").isdigit()]
        if not ids:
            return ()
        marks = ", ".join("?" * len(ids))
        runs = self.query(
            "SELECT COUNT(*), MAX(start_time), MAX(end_time), "
            "SUM(CASE WHEN status = 'RUNNING' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN lifecycle_stage = 'deleted' THEN 1 ELSE 0 END) "
            f"FROM runs WHERE experiment_id IN ({marks})", ids)
        metrics = self.query(
            "SELECT MAX(timestamp), COUNT(*) FROM latest_metrics WHERE run_uuid IN "
            f"(SELECT run_uuid FROM runs WHERE status = 'RUNNING' AND experiment_id IN ({marks}))",
            ids) if self.has("latest_metrics") else []
        return tuple(runs) + tuple(metrics)

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether this database's schema has the table (and column): older ones lack some."""
        cols = self.columns.get(table)
        return cols is not None and (column is None or column in cols)

    def column(self, table: str, column: str, alias: str | None = None) -> str:
        """The column for a SELECT, or NULL under its name where this schema lacks it."""
        return column if self.has(table, column) else f"NULL AS {alias or column}"

    @property
    def write_uri(self) -> str | None:
        """The user's database (never the snapshot read here), None while MLflow would have to
        migrate its schema first (``read_only_note`` says so)."""
        if self.read_only_note:
            return None
        return f"sqlite:///{self.path.as_posix()}" if self.path is not None else self.uri

    def _schema_note(self) -> str:
        head = mlflow_schema_head()
        if head and self.schema_version != head:
            return (f"This database uses an older MLflow schema ({self.schema_version or 'none'}); "
                    "MLflow would migrate it when it opens it: run `mlflow db upgrade` on a "
                    "backup before writing to it with MLflow.")
        return ""

    # -- reads ----------------------------------------------------------------------------------
    def _experiments_all(self) -> pd.DataFrame:
        with self._lock:
            if self._exps is not None:
                return self._exps
            cols = ", ".join([
                "experiment_id", "name", self.column("experiments", "lifecycle_stage"),
                self.column("experiments", "artifact_location"),
                self.column("experiments", "creation_time"),
                self.column("experiments", "last_update_time"),
            ])
            rows = self.query(f"SELECT {cols} FROM experiments")
            frame = pd.DataFrame(rows, columns=EXPERIMENT_COLUMNS)
            frame["experiment_id"] = frame["experiment_id"].astype(str).astype(object)
            frame["lifecycle_stage"] = frame["lifecycle_stage"].fillna("active")
            for col in ("creation_time", "last_update_time"):
                frame[col] = pd.array([None if pd.isna(v) else int(v) for v in frame[col]], dtype="Int64")
            if self.has("experiment_tags"):
                for key, value, exp_id in self.query("SELECT key, value, experiment_id FROM experiment_tags"):
                    col = "tags." + key
                    if col not in frame:
                        frame[col] = None
                    frame.loc[frame["experiment_id"] == str(exp_id), col] = value
            self._exps = frame
            return frame

    def _run_table(self, experiment_ids, progress=None, cancel=None, partial=None) -> RunTable:
        table = self._whole(experiment_ids, progress, cancel, partial)
        if experiment_ids is None:
            return table
        keep = table.info["experiment_id"].isin(experiment_ids).to_numpy(bool)
        if keep.all():  # every experiment asked for (the app's "all"): no copy to make
            return table
        return table.subset(table.info.loc[keep, "run_id"])

    def _whole(self, experiment_ids=None, progress=None, cancel=None, partial=None) -> RunTable:
        """The table of every run, read once and kept; on the first read, ``partial`` gets
        the newest screenful of ``experiment_ids`` first, while the rest is read."""
        with self._lock:
            if self._tables_cache is None:
                if partial is not None:
                    first = self._first_rows(experiment_ids)
                    if first is not None:
                        partial(first)
                    if cancel is not None and cancel():
                        raise Cancelled()
                self._tables_cache = self._read_all(progress)
            return self._tables_cache

    def _search_runs(self, experiment_ids, filter_string, order_by, view, attributes, progress,
                     cancel, partial) -> pd.DataFrame:
        """Store's search, with the experiments and the view applied to the runs' info alone:
        MLflow's search and frame read the long tables only for the runs info lists, so the
        million rows of params and tags need no copy without the deleted runs (0.35 s of
        100,000 runs' read)."""

        def frame(table):
            info = in_view(table.info, view)
            if experiment_ids is not None:
                info = info[info["experiment_id"].isin(experiment_ids).to_numpy(bool)]
            if len(info) < len(table.info):
                table = RunTable(info, table.metrics, table.params, table.tags, table.datasets)
            return mlflow_frame(table, select(table, filter_string, order_by), attributes)

        stream = partial and self.streams_partial and (lambda t: partial(frame(t)))
        return frame(self._whole(experiment_ids, progress, cancel, stream or None))

    def _info_sql(self) -> str:
        return ", ".join([
            "run_uuid", "experiment_id", self.column("runs", "status"), self.column("runs", "artifact_uri"),
            self.column("runs", "start_time"), self.column("runs", "end_time"), self.column("runs", "name"),
            self.column("runs", "user_id"), self.column("runs", "lifecycle_stage"),
        ])

    def _info(self, where: str = "", params=()) -> pd.DataFrame:
        """RunTable.info of the runs ``where`` selects (all of them by default)."""
        sql = f"SELECT {self._info_sql()} FROM runs{where}"
        arrow = self._arrow_table(sql, params)
        if arrow is None:
            info = info_frame(self.query(sql, params))
            info["experiment_id"] = info["experiment_id"].astype(str).astype(object)
        else:  # info_frame's frame from the Arrow columns: no DB-API tuple a run
            import pyarrow as pa

            info = pd.DataFrame({
                name: (col.to_numpy(zero_copy_only=False).astype("float64") if name in TIMES
                       else pd.Series((col.cast(pa.string()) if name == "experiment_id" else col)
                                      .to_numpy(zero_copy_only=False), dtype=object))
                for name, col in zip(INFO_COLUMNS + EXTRA_COLUMNS, arrow.columns, strict=True)})
        info["lifecycle_stage"] = info["lifecycle_stage"].fillna("active")
        info["run_name"] = info["run_name"].where(info["run_name"].notna() & (info["run_name"] != ""), None)
        return info

    def _read_all(self, progress=None) -> RunTable:
        """Every run. The params (the biggest table) are read on a thread of their own while
        this one reads the rest: SQLite's row decoding runs outside the GIL, so two cores
        share the read. Not more at once: on two cores, the window's thread must keep a
        share to paint the rows streamed first (tests/ui/test_sql_stream_loop.py)."""
        with ThreadPoolExecutor(1, thread_name_prefix="mlscope-sql") as pool:
            params = pool.submit(self._long, "params")
            info = self._info()
            if progress:
                progress(0, len(info))
            tags, metrics, datasets = self._long("tags"), self._latest_metrics(), self._datasets()
            table = RunTable(info, metrics, params.result(), tags, datasets)
        fill_run_names(table.info, table.tags)
        if progress:
            progress(len(info), len(info))
        return table

    def _first_rows(self, experiment_ids, n: int | None = None) -> RunTable | None:
        """The newest ``n`` runs of these experiments, in MLflow's default order (start time
        descending, then run id), read through the run_uuid indexes: the table's first
        screen long before the whole store is read. None where that would not be quick
        (no such indexes: an old schema would scan every table twice)."""
        if not self._run_indexes():
            return None
        where, args = "", ()
        if experiment_ids is not None:
            ids = [int(e) for e in experiment_ids if str(e).lstrip("-").isdigit()]
            if not ids:
                return None
            where, args = f" WHERE experiment_id IN ({', '.join('?' * len(ids))})", tuple(ids)
        # The newest rows picked by their rowids first: SQLite's sort then carries two columns
        # a run, not nine (0.07 s against 0.13 s for 100,000 runs).
        order = "ORDER BY COALESCE(start_time, 0) DESC, run_uuid"
        info = self._info(f" WHERE rowid IN (SELECT rowid FROM runs{where} {order} "
                          f"LIMIT {int(n or FIRST_ROWS)}) {order}", args)
        run_ids = tuple(info["run_id"])
        if not run_ids:
            return RunTable(info)
        within = f" WHERE run_uuid IN ({', '.join('?' * len(run_ids))})"
        metrics = self._latest_metrics(within, run_ids)
        params, tags = self._long("params", within, run_ids), self._long("tags", within, run_ids)
        fill_run_names(info, tags)
        return RunTable(info, metrics, params, tags, self._datasets(within.replace("run_uuid", "i.destination_id"),
                                                                    run_ids))

    def _run_indexes(self) -> bool:
        """Whether params, tags and latest_metrics each have an index led by run_uuid."""
        if self._indexed is None and self.path is None:  # a database server: not streamed
            self._indexed = False
        if self._indexed is None:
            try:
                names = {t: [] for t in ("params", "tags", "latest_metrics")}
                for table in names:
                    for (index,) in self.query(f"SELECT name FROM pragma_index_list('{table}')"):
                        names[table] += self.query(f"SELECT name FROM pragma_index_info('{index}')")[:1]
                self._indexed = all(("run_uuid",) in cols for cols in names.values())
            except StoreError:  # an SQLite too old for pragma functions: not streamed
                self._indexed = False
        return self._indexed

    def _long(self, table: str, where: str = "", params=()) -> pd.DataFrame:
        if not self.has(table):
            return empty_long()
        frame = self._frame(f"SELECT run_uuid, key, value FROM {table}{where}", ["run_id", "key", "value"],
                            params)
        return frame if len(frame) else empty_long()

    def _latest_metrics(self, where: str = "", params=()) -> pd.DataFrame:
        nan = self.column("latest_metrics", "is_nan")
        if self.has("latest_metrics"):
            frame = _metric_frame(self._frame(f"SELECT run_uuid, key, value, step, timestamp, {nan} "
                                              f"FROM latest_metrics{where}", METRIC_ROW, params))
        elif self.has("metrics"):
            # Before latest_metrics existed (MLflow < 1.9), MLflow took max(step, timestamp, value).
            frame = _metric_frame(self._frame(
                f"SELECT run_uuid, key, value, {self.column('metrics', 'step')}, timestamp, "
                f"{self.column('metrics', 'is_nan')} FROM metrics{where}", METRIC_ROW, params))
            if not frame.empty:
                frame = (frame.sort_values(["run_id", "key", "step", "timestamp", "value"], kind="stable")
                         .groupby(["run_id", "key"], sort=False).tail(1))
        else:
            return empty_long(True)
        return frame.reset_index(drop=True)

    def _datasets(self, where: str = "", params=()) -> pd.DataFrame | None:
        if not (self.has("inputs") and self.has("datasets")):
            return None
        ctx = ("(SELECT value FROM input_tags t WHERE t.input_uuid = i.input_uuid "
               "AND t.name = 'mlflow.data.context')") if self.has("input_tags") else "NULL"
        rows = self.query(
            f"SELECT i.destination_id, d.name, d.digest, {ctx}, d.dataset_source_type, d.dataset_source "
            "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
            "WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN'"
            + where.replace(" WHERE ", " AND ", 1), params)
        return pd.DataFrame(rows, columns=["run_id", "name", "digest", "context", "source_type", "source"])

    def experiment_stats(self, view: str = "active") -> pd.DataFrame:
        """One GROUP BY instead of reading every run."""
        view = check_view(view)
        stage = self.column("runs", "lifecycle_stage")
        where = {"all": "", "deleted": " WHERE stage = 'deleted'",
                 "active": " WHERE stage IS NULL OR stage != 'deleted'"}[view]
        rows = self.query(f"SELECT experiment_id, COUNT(*), MAX(start_time), MAX(end_time) FROM "
                           f"(SELECT experiment_id, start_time, end_time, {stage.split(' AS ')[0]} AS stage "
                           f"FROM runs) r{where} GROUP BY experiment_id")
        return pd.DataFrame({
            "experiment_id": [str(r[0]) for r in rows],
            "runs": np.array([r[1] for r in rows], dtype="int64"),
            "last_activity": np.array([max((v for v in r[2:] if v is not None), default=np.nan)
                                       for r in rows], dtype="float64"),
        })

    def _forget(self) -> None:
        self._exps = None
        self._tables_cache = None
        if self.snapshot_dir is not None:  # a snapshot never changes: take a new one
            shutil.rmtree(self.snapshot_dir, ignore_errors=True)
            self.snapshot_dir = None
            self._connect = self._open_sqlite()

    def metric_history(self, run_ids, keys=None) -> pd.DataFrame:
        if not self.has("metrics"):
            return empty_history()
        run_ids = list(dict.fromkeys(run_ids))
        step = self.column("metrics", "step")
        nan = self.column("metrics", "is_nan")
        rows: list = []
        key_sql, key_args = "", ()
        if keys is not None:
            keys = list(keys)
            if not keys:
                return empty_history()
            key_sql = f" AND key IN ({', '.join(['?'] * len(keys))})"
            key_args = tuple(keys)
        for i in range(0, len(run_ids), IN_CHUNK):
            chunk = run_ids[i:i + IN_CHUNK]
            sql = (f"SELECT run_uuid, key, value, {step}, timestamp, {nan} FROM metrics "
                   f"WHERE run_uuid IN ({', '.join(['?'] * len(chunk))}){key_sql}")
            rows.extend(self.query(sql, tuple(chunk) + key_args))
        if not rows:
            return empty_history()
        frame = _metric_frame(_object_frame(rows, METRIC_ROW))
        frame = frame.sort_values(["run_id", "key", "timestamp", "step", "value"], kind="stable")
        return history_frame(frame["run_id"].to_numpy(object), frame["key"].to_numpy(object),
                             frame["step"].to_numpy(), frame["timestamp"].to_numpy(),
                             frame["value"].to_numpy())

    def _logged_models_all(self) -> pd.DataFrame:
        if not self.has("logged_models"):
            return pd.DataFrame(columns=LOGGED_MODEL_COLUMNS)
        rows = self.query(
            "SELECT model_id, experiment_id, name, source_run_id, status, "
            f"{self.column('logged_models', 'model_type')}, artifact_location, creation_timestamp_ms, "
            f"last_updated_timestamp_ms, {self.column('logged_models', 'lifecycle_stage')} FROM logged_models")
        frame = pd.DataFrame(rows, columns=LOGGED_MODEL_COLUMNS)
        frame["experiment_id"] = frame["experiment_id"].astype(str)
        frame["status"] = [LOGGED_MODEL_STATUS.get(s, s) for s in frame["status"]]
        frame["lifecycle_stage"] = frame["lifecycle_stage"].fillna("active")
        return frame

    def registered_models(self) -> pd.DataFrame:
        from .registry import sql

        return sql.registered_models(self)

    def model_versions(self, name: str | None = None) -> pd.DataFrame:
        from .registry import sql

        return sql.model_versions(self, name)


def _object_frame(rows, names) -> pd.DataFrame:
    """Rows -> frame of object columns, skipping pandas' (slow) string inference."""
    grid = np.array(rows, dtype=object) if rows else np.empty((0, len(names)), dtype=object)
    return pd.DataFrame({n: pd.Series(grid[:, i], dtype=object, copy=False) for i, n in enumerate(names)})


METRIC_ROW = ["run_id", "key", "value", "step", "timestamp", "is_nan"]


def _metric_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of MLflow's metric tables as values: NaN where MLflow stored is_nan."""
    value = pd.to_numeric(frame["value"], errors="coerce").astype("float64").to_numpy()
    is_nan = frame["is_nan"].fillna(False).astype(bool).to_numpy()
    value = np.where(is_nan, np.nan, value)
    return pd.DataFrame({
        "run_id": frame["run_id"],  # Arrow strings stay Arrow strings (no object a row)
        "key": frame["key"],
        "value": value,
        "step": pd.to_numeric(frame["step"], errors="coerce").fillna(0).astype("int64"),
        "timestamp": pd.to_numeric(frame["timestamp"], errors="coerce").fillna(0).astype("int64"),
    })


_HEAD: list = []


def mlflow_schema_head() -> str | None:
    """The alembic head of the installed MLflow, read from its migration files (no import)."""
    if _HEAD:
        return _HEAD[0]
    import importlib.util
    import re

    head = None
    try:
        spec = importlib.util.find_spec("mlflow")
        versions = Path(spec.origin).parent / "store" / "db_migrations" / "versions"
        revs, downs = set(), set()
        for f in versions.glob("*.py"):
            text = f.read_text(encoding="utf-8", errors="replace")
            r = re.search(r"^revision\s*=\s*['\"]([0-9a-f]+)['\"]", text, re.M)
            d = re.search(r"^down_revision\s*=\s*(.+)$", text, re.M)
            if r:
                revs.add(r.group(1))
            if d:
                downs.update(re.findall(r"['\"]([0-9a-f]+)['\"]", d.group(1)))
        heads = revs - downs
        head = heads.pop() if len(heads) == 1 else None
    except Exception:
        head = None
    _HEAD.append(head)
    return head
