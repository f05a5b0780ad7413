"""The registry as the view shows it: models first, versions as they come, never a guess.

A :class:`Listing` says which models' versions it holds in full (``loaded``), so a view
shows a model's versions only once they are all read, and "loading" before. Stores that
answer at once (SQLite, mlruns) are read in one go; a tracking server is read page by
page (:func:`read` calls ``partial`` with each larger listing). :func:`reread` reads again
only the models a write can have changed and keeps the rest of the last listing.
"""

from __future__ import annotations

from ..errors import Cancelled
from . import rest
from .schema import Listing, latest_per_stage, models_frame, versions_frame


def streams(store) -> bool:
    """Whether ``store`` is read page by page (a tracking server)."""
    return getattr(store, "kind", "") == "rest"


def _check(cancel) -> None:
    if cancel is not None and cancel():
        raise Cancelled()


def read(store, partial=None, cancel=None) -> Listing:
    """The whole registry of ``store``. For a server, ``partial(listing)`` gets the models
    page by page, then the versions page by page, each listing exact for what it says it
    holds."""
    if not streams(store):
        return Listing(store.registered_models(), store.model_versions())
    rows, latest = [], []
    for page_rows, page_latest in rest.model_pages(store):
        _check(cancel)
        rows += page_rows
        latest += page_latest
        if partial is not None:
            partial(Listing(models_frame(rows), versions_frame(), frozenset(),
                            latest_per_stage(versions_frame(latest))))
    models = models_frame(rows)
    latest_text = latest_per_stage(versions_frame(latest))
    done: list = []
    seen: set = set()
    for page_rows, last in rest.version_pages(store, rows):
        _check(cancel)
        done += page_rows
        seen.update(r[0] for r in page_rows)
        if partial is not None and last is not None:
            # In name order a model's versions come together: every model seen is complete
            # but the page's last. (The server's order, not Python's: PostgreSQL and MySQL
            # collations sort names differently.) A model without versions waits for the end.
            partial(Listing(models, versions_frame(done), frozenset(seen - {last}), latest_text))
    # Every page read: a model without versions is complete too.
    return Listing(models, versions_frame(done))


def reread(store, listing: Listing | None, names) -> Listing:
    """After a write that can only have changed the models ``names`` (a rename: old and new
    name), read those again from the store and keep the rest of ``listing``. Without a
    complete listing, or for a store that reads a private snapshot, everything is read."""
    names = [n for n in dict.fromkeys(names) if n]
    if listing is None or not listing.complete or not names:
        return read(store)
    if getattr(store, "snapshot_dir", None) is not None:
        store.refresh()  # a snapshot never changes: take a new one and read it all
        return read(store)
    if streams(store):
        fresh = [rest.registered_model(store, n) for n in names]
        fresh_rows = [r for f in fresh for r in f.values.tolist()]
    else:
        all_models = store.registered_models()
        fresh_rows = all_models[all_models["name"].isin(names)].values.tolist()
    keep = listing.models[~listing.models["name"].isin(names)].values.tolist()
    models = models_frame(keep + fresh_rows)
    versions = listing.versions[~listing.versions["name"].isin(names)].values.tolist()
    for row in fresh_rows:
        versions += store.model_versions(row[0]).values.tolist()
    if not streams(store):  # the models read anyway: a store's full list is the truth
        models = all_models
    return Listing(models, versions_frame(versions))
