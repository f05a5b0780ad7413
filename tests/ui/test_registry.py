"""The registry view and its dialogs, driven with qtbot on real stores built by MLflow.

Each write is verified by reading the whole registry back with a separate MlflowClient:
the change happened exactly once and nothing else changed. Refusals leave the message
in the dialog and the registry as it was.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from mlscope.core import open_store
from mlscope.ui.controllers.registry import RegistryController
from mlscope.ui.dialogs import registry as D
from mlscope.ui.tasks import Tasks
from mlscope.ui.views.registry import KEY_ROLE
from registry_helpers import build_registry, client_for, edited, registry_state

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    base = tmp_path_factory.mktemp("ui-registry")
    db = base / "mlflow.db"
    ids = build_registry(f"sqlite:///{db}")
    folder = base / "mlruns"
    build_registry(str(folder))
    return {"sqlite": db, "file": folder, "ids": ids}


def copy_of(templates, kind, tmp_path) -> tuple[Path, str]:
    src = templates[kind]
    dst = tmp_path / src.name
    (shutil.copy if src.is_file() else shutil.copytree)(src, dst)
    return dst, (f"sqlite:///{dst}" if kind == "sqlite" else str(dst))


@pytest.fixture
def controller(qtbot):
    made = []

    def make(target) -> RegistryController:
        tasks = Tasks()
        ctl = RegistryController(tasks, open_store(target))
        qtbot.addWidget(ctl.view)
        ctl.view.resize(1000, 700)
        ctl.view.show()
        qtbot.waitUntil(lambda: ctl.versions is not None and not ctl.running(), timeout=TIMEOUT)
        made.append(tasks)
        return ctl

    yield make
    for tasks in made:
        tasks.shutdown()


def pick(ctl, model, version=None):
    assert ctl.view.select_model(model, version)
    assert ctl.view.current_model() == model
    if version is not None:
        assert ctl.view.current_version() == version


def confirm(qtbot, ctl, dlg, sentence=None):
    """Next (if there is a form), check the sentence, Apply, wait for the write and re-read."""
    if dlg.pages.currentIndex() == 0:
        qtbot.mouseClick(dlg.next_button, Qt.LeftButton)
    assert dlg.pages.currentIndex() == 1, dlg.error.text()
    if sentence is not None:
        assert dlg.sentence.text() == sentence
    qtbot.mouseClick(dlg.apply_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dlg.busy and not ctl.running("registry-write", "registry-read"),
                    timeout=TIMEOUT)


def version_row(ctl, model, version) -> dict:
    v = ctl.versions
    return v[(v["name"] == model) & (v["version"] == version)].iloc[0].to_dict()


@pytest.mark.parametrize("kind", ["sqlite", "file"])
def test_stage_dialog_archives_and_undoes(qtbot, controller, templates, tmp_path, kind):
    _path, uri = copy_of(templates, kind, tmp_path)
    ctl = controller(_path)
    before = registry_state(uri)
    assert ctl.view.models_proxy.rowCount() == 3
    pick(ctl, "credit-model", 3)
    qtbot.mouseClick(ctl.view.stage_button, Qt.LeftButton)
    dlg = ctl.dialog
    assert isinstance(dlg, D.StageDialog) and dlg.isVisible()
    dlg.stage.setCurrentText("Production")
    assert dlg.archive.isEnabled() and "(v2)" in dlg.archive.text()
    dlg.archive.setChecked(True)
    confirm(qtbot, ctl, dlg, "credit-model v3: Staging -> Production; v2 (Production) -> Archived")
    assert not dlg.isVisible() and dlg.result() == D.QDialog.Accepted

    def expected(st):
        st["credit-model"]["versions"][3]["stage"] = "Production"
        st["credit-model"]["versions"][2]["stage"] = "Archived"

    assert registry_state(uri) == edited(before, expected)
    assert version_row(ctl, "credit-model", 3)["current_stage"] == "Production"  # re-read
    assert ctl.view.undo_bar.isVisible() and ctl.view.undo_button.isVisible()
    assert "Staging -> Production" in ctl.view.undo_label.text()

    qtbot.mouseClick(ctl.view.undo_button, Qt.LeftButton)
    undo = ctl.dialog
    assert undo is not dlg and undo.pages.currentIndex() == 1  # the undo is confirmed too
    assert registry_state(uri) == edited(before, expected)  # nothing written before Apply
    confirm(qtbot, ctl, undo, "credit-model v3: Production -> Staging; v2 (Archived) -> Production")
    assert registry_state(uri) == before
    assert version_row(ctl, "credit-model", 2)["current_stage"] == "Production"


@pytest.mark.parametrize("kind", ["sqlite", "file"])
def test_alias_dialog_moves_an_alias_and_says_where_it_was(qtbot, controller, templates, tmp_path,
                                                           kind):
    path, uri = copy_of(templates, kind, tmp_path)
    ctl = controller(path)
    before = registry_state(uri)
    pick(ctl, "credit-model", 3)
    qtbot.mouseClick(ctl.view.alias_button, Qt.LeftButton)
    dlg = ctl.dialog
    assert isinstance(dlg, D.AliasDialog)
    dlg.alias.setEditText("champion")
    assert dlg.where.text() == "'champion' points at v2 now."
    assert dlg.version.currentData() == 3
    confirm(qtbot, ctl, dlg, "credit-model: alias 'champion' moves from v2 to v3")
    assert registry_state(uri) == edited(before, lambda st: st["credit-model"]["aliases"].update(champion=3))
    assert "champion" in version_row(ctl, "credit-model", 3)["aliases"]


def test_cancel_writes_nothing(qtbot, controller, templates, tmp_path):
    path, uri = copy_of(templates, "sqlite", tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    ctl = controller(path)
    view = ctl.view
    pick(ctl, "credit-model", 3)

    def names():
        return [view.models_proxy.index(r, 0).data(KEY_ROLE) for r in range(view.models_proxy.rowCount())]

    view.models.sortByColumn(0, Qt.DescendingOrder)
    assert names() == ["it's-quoted", "fraud-model", "credit-model"]
    assert view.current_model() == "credit-model" and view.current_version() == 3  # kept
    view.filter_edit.setText("FRAUD")
    assert names() == ["fraud-model"]
    view.filter_edit.setText("@champion")  # aliases, tags and descriptions are searched too
    assert names() == ["credit-model"]
    view.filter_edit.clear()
    pick(ctl, "credit-model", 3)
    qtbot.mouseClick(ctl.view.stage_button, Qt.LeftButton)
    dlg = ctl.dialog
    dlg.stage.setCurrentText("Archived")
    qtbot.mouseClick(dlg.next_button, Qt.LeftButton)
    assert dlg.sentence.text() == "credit-model v3: Staging -> Archived"
    qtbot.mouseClick(dlg.cancel_button, Qt.LeftButton)
    assert not dlg.isVisible()
    qtbot.wait(300)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # browsing and cancel: no byte


def test_descriptions_tags_rename_delete(qtbot, controller, templates, tmp_path):
    path, uri = copy_of(templates, "sqlite", tmp_path)
    ctl = controller(path)
    state = registry_state(uri)

    def step(kind, version, fill, sentence, expect):
        nonlocal state
        pick(ctl, "credit-model" if kind != "rename" else "fraud-model", version)
        ctl.view.actionRequested.emit(kind, ctl.view.current_model(), version)
        dlg = ctl.dialog
        fill(dlg)
        confirm(qtbot, ctl, dlg, sentence)
        state = edited(state, expect)
        assert registry_state(uri) == state, sentence

    step("model_description", None, lambda d: d.text.setPlainText("New words."),
         "credit-model: description 'Scores credit applications.' -> 'New words.'",
         lambda st: st["credit-model"].update(description="New words."))
    step("version_description", 1, lambda d: d.text.setPlainText("old one"),
         "credit-model v1: description 'version 1' -> 'old one'",
         lambda st: st["credit-model"]["versions"][1].update(description="old one"))
    step("model_tag", None, lambda d: (d.key.setEditText("team"), d.value.setText("fraud")),
         "credit-model: tag 'team' 'risk' -> 'fraud'",
         lambda st: st["credit-model"]["tags"].update(team="fraud"))
    step("version_tag", 2, lambda d: (d.key.setEditText("n"), d.delete.setChecked(True)),
         "credit-model v2: tag 'n' removed (was '1')",
         lambda st: st["credit-model"]["versions"][2]["tags"].pop("n"))
    step("rename", None, lambda d: d.name.setText("fraud-model-2"),
         "Rename the model fraud-model to fraud-model-2 (its versions and aliases go with it)",
         lambda st: st.__setitem__("fraud-model-2", st.pop("fraud-model")))
    assert ctl.view.current_model() == "fraud-model-2"
    step("delete_version", 1, lambda d: None,
         "Delete credit-model v1 (Archived). This cannot be undone.",
         lambda st: st["credit-model"]["versions"].pop(1))
    assert not ctl.view.undo_button.isVisible()  # MLflow cannot bring a version back

    pick(ctl, "it's-quoted")
    ctl.view.actionRequested.emit("delete_model", "it's-quoted", None)
    dlg = ctl.dialog
    assert dlg.pages.currentIndex() == 1 and not dlg.apply_button.isEnabled()
    dlg.typed.setText("it's-quot")
    assert not dlg.apply_button.isEnabled()
    dlg.typed.setText("it's-quoted")
    assert dlg.apply_button.isEnabled()
    confirm(qtbot, ctl, dlg, "Delete the registered model it's-quoted with its 1 version and all "
            "its aliases and tags. This cannot be undone.")
    assert registry_state(uri) == edited(state, lambda st: st.pop("it's-quoted"))
    assert "it's-quoted" not in set(ctl.models["name"])


def test_register_from_run(qtbot, controller, templates, tmp_path):
    path, uri = copy_of(templates, "sqlite", tmp_path)
    run = templates["ids"]["runs"][3]
    ctl = controller(path)
    before = registry_state(uri)
    ctl.set_runs([run])
    ctl.view.actionRequested.emit("register", "", None)
    dlg = ctl.dialog
    assert isinstance(dlg, D.RegisterDialog)
    dlg.name.setEditText("credit-model")
    confirm(qtbot, ctl, dlg, f"Register runs:/{run}/model as a new version of credit-model")
    after = registry_state(uri)
    assert after["credit-model"]["versions"][4]["run_id"] == run
    assert edited(after, lambda st: st["credit-model"]["versions"].pop(4)) == before
    assert ctl.registered_as(run) == ["credit-model v4", "fraud-model v1"]


# -- refusals ------------------------------------------------------------------------------------

def test_duplicate_name_is_shown_and_changes_nothing(qtbot, controller, templates, tmp_path):
    path, uri = copy_of(templates, "sqlite", tmp_path)
    ctl = controller(path)
    # Another client made the name after mlscope read the registry: MLflow refuses.
    client_for(uri).create_registered_model("taken")
    before = registry_state(uri)
    pick(ctl, "fraud-model")
    ctl.view.actionRequested.emit("rename", "fraud-model", None)
    dlg = ctl.dialog
    dlg.name.setText("taken")
    confirm(qtbot, ctl, dlg)
    assert dlg.isVisible() and dlg.error.isVisible()
    assert "already exists" in dlg.error.text() and "taken" in dlg.error.text()
    assert not dlg.apply_button.isEnabled()
    assert registry_state(uri) == before
    assert not ctl.view.undo_bar.isVisible()
    assert "taken" in set(ctl.models["name"])  # re-read after the refusal


def test_model_deleted_meanwhile(qtbot, controller, templates, tmp_path):
    path, uri = copy_of(templates, "sqlite", tmp_path)
    ctl = controller(path)
    pick(ctl, "credit-model", 3)
    qtbot.mouseClick(ctl.view.stage_button, Qt.LeftButton)
    dlg = ctl.dialog
    dlg.stage.setCurrentText("Production")
    qtbot.mouseClick(dlg.next_button, Qt.LeftButton)
    client_for(uri).delete_registered_model("credit-model")  # another client, meanwhile
    before = registry_state(uri)
    confirm(qtbot, ctl, dlg)
    assert dlg.error.isVisible() and "not found" in dlg.error.text()
    assert "Nothing was written" in dlg.error.text()
    assert registry_state(uri) == before
    assert "credit-model" not in set(ctl.models["name"])


# -- an older schema -----------------------------------------------------------------------------

def _old_db(tmp_path) -> Path:
    src = CORPUS / "PatrickCmd__mlops-zoomcamp" / "02-experiment-tracking" / "mlflow.db"
    if not src.exists():
        pytest.skip("corpus store not present")
    dst = tmp_path / "old" / "mlflow.db"
    dst.parent.mkdir()
    shutil.copy(src, dst)
    return dst


def test_old_schema_is_read_only_and_upgrade_declined_changes_nothing(qtbot, controller, tmp_path):
    db = _old_db(tmp_path)
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    ctl = controller(db)
    qtbot.waitUntil(lambda: ctl.view.read_only_bar.isVisible(), timeout=TIMEOUT)
    assert "older MLflow schema" in ctl.view.read_only.text()
    assert ctl.view.upgrade_button.isVisible()
    assert not ctl.view.stage_button.isEnabled() and not ctl.view.alias_button.isEnabled()
    assert len(ctl.models) == 1 and len(ctl.versions) == 3  # still shown, read-only
    dlg = ctl.upgrade()
    assert "backup" in dlg.sentence.text()
    qtbot.mouseClick(dlg.cancel_button, Qt.LeftButton)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in db.parent.iterdir()) == ["mlflow.db"]


def test_upgrade_database_backs_up_migrates_and_reopens(qtbot, controller, tmp_path):
    db = _old_db(tmp_path)
    original = db.read_bytes()
    ctl = controller(db)
    qtbot.waitUntil(lambda: ctl.view.upgrade_button.isVisible(), timeout=TIMEOUT)
    reopened = []
    ctl.storeReopened.connect(reopened.append)
    qtbot.mouseClick(ctl.view.upgrade_button, Qt.LeftButton)
    dlg = ctl.dialog
    qtbot.mouseClick(dlg.apply_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(reopened), timeout=180_000)
    backups = [p for p in db.parent.iterdir() if p.name.startswith("mlflow.db.backup-")]
    assert len(backups) == 1 and backups[0].read_bytes() == original
    qtbot.waitUntil(lambda: not ctl.running(), timeout=TIMEOUT)
    assert not ctl.view.read_only_bar.isVisible()
    assert len(ctl.versions) == 3
    pick(ctl, ctl.versions["name"].iloc[0], int(ctl.versions["version"].iloc[0]))
    assert ctl.view.stage_button.isEnabled()


def test_store_read_from_a_snapshot_is_written_and_reread(qtbot, controller, templates, tmp_path):
    """A database another program holds open in WAL mode is read from a private snapshot;
    the write goes to the user's file and the view shows it from a new snapshot."""
    import sqlite3

    path, uri = copy_of(templates, "sqlite", tmp_path)
    keeper = sqlite3.connect(path)
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.execute("CREATE TABLE _keep(x)")
    keeper.execute("DROP TABLE _keep")
    keeper.commit()
    try:
        ctl = controller(path)
        assert ctl.store.snapshot_dir is not None
        before = registry_state(uri)
        pick(ctl, "fraud-model", 1)
        qtbot.mouseClick(ctl.view.alias_button, Qt.LeftButton)
        dlg = ctl.dialog
        dlg.alias.setEditText("shadow")
        confirm(qtbot, ctl, dlg, "fraud-model: new alias 'shadow' -> v1")
        assert registry_state(uri) == edited(before, lambda st: st["fraud-model"]["aliases"].update(shadow=1))
        assert version_row(ctl, "fraud-model", 1)["aliases"] == ["shadow"]
    finally:
        keeper.close()


def test_show_model_before_and_after_the_read(qtbot, templates, tmp_path):
    """What `--model NAME` uses: the model is made current once the registry is read."""
    path, _uri = copy_of(templates, "sqlite", tmp_path)
    tasks = Tasks()
    try:
        ctl = RegistryController(tasks, open_store(path))
        qtbot.addWidget(ctl.view)
        assert ctl.show_model("fraud-model")  # still reading: remembered
        qtbot.waitUntil(lambda: ctl.versions is not None and not ctl.running(), timeout=TIMEOUT)
        assert ctl.view.current_model() == "fraud-model"
        assert not ctl.show_model("no-such-model")
        assert ctl.show_model("it's-quoted") and ctl.view.current_model() == "it's-quoted"
    finally:
        tasks.shutdown()
