"""The bar above a server's table while what it shows is not the server's live answer: the
saved copy ("Cached, 3 minutes old — refreshing…", then "…, 2 runs updated since — checking
every run…"), or, with Reconnect, the copy offline or the runs kept when the server failed
("Offline: … The table shows the runs read at 11:02."). A large mlruns folder's last table
while its run folders are checked says so too. Hidden once live."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


class CacheBar(QFrame):
    reconnectRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent, objectName="cacheBar")
        self.setFrameShape(QFrame.StyledPanel)
        self.label = QLabel(wordWrap=True, objectName="cacheBarText")
        self.reconnect = QPushButton("Reconnect")
        self.reconnect.clicked.connect(self.reconnectRequested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.reconnect)
        self.offline = False
        self.hide()

    def show_state(self, text: str, offline: bool) -> None:
        """``text`` empty: the table is live, the bar goes. ``offline``: offer Reconnect."""
        self.offline = offline and bool(text)
        self.label.setText(text)
        self.reconnect.setVisible(self.offline)
        self.setProperty("offline", self.offline)
        self.setStyleSheet("#cacheBar { background: %s; }" % ("#f8e0b0" if self.offline else "#dde8f6")
                           + " #cacheBarText { color: #222; }")
        self.setVisible(bool(text))
