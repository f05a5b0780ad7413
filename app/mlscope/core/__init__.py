"""mlscope.core: read MLflow tracking stores fast and read-only. No Qt here, ever.

``open_store``, ``Store`` and ``Problem`` are imported on first use (PEP 562): they bring
pandas, which a reader process (``mlscope.core.mlruns``) and ``mlscope --help`` never need.
"""

from importlib import import_module

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

_LAZY = {"open_store": "opening", "Store": "store", "Problem": "store"}
__all__ = [
    "AuthError", "Cancelled", "FilterError", "Location", "Problem", "ServerError", "Store",
    "StoreCorrupt", "StoreError", "StoreLocked", "StoreNotFound", "StorePermission", "locate",
    "open_store",
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
