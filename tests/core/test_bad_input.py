"""Corrupt, odd and hostile input: a typed StoreError naming the place, or one entry in
store.problems while every other run still loads. Never a crash, never a hang."""

import http.server
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mlflow_stores import free_port
from mlscope.core import (
    AuthError,
    ServerError,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    StoreNotFound,
    open_store,
)
from mlscope.core.reststore import RestStore

APP = Path(__file__).resolve().parents[2] / "app"


@pytest.fixture
def mlruns(built, tmp_path):
    dst = tmp_path / "mlruns"
    shutil.copytree(built["file"], dst)
    return dst


def run_dir(root, ids, key):
    return root / ids["alpha"] / ids[key]


def n_runs(store):
    return len(store.runs(view="all"))


ALL = 12  # runs in the built store


@pytest.mark.parametrize("content", [b"run_id: [unclosed\n  - x: {", b"", b"\x00\xff\xfe binary \x89PNG",
                                     b"just a line without colon\n", b"- a\n- b\n"])
def test_bad_run_meta_is_one_problem(mlruns, built, content):
    meta = run_dir(mlruns, built["ids"], "running") / "meta.yaml"
    meta.write_bytes(content)
    store = open_store(mlruns, cache=False)
    assert n_runs(store) == ALL - 1
    assert any(str(meta) == p.where for p in store.problems), store.problems


def test_bad_experiment_meta_is_a_problem(mlruns, built):
    meta = mlruns / built["ids"]["alpha"] / "meta.yaml"
    meta.write_bytes(b"name: [oops\n")
    store = open_store(mlruns, cache=False)
    assert built["ids"]["alpha"] not in set(store.experiments("all")["experiment_id"])
    assert any(str(meta) == p.where for p in store.problems)
    assert n_runs(store) == 3  # beta's, gamma's and delta's runs still load


@pytest.mark.parametrize("lines,expected", [
    (b"1700000000000 0.5 0\n1700000000001 abc 1\n17000 0.25 2\n", [0.5, 0.25]),
    (b"1700000000000 0.5 0\n1700000000001 0.7", [0.5, 0.7]),       # no final newline
    (b"1700000000000 0.5 0\n170000000", [0.5]),                       # truncated mid-line
    (b"\x00\x01\x02garbage\xff\n1 2 3\n", [2.0]),
])
def test_bad_metric_lines_are_skipped_and_reported(mlruns, built, lines, expected):
    path = run_dir(mlruns, built["ids"], "running") / "metrics" / "rmse"
    path.write_bytes(lines)
    store = open_store(mlruns, cache=False)
    hist = store.metric_history([built["ids"]["running"]], ["rmse"])
    assert hist["value"].tolist() == expected
    assert n_runs(store) == ALL
    if len(expected) < lines.count(b"\n") + 1:
        assert any(str(path) == p.where for p in store.problems)


@pytest.mark.parametrize("bad", [b"1.2.3", b"5-3", b".", b"-", b"-.", b"--1", b"0.5-", b"1e5e3"])
def test_a_malformed_value_below_the_top_step_is_reported_by_the_table(mlruns, built, bad):
    """The run table reads only the top step's value of a usual file: a bad value lower down
    is a problem as soon as the table is built, not when its history is read."""
    path = run_dir(mlruns, built["ids"], "running") / "metrics" / "rmse"
    path.write_bytes(b"1700000000000 0.5 0\n1700000000001 " + bad + b" 1\n1700000000002 0.25 2\n")
    store = open_store(mlruns, cache=False)
    runs = store.runs(view="all")
    assert runs.loc[runs["run_id"] == built["ids"]["running"], "metrics.rmse"].tolist() == [0.25]
    assert [p.message for p in store.problems if p.where == str(path)] == ["1 malformed line(s) skipped"]


def test_empty_metric_file_and_non_utf8_values(mlruns, built):
    rd = run_dir(mlruns, built["ids"], "running")
    (rd / "metrics" / "empty").write_bytes(b"")
    (rd / "params" / "binary").write_bytes(b"\xff\xfe\x00junk")
    (rd / "tags" / os.fsdecode(b"caf\xe9")).write_bytes(b"latin-1 name")
    store = open_store(mlruns, cache=False)
    runs = store.runs(view="all")
    row = runs[runs["run_id"] == built["ids"]["running"]].iloc[0]
    assert "\ufffd" in row["params.binary"]
    assert "metrics.empty" not in runs.columns
    wheres = {p.where for p in store.problems}
    assert str(rd / "metrics" / "empty") in wheres and str(rd / "params" / "binary") in wheres


def test_missing_folders(tmp_path, mlruns, built):
    with pytest.raises(StoreNotFound) as err:
        open_store(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(err.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StoreNotFound):
        open_store(empty)
    # A run folder whose metrics folder vanished between listing and reading.
    shutil.rmtree(run_dir(mlruns, built["ids"], "running") / "metrics")
    assert n_runs(open_store(mlruns, cache=False)) == ALL


def unprivileged(cmd):
    """Run cmd as root without the capabilities that let root read anything (setpriv)."""
    if os.name != "posix" or not shutil.which("setpriv"):
        pytest.skip("needs setpriv")
    if os.geteuid() == 0:
        return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *cmd]
    return cmd


