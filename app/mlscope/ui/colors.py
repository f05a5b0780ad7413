"""The run colours of one page: read by the table, the charts and every later view, with a
signal when they change."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from mlscope.core.series import ColorBook

MAX_REMEMBERED = 5000  # run colours kept in the settings; the oldest go first


class RunColors(QObject):
    """A run keeps its colour in every launch: colours are remembered in the settings (when
    given); the user may pin another. ``changed(run_ids)`` tells the views what to repaint."""

    changed = Signal(list)

    def __init__(self, parent: QObject | None = None, settings=None):
        super().__init__(parent)
        self.settings = settings
        saved = (settings.get("run_colors") or {}) if settings is not None else {}
        self.book = ColorBook(saved=saved if isinstance(saved, dict) else {}, on_new=self._remember)
        self._pending = False

    def _remember(self, run_id: str, color: str) -> None:
        if self.settings is None:
            return
        saved = dict(self.settings.get("run_colors") or {})
        saved[run_id] = color
        if len(saved) > MAX_REMEMBERED:
            saved = dict(list(saved.items())[-MAX_REMEMBERED:])
        self.settings.data["run_colors"] = saved  # written with the next save, not per run
        if not self._pending:
            from PySide6.QtCore import QTimer

            self._pending = True
            QTimer.singleShot(500, self._save)

    def _save(self) -> None:
        self._pending = False
        self.settings.save()

    def hex(self, run_id: str) -> str:
        return self.book.color(run_id)

    def qcolor(self, run_id: str) -> QColor:
        return QColor(self.book.color(run_id))

    def set(self, run_id: str, color: str) -> None:
        self.book.set(run_id, color)
        self.changed.emit([run_id])
