"""Watch: follow a store while MLflow writes to it. Every few seconds a worker asks whether
anything changed (core.watch); only then, or while runs are RUNNING, are the runs read again."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal

from mlscope.core import watch

from .base import Controller

INTERVAL_MS = 5000


class WatchController(Controller):
    changed = Signal()  # read the runs again (quietly)

    def __init__(self, tasks, parent=None, interval_ms: int = INTERVAL_MS):
        super().__init__(tasks, None, parent)
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.tick)
        self.on = False
        self.busy = lambda: False  # the page: True while a load is going on
        self.experiment_ids: list[str] = []
        self.running_runs = 0
        self._signature = None
        self._settle = False  # read once more at the next look (after a change)

    def set_store(self, store) -> None:
        super().set_store(store)
        self._signature = None
        self._settle = False

    def set_on(self, on: bool) -> None:
        self.on = on
        if on and not self.timer.isActive():
            self.timer.start()
        elif not on:
            self.timer.stop()

    def set_frame(self, frame, experiment_ids: list[str]) -> None:
        self.experiment_ids = list(experiment_ids)
        self.running_runs = int((frame["status"] == "RUNNING").sum()) if (
            frame is not None and "status" in frame) else 0

    def tick(self) -> None:
        """Runs RUNNING: read again (their metrics and status move). Otherwise read again only
        if the store's files changed; the check is a few stat() calls on a worker."""
        store = self.store
        if store is None or self.busy() or self.running("check"):
            return
        ids, running, before = list(self.experiment_ids), self.running_runs > 0, self._signature

        def work(progress, cancel):
            return watch.signature(store, ids)

        def done(sig):
            self._signature = sig
            moved = running or sig is None or (before is not None and sig != before)
            if moved or self._settle:
                # One more read after a change: MLflow writes a new run's meta.yaml and tags
                # inside its folder just after the folder appears, which moves no time this
                # check watches; a read in between would miss that run for good.
                self._settle = moved
                self.changed.emit()

        self.start("check", work, done, lambda exc: None)
