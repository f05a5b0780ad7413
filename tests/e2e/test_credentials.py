"""MLflow's credential sources, all of them, against a real `mlflow server --app-name
basic-auth`; and messages that say what happened, where mlscope looked, never the secret."""

from __future__ import annotations

import pytest
from test_registry_server import ADMIN, start_server, stop

from mlscope.core import AuthError, open_store

VARS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def basic_auth(tmp_path_factory):
    base = tmp_path_factory.mktemp("basic-auth")
    url, proc, log = start_server(base, base / "mlflow.db", auth=True)
    yield url
    stop(proc, log)


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for var in VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.mlflow/credentials
    return tmp_path / "home"


def test_no_credentials_says_none_were_given_and_where_it_looked(basic_auth, no_credentials):
    with pytest.raises(AuthError) as err:
        open_store(basic_auth)
    msg = str(err.value)
    assert "none were given" in msg and "~/.mlflow/credentials" in msg and basic_auth in msg


def test_a_wrong_password_names_the_user_and_the_source_not_the_password(basic_auth, no_credentials,
                                                                          monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "not-the-Password-1")
    with pytest.raises(AuthError) as err:
        open_store(basic_auth)
    msg = str(err.value)
    assert f"user '{ADMIN[0]}'" in msg and "MLFLOW_TRACKING_PASSWORD" in msg
    assert "not-the-Password-1" not in msg


def test_the_mlflow_credentials_file_is_read(basic_auth, no_credentials):
    home = no_credentials
    (home / ".mlflow").mkdir(parents=True)
    (home / ".mlflow" / "credentials").write_text(
        f"[mlflow]\nmlflow_tracking_username = {ADMIN[0]}\nmlflow_tracking_password = {ADMIN[1]}\n")
    store = open_store(basic_auth)
    assert store.credentials.source == "~/.mlflow/credentials"
    assert "experiment_id" in store.experiments().columns
    (home / ".mlflow" / "credentials").write_text(
        f"[mlflow]\nmlflow_tracking_username = {ADMIN[0]}\nmlflow_tracking_password = wrong-Pass-9\n")
    with pytest.raises(AuthError) as err:
        open_store(basic_auth)
    assert "~/.mlflow/credentials" in str(err.value) and "wrong-Pass-9" not in str(err.value)


@pytest.mark.parametrize("env_user, env_password, file_user, file_password", [
    (None, None, None, None), ("ann", "env-pw", None, None), ("ann", None, None, None),
    (None, None, "bob", "file-pw"), ("ann", None, "bob", "file-pw"), ("ann", "env-pw", "bob", "file-pw"),
    (None, "env-pw", "bob", None), ("", "env-pw", None, None)])
def test_the_sources_are_read_as_mlflow_reads_them(no_credentials, monkeypatch, env_user,
                                                   env_password, file_user, file_password):
    """Without ~/.mlflow/credentials mlscope reads the variables itself (no MLflow import):
    the same user and password as MLflow's ``read_mlflow_creds``, in every mix."""
    from mlflow.utils.credentials import read_mlflow_creds

    from mlscope.core.credentials import mlflow_credentials

    for var, value in (("MLFLOW_TRACKING_USERNAME", env_user), ("MLFLOW_TRACKING_PASSWORD", env_password)):
        if value is not None:
            monkeypatch.setenv(var, value)
    if file_user or file_password:
        (no_credentials / ".mlflow").mkdir(parents=True)
        lines = [f"mlflow_tracking_username = {file_user}"] * bool(file_user) + [
            f"mlflow_tracking_password = {file_password}"] * bool(file_password)
        (no_credentials / ".mlflow" / "credentials").write_text("[mlflow]\n" + "\n".join(lines) + "\n")
    theirs, ours = read_mlflow_creds(), mlflow_credentials()
    want = (theirs.username, theirs.password) if theirs.username and theirs.password else (None, None)
    assert (ours.user, ours.password) == want


@pytest.mark.parametrize("insecure, cert", [(None, None), ("true", None), ("false", None),
                                            (None, "/etc/ssl/ca.pem")])
def test_tls_variables_are_read_as_mlflow_reads_them(monkeypatch, insecure, cert):
    from mlflow.environment_variables import (
        MLFLOW_TRACKING_INSECURE_TLS,
        MLFLOW_TRACKING_SERVER_CERT_PATH,
    )

    from mlscope.core.credentials import env_tls

    for var, value in (("MLFLOW_TRACKING_INSECURE_TLS", insecure),
                       ("MLFLOW_TRACKING_SERVER_CERT_PATH", cert)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    assert env_tls() == (not MLFLOW_TRACKING_INSECURE_TLS.get(),
                         MLFLOW_TRACKING_SERVER_CERT_PATH.get() or None)
