"""Opening Compare from the runs table: Ctrl+D, the context menu's action and the button."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_ctrl_d_and_the_button_open_compare_on_the_selected_runs(built, qtbot, open_store_page):
    page = open_store_page(built["sqlite"], "alpha")
    compare = next(f for f in page.features if f.title == "Compare")
    ids = list(page.runs.model.frame["run_id"][:3])
    assert not page.runs.compare_button.isEnabled()  # one run selected: nothing to compare
    page.runs.select_runs(ids, current=ids[0])
    qtbot.waitUntil(lambda: page.runs.compare_button.isEnabled(), timeout=5000)
    page.runs.view.setFocus()
    qtbot.keyClick(page.runs.view, Qt.Key_D, Qt.ControlModifier)
    assert page.workspace.currentWidget() is compare.view
    qtbot.waitUntil(lambda: sorted(compare.run_ids) == sorted(ids), timeout=10_000)
    page.show_view("runs")
    qtbot.mouseClick(page.runs.compare_button, Qt.LeftButton)
    assert page.workspace.currentWidget() is compare.view
    assert page.runs.compare_action.text() == "Compare Selected Runs"


def test_a_metric_name_in_the_detail_charts_that_metric(built, qtbot, open_store_page):
    page = open_store_page(built["sqlite"], "alpha")
    page.detail.metricActivated.emit("rmse")
    assert page.workspace.currentWidget() is page.charts.view
    panel = page.charts.panel
    checked = [panel.metric_list.item(i).text() for i in range(panel.metric_list.count())
               if panel.metric_list.item(i).checkState() == Qt.Checked]
    assert checked == ["rmse"]
