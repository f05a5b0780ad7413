"""Following a live run as a user does: a real training process (MLflow's client, in a
process of its own) logs ``loss`` and ``acc`` every 50 ms to an mlruns folder, an SQLite
store or a real ``mlflow server``, while a store page watches it with its chart open.

When the process ends, with no reload: the chart holds every logged step, the table says
FINISHED with the last value, and the experiment's run count includes the run the process
started after the page opened."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from mlflow_stores import MlflowServer

STEPS = 60

TRAIN = textwrap.dedent("""
    import sys, time
    from mlflow.tracking import MlflowClient

    uri, steps = sys.argv[1], int(sys.argv[2])
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("live")
    exp = exp.experiment_id if exp else client.create_experiment("live")
    run = client.create_run(exp, run_name="training").info.run_id
    client.log_param(run, "lr", "0.01")
    client.log_metric(run, "loss", 1.0, step=0)
    print(run, flush=True)
    sys.stdin.readline()  # the page is open and charting: go
    for step in range(1, steps):
        client.log_metric(run, "loss", 1.0 / (step + 1), step=step)
        client.log_metric(run, "acc", step / steps, step=step)
        time.sleep(0.05)
    client.set_terminated(run, "FINISHED")
    evaluation = client.create_run(exp, run_name="evaluation").info.run_id
    client.set_terminated(evaluation, "FINISHED")
""")


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory):
    """A real mlflow server with nothing in it yet."""
    srv = MlflowServer(tmp_path_factory.mktemp("live-server"))
    yield srv.url
    srv.stop()


@pytest.fixture(params=["mlruns", "sqlite", "server"])
def target(request, tmp_path):
    if request.param == "mlruns":
        root = tmp_path / "mlruns"
        return str(root), root.as_uri()
    if request.param == "sqlite":
        db = tmp_path / "mlflow.db"
        return str(db), f"sqlite:///{db}"
    url = request.getfixturevalue("bare_server")
    return url, url


def test_a_watched_run_is_charted_to_its_last_step(target, tmp_path, qtbot):
    from mlscope.ui.settings import Settings
    from mlscope.ui.store_page import StorePage

    settings = Settings(tmp_path / "config" / "settings.json")

    shown, uri = target
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    proc = subprocess.Popen([sys.executable, str(script), uri, str(STEPS)], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tmp_path)
    try:
        run_id = proc.stdout.readline().strip()
        assert len(run_id) == 32, f"the training process did not start: {run_id!r}"

        page = StorePage(shown, settings, "live")
        qtbot.addWidget(page)
        page.resize(1300, 800)
        page.show()
        page.watch.timer.setInterval(300)
        page.set_watch(True)
        page.open()
        qtbot.waitUntil(lambda: page.loaded_once and page.runs.model.contains(run_id),
                        timeout=120_000)
        qtbot.waitUntil(lambda: page.experiments.model.counts.get(page.loading.experiment_ids[0])
                        == 1, timeout=60_000)
        page.select_run(run_id)
        page.show_view("charts")
        panel = page.charts.ensure()
        qtbot.waitUntil(lambda: (run_id, "loss") in panel.last_points(), timeout=60_000)
        assert page.running_runs() == 1

        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.wait(timeout=180) == 0

        # No reload: Watch alone brings the end of the curve, the status and the new run.
        # acc: a metric the run started logging after the chart first read it.
        qtbot.waitUntil(lambda: panel.last_points().get((run_id, "acc"), (0,))[0] == STEPS - 1
                        and panel.last_points()[(run_id, "loss")][0] == STEPS - 1,
                        timeout=60_000)
        exp = page.loading.experiment_ids[0]
        qtbot.waitUntil(lambda: page.experiments.model.counts.get(exp) == 2, timeout=60_000)
        qtbot.waitUntil(lambda: page.running_runs() == 0, timeout=60_000)
        frame = page.runs.model.frame
        row = frame[frame["run_id"] == run_id].iloc[0]
        assert row["status"] == "FINISHED"
        assert row["metrics.loss"] == 1.0 / STEPS
        assert len(panel._data[(run_id, "loss")].step) == STEPS  # every point, once
        assert len(panel._data[(run_id, "acc")].step) == STEPS - 1
    finally:
        if proc.poll() is None:
            proc.kill()
        page_obj = locals().get("page")
        if page_obj is not None:
            page_obj.shutdown()
