"""Time mlscope's store layer against MLflow's own client, side by side, in one run.

    python benchmarks/bench_store.py [--quick]

Uses the generated stores of make_stores.py (10,000 runs x 3 metrics x 100 steps, 12 params,
7 tags; --quick: 300 runs), built once and cached in benchmarks/_stores/. Prints one figure a
line as ``name: value unit``. The headline all-runs figures are the first call in a fresh
process after its imports, on both sides (``mlflow.search_runs`` against ``store.runs()``,
opening the store and starting mlscope's reader pool counted), the median of --processes such
processes a side, and the two frames are checked equal (every column, exact). The in-process
rows that follow (prefixed ``inproc_``, and the history rows) are warm figures: MLflow a
single call, mlscope the best of --repeat. Every file is read once, untimed, before
MLflow's turn, so both sides read from the OS page cache; "cold" and "warm" are about
mlscope's own run cache. Where the page cache can be emptied (Linux, as root), the mlruns
folder is also read from the disk by both sides ("from_disk").
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "app"
sys.path.insert(0, str(APP))
sys.path.insert(0, str(HERE))
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"

import numpy as np  # noqa: E402

from make_stores import QUICK_RUNS, Spec  # noqa: E402

HISTORY_RUNS = 1_000
HISTORY_KEY = "val_loss"
# MLflow's get_metric_history loop is slow (~135 ms a run on SQLite): past this many runs
# and this many seconds it stops, and its time is scaled to all the runs.
LOOP_MIN_RUNS, LOOP_BUDGET_S = 100, 15.0


def fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.3g}"


def report(name: str, value, unit: str = "", note: str = "") -> None:
    value = fmt(value) if isinstance(value, float) else value
    print(f"{name}: {value} {unit}".rstrip() + (f" ({note})" if note else ""), flush=True)


def ratio(name: str, mlflow_s: float, mlscope_s: float) -> None:
    report(f"{name}_ratio", mlflow_s / mlscope_s, "x")


def best_of(n: int, fn) -> tuple[float, object]:
    """Smallest wall time of n calls of fn(i), and the last result."""
    best, result = float("inf"), None
    for i in range(n):
        t = time.perf_counter()
        result = fn(i)
        best = min(best, time.perf_counter() - t)
    return best, result


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_state(root: Path) -> dict[str, tuple]:
    """Path -> (size, mtime) of everything under root: enough to see a write or a new file."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            st = os.lstat(os.path.join(folder, name))
            state[os.path.join(folder, name)] = (st.st_size, st.st_mtime_ns)
    return state


def warm_page_cache(root: Path) -> None:
    """Read every file once, untimed, so neither side pays for the disk: both read from RAM."""
    paths = [root] if root.is_file() else [Path(d, f) for d, _, fs in os.walk(root) for f in fs]
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass


def settle(runs: list) -> list[str]:
    """The run ids of MLflow's answer, with the answer itself freed and the garbage collector
    settled: neither side's timing walks the other's millions of objects."""
    ids = [r.info.run_id for r in runs]
    runs.clear()
    gc.collect()
    gc.freeze()
    return ids


def drop_page_cache() -> bool:
    """Empty the OS page cache (Linux, root), so the next read comes from the disk."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def mlflow_all_runs(uri: str) -> list:
    """Every run of every experiment, through MlflowClient.search_runs, paginated."""
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp_ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs, token = [], None
    while True:
        page = client.search_runs(
            exp_ids, run_view_type=ViewType.ALL, max_results=50_000, page_token=token
        )
        runs += page
        token = page.token
        if not token:
            return runs


def mlflow_history_loop(uri: str, run_ids: list[str]) -> tuple[float, int, dict]:
    """Time a get_metric_history loop; returns (seconds, runs timed, run_id -> points)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    client.get_metric_history(run_ids[0], HISTORY_KEY)  # let the client open its store
    points = {}
    t = time.perf_counter()
    for run_id in run_ids:
        points[run_id] = client.get_metric_history(run_id, HISTORY_KEY)
        elapsed = time.perf_counter() - t
        if len(points) >= LOOP_MIN_RUNS and elapsed >= LOOP_BUDGET_S:
            break
    return time.perf_counter() - t, len(points), points


def check(name: str, ok: bool, detail: str = "") -> None:
    """A mismatch between mlscope and MLflow makes the ratio meaningless: say so loudly."""
    if not ok:
        report(f"{name}_check", "MISMATCH", note=detail)
        print(f"MISMATCH in {name}: {detail}", file=sys.stderr)


