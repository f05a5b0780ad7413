"""Registry reads of a tracking server, through its REST API.

``server`` is a :class:`~mlscope.core.reststore.RestStore` (its ``paged(method, path, key,
args)``, ``_call(method, path, params=...)``, ``problem(where, message)`` and ``uri``). A
server without a registry (or one that refuses it) gives empty frames and one problem, not
an error.

The server's time for all the models hardly depends on the page size (1,000 models x 10
versions on a local server: 1.9-2.5 s at 100 to 1,000 a page, load 12; `bench_registry.py
--page-sizes`), so models come 200 a page and the first screen shows after one fifth of it.
Versions come 1,000 a page (smaller pages cost the server more: 8.9 s at 100 a page, 3.3 s
at 1,000). The registered models carry their aliases and latest version per stage, so the
models list needs nothing else; versions are asked for in name order so that a model is
known complete as soon as a page has gone past it.
"""

from __future__ import annotations

from ..errors import ServerError
from .schema import is_prompt, models_frame, version_row, versions_frame

MODELS_PAGE = 200
VERSIONS_PAGE = 1000
NAME_ORDER = ["name ASC", "version_number ASC"]


def _tags(item: dict) -> dict:
    return {t["key"]: t.get("value") for t in item.get("tags", [])}


def _pages(server, path: str, key: str, args: dict):
    """The items of a paged search, one list per page; None (and one problem) if the server
    refuses the registry."""
    token = None
    while True:
        page = {**args, **({"page_token": token} if token else {})}
        try:
            body = server._call("GET", path, params=page)
        except ServerError as exc:
            server.problem(server.uri, f"model registry unavailable: {exc}")
            yield None
            return
        yield body.get(key, [])
        token = body.get("next_page_token")
        if not token:
            return


def model_row(m: dict) -> list | None:
    """A registered model of the REST API -> a MODEL_COLUMNS row (None for a prompt)."""
    tags = _tags(m)
    if is_prompt(tags):
        return None
    aliases = {a["alias"]: int(a["version"]) for a in m.get("aliases", [])}
    return [m.get("name"), m.get("creation_timestamp"), m.get("last_updated_timestamp"),
            m.get("description"), tags, aliases]


def latest_rows(m: dict, row: list) -> list[list]:
    """The model's ``latest_versions`` (the newest version in each stage) as version rows;
    ``row``: its MODEL_COLUMNS row (for the aliases)."""
    aliases = _by_version([row])
    return [_version(v, aliases) for v in m.get("latest_versions", []) or []]


def _by_version(model_rows) -> dict[tuple, set]:
    out: dict[tuple, set] = {}
    for row in model_rows:
        for alias, version in (row[5] or {}).items():
            out.setdefault((row[0], int(version)), set()).add(alias)
    return out


def _version(v: dict, aliases: dict) -> list:
    model, version = v.get("name"), int(v.get("version"))
    return version_row(model, version, v.get("current_stage"), v.get("run_id"), v.get("source"),
                       v.get("status"), v.get("description"), v.get("creation_timestamp"),
                       v.get("last_updated_timestamp"), v.get("user_id"), _tags(v),
                       aliases.get((model, version), set()) | set(v.get("aliases", [])))


def model_pages(server):
    """Each page of registered models as it comes: (model rows, latest-version rows) of that
    page, prompts left out; stops at the first refusal (a problem is recorded)."""
    for page in _pages(server, "registered-models/search", "registered_models",
                       {"max_results": MODELS_PAGE}):
        if page is None:
            return
        rows, latest = [], []
        for m in page:
            row = model_row(m)
            if row is not None:
                rows.append(row)
                latest += latest_rows(m, row)
        yield rows, latest


def version_pages(server, model_rows: list):
    """Each page of model versions, in name and version order, as version rows of the
    ``model_rows`` models (their aliases added; prompts and models not listed left out),
    with the name of the page's last version (every model before it is complete)."""
    shown = {r[0] for r in model_rows}
    aliases = _by_version(model_rows)
    for page in _pages(server, "model-versions/search", "model_versions",
                       {"max_results": VERSIONS_PAGE, "order_by": NAME_ORDER}):
        if page is None:
            return
        rows = [_version(v, aliases) for v in page if v.get("name") in shown]
        yield rows, (page[-1].get("name") if page else None)


def registered_models(server):
    rows = [r for page_rows, _latest in model_pages(server) for r in page_rows]
    return models_frame(rows)


def registered_model(server, name: str):
    """One model by name (``registered-models/get``): a frame of one row, or none if it is
    not there (deleted, renamed, or a prompt)."""
    try:
        body = server._call("GET", "registered-models/get", params={"name": name})
    except ServerError as exc:
        if getattr(exc, "status", None) == 404:
            return models_frame()
        server.problem(server.uri, f"model registry unavailable: {exc}")
        return models_frame()
    row = model_row(body.get("registered_model", {}))
    return models_frame([row] if row else [])


def _quoted(name: str) -> str:
    return f'"{name}"' if "'" in name else f"'{name}'"


def model_versions(server, name: str | None = None, models=None):
    """Versions of every model (``models``: the registered models already read, whose
    aliases they take; read here if not given), or of ``name`` alone (two small requests)."""
    if name is not None:
        models = registered_model(server, name)
        if not len(models):
            return versions_frame()
        if '"' in name and "'" in name:  # no literal of MLflow's syntax holds both quotes
            args = {"max_results": VERSIONS_PAGE, "order_by": NAME_ORDER}
        else:
            args = {"filter": f"name = {_quoted(name)}", "max_results": VERSIONS_PAGE}
        model_rows = models.values.tolist()
        aliases = _by_version(model_rows)
        rows = []
        for page in _pages(server, "model-versions/search", "model_versions", args):
            if page is None:
                break
            rows += [_version(v, aliases) for v in page if v.get("name") == name]
        return versions_frame(rows)
    if models is None:
        models = registered_models(server)
    rows = [r for page, _last in version_pages(server, models.values.tolist()) for r in page]
    return versions_frame(rows)
