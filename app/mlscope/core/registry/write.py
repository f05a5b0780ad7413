"""The one door for registry writes: MLflow's own ``MlflowClient``, nothing hand-written.

Every function takes the store's *write URI* (:func:`write_uri`: the real database file even
when mlscope reads a private snapshot, the mlruns folder, the server URL) and either returns
nothing or the new object. MLflow's failures come back as :class:`StoreError` subclasses in
plain words. Before any client is made for an SQL store the schema is checked here: MLflow's
client would otherwise migrate an older database in place the moment it opens it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import time
import warnings
from pathlib import Path
from urllib.parse import quote

from ..errors import AuthError, ServerError, StoreError

# MLflow retries failed requests up to 7 times with backoff (minutes when a server is gone);
# a retried write could also land twice. mlscope's writes try once, unless the user says so.
_HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
SIDECARS = ("-wal", "-shm", "-journal")
STAGES = ("None", "Staging", "Production", "Archived")
_SQL = ("sqlite", "postgres", "mysql", "mssql")


class WriteRefused(StoreError):
    """MLflow or the server refused the write; nothing was changed."""


class WritePermission(WriteRefused):
    """The server (or the operating system) does not let this user change the registry."""


class NameExists(WriteRefused):
    """A registered model with that name already exists."""


class Gone(WriteRefused):
    """The model or version was deleted (or renamed) by someone else meanwhile."""


class Conflict(WriteRefused):
    """The registry changed since the dialog was opened, so its sentence no longer holds."""


class ServerGone(ServerError):
    """The tracking server stopped answering."""


class SchemaOutdated(WriteRefused):
    """An SQL store on an older MLflow schema: MLflow would migrate it before writing."""


# -- where to write ----------------------------------------------------------------------------

_MISSING = object()


def database_uri(store) -> str:
    """The user's own database or folder behind ``store`` (never a snapshot mlscope reads),
    whether or not MLflow may write there yet: what "Upgrade database..." works on."""
    if getattr(store, "path", None) is not None and store.uri.startswith("sqlite"):
        return f"sqlite:///{Path(store.path).as_posix()}"
    if getattr(store, "root", None) is not None:
        return str(store.root)
    return store.uri


def write_uri(store) -> str:
    """The URI MLflow's client must write to for ``store``; :class:`SchemaOutdated` (with the
    store's reason) where MLflow must not write yet."""
    uri = getattr(store, "write_uri", _MISSING)
    if uri is _MISSING:  # a store from before stores declared it
        uri = database_uri(store)
    if not uri:
        raise SchemaOutdated(read_only_reason(store) or "This store is read-only.", store.uri)
    return uri


def read_only_reason(store) -> str:
    """Why the registry of ``store`` cannot be written, or "" when it can."""
    uri = getattr(store, "write_uri", _MISSING)
    if uri is None:
        note = getattr(store, "read_only_note", "")
        if note and "schema" in note:
            try:
                check_schema(database_uri(store))
            except SchemaOutdated as exc:
                return str(exc)
            except StoreError:
                pass
        return note or "This store is read-only."
    uri = database_uri(store) if uri is _MISSING else uri
    if uri.startswith(("sqlite", "postgres", "mysql", "mssql")):
        try:
            check_schema(uri)
        except StoreError as exc:
            return str(exc)
    return ""


def _sqlite_file(uri: str) -> Path | None:
    if not uri.startswith("sqlite:"):
        return None
    raw = uri.split("://", 1)[-1]
    return Path(raw[1:] if raw.startswith("/") else raw)


def _display(uri: str) -> str:
    path = _sqlite_file(uri)
    if path is not None:
        return str(path)
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(uri).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not an SQLAlchemy URL: a folder or a server
        return uri


def schema_version(uri: str) -> str | None:
    """The alembic revision of an SQL store, read without writing (None: no alembic table)."""
    path = _sqlite_file(uri)
    if path is not None:
        if not path.is_file():
            raise StoreError(f"{path} no longer exists; nothing was written.", str(path))
        try:
            conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
            try:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise StoreError(f"Cannot read {path}: {exc}", str(path)) from exc
        return row[0] if row else None
    import sqlalchemy as sa

    engine = sa.create_engine(uri)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
            return row[0] if row else None
    except Exception as exc:  # noqa: BLE001 - the driver's words, with the redacted URL
        raise StoreError(f"Cannot read {_display(uri)}: {getattr(exc, 'orig', exc)}",
                         _display(uri)) from exc
    finally:
        engine.dispose()


