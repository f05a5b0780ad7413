"""Bringing a server's copy up to date with small searches, against a real `mlflow server`:
runs added, finished, still running and deleted since the copy, merged into it equal to what
a full read gives (the deleted finished run, which the searches cannot see, aside)."""

import time

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from mlflow_stores import MlflowServer, same
from mlscope.core import open_store, server_refresh


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = MlflowServer(tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


def run(client, exp, name, finish=True, **params):
    rid = client.create_run(exp, run_name=name).info.run_id
    for k, v in params.items():
        client.log_param(rid, k, v)
    client.log_metric(rid, "loss", 0.5)
    if finish:
        client.set_terminated(rid)
    return rid


def test_added_finished_running_and_deleted_since_the_copy(server):
    client = MlflowClient(server.url)
    exp = client.create_experiment("refresh")
    ids = {n: run(client, exp, n, finish=n in ("same", "deleted"), lr="0.1")
           for n in ("same", "finishes", "keeps-running", "deleted", "running-deleted")}
    store = open_store(server.url)
    copy = store.runs([exp], view="active", attributes=True)
    assert len(copy) == 5
    time.sleep(0.05)
    # What happens on the server after the copy:
    new = run(client, exp, "new", batch="64")  # a param column the copy does not have
    client.set_terminated(ids["finishes"], "FAILED")
    client.log_metric(ids["keeps-running"], "loss", 0.25)
    client.log_metric(ids["keeps-running"], "acc", 0.9)  # a new metric column
    client.delete_run(ids["deleted"])
    client.delete_run(ids["running-deleted"])

    delta = server_refresh.refresh(store, copy, [exp], "active")
    got = delta.frame
    assert delta.changed == 3  # new, finishes, keeps-running
    assert delta.gone == 1  # running-deleted: the copy had it RUNNING, the view lost it
    assert new in set(got["run_id"]) and ids["running-deleted"] not in set(got["run_id"])
    row = got.set_index("run_id")
    assert row.loc[ids["finishes"], "status"] == "FAILED"
    assert row.loc[ids["keeps-running"], "metrics.loss"] == 0.25
    # The one change the searches cannot see: a finished run deleted. The full read drops it.
    assert ids["deleted"] in set(got["run_id"])
    full = store.runs([exp], view="active", attributes=True)
    assert ids["deleted"] not in set(full["run_id"])
    same(got[got["run_id"] != ids["deleted"]].reset_index(drop=True), full)  # order, dtypes, values
    store.close()


def test_loggers_clocks_within_the_margin(server):
    """A run logged by a machine whose clock is 20 minutes behind the one that logged the
    copy's latest run is still found; T comes from the copy's own times."""
    client = MlflowClient(server.url)
    exp = client.create_experiment("clocks")
    run(client, exp, "first")
    store = open_store(server.url)
    copy = store.runs([exp], view="active", attributes=True)
    latest = int(copy["end_time"].max().value // 1_000_000)
    late = client.create_run(exp, run_name="behind", start_time=latest - 20 * 60 * 1000).info.run_id
    client.set_terminated(late, end_time=latest - 19 * 60 * 1000)
    delta = server_refresh.refresh(store, copy, [exp], "active")
    assert delta.since_ms == latest - server_refresh.MARGIN_MS
    assert late in set(delta.frame["run_id"])
    same(delta.frame, store.runs([exp], view="active", attributes=True))
    # Without the margin it would be missed (which is why there is a margin, and a full read).
    assert late not in set(server_refresh.refresh(store, copy, [exp], "active", margin_ms=0)
                           .frame["run_id"])
    store.close()


def test_nothing_changed_and_an_empty_copy(server):
    client = MlflowClient(server.url)
    exp = client.create_experiment("quiet")
    run(client, exp, "only")
    store = open_store(server.url)
    copy = store.runs([exp], view="active", attributes=True)
    delta = server_refresh.refresh(store, copy, [exp], "active")
    assert delta.changed == 0 and delta.gone == 0
    pd.testing.assert_frame_equal(delta.frame, copy)
    assert server_refresh.refresh(store, copy.iloc[:0], [exp], "active") is None  # no T: full read
    store.close()


def test_merge_fills_missing_text_as_mlflow_does():
    copy = pd.DataFrame({"run_id": ["a"], "start_time": pd.to_datetime([1], unit="s", utc=True),
                         "params.x": pd.Series(["1"], dtype=object)})
    fresh = pd.DataFrame({"run_id": ["b"], "start_time": pd.to_datetime([2], unit="s", utc=True),
                          "metrics.m": [0.5]})
    got = server_refresh.merge(copy, fresh)
    assert list(got["run_id"]) == ["b", "a"]  # newest first
    assert got.loc[0, "params.x"] is None and got["metrics.m"].isna().iloc[1]
    assert got["params.x"].dtype == object
