"""The connect dialog: the fields each auth kind needs, TLS on by default with a visible warning
when off, remembered servers filled in without their secret, and a keyring that is absent said."""

from __future__ import annotations

import pytest

from mlscope.ui.dialogs.connect import ConnectDialog

SECRET = "dialog-Secret-551"
KEYRING = (True, "Passwords and tokens are kept in the system keyring (EncryptedKeyring).")


@pytest.fixture(autouse=True)
def no_tls_env(monkeypatch):
    for var in ("MLFLOW_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_SERVER_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)


def make(qtbot, **kw) -> ConnectDialog:
    dlg = ConnectDialog(kw.pop("history", None), **kw)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_each_auth_kind_shows_its_fields_and_the_secret_stays_out_of_the_entry(qtbot):
    dlg = make(qtbot, keyring=KEYRING)
    assert dlg.value() == "http://localhost:5000"
    assert not dlg.username.isVisible() and not dlg.secret.isVisible()
    assert dlg.auth().kind == "none" and dlg.auth().secret is None
    dlg.url.setCurrentText("127.0.0.1:5001/")
    dlg.kind.setCurrentIndex(dlg.kind.findData("basic"))
    assert dlg.username.isVisible() and dlg.secret.isVisible() and dlg.save_secret.isEnabled()
    assert dlg.secret.echoMode() == dlg.secret.EchoMode.Password
    dlg.username.setText(" alice ")
    dlg.secret.setText(SECRET)
    auth = dlg.auth()
    assert (auth.kind, auth.username, auth.secret, auth.verify, auth.use_keyring) == (
        "basic", "alice", SECRET, True, True)
    entry = dlg.entry()
    assert entry["url"] == "http://127.0.0.1:5001" and entry["username"] == "alice"
    assert SECRET not in repr(entry) and SECRET not in repr(auth)
    dlg.kind.setCurrentIndex(dlg.kind.findData("token"))
    assert not dlg.username.isVisible() and dlg.secret_label.text() == "Token"
    assert dlg.auth().username is None and dlg.auth().secret == SECRET


def test_tls_is_verified_by_default_and_off_only_with_a_visible_warning(qtbot, tmp_path):
    dlg = make(qtbot, keyring=KEYRING)
    assert dlg.verify.isChecked() and not dlg.insecure_warning.isVisible()
    dlg.ca_bundle.setText(str(tmp_path / "ca.pem"))
    assert dlg.auth().ca_bundle == str(tmp_path / "ca.pem")
    dlg.verify.setChecked(False)
    assert dlg.insecure_warning.isVisible() and "not checked" in dlg.insecure_warning.text()
    assert dlg.auth().verify is False and dlg.auth().ca_bundle is None  # MLflow: one or the other


def test_mlflows_tls_variables_are_the_dialogs_defaults(qtbot, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    dlg = make(qtbot, keyring=KEYRING)
    assert not dlg.verify.isChecked() and dlg.insecure_warning.isVisible()


def test_no_keyring_is_said_and_nothing_is_offered_to_save(qtbot):
    words = "No system keyring is available, so passwords and tokens are not saved."
    dlg = make(qtbot, keyring=(False, words))
    dlg.kind.setCurrentIndex(dlg.kind.findData("basic"))
    assert not dlg.save_secret.isEnabled() and not dlg.save_secret.isChecked()
    assert dlg.keyring_note.isVisible() and dlg.keyring_note.text() == words
    dlg.secret.setText(SECRET)
    assert dlg.auth().use_keyring is False and dlg.entry()["keyring"] is False


def test_a_remembered_server_fills_in_its_user_and_says_the_secret_is_in_the_keyring(qtbot):
    servers = [{"url": "https://mlflow.example:443", "kind": "basic", "username": "alice",
                "verify": True, "ca_bundle": None, "keyring": True},
               {"url": "http://t:5000", "kind": "token", "username": None, "keyring": False}]
    dlg = make(qtbot, servers=servers, history=["http://old:5000"], keyring=KEYRING)
    assert [dlg.url.itemText(i) for i in range(dlg.url.count())] == [
        "https://mlflow.example:443", "http://t:5000", "http://old:5000"]
    assert dlg.username.text() == "alice" and dlg.secret.text() == ""
    assert "keyring" in dlg.secret.placeholderText()
    auth = dlg.auth()
    assert auth.secret is None and auth.use_keyring  # read from the keyring on connect
    dlg.url.setCurrentText("http://t:5000")
    assert dlg.kind.currentData() == "token" and dlg.secret.placeholderText() == ""


def test_shown_again_with_the_servers_words_the_url_kept_and_the_password_asked(qtbot):
    current = {"url": "http://127.0.0.1:5002", "kind": "basic", "username": "alice",
               "keyring": False}
    msg = "http://127.0.0.1:5002 rejected the password of user 'alice' (HTTP 401)."
    dlg = make(qtbot, message=msg, current=current, keyring=KEYRING)
    assert dlg.error.isVisible() and dlg.error.text() == msg
    assert dlg.value() == "http://127.0.0.1:5002" and dlg.username.text() == "alice"
    assert dlg.secret.text() == "" and dlg.focusWidget() is dlg.secret
