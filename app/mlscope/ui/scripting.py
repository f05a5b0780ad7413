"""Driving the window from the command line, for screenshots, checks and the startup
benchmark: ``--view NAME [--runs ID,...] --screenshot F.png`` and ``--bench``.

Kept out of the app's own code: it waits for the page's public signals, then uses the
page's public methods (``show_view``, ``runs.select_runs``) as a user's clicks would."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

SETTLE_MS = {"charts": 2500, "compare": 2000, "artifacts": 2000, "registry": 1500}


def event(name: str) -> None:
    """Benchmark marks: wall-clock seconds since the epoch, read by benchmarks/bench_startup.py."""
    print(f"mlscope-event {name} {time.time():.6f}", flush=True)


class Finisher:
    """Waits for the runs table, then selects runs, shows a view, renders and quits."""

    def __init__(self, app, window, args):
        self.app, self.window, self.args = app, window, args
        self.done = False  # acted on the loaded table
        self.finished = False
        self.has_target = False
        self._copy_page = None  # a page showing a saved copy while its store is read

    def arm(self, has_target: bool) -> None:
        self.has_target = has_target
        if self.args.screenshot or self.args.bench:
            # never hang a script; long enough for the demo's first build on a loaded machine
            QTimer.singleShot(540_000, self.finish)
        if not has_target and self.args.screenshot:
            QTimer.singleShot(800, self.finish)

    def painted(self) -> None:
        if self.args.bench:
            event("painted")
            if not self.has_target:
                self.app.quit()

    def page_created(self, page) -> None:
        if self.args.bench:
            page.opened.connect(lambda _store: event("opened"))
        page.runsLoaded.connect(lambda n, p=page: self.loaded(p, n))
        page.loading.loadingChanged.connect(lambda on, _what, p=page: on or self._read_ended(p))
        page.openFailed.connect(lambda _msg: QTimer.singleShot(300, self.finish))

    def loaded(self, page, n: int) -> None:
        args = self.args
        if self.done:
            return
        if page.loading.cache_shown and page.is_loading():
            # A saved copy while the store is read: the script acts on the table read now.
            self._copy_page = page
            if args.bench:
                event(f"copy {n}")
            return
        self._copy_page = None
        if args.bench:
            event(f"loaded {n}")
            self.done = True
            QTimer.singleShot(0, self.app.quit)
            return
        if not args.screenshot:
            return
        if args.filter and page.runs.filter_text() != args.filter:
            page.runs.filter_edit.setText(args.filter)
            page.loading.set_filter(args.filter)
            return
        self.done = True
        page.runs.expand_all()
        self._select(page)
        view = (args.view or "runs").lower()
        if view != "runs" and not page.show_view(view):
            print(f"mlscope: no view named {view!r}")
        if view == "artifacts" and getattr(args, "artifact", None):
            artifacts = next(f for f in page.features if f.title == "Artifacts")
            QTimer.singleShot(500, lambda: artifacts.select(args.artifact))
        if view == "registry" and getattr(args, "model", None):
            page.registry.show_model(args.model)
        if view == "charts" and args.metrics:
            QTimer.singleShot(300, lambda: page.charts.ensure().set_checked_metrics(
                args.metrics.split(",")))
        QTimer.singleShot(SETTLE_MS.get(view, 1200), self.finish)

    def _read_ended(self, page) -> None:
        """A read after a copy ended with no table (it failed): the script acts on the copy.
        A read that succeeded has called ``loaded`` by the time this runs."""
        def act():
            if self._copy_page is page and not self.done and not page.is_loading():
                self.loaded(page, page.runs.model.total_runs())

        if self._copy_page is page:
            QTimer.singleShot(0, act)

    def _select(self, page) -> None:
        """``--runs`` (ids or names); for views about several runs, the first 10 by default."""
        m = page.runs.model
        wanted = [w.strip() for w in (self.args.runs or "").split(",") if w.strip()]
        ids = [rid for rid in m.frame.get("run_id", [])
               if rid in wanted or m.value(rid, "run_name") in wanted]
        if not ids and (self.args.view or "") in ("charts", "compare"):
            ids = [m.run_id(m.index(r, 0)) for r in range(min(10, m.rowCount()))]
        if ids:
            page.runs.select_runs(ids, current=ids[0])

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
