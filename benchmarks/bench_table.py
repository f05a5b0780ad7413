"""The runs table on 100,000 rows: model load, each sort, and the whole widget's header clicks.

Time limits used to be asserted in tests (tests/ui/test_models.py, tests/ui/test_app.py); they
live here, where a loaded machine gives a slow figure rather than a failed test.

    python benchmarks/bench_table.py [--quick]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "app"), str(ROOT / "tests" / "ui"), str(ROOT / "tests")]


def main() -> None:
    quick = "--quick" in sys.argv
    n = 20_000 if quick else 100_000
    repeats = 1 if quick else 3
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication
    from test_models import frame

    from mlscope.ui.models import RunsModel
    from mlscope.ui.views.runs import RunsPanel

    app = QApplication.instance() or QApplication([])
    big = frame(n, seed=1)
    print(f"rows: {n:,} runs (median of {repeats})")
    loads, sorts = [], {}
    for _ in range(repeats):
        m = RunsModel()
        t = time.perf_counter()
        m.set_frame(big)
        loads.append(time.perf_counter() - t)
        m.set_columns(["status", "run_name", "metrics.rmse", "params.alpha", "params.model"])
        for key in ("metrics.rmse", "params.alpha", "params.model", "run_name"):
            for order, word in ((Qt.AscendingOrder, "asc"), (Qt.DescendingOrder, "desc")):
                t = time.perf_counter()
                m.sort(m.visible_columns().index(key), order)
                sorts.setdefault(f"{key} {word}", []).append(time.perf_counter() - t)
    print(f"model load: {statistics.median(loads):.3f} s")
    for name, times in sorts.items():
        print(f"model sort {name}: {statistics.median(times):.3f} s")
    panel = RunsPanel()
    panel.resize(1200, 700)
    panel.show()
    t = time.perf_counter()
    panel.set_runs(big, {"1": "exp"}, ["run_name", "status", "start_time", "metrics.rmse",
                                      "params.alpha", "params.model"])
    app.processEvents()
    print(f"widget load and paint: {time.perf_counter() - t:.3f} s")
    for col in (3, 4, 5, 0):
        t = time.perf_counter()
        panel.view.sortByColumn(col, Qt.AscendingOrder)
        app.processEvents()
        print(f"widget sort column {col}: {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
