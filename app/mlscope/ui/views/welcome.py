"""What a user sees with nothing open: the ways in, and the stores they opened before."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from .. import theme

RECENT_ROWS = 8  # the Recent list shows this many stores without scrolling


class _RecentDelegate(QStyledItemDelegate):
    """A recent store's path elided in the middle to the list's width: the folder it starts
    in and the store's own name both stay readable (the full path is the tooltip)."""

    def elided(self, index, option) -> str:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        room = opt.rect.width() - opt.decorationSize.width() - 16
        return opt.fontMetrics.elidedText(opt.text, Qt.ElideMiddle, max(0, room))

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        view = option.widget
        if view is not None:  # never wider than the list: no sideways scrolling
            option.rect.setRight(min(option.rect.right(), view.viewport().width() - 2))

    def sizeHint(self, option, index) -> QSize:
        view = option.widget
        h = option.fontMetrics.height() + 14
        if view is None:
            return QSize(200, h)
        # Room for the vertical scroll bar kept whether it shows or not: rows never get wider
        # than the list when it appears.
        w = view.width() - 2 * view.frameWidth() - view.verticalScrollBar().sizeHint().width()
        return QSize(max(1, w), h)

    def paint(self, painter, option, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = self.elided(index, option)
        opt.text = text
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(style.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        else:
            super().paint(painter, option, index)


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
        # One scroll bar (vertical, only when needed); long paths are elided in the middle.
        self.recent_list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.recent_list.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.recent_list.setHorizontalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.recent_list.setTextElideMode(Qt.ElideMiddle)
        self.recent_list.setWordWrap(False)
        self.recent_list.setUniformItemSizes(True)
        self.recent_list.setResizeMode(QListView.Adjust)  # rows as wide as the list
        self.recent_list.setIconSize(QSize(18, 18))
        self.recent_delegate = _RecentDelegate(self.recent_list)
        self.recent_list.setItemDelegate(self.recent_delegate)
        row = self.recent_list.fontMetrics().height() + 14
        self.recent_list.setMinimumHeight(row * RECENT_ROWS)
        self.recent_list.itemActivated.connect(lambda it: self.recentRequested.emit(it.data(Qt.UserRole)))
        self.recent_list.itemClicked.connect(lambda it: self.recentRequested.emit(it.data(Qt.UserRole)))
        self.no_recent = QLabel("Stores you open appear here.", objectName="emptyHint")
        rl.addWidget(self.recent_list, 1)
        rl.addWidget(self.no_recent)

        cards = QHBoxLayout()
        cards.addStretch(1)
        actions.setFixedWidth(330)
        recent.setMinimumWidth(560)
        recent.setMaximumWidth(760)
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
