"""100,000 runs: the store layer against MLflow's client, the runs table, the app, and memory.

    python benchmarks/bench_scale.py [--quick] [--processes N] [--mlflow-budget S] [--no-mlflow]

The store: 100,000 runs (--quick: 20,000) in 3 experiments, 10 params, 7 tags and 5 metrics
of 10 steps each, an ``mlflow.db`` whose schema MLflow creates (make_stores.ensure_sqlite,
validated by MLflow's client reading samples back), cached in benchmarks/_stores/. The mlruns
folder of that size (2.3 million files) is bench_scale_mlruns.py's.

Figures, one a line as ``name: value unit``, each with the load average when it was taken:

- all runs, the first call in a fresh process after its imports (bench_store.py's method):
  mlscope ``store.runs()`` (median of --processes) against ``mlflow.search_runs`` (one
  process, killed after --mlflow-budget seconds); both frames checked equal; each side's
  peak memory (the process's own high-water mark, from wait4);
- the runs table model, offscreen: load, sort by a metric, a param and the name, quick filter;
- the app: process start to painted window, store opened, first rows on screen (streamed
  while the rest is read), table filled (``python -m mlscope STORE --bench``), with its peak
  memory;
- memory over 20 open/close cycles of a 10,000-run store in one app: RSS after the first
  close and after the last (target: within 10%). The first cycle waits for the window's
  one-time import of MLflow's search parser (about 90 MB, 3 s after the first open), so
  that the figure shows what use holds on to, not that import.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "app"
sys.path[:0] = [str(APP), str(HERE)]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench_store import FIRST_CALL_SCRIPT, frames_equal, report, warm_page_cache  # noqa: E402
from make_stores import Spec, ensure_sqlite, restart_if_built  # noqa: E402

QUICK_RUNS = 20_000
SHAPE = dict(n_metrics=5, n_steps=10, n_params=10, n_experiments=3)
CYCLES, CYCLE_RUNS = 20, 10_000


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def measured(cmd: list[str], env: dict, timeout: float | None = None) -> dict:
    """Run cmd to its end: its stdout, wall seconds and own peak RSS (MB, from wait4), or
    ``timed_out`` when it ran past timeout seconds (then killed)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        deadline = None if timeout is None else t + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                return {"timed_out": True, "seconds": time.perf_counter() - t}
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if proc.returncode:
        raise SystemExit(f"{cmd[:2]}... failed ({proc.returncode}):\n{errors[-3000:]}")
    return {"stdout": text, "seconds": seconds, "peak_mb": usage.ru_maxrss / 1024}


def first_call(side: str, target: str, out: Path, env: dict, timeout=None) -> dict:
    cmd = [sys.executable, "-c", FIRST_CALL_SCRIPT, str(APP), side, target, str(out)]
    r = measured(cmd, env, timeout)
    if not r.get("timed_out"):
        r.update(json.loads(r["stdout"].strip().splitlines()[-1]))
    return r


def all_runs(db: Path, n: int, args, tmp: Path) -> None:
    env = {**os.environ, "MLSCOPE_CACHE_DIR": str(tmp / "cache")}
    warm_page_cache(db)
    ours = []
    for _ in range(args.processes):
        ours.append(first_call("mlscope", str(db), tmp / "mlscope.pkl", env))
        ours[-1]["load"] = load()
    secs = statistics.median(r["seconds"] for r in ours)
    note = f"first call in a fresh process, median of {len(ours)}, {ours[-1]['load']}"
    report(f"all_runs_{n}_mlscope", secs, "s", note)
    report(f"all_runs_{n}_mlscope_peak_rss", max(r["peak_mb"] for r in ours), "MB",
           "whole process, imports included")
    if args.no_mlflow:
        return
    ml = first_call("mlflow", f"sqlite:///{db}", tmp / "mlflow.pkl", env, args.mlflow_budget)
    if ml.get("timed_out"):
        report(f"all_runs_{n}_mlflow_search_runs", f"> {args.mlflow_budget:.0f}", "s",
               f"stopped at the budget, {load()}")
        report(f"all_runs_{n}_ratio", f"> {args.mlflow_budget / secs:.0f}", "x")
        return
    report(f"all_runs_{n}_mlflow_search_runs", ml["seconds"], "s",
           f"first call in a fresh process, one process, {load()}")
    report(f"all_runs_{n}_mlflow_peak_rss", ml["peak_mb"], "MB", "whole process")
    report(f"all_runs_{n}_ratio", ml["seconds"] / secs, "x")
    diff = frames_equal(tmp / "mlscope.pkl", tmp / "mlflow.pkl")
    report(f"all_runs_{n}_frames_equal", "yes" if not diff else "NO", note=diff)