def check_history(name: str, frame, points: dict) -> None:
    """mlscope's history of the runs MLflow timed equals MLflow's, point for point."""
    sub = frame[frame["run_id"].isin(list(points))].sort_values(["run_id", "step"])
    want = sorted(
        (run_id, p.step, p.timestamp, p.value) for run_id, ps in points.items() for p in ps
    )
    got = list(zip(sub["run_id"], sub["step"], sub["timestamp"], sub["value"], strict=True))
    same = len(got) == len(want) and all(
        g[:3] == w[:3] and (g[3] == w[3] or (np.isnan(g[3]) and np.isnan(w[3])))
        for g, w in zip(got, want, strict=True)
    )
    check(name, same, f"{len(got)} points from mlscope, {len(want)} from MLflow")


RSS_SCRIPT = """
import json, resource, sys, threading, time
import psutil

def hwm_kb():  # this process's peak RSS (ru_maxrss would include the parent's, from the fork)
    try:
        with open("/proc/self/status") as f:
            return int(next(l for l in f if l.startswith("VmHWM:")).split()[1])
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

sys.path.insert(0, sys.argv[1])
from mlscope.core import open_store

peak, stop = [0], []
def sample():  # RSS of this process and its workers, summed (shared pages count twice)
    me = psutil.Process()
    while not stop:
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak[0] = max(peak[0], total)
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
after_import = hwm_kb()
frame = open_store(sys.argv[2], cache=False).runs(view="all")
stop.append(1)
time.sleep(0.05)
print(json.dumps({"rows": len(frame), "import_kb": after_import,
                  "main_kb": hwm_kb(),
                  "tree_kb": peak[0] // 1024}))
"""


FIRST_CALL_SCRIPT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
side, target, out = sys.argv[2:5]
if side == "mlflow":
    import mlflow
    import mlflow.store.tracking.file_store, mlflow.store.tracking.sqlalchemy_store
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient
    t = time.perf_counter()
    mlflow.set_tracking_uri(target)
    ids = [e.experiment_id for e in MlflowClient(target).search_experiments(view_type=ViewType.ALL)]
    frame = mlflow.search_runs(ids, run_view_type=ViewType.ALL, max_results=1_000_000)
else:
    import mlscope.core.filestore, mlscope.core.sqlstore
    from mlscope.core import open_store
    t = time.perf_counter()  # the store's open and its reader pool's start are counted
    frame = open_store(target).runs(view="all")
