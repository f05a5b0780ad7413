"""Where mlscope keeps its own files: never inside a user's store.

Config (settings, recent stores, column layouts), cache (parsed runs) and data (the demo
store) live in the platform's folders; the environment variables MLSCOPE_CONFIG_DIR,
MLSCOPE_CACHE_DIR and MLSCOPE_DATA_DIR override them (tests point them at temp folders).
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "mlscope"


def _dir(env: str, kind: str) -> Path:
    override = os.environ.get(env)
    if override:
        return Path(override)
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP, appauthor=False))


def config_dir() -> Path:
    return _dir("MLSCOPE_CONFIG_DIR", "config")


def cache_dir() -> Path:
    return _dir("MLSCOPE_CACHE_DIR", "cache")


def data_dir() -> Path:
    return _dir("MLSCOPE_DATA_DIR", "data")
