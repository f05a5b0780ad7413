"""The filter box: MLflow search syntax, with completion of the keys this table really has.

Typing ``met`` offers ``metrics.rmse``, ``metrics.`train/loss``` and so on, back-quoted where
MLflow's parser needs it, so a user never has to remember which of their keys need quotes.

The completion list never takes the keyboard. QCompleter's own popup is a Qt::Popup window,
which grabs the keyboard when it opens: keys typed while it maps (a busy machine) were lost.
Here it is a window that shows without activating; every key goes to the box, in order, and
the box passes Up/Down/Page keys to the list and takes Return/Tab/Escape itself.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QCompleter, QLineEdit

ATTRIBUTES = ["attributes.status", "attributes.run_name", "attributes.run_id",
              "attributes.start_time", "attributes.end_time", "attributes.user_id",
              "attributes.artifact_uri", "datasets.name", "datasets.digest", "datasets.context"]
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEPARATORS = " (),"


def filter_key(column: str) -> str:
    """``params.train-data-path`` -> ``params.`train-data-path```: what MLflow's parser accepts."""
    prefix, _, key = column.partition(".")
    return f"{prefix}.{key}" if _PLAIN.fullmatch(key) else f"{prefix}.`{key}`"


class FilterEdit(QLineEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._keys = QStandardItemModel(self)
        self._quoted: dict[str, str] = {}
        self.completer_ = QCompleter(self._keys, self)
        # Match what users type (no back-quotes); insert what MLflow's parser needs.
        self.completer_.setCompletionRole(Qt.UserRole)
        self.completer_.setWidget(self)
        self.completer_.setCaseSensitivity(Qt.CaseInsensitive)
        self.completer_.setCompletionMode(QCompleter.PopupCompletion)
        self.completer_.setMaxVisibleItems(12)
        self.completer_.activated.connect(self._insert)
        popup = self.completer_.popup()
        popup.setWindowFlags(Qt.ToolTip | Qt.FramelessWindowHint | Qt.WindowDoesNotAcceptFocus)
        popup.setAttribute(Qt.WA_ShowWithoutActivating)
        popup.setFocusPolicy(Qt.NoFocus)
        self.textEdited.connect(self._complete)
        QApplication.instance().focusChanged.connect(self._focus_changed)
        self.set_columns([])

    def _focus_changed(self, old, new) -> None:
        """The popup does not grab the mouse either: hide it when the box loses focus."""
        if old is self and new is not self:
            self.completer_.popup().hide()

    def event(self, e) -> bool:
        if e.type() in (QEvent.WindowDeactivate, QEvent.Hide, QEvent.Move):
            self.completer_.popup().hide()
        return super().event(e)

    def set_columns(self, columns) -> None:
        plain = sorted((c for c in columns if c.startswith(("metrics.", "params.", "tags."))),
                       key=str.lower) + ATTRIBUTES
        self._keys.clear()
        self._quoted = {}
        for column in plain:
            quoted = filter_key(column) if column not in ATTRIBUTES else column
            item = QStandardItem(quoted)
            item.setData(column, Qt.UserRole)
            self._keys.appendRow(item)
            self._quoted[column] = quoted

    def _word_start(self) -> int:
        text = self.text()[: self.cursorPosition()]
        return max(text.rfind(c) for c in _SEPARATORS) + 1

    def _complete(self, _text: str) -> None:
        start = self._word_start()
        prefix = self.text()[start: self.cursorPosition()]
        if len(prefix) < 2 or any(q in prefix for q in "'\"=<>!"):
            self.completer_.popup().hide()
            return
        self.completer_.setCompletionPrefix(prefix)
        if self.completer_.completionCount() == 0 or (
                self.completer_.completionCount() == 1 and self.current() == prefix):
            self.completer_.popup().hide()
            return
        self.completer_.complete()

    def current(self) -> str:
        """The completion on offer, as it would be inserted."""
        text = self.completer_.currentCompletion()
        return self._quoted.get(text, text)

    def _insert(self, completion: str) -> None:
        completion = self._quoted.get(completion, completion)
        start, end = self._word_start(), self.cursorPosition()
        text = self.text()
        self.setText(text[:start] + completion + " " + text[end:])
        self.setCursorPosition(start + len(completion) + 1)

    def keyPressEvent(self, event) -> None:
        popup = self.completer_.popup()
        key = event.key()
        if popup.isVisible():
            if key in (Qt.Key_Up, Qt.Key_Down, Qt.Key_PageUp, Qt.Key_PageDown):
                popup.keyPressEvent(event)  # move in the list; the text stays as typed
                return
            if key == Qt.Key_Escape:
                popup.hide()
                event.accept()
                return
            if key in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Tab):
                index = popup.currentIndex()
                if not index.isValid() and key == Qt.Key_Tab:
                    index = popup.model().index(0, 0)
                popup.hide()
                if index.isValid():
                    self._insert(index.data(self.completer_.completionRole()))
                    event.accept()
                    return
                if key == Qt.Key_Tab:
                    event.accept()
                    return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, forward: bool) -> bool:
        if self.completer_.popup().isVisible():
            return False  # Tab picks a completion (keyPressEvent), never leaves the box
        return super().focusNextPrevChild(forward)
