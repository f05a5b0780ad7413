"""Typing into the filter box while its completion popup opens loses no keystroke, even when
the GUI thread is busy and the keys queue up (as a loaded machine delivers them)."""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from mlscope.ui.views.filter_edit import FilterEdit

COLUMNS = ["metrics.rmse", "metrics.r2", "metrics.mae", "metrics.train/loss", "params.alpha",
           "params.model", "params.train-data-path", "tags.developer"]


def _window(qtbot):
    w = QWidget()
    box = FilterEdit()
    box.set_columns(COLUMNS)
    QVBoxLayout(w).addWidget(box)
    qtbot.addWidget(w)
    w.resize(600, 80)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    return w, box


def _post_keys(window, text: str) -> None:
    """Queue presses and releases on the window, as the window system delivers keys: Qt routes
    each to the focus widget, or to an open popup if one holds the keyboard."""
    handle = window.windowHandle()
    for ch in text:
        key = Qt.Key_Space if ch == " " else Qt.Key(ord(ch.upper())) if ch.isalpha() else Qt.Key_unknown
        for kind in (QEvent.KeyPress, QEvent.KeyRelease):
            QCoreApplication.postEvent(handle, QKeyEvent(kind, key, Qt.NoModifier, ch))


def test_keys_typed_while_the_popup_opens_under_load_all_arrive(qtbot):
    w, box = _window(qtbot)
    busy = []

    def load(_text):  # a busy GUI thread: every keystroke costs 30 ms
        busy.append(1)
        time.sleep(0.03)

    box.textEdited.connect(load)
    typed = "metrics.rmse < 6 and params.alpha = 1"
    seen_open = []
    box.textEdited.connect(lambda _t: seen_open.append(box.completer_.popup().isVisible()))
    _post_keys(w, typed)
    qtbot.waitUntil(lambda: len(busy) >= len(typed), timeout=10_000)
    QApplication.processEvents()
    assert box.text() == typed
    assert any(seen_open)  # the popup was open for part of the typing


def test_the_open_popup_never_takes_the_keyboard(qtbot):
    """A Qt::Popup grabs the keyboard while it maps: the window system then sends the keys
    typed meanwhile elsewhere. The completion list must not be one."""
    w, box = _window(qtbot)
    qtbot.keyClicks(box, "par")
    popup = box.completer_.popup()
    qtbot.waitUntil(popup.isVisible)
    assert QApplication.activePopupWidget() is None
    assert popup.windowType() != Qt.Popup
    assert QApplication.focusWidget() is box and QApplication.activeWindow() is w


def test_popup_keys_pick_a_completion_and_the_box_keeps_the_keyboard(qtbot):
    w, box = _window(qtbot)
    qtbot.keyClicks(box, "met")
    popup = box.completer_.popup()
    qtbot.waitUntil(popup.isVisible)
    assert box.hasFocus()
    qtbot.keyClick(box, Qt.Key_Down)
    current = popup.currentIndex().data(Qt.UserRole)
    assert current in COLUMNS
    qtbot.keyClick(box, Qt.Key_Return)
    assert not popup.isVisible()
    assert box.text().startswith(box._quoted[current])
    qtbot.keyClicks(box, "< 1")
    assert box.text().endswith("< 1")
    qtbot.keyClicks(box, " and par")
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(box, Qt.Key_Escape)
    assert not popup.isVisible() and box.text().endswith("and par")