TABLE_SCRIPT = """
import json, os, sys, time, resource
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from mlscope.core import open_store
from mlscope.ui.models import RunsModel

def rss_mb():
    with open("/proc/self/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS:")).split()[1]) / 1024

app = QApplication([])
with open_store(sys.argv[2]) as store:
    frame = store.runs(view="all")
out = {"frame_rss": rss_mb()}
m = RunsModel()
t = time.perf_counter()
m.set_frame(frame)
out["load"] = time.perf_counter() - t
out["model_rss"] = rss_mb() - out["frame_rss"]
m.set_columns(["status", "run_name", "start_time", "metrics.val_loss", "params.optimizer",
               "params.learning_rate"])
for key in ("metrics.val_loss", "params.learning_rate", "params.optimizer", "run_name"):
    col = m.visible_columns().index(key)
    t = time.perf_counter()
    m.sort(col, Qt.DescendingOrder)
    first = time.perf_counter() - t
    t = time.perf_counter()
    m.sort(col, Qt.AscendingOrder)
    out["sort " + key] = [first, time.perf_counter() - t]
for text in ("adamw", "adamw bright"):
    t = time.perf_counter()
    m.set_quick_filter(text)
    out["filter " + text] = [time.perf_counter() - t, m.shown_runs()]
m.set_quick_filter("")
out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def table(db: Path, n: int, tmp: Path) -> None:
    env = {**os.environ, "MLSCOPE_CACHE_DIR": str(tmp / "cache")}
    r = measured([sys.executable, "-c", TABLE_SCRIPT, str(APP), str(db)], env)
    out, ld = json.loads(r["stdout"].strip().splitlines()[-1]), load()
    report(f"table_{n}_model_load", out["load"], "s", ld)
    report(f"table_{n}_model_memory", out["model_rss"], "MB", "RSS added by the model")
    for k, v in out.items():
        if k.startswith("sort "):
            name = k.split()[1].replace(".", "_")
            report(f"table_{n}_sort_{name}_first", v[0], "s", f"key computed, {ld}")
            report(f"table_{n}_sort_{name}_again", v[1], "s", ld)
        elif k.startswith("filter "):
            words = k[7:].replace(" ", "_")
            report(f"table_{n}_quick_filter_{words}", v[0], "s", f"{v[1]} runs shown, {ld}")
    report(f"table_{n}_process_peak_rss", out["peak_rss"], "MB", "frame and model")


def app_env(tmp: Path, db: Path) -> dict:
    """The app's environment, with settings that open every experiment of db (as a user who
    had them all selected last time): the table holds all the store's active runs."""
    from mlscope.core import open_store
    from mlscope.core.secrets import redact

    with open_store(db) as store:
        ids = [str(e) for e in store.experiments()["experiment_id"]]
        settings = {"last_experiment": {redact(store.uri): ids}}
    config = tmp / "config"
    config.mkdir(exist_ok=True)
    (config / "settings.json").write_text(json.dumps(settings))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(APP),
           "MLSCOPE_CONFIG_DIR": str(config), "MLSCOPE_DATA_DIR": str(tmp / "data")}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


# ``python -m mlscope STORE --bench``, with one more mark: the first rows on screen while the
# rest is read (a page's runs model reset with rows while the page still loads).
APP_SCRIPT = """
import sys
from mlscope.ui import scripting

created = scripting.Finisher.page_created

def page_created(self, page):
    model = page.runs.model
    def shown():
        if model.total_runs() and page.is_loading() and not getattr(page, "_first_rows", 0):
            page._first_rows = model.total_runs()
            scripting.event(f"first_rows {model.total_runs()}")
    model.modelReset.connect(shown)
    created(self, page)

scripting.Finisher.page_created = page_created
from mlscope.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def app_startup(db: Path, n: int, args, tmp: Path) -> None:
    runs = []
    for i in range(args.processes):
        env = {**app_env(tmp, db), "MLSCOPE_CACHE_DIR": str(tmp / f"app-cache{i}")}
        t0 = time.time()
        r = measured([sys.executable, "-c", APP_SCRIPT, str(db), "--bench"], env, 600)
        ev = {"peak_mb": r["peak_mb"]}
        for line in r["stdout"].splitlines():
            if line.startswith("mlscope-event "):
                parts = line.split()
                ev[parts[1]] = float(parts[-1]) - t0
                if parts[1] in ("loaded", "first_rows"):
                    ev[parts[1] + "_rows"] = int(parts[2])
        runs.append(ev)
    note = f"median of {len(runs)} fresh processes, {load()}"
    med = {k: statistics.median(e[k] for e in runs) for k in ("painted", "opened", "loaded")}
    report(f"app_{n}_process_to_painted", med["painted"], "s", note)
    report(f"app_{n}_process_to_store_opened", med["opened"], "s", note)
    if all("first_rows" in e for e in runs):
        report(f"app_{n}_process_to_first_rows", statistics.median(e["first_rows"] for e in runs), "s",
               f"the newest {runs[0]['first_rows_rows']} runs on screen while the rest is read, {note}")
    report(f"app_{n}_process_to_table_filled", med["loaded"], "s",
           f"{runs[0]['loaded_rows']} runs in the table, {note}")
    report(f"app_{n}_peak_rss", max(e["peak_mb"] for e in runs), "MB", "the app's process")


CYCLE_SCRIPT = """
import gc, json, sys, threading, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from mlscope.ui.main_window import MainWindow
from mlscope.ui.settings import Settings

