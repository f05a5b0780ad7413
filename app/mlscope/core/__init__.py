"""mlscope.core: read MLflow tracking stores fast and read-only. No Qt here, ever."""

from .errors import (
    AuthError,
    Cancelled,
    FilterError,
    ServerError,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    StoreNotFound,
    StorePermission,
)
from .locate import Location, locate
from .store import Problem, Store, open_store

__all__ = [
    "AuthError", "Cancelled", "FilterError", "Location", "Problem", "ServerError", "Store",
    "StoreCorrupt", "StoreError", "StoreLocked", "StoreNotFound", "StorePermission", "locate",
    "open_store",
]
