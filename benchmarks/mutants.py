"""Mutation testing as a habit: small deliberate bugs, one at a time, and the tests that must
catch each. A mutant that survives is a promise no test keeps.

Each mutant is a source-text replacement in a temporary copy of the project (app/, tests/,
pyproject.toml); its narrow test selection runs there with ``-x`` (the copy's conftest puts
the copy's app/ first on sys.path), and one line per mutant is printed:
``mutant NAME: killed|survived (s)``. A replacement that no longer matches the source is
reported as ``stale`` (the code moved: update the list).

    python benchmarks/mutants.py [--only NAME[,NAME]] [--list]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (name, file under app/mlscope, old text, new text, pytest arguments)
MUTANTS = [
    ("sqlite opened read-write", "core/sqlstore.py",
     'target, mode = path, "ro"', 'target, mode = path, "rw"',
     ["tests/core/test_read_only.py", "-k", "sqlite"]),
    ("cache signature ignores size and mtime", "core/mlruns.py",
     "return (st.st_mtime_ns, st.st_size)", "return (0, 0)",
     ["tests/core/test_run_cache.py"]),
    ("run cache never used", "core/filestore.py",
     "        if not self.use_cache:\n            return {}", "        if True:\n            return {}",
     ["tests/core/test_run_cache.py"]),
    ("param values stripped", "core/mlruns.py",
     'return RunRecord(info, latest, _texts(run_dir, "params", params, problems),',
     'return RunRecord(info, latest, [(k, v.strip()) for k, v in _texts(run_dir, "params", params, problems)],',
     ["tests/core/test_compat.py", "-k", "edge_values and file"]),
    ("experiment times swapped", "core/filestore.py",
     '"creation_time": meta.get("creation_time"),\n                    "last_update_time": meta.get("last_update_time"),',
     '"creation_time": meta.get("last_update_time"),\n                    "last_update_time": meta.get("creation_time"),',
     ["tests/core/test_compat.py", "-k", "experiments_equal and file"]),
    ("experiment tags dropped", "core/filestore.py",
     'row["tags." + key] = read_text(path, problems)', "pass",
     ["tests/core/test_compat.py", "-k", "experiments_equal and file"]),
    ("detail min and max swapped", "ui/views/detail.py",
     "lo, hi, n = self._stats.get(key, (None, None, None))",
     "hi, lo, n = self._stats.get(key, (None, None, None))",
     ["tests/ui/test_app.py", "-k", "metric_min_max"]),
    ("numeric sort reversed", "ui/models/runs.py",
     "np.argsort(values if asc else -values,", "np.argsort(-values if asc else values,",
     ["tests/ui/test_models.py", "tests/ui/test_app.py", "-k", "sort"]),
    ("SQL values rounded to float32", "core/sqlstore.py",
     'value = pd.to_numeric(frame["value"], errors="coerce").astype("float64").to_numpy()',
     'value = pd.to_numeric(frame["value"], errors="coerce").astype("float32").astype("float64").to_numpy()',
     ["tests/core/test_compat.py", "-k", "all_runs and sqlite and all"]),
    ("latest metric = last line written", "core/mlruns.py",
     "if steps[-1] == top and steps.count(top) == 1:", "if True:",
     ["tests/core/test_compat.py", "-k", "all_runs and file and all"]),
    ("deleted runs in the active view", "core/store.py",
     '    if view == "all":\n        return frame', '    if True:\n        return frame',
     ["tests/core/test_compat.py", "-k", "all_runs and file and active"]),
    ("NaN metric read as 0", "core/sqlstore.py",
     "value = np.where(is_nan, np.nan, value)", "value = np.where(is_nan, 0.0, value)",
     ["tests/core/test_compat.py", "-k", "all_runs and sqlite and all"]),
]


def copy_project(dst: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")
    shutil.copytree(ROOT / "app", dst / "app", ignore=ignore)
    shutil.copytree(ROOT / "tests", dst / "tests", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")


def run_mutant(work: Path, name: str, rel: str, old: str, new: str, args: list) -> str:
    path = work / "app" / "mlscope" / rel
    original = path.read_text(encoding="utf-8")
    if original.count(old) != 1:
        return "stale"
    path.write_text(original.replace(old, new), encoding="utf-8")
    try:
        env = {**os.environ, "PYTHONPATH": str(work / "app"), "CI": ""}
        cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args]
        out = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=1800)
        if out.returncode == 5:
            return "no tests selected"
        if out.returncode not in (0, 1):  # 2-4: interrupted, internal or usage error
            return f"error (pytest exit {out.returncode}): {out.stdout.strip().splitlines()[-1:]}"
        return "survived" if out.returncode == 0 else "killed"
    finally:
        path.write_text(original, encoding="utf-8")


def main() -> None:
    if "--list" in sys.argv:
        for m in MUTANTS:
            print(m[0])
        return
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    with tempfile.TemporaryDirectory(prefix="mlscope-mutants-") as tmp:
        work = Path(tmp)
        copy_project(work)
        check = subprocess.run(
            [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import mlscope; "
             "print(mlscope.__file__)", str(work / "app")], capture_output=True, text=True)
        assert check.stdout.strip().startswith(str(work)), check.stdout + check.stderr
        rows = []
        for name, rel, old, new, args in MUTANTS:
            if only and name not in only:
                continue
            t = time.perf_counter()
            result = run_mutant(work, name, rel, old, new, args)
            rows.append((name, result, " ".join(args)))
            print(f"{name}: {result} ({time.perf_counter() - t:.0f} s)", flush=True)
        print("\n| deliberate bug | result | tests run |\n|---|---|---|")
        for name, result, args in rows:
            print(f"| {name} | {result} | `{args}` |")


if __name__ == "__main__":
    main()
