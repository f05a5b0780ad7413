"""The model registry feature: reads the registry on the task runner, opens the dialogs,
sends each confirmed change through the one write door, then re-reads the store.

Nothing here writes on its own: a write starts only from a dialog's confirmation page
(``ChangeDialog.confirmed``), and what the view shows afterwards is what the store says
when read again, never what the change was meant to do: the models the write can have
changed are read again (:func:`~mlscope.core.registry.listing.reread`).

A tracking server is read page by page: the models list shows as its pages come, each
model's versions once they are all read (a model opened before that is read on its own).
"""

from __future__ import annotations

import pandas as pd
from PySide6.QtCore import Signal

from mlscope.core.errors import user_message
from mlscope.core.registry import changes as C
from mlscope.core.registry import listing as L
from mlscope.core.registry import write as W

from ..dialogs import registry as D
from ..tasks import Tasks
from ..views.registry import RegistryView
from .base import Controller


def read_registry(store, fresh: bool = False):
    """Worker: (models, versions) as the store says now. Registry reads are never cached,
    except by a store that reads a private snapshot: after a write (``fresh``) it takes a
    new one. Other stores are not refreshed, which would drop their run tables and problems."""
    if fresh and getattr(store, "snapshot_dir", None) is not None:
        store.refresh()
    return store.registered_models(), store.model_versions()


def changed_models(change: C.Change) -> list[str]:
    """The models a change can have changed: its own, and a rename's new name."""
    names = [change.model]
    for step, args in change.steps:
        if step == "rename_model":
            names.append(args[1])
    return names


def _value(x):
    """A frame cell with pandas' missing markers (NaN) as None."""
    return None if isinstance(x, float) and x != x else x


def _warm_up(progress, cancel):
    """Worker: import MLflow's client while the user fills a dialog (2-3 s the first time)."""
    import mlflow.tracking  # noqa: F401


