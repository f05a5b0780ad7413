"""A real PostgreSQL server (a throwaway cluster on 127.0.0.1) written by MLflow's client."""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from mlflow.tracking import MlflowClient

from mlflow_stores import FILTERS, build, free_port, reference, same
from mlscope.core import StoreError, open_store

psycopg = pytest.importorskip("psycopg")  # SQLAlchemy 2.1 reads postgresql:// with psycopg 3


def pg_bin():
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return dirs[-1] if dirs else None


@pytest.fixture(scope="module")
def postgres():
    bindir = pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed")
    as_user = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no postgres user to run the server as")
        as_user = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
    base = tempfile.mkdtemp(prefix="mlscope-pg-")
    os.chmod(base, 0o755)
    data = os.path.join(base, "data")
    os.mkdir(data)
    if as_user:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
    subprocess.run([*as_user, f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust"],
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen([*as_user, f"{bindir}/postgres", "-D", data, "-p", str(port), "-k", base,
                             "-c", "listen_addresses=127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = psycopg.connect(dsn, autocommit=True)
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("PostgreSQL did not start")
            time.sleep(0.3)
    conn.execute("CREATE DATABASE mlflow")
    conn.close()
    uri = f"postgresql://postgres@127.0.0.1:{port}/mlflow"
    ids = build(uri)
    yield uri, ids, port
    proc.send_signal(signal.SIGINT)  # "fast" shutdown: does not wait for pooled clients
    proc.wait(timeout=30)
    shutil.rmtree(base, ignore_errors=True)


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
