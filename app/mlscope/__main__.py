"""``mlscope [TARGET]``: open a window on an MLflow store.

Imports are kept lazy: ``--version`` and ``--help`` never load Qt, and nothing on the way
to the first window imports mlflow (it costs seconds).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

T0 = time.time()

EPILOG = """\
TARGET is anything MLflow users have: an mlruns folder (or a folder inside one: that
experiment or run is selected), a project folder holding mlruns/ or mlflow.db, an SQLite
file, a SQLAlchemy URL (sqlite:///..., postgresql://...) or a tracking server URL.
Without TARGET: $MLFLOW_TRACKING_URI, else ./mlflow.db or ./mlruns, else a welcome page.
"""


def parse_args(argv=None) -> argparse.Namespace:
    from mlscope import __version__

    p = argparse.ArgumentParser(
        prog="mlscope", description="A fast, read-only desktop browser for MLflow tracking stores.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", nargs="?", metavar="TARGET", help="store to open (see below)")
    p.add_argument("--demo", action="store_true",
                   help="open the demo store (built once with MLflow's client, then reused)")
    p.add_argument("--experiment", metavar="NAME_OR_ID", help="experiment to select first")
    p.add_argument("--screenshot", metavar="FILE.png", type=Path,
                   help="load, render the window to FILE.png and exit")
    p.add_argument("--size", default="1440x900", metavar="WxH",
                   help="window size for --screenshot (default 1440x900)")
    p.add_argument("--version", action="version", version=f"mlscope {__version__}")
    # For the README screenshots and the startup benchmark; not part of the user interface.
    p.add_argument("--select", help=argparse.SUPPRESS)
    p.add_argument("--tab", help=argparse.SUPPRESS)
    p.add_argument("--filter", help=argparse.SUPPRESS)
    p.add_argument("--metrics", help=argparse.SUPPRESS)
    p.add_argument("--bench", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def default_target(cwd: Path | None = None) -> str | None:
    """What MLflow itself would use here: the tracking URI, else ./mlflow.db, else ./mlruns."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if uri:
        return uri
    cwd = cwd or Path.cwd()
    for name in ("mlflow.db", "mlruns"):
        if (cwd / name).exists():
            return str(cwd / name)
    return None


def _event(name: str) -> None:
    """Benchmark marks: wall-clock seconds since the epoch, read by benchmarks/bench_startup.py."""
    print(f"mlscope-event {name} {time.time():.6f}", flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from mlscope.ui import theme
    from mlscope.ui.main_window import MainWindow

    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("mlscope")
    app.setOrganizationName("mlscope")
    app.setDesktopFileName("mlscope")
    theme.apply(app)
    window = MainWindow()
    _install_excepthook(window)
    if args.screenshot:
        try:
            w, h = (int(x) for x in args.size.lower().split("x"))
        except ValueError:
            w, h = 1440, 900
        window.resize(w, h)

    target = args.target if not args.demo else None
    if target is None and not args.demo:
        target = default_target()
    finisher = _Finisher(app, window, args)
    window.pageCreated.connect(finisher.page_created)
    window.firstPainted.connect(finisher.painted)
    window.show()
    if args.demo:
        QTimer.singleShot(0, lambda: window.open_demo(args.experiment))
    elif target:
        QTimer.singleShot(0, lambda: window.open_target(target, args.experiment))
    finisher.arm(has_target=bool(target or args.demo))
    return app.exec()


def _install_excepthook(window) -> None:
    """A bug in a slot must not take the user's window down: say it in the status bar and
    keep the traceback on stderr for a bug report."""
    import traceback

    def hook(kind, value, tb):
        traceback.print_exception(kind, value, tb)
        try:
            window.status_label.setText(f"Internal error: {kind.__name__}: {value} (details on stderr)")
        except Exception:  # noqa: BLE001 - the window may be gone already
            pass

    sys.excepthook = hook


class _Finisher:
    """--screenshot and --bench: wait for the table (and the run detail), then act and quit."""

    def __init__(self, app, window, args):
        self.app, self.window, self.args = app, window, args
        self.done = False  # acted on the loaded table
        self.finished = False

    def arm(self, has_target: bool) -> None:
        from PySide6.QtCore import QTimer

        self.has_target = has_target
        if self.args.screenshot or self.args.bench:
            QTimer.singleShot(180_000, self.finish)  # never hang a script
        if not has_target and self.args.screenshot:
            QTimer.singleShot(800, self.finish)

    def painted(self) -> None:
        if self.args.bench:
            _event("painted")
            if not self.has_target:
                self.app.quit()

    def page_created(self, page) -> None:
        from PySide6.QtCore import QTimer

        if self.args.bench:
            page.opened.connect(lambda _store: _event("opened"))
        page.runsLoaded.connect(lambda n, p=page: self.loaded(p, n))
        page.openFailed.connect(lambda _msg: QTimer.singleShot(300, self.finish))

    def loaded(self, page, n: int) -> None:
        from PySide6.QtCore import QTimer

        if self.done:
            return
        if self.args.bench:
            _event(f"loaded {n}")
            self.done = True
            QTimer.singleShot(0, self.app.quit)
            return
        if not self.args.screenshot:
            return
        if self.args.filter and page.runs.filter_text() != self.args.filter:
            page.runs.filter_edit.setText(self.args.filter)
            page.load_runs()
            return
        page.runs.expand_all()
        if self.args.select:
            m = page.runs.model
            wanted = [w.strip() for w in self.args.select.split(",")]
            ids = [rid for rid in m.frame.get("run_id", [])
                   if rid in wanted or m.value(rid, "run_name") in wanted]
            if ids:
                page.runs.select_runs(ids, current=ids[0])
        if self.args.tab:
            for i in range(page.detail_tabs.count()):
                if page.detail_tabs.tabText(i).lower().startswith(self.args.tab.lower()):
                    page.detail_tabs.setCurrentIndex(i)
            if self.args.tab == "charts":
                page.vsplit.setSizes([330, 570])
                if self.args.metrics and page._charts:
                    QTimer.singleShot(300, lambda: page._charts.set_checked_metrics(
                        self.args.metrics.split(",")))
        self.done = True
        QTimer.singleShot(2500 if self.args.tab == "charts" else 1200, self.finish)

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.args.screenshot:
            path = self.args.screenshot
            path.parent.mkdir(parents=True, exist_ok=True)
            self.window.grab().save(str(path))
            print(f"saved {path}")
        if self.args.screenshot or self.args.bench:
            self.window.close()
            self.app.quit()


if __name__ == "__main__":
    sys.exit(main())
