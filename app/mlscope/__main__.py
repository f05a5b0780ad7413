"""``mlscope [TARGET]``: open a window on an MLflow store.

Imports are kept lazy: ``--version`` and ``--help`` never load Qt, and nothing on the way
to the first window imports mlflow (it costs seconds).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

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
    p.add_argument("targets", nargs="*", metavar="TARGET",
                   help="store(s) to open, each in a tab (see below)")
    p.add_argument("--demo", action="store_true",
                   help="open the demo store (built once with MLflow's client, then reused)")
    p.add_argument("--experiment", metavar="NAME_OR_ID", help="experiment to select first")
    p.add_argument("--screenshot", metavar="FILE.png", type=Path,
                   help="load, render the window to FILE.png and exit")
    p.add_argument("--size", default="1440x900", metavar="WxH",
                   help="window size for --screenshot (default 1440x900)")
    p.add_argument("--view", metavar="NAME",
                   help="with --screenshot: the view to show (runs, charts, compare, artifacts, "
                        "registry, problems; default runs)")
    p.add_argument("--runs", metavar="ID,...",
                   help="with --screenshot: runs to select, by id or name (charts and compare "
                        "default to the first 10)")
    p.add_argument("--filter", metavar="QUERY", help="with --screenshot: an MLflow filter to apply")
    p.add_argument("--metrics", metavar="KEY,...", help="with --view charts: the metrics to chart")
    p.add_argument("--model", metavar="NAME",
                   help="with --view registry: the registered model whose versions to show")
    p.add_argument("--artifact", metavar="PATH",
                   help="with --view artifacts: the artifact to select (a path in the run)")
    p.add_argument("--new-instance", action="store_true",
                   help="start a new mlscope even if one is running (default: hand the "
                        "targets to the running one)")
    p.add_argument("--install-desktop", action="store_true",
                   help="Linux: install the desktop entry, icon and mlflow.db file type for "
                        "the current user, then exit")
    p.add_argument("--uninstall-desktop", action="store_true",
                   help="Linux: remove what --install-desktop installed, then exit")
    p.add_argument("--version", action="version", version=f"mlscope {__version__}")
    p.add_argument("--bench", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.target = args.targets[0] if args.targets else None
    return args


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


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--mlscope-migrate-child"]:  # the bundle running MLflow's migration
        from mlscope.core.migrate import child_main

        return child_main(argv[1:])
    args = parse_args(argv)
    # The registry's writes run MLflow's client in this process: no telemetry thread (it calls
    # out to the network and races other threads on os.environ).
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlscope import desktop

    if args.install_desktop or args.uninstall_desktop:
        return desktop.desktop_cli(uninstall=args.uninstall_desktop)
    # One mlscope per user: a second launch hands its targets over and exits (scripted
    # renders and benchmarks always run on their own).
    single = not (args.screenshot or args.bench or args.new_instance)
    if single:
        here = [] if args.targets or args.demo else [t for t in [default_target()] if t]
        request = {"targets": desktop.absolute_targets(args.targets or here),
                   "experiment": args.experiment, "demo": args.demo}
        if desktop.hand_off(request):
            return 0
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from mlscope.ui import theme
    from mlscope.ui.main_window import MainWindow
    from mlscope.ui.scripting import Finisher

    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or desktop.Application(sys.argv[:1])
    app.setApplicationName("mlscope")
    app.setOrganizationName("mlscope")
    app.setDesktopFileName("mlscope")
    theme.apply(app)
    window = MainWindow()
    if single:
        instance = desktop.Instance(parent=app)
        instance.listen()
        instance.requested.connect(lambda request: desktop.present(window, request))
    desktop.open_files_in(app, window)  # macOS: Finder and the Dock
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
    finisher = Finisher(app, window, args)
    window.pageCreated.connect(finisher.page_created)
    window.firstPainted.connect(finisher.painted)
    window.show()
    if args.demo:
        QTimer.singleShot(0, lambda: window.open_demo(args.experiment))
    elif target:
        QTimer.singleShot(0, lambda: window.open_target(target, args.experiment))
        for more in args.targets[1:]:
            QTimer.singleShot(0, lambda t=more: window.open_target(t))
    elif not (args.screenshot or args.bench):  # nothing asked for: the last session's stores
        QTimer.singleShot(0, window.restore_session)
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


if __name__ == "__main__":
    sys.exit(main())
