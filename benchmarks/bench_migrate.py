"""File > Migrate to SQLite on a generated mlruns folder: mlscope's whole path against MLflow's
own migration alone.

    python benchmarks/bench_migrate.py [--quick]

The folder: 1,000 runs (--quick: 100) of make_stores.py's shape (3 experiments, 3 metrics x
100 steps, 12 params, 7 tags), written in MLflow's file format and cached in
benchmarks/_stores/. Each side migrates it into a new SQLite file in a fresh process:

- MLflow: ``mlflow.store.fs2db.migrate(folder, uri)``, what ``mlflow migrate-filestore`` runs;
- mlscope: ``mlscope.core.migrate.migrate(folder, target)``: the plan (repairs looked for),
  MLflow's migration in a child process into a hidden file, the rename, and both stores read
  back by mlscope's store layer and counted side by side (the dialog's report).

Printed as ``name: value unit`` lines, with the counts and whether they agree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "app"
sys.path[:0] = [str(APP), str(HERE)]

from bench_store import report, warm_page_cache  # noqa: E402
from make_stores import Spec, ensure_mlruns  # noqa: E402

QUICK_RUNS, FULL_RUNS = 100, 1_000

MLFLOW_SCRIPT = """
import json, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from mlflow.store.fs2db import migrate
t = time.perf_counter()
migrate(Path(sys.argv[1]), "sqlite:///" + sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - t}))
"""

MLSCOPE_SCRIPT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from mlscope.core import migrate as m
t = time.perf_counter()
p = m.plan(sys.argv[2], sys.argv[3])
planned = time.perf_counter()
m.run_migration(p)
migrated = time.perf_counter()
counts = m.verify(p)
done = time.perf_counter()
print(json.dumps({"plan": planned - t, "migration": migrated - planned, "verify": done - migrated,
                  "seconds": done - t, "counts": [[c.what, c.source, c.target] for c in counts]}))
"""


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def run(cmd: list[str]) -> dict:
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"{cmd[:3]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs")
    parser.add_argument("--no-mlflow", action="store_true",
                        help="mlscope's path only (MLflow's migration alone takes as long again)")
    args = parser.parse_args()
    n = QUICK_RUNS if args.quick else FULL_RUNS
    spec = Spec(n_runs=n)
    mlruns = ensure_mlruns(spec)
    report("store_runs", n, "runs", f"{spec.n_experiments} experiments, {spec.n_metrics} metrics "
           f"x {spec.n_steps} steps, {spec.n_params} params, {spec.n_tags} tags")
    warm_page_cache(mlruns)  # both sides read from RAM
    with tempfile.TemporaryDirectory(prefix="mlscope-bench-migrate-") as tmp:
        tmp = Path(tmp)
        if not args.no_mlflow:
            ml = run([sys.executable, "-c", MLFLOW_SCRIPT, str(mlruns), str(tmp / "mlflow.db")])
            report(f"migrate_{n}_mlflow_fs2db", ml["seconds"], "s",
                   f"MLflow's migration alone, after its imports, {load()}")
        (tmp / "mlscope").mkdir()
        t = time.perf_counter()
        ours = run([sys.executable, "-c", MLSCOPE_SCRIPT, str(APP), str(mlruns),
                    str(tmp / "mlscope" / "mlflow.db")])
        wall = time.perf_counter() - t
        note = load()
        report(f"migrate_{n}_mlscope_plan", ours["plan"], "s", note)
        report(f"migrate_{n}_mlscope_migration", ours["migration"], "s",
               f"MLflow's migration in a child process (its imports included), {note}")
        report(f"migrate_{n}_mlscope_verify", ours["verify"], "s",
               f"both stores read and counted by mlscope, {note}")
        report(f"migrate_{n}_mlscope_total", ours["seconds"], "s", note)
        report(f"migrate_{n}_mlscope_process", wall, "s", "the whole process, its imports included")
        for what, source, target in ours["counts"]:
            report(f"count {what}", f"{source} -> {target}", "",
                   "same" if source == target else "DIFFERENT")
        report(f"migrate_{n}_counts_agree",
               "yes" if all(s == t for _, s, t in ours["counts"]) else "NO")


if __name__ == "__main__":
    main()
