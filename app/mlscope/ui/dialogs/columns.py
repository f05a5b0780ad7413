"""Column chooser: tick to show, drag (or Up/Down) to reorder; remembered per experiment."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from ..models import columns as C


class ColumnChooser(QDialog):
    RESET = 2

    def __init__(self, available: list[str], visible: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Columns")
        self.resize(420, 560)
        self.search = QLineEdit(placeholderText="Find a column", clearButtonEnabled=True)
        self.list = QListWidget(objectName="columnList")
        self.list.setDragDropMode(QAbstractItemView.InternalMove)
        self.list.setSelectionMode(QAbstractItemView.SingleSelection)
        vis = set(visible)
        for key in list(visible) + [k for k in available if k not in vis]:
            label = C.title(key) if key in C.ATTRIBUTES else key
            it = QListWidgetItem(label)
            it.setData(Qt.UserRole, key)
            it.setFlags(it.flags() | Qt.ItemIsUserCheckable | Qt.ItemIsDragEnabled)
            it.setCheckState(Qt.Checked if key in vis else Qt.Unchecked)
            self.list.addItem(it)
        up = QPushButton("Up")
        down = QPushButton("Down")
        show_all = QPushButton("Show all")
        hide_all = QPushButton("Hide all")
        up.clicked.connect(lambda: self._move(-1))
        down.clicked.connect(lambda: self._move(1))
        show_all.clicked.connect(lambda: self._check_all(Qt.Checked))
        hide_all.clicked.connect(lambda: self._check_all(Qt.Unchecked))
        side = QVBoxLayout()
        for b in (up, down, show_all, hide_all):
            side.addWidget(b)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(side)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel
                                   | QDialogButtonBox.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.RestoreDefaults).clicked.connect(lambda: self.done(self.RESET))
        lay = QVBoxLayout(self)
        lay.addWidget(self.search)
        lay.addLayout(body, 1)
        lay.addWidget(buttons)
        self.search.textChanged.connect(self._filter)

    def _filter(self, text: str) -> None:
        text = text.casefold()
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setHidden(bool(text) and text not in it.text().casefold())

    def _check_all(self, state) -> None:
        for i in range(self.list.count()):
            it = self.list.item(i)
            if not it.isHidden():
                it.setCheckState(state)

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        new = row + step
        if row < 0 or not 0 <= new < self.list.count():
            return
        it = self.list.takeItem(row)
        self.list.insertItem(new, it)
        self.list.setCurrentRow(new)

    def visible(self) -> list[str]:
        out = []
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.checkState() == Qt.Checked:
                out.append(it.data(Qt.UserRole))
        return out
