"""Time Compare against MLflow's client fetching the same runs, side by side.

    python benchmarks/bench_compare.py [--quick] [--repeat N] [--store sqlite|mlruns|both]

Uses the generated stores of make_stores.py with 50 params a run (10,000 runs; --quick:
300), built once and cached in benchmarks/_stores/. For 100 and 1,000 runs of the store:

- MLflow: ``MlflowClient.get_run`` for each run, as the web UI's compare page fetches them
  (past 15 s the loop stops and its time is scaled to all the runs);
- mlscope: from "Compare" (the table's selection handed to the controller, the store open
  and its runs table loaded, as in the app) to the diff table and the parallel-coordinates
  plot painted (offscreen), best of --repeat; and the core diff alone;
- a brushing drag on a parallel-coordinates axis over 1,000 runs: one step re-filters and
  repaints the plot (median of the steps of a drag; the first step, which also draws the
  faint layer of the lines the brush leaves out, on its own line).

The parallel coordinates show their default axes: every differing param (50) and the
differing metrics, a window of them as wide as the plot allows at 76 px an axis.

Prints one figure a line as ``name: value unit``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "app"
sys.path.insert(0, str(APP))
sys.path.insert(0, str(HERE))
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench_store import report, warm_page_cache  # noqa: E402
from make_stores import QUICK_RUNS  # noqa: E402

N_PARAMS = 50
SIZES = (100, 1_000)
LOOP_MIN_RUNS, LOOP_BUDGET_S = 50, 15.0
BRUSH_STEPS = 20


def stores(quick: bool) -> tuple[Path, Path]:
    """The cached stores, built (once) in another process so no MLflow store is open here."""
    runs = "QUICK_RUNS" if quick else "10_000"
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
            "from make_stores import Spec, ensure_stores, QUICK_RUNS\n"
            f"m, d = ensure_stores(Spec(n_runs={runs}, n_params={N_PARAMS}))\n"
            "print(m); print(d)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    return Path(out[-2]), Path(out[-1])


def mlflow_get_runs(uri: str, run_ids: list[str]) -> tuple[float, int, dict]:
    """Seconds for get_run of each run (scaled past the budget), runs timed, their params."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    client.get_run(run_ids[0])  # the client opens its store outside the timing
    params = {}
    t = time.perf_counter()
    for rid in run_ids:
        params[rid] = client.get_run(rid).data.params
        if len(params) >= LOOP_MIN_RUNS and time.perf_counter() - t >= LOOP_BUDGET_S:
            break
    elapsed = time.perf_counter() - t
    return elapsed * len(run_ids) / len(params), len(params), params


