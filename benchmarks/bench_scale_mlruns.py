"""100,000 runs in an mlruns folder: read from the disk against the disk's floor, reopened, and
MLflow's client beside it.

    python benchmarks/bench_scale_mlruns.py [--quick] [--mlflow-budget S] [--no-mlflow] [--only app]

The folder: 100,000 runs (--quick: 20,000) shaped as bench_scale.py's SQLite store (3
experiments, 10 params, 7 tags, 5 metrics x 10 steps): 23 files a run, 2.3 million files,
written as MLflow's FileStore writes them (make_stores.build_mlruns) and read back by
MLflow's client on samples, built once and cached in benchmarks/_stores/.

Figures, one a line as ``name: value unit``, each with the load average:

- the disk's floor: every file read once by GNU ``cat`` (``find | xargs -P8 cat``) after the
  OS page cache is emptied, and the same from RAM;
- mlscope, first call in a fresh process after its imports (bench_store.py's method), the run
  cache empty, the page cache emptied first: what a user meets the first time they open the
  folder after a restart;
- mlscope reopening it in a fresh process with its run cache filled, page cache warm (the
  issue's "reopen <= 2 s") and from the disk;
- the app reopening it (bench_server.py's app process, all experiments selected): the last
  table on screen (the copy kept by the open before), then every run folder checked and the
  table replaced; --only app measures this alone;
- MLflow's ``search_runs`` from RAM, one fresh process, stopped after --mlflow-budget
  seconds; both frames checked equal when it finishes.

Emptying the page cache needs root on Linux; without it the cold lines say so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "app"), str(HERE)]

from bench_scale import SHAPE, first_call, load  # noqa: E402
from bench_store import drop_page_cache, frames_equal, report, warm_page_cache  # noqa: E402
from make_stores import Spec, ensure_mlruns, restart_if_built  # noqa: E402

QUICK_RUNS = 20_000


def cat_all(root: Path) -> float:
    """Seconds for GNU cat to read every file of root, 8 readers at once (the disk answers
    many requests at a time; mlscope reads cold runs with threads for that reason)."""
    t = time.perf_counter()
    subprocess.run(f"find {root} -type f -print0 | xargs -0 -n 2000 -P 8 cat > /dev/null",
                   shell=True, check=True)
    return time.perf_counter() - t


def app_reopen(root: Path, tmp: Path, cache: Path) -> None:
    """The app opening the folder once (it keeps a copy of the table), then reopening it in
    three fresh processes: the copy at once, then the checked table."""
    from bench_scale import app_env
    from bench_server import app_side

    env = {**app_env(tmp, root), "MLSCOPE_CACHE_DIR": str(cache), "MLFLOW_ALLOW_FILE_STORE": "true"}
    warm = cache.is_dir() and any(cache.iterdir())  # the library's run cache, filled before
    first = app_side(str(root), env, 900)
    report("app_open_no_copy_table_filled", first["loads"][-1][0], "s",
           f"open to all {first['rows_in_table']:,} runs in the table, no copy kept yet, run cache "
           f"{'filled' if warm else 'empty'}, {first['load']}")
    runs = [app_side(str(root), env, 900) for _ in range(3)]
    shown = [r["loads"][0] for r in runs]
    assert all(copy for _, _, copy in shown), f"the first table was not the copy: {shown}"
    note = f"median of 3 fresh processes, {runs[-1]['load']}"
    report("app_reopen_copy_shown", statistics.median(s[0] for s in shown), "s",
           f"open to the last table on screen ({shown[-1][1]:,} runs), target <= 2 s, {note}")
    report("app_reopen_copy_from_process_start",
           statistics.median(r["opened_since_start"] + r["loads"][0][0] for r in runs), "s", note)
    report("app_reopen_checked", statistics.median(r["loads"][-1][0] for r in runs), "s",
           f"open to every run folder checked and the table replaced, {note}")
    report("app_reopen_peak_rss", max(r["peak_mb"] for r in runs), "MB", "the app's process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs")
    parser.add_argument("--mlflow-budget", type=float, default=600.0,
                        help="seconds before MLflow's search_runs is stopped")
    parser.add_argument("--no-mlflow", action="store_true", help="mlscope's figures only")
    parser.add_argument("--only", choices=["app"], help="the app's reopen figures alone")
    args = parser.parse_args()
    n = QUICK_RUNS if args.quick else 100_000
    spec = Spec(n_runs=n, **SHAPE)
    t = time.perf_counter()
    root = ensure_mlruns(spec)
    restart_if_built()
    print(f"store ready in {time.perf_counter() - t:.1f} s: {root}", file=sys.stderr)
    files = sum(len(fs) for _, _, fs in os.walk(root))
    report("store_runs", n, "runs", f"{files:,} files")
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
    if args.only == "app":
        with tempfile.TemporaryDirectory(prefix="mlscope-bench-mlruns-") as tmp:
            warm_page_cache(root)
            app_reopen(root, Path(tmp), Path(tmp) / "cache")
        return
    can_drop = drop_page_cache()
    with tempfile.TemporaryDirectory(prefix="mlscope-bench-mlruns-") as tmp:
        tmp = Path(tmp)
        cache = {**env, "MLSCOPE_CACHE_DIR": str(tmp / "cache")}
        if can_drop:
            drop_page_cache()
            report("disk_floor_cat_every_file", cat_all(root), "s",
                   f"page cache emptied, 8 readers, {load()}")
        warm_page_cache(root)
        report("ram_floor_cat_every_file", cat_all(root), "s", f"page cache warm, {load()}")
        if can_drop:
            drop_page_cache()
            r = first_call("mlscope", str(root), tmp / "mlscope.pkl", cache)
            report("mlscope_first_open_from_disk", r["seconds"], "s",
                   f"fresh process, run cache empty, page cache emptied, {load()}")
            report("mlscope_first_open_peak_rss", r["peak_mb"], "MB", "main process")
            drop_page_cache()
            r = first_call("mlscope", str(root), tmp / "reopen.pkl", cache)
            report("mlscope_reopen_from_disk", r["seconds"], "s",
                   f"fresh process, run cache filled, page cache emptied, {load()}")
        else:
            report("mlscope_first_open_from_disk", "skipped", note="emptying the page cache needs root")
        warm_page_cache(root)
        fresh = {**env, "MLSCOPE_CACHE_DIR": str(tmp / "ram")}
        r = first_call("mlscope", str(root), tmp / "mlscope.pkl", fresh)
        report("mlscope_first_open_from_ram", r["seconds"], "s",
               f"fresh process, run cache empty, page cache warm, {load()}")
        reopen = [first_call("mlscope", str(root), tmp / "reopen.pkl", fresh) for _ in range(3)]
        best = sorted(reopen, key=lambda x: x["seconds"])[1]
        report("mlscope_reopen_from_ram", best["seconds"], "s",
               f"fresh process, run cache filled, page cache warm, median of 3, {load()}")
        report("mlscope_reopen_peak_rss", best["peak_mb"], "MB", "main process")
        app_reopen(root, tmp, tmp / "ram")  # the run cache filled above
        if args.no_mlflow:
            return
        ml = first_call("mlflow", root.as_uri(), tmp / "mlflow.pkl", env, args.mlflow_budget)
        if ml.get("timed_out"):
            report("mlflow_search_runs_from_ram", f"> {args.mlflow_budget:.0f}", "s",
                   f"stopped at the budget, {load()}")
            return
        report("mlflow_search_runs_from_ram", ml["seconds"], "s", f"fresh process, {load()}")
        report("mlflow_peak_rss", ml["peak_mb"], "MB", "whole process")
        diff = frames_equal(tmp / "mlscope.pkl", tmp / "mlflow.pkl")
        report("frames_equal", "yes" if not diff else "NO", note=diff)


if __name__ == "__main__":
    main()
