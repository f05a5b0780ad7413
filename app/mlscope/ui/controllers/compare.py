"""Compare: the runs selected in the table, side by side. The comparison is built on a
worker (the store's cached tables, and the metric history when min/max are asked for);
the view only draws it. Brushing or clicking in the plots asks the page to select runs;
when that selection comes back, it highlights instead of starting a new comparison."""

from __future__ import annotations

from PySide6.QtCore import Signal

from mlscope.core import compare as cmp
from mlscope.core.errors import Cancelled

from .base import Controller


class CompareController(Controller):
    title = "Compare"
    placement = "workspace"

    compared = Signal(object)  # the Comparison now shown (tests and scripts wait on it)

    def __init__(self, tasks, store=None, parent=None):
        super().__init__(tasks, store, parent)
        from ..views.compare import CompareView

        self.colors = None
        self.view = CompareView(color=self._color)
        self.view.setObjectName("compareView")
        self.comparison: cmp.Comparison | None = None
        self.run_ids: list[str] = []
        self.extra: list[tuple[object, list[str], str]] = []  # (store, run ids, label)
        self._frame = None
        self._echo: set[str] | None = None  # a selection we asked for, coming back
        self._dirty = False
        self._active = False
        self._baseline_run: str | None = None
        self._directions: dict[str, str] = {}  # the user's choice per metric, kept across runs
        v = self.view
        v.selectRunsRequested.connect(self._request_selection)
        v.runActivated.connect(self.runActivated)
        v.statusMessage.connect(self.statusMessage)
        v.extremesToggled.connect(lambda _on: self.refresh())
        v.followToggled.connect(self._follow_toggled)
        v.baselineChanged.connect(self._baseline_changed)
        v.directionChanged.connect(self._directions.__setitem__)

    # -- what the page calls -------------------------------------------------------------------
    def set_store(self, store) -> None:
        super().set_store(store)
        self.cancel()
        self.comparison = None
        self.run_ids = []
        self._baseline_run = None
        self.view.set_comparison(None)

    def set_frame(self, frame) -> None:
        """A new runs table (a reload, a watch tick): compared runs may have changed or gone."""
        self._frame = frame
        if self.run_ids:
            self._invalidate()

    def set_runs(self, run_ids: list[str]) -> None:
        """The table's selection, current first. A selection this view asked for, or any
        while "Follow selection" is off, only highlights."""
        ids = [r for r in run_ids if r]
        self.view.set_highlight(ids)
        if self._echo is not None and set(ids) == self._echo:
            return  # (kept: a reload re-selects the same runs, still ours)
        self._echo = None
        if not self.view.follow.isChecked():
            return
        if ids == self.run_ids:
            return
        self.run_ids = ids
        self._invalidate()

    def set_colors(self, colors) -> None:
        self.colors = colors
        colors.changed.connect(self.view.recolor)
        self.view.recolor()

    def activate(self) -> None:
        """The Compare tab came to the front: build what changed while it was hidden."""
        self._active = True
        if self._dirty:
            self.refresh()

    def deactivate(self) -> None:
        self._active = False

    def add_runs(self, store, run_ids: list[str], label: str) -> None:
        """Runs of another open store, compared beside this one's (each column says its store)."""
        self.extra = [e for e in self.extra if e[2] != label] + [(store, list(run_ids), label)]
        self._invalidate()

    def clear_extra(self) -> None:
        self.extra = []
        self._invalidate()

    # -- building ------------------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._dirty = True
        if self._active or self.view.isVisible():
            self.refresh()

    def refresh(self) -> None:
        """Compare the current runs now, on a worker."""
        self._dirty = False
        store, ids = self.store, list(self.run_ids)
        if store is None or (not ids and not self.extra):
            self.cancel("compare")
            self.comparison = None
            self.view.set_hint("Select two or more runs in the table to compare them."
                               if store is not None else "No store is open.")
            self.view.set_comparison(None)
            return
        exps = None
        frame = self._frame
        if frame is not None and "experiment_id" in frame and "run_id" in frame:
            known = frame.loc[frame["run_id"].isin(ids), "experiment_id"]
            if len(known) == len(ids):
                exps = sorted(set(known.astype(str)))
        extra = list(self.extra)
        label = self._label(store) if extra else None
        extremes = self.view.extremes.isChecked()
        directions = dict(self._directions)
        baseline_run = self._baseline_run

        def work(progress, cancel):
            sources, missing = [], []
            if ids:
                src, gone = cmp.gather(store, ids, exps, label=label)
                sources.append(src)
                missing += gone
            for other, other_ids, other_label in extra:
                src, gone = cmp.gather(other, other_ids, label=other_label)
                sources.append(src)
                missing += gone
            if cancel():
                raise Cancelled()
            hist = None
            if extremes and sources and sources[0].run_ids:
                hist = cmp.metric_extremes(store.metric_history(sources[0].run_ids))
            comp = cmp.compare(sources, extremes=hist, directions=directions,
                               missing_runs=missing)
            if baseline_run is not None:
                cols = [c.run_id for c in comp.columns]
                if baseline_run in cols:
                    comp.set_baseline(cols.index(baseline_run))
            return comp

        self.start("compare", work, self._compared)

    def _compared(self, comp) -> None:
        self.comparison = comp
        if comp.missing_runs:
            n = len(comp.missing_runs)
            self.statusMessage.emit(f"{n} selected run{'s are' if n != 1 else ' is'} no longer "
                                    f"in the store; comparing the others.")
        if not comp.columns:
            self.view.set_hint("None of the selected runs is in the store any more.")
        self.view.set_comparison(comp)
        self.compared.emit(comp)

    @staticmethod
    def _label(store) -> str:
        loc = getattr(store, "location", None)
        path = getattr(loc, "path", None)
        if path is not None:
            from pathlib import Path

            p = Path(path)
            return p.parent.name + "/" + p.name if p.name in ("mlruns", "mlflow.db") else p.name
        return str(getattr(store, "uri", "this store"))

    # -- what the view says --------------------------------------------------------------------
    def _request_selection(self, run_ids: list) -> None:
        own = {c.run_id for c in self.comparison.columns} if self.comparison else set()
        ids = [r for r in run_ids if r in own and r in set(self.run_ids)]
        self._echo = set(ids)
        self.view.set_highlight(ids)
        self.selectRunsRequested.emit(ids)

    def _follow_toggled(self, on: bool) -> None:
        if on:
            self._echo = None

    def _baseline_changed(self, j: int) -> None:
        if self.comparison is not None and 0 <= j < len(self.comparison.columns):
            self._baseline_run = self.comparison.columns[j].run_id

    def _color(self, run_id: str) -> str:
        return self.colors.hex(run_id) if self.colors is not None else "#444444"
