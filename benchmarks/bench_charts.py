"""Chart panel timings, rendered offscreen: one ``name: value unit`` per line.

    python benchmarks/bench_charts.py [--quick]

- pan/zoom frame time with 100 runs x 100,000 points (target <= 150 ms),
- chart ready for 1,000 runs x 1,000 points (target <= 1.5 s),
- val_loss of 100 and 1,000 runs of the 10,000-run SQLite store, store read included:
  ``open_store``, ``runs()`` and ``metric_history`` on a freshly opened store are timed with
  the drawing (targets 1 s and 2 s), when ``benchmarks/make_stores.py`` and the store layer exist.

A "frame" is a view change and the event loop turn that follows it: the decimation of
every run for the new window, the path building and the repaint of the shown window. ``--quick`` shrinks the sizes
(and says so in the names) for a smoke run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mlscope.ui.views.charts import ChartPanel  # noqa: E402


def synthetic(n_runs: int, n_points: int, seed: int = 0) -> pd.DataFrame:
    """Noisy decaying losses with a few spikes, one metric, like a real sweep."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n_points, dtype=np.int64)
    decay = np.exp(-steps / (n_points / 4))
    values = (decay[None, :] * rng.uniform(1, 3, (n_runs, 1))
              + rng.normal(0, 0.05, (n_runs, n_points)))
    values[rng.integers(0, n_runs, 5), rng.integers(0, n_points, 5)] = 10.0
    return pd.DataFrame({
        "run_id": np.repeat([f"run{i:05d}" for i in range(n_runs)], n_points).astype(object),
        "key": "loss",
        "step": np.tile(steps, n_runs),
        "timestamp": 1_700_000_000_000 + np.tile(steps, n_runs) * 1000,
        "value": values.ravel(),
    })


def make_panel(app: QApplication) -> ChartPanel:
    panel = ChartPanel()
    panel.resize(1400, 900)
    panel.show()
    app.processEvents()
    return panel


def show(app: QApplication, panel: ChartPanel, frame: pd.DataFrame) -> None:
    ids = frame["run_id"].unique().tolist()
    panel.set_runs(ids, {r: r for r in ids})
    panel.set_history(frame, ids, None)
    app.processEvents()
    panel.grab()


def pan_zoom(app, n_runs: int, n_points: int, frames: int) -> float:
    panel = make_panel(app)
    show(app, panel, synthetic(n_runs, n_points))
    vb = panel.charts[0].vb
    times = []
    rng = np.random.default_rng(1)
    for i in range(frames):
        if i % 3 == 0:  # zoom out to everything, then in to a random window, then pan
            x0, x1 = 0, n_points
        elif i % 3 == 1:
            width = n_points / 10 ** rng.uniform(0.3, 3)
            x0 = rng.uniform(0, n_points - width)
            x1 = x0 + width
        else:
            x0, x1 = x0 + (x1 - x0) / 3, x1 + (x1 - x0) / 3
        t = time.perf_counter()
        vb.setXRange(x0, x1, padding=0)
        app.processEvents()  # runs the level-of-detail update, then repaints the window
        times.append(time.perf_counter() - t)
    assert not panel.grab().toImage().isNull()
    panel.close()
    return statistics.median(times) * 1000, max(times) * 1000


def ready(app, n_runs: int, n_points: int) -> float:
    frame = synthetic(n_runs, n_points)
    panel = make_panel(app)
    t = time.perf_counter()
    show(app, panel, frame)
    elapsed = time.perf_counter() - t
    panel.close()
    return elapsed


def store_figures(app, quick: bool) -> None:
    try:
        from make_stores import QUICK_RUNS, Spec, ensure_stores
        from mlscope.core import open_store
    except ImportError as exc:
        print(f"# store figures skipped: {exc}")
        return
    spec = Spec(n_runs=QUICK_RUNS) if quick else Spec()
    _mlruns, db = ensure_stores(spec)
    store = open_store(str(db))
    runs = store.runs()
    names = dict(zip(runs["run_id"], runs.get("tags.mlflow.runName", runs["run_id"]),
                     strict=True))
    panel = make_panel(app)
    panel.set_params(runs)
    for n in (100, 1000):
        if n > len(runs):
            print(f"# val_loss_{n}_runs skipped: the store has {len(runs)} runs")
            continue
        ids = list(runs["run_id"][:n])
        panel.set_runs([], {})
        app.processEvents()
        # "Store read included": opening the store, its runs table and the history are timed.
        t = time.perf_counter()
        with open_store(str(db)) as fresh:
            fresh.runs()
            frame = fresh.metric_history(ids, ["val_loss"])
        panel.set_runs(ids, names)
        panel.set_history(frame, ids, ["val_loss"])
        app.processEvents()
        panel.grab()
        elapsed = time.perf_counter() - t
        size = f"{spec.n_runs // 1000}k" if spec.n_runs >= 1000 else str(spec.n_runs)
        print(f"sqlite_{size}_val_loss_{n}_runs_drawn: {elapsed:.2f} s")
    panel.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    if args.quick:
        median, worst = pan_zoom(app, 20, 100_000, 9)
        print(f"pan_zoom_frame_20x100k_median: {median:.0f} ms")
        print(f"ready_200x1k: {ready(app, 200, 1000):.2f} s")
    else:
        median, worst = pan_zoom(app, 100, 100_000, 30)
        print(f"pan_zoom_frame_100x100k_median: {median:.0f} ms")
        print(f"pan_zoom_frame_100x100k_worst: {worst:.0f} ms")
        print(f"ready_1000x1k: {ready(app, 1000, 1000):.2f} s")
    store_figures(app, args.quick)


if __name__ == "__main__":
    main()
