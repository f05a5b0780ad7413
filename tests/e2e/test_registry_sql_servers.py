"""Registry writes on real PostgreSQL and MariaDB servers (the throwaway ones of
test_postgres.py / test_mysql.py): through mlscope's one door (MlflowClient), confirmed in
the dialogs, read back by a separate MlflowClient (the change once, nothing else), and
re-read by mlscope. Browsing those databases stays read-only (those modules prove it);
only the registry door writes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from test_mysql import mysql  # noqa: F401 - the MariaDB fixture
from test_postgres import postgres  # noqa: F401 - the PostgreSQL fixture

from mlscope.core import open_store
from mlscope.core.registry import changes as C
from mlscope.core.registry import write as W
from mlscope.ui.controllers.registry import RegistryController
from mlscope.ui.tasks import Tasks
from registry_helpers import build_registry, edited, registry_state

TIMEOUT = 120_000
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(params=["postgres", "mysql"])
def database(request):
    """A server database with the registry of registry_helpers, written by MLflow."""
    uri = request.getfixturevalue(request.param)[0]
    if not registry_state(uri):
        build_registry(uri)
    return uri


def test_write_uri_is_the_database_and_writable(database):
    store = open_store(database)
    assert W.write_uri(store) == database
    assert W.read_only_reason(store) == ""


def test_stage_dialog_writes_through_mlflow_and_rereads(qtbot, database):
    before = registry_state(database)
    stages = {v: s["stage"] for v, s in before["credit-model"]["versions"].items()}
    to = "Production" if stages[3] != "Production" else "Staging"
    displaced = [v for v, s in stages.items() if s == to and v != 3]
    tasks = Tasks()
    try:
        ctl = RegistryController(tasks, open_store(database))
        qtbot.addWidget(ctl.view)
        ctl.view.show()
        qtbot.waitUntil(lambda: ctl.versions is not None and not ctl.running(), timeout=TIMEOUT)
        assert ctl.view.select_model("credit-model", 3)
        qtbot.mouseClick(ctl.view.stage_button, Qt.LeftButton)
        dlg = ctl.dialog
        dlg.stage.setCurrentText(to)
        dlg.archive.setChecked(True)
        qtbot.mouseClick(dlg.next_button, Qt.LeftButton)
        assert dlg.pages.currentIndex() == 1, dlg.error.text()
        qtbot.mouseClick(dlg.apply_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: not dlg.busy and not ctl.running("registry-write", "registry-read"),
                        timeout=TIMEOUT)
        assert dlg.error.text() == ""

        def expected(st):
            st["credit-model"]["versions"][3]["stage"] = to
            for v in displaced:
                st["credit-model"]["versions"][v]["stage"] = "Archived"

        assert registry_state(database) == edited(before, expected)
        v = ctl.versions
        row = v[(v["name"] == "credit-model") & (v["version"] == 3)]
        assert row["current_stage"].iloc[0] == to  # re-read from the database
    finally:
        tasks.shutdown()


def test_alias_rename_and_refusal_through_the_door(database):
    uri = W.write_uri(open_store(database))
    before = registry_state(database)
    C.apply(C.set_alias("fraud-model", "shadow", 1, before["fraud-model"]["aliases"]), uri)
    after_alias = edited(before, lambda st: st["fraud-model"]["aliases"].update(shadow=1))
    assert registry_state(database) == after_alias
    with pytest.raises(W.NameExists):  # a name taken meanwhile: MLflow refuses, nothing written
        C.apply(C.rename("fraud-model", "credit-model"), uri)
    assert registry_state(database) == after_alias
    C.apply(C.rename("fraud-model", "fraud-model-2"), uri)  # versions and aliases go along
    renamed = registry_state(database)
    assert renamed["fraud-model-2"] == after_alias["fraud-model"] and "fraud-model" not in renamed
    C.apply(C.rename("fraud-model-2", "fraud-model"), uri)
    C.apply(C.delete_alias("fraud-model", "shadow", {"shadow": 1}), uri)
    assert registry_state(database) == before
