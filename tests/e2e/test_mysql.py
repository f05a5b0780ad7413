"""A real MySQL-compatible server (a throwaway MariaDB on 127.0.0.1) written by MLflow's client."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from mlflow_stores import FILTERS, build, free_port, reference, same
from mlscope.core import StoreError, open_store

pymysql = pytest.importorskip("pymysql")  # mlscope[mysql]; MLflow writes through it too

PASSWORD = "s3cret-pw"


def server_binaries():
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin" + os.pathsep + "/usr/local/sbin"
    server = shutil.which("mariadbd", path=path) or shutil.which("mysqld", path=path)
    install = shutil.which("mariadb-install-db", path=path) or shutil.which("mysql_install_db", path=path)
    return (server, install) if server and install else (None, None)


@pytest.fixture(scope="module")
def mysql():
    server, install = server_binaries()
    if server is None:
        pytest.skip("MariaDB/MySQL is not installed (apt-get install mariadb-server)")
    base = tempfile.mkdtemp(prefix="mlscope-mysql-")
    os.chmod(base, 0o755)
    data = os.path.join(base, "data")
    user = []
    if os.geteuid() == 0:  # the server refuses to run as root unless told which user to be
        import pwd

        try:
            pwd.getpwnam("mysql")
            user = ["--user=mysql"]
            shutil.chown(base, "mysql", "mysql")
        except KeyError:
            user = ["--user=root"]
    subprocess.run([install, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
                    "--skip-test-db", *user], check=True, capture_output=True, timeout=180)
    port = free_port()
    proc = subprocess.Popen([server, "--no-defaults", f"--datadir={data}", f"--socket={base}/sock",
                             f"--port={port}", "--bind-address=127.0.0.1", "--skip-name-resolve",
                             f"--pid-file={base}/pid", *user],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
            break
        except pymysql.err.OperationalError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("MariaDB did not start")
            time.sleep(0.3)
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE mlflow CHARACTER SET utf8mb4")  # latin1 by default
        cur.execute(f"CREATE USER 'writer'@'%' IDENTIFIED BY '{PASSWORD}'")
        cur.execute("GRANT ALL ON mlflow.* TO 'writer'@'%'")
    conn.close()
    uri = f"mysql+pymysql://writer:{PASSWORD}@127.0.0.1:{port}/mlflow"
    ids = build(uri)
    yield uri, ids, port
    proc.terminate()
    proc.wait(timeout=60)
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("filter_string", FILTERS[:6])
def test_mysql_runs_equal_mlflow(mysql, filter_string):
    uri, _, _ = mysql
    with open_store(uri) as store:
        ours = store.runs(filter_string=filter_string, view="all")
    ref = reference(uri, filter_string)
    assert len(ref) > 0 or filter_string
    same(ours, ref)


def test_mysql_experiments_history_and_registry(mysql):
    uri, ids, _ = mysql
    with open_store(uri) as store:
        names = set(store.experiments(view="all")["name"])
        hist = store.metric_history([ids["long"]], ["val_loss"])
        models = store.registered_models()
    ref_names = {e.name for e in MlflowClient(uri).search_experiments(view_type=ViewType.ALL)}
    assert names == ref_names
    ref = MlflowClient(uri).get_metric_history(ids["long"], "val_loss")
    assert len(ref) > 1
    assert hist["value"].tolist() == [m.value for m in sorted(ref, key=lambda m: (m.timestamp, m.step))]
    assert models.empty


def test_mysql_session_is_read_only(mysql):
    """The writer's own credentials, yet mlscope's session cannot write."""
    uri, _, _ = mysql
    with open_store(uri) as store, pytest.raises(StoreError):
        store.query("CREATE TABLE mlscope_should_not_write (x int)")
    conn = pymysql.connect(host="127.0.0.1", port=mysql[2], user="root", database="mlflow")
    with conn.cursor() as cur:
        cur.execute("SHOW TABLES LIKE 'mlscope_should_not_write'")
        assert cur.fetchall() == ()
    conn.close()


def test_mysql_plain_scheme_uses_the_installed_driver(mysql):
    """``mysql://`` is SQLAlchemy's MySQLdb; with only PyMySQL installed, it is used instead."""
    uri, _, _ = mysql
    plain = uri.replace("mysql+pymysql://", "mysql://")
    with open_store(plain) as store:
        assert len(store.runs(view="all")) == len(reference(uri))


def test_mysql_down_or_wrong_password(mysql):
    uri, _, port = mysql
    with pytest.raises(StoreError) as err:
        open_store(f"mysql+pymysql://writer:{PASSWORD}@127.0.0.1:{free_port()}/mlflow")
    assert "127.0.0.1" in str(err.value) and PASSWORD not in str(err.value)
    with pytest.raises(StoreError) as err:
        open_store(f"mysql+pymysql://writer:wrong-pw@127.0.0.1:{port}/mlflow")
    assert "writer" in str(err.value) and "wrong-pw" not in str(err.value)
    assert "credentials" in str(err.value) or "denied" in str(err.value).lower()
