"""The run colours of one page: read by the table, the charts and every later view, with a
signal when they change."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from mlscope.core.series import ColorBook


class RunColors(QObject):
    """A run's colour is derived from its id (the same in every launch); the user may pin
    another. ``changed(run_ids)`` tells the views which runs to repaint."""

    changed = Signal(list)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.book = ColorBook()

    def hex(self, run_id: str) -> str:
        return self.book.color(run_id)

    def qcolor(self, run_id: str) -> QColor:
        return QColor(self.book.color(run_id))

    def set(self, run_id: str, color: str) -> None:
        self.book.set(run_id, color)
        self.changed.emit([run_id])
