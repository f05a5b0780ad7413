"""Credentials and TLS options for a tracking server, as the connect dialog gives them.

They live in this process's memory only (never in the environment or in settings): the
dialog hands them to :func:`remember`, the worker that opens the store asks :func:`auth_for`,
and a secret the user chose to keep goes to the system keyring (:mod:`.keyring_store`) once
the server has accepted it. What the dialog does not give, MLflow's own sources give, in
MLflow's order (see :func:`mlflow_credentials`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace

from .errors import StoreError

KINDS = ("none", "token", "basic")  # no explicit credentials, bearer token, user + password
CREDENTIALS_FILE = "~/.mlflow/credentials"  # MLflow's (mlflow.utils.credentials)
TLS_VARIABLES = ("MLFLOW_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_SERVER_CERT_PATH")


@dataclass(frozen=True)
class ServerAuth:
    """What the user chose for one server. ``secret`` (password or token) is never printed.

    ``verify``/``ca_bundle`` None: MLflow's MLFLOW_TRACKING_INSECURE_TLS /
    MLFLOW_TRACKING_SERVER_CERT_PATH decide. ``use_keyring``: read the secret from the
    keyring when none is given, and save the given one there once the server accepted it."""

    kind: str = "none"
    username: str | None = None
    secret: str | None = field(default=None, repr=False)
    verify: bool | None = None
    ca_bundle: str | None = None
    use_keyring: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"auth kind must be one of {KINDS}, not {self.kind!r}")


class Credentials:
    """What MLflow's client would send, where it came from, and the words when refused."""

    LOOKED = ("MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD, MLFLOW_TRACKING_TOKEN and "
              "~/.mlflow/credentials")

    def __init__(self, user=None, password=None, token=None, source=""):
        self.user, self.password, self.token, self.source = user, password, token, source

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, token={'***' if self.token else None}, source={self.source!r})"

    def refused(self, uri: str, status: int, path: str) -> str:
        """401: none given, or these rejected (naming the user, never the secret); 403: the
        user lacks a permission, named by what was asked."""
        if status == 403:
            who = f"user '{self.user}'" if self.user else "this token" if self.token else "anonymous access"
            need = ("READ permission on the experiments" if path.startswith(("runs/", "metrics/",
                    "experiments/")) else "READ permission on the registered models"
                    if path.startswith(("registered-models/", "model-versions/")) else "permission")
            return (f"{uri} denied {who} access to {path} (HTTP 403): the account lacks {need}. "
                    "Ask the server's admin to grant it.")
        if self.user is not None:
            return (f"{uri} rejected the password of user '{self.user}' (HTTP 401). It came from "
                    f"{self.source}.")
        if self.token:
            return f"{uri} rejected the token (HTTP 401). It came from {self.source}."
        return (f"{uri} asks for credentials (HTTP 401) and none were given. mlscope looked in "
                f"{self.LOOKED}.")

    def token_not_taken(self, uri: str, status: int) -> str:
        return (f"{uri} takes a username and password, not a token: it failed (HTTP {status}) "
                f"on the token from {self.source}. Choose “Username and password”.")


def mlflow_credentials() -> Credentials:
    """MLflow's own sources, in its order: a username and password (the environment, else
    ~/.mlflow/credentials, read by MLflow's helper), else MLFLOW_TRACKING_TOKEN. Without
    that file, MLflow's helper reads the environment alone, as here: importing MLflow (1.1 s)
    would be most of the time to a server's first runs."""
    env_user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    if os.path.exists(os.path.expanduser(CREDENTIALS_FILE)):
        from mlflow.utils.credentials import read_mlflow_creds

        creds = read_mlflow_creds()
        user, password = creds.username, creds.password
    else:
        user, password = env_user, os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        source = ("MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD" if env_user
                  else "~/.mlflow/credentials")
        return Credentials(user, password, source=source)
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return Credentials(token=token, source="MLFLOW_TRACKING_TOKEN")
    return Credentials()


def credentials(auth: ServerAuth | None) -> Credentials:
    """The dialog's credentials when it gave some, else MLflow's sources."""
    if auth is not None and auth.kind == "basic" and auth.username:
        return Credentials(auth.username, auth.secret or "", source="the connect dialog")
    if auth is not None and auth.kind == "token" and auth.secret:
        return Credentials(token=auth.secret, source="the connect dialog")
    return mlflow_credentials()


def env_tls() -> tuple[bool, str | None]:
    """(verify, CA bundle) from MLflow's variables, read as MLflow reads them (MLflow's
    defaults, without importing it, when neither is set)."""
    if not any(name in os.environ for name in TLS_VARIABLES):
        return True, None
    from mlflow.environment_variables import (
        MLFLOW_TRACKING_INSECURE_TLS,
        MLFLOW_TRACKING_SERVER_CERT_PATH,
    )

    try:
        insecure = MLFLOW_TRACKING_INSECURE_TLS.get()
    except ValueError as exc:
        raise StoreError(f"MLFLOW_TRACKING_INSECURE_TLS: {exc}") from exc
    return not insecure, MLFLOW_TRACKING_SERVER_CERT_PATH.get() or None


def tls_verify(auth: ServerAuth | None, uri: str = "") -> bool | str:
    """``requests``' ``verify``: a CA bundle path, or whether to check certificates at all.

    The dialog's choice wins; otherwise MLflow's variables. As in MLflow's MlflowHostCreds,
    skipping verification and a CA bundle together is an error, not a guess."""
    env_verify, env_ca = env_tls()
    verify = env_verify if auth is None or auth.verify is None else auth.verify
    ca = auth.ca_bundle if auth is not None and auth.ca_bundle else (
        env_ca if auth is None or auth.verify is None else None)
    if not verify and ca:
        raise StoreError(f"{uri}: TLS verification is off and a CA bundle ({ca}) is set; choose "
                         "one (MLflow refuses MLFLOW_TRACKING_INSECURE_TLS together with "
                         "MLFLOW_TRACKING_SERVER_CERT_PATH).", uri)
    if ca:
        if not os.path.isfile(ca):
            raise StoreError(f"The CA bundle {ca} for {uri} is not a readable file.", uri)
        return ca
    return verify


# -- this session's choices (memory only) ---------------------------------------------------
_lock = threading.Lock()
_session: dict[str, ServerAuth] = {}


def _key(url: str) -> str:
    return str(url).strip().rstrip("/")


def remember(url: str, auth: ServerAuth) -> None:
    """Keep what the dialog gave for ``url`` while mlscope runs (F5 reopens with it)."""
    with _lock:
        _session[_key(url)] = auth


def forget(url: str) -> None:
    with _lock:
        _session.pop(_key(url), None)


def auth_for(url: str) -> ServerAuth | None:
    """What to open ``url`` with: the dialog's choice, its secret from the keyring when the
    user saved one there and typed none now. Reads the keyring: call it on a worker."""
    with _lock:
        auth = _session.get(_key(url))
    if auth is None or auth.secret or not auth.use_keyring or auth.kind == "none":
        return auth
    from . import keyring_store

    secret = keyring_store.load(_key(url), auth.username if auth.kind == "basic" else None)
    return replace(auth, secret=secret) if secret else auth


def accepted(url: str, auth: ServerAuth | None) -> str:
    """The server accepted ``auth``: save its secret in the keyring if the user asked.
    Returns words for the status bar ('' when nothing was to be saved)."""
    if auth is None or not auth.use_keyring or not auth.secret or auth.kind == "none":
        return ""
    from . import keyring_store

    return keyring_store.save(_key(url), auth.username if auth.kind == "basic" else None, auth.secret)
