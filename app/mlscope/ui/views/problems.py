"""What the store could not read (``store.problems``), one line per path, in words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

EMPTY_TEXT = "No problems: every run was read."


class ProblemsPanel(QTableWidget):
    """A table of problems; with none, it says so in words instead of showing bare headers."""

    def __init__(self, parent=None):
        super().__init__(0, 2, parent)
        self.setObjectName("problemsView")
        self.setHorizontalHeaderLabels(["Where", "Problem"])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setWordWrap(False)
        h = self.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.Interactive)
        h.setStretchLastSection(True)
        h.resizeSection(0, 360)
        h.hide()

    def set_problems(self, problems) -> None:
        self.setRowCount(0)
        self.setRowCount(len(problems))
        for r, p in enumerate(problems):
            where = getattr(p, "where", "")
            message = getattr(p, "message", str(p))
            for c, text in enumerate((str(where), str(message))):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.setItem(r, c, item)
        self.horizontalHeader().setVisible(bool(problems))
        self.viewport().update()

    def empty_text(self) -> str:
        """What the panel says when it lists nothing ("" while it lists problems)."""
        return EMPTY_TEXT if self.rowCount() == 0 else ""

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        text = self.empty_text()
        if text:
            p = QPainter(self.viewport())
            p.setPen(self.palette().color(QPalette.PlaceholderText))
            p.drawText(self.viewport().rect().adjusted(16, 16, -16, -16),
                       int(Qt.AlignHCenter | Qt.AlignTop | Qt.TextWordWrap), text)
            p.end()
