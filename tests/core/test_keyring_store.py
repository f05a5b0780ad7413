"""Secrets go to a real keyring backend or nowhere; TLS options map as MLflow maps its variables;
the dialog's credentials come ahead of MLflow's sources and never show in a repr."""

from __future__ import annotations

import pytest

from mlscope.core import StoreError, credentials, keyring_store
from mlscope.core.credentials import ServerAuth, tls_verify

SECRET = "kr-Secret-Value-913"


@pytest.fixture
def encrypted_keyring(tmp_path, monkeypatch):
    """keyrings.alt's encrypted file keyring in a temporary home, unlocked (as a desktop
    keyring is after login): a real backend, not a mock."""
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


@pytest.fixture
def keyring_backend(monkeypatch):
    import keyring

    old = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(old)


def test_a_secret_saved_comes_back_encrypted_on_disk(encrypted_keyring):
    assert keyring_store.status()[0]
    url = "http://127.0.0.1:5999/"
    assert "Saved" in keyring_store.save(url, "alice", SECRET)
    keyring_store.save(url, None, "tok-" + SECRET)
    assert keyring_store.load("http://127.0.0.1:5999", "alice") == SECRET
    assert keyring_store.load(url, None) == "tok-" + SECRET
    assert keyring_store.load(url, "bob") is None
    with open(encrypted_keyring.file_path, encoding="utf-8") as fh:
        assert SECRET not in fh.read()
    keyring_store.delete(url, "alice")
    assert keyring_store.load(url, "alice") is None


def test_no_fit_backend_means_nothing_saved(keyring_backend, tmp_path, monkeypatch):
    from keyring.backends import fail, null
    from keyrings.alt.file import EncryptedKeyring, PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    locked = EncryptedKeyring()  # would ask its master password on the terminal
    locked.file_path = str(tmp_path / "locked.cfg")
    for backend in (fail.Keyring(), null.Keyring(), PlaintextKeyring(), locked):
        keyring_backend(backend)
        available, words = keyring_store.status()
        assert not available and "not saved" in words
        assert "not saved" in keyring_store.save("http://h:1", "u", SECRET)
        assert keyring_store.load("http://h:1", "u") is None
    assert not list(tmp_path.rglob("*.cfg"))  # nothing written, in plain text or otherwise


def test_session_credentials_read_the_keyring_and_save_only_when_asked(encrypted_keyring):
    url = "http://127.0.0.1:5998"
    typed = ServerAuth("basic", "alice", SECRET, use_keyring=True)
    credentials.remember(url, typed)
    assert credentials.auth_for(url + "/") == typed
    assert credentials.accepted(url, typed)
    credentials.remember(url, ServerAuth("basic", "alice", use_keyring=True))
    assert credentials.auth_for(url).secret == SECRET  # from the keyring
    credentials.remember(url, ServerAuth("basic", "carol", "other-Secret-2"))
    assert credentials.accepted(url, credentials.auth_for(url)) == ""  # not asked: not saved
    assert keyring_store.load(url, "carol") is None
    credentials.forget(url)
    assert credentials.auth_for(url) is None
    assert SECRET not in repr(typed)


def test_dialog_credentials_come_before_mlflows_sources(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "env-user")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "env-pass")
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    assert credentials.credentials(None).source.startswith("MLFLOW_TRACKING_USERNAME")
    assert credentials.credentials(ServerAuth("none")).user == "env-user"
    given = credentials.credentials(ServerAuth("basic", "alice", SECRET))
    assert (given.user, given.password, given.source) == ("alice", SECRET, "the connect dialog")
    token = credentials.credentials(ServerAuth("token", secret="tok-1"))
    assert token.token == "tok-1" and token.user is None and "tok-1" not in repr(token)


def test_tls_options_map_as_mlflow_maps_its_variables(monkeypatch, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    for var in ("MLFLOW_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_SERVER_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)
    assert tls_verify(None) is True
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    assert tls_verify(None) is False
    assert tls_verify(ServerAuth(verify=True)) is True  # the dialog's choice wins
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", str(ca))
    with pytest.raises(StoreError, match="choose one"):  # MLflow refuses both too
        tls_verify(None, "https://h")
    monkeypatch.delenv("MLFLOW_TRACKING_INSECURE_TLS")
    assert tls_verify(None) == str(ca)
    assert tls_verify(ServerAuth(verify=False)) is False
    assert tls_verify(ServerAuth(verify=True, ca_bundle=str(ca))) == str(ca)
    with pytest.raises(StoreError, match="not a readable file"):
        tls_verify(ServerAuth(verify=True, ca_bundle=str(tmp_path / "missing.pem")), "https://h")
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "maybe")
    with pytest.raises(StoreError, match="MLFLOW_TRACKING_INSECURE_TLS"):
        tls_verify(None)
