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
