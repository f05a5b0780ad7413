"""A tracking server's saved copy: how fast it opens, and what the refresh saves.

    python benchmarks/bench_server_cache.py [--quick]

An SQLite store of 20,000 runs (--quick: 2,000; 10 params, 7 tags, 5 metrics x 10 steps;
benchmarks/make_stores.py, cached in benchmarks/_stores/) served by a real `mlflow server` on
127.0.0.1. Side by side: MLflow's client reading every run (``mlflow.search_runs``), mlscope's
full read, the copy written, written again unchanged (only its time moves), read back (what
the table waits for on reopening), and the refresh by small searches after 20 runs were
logged and 5 running runs ended, against the full read it precedes. Prints
``name: value unit`` lines. ``--copy-scale`` times only the copy (written, saved unchanged,
read back) of bench_scale.py's 100,000-run SQLite store, read by mlscope, no server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "app"))
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))


def say(name: str, value: float, unit: str = "s", note: str = "") -> None:
    print(f"{name}: {value:.3f} {unit}" + (f" ({note})" if note else ""), flush=True)


def timed(fn, repeat: int = 3):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def store_db(n: int) -> Path:
    from make_stores import build_sqlite

    db = HERE / "_stores" / f"server-cache-{n}" / "mlflow.db"
    if not db.exists():
        tmp = db.with_name(".mlflow.db.tmp")
        build_sqlite(tmp, n_runs=n, n_metrics=5, n_steps=10, n_params=10, n_tags=7,
                     n_experiments=3, seed=11)
        os.replace(tmp, db)
    return db


def copy_at_scale(n: int = 100_000) -> None:
    """The copy of 100,000 runs: what a reopening reads before the table shows it."""
    from bench_scale import SHAPE
    from make_stores import Spec, ensure_sqlite
    from mlscope.core import open_store, server_cache

    base = Path(tempfile.mkdtemp(prefix="bench-server-copy-"))
    os.environ["MLSCOPE_CACHE_DIR"] = str(base / "cache")
    try:
        store = open_store(str(ensure_sqlite(Spec(n_runs=n, **SHAPE))))
        exps = store.experiments("active")
        ids = list(exps["experiment_id"])
        frame = store.runs(ids, attributes=True)
        store.close()
        url = "http://127.0.0.1:5000"
        t_save, _ = timed(lambda: server_cache.save(url, frame.iloc[::-1], exps, ids, "active")
                          and server_cache.save(url, frame, exps, ids, "active"), 1)
        say(f"copy_{n // 1000}k_written", t_save / 2, note=f"{len(frame):,} runs, {len(frame.columns)} columns")
        t_same, _ = timed(lambda: server_cache.save(url, frame, exps, ids, "active"))
        say(f"copy_{n // 1000}k_saved_unchanged", t_same, note="digest, only meta.json written")
        t_load, cached = timed(lambda: server_cache.load(url))
        say(f"copy_{n // 1000}k_read_back", t_load, note="what reopening waits for")
        load = os.getloadavg()
        print(f"load_average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 runs instead of 20,000")
    parser.add_argument("--copy-scale", action="store_true",
                        help="only the copy of bench_scale's 100,000-run store (no server)")
    args = parser.parse_args()
    if args.copy_scale:
        copy_at_scale()
        return
    n = 2_000 if args.quick else 20_000
    base = Path(tempfile.mkdtemp(prefix="bench-server-cache-"))
    shutil.copy(store_db(n), base / "mlflow.db")  # the benchmark logs runs: a copy
    os.environ["MLSCOPE_CACHE_DIR"] = str(base / "cache")

    import mlflow
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    from mlflow_stores import MlflowServer
    from mlscope.core import open_store, server_cache, server_refresh

    srv = MlflowServer(base)
    try:
        url = srv.url
        mlflow.set_tracking_uri(url)
        store = open_store(url)
        ids = [e for e in store.experiments("active")["experiment_id"] if e != "0"]
        store.runs(ids, attributes=True)  # the server's first search (its caches) not counted
        t_mlflow, ref = timed(lambda: mlflow.search_runs(ids, run_view_type=ViewType.ACTIVE_ONLY), 1)
        say("mlflow_search_runs_all", t_mlflow, note=f"{len(ref):,} runs, MLflow's client")
        t_full, frame = timed(lambda: open_store(url).runs(ids, attributes=True), 1)
        say("mlscope_full_read", t_full, note=f"{len(frame):,} runs")
        exps = store.experiments("active")
        t_save, _ = timed(lambda: server_cache.save(url, frame.iloc[::-1], exps, ids, "active")
                          and server_cache.save(url, frame, exps, ids, "active"), 1)
        say("copy_written", t_save / 2, note="Parquet, atomic; mean of 2 writes")
        t_same, _ = timed(lambda: server_cache.save(url, frame, exps, ids, "active"))
        say("copy_saved_unchanged", t_same, note="digest, only meta.json written")
        t_load, cached = timed(lambda: server_cache.load(url))
        say("copy_read_back", t_load, note=f"{len(cached.runs):,} runs: what reopening waits for")

        client = MlflowClient(url)
        running = frame.loc[frame["status"] == "RUNNING", "run_id"].tolist()[:5]
        for rid in running:
            client.set_terminated(rid)
        for i in range(20):
            rid = client.create_run(ids[0], run_name=f"new-{i}").info.run_id
            client.log_metric(rid, "loss", 1.0 / (i + 1))
            client.set_terminated(rid)
        copy = cached.runs
        t_inc, delta = timed(lambda: server_refresh.refresh(open_store(url), copy, ids, "active"))
        say("incremental_refresh", t_inc,
            note=f"{delta.changed} runs changed since the copy, {len(running)} of them ended; "
                 f"4 small searches + the merge")
        t_full2, _ = timed(lambda: open_store(url).runs(ids, attributes=True), 1)
        say("full_read_after", t_full2, note=f"{t_full2 / t_inc:.0f}x the refresh")
        load = os.getloadavg()
        print(f"load_average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    finally:
        srv.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