elapsed = time.perf_counter() - t
frame.to_pickle(out)
print(json.dumps({"seconds": elapsed, "rows": len(frame)}))
"""


def first_call(side: str, target: str, out: Path, env: dict) -> float:
    """Seconds of the first all-runs call in a fresh process, after its imports."""
    proc = subprocess.run([sys.executable, "-c", FIRST_CALL_SCRIPT, str(APP), side, target, str(out)],
                          check=True, capture_output=True, text=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def frames_equal(ours_path: Path, ref_path: Path) -> str:
    """"" when mlscope's frame equals MLflow's search_runs frame (rows by run id, every column,
    exact values, NaN equal to NaN, dtypes as they are), else what differs."""
    import pandas as pd

    ours, ref = pd.read_pickle(ours_path), pd.read_pickle(ref_path)
    if set(ours.columns) != set(ref.columns):
        return f"columns differ: {sorted(set(ours.columns) ^ set(ref.columns))[:5]}"
    cols = sorted(ref.columns)
    try:
        pd.testing.assert_frame_equal(
            ours[cols].sort_values("run_id").reset_index(drop=True),
            ref[cols].sort_values("run_id").reset_index(drop=True), check_exact=True)
    except AssertionError as exc:
        return str(exc).splitlines()[0]
    return ""


def fresh_process_figures(kind: str, target: Path, uri: str, n: int, tmp: Path) -> None:
    """The headline: the median of n fresh processes per side, each timing its first call."""
    base = dict(os.environ)
    ml, ms, ms_warm = [], [], []
    for i in range(n):  # interleaved, so a change in the machine's load hits both sides
        ml.append(first_call("mlflow", uri, tmp / f"{kind}_mlflow.pkl", base))
        cold = {**base, "MLSCOPE_CACHE_DIR": str(tmp / f"{kind}_cold{i}")}
        ms.append(first_call("mlscope", str(target), tmp / f"{kind}_mlscope.pkl", cold))
    if kind == "mlruns":  # a reopen: the run cache filled by the last cold process
        for _ in range(n):
            ms_warm.append(first_call("mlscope", str(target), tmp / "warm.pkl",
                                      {**base, "MLSCOPE_CACHE_DIR": str(tmp / f"{kind}_cold{n - 1}")}))
    ml_s, ms_s = float(np.median(ml)), float(np.median(ms))
    note = f"first call in a fresh process, median of {n} processes"
    report(f"{kind}_all_runs_mlflow_search_runs", ml_s, "s", note)
    report(f"{kind}_all_runs_mlscope", ms_s, "s", note + ", empty run cache, pool start counted")
    ratio(f"{kind}_all_runs", ml_s, ms_s)
    if ms_warm:
        report(f"{kind}_all_runs_mlscope_warm_run_cache", float(np.median(ms_warm)), "s",
               f"fresh process reopening with the run cache filled, median of {n}")
    diff = frames_equal(tmp / f"{kind}_mlscope.pkl", tmp / f"{kind}_mlflow.pkl")
    check(f"{kind}_all_runs_frames_equal", diff == "", diff)
    report(f"{kind}_all_runs_frames_equal", "yes" if not diff else "NO")


def peak_rss(target: Path) -> dict:
    """Peak memory of a fresh process building the all-runs table of target."""
    out = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(APP), str(target)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs")
    parser.add_argument("--repeat", type=int, default=3,
                        help="in-process (warm) mlscope rows: best of N")
    parser.add_argument("--processes", type=int, default=None,
                        help="headline rows: median of N fresh processes a side (5; --quick 3)")
    args = parser.parse_args()
    spec = Spec(n_runs=QUICK_RUNS) if args.quick else Spec()

    # Built (once, then cached) in another process, so that no MLflow store is open here yet.
    t = time.perf_counter()
    cmd = [sys.executable, str(HERE / "make_stores.py"), *(["--quick"] if args.quick else [])]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    mlruns, db = Path(out[-2]), Path(out[-1])
    print(f"stores ready in {time.perf_counter() - t:.1f} s: {mlruns}, {db}", file=sys.stderr)
    cache_root = Path(tempfile.mkdtemp(prefix="mlscope-bench-cache-"))
    os.environ["MLSCOPE_CACHE_DIR"] = str(cache_root / "unused")

    # Imports stay out of every timing, the lazy ones too.
    import mlflow
    import mlflow.store.tracking.file_store
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401

    import mlscope.core.filestore
    import mlscope.core.sqlstore  # noqa: F401
    from mlscope.core import open_store

    label = f"{spec.n_runs // 1000}k" if spec.n_runs % 1000 == 0 else str(spec.n_runs)
    report("mlflow_version", mlflow.__version__)
    report("store_runs", spec.n_runs, "runs", f"{spec.n_metrics} metrics x {spec.n_steps} steps")

    # The headline: first calls in fresh processes, the same way on both sides.
    sql_uri = f"sqlite:///{db}"
    n_proc = args.processes or (3 if args.quick else 5)
    for kind, target, uri in (("sqlite", db, sql_uri), ("mlruns", mlruns, mlruns.as_uri())):
        warm_page_cache(target)
        fresh_process_figures(kind, target, uri, n_proc, cache_root)

    # Below: in one process, after a first call (page cache and imports warm), labelled so.
    print("# in-process rows below: MLflow a single call, mlscope best of --repeat; "
          "not headline figures", flush=True)

    # All runs of the SQLite store.
    warm_page_cache(db)
    t = time.perf_counter()
    ml_runs = mlflow_all_runs(sql_uri)
    ml_s = time.perf_counter() - t
    ml_ids = settle(ml_runs)
    digest = sha256(db)
    siblings = sorted(p.name for p in db.parent.iterdir())

    def read(target, fn):
        """fn(store) on a freshly opened store."""
        with open_store(target) as store:
            return fn(store)

    def all_runs(store):
        return store.runs(view="all")

    ms_s, frame = best_of(args.repeat, lambda i: read(db, all_runs))
    report("inproc_sqlite_all_runs_mlflow", ml_s, "s")
    report("inproc_sqlite_all_runs_mlscope", ms_s, "s", f"best of {args.repeat}")
    ratio("inproc_sqlite_all_runs", ml_s, ms_s)
    check(
        "sqlite_all_runs",
        set(frame["run_id"]) == set(ml_ids) and len(frame) == len(ml_ids),
        f"{len(frame)} runs from mlscope, {len(ml_ids)} from MLflow",
    )
    unchanged = sha256(db) == digest and sorted(p.name for p in db.parent.iterdir()) == siblings
    report("sqlite_file_unchanged_by_mlscope", "yes" if unchanged else "NO")

    # All runs of the mlruns folder: mlscope with an empty cache, then reopening unchanged.
    warm_page_cache(mlruns)
    t = time.perf_counter()
    ml_runs = mlflow_all_runs(mlruns.as_uri())
    ml_s = time.perf_counter() - t
    ids = set(settle(ml_runs))
    before = tree_state(mlruns)

    def cold(i: int):
        os.environ["MLSCOPE_CACHE_DIR"] = str(cache_root / f"cold{i}")
        return read(mlruns, all_runs)

    cold_s, frame = best_of(args.repeat, cold)
    warm_s, warm = best_of(args.repeat, lambda i: read(mlruns, all_runs))
    report("inproc_mlruns_all_runs_mlflow", ml_s, "s")
    report("inproc_mlruns_all_runs_mlscope_cold", cold_s, "s", f"best of {args.repeat}")
    ratio("inproc_mlruns_all_runs_cold", ml_s, cold_s)
    report("inproc_mlruns_all_runs_mlscope_warm", warm_s, "s", f"best of {args.repeat}")
    ratio("inproc_mlruns_all_runs_warm", ml_s, warm_s)
    for name, f in (("mlruns_all_runs_cold", frame), ("mlruns_all_runs_warm", warm)):
        check(
            name,
            set(f["run_id"]) == ids and len(f) == len(ids),
            f"{len(f)} runs from mlscope, {len(ids)} from MLflow",
        )
    unchanged = tree_state(mlruns) == before
    report("mlruns_tree_unchanged_by_mlscope", "yes" if unchanged else "NO")

    # The same from the disk: the OS page cache is emptied before each turn (Linux, as root), as
    # when a store is opened for the first time since the machine started. Single runs.
    if drop_page_cache():
        t = time.perf_counter()
        mlflow_all_runs(mlruns.as_uri())
        ml_s = time.perf_counter() - t
        os.environ["MLSCOPE_CACHE_DIR"] = str(cache_root / "disk")
        timed = []
        for _first_open_then_reopen in range(2):
            drop_page_cache()
            t = time.perf_counter()
            disk = read(mlruns, all_runs)
            timed.append(time.perf_counter() - t)
            check("mlruns_from_disk", set(disk["run_id"]) == ids and len(disk) == len(ids))
        report("mlruns_from_disk_mlflow", ml_s, "s")
        report("mlruns_from_disk_mlscope_first_open", timed[0], "s")
        ratio("mlruns_from_disk_first_open", ml_s, timed[0])
        report("mlruns_from_disk_mlscope_reopen", timed[1], "s")
        ratio("mlruns_from_disk_reopen", ml_s, timed[1])
        warm_page_cache(mlruns)
        warm_page_cache(db)
    else:
        report("mlruns_from_disk", "skipped", note="emptying the page cache needs root on Linux")

    # One metric's full history for many runs (spread over all experiments).
    all_ids = sorted(ids)
    n = min(HISTORY_RUNS, len(all_ids))
    run_ids = all_ids[:: len(all_ids) // n][:n]
    for kind, target, uri, note in (
        ("sqlite", db, sql_uri, "fresh open included"),
        ("mlruns", mlruns, mlruns.as_uri(), "fresh open with warm run cache included"),
    ):
        name = f"{kind}_history_{n}_runs"
        loop_s, timed, points = mlflow_history_loop(uri, run_ids)
        ml_s = loop_s * n / timed
        scaled = f"timed {timed} runs, scaled x{n / timed:.3g}" if timed < n else ""
        ms_s, hist = best_of(
            args.repeat,
            lambda i, t=target: read(t, lambda s: s.metric_history(run_ids, [HISTORY_KEY])),
        )
        report(f"{name}_mlflow", ml_s, "s", ", ".join(x for x in ("in process", scaled) if x))
        report(f"{name}_mlscope", ms_s, "s", f"{note}, in process, best of {args.repeat}")
        ratio(name, ml_s, ms_s)
        check_history(name, hist, points)

    # Peak memory of building the all-runs table, each in a fresh process, no run cache.
    rss = {kind: peak_rss(target) for kind, target in (("sqlite", db), ("mlruns", mlruns))}
    for kind, r in rss.items():
        check(f"peak_rss_{kind}", r["rows"] == spec.n_runs, f"{r['rows']} rows")
        report(f"mlscope_peak_rss_{label}_runs_{kind}", r["main_kb"] / 1024, "MB")
        report(
            f"mlscope_peak_rss_{label}_runs_{kind}_with_workers",
            r["tree_kb"] / 1024,
            "MB",
            "sampled sum over the process tree",
        )
    report("mlscope_rss_after_import", rss["sqlite"]["import_kb"] / 1024, "MB")
    worst = max(max(r["main_kb"], r["tree_kb"]) for r in rss.values())
    report(f"mlscope_peak_rss_{label}_runs", worst / 1024, "MB")
    shutil.rmtree(cache_root, ignore_errors=True)


if __name__ == "__main__":
    main()
