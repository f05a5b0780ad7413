"""Registry reads of an mlruns folder's ``models/`` (one folder per model, ``version-N`` inside)."""

from __future__ import annotations

import os
from pathlib import Path

from ..mlruns import parse_meta, read_bytes
from .schema import is_prompt, models_frame, version_row, versions_frame


def _files(folder: Path) -> dict[str, str]:
    """name -> text of the files in a folder (tags/, aliases/); nothing when it is missing."""
    out = {}
    try:
        for entry in os.scandir(folder):
            if entry.is_file():
                try:
                    out[entry.name] = read_bytes(entry.path).decode("utf-8", errors="replace")
                except OSError:
                    pass
    except OSError:
        pass
    return out


def _meta(path: str) -> dict:
    meta = parse_meta(read_bytes(path)) or {}
    if not isinstance(meta, dict):
        raise ValueError("it is not a key: value map")
    return meta


def _models(root: Path, problem) -> list[tuple[Path, dict, dict]]:
    """(folder, meta, tags) of every registered model that is not a prompt."""
    out = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if not entry.is_dir():
            continue
        path = os.path.join(entry.path, "meta.yaml")
        try:
            meta = _meta(path)
        except FileNotFoundError:
            continue
        except Exception as exc:
            problem(path, f"malformed registered model: {exc}")
            continue
        tags = _files(Path(entry.path) / "tags")
        if not is_prompt(tags):
            out.append((Path(entry.path), meta, tags))
    return out


def registered_models(root: Path, problem):
    """The registered models under ``root`` (an mlruns ``models/`` folder); what cannot be
    read goes to ``problem(where, message)``."""
    rows = []
    for folder, meta, tags in _models(root, problem):
        aliases = {k: int(v) if v.strip().isdigit() else v for k, v in _files(folder / "aliases").items()}
        rows.append([meta.get("name", folder.name), meta.get("creation_timestamp"),
                     meta.get("last_updated_timestamp"), meta.get("description"), tags, aliases])
    return models_frame(rows)


def model_versions(root: Path, problem, name: str | None = None):
    rows = []
    for folder, meta, _tags in _models(root, problem):
        model = meta.get("name", folder.name)
        if name is not None and model != name:
            continue
        aliases: dict[int, list[str]] = {}
        for alias, version in _files(folder / "aliases").items():
            if version.strip().isdigit():
                aliases.setdefault(int(version), []).append(alias)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problem(folder, f"cannot list: {exc.strerror or exc}")
            continue
        for entry in entries:
            if not (entry.is_dir() and entry.name.startswith("version-")):
                continue
            try:
                v = _meta(os.path.join(entry.path, "meta.yaml"))
                version = int(v.get("version", entry.name.split("-", 1)[1]))
            except Exception as exc:
                problem(entry.path, f"malformed model version: {exc}")
                continue
            rows.append(version_row(model, version, v.get("current_stage"), v.get("run_id"),
                                    v.get("source"), v.get("status"), v.get("description"),
                                    v.get("creation_timestamp"), v.get("last_updated_timestamp"),
                                    v.get("user_id"), _files(Path(entry.path) / "tags"),
                                    aliases.get(version, [])))
    return versions_frame(rows)
