"""The page's panels: a view maximised, popped out and docked back; the registry's room."""

from __future__ import annotations


def test_a_view_maximises_pops_out_and_docks_back(built, qtbot, open_store_page):
    page = open_store_page(built["sqlite"], "alpha")
    panels = page.split
    assert page.left_tabs.isVisible() and page.detail_tabs.isVisible()
    bar = page.workspace.tabBar()
    bar.tabBarDoubleClicked.emit(0)  # double-click a view's tab: the workspace alone
    assert not page.left_tabs.isVisible() and not page.detail_tabs.isVisible()
    bar.tabBarDoubleClicked.emit(0)
    assert page.left_tabs.isVisible() and page.detail_tabs.isVisible()

    charts = page.charts.view
    index = page.workspace.indexOf(charts)
    win = panels.pop_out(index)
    qtbot.addWidget(win)
    assert page.workspace.indexOf(charts) == -1 and win.centralWidget() is charts
    assert win.windowTitle().startswith("Charts")
    win.close()
    assert page.workspace.indexOf(charts) == index and page.workspace.tabText(index) == "Charts"
    assert page.show_view("charts") and page.workspace.currentWidget() is charts


def test_the_registry_gets_room_and_the_borders_come_back(built, qtbot, open_store_page):
    page = open_store_page(built["sqlite"], "alpha")
    before = page.split.sizes()
    page.show_view("registry")
    wide = page.split.sizes()
    assert wide[0] > before[0] and not page.detail_tabs.isVisible()
    page.show_view("experiments")
    assert page.split.sizes() == before and page.detail_tabs.isVisible()
