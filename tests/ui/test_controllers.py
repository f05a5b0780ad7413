"""Each controller on its own, with pytest-qt and a real store written by MLflow's client:
no main window, no store page."""

from __future__ import annotations

import shutil

import pytest

from mlscope.core import open_store


@pytest.fixture
def tasks(qtbot):
    from mlscope.ui.tasks import Tasks

    t = Tasks()
    yield t
    t.shutdown()


@pytest.fixture
def file_copy(built, tmp_path):
    root = tmp_path / "mlruns"
    shutil.copytree(built["file"], root)
    return root


def test_loading_opens_selects_the_experiment_asked_for_and_reads_its_runs(built, qtbot, tasks,
                                                                            settings):
    from mlflow.entities import ViewType

    from mlflow_stores import reference
    from mlscope.ui.controllers.loading import LoadingController

    ld = LoadingController(tasks, str(built["sqlite"]), settings, experiment="alpha")
    chosen, frames = [], []
    ld.experimentsLoaded.connect(lambda exps, keep: chosen.append(keep))
    ld.runsLoaded.connect(lambda frame, keep: frames.append(frame))
    with qtbot.waitSignal(ld.runsLoaded, timeout=60_000):
        ld.open()
    alpha = built["sql_ids"]["alpha"]
    assert chosen == [[alpha]]
    ref = reference(f"sqlite:///{built['sqlite']}", view=ViewType.ACTIVE_ONLY)
    ref = ref[ref["experiment_id"] == alpha]
    assert sorted(frames[-1]["run_id"]) == sorted(ref["run_id"])
    # Counts follow the first table, once.
    with qtbot.waitSignal(ld.countsLoaded, timeout=30_000) as counts:
        pass
    assert counts.args[0][alpha] == len(ref)


def test_loading_a_bad_filter_says_so_and_reads_nothing(built, qtbot, tasks, settings):
    from mlscope.ui.controllers.loading import LoadingController

    ld = LoadingController(tasks, str(built["file"]), settings, experiment="alpha")
    with qtbot.waitSignal(ld.runsLoaded, timeout=60_000):
        ld.open()
    loaded = []
    ld.runsLoaded.connect(lambda *a: loaded.append(a))
    with qtbot.waitSignal(ld.filterFailed, timeout=30_000) as failed:
        ld.set_filter("metrics.rmse <<< 1")
    assert "metrics.rmse" in failed.args[0] or "Invalid" in failed.args[0]
    assert loaded == []


def test_loading_an_unreadable_target_names_it(qtbot, tasks, settings, tmp_path):
    from mlscope.ui.controllers.loading import LoadingController

    missing = tmp_path / "nowhere" / "mlruns"
    ld = LoadingController(tasks, str(missing), settings)
    with qtbot.waitSignal(ld.openFailed, timeout=30_000) as failed:
        ld.open()
    assert "nowhere" in failed.args[0]


def test_selection_shows_the_table_row_at_once_then_the_full_run_with_exact_min_max(built, qtbot,
                                                                                   tasks):
    from mlscope.ui.controllers.selection import SelectionController

    store = open_store(built["file"], cache=False)
    frame = store.runs(built["ids"]["alpha"], attributes=True)
    sel = SelectionController(tasks)
    sel.set_store(store)
    sel.set_frame(frame, {built["ids"]["alpha"]: "alpha"})
    shown = []
    sel.detailReady.connect(lambda run, links, stats: shown.append((run, links, stats)))
    runs_changed = []
    sel.runsChanged.connect(runs_changed.append)
    parent = built["ids"]["parent"]
    sel.set_current(parent)
    sel.set_selection([parent])
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=30_000)
    run, links, _ = shown[0]
    assert run["info"]["run_name"] == "sweep-parent" and links["experiment"] == "alpha"
    assert sorted(c for c, _ in links["children"]) == sorted(built["ids"]["children"])
    assert runs_changed[-1] == [parent]

    lasso = frame.loc[frame["run_name"] == "lasso-0.1", "run_id"].item()
    shown.clear()
    sel.set_current(lasso)
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=30_000)
    stats = shown[-1][2]
    # rmse logged as 1/(step+1) for steps 0..4: min 0.2, max 1.0, 5 points; NaN counts as a point.
    assert stats["rmse"] == (0.2, 1.0, 5)
    assert stats["loss"][2] == 2 and stats["loss"][0] == 0.3
    store.close()


def test_selection_of_a_run_not_in_the_table_says_so(built, qtbot, tasks):
    from mlscope.ui.controllers.selection import SelectionController

    sel = SelectionController(tasks)
    sel.set_frame(open_store(built["file"], cache=False).runs(built["ids"]["alpha"]), {})
    with qtbot.waitSignal(sel.statusMessage) as msg:
        sel.select_run("f" * 32)
    assert "not in the table" in msg.args[0]
    with qtbot.waitSignal(sel.selectRunRequested) as asked:
        sel.select_run(built["ids"]["parent"])
    assert asked.args == [built["ids"]["parent"]]


