"""The connect dialog against a real `mlflow server --app-name basic-auth`, with a real keyring
backend (an encrypted file keyring in a temporary home): a refused password or token says so
and the dialog comes back with the URL; the right password lists the runs and is kept in the
keyring only, and comes back from it on the next connect."""

from __future__ import annotations

import os
import socket
import socketserver
import ssl
import threading
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import QTimer
from test_credentials import basic_auth, no_credentials  # noqa: F401 - the server, a clean env
from test_registry_server import ADMIN
from test_secrets import _texts

from mlscope.core import AuthError, ServerError, StoreError, credentials, keyring_store, open_store
from mlscope.core.credentials import ServerAuth

# MLflow's credential variables cleared before anything (the window included) is made.
pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("no_credentials")]
WRONG = "not-the-Admin-Pass-77"
BAD_TOKEN = "tok-Invalid-Value-31"
RUNS = 3


@pytest.fixture(scope="module")
def server(basic_auth):  # noqa: F811
    """The basic-auth server with one experiment of RUNS runs, logged by MLflow's client."""
    from mlflow.tracking import MlflowClient

    env = {"MLFLOW_TRACKING_USERNAME": ADMIN[0], "MLFLOW_TRACKING_PASSWORD": ADMIN[1]}
    with mock.patch.dict(os.environ, env):
        client = MlflowClient(basic_auth)
        exp = client.create_experiment("connect")
        for i in range(RUNS):
            run = client.create_run(exp, run_name=f"r{i}")
            client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1))
            client.set_terminated(run.info.run_id)
    return basic_auth


@pytest.fixture
def encrypted_keyring(tmp_path, monkeypatch):
    """keyrings.alt's encrypted file keyring in a temporary home, unlocked as a desktop
    keyring is after login: a real backend, not a mock."""
    import keyring
    from keyrings.alt.file import EncryptedKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    kr = EncryptedKeyring()
    (tmp_path / "keyring").mkdir()
    kr.file_path = str(tmp_path / "keyring" / "crypted_pass.cfg")
    kr.keyring_key = "test-master-Key-7"
    old = keyring.get_keyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(old)


class Answers:
    """Answers each connect dialog as it is shown (they are modal): records what it showed,
    then fills it with the next (url, kind, user, secret) and presses Connect, or Cancel when
    none is left."""

    def __init__(self, window, *answers):
        self.window, self.answers, self.seen, self._last = window, list(answers), [], None
        self.timer = QTimer(interval=50, timeout=self._tick)
        self.timer.start()

    def _tick(self) -> None:
        dlg = getattr(self.window, "connect_dialog", None)
        if dlg is None or dlg is self._last or not dlg.isVisible():
            return
        self._last = dlg
        self.seen.append({"error": dlg.error.text() if dlg.error.isVisible() else "",
                          "url": dlg.value(), "username": dlg.username.text(),
                          "placeholder": dlg.secret.placeholderText(),
                          "keyring": dlg.save_secret.isEnabled()})
        if not self.answers:
            dlg.reject()
            return
        url, kind, user, secret = self.answers.pop(0)
        if url is not None:
            dlg.url.setCurrentText(url)
        dlg.kind.setCurrentIndex(dlg.kind.findData(kind))
        if user is not None:
            dlg.username.setText(user)
        dlg.secret.setText(secret)
        dlg.accept()


def loaded(window) -> bool:
    page = window.page()
    return page is not None and page.loaded_once and not page.is_loading()


