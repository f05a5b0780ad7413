"""The run detail in its side panel: one readable column, clickable metrics, logged models."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
import yaml
from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextOption

from mlscope.core import open_store
from mlscope.ui.views.detail import ZWSP, RunDetail


class _Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


@pytest.fixture(scope="module")
def rich_store(tmp_path_factory):
    """One run with everything the detail shows, logged by MLflow's client (and a pyfunc model)."""
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("detail") / "mlflow.db"
    uri = f"sqlite:///{db}"
    client = MlflowClient(uri)
    exp = client.create_experiment("a-rather-long-experiment-name-for-a-narrow-panel")
    parent = client.create_run(exp, run_name="xgboost-hyperparameter-search-with-a-long-name",
                               tags={"mlflow.note.content": "A search over max_depth, "
                                     "learning_rate and min_child_weight.",
                                     "mlflow.source.name": "/home/someone/projects/taxi/train_hpo.py",
                                     "mlflow.source.git.commit": "30877432d1026706d7e805da846a32c3bb81e3c2",
                                     "developer": "alexey"}).info.run_id
    client.log_param(parent, "search_space", "{'max_depth': hp.quniform('max_depth', 4, 100, 1)}")
    client.log_param(parent, "train_data_path", "s3://bucket/datasets/nyc-taxi/green_tripdata_2021-01.parquet")
    for step in range(3):
        client.log_metric(parent, "validation/rmse_at_the_end_of_training", 5.0 - step, step=step)
        client.log_metric(parent, "best_rmse", 5.032228, step=step)
    child = client.create_run(exp, run_name="trial-1", tags={"mlflow.parentRunId": parent}).info.run_id
    client.set_terminated(child, "FINISHED")
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(run_id=parent):
        mlflow.pyfunc.log_model(name="doubler", python_model=_Doubler(), pip_requirements=[])
    client.set_terminated(parent, "FINISHED")
    mlflow.set_tracking_uri(None)
    store = open_store(str(db))
    return store, parent, child


@pytest.fixture
def detail(qtbot, rich_store):
    store, parent, child = rich_store
    view = RunDetail()
    qtbot.addWidget(view)
    view.resize(340, 700)
    view.show()
    run = store.run(parent)
    view.set_run(run, {"parent": None, "children": [(child, "trial-1")],
                       "experiment": "a-rather-long-experiment-name-for-a-narrow-panel"},
                 {"best_rmse": (5.032228, 5.032228, 3)})
    return view, run


def test_at_340_px_no_word_is_broken_into_letters(detail, qtbot):
    view, _ = detail
    # Words wrap only at word boundaries (or the break opportunities of long tokens): if any
    # word did not fit, the document would be wider than the panel.
    assert view.wordWrapMode() == QTextOption.WordWrap
    doc = view.document()
    for width in (300, 322, 340, 361):  # the side panel's width, as users drag it
        view.resize(width, 700)
        qtbot.waitUntil(lambda w=width: view.viewport().width() < w)
        assert doc.idealWidth() <= view.viewport().width(), (width, doc.idealWidth())
        assert view.horizontalScrollBar().maximum() == 0
    # One column: the sections follow each other, metrics below the overview.
    text = doc.toPlainText()
    assert text.index("OVERVIEW") < text.index("METRICS") < text.index("PARAMETERS") < text.index("TAGS")


def test_a_metric_name_click_asks_for_its_chart(detail, qtbot):
    view, run = detail
    keys = sorted(run["metrics"], key=str.lower)
    assert keys == ["best_rmse", "validation/rmse_at_the_end_of_training"]
    html = view.toHtml()
    assert "metric:1" in html
    with qtbot.waitSignal(view.metricActivated) as got:
        view.anchorClicked.emit(QUrl("metric:1"))
    assert got.args == ["validation/rmse_at_the_end_of_training"]


def test_logged_models_listed_with_flavors_path_and_id(detail):
    view, run = detail
    models = run["logged_models"]
    assert len(models) == 1
    text = view.document().toPlainText().replace(ZWSP, "")
    assert "LOGGED MODELS (1)" in text
    assert "doubler" in text
    assert models[0]["model_id"] in text
    assert models[0]["artifact_location"] in text
    # MLflow 3 keeps the flavors in the model's MLmodel file only: when the caller has read it
    # (off the GUI thread) and put them on the record, they are listed too.
    mlmodel = Path(models[0]["artifact_location"].removeprefix("file://")) / "MLmodel"
    flavors = yaml.safe_load(mlmodel.read_text())["flavors"]
    run = dict(run, logged_models=[dict(models[0], flavors=flavors)])
    view.set_run(run)
    text = view.document().toPlainText().replace(ZWSP, "")
    assert "flavors python_function" in text


def test_copied_text_has_no_invisible_breaks(detail):
    view, run = detail
    view.selectAll()
    copied = view.createMimeDataFromSelection().text()
    assert run["info"]["run_id"] in copied
    assert ZWSP not in copied