def rss_mb():
    with open("/proc/self/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS:")).split()[1]) / 1024

def settle(cond, limit=300):
    end = time.time() + limit
    while not cond():
        app.processEvents()
        time.sleep(0.005)
        if time.time() > end:
            return False
    return True

app = QApplication([])
w = MainWindow(Settings(Path(sys.argv[3])))
w.resize(1300, 800)
w.show()
rss = []
for i in range(int(sys.argv[4])):
    page = w.open_target(sys.argv[2])
    if not settle(lambda: page.loaded_once and not page.is_loading()):
        raise SystemExit("the store did not load")
    rows = page.runs.model.total_runs()
    if i == 0:  # the window imports MLflow's search parser 3 s after the first open: once
        settle(lambda: any(t.name == "mlscope-warm-up" for t in threading.enumerate()), 20)
        settle(lambda: not any(t.name == "mlscope-warm-up" for t in threading.enumerate()))
    w.close_tab(w.tabs.indexOf(page))
    del page
    for _ in range(5):
        app.processEvents()
        app.sendPostedEvents(None, QEvent.DeferredDelete)  # deleteLater, outside exec()
    gc.collect()
    rss.append(rss_mb())
print(json.dumps({"rss": rss, "rows": rows}))
"""


def cycles(tmp: Path) -> None:
    db = ensure_sqlite(Spec(n_runs=CYCLE_RUNS, **SHAPE))
    env = {**app_env(tmp, db), "MLSCOPE_CACHE_DIR": str(tmp / "cycle-cache")}
    cmd = [sys.executable, "-c", CYCLE_SCRIPT, str(APP), str(db),
           str(tmp / "config" / "settings.json"), str(CYCLES)]
    r = measured(cmd, env)
    out = json.loads(r["stdout"].strip().splitlines()[-1])
    rss, ld = out["rss"], load()
    growth = (rss[-1] - rss[0]) / rss[0] * 100
    note = f"{out['rows']} runs a time, RSS after each close, {ld}"
    report(f"cycles_{CYCLES}_rss_after_first_close", rss[0], "MB", note)
    report(f"cycles_{CYCLES}_rss_after_last_close", rss[-1], "MB", note)
    report(f"cycles_{CYCLES}_rss_growth", growth, "%",
           "target <= 10%: " + ("met" if growth <= 10 else "NOT MET"))
    report(f"cycles_{CYCLES}_rss_each", " ".join(f"{x:.0f}" for x in rss), "MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes a figure")
    parser.add_argument("--mlflow-budget", type=float, default=300.0,
                        help="seconds before MLflow's search_runs is stopped")
    parser.add_argument("--no-mlflow", action="store_true", help="mlscope's figures only")
    parser.add_argument("--only", default="runs,table,app,cycles",
                        help="comma-separated parts to run (runs,table,app,cycles)")
    args = parser.parse_args()
    n = QUICK_RUNS if args.quick else 100_000
    t = time.perf_counter()
    db = ensure_sqlite(Spec(n_runs=n, **SHAPE))
    parts = set(args.only.split(","))
    if "cycles" in parts:
        ensure_sqlite(Spec(n_runs=CYCLE_RUNS, **SHAPE))
    restart_if_built()
    print(f"store ready in {time.perf_counter() - t:.1f} s: {db}", file=sys.stderr)
    report("store_runs", n, "runs", "3 experiments, 10 params, 7 tags, 5 metrics x 10 steps")
    with tempfile.TemporaryDirectory(prefix="mlscope-bench-scale-") as tmp:
        tmp = Path(tmp)
        if "runs" in parts:
            all_runs(db, n, args, tmp)
        if "table" in parts:
            table(db, n, tmp)
        if "app" in parts:
            app_startup(db, n, args, tmp)
        if "cycles" in parts:
            cycles(tmp)


if __name__ == "__main__":
    main()
