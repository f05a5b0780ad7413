"""mlscope.core must import no Qt: tests, benchmarks and scripts use it without a screen."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "app" / "mlscope" / "core"
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")


def test_no_qt_import_statement_in_core():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in QT]
    assert offenders == []


def test_importing_and_using_core_loads_no_qt_module(built):
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from mlscope.core import open_store;"
        "s = open_store(sys.argv[2], cache=False); s.runs(view='all', filter_string='metrics.rmse > 0');"
        "s.metric_history(list(s.runs()['run_id']));"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT!r}]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(CORE.parent.parent), str(built["file"])],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_opening_an_mlruns_folder_needs_no_mlflow_env_var(built):
    """MLflow 3.13+ refuses mlruns folders without MLFLOW_ALLOW_FILE_STORE; mlscope does not."""
    env = {k: v for k, v in __import__("os").environ.items() if k != "MLFLOW_ALLOW_FILE_STORE"}
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from mlscope.core import open_store;"
        "print(len(open_store(sys.argv[2], cache=False).runs(view='all')))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(CORE.parent.parent), str(built["file"])],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) == 12  # build(): 11 runs + the edge values run
