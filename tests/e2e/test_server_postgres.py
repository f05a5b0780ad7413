"""A real `mlflow server --workers 2` over PostgreSQL (a throwaway cluster on 127.0.0.1), the
deployment issue 14 names: mlscope's REST reader equals MLflow's client through it."""

import warnings

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
from mlscope.core import open_store
from pg_cluster import PgCluster, unavailable
from registry_helpers import build_registry, registry_state


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory):
    """(url, ids, registry runs, database uri, server): the edge-case content logged through the server
    into PostgreSQL, and a registry."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    cluster = PgCluster()
    srv = None
    try:
        backend = cluster.create_database("mlflow")
        srv = MlflowServer(tmp_path_factory.mktemp("pg-server"), backend=backend, workers=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ids = build(srv.url)
            reg = build_registry(srv.url)
        yield srv.url, ids, reg, backend, srv
    finally:
        if srv is not None:
            srv.stop()
        cluster.stop()


def test_the_server_is_postgres_backed_with_two_workers(pg_server):
    """What the fixture claims: two worker processes, every run in the PostgreSQL database."""
    import psutil

    url, _, _, backend, srv = pg_server
    with open_store(backend) as db, open_store(url) as rest:
        assert sorted(db.runs(view="all")["run_id"]) == sorted(rest.runs(view="all")["run_id"])
    tree = psutil.Process(srv.proc.pid).children(recursive=True)
    workers = [p for p in tree if "multiprocessing.spawn" in " ".join(p.cmdline())]
    assert len(workers) == 2, [p.cmdline() for p in tree]


@pytest.mark.parametrize("filter_string", FILTERS)
def test_runs_equal_mlflow(pg_server, filter_string):
    url, *_ = pg_server
    same(open_store(url).runs(filter_string=filter_string, view="all"), reference(url, filter_string))


@pytest.mark.parametrize("order_by", ORDERS[:4], ids=str)
def test_order_equals_mlflow(pg_server, order_by):
    url, *_ = pg_server
    same(open_store(url).runs(order_by=order_by, view="all"), reference(url, order_by=order_by))


def test_views_and_experiments(pg_server):
    url, *_ = pg_server
    store = open_store(url)
    for view, vt in (("active", ViewType.ACTIVE_ONLY), ("deleted", ViewType.DELETED_ONLY)):
        same(store.runs(view=view), reference(url, view=vt))
        same_experiments(store.experiments(view), MlflowClient(url).search_experiments(view_type=vt))


def test_metric_history_equals_mlflow(pg_server):
    """Every metric of every run, through the bulk route (two workers answer its requests)."""
    url, ids, *_ = pg_server
    store = open_store(url)
    runs = store.runs(view="all")
    keys = sorted(c[8:] for c in runs.columns if c.startswith("metrics."))
    ours = store.metric_history(list(runs["run_id"]), keys)
    ref = history_reference(MlflowClient(url), runs["run_id"], keys)
    assert len(ref) > 1000 and ids["long"] in set(ours["run_id"])
    same_history(ours, ref)


def test_registry_equals_mlflow(pg_server):
    url, *_ = pg_server
    store = open_store(url)
    models, versions = store.registered_models(), store.model_versions()
    ref = registry_state(url)
    assert models["name"].tolist() == sorted(ref)
    for m in models.itertuples():
        assert (m.description or "", m.tags, m.aliases) == (
            ref[m.name]["description"], ref[m.name]["tags"], ref[m.name]["aliases"])
    got = {(v.name, v.version): {"stage": v.current_stage, "description": v.description or "",
                                 "tags": v.tags, "run_id": v.run_id, "source": v.source,
                                 "status": v.status}
           for v in versions.itertuples()}
    assert got == {(name, n): v for name, m in ref.items() for n, v in m["versions"].items()}
    assert store.problems == []
