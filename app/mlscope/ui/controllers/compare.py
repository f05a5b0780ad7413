"""Compare: the runs selected in the table, side by side. The comparison is built on a
worker (the store's cached tables, and the metric history when min/max are asked for);
the view only draws it. Brushing or clicking in the plots asks the page to select runs;
when that selection comes back, it highlights instead of starting a new comparison.

Runs of other open stores (other tabs) join through ``set_peers``: the window hands a
callable listing them, the view's "Add runs from" menu picks one, and its selected runs
are compared beside this store's, each column labelled with its store."""

from __future__ import annotations

from PySide6.QtCore import Signal

from mlscope.core import compare as cmp
from mlscope.core.errors import Cancelled, user_message

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
        self.peers = lambda: []  # the other open stores: [(label, store, selected run ids)]
        self._notes: dict[str, str] = {}  # store label -> what of it cannot be shown
        self._frame = None
        self._echo: set[str] | None = None  # a selection we asked for, coming back
        self._dirty = False
        self._active = False
        self._baseline_run: str | None = None
        self._directions: dict[str, str] = {}  # the user's choice per metric, kept across runs
        v = self.view
        v.selectRunsRequested.connect(self._request_selection)
        v.runActivated.connect(self._run_activated)
        v.addMenuRequested.connect(self._fill_add_menu)
        v.addRunsRequested.connect(self.add_peer_runs)
        v.removeStoreRequested.connect(self.remove_store)
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

    def compare_runs(self, run_ids: list[str]) -> None:
        """Compare exactly these runs (from a chart's legend), even when "Follow selection"
        is off; the table's selection of them, coming back, only highlights."""
        ids = list(dict.fromkeys(r for r in run_ids if r))
        if not ids:
            return
        self._echo = set(ids)
        self.run_ids = ids
        self._invalidate()

    def set_peers(self, peers) -> None:
        """``peers()`` lists the other open stores as (label, store, selected run ids)."""
        self.peers = peers

    def add_runs(self, store, run_ids: list[str], label: str) -> None:
        """Runs of another open store, compared beside this one's (each column says its store)."""
        ids = list(dict.fromkeys(r for r in run_ids if r))
        self.extra = [e for e in self.extra if e[2] != label] + [(store, ids, label)]
        self._notes.pop(label, None)
        self._invalidate()

    def add_peer_runs(self, label: str) -> None:
        """The runs selected in another open store's tab, added beside this store's."""
        for peer_label, store, ids in self._peer_list():
            if peer_label == label:
                if not ids:
                    self.statusMessage.emit(f"No runs are selected in {label}: select some in "
                                            "its tab first.")
                    return
                self.add_runs(store, ids, label)
                n = len(ids)
                self.statusMessage.emit(f"Comparing {n} run{'s' if n != 1 else ''} of {label} "
                                        "beside this store's.")
                return
        self.statusMessage.emit(f"{label} is no longer open.")

    def remove_store(self, label: str | None = None) -> None:
        """Take another store's runs out of the comparison (every other store's: None)."""
        self.extra = [e for e in self.extra if label is not None and e[2] != label]
        self._notes = {k: v for k, v in self._notes.items() if label is not None and k != label}
        self._invalidate()

    def clear_extra(self) -> None:
        self.remove_store(None)

    def store_closed(self, store, label: str | None = None) -> None:
        """Another store's tab was closed: its runs leave the comparison, and it says so."""
        gone = [e for e in self.extra if e[0] is store]
        if not gone:
            return
        self.extra = [e for e in self.extra if e[0] is not store]
        n = sum(len(e[1]) for e in gone)
        name = label or gone[0][2]
        note = f"{n} run{'s' if n != 1 else ''} of {name} left the comparison: its tab was closed"
        self._notes[gone[0][2]] = note
        self.statusMessage.emit(note + ".")
        self._invalidate()

    def _peer_list(self) -> list[tuple[str, object, list[str]]]:
        try:
            return [(str(lab), st, list(ids)) for lab, st, ids in self.peers()
                    if st is not None and st is not self.store]
        except RuntimeError:  # a page being deleted while the window lists its tabs
            return []

    def _fill_add_menu(self) -> None:
        """The view's "Add runs from" menu is about to show: the other stores, as now."""
        added = {e[2] for e in self.extra}
        self.view.set_peer_choices([(lab, len(ids), lab in added)
                                    for lab, _st, ids in self._peer_list()],
                                   sorted(added))

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
            hint = ("Select two or more runs in the table to compare them."
                    if store is not None else "No store is open.")
            notes = list(self._notes.values())
            self.view.set_hint("\n".join([n[:1].upper() + n[1:] + "." for n in notes] + [hint]))
            self.view.set_comparison(None)
            return
        exps = None
        frame = self._frame
        if frame is not None and "experiment_id" in frame and "run_id" in frame:
            known = frame.loc[frame["run_id"].isin(ids), "experiment_id"]
            if len(known) == len(ids):
                exps = sorted(set(known.astype(str)))
        extra = self._current_extra()
        label = self._label(store) if extra else None
        notes = list(self._notes.values())
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
                try:  # another store may have gone away (a server down, a file moved)
                    src, gone = cmp.gather(other, other_ids, label=other_label)
                except Cancelled:
                    raise
                except Exception as exc:  # noqa: BLE001 - said in the summary, the rest shown
                    notes.append(f"the runs of {other_label} could not be read: "
                                 f"{user_message(exc)}")
                    continue
                sources.append(src)
                if gone:
                    n = len(gone)
                    notes.append(f"{n} run{'s' if n != 1 else ''} of {other_label} "
                                 f"{'are' if n != 1 else 'is'} no longer in that store")
            if cancel():
                raise Cancelled()
            hist = None
            if extremes and sources and sources[0].run_ids:
                hist = cmp.metric_extremes(store.metric_history(sources[0].run_ids))
            comp = cmp.compare(sources, extremes=hist, directions=directions,
                               missing_runs=missing)
            comp.notes = notes
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
        for note in comp.notes:
            if note not in self._notes.values():  # a store that could not be read
                self.statusMessage.emit(note[:1].upper() + note[1:])
        if not comp.columns:
            self.view.set_hint("None of the selected runs is in the store any more.")
        self.view.set_comparison(comp)
        self.compared.emit(comp)

    def _current_extra(self) -> list[tuple[object, list[str], str]]:
        """The other stores' runs, each read from the store its tab shows now (a reload
        there replaces the store object)."""
        now = {lab: st for lab, st, _ids in self._peer_list()}
        self.extra = [(now.get(lab, st), ids, lab) for st, ids, lab in self.extra]
        own = self._label(self.store) if self.store is not None else None
        return [(st, ids, lab if lab != own else f"{lab} (other tab)")
                for st, ids, lab in self.extra]

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

    def _run_activated(self, run_id: str) -> None:
        """A run to open: this store's jump to it; another store's are opened from its tab."""
        col = next((c for c in (self.comparison.columns if self.comparison else [])
                    if c.run_id == run_id), None)
        if col is not None and len(self.comparison.stores) > 1 and run_id not in self.run_ids:
            self.statusMessage.emit(f"That run is in {col.store}: open it from its tab.")
            return
        self.runActivated.emit(run_id)

    def _follow_toggled(self, on: bool) -> None:
        if on:
            self._echo = None

    def _baseline_changed(self, j: int) -> None:
        if self.comparison is not None and 0 <= j < len(self.comparison.columns):
            self._baseline_run = self.comparison.columns[j].run_id

    def _color(self, run_id: str) -> str:
        return self.colors.hex(run_id) if self.colors is not None else "#444444"
