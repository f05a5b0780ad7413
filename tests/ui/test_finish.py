"""Finish: the empty Problems panel says so in words; the welcome page's Recent list is
usable (paths elided in the middle, full paths in tooltips, one scroll bar, a real size)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyleOptionViewItem

from mlscope.core.store import Problem
from mlscope.ui.views.problems import EMPTY_TEXT, ProblemsPanel
from mlscope.ui.views.welcome import WelcomePage


def test_no_problems_is_said_in_words(qtbot):
    panel = ProblemsPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 300)
    panel.show()
    panel.set_problems([])
    assert panel.empty_text() == EMPTY_TEXT == "No problems: every run was read."
    assert panel.horizontalHeader().isHidden()  # words, not bare headers
    panel.set_problems([Problem("mlruns/1/abc/meta.yaml", "The run's meta.yaml is not valid YAML.")])
    assert panel.empty_text() == "" and panel.rowCount() == 1
    assert panel.horizontalHeader().isVisible()


LONG = [
    "/home/someone/projects/customer-churn-2024/experiments/notebooks/baseline/mlruns",
    "/home/someone/projects/kaggle-rainforest-connection-species-audio-detection/mlflow.db",
    "https://mlflow.internal.example.com/tracking/with/a/long/path",
    "/srv/data/mlflow.db",
]


def test_recent_list_elides_paths_in_the_middle_with_one_scroll_bar(qtbot):
    page = WelcomePage()
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    page.set_recent(LONG * 3)  # more than fit: a vertical scroll bar, never a sideways one
    lst = page.recent_list
    qtbot.waitExposed(page)
    assert lst.width() >= 500 and lst.height() >= 8 * lst.fontMetrics().height()
    assert lst.horizontalScrollBar().maximum() == 0 or lst.horizontalScrollBarPolicy() == Qt.ScrollBarAlwaysOff
    assert not lst.horizontalScrollBar().isVisible()
    for row, target in enumerate(LONG):
        item = lst.item(row)
        assert item.toolTip() == target
        index = lst.model().index(row, 0)
        option = QStyleOptionViewItem()
        option.initFrom(lst)
        option.rect = lst.visualRect(index)
        assert option.rect.right() <= lst.viewport().width()  # rows as wide as the list
        shown = page.recent_delegate.elided(index, option)
        assert lst.fontMetrics().horizontalAdvance(shown) <= option.rect.width()
        if shown != target:  # elided in the middle: where it starts and the store's name stay
            head, _, tail = shown.partition("…")
            assert target.startswith(head) and target.endswith(tail) and len(tail) > 5
    assert any(page.recent_delegate.elided(lst.model().index(r, 0), option) != t
               for r, t in enumerate(LONG))
