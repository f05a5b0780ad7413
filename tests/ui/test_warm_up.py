"""The window imports the store layer after its first paint, never before, never MLflow.

In a fresh process (this one has imported everything already)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, time
from PySide6.QtWidgets import QApplication
from mlscope.ui.main_window import MainWindow

app = QApplication([])
window = MainWindow()
at_paint = []
window.firstPainted.connect(lambda: at_paint.append("sqlalchemy" in sys.modules))
window.show()
deadline = time.monotonic() + 60
while not window.warm_up.done.is_set() and time.monotonic() < deadline:
    app.processEvents()
    window.warm_up.done.wait(0.01)
print("before-paint", at_paint, "imported", ",".join(window.warm_up.imported),
      "sqlalchemy", "sqlalchemy" in sys.modules, "adbc", "adbc_driver_sqlite" in sys.modules,
      "mlflow", "mlflow" in sys.modules, flush=True)
window.close()
"""


def test_store_layer_imported_after_first_paint_without_mlflow(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT / "app"),
               MLSCOPE_CONFIG_DIR=str(tmp_path / "config"), MLSCOPE_DATA_DIR=str(tmp_path / "data"))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip().splitlines()[-1]
    assert "before-paint [False]" in line  # the first paint waited for none of it
    assert "mlscope.core.sqlstore" in line and "mlscope.core.filestore" in line
    assert "sqlalchemy True" in line and "adbc True" in line
    assert "mlflow False" in line
