"""Registry changes as values: the sentence a confirmation shows, the writes, the undo.

A :class:`Change` is built from what the dialog showed (the registry as last read) and
carries what must still hold when the user confirms. :func:`apply` checks that against
MLflow right before writing, so a sentence that went stale (someone moved a version,
deleted the model) is refused, and nothing is written, instead of doing something else
than it said. Qt-free: the dialogs show these sentences, the tests check them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import write
from .schema import latest_per_stage  # noqa: F401 - its home was here
from .write import STAGES, Conflict, Gone, WriteRefused

ARCHIVING_STAGES = ("Staging", "Production")


@dataclass(frozen=True)
class Change:
    """One registry change. ``steps``: (write function name, args after the URI).
    ``expect``: (what, key, value) facts checked before writing. ``inverse``: its undo."""

    model: str
    sentence: str
    steps: tuple = ()
    expect: tuple = ()
    inverse: Change | None = field(default=None, compare=False)
    detail: str = ""  # more than the sentence (a full description), shown under it

    @property
    def undoable(self) -> bool:
        return self.inverse is not None


def _short(text: str | None, width: int = 40) -> str:
    text = " ".join((text or "").split())
    if not text:
        return "(empty)"
    return f"'{text}'" if len(text) <= width else f"'{text[:width - 1]}…'"


def _stage(stage) -> str:
    return stage if stage in STAGES else "None"


# -- builders (the dialogs call these with the registry as they showed it) ------------------------

def transition(model: str, version: int, to_stage: str, stages: dict, archive_existing=False,
               _undo: bool = True) -> Change:
    """Move ``version`` to ``to_stage``; ``stages``: {version: stage} as shown."""
    version = int(version)
    stages = {int(v): _stage(s) for v, s in stages.items()}
    if version not in stages:
        raise Gone(f"{model} v{version} is not in the registry any more.")
    if to_stage not in STAGES:
        raise WriteRefused(f"{to_stage!r} is not a stage: use one of {', '.join(STAGES)}.")
    old = stages[version]
    if old == to_stage:
        raise WriteRefused(f"{model} v{version} is already in {to_stage}.")
    archive = bool(archive_existing) and to_stage in ARCHIVING_STAGES
    displaced = sorted(v for v, s in stages.items() if v != version and s == to_stage) if archive else []
    parts = [f"{model} v{version}: {old} -> {to_stage}"]
    parts += [f"v{v} ({to_stage}) -> Archived" for v in displaced]
    expect = [("stage", version, old)] + [("stage", v, to_stage) for v in displaced]
    if archive:  # nobody else may have entered the stage meanwhile: MLflow would archive them too
        expect.append(("in_stage", to_stage, tuple(displaced)))
    inverse = None
    if _undo:
        back = [("transition_stage", (model, version, old, False))]
        back += [("transition_stage", (model, v, to_stage, False)) for v in displaced]
        words = [f"{model} v{version}: {to_stage} -> {old}"]
        words += [f"v{v} (Archived) -> {to_stage}" for v in displaced]
        inverse = Change(model, "; ".join(words), tuple(back),
                         tuple([("stage", version, to_stage)] + [("stage", v, "Archived") for v in displaced]))
    return Change(model, "; ".join(parts), (("transition_stage", (model, version, to_stage, archive)),),
                  tuple(expect), inverse)


def set_alias(model: str, alias: str, version: int, aliases: dict, _undo: bool = True) -> Change:
    """Point ``alias`` at ``version``; ``aliases``: {alias: version} as shown."""
    alias = alias.strip()
    if not alias:
        raise WriteRefused("An alias needs a name.")
    version = int(version)
    prev = aliases.get(alias)
    prev = int(prev) if prev is not None else None
    if prev == version:
        raise WriteRefused(f"Alias '{alias}' of {model} already points at v{version}.")
    if prev is None:
        sentence = f"{model}: new alias '{alias}' -> v{version}"
        back = Change(model, f"{model}: alias '{alias}' removed (was v{version})",
                      (("delete_alias", (model, alias)),), (("alias", alias, version),))
    else:
        sentence = f"{model}: alias '{alias}' moves from v{prev} to v{version}"
        back = Change(model, f"{model}: alias '{alias}' moves from v{version} back to v{prev}",
                      (("set_alias", (model, alias, prev)),), (("alias", alias, version),))
    return Change(model, sentence, (("set_alias", (model, alias, version)),),
                  (("alias", alias, prev),), back if _undo else None)


def delete_alias(model: str, alias: str, aliases: dict) -> Change:
    if alias not in aliases:
        raise Gone(f"{model} has no alias '{alias}' any more.")
    version = int(aliases[alias])
    back = Change(model, f"{model}: alias '{alias}' -> v{version} again",
                  (("set_alias", (model, alias, version)),), (("alias", alias, None),))
    return Change(model, f"{model}: alias '{alias}' removed (it points at v{version})",
                  (("delete_alias", (model, alias)),), (("alias", alias, version),), back)


def model_description(model: str, old: str | None, new: str) -> Change:
    old = old or ""
    if old == new:
        raise WriteRefused("The description is unchanged.")
    back = Change(model, f"{model}: description {_short(new)} -> {_short(old)}",
                  (("set_model_description", (model, old)),), (("description", None, new),),
                  detail=old)
    return Change(model, f"{model}: description {_short(old)} -> {_short(new)}",
                  (("set_model_description", (model, new)),), (("description", None, old),),
                  back, detail=new)


def version_description(model: str, version: int, old: str | None, new: str) -> Change:
    old, version = old or "", int(version)
    if old == new:
        raise WriteRefused("The description is unchanged.")
    back = Change(model, f"{model} v{version}: description {_short(new)} -> {_short(old)}",
                  (("set_version_description", (model, version, old)),),
                  (("version_description", version, new),), detail=old)
    return Change(model, f"{model} v{version}: description {_short(old)} -> {_short(new)}",
                  (("set_version_description", (model, version, new)),),
                  (("version_description", version, old),), back, detail=new)


def tag(model: str, key: str, value: str | None, tags: dict, version: int | None = None,
        _undo: bool = True) -> Change:
    """Set tag ``key`` to ``value`` (None: delete it) on the model or one version."""
    key = key.strip()
    if not key:
        raise WriteRefused("A tag needs a key.")
    where = f"{model} v{int(version)}" if version is not None else model
    old = tags.get(key)
    if old == value:
        raise WriteRefused(f"Tag '{key}' of {where} is unchanged.")
    if value is None:
        sentence = f"{where}: tag '{key}' removed (was {_short(old)})"
    elif old is None:
        sentence = f"{where}: new tag '{key}' = {_short(value)}"
    else:
        sentence = f"{where}: tag '{key}' {_short(old)} -> {_short(value)}"
    if version is None:
        step = (("set_model_tag", (model, key, value)) if value is not None
                else ("delete_model_tag", (model, key)))
        expect = ("tag", key, old)
    else:
        version = int(version)
        step = (("set_version_tag", (model, version, key, value)) if value is not None
                else ("delete_version_tag", (model, version, key)))
        expect = ("version_tag", (version, key), old)
    inverse = None
    if _undo:
        after = dict(tags)
        if value is None:
            after.pop(key, None)
        else:
            after[key] = value
        inverse = tag(model, key, old, after, version, _undo=False)
    return Change(model, sentence, (step,), (expect,), inverse)


def rename(model: str, new_name: str, names=()) -> Change:
    new_name = new_name.strip()
    if not new_name:
        raise WriteRefused("A model needs a name.")
    if new_name == model:
        raise WriteRefused("The name is unchanged.")
    if new_name in set(names):
        raise WriteRefused(f"A registered model named {new_name} already exists.")
    back = Change(new_name, f"Rename the model {new_name} back to {model}",
                  (("rename_model", (new_name, model)),), (("exists", None, True),))
    return Change(model, f"Rename the model {model} to {new_name} (its versions and aliases go "
                  "with it)", (("rename_model", (model, new_name)),), (("exists", None, True),),
                  back)


def delete_version(model: str, version: int, stage: str, aliases=()) -> Change:
    version = int(version)
    also = f"; aliases {', '.join(sorted(aliases))} removed with it" if aliases else ""
    return Change(model, f"Delete {model} v{version} ({_stage(stage)}){also}. This cannot be undone.",
                  (("delete_version", (model, version)),), (("stage", version, _stage(stage)),))


def delete_model(model: str, n_versions: int) -> Change:
    what = f"its {n_versions} version{'s' if n_versions != 1 else ''}" if n_versions else "no versions"
    return Change(model, f"Delete the registered model {model} with {what} and all its aliases and "
                  "tags. This cannot be undone.", (("delete_model", (model,)),),
                  (("versions", None, n_versions),))


def register(model: str, source: str, run_id: str | None, new_model: bool,
             model_id: str | None = None) -> Change:
    model = model.strip()
    if not model:
        raise WriteRefused("A registered model needs a name.")
    if not source:
        raise WriteRefused("Pick what to register: a logged model or an artifact path.")
    if new_model:
        sentence = f"Create the registered model {model} and register {source} as its v1"
    else:
        sentence = f"Register {source} as a new version of {model}"
    return Change(model, sentence, (("register", (model, source, run_id)),),
                  () if new_model else (("exists", None, True),),
                  detail="create" if new_model else "", inverse=None)


# -- applying -----------------------------------------------------------------------------------

def check(change: Change, state: dict) -> None:
    """Raise :class:`Conflict` (or :class:`Gone`) if ``state`` (MLflow's view now, as
    :func:`write.model_state` returns it) no longer matches what the dialog showed."""
    versions = state["versions"]
    for what, key, value in change.expect:
        if what == "stage":
            if key not in versions:
                raise Gone(f"{change.model} v{key} no longer exists (deleted meanwhile). "
                           "Nothing was written.")
            now = versions[key]["stage"]
            if now != value:
                raise Conflict(f"{change.model} v{key} is now in {now}, not {value} (changed "
                               "meanwhile). Nothing was written.")
        elif what == "in_stage":
            now = tuple(sorted(v for v, d in versions.items() if d["stage"] == key))
            if set(now) - set(value):
                extra = ", ".join(f"v{v}" for v in sorted(set(now) - set(value)))
                raise Conflict(f"{change.model} {extra} entered {key} meanwhile; archiving would "
                               "move it too. Nothing was written.")
        elif what == "alias":
            now = state["aliases"].get(key)
            if now != value:
                was = f"v{now}" if now is not None else "nowhere"
                raise Conflict(f"Alias '{key}' of {change.model} now points {was} (changed "
                               "meanwhile). Nothing was written.")
        elif what == "description":
            if state["description"] != (value or ""):
                raise Conflict(f"The description of {change.model} changed meanwhile. Nothing "
                               "was written.")
        elif what == "version_description":
            if key not in versions:
                raise Gone(f"{change.model} v{key} no longer exists. Nothing was written.")
            if versions[key]["description"] != (value or ""):
                raise Conflict(f"The description of {change.model} v{key} changed meanwhile. "
                               "Nothing was written.")
        elif what == "tag":
            if state["tags"].get(key) != value:
                raise Conflict(f"Tag '{key}' of {change.model} changed meanwhile. Nothing was "
                               "written.")
        elif what == "version_tag":
            version, k = key
            if version not in versions:
                raise Gone(f"{change.model} v{version} no longer exists. Nothing was written.")
            if versions[version]["tags"].get(k) != value:
                raise Conflict(f"Tag '{k}' of {change.model} v{version} changed meanwhile. "
                               "Nothing was written.")
        elif what == "versions":
            if len(versions) != value:
                raise Conflict(f"{change.model} has {len(versions)} versions now, not {value} "
                               "(changed meanwhile). Nothing was written.")


def apply(change: Change, uri: str):
    """Check what the dialog showed still holds, then write through :mod:`write`; returns
    what the last write returned (the new version for a registration)."""
    if change.expect:
        check(change, write.model_state(uri, change.model))
    result = None
    for name, args in change.steps:
        if name == "register":
            model, source, run_id = args
            result = write.register(uri, model, source, run_id, create=change.detail == "create")
        else:
            result = getattr(write, name)(uri, *args)
    return result


# -- words for other views ------------------------------------------------------------------------

def registered_as(versions, run_id: str) -> list[str]:
    """"credit-model v3, Production, @champion" for each version made from ``run_id``
    (``versions``: the frame of ``store.model_versions()``)."""
    if versions is None or len(versions) == 0 or not run_id:
        return []
    rows = versions[versions["run_id"] == run_id]
    out = []
    for r in rows.sort_values(["name", "version"]).itertuples(index=False):
        words = [f"{r.name} v{int(r.version)}"]
        if r.current_stage and r.current_stage != "None":
            words.append(str(r.current_stage))
        aliases = list(r.aliases) if isinstance(r.aliases, (list, tuple)) else []
        if aliases:
            words.append(" ".join(f"@{a}" for a in aliases))
        out.append(", ".join(words))
    return out
