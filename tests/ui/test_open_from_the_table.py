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


def test_the_run_detail_says_where_a_run_was_registered(tmp_path, qtbot, open_store_page):
    import mlflow
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri, registry_uri=uri)
    exp = client.create_experiment("reg", artifact_location=(tmp_path / "art").as_uri())
    run = client.create_run(exp, run_name="trained").info.run_id
    client.create_registered_model("credit-model")
    v = client.create_model_version("credit-model", f"runs:/{run}/model", run_id=run)
    client.transition_model_version_stage("credit-model", v.version, "Production")
    client.set_registered_model_alias("credit-model", "champion", v.version)
    mlflow.set_tracking_uri("")  # nothing else in this process writes there
    page = open_store_page(tmp_path / "mlflow.db", "reg")
    page.runs.select_run(run)
    qtbot.waitUntil(lambda: "Registered as" in page.detail.toPlainText(), timeout=30_000)
    text = page.detail.toPlainText()
    assert "credit-model" in text and "Production" in text and "champion" in text
