"""Path or URI -> which store it is, and which experiment/run inside it to select.

A user double-clicks whatever they have: an ``mlruns`` root (whatever its name), a project
folder holding ``mlruns/`` and/or ``mlflow.db``, an experiment or run folder, a file deep in
a run, a database file, or a URI. :func:`locate` answers without reading the store itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from .errors import StoreNotFound, StorePermission

SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mssql")
DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SQLITE_MAGIC = b"SQLite format 3\x00"
RESERVED = {".trash", "models", "tags", "datasets", "traces"}


@dataclass
class Location:
    kind: str  # "file" (mlruns folder), "sql" (SQLAlchemy URL), "rest" (tracking server)
    uri: str
    path: Path | None = None
    experiment_id: str | None = None
    run_id: str | None = None
    alternatives: list[Location] = field(default_factory=list)
    note: str = ""


def _meta_kind(folder: Path) -> str | None:
    """'run' or 'experiment' by the keys of folder/meta.yaml, None if there is none or it
    cannot be read (an unreadable experiment is the store reader's problem to report, not
    a reason to refuse the whole store)."""
    try:
        with open(folder / "meta.yaml", "rb") as fh:
            text = fh.read(65536)
    except OSError:
        return None
    keys = {line.split(b":", 1)[0].strip() for line in text.splitlines() if b":" in line}
    if b"run_uuid" in keys or b"run_id" in keys:
        return "run"
    if b"experiment_id" in keys or b"name" in keys or b"artifact_location" in keys:
        return "experiment"
    return None


def is_mlruns_root(folder: Path) -> bool:
    """A root holds experiment folders with a meta.yaml (or only a .trash of them)."""
    try:
        entries = list(os.scandir(folder))
    except PermissionError as exc:
        raise StorePermission(f"Permission denied listing {folder}.", str(folder)) from exc
    except OSError:
        return False
    for entry in entries:
        if entry.is_dir() and entry.name not in RESERVED and _meta_kind(Path(entry.path)) == "experiment":
            return True
    trash = folder / ".trash"
    if trash.is_dir():
        try:
            return any(_meta_kind(Path(e.path)) == "experiment" for e in os.scandir(trash) if e.is_dir()) or (
                folder.name == "mlruns"
            )
        except OSError:
            return False
    return False


def _is_sqlite_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except PermissionError as exc:
        raise StorePermission(f"Permission denied reading {path}.", str(path)) from exc
    except OSError:
        return False
    # An empty file named .db is what sqlite3 leaves before the first table: still a database.
    return head == SQLITE_MAGIC or (head == b"" and path.suffix.lower() in DB_SUFFIXES)


def _sqlite(path: Path) -> Location:
    path = path.resolve()
    return Location("sql", f"sqlite:///{path.as_posix()}", path)


def _file(root: Path, experiment_id=None, run_id=None) -> Location:
    root = root.resolve()
    return Location("file", root.as_uri(), root, experiment_id, run_id)


def _newest_mtime(folder: Path) -> float:
    best = 0.0
    try:
        best = folder.stat().st_mtime
        for entry in os.scandir(folder):
            try:
                best = max(best, entry.stat().st_mtime)
            except OSError:
                pass
    except OSError:
        pass
    return best


def _inside_tree(path: Path) -> Location | None:
    """The store, experiment and run of a path inside an mlruns tree, walking up."""
    run_id = experiment_id = None
    for folder in [path, *path.parents]:
        kind = _meta_kind(folder) if folder.is_dir() else None
        if kind == "run" and run_id is None and experiment_id is None:
            run_id = folder.name
            continue
        if kind == "experiment" and experiment_id is None:
            experiment_id = folder.name
            parent = folder.parent
            root = parent.parent if parent.name == ".trash" else parent
            return _file(root, experiment_id, run_id)
        if run_id is None and experiment_id is None and folder.is_dir() and is_mlruns_root(folder):
            return _file(folder)
    return None


def locate(target, choice: str | None = None) -> Location:
    """Where the store named by ``target`` (a path, or a URI) is. Raises StoreNotFound."""
    if isinstance(target, Location):
        return target
    text = os.fspath(target) if not isinstance(target, str) else target
    text = text.strip()
    if not text:
        raise StoreNotFound("No store given.", text)
    scheme = urlparse(text).scheme.lower()
    base = scheme.split("+", 1)[0]
    if base in ("http", "https"):
        return Location("rest", text.rstrip("/"))
    if base == "sqlite":
        if "://" not in text:
            raise StoreNotFound(f"{text} is not an SQLite URI (sqlite:///path/to/file.db).", text)
        raw = text.split("://", 1)[1]
        path = raw[1:] if raw.startswith("/") else raw
        if path in ("", ":memory:"):
            raise StoreNotFound(f"{text} is an in-memory database: there is nothing to open.", text)
        path = path.split("?", 1)[0]
        if path.startswith("file:"):
            path = path[5:]
        return locate_path(Path(unquote(path)), choice, must_be_db=True)
    if base in SQL_SCHEMES:
        return Location("sql", text)
    if scheme == "file":
        parsed = urlparse(text)
        path = unquote(parsed.path)
        if os.name == "nt" and len(path) > 2 and path[0] == "/" and path[2] == ":":
            path = path[1:]
        return locate_path(Path(path), choice)
    if len(scheme) > 1 and "://" in text:
        raise StoreNotFound(f"{text}: mlscope does not know the '{scheme}' scheme.", text)
    return locate_path(Path(text).expanduser(), choice)


def locate_path(path: Path, choice: str | None = None, must_be_db: bool = False) -> Location:
    try:
        exists = path.exists()
    except PermissionError as exc:
        raise StorePermission(f"Permission denied: {path}", str(path)) from exc
    if not exists:
        raise StoreNotFound(f"{path} does not exist.", str(path))
    if path.is_file():
        if _is_sqlite_file(path):
            return _sqlite(path)
        if must_be_db:
            raise StoreNotFound(f"{path} is not an SQLite database.", str(path))
        found = _inside_tree(path.parent)
        if found:
            return found
        raise StoreNotFound(
            f"{path} is neither an MLflow database nor a file inside an mlruns folder.", str(path)
        )
    if not os.access(path, os.R_OK | os.X_OK):
        raise StorePermission(f"Permission denied: {path}", str(path))
    if is_mlruns_root(path):
        return _file(path)
    # A project folder: mlruns/ and/or databases beside it.
    candidates: list[Location] = []
    sub = path / "mlruns"
    if sub.is_dir() and is_mlruns_root(sub):
        candidates.append(_file(sub))
    for name in ("mlflow.db", "mlruns.db", "backend.db"):
        db = path / name
        if db.is_file() and _is_sqlite_file(db):
            candidates.append(_sqlite(db))
    if candidates:
        if choice:
            wanted = "file" if choice in ("file", "mlruns") else "sql"
            picked = [c for c in candidates if c.kind == wanted] or candidates
        else:
            picked = sorted(candidates, key=lambda c: -_newest_mtime(c.path))
        first, rest = picked[0], [c for c in candidates if c is not picked[0]]
        first.alternatives = rest
        if rest:
            first.note = (
                f"{path} holds {len(candidates)} stores ("
                + ", ".join(c.path.name for c in candidates)
                + f"); opened {first.path.name}" + ("" if choice else ", the newest") + "."
            )
        return first
    found = _inside_tree(path)
    if found:
        return found
    raise StoreNotFound(
        f"No MLflow store at {path}: no experiment folders with meta.yaml, no mlruns/ folder, "
        "no mlflow.db.",
        str(path),
    )


__all__ = ["Location", "is_mlruns_root", "locate", "locate_path"]
