"""The registry's one shape, for every store kind.

Registered models: name, creation_timestamp, last_updated_timestamp, description, tags
(dict), aliases (dict alias -> version). Versions: name, version, current_stage, run_id,
source, status, description, creation_timestamp, last_updated_timestamp, user_id, tags
(dict), aliases (sorted list), sorted by name and version. Prompts, which MLflow keeps as
registered models tagged ``mlflow.prompt.is_prompt``, are left out, as MLflow's
``search_registered_models`` leaves them out.
"""

from __future__ import annotations

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
