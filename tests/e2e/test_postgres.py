"""A real PostgreSQL server (a throwaway cluster on 127.0.0.1) written by MLflow's client."""

import pytest
from mlflow.tracking import MlflowClient

from mlflow_stores import FILTERS, build, free_port, reference, same
from mlscope.core import StoreError, open_store
from pg_cluster import PgCluster, unavailable

psycopg = pytest.importorskip("psycopg")  # SQLAlchemy 2.1 reads postgresql:// with psycopg 3


@pytest.fixture(scope="module")
def postgres():
    """(uri, ids, port): a throwaway cluster's ``mlflow`` database, built by MLflow's client."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    cluster = PgCluster()
    try:
        uri = cluster.create_database("mlflow")
        ids = build(uri)
        yield uri, ids, cluster.port
    finally:
        cluster.stop()


@pytest.mark.parametrize("filter_string", FILTERS[:6])
def test_postgres_runs_equal_mlflow(postgres, filter_string):
    uri, _, _ = postgres
    ours = open_store(uri).runs(filter_string=filter_string, view="all")
    ref = reference(uri, filter_string)
    same(ours, ref)


def test_postgres_history_and_registry_reads(postgres):
    uri, ids, _ = postgres
    store = open_store(uri)
    hist = store.metric_history([ids["long"]], ["val_loss"])
    ref = MlflowClient(uri).get_metric_history(ids["long"], "val_loss")
    assert hist["value"].tolist() == [m.value for m in sorted(ref, key=lambda m: (m.timestamp, m.step))]
    assert store.registered_models().empty


def test_postgres_session_is_read_only(postgres):
    uri, _, _ = postgres
    store = open_store(uri)
    assert store.query("SHOW default_transaction_read_only") == [("on",)]
    with pytest.raises(StoreError):
        store.query("CREATE TABLE mlscope_should_not_write (x int)")
    with pytest.raises(StoreError):
        store.query("UPDATE runs SET name = 'changed'")
    _, _, port = postgres
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=mlflow") as conn:
        tables = conn.execute("SELECT table_name FROM information_schema.tables "
                              "WHERE table_name = 'mlscope_should_not_write'").fetchall()
        changed = conn.execute("SELECT count(*) FROM runs WHERE name = 'changed'").fetchone()
    assert tables == [] and changed == (0,)


def test_postgres_down_or_wrong_password(postgres):
    uri, _, port = postgres
    with pytest.raises(StoreError) as err:
        open_store(f"postgresql://postgres:pw@127.0.0.1:{free_port()}/mlflow")
    assert "127.0.0.1" in str(err.value) and "pw" not in str(err.value)
    with pytest.raises(StoreError) as err:
        open_store(f"postgresql://nobody@127.0.0.1:{port}/mlflow")
    assert "nobody" in str(err.value)
