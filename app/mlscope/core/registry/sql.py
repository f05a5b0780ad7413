"""Registry reads of MLflow's SQL schema, through a store's public query surface.

``db`` is an :class:`~mlscope.core.sqlstore.SqlStore` (or anything with its ``has(table,
column=None)``, ``column(table, name)`` and ``query(sql)``): tables and columns an older
schema lacks read as empty or NULL.
"""

from __future__ import annotations

from .schema import is_prompt, models_frame, version_row, versions_frame


def _where(name: str | None) -> tuple[str, tuple]:
    """The WHERE clause (and its parameters) of one model's rows, or of all."""
    return (" WHERE name = ?", (name,)) if name is not None else ("", ())


def _tags(db, table: str, key_cols: tuple[str, ...], name: str | None = None) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    if not db.has(table):
        return out
    where, params = _where(name)
    for row in db.query(f"SELECT {', '.join(key_cols)}, key, value FROM {table}{where}",
                        params or None):
        ident = tuple(int(x) if c == "version" else x for c, x in zip(key_cols, row[:-2], strict=False))
        out.setdefault(ident, {})[row[-2]] = row[-1]
    return out


def _aliases(db, name: str | None = None) -> list[tuple]:
    """(alias, version, model name) rows."""
    if not db.has("registered_model_aliases"):
        return []
    where, params = _where(name)
    return db.query(f"SELECT alias, version, name FROM registered_model_aliases{where}",
                    params or None)


def registered_models(db):
    if not db.has("registered_models"):
        return models_frame()
    tags = _tags(db, "registered_model_tags", ("name",))
    aliases: dict[str, dict] = {}
    for alias, version, name in _aliases(db):
        aliases.setdefault(name, {})[alias] = int(version)
    rows = []
    for name, created, updated, desc in db.query(
        "SELECT name, creation_time, last_updated_time, description FROM registered_models"
    ):
        t = tags.get((name,), {})
        if not is_prompt(t):
            rows.append([name, created, updated, desc, t, aliases.get(name, {})])
    return models_frame(rows)


def model_versions(db, name: str | None = None):
    """Versions of every model, or (``name``) of one, read with that name in the queries:
    what a re-read after a write to one model costs."""
    if not db.has("model_versions"):
        return versions_frame()
    model_tags = _tags(db, "registered_model_tags", ("name",), name)
    tags = _tags(db, "model_version_tags", ("name", "version"), name)
    aliases: dict[tuple, list] = {}
    for alias, version, model in _aliases(db, name):
        aliases.setdefault((model, int(version)), []).append(alias)
    where, params = _where(name)
    rows = []
    for r in db.query("SELECT name, version, current_stage, run_id, source, status, description, "
                      f"creation_time, last_updated_time, {db.column('model_versions', 'user_id')} "
                      f"FROM model_versions{where}", params or None):
        model, version = r[0], int(r[1])
        if name is not None and model != name or is_prompt(model_tags.get((model,), {})):
            continue
        rows.append(version_row(model, version, *r[2:], tags.get((model, version), {}),
                                aliases.get((model, version), [])))
    return versions_frame(rows)
