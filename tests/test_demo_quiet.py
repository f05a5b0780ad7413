"""Building the demo store prints what it made and nothing of MLflow's bookkeeping."""

from __future__ import annotations

import subprocess
import sys


def test_demo_build_prints_no_mlflow_info_lines(tmp_path):
    folder = tmp_path / "demo"
    done = subprocess.run([sys.executable, "-m", "mlscope.demo", str(folder)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = (done.stdout + done.stderr).strip().splitlines()
    assert not [line for line in out if " INFO " in line or "alembic" in line], out
    assert (folder / "mlflow.db").is_file()
    assert len(out) == 1 and "mlflow.db" in out[0], out
