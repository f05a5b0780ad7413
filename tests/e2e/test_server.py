"""A real `mlflow server` on 127.0.0.1 over SQLite: mlscope's REST reader equals MLflow's client."""


import pytest
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from mlflow_stores import (
    FILTERS,
    ORDERS,
    MlflowServer,
    build,
    history_reference,
    reference,
    same,
    same_experiments,
    same_history,
)
from mlscope.core import FilterError, open_store


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real mlflow server holding the edge-case stores (built through it)."""
    srv = MlflowServer(tmp_path_factory.mktemp("server"))
    yield srv.url, build(srv.url)
    srv.stop()


@pytest.mark.parametrize("filter_string", FILTERS)
def test_runs_equal_mlflow(server, filter_string):
    url, _ = server
    same(open_store(url).runs(filter_string=filter_string, view="all"), reference(url, filter_string))


@pytest.mark.parametrize("order_by", ORDERS, ids=str)
def test_order_equals_mlflow(server, order_by):
    url, _ = server
    same(open_store(url).runs(order_by=order_by, view="all"), reference(url, order_by=order_by))


def test_views_and_experiments(server):
    url, ids = server
    store = open_store(url)
    for view, vt in (("active", ViewType.ACTIVE_ONLY), ("deleted", ViewType.DELETED_ONLY)):
        same(store.runs(view=view), reference(url, view=vt))
        same_experiments(store.experiments(view), MlflowClient(url).search_experiments(view_type=vt))


def test_metric_history_equals_mlflow(server):
    url, _ = server
    store = open_store(url)
    runs = store.runs(view="all")
    keys = sorted(c[8:] for c in runs.columns if c.startswith("metrics."))
    ours = store.metric_history(list(runs["run_id"]), keys)
    ref = history_reference(MlflowClient(url), runs["run_id"], keys)
    assert len(ref) > 1000
    same_history(ours, ref)


def test_bad_filter_gives_the_servers_message(server):
    url, _ = server
    from mlflow.exceptions import MlflowException

    with pytest.raises(FilterError) as err:
        open_store(url).runs(filter_string="params.model = lasso")
    with pytest.raises(MlflowException) as ref:
        reference(url, "params.model = lasso")
    assert ref.value.message.endswith(str(err.value))  # MLflow prefixes the error code


def test_auth_env_vars_are_sent(server, monkeypatch, tmp_path):
    """MLflow's auth variables reach the server (this one ignores them and still answers)."""
    url, _ = server
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "secret")
    store = open_store(url)
    assert store.session.auth == ("ann", "secret")
    assert len(store.runs(view="all")) == 12  # build(): 11 runs + the edge values run
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")  # MLflow's order: user/password first
    assert open_store(url).session.auth == ("ann", "secret")
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.mlflow/credentials either
    assert open_store(url).session.headers["Authorization"] == "Bearer tok"