def test_permission_denied_names_the_path(mlruns, built, tmp_path):
    """One unreadable run folder is one problem; an unreadable store is a StorePermission."""
    locked = run_dir(mlruns, built["ids"], "running")
    os.chmod(locked, 0o000)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from mlscope.core import open_store;"
        "s = open_store(sys.argv[2], cache=False); print(len(s.runs(view='all')));"
        "print(any(sys.argv[3] in p.where for p in s.problems))"
    )
    env = {**os.environ, "MLSCOPE_CACHE_DIR": str(tmp_path / "cache")}
    try:
        result = subprocess.run(unprivileged([sys.executable, "-c", code, str(APP), str(mlruns), str(locked)]),
                                capture_output=True, text=True, timeout=120, env=env)
    finally:
        os.chmod(locked, 0o755)
    assert result.returncode == 0, result.stderr
    count, named = result.stdout.split()
    assert int(count) == ALL - 1 and named == "True"
    os.chmod(mlruns, 0o000)
    code2 = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from mlscope.core import open_store, StoreError\n"
        "try:\n open_store(sys.argv[2])\nexcept StoreError as e:\n print(type(e).__name__, e)"
    )
    try:
        result = subprocess.run(unprivileged([sys.executable, "-c", code2, str(APP), str(mlruns)]),
                                capture_output=True, text=True, timeout=120, env=env)
    finally:
        os.chmod(mlruns, 0o755)
    assert result.stdout.startswith("StorePermission") and str(mlruns) in result.stdout, result


