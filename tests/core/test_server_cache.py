"""The per-server copy on disk: what goes in comes back equal, no secret is ever in it, a
damaged copy is dropped with words, and clearing removes it all."""

import json
import os

import pandas as pd
import pytest

from mlflow_stores import build
from mlscope.core import open_store, server_cache

SECRET = "s3cret-Passw0rd"
URL = f"http://alice:{SECRET}@127.0.0.1:5999/"


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """The runs and experiments frames of a real store written by MLflow's client (the edge
    cases: NaN metrics, unicode, long params, deleted runs)."""
    base = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{base / 'mlflow.db'}"
    build(uri)
    store = open_store(uri)
    runs, exps = store.runs(view="all", attributes=True), store.experiments("all")
    store.close()
    assert len(runs) > 5 and runs.columns.str.startswith("params.").any()
    return runs, exps


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MLSCOPE_CACHE_DIR", str(tmp_path / "cache"))


def test_round_trip_equal(frames):
    runs, exps = frames
    server_cache.save(URL, runs, exps, ["1", "2"], "all")
    got = server_cache.load(URL)
    pd.testing.assert_frame_equal(got.runs, runs)  # dtypes included
    pd.testing.assert_frame_equal(got.experiments, exps)
    assert got.experiment_ids == ["1", "2"] and got.view == "all"
    assert got.uri == "http://alice@127.0.0.1:5999"
    assert "minute" in got.age_words()
    # the same server with or without the password, with or without the slash: one copy
    assert server_cache.load("http://alice@127.0.0.1:5999") is not None
    assert server_cache.load("http://127.0.0.1:6000") is None


def test_no_secret_in_any_file(frames):
    runs, exps = frames
    where = server_cache.save(URL, runs, exps, ["1"], "active")
    files = [p for p in server_cache.root().rglob("*")]
    assert any(p.suffix == ".parquet" for p in files)
    for p in files:
        assert SECRET not in str(p)
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes(), p
    assert where.name not in URL


def test_saving_again_replaces_the_files(frames, monkeypatch):
    runs, exps = frames
    monkeypatch.setattr(server_cache, "READ_GRACE_S", -1)
    where = server_cache.save(URL, runs, exps, ["1"], "active")
    server_cache.save(URL, runs.head(2), exps, ["1"], "active")
    assert len(list(where.glob("*.parquet"))) == 2  # one generation: runs + experiments
    assert not list(where.glob("*.tmp"))
    assert len(server_cache.load(URL).runs) == 2


@pytest.mark.parametrize("damage", ["parquet", "meta", "missing"])
def test_corrupt_copy_is_absent_with_a_problem(frames, damage):
    runs, exps = frames
    where = server_cache.save(URL, runs, exps, ["1"], "active")
    meta = json.loads((where / "meta.json").read_text())
    if damage == "parquet":
        (where / meta["files"]["runs"]).write_bytes(b"PAR1 not really")
    elif damage == "meta":
        (where / "meta.json").write_text("{not json")
    else:
        os.remove(where / meta["files"]["experiments"])
    problems = []
    assert server_cache.load(URL, lambda where, msg: problems.append((where, msg))) is None
    assert len(problems) == 1 and "127.0.0.1:5999" in problems[0][1]
    assert SECRET not in problems[0][1]
    assert not where.exists()  # dropped, so the next save starts clean
    assert server_cache.load(URL) is None


def test_clear_removes_everything(frames):
    runs, exps = frames
    server_cache.save(URL, runs, exps, ["1"], "active")
    server_cache.save("https://other.example:443", runs, exps, ["1"], "active")
    assert server_cache.clear() == 2
    assert not server_cache.root().exists()
    assert server_cache.load(URL) is None
    assert server_cache.clear() == 0