@pytest.mark.parametrize("bulk_points", [25000, 500])
def test_history_through_the_bulk_route_even_when_it_truncates(server, monkeypatch, bulk_points):
    """With a small bulk limit the 1,000-point run cannot fit: halves, then paged requests."""
    import mlscope.core.reststore as rest

    url, ids = server
    monkeypatch.setattr(rest, "BULK_POINTS", bulk_points)
    store = open_store(url)
    calls = []
    real = store._call
    monkeypatch.setattr(store, "_call", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    runs = store.runs(view="all")
    hist = store.metric_history(list(runs["run_id"]), ["val_loss", "rmse"])
    ref = MlflowClient(url).get_metric_history(ids["long"], "val_loss")
    assert len(hist[(hist["run_id"] == ids["long"]) & (hist["key"] == "val_loss")]) == len(ref) == 1000
    assert ("metrics/get-history" in calls) == (bulk_points == 500)
    assert calls.count("metrics/get-history-bulk") >= 2


def test_one_run_detail_does_not_download_the_whole_server(server, monkeypatch):
    url, ids = server
    store = open_store(url)
    monkeypatch.setattr(store, "_search", lambda *a, **k: pytest.fail("searched every run"))
    detail = store.run(ids["dataset_run"])
    assert detail["info"]["run_name"] == "with-dataset"
    assert detail["inputs"][0]["name"] == "taxi" and detail["inputs"][0]["context"] == "train"
    assert detail["metrics"]["rmse"]["value"] == 0.6


def test_registry_reads_equal_mlflow(server):
    url, ids = server
    client = MlflowClient(url, registry_uri=url)  # not a registry URI an earlier test set
    client.create_registered_model("it's-a-model")
    client.create_model_version("it's-a-model", f"runs:/{ids['parent']}/model", run_id=ids["parent"])
    client.set_registered_model_alias("it's-a-model", "champion", "1")
    store = open_store(url)
    models = store.registered_models()
    # Versions are ints in mlscope on every backend; MLflow's REST client hands them as strings.
    assert dict(zip(models["name"], models["aliases"], strict=True)) == {
        m.name: {a: int(v) for a, v in m.aliases.items()} for m in client.search_registered_models()}
    versions = store.model_versions("it's-a-model")
    assert versions[["name", "version", "run_id"]].values.tolist() == [["it's-a-model", 1, ids["parent"]]]
    assert versions["aliases"].tolist() == [["champion"]]
    from mlscope.core.registry import MODEL_COLUMNS, VERSION_COLUMNS

    assert list(models.columns) == MODEL_COLUMNS and list(versions.columns) == VERSION_COLUMNS
    # The server leaves an unknown user out; MLflow's REST client reads that as "".
    assert [u or "" for u in versions["user_id"]] == [client.get_model_version("it's-a-model", "1").user_id]
    assert store.problems == []


def test_a_long_search_streams_partial_frames(server, monkeypatch):
    """Pages of a server's search show up as they come: growing frames, each the first runs
    of the final answer, which still equals MLflow's."""
    from mlscope.core import reststore

    url, _ = server
    monkeypatch.setattr(reststore, "PAGE", 5)  # small pages: several for the 12 runs
    monkeypatch.setattr(reststore, "PARTIAL_EVERY_S", 0.0)
    # One request at a time, the newest range first: each answer then extends the prefix.
    # Side by side (test_server_paging.py) the prefix grows only when the newest search
    # still going ends, which may be the last: then one partial frame, not two (CI, once).
    monkeypatch.setattr(reststore, "SEARCH_WORKERS", 1)
    seen = []
    final = open_store(url).runs(view="all", partial=seen.append)
    same(final, reference(url))
    assert len(seen) >= 2 and [len(f) for f in seen] == sorted({len(f) for f in seen})
    assert len(seen[-1]) < len(final)
    for part in seen:
        assert part["run_id"].tolist() == final["run_id"].tolist()[:len(part)]


def test_a_server_store_declares_itself(server):
    """What the UI asks of a server store: no cheap counts, partial frames, MLflow writes at the URL."""
    from mlflow.tracking import MlflowClient

    url, _ = server
    store = open_store(url + "/")
    assert (store.kind, store.location.kind, store.location.path) == ("rest", "rest", None)
    assert store.streams_partial and not store.cheap_counts
    assert store.can_write and store.write_uri == url
    names = {e.name for e in MlflowClient(store.write_uri).search_experiments()}
    assert names == set(store.experiments()["name"])


def test_a_server_opens_and_lists_its_runs_without_importing_mlflow(server, tmp_path):
    """MLflow's package import (1.1 s here) was most of the time to a server's first runs:
    its credential and TLS variables are read as MLflow reads them without it, unless
    ~/.mlflow/credentials or a TLS variable asks for MLflow's own reading."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; from mlscope.core import open_store; "
            f"s = open_store({server[0]!r}); n = len(s.runs(view='all')); "
            "print(n, sum(m == 'mlflow' or m.startswith('mlflow.') for m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[2] / "app"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    n, imported = out.stdout.split()
    assert int(n) > 0 and imported == "0", f"{out.stdout}: MLflow's modules imported"