def check_schema(uri: str) -> None:
    """Raise :class:`SchemaOutdated` unless ``uri`` is on the installed MLflow's schema head."""
    from ..sqlstore import mlflow_schema_head

    head = mlflow_schema_head()
    found = schema_version(uri)
    if head is None or found != head:
        raise SchemaOutdated(
            f"{_display(uri)} uses an older MLflow schema ({found or 'none'}; this MLflow needs "
            f"{head or 'an unknown revision'}). MLflow would migrate it before any write, so the "
            "registry is read-only here: "
            + ("use \"Upgrade database...\" (a backup is made first)." if _sqlite_file(uri)
               else "back the database up and run `mlflow db upgrade` on it."), _display(uri))


# -- the client ----------------------------------------------------------------------------------

def _client(uri: str):
    """MLflow's client for ``uri``, after the checks that keep MLflow from changing more than asked."""
    if uri.startswith(("http://", "https://")):
        for key, value in _HTTP_DEFAULTS.items():
            os.environ.setdefault(key, value)
    elif "://" not in uri or uri.startswith("file:"):
        # MLflow 3.13+ refuses file stores without this; the user asked for this write.
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        if not _folder(uri).is_dir():
            raise StoreError(f"{uri} no longer exists; nothing was written.", uri)
    else:
        check_schema(uri)
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _folder(uri: str) -> Path:
    if uri.startswith("file:"):
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        return Path(url2pathname(urlparse(uri).path))
    return Path(uri)


@contextlib.contextmanager
def _door(uri: str, what: str):
    """Run one MLflow call; its failure becomes a StoreError saying ``what`` was refused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # stage deprecation notices: the user chose stages
            yield
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - every MLflow failure becomes words
        raise explain(exc, uri, what) from exc


def explain(exc: BaseException, uri: str, what: str) -> StoreError:
    """MLflow's exception -> the StoreError subclass and sentence a user can act on."""
    where = _display(uri)
    code = str(getattr(exc, "error_code", "") or "")
    text = str(getattr(exc, "message", "") or exc)
    low = text.lower()
    status = None
    with contextlib.suppress(Exception):
        status = exc.get_http_status_code()
    if "error code 403" in low or code == "PERMISSION_DENIED" or "permission denied" in low:
        if where.startswith("http"):
            return WritePermission(f"{where} refused to {what}: this user has no permission to "
                                   "change it (ask the server's admin for EDIT or MANAGE).", where)
        return WritePermission(f"Cannot {what}: permission denied writing {where}.", where)
    if "error code 401" in low or code == "UNAUTHENTICATED":
        return AuthError(f"{where} refused to {what}: the credentials were not accepted. Set "
                         "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or "
                         "MLFLOW_TRACKING_TOKEN.", where)
    if code == "RESOURCE_ALREADY_EXISTS" or "already exists" in low:
        return NameExists(f"Cannot {what}: {_first_line(text)}", where)
    if any(s in low for s in ("duplicate entry", "duplicate key", "unique constraint")):
        # MySQL/MariaDB: MLflow does not check a new name first; the database refuses it.
        return NameExists(f"Cannot {what}: that name is already taken (the database refused "
                          "a duplicate). Nothing was written.", where)
    if code == "RESOURCE_DOES_NOT_EXIST" or "not found" in low or "does not exist" in low:
        return Gone(f"Cannot {what}: {_first_line(text)} (deleted or renamed meanwhile?). "
                    "Nothing was written.", where)
    if any(s in low for s in ("connection refused", "max retries", "failed to establish",
                              "connectionerror", "remote end closed", "timed out",
                              "read timeout", "connection aborted")):
        return ServerGone(f"Cannot {what}: the server at {where} did not answer (stopped or "
                          "unreachable).", where)
    if "locked" in low or "busy" in low:
        return WriteRefused(f"Cannot {what}: {where} is locked by another program; try again "
                            "in a moment.", where)
    if "readonly" in low or "read-only" in low or isinstance(exc, PermissionError):
        return WritePermission(f"Cannot {what}: {where} is read-only for this user.", where)
    if code == "INVALID_PARAMETER_VALUE" or status == 400:
        return WriteRefused(f"Cannot {what}: {_first_line(text)}", where)
    return WriteRefused(f"Cannot {what}: {type(exc).__name__}: {_first_line(text)}", where)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:300]


