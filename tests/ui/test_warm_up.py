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


def test_search_parser_warms_up_after_the_first_table_not_during_its_read(window, built, qtbot,
                                                                         monkeypatch):
    """MLflow's import holds the GIL for seconds: it waits for the first read to end."""
    from mlscope.ui import main_window

    at_start = []  # (still reading, runs in the table) when the warm-up began
    page = None
    monkeypatch.setattr(main_window, "WARM_UP_DELAY_MS", 0)
    monkeypatch.setattr(main_window, "_warm_up_search", lambda: at_start.append(
        (page.is_loading(), page.runs.model.total_runs())))
    page = window.open_target(str(built["sqlite"]), "alpha")
    qtbot.waitUntil(lambda: bool(at_start), timeout=60_000)
    assert at_start == [(False, page.runs.model.total_runs())] and at_start[0][1] > 0
    page.reload()  # once a session
    qtbot.waitUntil(lambda: page.loaded_once and not page.is_loading(), timeout=60_000)
    qtbot.wait(50)
    assert len(at_start) == 1
