"""The registry's one shape, for every store kind.

Registered models: name, creation_timestamp, last_updated_timestamp, description, tags
(dict), aliases (dict alias -> version). Versions: name, version, current_stage, run_id,
source, status, description, creation_timestamp, last_updated_timestamp, user_id, tags
(dict), aliases (sorted list), sorted by name and version. Prompts, which MLflow keeps as
registered models tagged ``mlflow.prompt.is_prompt``, are left out, as MLflow's
``search_registered_models`` leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

MODEL_COLUMNS = ["name", "creation_timestamp", "last_updated_timestamp", "description", "tags", "aliases"]
VERSION_COLUMNS = ["name", "version", "current_stage", "run_id", "source", "status", "description",
                   "creation_timestamp", "last_updated_timestamp", "user_id", "tags", "aliases"]
PROMPT_TAG = "mlflow.prompt.is_prompt"


def is_prompt(tags: dict) -> bool:
    return str(tags.get(PROMPT_TAG, "")).lower() == "true"


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    """Text as Python objects (None stays None, under pandas 2 and 3 alike), times as numbers."""
    frame = pd.DataFrame(rows or [], columns=columns, dtype=object)
    for col in ("creation_timestamp", "last_updated_timestamp"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def models_frame(rows: list | None = None) -> pd.DataFrame:
    """Registered-model rows (MODEL_COLUMNS order) -> the frame, sorted by name."""
    frame = _frame(rows, MODEL_COLUMNS)
    return frame.sort_values("name", kind="stable").reset_index(drop=True)


def versions_frame(rows: list | None = None) -> pd.DataFrame:
    """Model-version rows (VERSION_COLUMNS order) -> the frame, sorted by name and version."""
    frame = _frame(rows, VERSION_COLUMNS)
    frame["version"] = frame["version"].astype("int64")
    return frame.sort_values(["name", "version"], kind="stable").reset_index(drop=True)


def version_row(name: str, version: int, stage, run_id, source, status, description, created,
                updated, user_id, tags: dict, aliases) -> list:
    """One row of VERSION_COLUMNS; a version never moved to a stage is in stage "None"."""
    return [name, int(version), stage or "None", run_id, source, status, description, created,
            updated, user_id, tags, sorted(aliases)]


def latest_per_stage(versions) -> dict[str, str]:
    """{model: "Production v2 · Staging v3 · None v4"}: the newest version in each stage
    (Archived left out, as MLflow's latest_versions does)."""
    out: dict[str, str] = {}
    if versions is None or len(versions) == 0:
        return out
    live = versions[versions["current_stage"] != "Archived"]
    newest = live.groupby(["name", "current_stage"], sort=False)["version"].max()
    order = {s: i for i, s in enumerate(("Production", "Staging", "None"))}
    per: dict[str, list] = {}
    for (name, stage), version in newest.items():
        per.setdefault(name, []).append((order.get(stage, 9), f"{stage} v{int(version)}"))
    for name, items in per.items():
        out[name] = " · ".join(text for _, text in sorted(items))
    return out


@dataclass(frozen=True)
class Listing:
    """``models`` and the ``versions`` read so far. ``loaded``: the models whose versions
    are all in ``versions`` (None: every model's). ``latest``: {model: "Production v2 ·
    Staging v3"}, from the server's latest_versions while versions are still coming."""

    models: pd.DataFrame
    versions: pd.DataFrame
    loaded: frozenset | None = None
    latest: dict | None = None

    @property
    def complete(self) -> bool:
        return self.loaded is None

    def has_versions(self, name: str) -> bool:
        return self.loaded is None or name in self.loaded

    def latest_text(self) -> dict:
        return self.latest if self.latest is not None else latest_per_stage(self.versions)

    def with_model(self, name: str, versions: pd.DataFrame) -> Listing:
        """This listing with all of ``name``'s versions (read on their own) put in."""
        if self.has_versions(name):
            return self
        rest_ = self.versions[self.versions["name"] != name]
        merged = versions_frame(rest_.values.tolist() + versions.values.tolist())
        return Listing(self.models, merged, self.loaded | {name}, self.latest)