def _v(version) -> str:
    return str(int(version))


# -- reads the writes need (MLflow's view right before a change) ---------------------------------

def model_state(uri: str, name: str) -> dict:
    """The model as MLflow sees it now: description, tags, aliases {alias: version}, and
    versions {version: dict(stage, description, tags)}. Raises :class:`Gone` if it is not there."""
    client = _client(uri)
    with _door(uri, f"read {name}"):
        model = client.get_registered_model(name)
        versions = client.search_model_versions(f"name = {_quote(name)}")
    return {
        "name": model.name,
        "description": model.description or "",
        "tags": dict(model.tags or {}),
        "aliases": {a: int(v) for a, v in (model.aliases or {}).items()},
        "versions": {int(v.version): {"stage": v.current_stage or "None",
                                      "description": v.description or "",
                                      "tags": dict(v.tags or {}), "run_id": v.run_id}
                     for v in versions},
    }


def _quote(name: str) -> str:
    """The name as a string literal of MLflow's search syntax."""
    return f'"{name}"' if "'" in name else f"'{name}'"



# -- the writes ----------------------------------------------------------------------------------

def transition_stage(uri: str, name: str, version, stage: str, archive_existing: bool = False):
    """Move a version to ``stage``; ``archive_existing`` archives the others in that stage."""
    if stage not in STAGES:
        raise WriteRefused(f"{stage!r} is not a stage: use one of {', '.join(STAGES)}.")
    client = _client(uri)
    # MLflow's SQL store compares the version column with the value as given when it
    # archives the others: PostgreSQL refuses integer <> varchar, so SQL stores get a number.
    number = int(version) if uri.startswith(_SQL) else _v(version)
    with _door(uri, f"move {name} v{version} to {stage}"):
        return client.transition_model_version_stage(
            name, number, stage,
            archive_existing_versions=bool(archive_existing) and stage in ("Staging", "Production"))


def set_alias(uri: str, name: str, alias: str, version) -> None:
    client = _client(uri)
    with _door(uri, f"point alias '{alias}' of {name} at v{version}"):
        client.set_registered_model_alias(name, alias, _v(version))


def delete_alias(uri: str, name: str, alias: str) -> None:
    client = _client(uri)
    with _door(uri, f"delete alias '{alias}' of {name}"):
        client.delete_registered_model_alias(name, alias)


def set_model_description(uri: str, name: str, description: str) -> None:
    client = _client(uri)
    with _door(uri, f"change the description of {name}"):
        client.update_registered_model(name, description=description)


def set_version_description(uri: str, name: str, version, description: str) -> None:
    client = _client(uri)
    with _door(uri, f"change the description of {name} v{version}"):
        client.update_model_version(name, _v(version), description=description)


def set_model_tag(uri: str, name: str, key: str, value: str) -> None:
    client = _client(uri)
    with _door(uri, f"set tag '{key}' of {name}"):
        client.set_registered_model_tag(name, key, value)


def delete_model_tag(uri: str, name: str, key: str) -> None:
    client = _client(uri)
    with _door(uri, f"delete tag '{key}' of {name}"):
        client.delete_registered_model_tag(name, key)


def set_version_tag(uri: str, name: str, version, key: str, value: str) -> None:
    client = _client(uri)
    with _door(uri, f"set tag '{key}' of {name} v{version}"):
        client.set_model_version_tag(name, _v(version), key, value)


def delete_version_tag(uri: str, name: str, version, key: str) -> None:
    client = _client(uri)
    with _door(uri, f"delete tag '{key}' of {name} v{version}"):
        client.delete_model_version_tag(name, _v(version), key)


