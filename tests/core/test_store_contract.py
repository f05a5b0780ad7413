"""The Store contract: what differs between file, SQL and server stores is declared on the store."""

import inspect
import shutil
import sqlite3
import subprocess
import sys

import pytest

from mlscope.core import Location, Store, open_store
from mlscope.core.filestore import FileStore
from mlscope.core.reststore import RestStore
from mlscope.core.sqlstore import SqlStore


def test_open_store_is_where_it_was_and_makes_no_import_circle():
    from mlscope.core.opening import open_store as where_it_lives
    from mlscope.core.store import open_store as from_store

    assert from_store is where_it_lives is open_store
    # The contract alone brings no backend (they import it; it must not import them).
    code = ("import sys, mlscope.core.store; "
            "print(sorted(m for m in sys.modules if m.startswith('mlscope.core.') and 'store' in m))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['mlscope.core.store']"


def test_every_backend_takes_the_same_runs_arguments():
    for cls in (FileStore, SqlStore, RestStore):
        assert "runs" not in vars(cls), f"{cls.__name__} must not redefine runs()"
        assert inspect.signature(cls.runs) == inspect.signature(Store.runs)


def test_file_store_declares_itself(built):
    run = built["ids"]["running"]
    folder = next(built["file"].glob(f"*/{run}"))
    store = open_store(folder / "meta.yaml")
    assert isinstance(store.location, Location)
    assert store.location.path == built["file"].resolve() and store.location.run_id == run
    assert (store.kind, store.streams_partial, store.cheap_counts) == ("file", True, True)
    assert store.can_write and store.write_uri == built["file"].resolve().as_uri()
    # Built directly, it still has its location.
    assert FileStore(built["file"]).location.path == built["file"].resolve()


def test_write_uri_is_what_mlflow_reads_as_this_store(built):
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    for target in (built["file"], built["sqlite"]):
        store = open_store(target)
        names = MlflowClient(store.write_uri).search_experiments(view_type=ViewType.ALL)
        assert sorted(e.name for e in names) == sorted(store.experiments("all")["name"])


def test_sqlite_snapshot_writes_go_to_the_users_file(built, tmp_path):
    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE experiments SET name = 'renamed' WHERE experiment_id = 0")
    writer.commit()  # lives in mlflow.db-wal: mlscope reads from a snapshot
    try:
        store = open_store(db)
        assert store.snapshot_dir is not None
        # streams_partial: the newest runs first, until the table is read (test_sql_streaming)
        assert (store.kind, store.streams_partial, store.cheap_counts) == ("sql", True, True)
        assert store.can_write and store.write_uri == f"sqlite:///{db.resolve().as_posix()}"
        assert store.location.path == db.resolve()
        store.close()
    finally:
        writer.close()


def test_sql_store_that_mlflow_must_migrate_cannot_be_written():
    from conftest import CORPUS

    db = CORPUS / "MadanManav__MLFlow_tutorial_with_hyperopt" / "mlruns.db"
    if not db.exists():
        pytest.skip("corpus not present")
    store = open_store(db)
    assert not store.can_write and store.write_uri is None
    assert "mlflow db upgrade" in store.read_only_note


def test_partial_is_called_only_where_the_store_streams(built):
    seen = []
    store = open_store(built["sqlite"])
    assert store.streams_partial  # SQLite: the newest screenful first, on the first read
    store.runs(view="all", partial=seen.append)
    assert len(seen) == 1 and not store.streams_partial  # then the table is kept whole
    store.runs(view="all", partial=seen.append)
    assert len(seen) == 1