def test_explicit_credentials_come_before_mlflows_environment(server, no_credentials,  # noqa: F811
                                                              monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", WRONG)
    store = open_store(server, auth=ServerAuth("basic", ADMIN[0], ADMIN[1]))
    assert len(store.runs(view="all")) == RUNS
    with pytest.raises(AuthError) as err:
        open_store(server, auth=ServerAuth("token", secret=BAD_TOKEN))
    # MLflow's basic-auth app takes no tokens (with its credential cache on, as here, it fails
    # with HTTP 500 on one instead of refusing it): the words say what to choose instead.
    assert "takes a username and password, not a token" in str(err.value)
    assert "connect dialog" in str(err.value)
    assert BAD_TOKEN not in str(err.value)


def test_a_wrong_password_is_said_then_the_right_one_lists_runs_and_is_kept_in_the_keyring(
        server, encrypted_keyring, window, qtbot, capfd):
    answers = Answers(window, (server, "basic", ADMIN[0], WRONG),
                      (None, "basic", ADMIN[0], ADMIN[1]))
    window.connect_action.trigger()
    qtbot.waitUntil(lambda: len(answers.seen) == 2 and loaded(window), timeout=120_000)
    again = answers.seen[1]
    assert f"rejected the password of user '{ADMIN[0]}'" in again["error"]
    assert "connect dialog" in again["error"] and "Traceback" not in again["error"]
    assert again["url"] == server and again["username"] == ADMIN[0]
    page = window.page()
    assert window.tabs.count() == 1 and page.stack.currentWidget() is page.split
    assert page.runs.model.total_runs() == RUNS
    assert keyring_store.load(server, ADMIN[0]) == ADMIN[1]  # saved once the server accepted it
    assert window.settings.get("servers")[0] == {
        "url": server, "kind": "basic", "username": ADMIN[0], "verify": True,
        "ca_bundle": None, "keyring": True}

    # The next launch: nothing in memory; the password comes back from the keyring.
    window.close_tab(0)
    credentials.forget(server)
    answers = Answers(window, (None, "basic", None, ""))
    window.connect_action.trigger()
    qtbot.waitUntil(lambda: len(answers.seen) == 1 and loaded(window), timeout=120_000)
    assert "keyring" in answers.seen[0]["placeholder"] and answers.seen[0]["url"] == server
    assert window.page().runs.model.total_runs() == RUNS

    texts = _texts(window)
    window.page().shutdown()
    window.close()
    for secret in (ADMIN[1], WRONG):
        assert not [t for t in texts if secret in t]
        written = [window.settings.path] + [
            p for var in ("MLSCOPE_CONFIG_DIR", "MLSCOPE_CACHE_DIR", "MLSCOPE_DATA_DIR")
            for p in Path(os.environ[var]).rglob("*") if p.is_file()]
        assert [p for p in written if secret.encode() in p.read_bytes()] == []
        assert secret not in os.environ.values()
        out, err = capfd.readouterr()
        assert secret not in out and secret not in err
    assert ADMIN[1].encode() not in Path(encrypted_keyring.file_path).read_bytes()


def test_an_invalid_token_is_said_and_the_dialog_comes_back(server, encrypted_keyring, window,
                                                            qtbot):
    answers = Answers(window, (server, "token", None, BAD_TOKEN))  # then Cancel
    window.connect_action.trigger()
    qtbot.waitUntil(lambda: len(answers.seen) == 2 and not answers.answers, timeout=120_000)
    qtbot.waitUntil(lambda: window.tabs.count() == 0, timeout=10_000)
    again = answers.seen[1]
    assert "not a token" in again["error"] and again["url"] == server
    assert BAD_TOKEN not in again["error"] and "Traceback" not in again["error"]
    assert keyring_store.load(server, None) is None  # a refused token is not kept
    assert not [t for t in _texts(window) if BAD_TOKEN in t]


class _TlsProxy(socketserver.ThreadingTCPServer):
    """HTTPS on 127.0.0.1 in front of the HTTP server (as a TLS-terminating proxy would be),
    with a certificate from a test CA that the system does not trust."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, backend: str, context: ssl.SSLContext):
        self.backend = urlsplit(backend)
        self.context = context
        super().__init__(("127.0.0.1", 0), _Pipe)


class _Pipe(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            front = self.server.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that refused our certificate
        back = socket.create_connection((self.server.backend.hostname, self.server.backend.port))

        def pump(src, dst):
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for sock in (src, dst):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pump, args=(back, front), daemon=True)
        t.start()
        pump(front, back)
        t.join(30)
        front.close()
        back.close()


@pytest.fixture(scope="module")
def https(server, tmp_path_factory):
    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    pem = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    proxy = _TlsProxy(server, context)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{proxy.server_address[1]}", str(pem)
    proxy.shutdown()
    proxy.server_close()


def test_tls_verified_by_default_a_ca_bundle_or_insecure_as_mlflow_maps_them(
        https, no_credentials, monkeypatch):  # noqa: F811
    import requests

    url, ca = https
    # Set on many systems; requests would let it override a session's CA bundle or "insecure".
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    admin = {"kind": "basic", "username": ADMIN[0], "secret": ADMIN[1]}
    with pytest.raises(ServerError) as err:  # the test CA is not the system's
        open_store(url, auth=ServerAuth(**admin))
    assert "TLS error" in str(err.value) and "CA bundle" in str(err.value)
    assert ADMIN[1] not in str(err.value)
    assert len(open_store(url, auth=ServerAuth(**admin, ca_bundle=ca)).runs(view="all")) == RUNS
    assert len(open_store(url, auth=ServerAuth(**admin, verify=False)).runs(view="all")) == RUNS
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", ca)  # MLflow's variables still work
    assert len(open_store(url).runs(view="all")) == RUNS
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    with pytest.raises(StoreError, match="choose one"):  # MLflow refuses both as well
        open_store(url)
    monkeypatch.delenv("MLFLOW_TRACKING_SERVER_CERT_PATH")
    assert len(open_store(url).runs(view="all")) == RUNS
