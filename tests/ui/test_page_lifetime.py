"""A closed tab leaves nothing behind: the objects of a store page are freed with it, so that
opening and closing stores all day does not grow the app (issue 17's memory cycles)."""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QCoreApplication, QEvent

from conftest import wait_loaded


def _live(cls) -> int:
    return sum(1 for o in gc.get_objects() if type(o) is cls)


def _close_all(window) -> None:
    while window.tabs.count():
        window.close_tab(0)
    for _ in range(3):  # deleteLater, then what the deletion itself posts
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
        QCoreApplication.processEvents()
    gc.collect()


def test_open_and_close_a_store_holds_nothing(built, qtbot, window):
    from mlscope.ui.models import RunsModel
    from mlscope.ui.store_page import StorePage
    from mlscope.ui.views import registry

    def live() -> dict:
        gc.collect()
        return {cls.__name__: _live(cls) for cls in (StorePage, RunsModel, registry._Rows, registry._Proxy)}

    # What is alive before is not this test's leak: pytest keeps the last failure's
    # traceback (sys.last_traceback), whose frames hold that test's page; dropped here, but
    # a page kept otherwise by an earlier test of this worker may still go at any moment.
    sys.last_type = sys.last_value = sys.last_traceback = None
    before = live()
    counts = []
    for _ in range(3):
        page = window.open_target(str(built["sqlite"]))
        wait_loaded(qtbot, page)
        window.tabs.setCurrentWidget(page)
        del page
        _close_all(window)
        counts.append(live())
    grown = [{k: n - before[k] for k, n in c.items() if n > before[k]} for c in counts]
    assert not any(grown), f"objects left by closed pages: {before} before, then {counts}"
