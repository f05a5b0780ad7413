"""What a user sees with nothing open: the ways in, and the stores they opened before."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import theme


class WelcomePage(QWidget):
    openFolderRequested = Signal()
    openDatabaseRequested = Signal()
    connectRequested = Signal()
    demoRequested = Signal()
    recentRequested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("welcomePage")
        logo = QLabel(alignment=Qt.AlignCenter)
        logo.setPixmap(theme.icon("app").pixmap(QSize(72, 72)))
        title = QLabel("mlscope", objectName="welcomeTitle", alignment=Qt.AlignCenter)
        subtitle = QLabel("A fast, read-only browser for MLflow tracking stores.\n"
                          "Drop an mlruns folder or an mlflow.db anywhere on this window.",
                          objectName="welcomeSubtitle", alignment=Qt.AlignCenter)
        self.status = QLabel("", objectName="emptyHint", alignment=Qt.AlignCenter, wordWrap=True)
        self.status.hide()

        actions = QFrame(objectName="card")
        al = QVBoxLayout(actions)
        al.setContentsMargins(14, 14, 14, 14)
        head = QLabel("START", objectName="panelTitle")
        al.addWidget(head)
        self.buttons = {}
        for key, icon, text, sig in (
            ("folder", "folder-open", "Open mlruns folder…", self.openFolderRequested),
            ("database", "database", "Open database file…", self.openDatabaseRequested),
            ("server", "server", "Connect to tracking server…", self.connectRequested),
            ("demo", "sparkles", "Open the demo store", self.demoRequested),
        ):
            b = QPushButton(theme.icon(icon), "  " + text, objectName="bigAction")
            b.setIconSize(QSize(20, 20))
            b.clicked.connect(sig)
            al.addWidget(b)
            self.buttons[key] = b
        al.addStretch(1)

        recent = QFrame(objectName="card")
        rl = QVBoxLayout(recent)
        rl.setContentsMargins(14, 14, 14, 14)
        rl.addWidget(QLabel("RECENT", objectName="panelTitle"))
        self.recent_list = QListWidget(objectName="recentList")
        self.recent_list.setFrameShape(QFrame.NoFrame)
        self.recent_list.itemActivated.connect(lambda it: self.recentRequested.emit(it.data(Qt.UserRole)))
        self.recent_list.itemClicked.connect(lambda it: self.recentRequested.emit(it.data(Qt.UserRole)))
        self.no_recent = QLabel("Stores you open appear here.", objectName="emptyHint")
        rl.addWidget(self.recent_list, 1)
        rl.addWidget(self.no_recent)

        cards = QHBoxLayout()
        cards.addStretch(1)
        actions.setFixedWidth(330)
        recent.setMinimumWidth(420)
        cards.addWidget(actions)
        cards.addSpacing(16)
        cards.addWidget(recent)
        cards.addStretch(1)

        lay = QVBoxLayout(self)
        lay.addStretch(1)
        lay.addWidget(logo)
        lay.addWidget(title)
        lay.addWidget(subtitle)
        lay.addSpacing(24)
        lay.addLayout(cards)
        lay.addSpacing(12)
        lay.addWidget(self.status)
        lay.addStretch(2)

    def set_recent(self, items: list[str]) -> None:
        self.recent_list.clear()
        for target in items:
            kind = "server" if target.startswith(("http://", "https://")) else (
                "database" if target.endswith((".db", ".sqlite", ".sqlite3")) or "://" in target
                else "folder-open")
            it = QListWidgetItem(theme.icon(kind), target)
            it.setData(Qt.UserRole, target)
            it.setToolTip(target)
            self.recent_list.addItem(it)
        self.no_recent.setVisible(not items)
        self.recent_list.setVisible(bool(items))

    def set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
