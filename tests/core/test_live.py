"""Following runs that are still training: only new points, and refresh sees new runs."""

import shutil

from mlflow.tracking import MlflowClient

from mlscope.core import open_store


def test_file_tail_reads_only_appended_complete_lines(built, tmp_path):
    root = tmp_path / "mlruns"
    shutil.copytree(built["file"], root)
    run = built["ids"]["running"]
    store = open_store(root)
    first = store.metric_tail([run], ["rmse"])
    assert len(first) == 3
    path = root / built["ids"]["alpha"] / run / "metrics" / "rmse"
    with open(path, "ab") as fh:
        fh.write(b"1700000000100 0.3 4\n1700000000101 0.2")  # the second line is half-written
    new = store.metric_tail([run], ["rmse"])
    assert new[["step", "value"]].values.tolist() == [[4, 0.3]]
    with open(path, "ab") as fh:
        fh.write(b" 5\n")
    assert store.metric_tail([run], ["rmse"])[["step", "value"]].values.tolist() == [[5, 0.2]]
    assert store.metric_tail([run], ["rmse"]).empty
    assert len(store.metric_history([run], ["rmse"])) == 5


def test_sql_tail_and_refresh_see_what_mlflow_logged(built, tmp_path):
    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    run = built["sql_ids"]["running"]
    store = open_store(db)
    assert len(store.metric_tail([run], ["rmse"])) == 3
    client = MlflowClient(f"sqlite:///{db}")
    client.log_metric(run, "rmse", 0.1, timestamp=1700000009999, step=9)
    new = store.metric_tail([run], ["rmse"])
    assert new[["step", "value"]].values.tolist() == [[9, 0.1]]
    before = len(store.runs(view="all"))
    client.create_run(built["sql_ids"]["alpha"], run_name="fresh")
    assert len(store.runs(view="all")) == before  # an open store is a snapshot...
    store.refresh()
    assert len(store.runs(view="all")) == before + 1  # ...until refreshed


def test_file_refresh_rereads_only_changed_runs(built, tmp_path):
    root = tmp_path / "mlruns"
    shutil.copytree(built["file"], root)
    store = open_store(root)
    assert store.runs(view="all")["metrics.rmse"].notna().sum() == 8
    client = MlflowClient(str(root))
    client.log_metric(built["ids"]["empty"], "rmse", 0.01, timestamp=1700000009999, step=0)
    store.refresh()
    runs = store.runs(view="all")
    assert runs.set_index("run_id").loc[built["ids"]["empty"], "metrics.rmse"] == 0.01


def test_a_long_mlruns_read_streams_partial_frames(tmp_path, monkeypatch):
    """The table fills while a big folder is read: partial frames grow, the last is complete."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from make_stores import build_mlruns
    from mlscope.core.filestore import FileStore

    root = tmp_path / "mlruns"
    build_mlruns(root, n_runs=600, n_steps=5, n_experiments=1)
    streamer = FileStore._streamer
    monkeypatch.setattr(FileStore, "_streamer",
                        staticmethod(lambda *a, **k: streamer(*a, **{**k, "every_s": 0.0})))
    seen = []
    final = open_store(root, cache=False).runs(view="all", partial=lambda f: seen.append(len(f)))
    assert len(seen) >= 2 and seen == sorted(seen) and 0 < seen[0] < len(final) == 600


def test_run_caches_of_old_stores_are_evicted(built, tmp_path, monkeypatch):
    import mlscope.core.filestore as fs

    monkeypatch.setenv("MLSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(fs, "CACHE_KEEP", 2)
    for i in range(4):
        root = tmp_path / f"store{i}" / "mlruns"
        shutil.copytree(built["file"], root)
        open_store(root).runs()
    assert len(list((tmp_path / "cache" / "runs").glob("*.pkl"))) == 2
