"""A user's script without a main guard runs once, though mlscope reads in worker processes."""

import os
import shutil
import subprocess
import sys
import textwrap
import uuid

from conftest import ROOT
from mlscope.core import mlruns


def big_store(built, dst, runs: int):
    """An mlruns folder of ``runs`` runs: one experiment, copies of a run MLflow wrote (new ids)."""
    src_run = next(built["file"].glob(f"*/{built['ids']['parent']}"))
    exp = dst / src_run.parent.name
    exp.mkdir(parents=True)
    shutil.copy(src_run.parent / "meta.yaml", exp / "meta.yaml")
    meta = (src_run / "meta.yaml").read_text()
    for _ in range(runs):
        run_id = uuid.uuid4().hex
        shutil.copytree(src_run, exp / run_id, ignore=shutil.ignore_patterns("artifacts"))
        (exp / run_id / "meta.yaml").write_text(meta.replace(src_run.name, run_id))
    return dst


def test_an_unguarded_script_runs_once(built, tmp_path):
    store = big_store(built, tmp_path / "mlruns", mlruns.PARALLEL_MIN)  # enough for the reader pool
    script = tmp_path / "count_runs.py"
    script.write_text(textwrap.dedent(f"""\
        import sys
        print("BODY RAN", flush=True)
        sys.path.insert(0, {str(ROOT / "app")!r})
        from mlscope.core import mlruns, open_store
        runs = open_store({str(store)!r}).runs()
        print("RUNS", len(runs), "POOL", bool(mlruns._POOL), flush=True)
        """))
    env = {**os.environ, "MLSCOPE_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("BODY RAN") == 1, done.stdout
    assert f"RUNS {mlruns.PARALLEL_MIN} POOL True" in done.stdout  # read by the reader processes
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr[-3000:]