class RegistryController(Controller):
    """Registered models and versions; stage, alias, description, tag, rename, delete and
    register dialogs; undo of the last reversible change; "Upgrade database..."."""

    title = "Registry"
    placement = "left"
    registrationsChanged = Signal()  # versions re-read: ask registered_as(run_id) again
    storeReopened = Signal(object)  # after "Upgrade database...": the reopened store
    # A source run that is not in the runs table: (run id, its experiment id); the page
    # selects that experiment, then the run once its runs are read.
    runInExperimentRequested = Signal(str, str)

    def __init__(self, tasks: Tasks, store=None, parent=None):
        super().__init__(tasks, None, parent)
        self.view = RegistryView()
        self.models = pd.DataFrame()
        self.versions = None  # every model's versions, once all are read
        self.listing: L.Listing | None = None  # what the view shows (maybe still coming)
        self._alone: dict[str, pd.DataFrame] = {}  # models read on their own while streaming
        self._frame_runs = pd.Index([])  # the runs in the table (no set: 100,000 runs cost 0.3 s)
        self.dialog: D.ChangeDialog | None = None
        self.last: C.Change | None = None  # the last write, offered for undo
        self._runs: list[str] = []
        self._warm = False
        self._wanted = ""  # a model to show once the registry is read
        self.view.actionRequested.connect(self._action)
        self.view.runActivated.connect(self.open_run)
        self.view.modelChanged.connect(self._model_opened)
        self.view.undoRequested.connect(self.undo)
        self.view.upgradeRequested.connect(self.upgrade)
        if store is not None:
            self.set_store(store)

    # -- the page's slots ------------------------------------------------------------------------
    def set_store(self, store) -> None:
        super().set_store(store)
        self.last = None
        self.listing, self.versions, self._alone = None, None, {}
        self.models = pd.DataFrame()
        self.view.show_done("", False)
        self.view.set_writable(True)
        if store is None:
            return
        self.reload()
        self.start("registry-writable", lambda p, c: W.read_only_reason(store),
                   lambda reason, s=store: self._writable(s, reason))

    def set_runs(self, run_ids: list[str]) -> None:
        self._runs = list(run_ids or [])

    def set_frame(self, frame) -> None:
        ids = frame["run_id"] if frame is not None and "run_id" in getattr(frame, "columns", ()) else []
        self._frame_runs = pd.Index(ids)

    def reload(self, fresh: bool = False) -> None:
        """Read the registry again (after a write: ``fresh``, so no cache answers)."""
        store = self.store
        if store is None:
            return
        self._alone = {}

        def work(progress, cancel, partial):
            if fresh and getattr(store, "snapshot_dir", None) is not None:
                store.refresh()
            return L.read(store, partial, cancel)

        self.start("registry-read", work, lambda res, s=store: self._loaded(s, res),
                   on_partial=lambda res, s=store: self._partial(s, res))

    def reread(self, names: list[str]) -> None:
        """After a write: read again what it can have changed (``names``), from the store."""
        store, listing = self.store, self.listing
        if store is None:
            return
        if listing is None or not listing.complete:
            self.reload(fresh=True)
            return
        self.start("registry-read", lambda p, c: L.reread(store, listing, names),
                   lambda res, s=store: self._loaded(s, res))

    def show_model(self, name: str) -> bool:
        """Make ``name`` the current model (``--model NAME``); if the registry is still being
        read, once it is. False if the store has no such model."""
        if self.versions is None or self.running("registry-read"):
            self._wanted = name
            return True
        return self.view.select_model(name)

    def open_run(self, run_id: str) -> None:
        """A version's source run: jump to it in the table, or, when it is in another
        experiment, ask the page to open that experiment and then select it."""
        store = self.store
        if not run_id or store is None:
            return
        if run_id in self._frame_runs:
            self.runActivated.emit(run_id)
            return

        def work(progress, cancel):
            return str(store.run(run_id)["info"]["experiment_id"])

        def found(experiment_id):
            if store is self.store:
                self.runInExperimentRequested.emit(run_id, experiment_id)

        def missing(exc):
            self.statusMessage.emit(f"The source run {run_id} cannot be opened: "
                                    f"{user_message(exc)}")

        self.start("registry-run", work, found, missing)

    def registered_as(self, run_id: str) -> list[str]:
        """For the run detail: ["credit-model v3, Production, @champion", ...] (from the last
        read; ``registrationsChanged`` says when to ask again)."""
        return C.registered_as(self.versions, run_id)

    # -- reads -----------------------------------------------------------------------------------
    def _partial(self, store, listing: L.Listing) -> None:
        if store is not self.store:
            return
        for name, versions in self._alone.items():
            listing = listing.with_model(name, versions)
        self.listing = listing
        self.models = listing.models
        self.view.set_listing(listing)
        if self._wanted and self.view.select_model(self._wanted):
            self._wanted = ""  # --model NAME: shown as soon as it is listed

    def _model_opened(self, name: str) -> None:
        """A model made current while its versions are still coming: read its own."""
        listing, store = self.listing, self.store
        if not name or listing is None or listing.has_versions(name) or store is None:
            return
        self.start("registry-model", lambda p, c: store.model_versions(name),
                   lambda v, s=store: self._model_read(s, name, v), lambda _exc: None)

    def _model_read(self, store, name: str, versions) -> None:
        if store is not self.store or self.listing is None or self.listing.complete:
            return
        self._alone[name] = versions
        self._partial(store, self.listing)

    def _loaded(self, store, result) -> None:
        if store is not self.store:
            return
        listing = result if isinstance(result, L.Listing) else L.Listing(*result)
        self.listing, self._alone = listing, {}
        self.models, self.versions = listing.models, listing.versions
        self.view.set_listing(listing)
        if self._wanted:
            wanted, self._wanted = self._wanted, ""
            if not self.view.select_model(wanted):
                self.statusMessage.emit(f"No registered model named {wanted} in this store.")
        self.registrationsChanged.emit()

    def _writable(self, store, reason: str) -> None:
        if store is not self.store:
            return
        # Offered for SQLite files only: mlscope can copy those to a backup first; a server
        # database's admin backs it up and runs `mlflow db upgrade` (the reason says so).
        upgradable = bool(reason) and "schema" in reason and str(store.uri).startswith("sqlite")
        self.view.set_writable(not reason, reason, upgradable)

    def _version_rows(self, model: str) -> pd.DataFrame:
        listing = self.listing
        if listing is None or not listing.has_versions(model):
            return pd.DataFrame(columns=["name", "version", "current_stage"])
        v = listing.versions
        return v[v["name"] == model]

    def _stages(self, model: str) -> dict:
        v = self._version_rows(model)
        return dict(zip(v["version"].astype(int), v["current_stage"], strict=True))

    def _aliases(self, model: str) -> dict:
        m = self.models[self.models["name"] == model]
        return dict(m["aliases"].iloc[0]) if len(m) else {}

    def _model_field(self, model: str, field: str):
        m = self.models[self.models["name"] == model]
        return _value(m[field].iloc[0]) if len(m) else None

    def _version_field(self, model: str, version: int, field: str):
        v = self._version_rows(model)
        v = v[v["version"].astype(int) == int(version)]
        return _value(v[field].iloc[0]) if len(v) else None

    # -- dialogs ---------------------------------------------------------------------------------
    def _action(self, kind: str, model: str, version) -> None:
        if self.store is None:
            return
        if kind != "register" and (self.listing is None or not self.listing.has_versions(model)):
            # a dialog's sentence ("with its 10 versions") must not come from half a read
            self.statusMessage.emit(f"The versions of {model} are still being read; try again "
                                    "in a moment.")
            return
        parent = self.view
        if kind == "stage":
            dlg = D.StageDialog(model, version, self._stages(model), parent)
        elif kind == "alias":
            dlg = D.AliasDialog(model, list(self._stages(model)), self._aliases(model), version, parent)
        elif kind == "model_description":
            dlg = D.DescriptionDialog(model, self._model_field(model, "description"), None, parent)
        elif kind == "version_description":
            dlg = D.DescriptionDialog(model, self._version_field(model, version, "description"),
                                      version, parent)
        elif kind == "model_tag":
            dlg = D.TagDialog(model, self._model_field(model, "tags") or {}, None, parent)
        elif kind == "version_tag":
            dlg = D.TagDialog(model, self._version_field(model, version, "tags") or {}, version,
                              parent)
        elif kind == "rename":
            dlg = D.RenameDialog(model, list(self.models["name"]), parent)
        elif kind == "delete_version":
            aliases = [a for a, v in self._aliases(model).items() if int(v) == int(version)]
            change = C.delete_version(model, version, self._stages(model).get(int(version)), aliases)
            dlg = D.ChangeDialog(f"Delete {model} v{version}", change, parent)
        elif kind == "delete_model":
            change = C.delete_model(model, len(self._stages(model)))
            dlg = D.ChangeDialog(f"Delete {model}", change, parent, type_to_confirm=model)
        elif kind == "register":
            self.register_from_run()
            return
        elif kind.startswith("delete_alias:"):
            alias = kind.split(":", 1)[1]
            dlg = D.ChangeDialog(f"Delete alias {alias}", C.delete_alias(model, alias,
                                                                         self._aliases(model)), parent)
        else:
            return
        self.show_dialog(dlg)

    def register_from_run(self, run_id: str | None = None) -> D.RegisterDialog | None:
        """The dialog that registers the current run's logged model or an artifact path."""
        run_id = run_id or (self._runs[0] if self._runs else None)
        if self.store is None or not run_id:
            self.statusMessage.emit("Select a run to register a model from.")
            return None
        candidates = []
        try:
            models = self.store.logged_models(view="all")
            for r in models[models["source_run_id"] == run_id].itertuples(index=False):
                candidates.append((f"{r.name} (logged model {r.model_id})", f"models:/{r.model_id}"))
        except Exception:  # noqa: BLE001 - the artifact path below still works
            pass
        candidates.append(("artifact path 'model' of the run", f"runs:/{run_id}/model"))
        dlg = D.RegisterDialog(run_id, candidates, list(self.models.get("name", [])), self.view)
        self.show_dialog(dlg)
        return dlg

    def show_dialog(self, dlg: D.ChangeDialog) -> None:
        if self.dialog is not None and self.dialog.busy:
            dlg.deleteLater()
            self.statusMessage.emit("A registry change is still being written.")
            return
        self.dialog = dlg
        dlg.confirmed.connect(lambda change, d=dlg: self._write(d, change))
        if not self._warm:
            self._warm = True
            self.start("registry-warm-up", _warm_up, lambda _r: None, lambda _e: None)
        dlg.open()

    # -- writes ----------------------------------------------------------------------------------
    def _write(self, dlg: D.ChangeDialog, change: C.Change) -> None:
        store = self.store
        try:
            uri = W.write_uri(store)
        except W.StoreError as exc:
            dlg.show_error(str(exc))
            return
        self.start("registry-write", lambda p, c: C.apply(change, uri),
                   lambda result: self._written(store, dlg, change, result),
                   lambda exc: self._refused(store, dlg, exc))

    def _written(self, store, dlg, change: C.Change, result) -> None:
        dlg.finish()
        self.last = change if change.undoable else None
        self.view.show_done(change.sentence, change.undoable)
        self.statusMessage.emit(f"Written: {change.sentence}")
        if store is self.store:
            self.reread(changed_models(change))
            if change.steps and change.steps[0][0] == "rename_model":
                new_name = change.steps[0][1][1]
                self.view.expect_model(new_name)  # the re-read shows it under its new name

    def _refused(self, store, dlg, exc) -> None:
        dlg.show_error(user_message(exc))
        self.statusMessage.emit(user_message(exc))
        if store is self.store:  # what the store says now (another client may have changed it)
            self.reread(changed_models(dlg.change) if dlg.change is not None else [])

    def undo(self) -> None:
        """Offer the inverse of the last write, with its own confirmation."""
        if self.last is None or self.last.inverse is None:
            return
        change = self.last.inverse
        self.last = None
        self.view.show_done("", False)
        self.show_dialog(D.ChangeDialog("Undo", change, self.view))

    # -- "Upgrade database..." ---------------------------------------------------------------------
    def upgrade(self) -> D.ChangeDialog | None:
        store = self.store
        if store is None:
            return None
        uri = W.database_uri(store)
        where = getattr(store, "path", None) or getattr(store, "display", store.uri)
        change = C.Change("", f"Copy {where} (with its -wal/-shm files) to a timestamped backup "
                          "beside it, then let MLflow upgrade the database to its current schema, "
                          "and reopen it. Older MLflow versions may not open it afterwards.")
        dlg = D.ChangeDialog("Upgrade database", change, self.view)
        self.dialog = dlg

        def work(progress, cancel):
            backup = W.upgrade_database(uri)
            from mlscope.core import open_store

            target = getattr(getattr(store, "location", None), "path", None) or store.uri
            return backup, open_store(target)

        def done(result):
            backup, new = result
            dlg.finish()
            self.statusMessage.emit(f"Upgraded; the backup is {backup}." if backup else "Upgraded.")
            self.set_store(new)
            self.storeReopened.emit(new)

        dlg.confirmed.connect(lambda _c: self.start(
            "registry-upgrade", work, done, lambda exc: dlg.show_error(user_message(exc))))
        dlg.open()
        return dlg
