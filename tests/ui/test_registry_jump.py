"""A version's source run is a link: it jumps to the run in the runs table, and when the run
is in another experiment than the one shown, the page opens that experiment first."""

from __future__ import annotations

import warnings

import pytest
from PySide6.QtCore import Qt

from conftest import wait_loaded
from mlscope.ui.views.registry import RUN_COLUMN
from registry_helpers import client_for

TIMEOUT = 60_000


@pytest.fixture
def two_experiments(tmp_path):
    """exp-a with two runs, exp-b with one; 'credit-model' v1 comes from exp-b's run."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = client_for(uri)
    a = client.create_experiment("exp-a")
    b = client.create_experiment("exp-b")
    runs_a = [client.create_run(a, run_name=f"a-{i}").info.run_id for i in range(2)]
    run_b = client.create_run(b, run_name="b-0").info.run_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.create_registered_model("credit-model")
        client.create_model_version("credit-model", f"runs:/{run_b}/model", run_id=run_b)
        client.create_model_version("credit-model", f"runs:/{runs_a[1]}/model", run_id=runs_a[1])
    return tmp_path / "mlflow.db", a, b, runs_a, run_b


def click_source_run(qtbot, page, version: int) -> None:
    view = page.registry.view
    qtbot.waitUntil(lambda: page.registry.versions is not None
                    and not page.registry.running("registry-read"), timeout=TIMEOUT)
    assert view.select_model("credit-model", version)
    idx = view.versions.currentIndex().siblingAtColumn(RUN_COLUMN)
    view.versions.scrollTo(idx)
    rect = view.versions.visualRect(idx)
    qtbot.mouseClick(view.versions.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.versions.viewport(), Qt.LeftButton, pos=rect.center())


def test_source_run_in_another_experiment_opens_it_and_selects_the_run(
        qtbot, open_store_page, two_experiments):
    path, exp_a, exp_b, runs_a, run_b = two_experiments
    page = open_store_page(path, "exp-a")
    assert page.experiments.selected_ids() == [exp_a]
    assert not page.runs.model.contains(run_b)
    page.show_view("registry")
    click_source_run(qtbot, page, 1)
    qtbot.waitUntil(lambda: page.experiments.selected_ids() == [exp_b], timeout=TIMEOUT)
    wait_loaded(qtbot, page)
    qtbot.waitUntil(lambda: page.runs.current_run_id() == run_b, timeout=TIMEOUT)
    assert page.runs.model.contains(run_b) and not page.runs.model.contains(runs_a[0])


def test_source_run_in_the_shown_experiment_is_selected_in_place(
        qtbot, open_store_page, two_experiments):
    path, exp_a, _exp_b, runs_a, _run_b = two_experiments
    page = open_store_page(path, "exp-a")
    page.runs.select_run(runs_a[0])
    click_source_run(qtbot, page, 2)
    qtbot.waitUntil(lambda: page.runs.current_run_id() == runs_a[1], timeout=TIMEOUT)
    assert page.experiments.selected_ids() == [exp_a]
