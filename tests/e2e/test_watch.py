"""Watch costs nothing while nothing changes: one small request (server) or one query
(PostgreSQL) per look, and the token moves when MLflow writes."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from test_postgres import postgres  # noqa: F401 - the throwaway PostgreSQL cluster

from mlflow_stores import MlflowServer
from mlscope.core import open_store
from mlscope.core.watch import signature


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real mlflow server, empty: each test makes its own experiment."""
    srv = MlflowServer(tmp_path_factory.mktemp("watch-server"))
    yield srv.url, None
    srv.stop()


def _moves_on_each_write(uri, store, exp):
    client = MlflowClient(uri)
    before = signature(store, [exp])
    assert before is not None and signature(store, [exp]) == before
    run = client.create_run(exp, run_name="watched").info.run_id
    after_new = signature(store, [exp])
    assert after_new != before
    client.log_metric(run, "loss", 0.5, step=1, timestamp=1_900_000_000_000)
    after_log = signature(store, [exp])
    assert after_log != after_new
    client.set_terminated(run, "FINISHED")
    assert signature(store, [exp]) != after_log


def test_server_token_is_one_small_request_and_moves_on_writes(server):
    url = server[0]
    store = open_store(url)
    exp = MlflowClient(url).create_experiment("watched-server")
    hits = []
    store.session.hooks["response"].append(lambda r, *a, **k: hits.append(r.request.url))
    for _ in range(3):
        signature(store, [exp])
    assert len(hits) == 3 and all(h.endswith("/runs/search") for h in hits)
    _moves_on_each_write(url, store, exp)


def test_postgres_token_moves_on_writes(postgres):  # noqa: F811
    uri, _, _ = postgres
    store = open_store(uri)
    exp = MlflowClient(uri).create_experiment("watched-pg")
    _moves_on_each_write(uri, store, exp)


def test_an_idle_watched_page_asks_the_server_once_a_look(server, qtbot):
    from mlscope.ui.controllers.watch import WatchController
    from mlscope.ui.tasks import Tasks

    url = server[0]
    client = MlflowClient(url)
    exp = client.create_experiment("idle")
    run = client.create_run(exp).info.run_id
    client.set_terminated(run, "FINISHED")
    store = open_store(url)
    tasks = Tasks()
    watch = WatchController(tasks, interval_ms=60_000)
    watch.set_store(store)
    watch.set_frame(store.runs([exp], attributes=True), [exp])
    hits, changed = [], []
    store.session.hooks["response"].append(lambda r, *a, **k: hits.append(r.request.url))
    watch.changed.connect(lambda: changed.append(1))
    for _ in range(4):
        watch.tick()
        qtbot.waitUntil(lambda: not watch.running("check"), timeout=10_000)
    assert changed == [] and len(hits) == 4
    client.create_run(exp)
    with qtbot.waitSignal(watch.changed, timeout=10_000):
        watch.tick()
    tasks.shutdown()


def test_watching_a_server_asks_what_changed_and_reads_every_run_now_and_then(
        server, qtbot, settings, monkeypatch):
    """Watch on a server with a run training: its new metric comes from the small searches of
    what changed (a full listing of 100,000 runs takes minutes), and every run is read again
    only after FULL_READ_EVERY_S, which is when a deleted finished run leaves the table."""
    import json

    from test_server_cache_ui import new_page

    from http_proxy import Proxy
    from mlscope.ui.controllers import loading

    url = server[0]
    client = MlflowClient(url)
    exp = client.create_experiment("watched-page")
    finished = []
    for i in range(3):
        finished.append(client.create_run(exp, run_name=f"done-{i}").info.run_id)
        client.set_terminated(finished[-1])
    training = client.create_run(exp, run_name="training").info.run_id
    client.log_metric(training, "loss", 1.0, step=0)
    proxy = Proxy(url)
    filters = []  # of every run search: None (Watch's look), "" (every run) or a small search
    proxy.only = lambda path, body: path.endswith("runs/search") and filters.append(
        json.loads(body or b"{}").get("filter")) and False
    page = new_page(qtbot, settings, proxy.url, experiment=exp)
    qtbot.waitUntil(lambda: page.loaded_once and not page.is_loading(), timeout=60_000)
    assert page.runs.model.total_runs() == 4

    def loss():
        frame = page.loading.frame
        return frame.loc[frame["run_id"] == training, "metrics.loss"].iloc[0]

    try:
        page.watch.timer.setInterval(300)
        page.set_watch(True)
        filters.clear()
        client.log_metric(training, "loss", 0.25, step=1)
        client.delete_run(finished[0])
        qtbot.waitUntil(lambda: loss() == 0.25, timeout=30_000)
        assert "" not in filters and any(filters), filters  # small searches, no listing
        assert page.runs.model.contains(finished[0])  # only a full read sees that deletion
        monkeypatch.setattr(loading, "FULL_READ_EVERY_S", 0.0)
        qtbot.waitUntil(lambda: not page.runs.model.contains(finished[0]), timeout=30_000)
        assert "" in filters
    finally:
        page.set_watch(False)
        page.shutdown()
        proxy.stop()
