"""Connect to a tracking server: URL, credentials (none, bearer token, or MLflow's basic-auth
user and password), TLS, and the servers used before.

The dialog only collects: the window hands its :class:`ServerAuth` to the store in memory.
Remembered servers hold the URL, auth kind, user name and TLS choice, never a secret; a
secret is kept only in the system keyring, and only when one is available.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mlscope.core.credentials import ServerAuth, env_tls
from mlscope.core.secrets import redact

KIND_TEXT = {
    "none": "None (MLflow's environment variables or ~/.mlflow/credentials)",
    "token": "Bearer token",
    "basic": "Username and password",
}
WARN_INSECURE = ("⚠ Certificates are not checked: anyone between you and the server can read "
                 "the password and the data, or pose as the server.")


def _env_tls() -> tuple[bool, str]:
    try:
        verify, ca = env_tls()
    except Exception:  # noqa: BLE001 - a malformed variable: the store names it on connect
        return True, ""
    return verify, ca or ""


class ConnectDialog(QDialog):
    """``servers``: remembered entries (dicts: url, kind, username, verify, ca_bundle,
    keyring); ``keyring``: (available, words) from :func:`mlscope.core.keyring_store.status`;
    ``message``: why the dialog is shown again (a refused password...)."""

    def __init__(self, history: list[str] | None = None, parent=None, *,
                 servers: list[dict] | None = None, keyring: tuple[bool, str] = (False, ""),
                 message: str = "", current: dict | None = None):
        super().__init__(parent)
        self.setWindowTitle("Connect to Tracking Server")
        self.setMinimumWidth(520)
        self.servers = {s["url"]: s for s in servers or [] if isinstance(s, dict) and s.get("url")}
        self.keyring_available, keyring_words = keyring
        self._saved = False  # the chosen server's secret is in the keyring

        self.error = QLabel(redact(message), wordWrap=True, objectName="connectError")
        self.error.setStyleSheet("color: #b91c1c; font-weight: 600;")
        self.error.setVisible(bool(message))

        self.url = QComboBox(editable=True, objectName="serverUrl")
        urls = list(self.servers) + [h for h in history or [] if h not in self.servers]
        for item in urls:
            self.url.addItem(item)
        self.url.lineEdit().setPlaceholderText("http://localhost:5000")

        self.kind = QComboBox(objectName="authKind")
        for key, text in KIND_TEXT.items():
            self.kind.addItem(text, key)
        self.username = QLineEdit(objectName="username")
        self.secret = QLineEdit(objectName="secret", echoMode=QLineEdit.Password)
        self.secret_label = QLabel("Password")
        self.save_secret = QCheckBox("Remember in the system keyring", objectName="saveSecret")
        self.save_secret.setChecked(self.keyring_available)
        self.save_secret.setEnabled(self.keyring_available)
        self.keyring_note = QLabel(keyring_words, wordWrap=True, objectName="keyringNote")
        self.keyring_note.setStyleSheet("color: #64748b;")

        env_verify, env_ca = _env_tls()
        self.verify = QCheckBox("Verify the server's TLS certificate", objectName="verifyTls")
        self.verify.setChecked(env_verify)
        self.ca_bundle = QLineEdit(env_ca, objectName="caBundle")
        self.ca_bundle.setPlaceholderText("System certificates (or a CA bundle .pem file)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_ca)
        ca_row = QWidget()
        ca_lay = QHBoxLayout(ca_row)
        ca_lay.setContentsMargins(0, 0, 0, 0)
        ca_lay.addWidget(self.ca_bundle, 1)
        ca_lay.addWidget(browse)
        self.insecure_warning = QLabel(WARN_INSECURE, wordWrap=True, objectName="insecureWarning")
        self.insecure_warning.setStyleSheet("color: #b45309; font-weight: 600;")

        form = QFormLayout()
        form.addRow("Server URL", self.url)
        form.addRow("Sign in with", self.kind)
        self.username_label = QLabel("Username")
        form.addRow(self.username_label, self.username)
        form.addRow(self.secret_label, self.secret)
        form.addRow("", self.save_secret)
        form.addRow("", self.keyring_note)
        form.addRow("TLS", self.verify)
        form.addRow("CA bundle", ca_row)
        form.addRow("", self.insecure_warning)
        self._form = form

        hint = QLabel("The URL you pass to <code>mlflow.set_tracking_uri()</code>. Signing in with "
                      "“None”, MLflow's own sources still apply "
                      "(MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_TRACKING_TOKEN, "
                      "~/.mlflow/credentials).", wordWrap=True)
        hint.setStyleSheet("color: #64748b;")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Connect")
        buttons.button(QDialogButtonBox.Ok).setProperty("primary", True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.error)
        lay.addLayout(form)
        lay.addWidget(hint)
        lay.addWidget(buttons)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.verify.toggled.connect(self._tls_changed)
        self.url.currentTextChanged.connect(self._url_changed)
        first = (current or {}).get("url") or (urls[0] if urls else "http://localhost:5000")
        self.url.setCurrentText(first)
        self._url_changed(first)
        if current:
            self._fill(current)
        self._kind_changed()
        self._tls_changed()
        (self.secret if message else self.url).setFocus()

    # -- filling from a remembered server -------------------------------------------------------
    def _url_changed(self, text: str) -> None:
        entry = self.servers.get(text.strip().rstrip("/"))
        if entry is not None:
            self._fill(entry)

    def _fill(self, entry: dict) -> None:
        i = self.kind.findData(entry.get("kind", "none"))
        self.kind.setCurrentIndex(max(i, 0))
        self.username.setText(entry.get("username") or "")
        self.secret.clear()
        saved = bool(entry.get("keyring")) and self.keyring_available
        self.secret.setPlaceholderText("Saved in the system keyring: leave empty to use it"
                                       if saved else "")
        if entry.get("verify") is not None:
            self.verify.setChecked(bool(entry["verify"]))
        self.ca_bundle.setText(entry.get("ca_bundle") or "")
        self._saved = saved

    def _kind_changed(self, *_args) -> None:
        kind = self.kind.currentData()
        basic, any_secret = kind == "basic", kind in ("basic", "token")
        for w in (self.username_label, self.username):
            w.setVisible(basic)
        for w in (self.secret_label, self.secret, self.save_secret, self.keyring_note):
            w.setVisible(any_secret)
        self.secret_label.setText("Password" if basic else "Token")

    def _tls_changed(self, *_args) -> None:
        self.insecure_warning.setVisible(not self.verify.isChecked())
        self.ca_bundle.setEnabled(self.verify.isChecked())

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "CA bundle", self.ca_bundle.text(),
                                              "Certificates (*.pem *.crt *.cer);;All files (*)")
        if path:
            self.ca_bundle.setText(path)

    # -- answers ----------------------------------------------------------------------------------
    def value(self) -> str:
        text = self.url.currentText().strip()
        if text and "://" not in text:
            text = "http://" + text
        return text.rstrip("/")

    def auth(self) -> ServerAuth:
        """What the store opens with (the secret stays in memory)."""
        kind = self.kind.currentData()
        secret = self.secret.text() if kind in ("basic", "token") else ""
        verify = self.verify.isChecked()
        return ServerAuth(
            kind=kind, username=self.username.text().strip() or None if kind == "basic" else None,
            secret=secret or None, verify=verify,
            ca_bundle=(self.ca_bundle.text().strip() or None) if verify else None,
            use_keyring=self.keyring_available and (
                self.save_secret.isChecked() or (not secret and getattr(self, "_saved", False))))

    def entry(self) -> dict:
        """What is remembered of this server: never the secret."""
        a = self.auth()
        return {"url": self.value(), "kind": a.kind, "username": a.username, "verify": a.verify,
                "ca_bundle": a.ca_bundle, "keyring": a.use_keyring}
