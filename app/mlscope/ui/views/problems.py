"""What the store could not read (``store.problems``), one line per path, in words."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem


class ProblemsPanel(QTableWidget):
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
