"""Typed errors: every failure a user can cause names the path or URL it concerns."""

from __future__ import annotations


class StoreError(Exception):
    """Something about a store could not be read. ``str(err)`` is meant for the user."""

    def __init__(self, message: str, target: str | None = None):
        super().__init__(message)
        self.target = target


class StoreNotFound(StoreError):
    """The path or URL holds no MLflow store."""


class StoreCorrupt(StoreError):
    """The store is there but cannot be parsed."""


class StoreLocked(StoreError):
    """A writer holds a lock that did not clear in time."""


class StorePermission(StoreError):
    """The operating system refused access."""


class ServerError(StoreError):
    """A tracking server is down, slow, or answered with an error."""


class AuthError(ServerError):
    """A tracking server refused the credentials (401/403)."""


class FilterError(StoreError):
    """A filter or order_by string is not valid MLflow search syntax (MLflow's own message)."""


class Cancelled(Exception):
    """The caller cancelled a long read (not an error to show)."""


def user_message(exc: BaseException) -> str:
    """Words for the user: a StoreError's message is written for them; anything else is named."""
    if isinstance(exc, StoreError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "Not enough memory to read this store."
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"{exc.strerror or exc}{where}"
    return f"{type(exc).__name__}: {exc}"
