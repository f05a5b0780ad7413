"""Model registry reads (file and SQL stores). Writes go through MLflow's client, elsewhere.

Registered models come back as a frame (name, creation_timestamp, last_updated_timestamp,
description, tags, aliases) and versions as a frame (name, version, current_stage, run_id,
source, status, description, creation_timestamp, last_updated_timestamp, tags, aliases).
Prompts, which MLflow stores as registered models tagged ``mlflow.prompt.is_prompt``, are
left out, as MLflow's ``search_registered_models`` leaves them out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..mlruns import _read_bytes, parse_meta

MODEL_COLUMNS = ["name", "creation_timestamp", "last_updated_timestamp", "description", "tags", "aliases"]
VERSION_COLUMNS = ["name", "version", "current_stage", "run_id", "source", "status", "description",
                   "creation_timestamp", "last_updated_timestamp", "user_id", "tags", "aliases"]
PROMPT_TAG = "mlflow.prompt.is_prompt"


def _is_prompt(tags: dict) -> bool:
    return str(tags.get(PROMPT_TAG, "")).lower() == "true"


def _files(folder: Path) -> dict[str, str]:
    out = {}
    try:
        for entry in os.scandir(folder):
            if entry.is_file():
                try:
                    out[entry.name] = _read_bytes(entry.path).decode("utf-8", errors="replace")
                except OSError:
                    pass
    except OSError:
        pass
    return out


def _file_models(store) -> list[tuple[Path, dict]]:
    root = store.root / "models"
    out = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if not entry.is_dir():
            continue
        try:
            meta = parse_meta(_read_bytes(os.path.join(entry.path, "meta.yaml"))) or {}
            if not isinstance(meta, dict):
                raise ValueError("it is not a key: value map")
        except FileNotFoundError:
            continue
        except Exception as exc:
            store.problem(os.path.join(entry.path, "meta.yaml"), f"malformed registered model: {exc}")
            continue
        out.append((Path(entry.path), meta))
    return out


def file_registered_models(store) -> pd.DataFrame:
    rows = []
    for folder, meta in _file_models(store):
        tags = _files(folder / "tags")
        if _is_prompt(tags):
            continue
        aliases = {k: int(v) if v.strip().isdigit() else v for k, v in _files(folder / "aliases").items()}
        rows.append([meta.get("name", folder.name), meta.get("creation_timestamp"),
                     meta.get("last_updated_timestamp"), meta.get("description"), tags, aliases])
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def file_model_versions(store, name: str | None = None) -> pd.DataFrame:
    rows = []
    for folder, meta in _file_models(store):
        model = meta.get("name", folder.name)
        if name is not None and model != name:
            continue
        tags = _files(folder / "tags")
        if _is_prompt(tags):
            continue
        aliases: dict[int, list[str]] = {}
        for alias, version in _files(folder / "aliases").items():
            if version.strip().isdigit():
                aliases.setdefault(int(version), []).append(alias)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            store.problem(folder, f"cannot list: {exc.strerror or exc}")
            continue
        for entry in entries:
            if not (entry.is_dir() and entry.name.startswith("version-")):
                continue
            try:
                v = parse_meta(_read_bytes(os.path.join(entry.path, "meta.yaml"))) or {}
                if not isinstance(v, dict):
                    raise ValueError("it is not a key: value map")
                version = int(v.get("version", entry.name.split("-", 1)[1]))
            except Exception as exc:
                store.problem(entry.path, f"malformed model version: {exc}")
                continue
            rows.append([model, version, v.get("current_stage") or "None", v.get("run_id"),
                         v.get("source"), v.get("status"), v.get("description"),
                         v.get("creation_timestamp"), v.get("last_updated_timestamp"),
                         v.get("user_id"), _files(Path(entry.path) / "tags"),
                         sorted(aliases.get(version, []))])
    frame = pd.DataFrame(rows, columns=VERSION_COLUMNS)
    return frame.sort_values(["name", "version"]).reset_index(drop=True)


def sql_registered_models(store) -> pd.DataFrame:
    if not store._has("registered_models"):
        return pd.DataFrame(columns=MODEL_COLUMNS)
    tags = _sql_tags(store, "registered_model_tags", ("name",))
    aliases: dict[str, dict] = {}
    if store._has("registered_model_aliases"):
        for alias, version, name in store._query("SELECT alias, version, name FROM registered_model_aliases"):
            aliases.setdefault(name, {})[alias] = version
    rows = []
    for name, created, updated, desc in store._query(
        "SELECT name, creation_time, last_updated_time, description FROM registered_models ORDER BY name"
    ):
        t = tags.get((name,), {})
        if not _is_prompt(t):
            rows.append([name, created, updated, desc, t, aliases.get(name, {})])
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def sql_model_versions(store, name: str | None = None) -> pd.DataFrame:
    if not store._has("model_versions"):
        return pd.DataFrame(columns=VERSION_COLUMNS)
    model_tags = _sql_tags(store, "registered_model_tags", ("name",))
    tags = _sql_tags(store, "model_version_tags", ("name", "version"))
    aliases: dict[tuple, list] = {}
    if store._has("registered_model_aliases"):
        for alias, version, model in store._query("SELECT alias, version, name FROM registered_model_aliases"):
            aliases.setdefault((model, int(version)), []).append(alias)
    user = store._col("model_versions", "user_id")
    sql = ("SELECT name, version, current_stage, run_id, source, status, description, creation_time, "
           f"last_updated_time, {user} FROM model_versions")
    rows = []
    for r in store._query(sql + " ORDER BY name, version"):
        model, version = r[0], int(r[1])
        if name is not None and model != name or _is_prompt(model_tags.get((model,), {})):
            continue
        rows.append([model, version, r[2] or "None", *r[3:], tags.get((model, version), {}),
                     sorted(aliases.get((model, version), []))])
    return pd.DataFrame(rows, columns=VERSION_COLUMNS)


def _sql_tags(store, table: str, key_cols: tuple[str, ...]) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    if not store._has(table):
        return out
    for row in store._query(f"SELECT {', '.join(key_cols)}, key, value FROM {table}"):
        ident = tuple(int(x) if c == "version" else x for c, x in zip(key_cols, row[:-2], strict=False))
        out.setdefault(ident, {})[row[-2]] = row[-1]
    return out
