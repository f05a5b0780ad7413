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
