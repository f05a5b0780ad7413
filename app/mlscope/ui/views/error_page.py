"""What a tab shows when its store could not be opened: the reason, Try Again, Close."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class ErrorPage(QWidget):
    retryRequested = Signal()
    closeRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel("Could not open this store", objectName="errorTitle")
        self.message = QLabel(wordWrap=True, objectName="errorMessage")
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        retry = QPushButton("Try Again")
        close = QPushButton("Close Tab")
        retry.clicked.connect(self.retryRequested)
        close.clicked.connect(self.closeRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(retry)
        buttons.addWidget(close)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 40, 40, 40)
        lay.addWidget(self.title)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        lay.addStretch(1)
