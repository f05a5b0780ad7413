"""Migrate to SQLite…, driven as a user would: File menu on an open mlruns tab, Migrate, the
counts side by side, Open in New Tab; Cancel mid-way; a folder MLflow refuses."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from conftest import wait_loaded
from mlflow_stores import build, make_git_like_variant
from registry_helpers import build_registry


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A git-committed project: mlruns written by MLflow's client, empty folders dropped."""
    base = tmp_path_factory.mktemp("migrate-ui")
    built = base / "built" / "mlruns"
    ids = build(str(built))
    build_registry(built.as_uri())
    project = base / "project"
    make_git_like_variant(built, project / "mlruns", ids)
    return project


def test_migrate_from_the_file_menu_then_open_the_result(qtbot, window, project):
    page = wait_loaded(qtbot, window.open_target(str(project / "mlruns")))
    assert page.store.location.kind == "file"
    window.migrate_action.trigger()  # File > Migrate to SQLite…
    dlg = window.findChild(QDialog, "migrateDialog")
    qtbot.waitExposed(dlg)
    assert dlg.source_edit.text() == str(project / "mlruns")
    target = project / "mlflow.db"
    assert str(target) in dlg.intro.text() and "nothing in it changes" in dlg.intro.text()

    qtbot.mouseClick(dlg.migrate_button, Qt.LeftButton)
    assert dlg.running() and not dlg.migrate_button.isEnabled()
    qtbot.waitUntil(lambda: dlg.open_button.isVisible(), timeout=90_000)
    rows = {dlg.table.item(r, 0).text(): (dlg.table.item(r, 1).text(), dlg.table.item(r, 2).text(),
                                          dlg.table.item(r, 3).text())
            for r in range(dlg.table.rowCount())}
    assert rows["runs"] == ("16", "16", "✓") and rows["model versions"] == ("5", "5", "✓")
    assert all(mark == "✓" for _a, _b, mark in rows.values())
    text = dlg.message.text()
    assert str(target) in text and "repaired temporary copy" in text  # the git-dropped runs named
    assert dlg.report.plan.repairs[0].run_id in text
    assert "stay deleted" in text and dlg.report.plan.trashed_active[0] in text

    with qtbot.waitSignal(window.storeOpened, timeout=60_000) as opened:
        qtbot.mouseClick(dlg.open_button, Qt.LeftButton)
    new = opened.args[0]
    assert new.target == str(target) and window.page() is new
    wait_loaded(qtbot, new)
    assert new.store.location.kind == "sql"
    assert len(new.store.runs(view="all")) == 16


def test_cancel_stops_mlflow_and_a_refused_folder_is_named(qtbot, window, project, tmp_path):
    dlg = window.ask_migrate()  # no tab open: the user types a folder
    assert dlg.source_edit.text() == "" and not dlg.migrate_button.isEnabled()
    source = tmp_path / "mlruns"
    shutil.copytree(project / "mlruns", source)
    out = tmp_path / "out"
    out.mkdir()
    dlg.source_edit.setText(str(source))
    dlg.target_edit.setText(str(out / "team.db"))
    qtbot.mouseClick(dlg.migrate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dlg.progress.maximum() > 0 and dlg.progress.value() >= 1,
                    timeout=60_000)  # MLflow is writing its file
    qtbot.mouseClick(dlg.cancel_button, Qt.LeftButton)
    assert not dlg.running() and "Cancelled" in dlg.message.text()
    qtbot.waitUntil(lambda: os.listdir(out) == [], timeout=10_000)  # the partial file removed
    assert dlg.migrate_button.isEnabled()

    photos = tmp_path / "photos"
    photos.mkdir()
    dlg.source_edit.setText(str(photos))
    qtbot.mouseClick(dlg.migrate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dlg.running(), timeout=10_000)
    assert str(photos) in dlg.message.text() and dlg.message.property("error")
    assert "Traceback" not in dlg.message.text()
    dlg.reject()
