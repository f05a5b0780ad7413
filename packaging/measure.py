"""Start time of the built bundle beside ``python -m mlscope``: ``python packaging/measure.py
STORE [--bundle dist/mlscope/mlscope] [--repeat 3] [--quick]``.

Each start runs ``--bench`` (Linux/macOS) (the app prints a wall-clock mark when its window is first
painted and when the store's runs are in the table, then quits); the figure is the median
over the repeats, from the process's launch. Prints ``name: value unit`` lines."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_start(cmd: list[str], store: str, env: dict) -> tuple[float, float, float]:
    """Seconds from launch to the first paint and to the runs shown, and the CPU seconds the
    whole start took (less sensitive than wall time to a busy machine)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    out = subprocess.run([*cmd, store, "--bench"], env=env, capture_output=True, text=True,
                         timeout=300).stdout
    marks = {}
    for line in out.splitlines():
        if line.startswith("mlscope-event "):
            _, name, *rest = line.split()
            marks[name] = float(rest[-1])
    if "painted" not in marks or "loaded" not in marks:
        raise SystemExit(f"{cmd[0]} did not load {store}:\n{out}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return marks["painted"] - t0, marks["loaded"] - t0, cpu


def bundle_env() -> dict:
    """No Python of the build on PATH, nothing pointing at it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not Path(p, "python").exists()
                                  and not Path(p, "python3").exists())
    return env


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store")
    p.add_argument("--bundle", default=str(ROOT / "dist" / "mlscope" / "mlscope"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="one start each")
    args = p.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        base = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        for name in ("CONFIG", "CACHE", "DATA"):
            base[f"MLSCOPE_{name}_DIR"] = str(Path(tmp) / name.lower())
        runs = {"bundle": ([args.bundle], {**bundle_env(), **{k: v for k, v in base.items()
                                                                if k.startswith(("MLSCOPE_",
                                                                                 "QT_"))}}),
                "python": ([sys.executable, "-m", "mlscope"], base)}
        for name, (cmd, env) in runs.items():
            one_start(cmd, args.store, env)  # warm: the page cache and mlscope's run cache
            got = [one_start(cmd, args.store, env) for _ in range(repeat)]
            print(f"{name}_start_to_window: {statistics.median(g[0] for g in got):.2f} s")
            print(f"{name}_start_to_runs: {statistics.median(g[1] for g in got):.2f} s")
            print(f"{name}_start_cpu: {statistics.median(g[2] for g in got):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
