"""mlscope's own settings, one JSON file in the platform's config folder (never in a store).

JSON rather than QSettings: readable, diffable, and the same file on every platform.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlscope.core.paths import config_dir

MAX_RECENT = 12


class Settings:
    def __init__(self, path: Path | None = None):
        self.path = path or (config_dir() / "settings.json")
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(self.data, dict):
                self.data = {}
        except (OSError, ValueError):
            self.data = {}

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def set(self, key: str, value) -> None:
        self.data[key] = value
        self.save()

    def save(self) -> None:
        """Write atomically: a crash mid-write must not lose the user's layouts."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            # Readable by its owner only: it names the stores and servers a user works with.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(self.data, indent=1, sort_keys=True))
            os.chmod(tmp, 0o600)  # an older file of the same name kept its mode
            os.replace(tmp, self.path)
        except OSError:
            pass  # settings are a convenience: never fail the app over them

    # -- recent stores --------------------------------------------------------------------
    def recent(self) -> list[str]:
        return [r for r in self.data.get("recent", []) if isinstance(r, str)]

    def add_recent(self, target: str) -> None:
        items = [target] + [r for r in self.recent() if r != target]
        self.set("recent", items[:MAX_RECENT])

    def clear_recent(self) -> None:
        self.set("recent", [])

    # -- column layouts, per store and experiment selection -------------------------------
    def column_layout(self, key: str) -> dict | None:
        layout = self.data.get("columns", {}).get(key)
        return layout if isinstance(layout, dict) else None

    def set_column_layout(self, key: str, layout: dict | None) -> None:
        cols = self.data.setdefault("columns", {})
        if layout is None:
            cols.pop(key, None)
        else:
            cols[key] = layout
        self.save()

    def last_experiment(self, store_uri: str) -> list[str] | None:
        return self.data.get("last_experiment", {}).get(store_uri)

    def set_last_experiment(self, store_uri: str, ids: list[str]) -> None:
        self.data.setdefault("last_experiment", {})[store_uri] = ids
        self.save()
