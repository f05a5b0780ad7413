"""Registry reads of a tracking server, through its REST API.

``server`` is a :class:`~mlscope.core.reststore.RestStore` (its ``paged(method, path, key,
args)``, ``problem(where, message)`` and ``uri``). A server without a registry (or one that
refuses it) gives empty frames and one problem, not an error.
"""

from __future__ import annotations

from ..errors import ServerError
from .schema import is_prompt, models_frame, version_row, versions_frame


def _tags(item: dict) -> dict:
    return {t["key"]: t.get("value") for t in item.get("tags", [])}


def _all(server, path: str, key: str, args: dict) -> list | None:
    try:
        return list(server.paged("GET", path, key, args))
    except ServerError as exc:
        server.problem(server.uri, f"model registry unavailable: {exc}")
        return None


def registered_models(server):
    models = _all(server, "registered-models/search", "registered_models", {"max_results": 1000})
    rows = []
    for m in models or []:
        tags = _tags(m)
        if is_prompt(tags):
            continue
        aliases = {a["alias"]: int(a["version"]) for a in m.get("aliases", [])}
        rows.append([m.get("name"), m.get("creation_timestamp"), m.get("last_updated_timestamp"),
                     m.get("description"), tags, aliases])
    return models_frame(rows)


def model_versions(server, name: str | None = None):
    # A name with a quote cannot go into MLflow's filter syntax: ask for all, keep ours.
    params = {"filter": f"name='{name}'"} if name and "'" not in name else {}
    versions = _all(server, "model-versions/search", "model_versions", {**params, "max_results": 10000})
    if versions is None:
        return versions_frame()
    # model-versions/search leaves aliases out (and prompts in); the registered models carry
    # the aliases and tell the prompts apart.
    models = registered_models(server)
    by_version: dict[tuple, set] = {}
    for model, aliases in zip(models["name"], models["aliases"], strict=True):
        for alias, version in aliases.items():
            by_version.setdefault((model, int(version)), set()).add(alias)
    shown = set(models["name"])
    rows = []
    for v in versions:
        model, version = v.get("name"), int(v.get("version"))
        if name is not None and model != name or model not in shown:
            continue
        rows.append(version_row(model, version, v.get("current_stage"), v.get("run_id"), v.get("source"),
                                v.get("status"), v.get("description"), v.get("creation_timestamp"),
                                v.get("last_updated_timestamp"), v.get("user_id"), _tags(v),
                                by_version.get((model, version), set()) | set(v.get("aliases", []))))
    return versions_frame(rows)