def test_run_written_while_read(mlruns, built):
    """A training process appends metrics and rewrites meta.yaml while mlscope reads."""
    rd = run_dir(mlruns, built["ids"], "running")
    meta = (rd / "meta.yaml").read_bytes()
    stop = threading.Event()

    def writer():
        step = 100
        while not stop.is_set():
            with open(rd / "metrics" / "live", "ab") as fh:
                fh.write(f"{1700000000000 + step} {step * 0.5} {step}\n".encode())
                fh.write(b"17000000")  # a half-written line, completed next turn
                fh.flush()
                fh.write(f"00000 {step} {step}\n".encode())
            with open(rd / "meta.yaml", "wb") as fh:  # MLflow rewrites in place: truncate, write
                fh.write(meta[: len(meta) // 2])
                fh.flush()
                fh.write(meta[len(meta) // 2:])
            step += 1

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        counts = []
        for _ in range(15):
            store = open_store(mlruns, cache=False)
            counts.append(n_runs(store))
            store.metric_history([built["ids"]["running"]], ["live"])
    finally:
        stop.set()
        t.join()
    assert min(counts) >= ALL - 1  # the run being written may be skipped, never the others
    assert n_runs(open_store(mlruns, cache=False)) == ALL  # and it reads in full once written


def test_sqlite_locked_by_a_writer(built, tmp_path):
    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreLocked) as err:
            open_store(db)
        assert time.monotonic() - started < 30
        assert str(db) in str(err.value)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert len(open_store(db).runs(view="all")) == ALL


def wal_copy(built, tmp_path):
    """A copy of the built SQLite store in WAL mode, with a writer that never checkpoints:
    what it commits stays in mlflow.db-wal."""
    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.commit()
    return db, writer


def test_sqlite_in_wal_mode_with_live_wal_reads_from_a_snapshot(built, tmp_path):
    db, writer = wal_copy(built, tmp_path)
    writer.execute("UPDATE runs SET name = 'renamed-in-wal' WHERE run_uuid = ?", (built["sql_ids"]["running"],))
    writer.commit()  # the change lives only in mlflow.db-wal now
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    store = open_store(db)
    runs = store.runs(view="all", attributes=True)
    assert "renamed-in-wal" in set(runs["run_name"])
    store.close()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name in before} == before
    writer.close()


def test_not_a_database(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(StoreError) as err:
        open_store(junk)
    assert str(junk) in str(err.value)
    fake = tmp_path / "fake.db"
    fake.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    with pytest.raises(StoreCorrupt) as err:
        open_store(fake)
    assert str(fake) in str(err.value)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.commit()
    with pytest.raises(StoreCorrupt) as err:
        open_store(other)
    assert "not an MLflow tracking database" in str(err.value)


def test_old_schema_is_read_as_is_and_says_upgrade_is_needed_for_writes():
    from conftest import CORPUS

    db = CORPUS / "MadanManav__MLFlow_tutorial_with_hyperopt" / "mlruns.db"
    if not db.exists():
        pytest.skip("corpus not present")
    store = open_store(db)
    assert len(store.runs(view="all")) == 100
    assert "mlflow db upgrade" in store.read_only_note


# -- tracking servers that misbehave -------------------------------------------------------------
@pytest.fixture
def fake_server():
    """A tiny HTTP server on 127.0.0.1 answering every request as told."""
    behaviour = {"status": 200, "body": b"{}", "delay": 0.0, "type": "application/json"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            time.sleep(behaviour["delay"])
            self.send_response(behaviour["status"])
            self.send_header("Content-Type", behaviour["type"])
            self.send_header("Content-Length", str(len(behaviour["body"])))
            self.end_headers()
            try:
                self.wfile.write(behaviour["body"])
            except OSError:
                pass

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", behaviour
    server.shutdown()
    server.server_close()


def test_server_down():
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(ServerError) as err:
        open_store(url)
    assert url in str(err.value) and time.monotonic() - started < 10


@pytest.mark.parametrize("status,error", [(401, AuthError), (403, AuthError), (500, ServerError),
                                          (404, ServerError)])
def test_server_errors(fake_server, status, error):
    url, behaviour = fake_server
    behaviour.update(status=status, body=b'{"error_code": "INTERNAL_ERROR", "message": "boom"}')
    with pytest.raises(error) as err:
        open_store(url)
    assert url in str(err.value) and str(status) in str(err.value)


def test_server_too_slow(fake_server):
    url, behaviour = fake_server
    behaviour["delay"] = 3.0
    started = time.monotonic()
    with pytest.raises(ServerError) as err:
        RestStore(url, timeout=0.5)
    assert "did not answer" in str(err.value) and time.monotonic() - started < 3


def test_not_an_mlflow_server(fake_server):
    url, behaviour = fake_server
    behaviour.update(body=b"<html>hello</html>", type="text/html")
    with pytest.raises(ServerError) as err:
        open_store(url)
    assert "did not answer like an MLflow tracking server" in str(err.value)


def test_a_copied_run_folder_is_shown_once(mlruns, built):
    src = run_dir(mlruns, built["ids"], "running")
    shutil.copytree(src, src.parent / (src.name + "_backup"))
    store = open_store(mlruns, cache=False)
    runs = store.runs(view="all")
    assert len(runs) == ALL and runs["run_id"].is_unique
    assert any("shown once" in p.message for p in store.problems)


@pytest.mark.parametrize("where,content", [
    ("experiment", b"name: x\nexperiment_id: 'EXP'\ncreation_time: soon\n"),
    ("dataset", b"- a list\n- not a map\n"),
])
def test_odd_but_readable_metadata_is_not_a_traceback(mlruns, built, where, content):
    ids = built["ids"]
    if where == "experiment":
        path = mlruns / ids["alpha"] / "meta.yaml"
        content = content.replace(b"EXP", ids["alpha"].encode())
    else:
        path = next((mlruns / ids["alpha"] / "datasets").rglob("meta.yaml"))
    path.write_bytes(content)
    store = open_store(mlruns, cache=False)
    assert len(store.runs(view="all")) == ALL
    assert len(store.experiments("all")) == 5  # Default, alpha, beta, gamma, delta values


def test_unreadable_child_folder_does_not_block_locating_the_store(mlruns, built, tmp_path):
    """One unreadable experiment is a problem of that experiment, not of the store."""
    locked = mlruns / built["ids"]["gamma"]
    locked.chmod(0)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from mlscope.core import open_store;"
            "s = open_store(sys.argv[2], cache=False); print(len(s.runs(view='all')))")
    try:
        result = subprocess.run(unprivileged([sys.executable, "-c", code, str(APP), str(mlruns)]),
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, "MLSCOPE_CACHE_DIR": str(tmp_path / "c")})
    finally:
        locked.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == ALL - 1


def test_sql_store_is_safe_across_many_threads(built):
    """sqlite3 connections are never shared between threads (this crashed the process)."""
    from concurrent.futures import ThreadPoolExecutor

    store = open_store(built["sqlite"])
    ids = list(store.runs(view="all")["run_id"])
    with ThreadPoolExecutor(12) as pool:
        sizes = list(pool.map(lambda _: len(store.metric_history(ids, ["rmse"])), range(48)))
    assert len(set(sizes)) == 1 and sizes[0] > 0


def test_sqlite_uri_without_slashes_is_not_a_traceback():
    with pytest.raises(StoreNotFound):
        open_store("sqlite:foo.db")


def test_a_snapshot_store_sees_new_commits_after_refresh(built, tmp_path):
    """A database read from a snapshot (live WAL beside it) takes a new snapshot on refresh."""
    from mlflow.tracking import MlflowClient

    db, writer = wal_copy(built, tmp_path)
    store = open_store(db)
    assert store.snapshot_dir is not None
    before = len(store.runs(view="all"))
    MlflowClient(f"sqlite:///{db}").create_run(built["sql_ids"]["alpha"], run_name="later")
    assert len(store.runs(view="all")) == before
    store.refresh()
    assert len(store.runs(view="all")) == before + 1
    store.close()
    writer.close()