def rename_model(uri: str, name: str, new_name: str):
    client = _client(uri)
    what = f"rename {name} to {new_name}"
    if not uri.startswith(("http://", "https://")) and "://" not in uri.replace("file://", ""):
        # MLflow's file registry copies a model's versions to the new name one by one and
        # fails on the first version tag (it iterates the tag dict's keys as tag objects),
        # leaving the model under both names. Refuse before anything is written.
        with _door(uri, what):
            tagged = [v.version for v in client.search_model_versions(f"name = {_quote(name)}")
                      if v.tags]
        if tagged:
            raise WriteRefused(
                f"Cannot {what}: MLflow's file registry cannot rename a model whose versions "
                f"have tags (here v{', v'.join(str(v) for v in sorted(map(int, tagged)))}); it "
                "would leave a half-made copy. Nothing was written. Remove those version tags "
                "first, or use an SQLite store or a server.", uri)
    with _door(uri, what):
        return client.rename_registered_model(name, new_name)


def delete_version(uri: str, name: str, version) -> None:
    client = _client(uri)
    with _door(uri, f"delete {name} v{version}"):
        client.delete_model_version(name, _v(version))


def delete_model(uri: str, name: str) -> None:
    client = _client(uri)
    with _door(uri, f"delete the model {name}"):
        client.delete_registered_model(name)


def create_model(uri: str, name: str):
    client = _client(uri)
    with _door(uri, f"create the model {name}"):
        return client.create_registered_model(name)


def register(uri: str, name: str, source: str, run_id: str | None = None, *,
             create: bool = False):
    """A new version of ``name`` from ``source`` (``runs:/<run>/<path>`` or ``models:/<id>``);
    ``create`` makes the registered model first (refused if the name exists; removed again
    if the version cannot be made, so a failure leaves the registry as it was)."""
    client = _client(uri)
    if create:
        with _door(uri, f"create the model {name}"):
            client.create_registered_model(name)
    try:
        # MLflow resolves models:/<id> through the process's tracking URI, not the client's.
        with _door(uri, f"register a version of {name}"), _tracking_uri(uri, source):
            return client.create_model_version(name, source, run_id=run_id)
    except StoreError as exc:
        if not create:
            raise
        try:
            with _door(uri, f"remove the model {name} again"):
                client.delete_registered_model(name)
        except StoreError as undo:
            raise type(exc)(f"{exc} The model {name} was created for it and could not be "
                            f"removed again: {undo}", exc.target) from exc
        raise type(exc)(f"{exc} (The model {name}, created for it, was removed again.)",
                        exc.target) from exc


@contextlib.contextmanager
def _tracking_uri(uri: str, source: str):
    if not source.startswith("models:/"):
        yield
        return
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    with _use_tracking_uri(uri):
        yield


# -- "Upgrade database..." -----------------------------------------------------------------------

def backup_sqlite(path) -> Path:
    """Copy an SQLite file with its sidecars to ``NAME.backup-YYYYmmdd-HHMMSS`` beside it,
    byte for byte (checked); returns the backup of the main file."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.backup-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.backup-{stamp}-{n}")
    pairs = [(path, target)] + [(Path(str(path) + s), Path(str(target) + s)) for s in SIDECARS
                                if Path(str(path) + s).exists()]
    try:
        for src, dst in pairs:
            shutil.copy2(src, dst)
            if _sha256(src) != _sha256(dst):
                raise StoreError(f"The backup {dst} differs from {src}; nothing was upgraded.",
                                 str(path))
    except OSError as exc:
        for _src, dst in pairs:
            with contextlib.suppress(OSError):
                dst.unlink()
        raise StoreError(f"Cannot back up {path}: {exc.strerror or exc}. Nothing was "
                         "upgraded.", str(path)) from exc
    return target


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def upgrade_database(uri: str) -> Path | None:
    """Back up (SQLite) and upgrade an SQL store with MLflow's own migrations, as
    ``mlflow db upgrade`` does. Returns the backup's path (None for server databases)."""
    path = _sqlite_file(uri)
    backup = None
    if path is not None:
        if not path.is_file():
            raise StoreError(f"{path} does not exist.", str(path))
        backup = backup_sqlite(path)
    from mlflow.store.db.utils import _upgrade_db, create_sqlalchemy_engine_with_retry

    try:
        engine = create_sqlalchemy_engine_with_retry(uri)
        try:
            _upgrade_db(engine)
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - MLflow's words, and where the backup is
        kept = f" The backup is {backup}." if backup else ""
        raise StoreError(f"MLflow could not upgrade {_display(uri)}: "
                         f"{_first_line(str(getattr(exc, 'message', exc)))}.{kept}",
                         _display(uri)) from exc
    check_schema(uri)
    return backup