def test_charts_get_the_last_points_of_a_run_that_finished_between_two_looks(built, file_copy,
                                                                             qtbot, tasks):
    """A run logs, then ends before the next Watch look: its curve still gets every point."""
    from mlflow.tracking import MlflowClient

    from mlscope.ui.colors import RunColors
    from mlscope.ui.controllers.charts import ChartsController

    ids = built["ids"]
    store = open_store(file_copy, cache=False)
    charts = ChartsController(tasks, RunColors())
    charts.set_store(store)
    charts.set_frame(store.runs(ids["alpha"], attributes=True))  # ridge-running is RUNNING
    panel = charts.ensure()
    qtbot.addWidget(charts.view)
    charts.set_runs([ids["running"]])
    qtbot.waitUntil(lambda: (ids["running"], "rmse") in panel.last_points(), timeout=30_000)
    assert panel.last_points()[(ids["running"], "rmse")][0] == 3

    client = MlflowClient(file_copy.as_uri())
    client.log_metric(ids["running"], "rmse", 0.05, timestamp=1_700_000_099_999, step=9)
    client.set_terminated(ids["running"], "FINISHED")
    store.refresh()
    frame = store.runs(ids["alpha"], attributes=True)
    assert frame.loc[frame["run_id"] == ids["running"], "status"].item() == "FINISHED"
    charts.set_frame(frame)
    qtbot.waitUntil(lambda: panel.last_points()[(ids["running"], "rmse")][0] == 9, timeout=30_000)
    store.close()


def test_watch_reads_again_only_when_the_store_changed(built, tmp_path, qtbot, tasks):
    from mlflow.tracking import MlflowClient

    from mlscope.ui.controllers.watch import WatchController

    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    gamma = built["sql_ids"]["gamma"]  # no RUNNING run there
    store = open_store(db)
    watch = WatchController(tasks, interval_ms=60_000)
    watch.set_store(store)
    watch.set_frame(store.runs(gamma, attributes=True), [gamma])
    assert watch.running_runs == 0
    changed = []
    watch.changed.connect(lambda: changed.append(1))
    for _ in range(2):  # the first look takes the signature, the second finds it unchanged
        watch.tick()
        qtbot.waitUntil(lambda: not watch.running("check"), timeout=10_000)
    assert changed == []
    MlflowClient(f"sqlite:///{db}").create_run(gamma, run_name="new")
    with qtbot.waitSignal(watch.changed, timeout=10_000):
        watch.tick()
    # One more read at the next look (what MLflow writes inside a new run's folder right
    # after it appears moves no time the check watches), then quiet again.
    for expected in ([1], []):
        changed.clear()
        watch.tick()
        qtbot.waitUntil(lambda: not watch.running("check"), timeout=10_000)
        assert changed == expected  # the task's end calls its done slot before it returns
    store.close()


def test_columns_layout_is_remembered_per_experiment_selection(settings, built):
    from mlscope.ui.controllers.columns import ColumnsController

    frame = open_store(built["file"], cache=False).runs(built["ids"]["alpha"], attributes=True)
    cols = ColumnsController(settings)
    cols.store_uri, cols.experiment_ids = "s", [built["ids"]["alpha"]]
    default = cols.columns_for(frame)
    assert "metrics.rmse" in default
    edited = [c for c in default if c != "metrics.rmse"]
    cols.edited(edited)
    assert cols.columns_for(frame) == edited
    cols.experiment_ids = ["other"]
    assert "metrics.rmse" in cols.columns_for(frame)


def test_the_run_detail_names_a_logged_models_flavors(tmp_path, qtbot, tasks):
    """MLflow 3 keeps a logged model's flavors only in its MLmodel file: read for the detail."""
    sklearn = pytest.importorskip("sklearn.linear_model")
    import mlflow

    from mlscope.ui.controllers.selection import SelectionController

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    exp = mlflow.create_experiment("models", artifact_location=(tmp_path / "art").as_uri())
    with mlflow.start_run(experiment_id=exp) as run:
        model = sklearn.LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
        mlflow.sklearn.log_model(model, name="regressor")
    store = open_store(tmp_path / "mlflow.db")
    sel = SelectionController(tasks)
    sel.set_store(store)
    sel.set_frame(store.runs(exp, attributes=True), {exp: "models"})
    shown = []
    sel.detailReady.connect(lambda r, links, stats: shown.append(r))
    sel.set_current(run.info.run_id)
    qtbot.waitUntil(lambda: any(r.get("logged_models") for r in shown), timeout=30_000)
    models = next(r for r in shown if r.get("logged_models"))["logged_models"]
    assert models[0]["name"] == "regressor"
    assert {"sklearn", "python_function"} <= set(models[0]["flavors"])
    store.close()
