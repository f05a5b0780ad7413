"""Ask for a tracking server's URL (credentials come from MLflow's usual environment variables)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
)


class ConnectDialog(QDialog):
    def __init__(self, history: list[str] | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Connect to Tracking Server")
        self.setMinimumWidth(460)
        self.url = QComboBox(editable=True, objectName="serverUrl")
        for item in history or []:
            self.url.addItem(item)
        self.url.setCurrentText((history or ["http://localhost:5000"])[0])
        self.url.lineEdit().setPlaceholderText("http://localhost:5000")
        hint = QLabel(
            "The URL you pass to <code>mlflow.set_tracking_uri()</code>. For servers with "
            "authentication, set MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD or "
            "MLFLOW_TRACKING_TOKEN before starting mlscope.", wordWrap=True)
        hint.setStyleSheet("color: #64748b;")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Connect")
        buttons.button(QDialogButtonBox.Ok).setProperty("primary", True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Server URL"))
        lay.addWidget(self.url)
        lay.addWidget(hint)
        lay.addWidget(buttons)

    def value(self) -> str:
        text = self.url.currentText().strip()
        if text and "://" not in text:
            text = "http://" + text
        return text
