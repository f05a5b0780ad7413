"""Which runs are selected, and the detail of the current one: shown at once from the
table's columns, then in full (params, tags, datasets, logged models, min/max) from a worker."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal

from mlscope.core.artifacts import model_flavors
from mlscope.core.errors import user_message
from mlscope.core.records import FrameIndex

from .base import Controller


class SelectionController(Controller):
    runsChanged = Signal(list)  # the selected runs, current first: charts, compare, artifacts
    namesChanged = Signal(object)  # run id -> name of the selected runs
    detailReady = Signal(object, object, object)  # run, links, stats
    selectionSummary = Signal(list, object)  # several runs: ids, names
    detailMessage = Signal(str)
    selectRunRequested = Signal(str)  # make the table select this run

    def __init__(self, tasks, parent=None):
        super().__init__(tasks, None, parent)
        self.index = FrameIndex(None)
        self.experiment_names: dict[str, str] = {}
        self.selected: list[str] = []
        self.current: str | None = None
        self._detail_for: str | None = None
        self._timer = QTimer(self, singleShot=True, interval=80)  # arrow keys held down
        self._timer.timeout.connect(self._show_current)

    def set_store(self, store) -> None:
        super().set_store(store)
        self._detail_for = None

    def set_frame(self, frame, experiment_names: dict | None = None) -> None:
        self.index = FrameIndex(frame)
        if experiment_names is not None:
            self.experiment_names = experiment_names
        self._detail_for = None  # values may have moved (Watch): read the detail again
        if self.current:
            self._timer.start()

    def refresh_detail(self) -> None:
        """Show the current run's detail again (what is known about it changed elsewhere)."""
        self._detail_for = None
        if self.current:
            self._timer.start()

    def names(self, run_ids) -> dict[str, str]:
        return {r: self.index.name(r) for r in run_ids}

    # -- from the table ----------------------------------------------------------------------
    def set_current(self, run_id) -> None:
        self.current = run_id
        self._timer.start()

    def set_selection(self, run_ids: list[str]) -> None:
        self.selected = [r for r in run_ids if r]
        if len(self.selected) > 1:
            self.selectionSummary.emit(self.selected, self.names(self.selected))
            self._detail_for = None
        elif not self.selected and not self.current:
            self.detailMessage.emit("Select a run to see its details.")
            self._detail_for = None
        else:
            self._timer.start()
        runs = self.selected or ([self.current] if self.current else [])
        if self.current in runs:
            runs = [self.current] + [r for r in runs if r != self.current]
        self.namesChanged.emit(self.names(runs))
        self.runsChanged.emit(runs)

    def select_run(self, run_id: str) -> None:
        """A link to a run (parent, child, a registered version's source)."""
        if run_id in self.index:
            self.selectRunRequested.emit(run_id)
        else:
            self.statusMessage.emit(f"Run {run_id} is not in the table (another experiment, "
                                    "or hidden by the filter or search).")

    # -- the detail --------------------------------------------------------------------------
    def _show_current(self) -> None:
        rid, store = self.current, self.store
        if len(self.selected) > 1 or rid is None or store is None or rid == self._detail_for:
            return
        self._detail_for = rid
        links = self.index.links(rid, self.experiment_names)
        self.detailReady.emit(self.index.run(rid), links, {})  # instant, from the table

        def work(progress, cancel):
            run = store.run(rid)
            stats = {}
            keys = list(run.get("metrics", {}))
            if keys and not cancel():
                hist = store.metric_history([rid], keys)
                if len(hist):
                    g = hist.groupby("key")["value"]
                    lo, hi, n = g.min(), g.max(), g.size()  # NaN points count as points
                    stats = {k: (lo[k], hi[k], int(n[k])) for k in lo.index}
                    # A live run logs between the two reads: the step shown is the one of
                    # the history counted, so Step and Points agree.
                    top = hist.groupby("key")["step"].max()
                    for k, m in run.get("metrics", {}).items():
                        if k in top.index:
                            m["step"] = int(top[k])
            for model in run.get("logged_models") or []:
                if not model.get("flavors"):
                    model["flavors"] = model_flavors(store, model.get("artifact_location"))
            return rid, run, stats

        def done(res):
            rid_, run, stats = res
            if rid_ == self.current:
                self.detailReady.emit(run, self.index.links(rid_, self.experiment_names), stats)

        self.start("detail", work, done, lambda exc: self.statusMessage.emit(
            f"Could not read run {rid}: {user_message(exc)}"))
