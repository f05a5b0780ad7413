"""The metric charts of the selected runs: the panel is built on first use (pyqtgraph stays
off the path to the first window), asks for history, and is answered from a worker. Under
Watch, curves grow by the points logged since the last look."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedWidget

from .base import Controller


class ChartsController(Controller):
    title = "Charts"
    compareRequested = Signal(list)  # runs picked in the legend, to compare

    def __init__(self, tasks, colors, parent=None):
        super().__init__(tasks, None, parent)
        self.colors = colors
        self.panel = None
        self.view = QStackedWidget(objectName="chartsHolder")
        self.view.addWidget(QLabel("Select runs to chart their metrics.",
                                   alignment=Qt.AlignCenter, objectName="emptyHint"))
        self._runs: list[str] = []
        self._names: dict[str, str] = {}
        self._frame = None
        self._was_running: set[str] = set()

    def ensure(self):
        """The chart panel, created now if it was not yet."""
        if self.panel is None:
            from ..views.charts import ChartPanel

            self.panel = ChartPanel(colors=self.colors.book)
            self.panel.requestHistory.connect(self._history)
            self.panel.compareRequested.connect(self.compareRequested)
            self.view.addWidget(self.panel)
            self.view.setCurrentWidget(self.panel)
            if self._frame is not None:
                self.panel.set_params(self._frame)
            self.panel.set_runs(self._runs, self._names)
        return self.panel

    def set_store(self, store) -> None:
        super().set_store(store)
        self._was_running = set()
        if self.panel is not None:
            self.panel.set_runs([])  # nothing kept from the old store
            self.panel.set_runs(self._runs, self._names)

    def set_frame(self, frame) -> None:
        """A new runs table: new metric names and params to group by; curves of runs that
        were RUNNING at the last look get the points logged since (also once they ended)."""
        self._frame = frame
        if self.panel is not None and frame is not None:
            self.panel.set_params(frame)
        running = set(frame.loc[frame["status"] == "RUNNING", "run_id"]) if (
            frame is not None and "status" in frame) else set()
        self.tail(running | self._was_running)
        self._was_running = running

    def set_names(self, names: dict) -> None:
        self._names = dict(names)

    def set_runs(self, run_ids: list[str]) -> None:
        self._runs = [r for r in run_ids if r]
        if self.panel is not None:
            self.panel.set_runs(self._runs, {r: self._names.get(r, r[:8]) for r in self._runs})

    def _history(self, run_ids: list, keys: list) -> None:
        store = self.store
        if store is None:
            return
        run_ids, keys = list(run_ids), list(keys)

        def done(frame):
            if self.panel is not None and store is self.store:
                self.panel.set_history(frame, run_ids, keys or None)

        self.tasks.start("history", lambda p, c: store.metric_history(run_ids, keys or None), done,
                         self.failed)

    def tail(self, run_ids: set[str]) -> None:
        """Append what these runs logged since the chart last read them (the store reads
        only the new part: the end of each metric file, the rows past the last count)."""
        panel, store = self.panel, self.store
        if panel is None or store is None or not run_ids:
            return
        charted = panel.last_points()
        runs = sorted({r for r, _ in charted} & run_ids)
        keys = {k for r, k in charted if r in run_ids}
        frame = self._frame
        if runs and frame is not None and "run_id" in frame:
            # Metrics a run started logging after the chart read it: every point of those.
            rows = frame[frame["run_id"].isin(runs)]
            keys |= {c[8:] for c in rows.columns if c.startswith("metrics.")
                     and rows[c].notna().any()}
        keys = sorted(keys)
        if not runs or not keys:
            return

        def done(new):
            if len(new) and store is self.store:
                panel.append_history(new)  # drops points it already has

        self.start("tail", lambda p, c: store.metric_tail(runs, keys), done, lambda exc: None)
