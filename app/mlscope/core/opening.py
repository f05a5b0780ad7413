"""``open_store()``: whatever an MLflow user has -> the store that reads it.

Apart from :mod:`mlscope.core.store` so that the backends can import the contract without
an import circle; the backends themselves are imported on first use (a server store needs
``requests``, an SQL store SQLAlchemy).
"""

from __future__ import annotations

from .errors import StoreError
from .locate import locate
from .store import Store


def open_store(target, *, choice: str | None = None, cache: bool = True, auth=None) -> Store:
    """Open a folder, a file inside a store, a database, a URI or a :class:`Location`.

    ``choice`` picks "file" or "sqlite" when a project folder holds both an ``mlruns/`` and
    an ``mlflow.db`` (default: the newer). ``cache=False`` skips the on-disk run cache.
    ``auth`` (a :class:`~mlscope.core.credentials.ServerAuth`) gives a tracking server's
    credentials and TLS choice explicitly, ahead of MLflow's environment and credentials file.
    """
    loc = locate(target, choice=choice)
    if loc.kind == "file":
        from .filestore import FileStore

        return FileStore(loc.path, cache=cache, location=loc)
    if loc.kind == "sql":
        from .sqlstore import SqlStore

        return SqlStore(loc.uri, location=loc)
    if loc.kind == "rest":
        from .reststore import RestStore

        return RestStore(loc.uri, location=loc, auth=auth)
    raise StoreError(f"Cannot open {target}", str(target))  # pragma: no cover - locate()'s kinds
