"""Registry writes on a real `mlflow server` on 127.0.0.1: the dialogs work with an editor's
credentials, and a reader's, a killed server and a stale dialog are refused in words with
the registry unchanged (read back by a separate MlflowClient as the admin)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import Qt

from mlflow_stores import free_port
from mlscope.core import open_store
from mlscope.core.registry import changes as C
from mlscope.core.registry import write as W
from mlscope.ui.controllers.registry import RegistryController
from mlscope.ui.tasks import Tasks
from registry_helpers import build_registry, edited, registry_state

ADMIN = ("admin", "admin-Password-42!")
READER = ("reader", "reader-Password-42!")
TIMEOUT = 120_000
pytestmark = pytest.mark.timeout(900)  # servers start slowly on a busy machine


def auth_config(base: Path) -> Path:
    """MLflow's own basic_auth.ini, with its user store here and password checks cached
    (each check is a PBKDF2 hash: seconds per request on a busy 2-core machine)."""
    import mlflow.server.auth as auth

    text = (Path(auth.__file__).parent / "basic_auth.ini").read_text()
    text = text.replace("database_uri = sqlite:///basic_auth.db",
                        f"database_uri = sqlite:///{base / 'basic_auth.db'}")
    path = base / "basic_auth.ini"
    path.write_text(text + "\nauth_cache_ttl_seconds = 600\n")
    return path


def start_server(base: Path, db: Path, auth: bool = False, port: int | None = None):
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
           "--backend-store-uri", f"sqlite:///{db}", "--default-artifact-root",
           str(base / "artifacts"), "--workers", "1"]
    env = dict(os.environ)
    if auth:
        cmd += ["--app-name", "basic-auth"]
        env["MLFLOW_AUTH_ADMIN_PASSWORD"] = ADMIN[1]  # MLflow ships no default admin password
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "registry-tests-csrf-key"  # basic-auth needs one
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(auth_config(base))
    log = open(base / f"server-{port}.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=base, env=env)
    deadline = time.monotonic() + 300  # minutes on a busy 2-core machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.close()
            pytest.fail("mlflow server exited: " + (base / f"server-{port}.log").read_text()[-2000:])
        try:
            if requests.get(url + "/health", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("mlflow server did not start")
    return url, proc, log


def stop(proc, log) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@contextmanager
def as_user(user):
    """MLflow's auth variables (the ones the store layer honours) for one block."""
    old = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = user
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("auth-server")
    ids = build_registry(f"sqlite:///{base / 'mlflow.db'}")  # MLflow's client, before serving it
    url, proc, log = start_server(base, base / "mlflow.db", auth=True)
    try:
        r = requests.post(f"{url}/api/2.0/mlflow/users/create", auth=ADMIN, timeout=120,
                          json={"username": READER[0], "password": READER[1]})
        assert r.ok, r.text
        yield url, ids
    finally:
        stop(proc, log)


@pytest.fixture
def controller(qtbot):
    made = []

    def make(target) -> RegistryController:
        tasks = Tasks()
        ctl = RegistryController(tasks, open_store(target))
        qtbot.addWidget(ctl.view)
        ctl.view.show()
        qtbot.waitUntil(lambda: ctl.versions is not None and not ctl.running(), timeout=TIMEOUT)
        made.append(tasks)
        return ctl

    yield make
    for tasks in made:
        tasks.shutdown()


def stage_dialog(qtbot, ctl, model, version, stage, archive=False):
    assert ctl.view.select_model(model, version)
    qtbot.mouseClick(ctl.view.stage_button, Qt.LeftButton)
    dlg = ctl.dialog
    dlg.stage.setCurrentText(stage)
    dlg.archive.setChecked(archive)
    qtbot.mouseClick(dlg.next_button, Qt.LeftButton)
    assert dlg.pages.currentIndex() == 1, dlg.error.text()
    return dlg


def apply(qtbot, ctl, dlg):
    qtbot.mouseClick(dlg.apply_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dlg.busy and not ctl.running("registry-write", "registry-read"),
                    timeout=TIMEOUT)


def test_a_reader_is_refused_in_words_and_nothing_changes(qtbot, controller, auth_server):
    url, _ = auth_server
    with as_user(ADMIN):
        before = registry_state(url)
    with as_user(READER):
        ctl = controller(url)
        assert len(ctl.models) == 3  # a reader reads
        dlg = stage_dialog(qtbot, ctl, "credit-model", 3, "Production", archive=True)
        apply(qtbot, ctl, dlg)
    assert dlg.isVisible() and dlg.error.isVisible()
    assert "no permission" in dlg.error.text() and url in dlg.error.text()
    assert READER[1] not in dlg.error.text() and ADMIN[1] not in dlg.error.text()
    assert not ctl.view.undo_bar.isVisible()
    with as_user(ADMIN):
        assert registry_state(url) == before


def test_an_editor_moves_stage_and_alias_and_undoes(qtbot, controller, auth_server):
    url, _ = auth_server
    with as_user(ADMIN):
        before = registry_state(url)
        ctl = controller(url)
        dlg = stage_dialog(qtbot, ctl, "credit-model", 3, "Production", archive=True)
        assert dlg.sentence.text() == \
            "credit-model v3: Staging -> Production; v2 (Production) -> Archived"
        apply(qtbot, ctl, dlg)
        assert not dlg.isVisible(), dlg.error.text()

        def expected(st):
            st["credit-model"]["versions"][3]["stage"] = "Production"
            st["credit-model"]["versions"][2]["stage"] = "Archived"

        assert registry_state(url) == edited(before, expected)
        qtbot.mouseClick(ctl.view.undo_button, Qt.LeftButton)
        apply(qtbot, ctl, ctl.dialog)
        assert registry_state(url) == before

        ctl.view.select_model("it's-quoted", 1)
        ctl.view.actionRequested.emit("alias", "it's-quoted", 1)
        dlg = ctl.dialog
        dlg.alias.setEditText("champion")
        qtbot.mouseClick(dlg.next_button, Qt.LeftButton)
        assert dlg.sentence.text() == "it's-quoted: new alias 'champion' -> v1"
        apply(qtbot, ctl, dlg)
        after = registry_state(url)
        assert after == edited(before, lambda st: st["it's-quoted"]["aliases"].update(champion=1))
        C.apply(ctl.last.inverse, W.write_uri(ctl.store))
        assert registry_state(url) == before


def test_duplicate_name_on_a_server(auth_server):
    url, ids = auth_server
    with as_user(ADMIN):
        before = registry_state(url)
        run = ids["runs"][0]
        with pytest.raises(W.NameExists, match="already exists"):
            C.apply(C.register("fraud-model", f"runs:/{run}/model", run, new_model=True), url)
        assert registry_state(url) == before


def test_server_killed_mid_action(qtbot, controller, tmp_path):
    db = tmp_path / "mlflow.db"
    build_registry(f"sqlite:///{db}")
    url, proc, log = start_server(tmp_path, db)
    try:
        before = registry_state(f"sqlite:///{db}")
        ctl = controller(url)
        dlg = stage_dialog(qtbot, ctl, "credit-model", 3, "Archived")
    finally:
        stop(proc, log)  # the server goes away while the dialog waits for Apply
    t0 = time.monotonic()
    apply(qtbot, ctl, dlg)
    assert time.monotonic() - t0 < 30  # no minutes of retries
    assert dlg.error.isVisible() and "did not answer" in dlg.error.text(), dlg.error.text()
    assert registry_state(f"sqlite:///{db}") == before  # the file the server served
