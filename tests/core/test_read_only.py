"""Browsing never writes: the SQLite connection itself refuses writes, and a write attempt
leaves the database's bytes (and its folder) as they were."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3

import pytest

from mlscope.core import StoreError, open_store


def _state(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_sqlite_is_opened_read_only_and_refuses_a_write(built, tmp_path):
    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    before = _state(tmp_path)
    store = open_store(db)
    assert store.query("PRAGMA query_only") == [(1,)]
    with pytest.raises(StoreError):
        store.query("CREATE TABLE mlscope_probe (x INTEGER)")
    with pytest.raises(StoreError):
        store.query("UPDATE runs SET name = 'changed'")
    store.runs(view="all")
    store.close()
    assert _state(tmp_path) == before  # no byte changed, no journal or WAL left beside it
    tables = sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    assert ("mlscope_probe",) not in tables


def test_a_wal_database_is_read_from_a_snapshot_and_the_original_is_untouched(built, tmp_path):
    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("UPDATE runs SET name = name")  # leaves a -wal beside the file
    conn.commit()
    before = _state(tmp_path)
    store = open_store(db)
    assert store.snapshot_dir is not None and not str(store.snapshot_dir).startswith(str(tmp_path))
    store.runs(view="all")
    store.close()
    assert _state(tmp_path) == before  # compared while the writer still holds its WAL
    conn.close()
