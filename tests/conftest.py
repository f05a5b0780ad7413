"""Shared test setup: offscreen Qt, and mlscope's own folders in a temp dir per session."""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# MLflow's client is the reference in tests; 3.13+ needs this to read mlruns folders.
# mlscope itself never needs it (tests/core/test_no_mlflow_env.py proves that).
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
_tmp = Path(tempfile.mkdtemp(prefix="mlscope-tests-"))
for name in ("CONFIG", "CACHE", "DATA"):
    os.environ[f"MLSCOPE_{name}_DIR"] = str(_tmp / name.lower())

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "app"))
CORPUS = ROOT.parent / "shared" / "corpus"