def test_only_the_last_servers_are_kept(frames, monkeypatch):
    runs, exps = frames
    monkeypatch.setattr(server_cache, "KEEP_SERVERS", 2)
    for i, port in enumerate((7001, 7002, 7003)):
        where = server_cache.save(f"http://127.0.0.1:{port}", runs.head(1), exps, ["1"], "active")
        os.utime(where / "meta.json", (1_000_000 + i, 1_000_000 + i))
    assert server_cache.load("http://127.0.0.1:7001") is None
    assert server_cache.load("http://127.0.0.1:7003") is not None


def test_cached_store_reads_the_copy(frames):
    runs, exps = frames
    cached_exps = exps
    server_cache.save(URL, runs, cached_exps, ["1"], "all")
    store = server_cache.CachedStore(server_cache.load(URL), reason="refused")
    assert store.offline and not store.can_write
    ids = sorted(runs["experiment_id"].astype(str).unique())[:1]
    got = store.runs(ids, view="all", attributes=True)
    assert set(got["run_id"]) == set(runs.loc[runs["experiment_id"].astype(str) == ids[0], "run_id"])
    active = store.runs(None, view="active", attributes=True)
    assert (active["lifecycle_stage"] == "active").all()
    rid = got["run_id"].iloc[0]
    run = store.run(rid)
    assert run["info"]["run_id"] == rid
    row = runs[runs["run_id"] == rid].iloc[0]
    for k, v in run["params"].items():
        assert row[f"params.{k}"] == v
    assert store.metric_history([rid]).empty  # not kept: said in Problems
    assert len(store.problems) == 1 and "needs the server" in store.problems[0].message
    with pytest.raises(server_cache.ServerError, match="needs the server"):
        store.runs(ids, "metrics.x > 1")


def test_a_read_during_a_save_gets_a_whole_copy(frames):
    """Another page saving the same server while this one reads: never a mix, never dropped."""
    import threading

    runs, exps = frames
    server_cache.save(URL, runs, exps, ["1"], "active")
    stop, problems, got = threading.Event(), [], []

    def saver():
        while not stop.is_set():
            server_cache.save(URL, runs, exps, ["1"], "active")

    t = threading.Thread(target=saver)
    t.start()
    try:
        for _ in range(60):
            got.append(server_cache.load(URL, lambda where, msg: problems.append(msg)))
    finally:
        stop.set()
        t.join()
    assert not problems
    assert all(c is not None and len(c.runs) == len(runs) for c in got)


def test_saving_the_same_runs_again_writes_only_the_time(frames, monkeypatch):
    """At 100,000 runs the Parquet is the cost: an unchanged copy is not rewritten, only its
    time moves (it was checked live); any change in a value, a column or the scope rewrites."""
    runs, exps = frames
    monkeypatch.setattr(server_cache, "READ_GRACE_S", -1)
    where = server_cache.save(URL, runs, exps, ["1"], "active")
    files = sorted(p.name for p in where.glob("*.parquet"))
    first = server_cache.load(URL).saved_at
    server_cache.save(URL, runs.copy(), exps, ["1"], "active")
    assert sorted(p.name for p in where.glob("*.parquet")) == files  # not rewritten
    assert server_cache.load(URL).saved_at > first
    pd.testing.assert_frame_equal(server_cache.load(URL).runs, runs)
    edited = runs.copy()
    col = next(c for c in runs.columns if c.startswith("params."))
    edited.loc[edited.index[0], col] = "changed"
    for args in ((edited, exps, ["1"], "active"), (runs, exps, ["1", "2"], "active"),
                 (runs, exps, ["1", "2"], "all")):
        server_cache.save(URL, *args)
        now = sorted(p.name for p in where.glob("*.parquet"))
        assert now != files and len(now) == 2
        files = now
    pd.testing.assert_frame_equal(server_cache.load(URL).runs, runs)  # the last save's
    assert server_cache.digest(edited, exps, ["1"], "active") != server_cache.digest(
        runs, exps, ["1"], "active")