def wait_for(signal, timeout_s: float = 120.0):
    from PySide6.QtCore import QEventLoop, QTimer

    got = []
    loop = QEventLoop()
    signal.connect(lambda *a: (got.append(a), loop.quit()))
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    if not got:
        raise TimeoutError("no answer from the compare worker")
    return got[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs")
    parser.add_argument("--repeat", type=int, default=3, help="mlscope timings: best of N")
    parser.add_argument("--store", choices=("sqlite", "mlruns", "both"), default="both")
    args = parser.parse_args()
    t = time.perf_counter()
    mlruns, db = stores(args.quick)
    print(f"stores ready in {time.perf_counter() - t:.1f} s: {mlruns}, {db}", file=sys.stderr)

    import mlflow
    import mlflow.store.tracking.file_store
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401
    from PySide6.QtWidgets import QApplication

    from mlscope.core import compare as cmp
    from mlscope.core import open_store
    from mlscope.ui.colors import RunColors
    from mlscope.ui.controllers.compare import CompareController
    from mlscope.ui.tasks import Tasks

    app = QApplication.instance() or QApplication([])
    report("mlflow_version", mlflow.__version__)
    report("load_average", f"{os.getloadavg()[0]:.1f}", "", f"{os.cpu_count()} CPUs: wall "
           "times stretch when the machine is shared; the CPU times less so")
    targets = {"sqlite": (db, f"sqlite:///{db}"), "mlruns": (mlruns, mlruns.as_uri())}
    for kind in ("sqlite", "mlruns") if args.store == "both" else (args.store,):
        target, uri = targets[kind]
        warm_page_cache(target)
        store = open_store(target)
        frame = store.runs(attributes=True)  # the runs table the user selects from
        report(f"{kind}_store_runs", len(frame), "runs", f"{N_PARAMS} params a run")
        tasks = Tasks()
        ctl = CompareController(tasks)
        ctl.set_colors(RunColors())
        ctl.set_store(store)
        ctl.set_frame(frame)
        view = ctl.view
        view.resize(1400, 900)
        view.show()
        ctl.activate()
        pc = view.show_plot("parallel")
        view.tabs.setCurrentIndex(0)
        app.processEvents()
        for n in SIZES:
            ids = frame["run_id"].tolist()[:n]
            if len(ids) < n:
                continue
            gc.collect()
            ml_s, timed, ml_params = mlflow_get_runs(uri, ids)
            note = f"{timed} of {n} timed, scaled" if timed < n else ""
            report(f"{kind}_compare_{n}_mlflow_get_run", ml_s, "s", note)

            exps = frame["experiment_id"].unique().tolist()
            best_core = float("inf")
            for _ in range(args.repeat):
                t = time.perf_counter()
                src, _ = cmp.gather(store, ids, exps)
                comp = cmp.compare([src])
                best_core = min(best_core, time.perf_counter() - t)
            best = cpu = float("inf")
            for _ in range(args.repeat):
                ctl.set_runs([])
                app.processEvents()
                t, c = time.perf_counter(), time.process_time()
                ctl.set_runs(ids)
                comp = wait_for(ctl.compared)
                view.table.grab()  # the diff table painted
                pc.plot.grab()  # the parallel coordinates painted
                if time.perf_counter() - t < best:
                    best, cpu = time.perf_counter() - t, time.process_time() - c
            rows = int((comp.section == "params").sum())
            report(f"{kind}_compare_{n}_core", best_core, "s", f"{n} runs x {rows} params")
            report(f"{kind}_compare_{n}_mlscope", best, "s",
                   f"table + parallel coordinates painted ({len(pc.axes)} axes, "
                   f"{pc.shown} in view)")
            report(f"{kind}_compare_{n}_mlscope_cpu", cpu, "s", "CPU time of all threads")
            report(f"{kind}_compare_{n}_ratio", ml_s / best, "x")
            # mlscope compared what MLflow fetched
            lr = comp.row_index("params", "learning_rate")
            same = all(comp.text[lr, j] == ml_params[c.run_id].get("learning_rate")
                       for j, c in enumerate(comp.columns) if c.run_id in ml_params)
            if not same:
                report(f"{kind}_compare_{n}_check", "MISMATCH", note="params differ from MLflow's")
            if n == max(SIZES):
                steps, cpus = [], []
                for k in range(BRUSH_STEPS):
                    t, c = time.perf_counter(), time.process_time()
                    pc.brush_axis(0, 0.9, 0.9 - 0.04 * (k + 1), final=False)
                    pc.plot.grab()
                    steps.append(time.perf_counter() - t)
                    cpus.append(time.process_time() - c)
                t = time.perf_counter()
                pc.brush_axis(0, 0.9, 0.1, final=True)  # the release: the table's selection
                release = time.perf_counter() - t
                report(f"{kind}_brush_{n}_step", statistics.median(steps) * 1000, "ms",
                       f"median of {BRUSH_STEPS} drag steps, re-filter + repaint")
                report(f"{kind}_brush_{n}_step_cpu", statistics.median(cpus) * 1000, "ms")
                report(f"{kind}_brush_{n}_first_step", steps[0] * 1000, "ms",
                       "the faint layer drawn once")
                report(f"{kind}_brush_{n}_release", release * 1000, "ms",
                       f"{len(pc.selected_runs())} runs selected")
                pc.clear_brushes()
        tasks.cancel_all()
        view.close()
        store.close()


if __name__ == "__main__":
    main()
