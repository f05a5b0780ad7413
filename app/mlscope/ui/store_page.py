"""One open store in one tab: the experiments, runs and detail views, and the one place
their signals are routed.

Every read goes through :class:`~mlscope.ui.tasks.Tasks`: the page asks, a worker calls
the Qt-free core, the answer comes back as a signal. A newer request of the same kind
cancels the older one, so a slow answer never overwrites a newer one.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .dialogs.columns import ColumnChooser
from .models import columns as C
from .settings import Settings
from .tasks import Tasks
from .views.detail import RunDetail
from .views.experiments import ExperimentsPanel
from .views.problems import ProblemsPanel
from .views.runs import RunsPanel

WATCH_INTERVAL_MS = 5000
WARM_UP_DELAY_MS = 3000
_warm = {"started": False}


def user_message(exc: BaseException) -> str:
    """Words for the user: StoreError's message is written for them; anything else is named."""
    from mlscope.core.errors import StoreError

    if isinstance(exc, StoreError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "Not enough memory to read this store."
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"{exc.strerror or exc}{where}"
    return f"{type(exc).__name__}: {exc}"


def _charts_class():
    """The chart panel, if its module is there: the app works without it."""
    try:
        from .views.charts import ChartPanel
    except Exception:  # noqa: BLE001 - absent or broken charts must not stop the app
        return None
    return ChartPanel


class ErrorPage(QWidget):
    retryRequested = Signal()
    closeRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel("Could not open this store", objectName="errorTitle")
        self.message = QLabel(wordWrap=True, objectName="errorMessage")
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        retry = QPushButton("Try Again")
        close = QPushButton("Close Tab")
        retry.clicked.connect(self.retryRequested)
        close.clicked.connect(self.closeRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(retry)
        buttons.addWidget(close)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 40, 40, 40)
        lay.addWidget(self.title)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        lay.addStretch(1)


class StorePage(QWidget):
    """Everything about one store. Emits plain facts for the main window to show."""

    statusMessage = Signal(str)
    titleChanged = Signal(str)
    opened = Signal(object)  # the store
    openFailed = Signal(str)  # message for the user
    runsLoaded = Signal(int)  # runs in the table
    problemsChanged = Signal(int)
    closeRequested = Signal()
    openRequested = Signal(str)  # another store the user chose from the info bar

    def __init__(self, target, settings: Settings, experiment: str | None = None, parent=None):
        super().__init__(parent)
        self.target = target
        self.settings = settings
        self.store = None
        self.tasks = Tasks(self)
        self._wanted_experiment = experiment
        self._handles: dict[str, object] = {}
        self._exp_ids: list[str] = []
        self._run_to_select: str | None = None
        self._frame = None
        self._detail_for: str | None = None
        self._charts = None
        self._chart_runs: list[str] = []
        self.loaded_once = False

        self.experiments = ExperimentsPanel()
        self.runs = RunsPanel()
        self.detail = RunDetail()
        self.problems = ProblemsPanel()
        self.detail_tabs = QTabWidget(objectName="detailTabs")
        self.detail_tabs.setDocumentMode(True)
        self.detail_tabs.addTab(self.detail, "Run")
        # --- Charts: the chart helper's ChartPanel plugs in here (see _ensure_charts) -----
        self.charts_holder = QStackedWidget(objectName="chartsHolder")
        self.charts_holder.addWidget(QLabel("Charts are not available in this build.",
                                            alignment=Qt.AlignCenter, objectName="emptyHint"))
        self.detail_tabs.addTab(self.charts_holder, "Charts")
        self.detail_tabs.addTab(self.problems, "Problems")

        right = QSplitter(Qt.Vertical)
        right.addWidget(self.runs)
        right.addWidget(self.detail_tabs)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setChildrenCollapsible(False)
        self.split = QSplitter(Qt.Horizontal)
        self.split.addWidget(self.experiments)
        self.split.addWidget(right)
        self.split.setStretchFactor(1, 1)
        self.vsplit = right
        saved = self.settings.get("splitters") or {}
        self.split.setSizes(saved.get("h") or [370, 1070])
        if saved.get("v"):
            right.setSizes(saved["v"])

        self.error_page = ErrorPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.split)
        self.stack.addWidget(self.error_page)
        # What the user should know about this store: the other store in a project folder,
        # an older schema that MLflow would migrate. Hidden when there is nothing to say.
        self.info_bar = QLabel(objectName="infoBar", wordWrap=True, openExternalLinks=False)
        self.info_bar.setTextFormat(Qt.RichText)
        self.info_bar.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 4)
        lay.addWidget(self.info_bar)
        lay.addWidget(self.stack)

        self._detail_timer = QTimer(self, singleShot=True, interval=80)
        self._splitter_timer = QTimer(self, singleShot=True, interval=400)
        self._watch_timer = QTimer(self, interval=WATCH_INTERVAL_MS)
        self._wire()

    # -- the routing -------------------------------------------------------------------------
    def _wire(self) -> None:
        e, r = self.experiments, self.runs
        e.selectionChanged.connect(self._experiments_selected)
        e.viewChanged.connect(lambda _: self.reload(reopen=False))
        r.filterRequested.connect(lambda _: self.load_runs())
        r.currentRunChanged.connect(lambda _: self._detail_timer.start())
        r.selectionChanged.connect(self._runs_selected)
        r.columnsEdited.connect(self._columns_edited)
        r.columnsResetRequested.connect(self._columns_reset)
        r.chooseColumnsRequested.connect(self.choose_columns)
        r.cancelRequested.connect(self.cancel_loading)
        self.detail.runActivated.connect(self.select_run)
        self._detail_timer.timeout.connect(self._show_current_run)
        self._watch_timer.timeout.connect(self._watch_tick)
        self.detail_tabs.currentChanged.connect(self._tab_changed)
        self.error_page.retryRequested.connect(lambda: self.open())
        self.error_page.closeRequested.connect(self.closeRequested)
        self.info_bar.linkActivated.connect(self.openRequested)
        for splitter in (self.split, self.vsplit):  # saved once the drag settles
            splitter.splitterMoved.connect(lambda *_: self._splitter_timer.start())
        self._splitter_timer.timeout.connect(self._remember_splitters)

    def _remember_splitters(self, *_):
        """Where the user put the panel borders, for every store page from now on."""
        self.settings.set("splitters", {"h": self.split.sizes(), "v": self.vsplit.sizes()})

    def _start(self, kind: str, name: str, fn, on_done, on_error=None, on_progress=None,
               on_cancel=None, on_partial=None):
        """One task per kind: a new one cancels the old (its late answer is dropped)."""
        old = self._handles.get(kind)
        if old is not None:
            old.cancel()
        handle = self.tasks.start(name, fn, on_done, on_error or self._task_failed, on_progress,
                                  on_cancel, on_partial)
        self._handles[kind] = handle
        return handle

    def _task_failed(self, exc) -> None:
        self.statusMessage.emit(user_message(exc))

    # -- opening -----------------------------------------------------------------------------
    def title(self) -> str:
        if self.store is not None:
            loc = getattr(self.store, "location", None)
            path = getattr(loc, "path", None)
            if path is not None:
                name = path.name
                return f"{path.parent.name}/{name}" if name in ("mlruns", "mlflow.db") else name
            return str(self.store.uri)
        return str(self.target)

    def open(self) -> None:
        """Open the store and list its experiments, in a worker (locating touches the disk)."""
        from mlscope.core import open_store

        view = self.experiments.current_view()
        target = self.target
        self.stack.setCurrentWidget(self.split)
        self.runs.set_loading(True, "Opening store…")
        self.statusMessage.emit(f"Opening {target}…")
        t0 = time.perf_counter()

        def work(progress, cancel):
            store = open_store(target)
            return store, store.experiments(view), time.perf_counter() - t0

        self._start("open", "open", work, self._opened, self._open_failed,
                    on_cancel=lambda: self.runs.set_loading(False))

    def _opened(self, result) -> None:
        store, exps, _seconds = result
        old, self.store = self.store, store
        if old is not None and old is not store:
            try:
                old.close()
            except Exception:  # noqa: BLE001
                pass
        loc = getattr(store, "location", None)
        if loc is not None and getattr(loc, "run_id", None):
            self._run_to_select = loc.run_id
        keep = self._exp_ids or self._initial_experiments(exps, loc)
        self.experiments.set_experiments(exps, keep)
        self.titleChanged.emit(self.title())
        self.opened.emit(store)
        note = getattr(loc, "note", "")
        self.statusMessage.emit(note or f"Opened {store.uri}")
        self._show_info(loc, store)
        self._exp_ids = self.experiments.selected_ids()
        self._attach_charts_store()
        self.load_runs()
        self._update_problems()

    def _show_info(self, loc, store) -> None:
        from html import escape

        lines = []
        if getattr(loc, "note", ""):
            links = " ".join(f'<a href="{escape(str(a.path or a.uri))}">Open {escape(a.path.name if a.path else a.uri)}'
                             "</a>" for a in getattr(loc, "alternatives", []))
            lines.append(f"{escape(loc.note)} {links}")
        if getattr(store, "read_only_note", ""):
            lines.append(escape(store.read_only_note))
        self.info_bar.setText("<br>".join(lines))
        self.info_bar.setVisible(bool(lines))

    def _open_failed(self, exc) -> None:
        self.runs.set_loading(False)
        msg = user_message(exc)
        self.error_page.message.setText(msg)
        self.stack.setCurrentWidget(self.error_page)
        self.statusMessage.emit(msg)
        self.openFailed.emit(msg)

    def _initial_experiments(self, exps, loc) -> list[str]:
        ids = [str(x) for x in exps.get("experiment_id", [])]
        if not ids:
            return []
        wanted = self._wanted_experiment or getattr(loc, "experiment_id", None)
        if wanted:
            names = dict(zip(exps["name"].astype(str), ids, strict=False))
            if str(wanted) in ids:
                return [str(wanted)]
            if str(wanted) in names:
                return [names[str(wanted)]]
        remembered = self.settings.last_experiment(str(getattr(self.store, "uri", "")))
        if remembered and all(r in ids for r in remembered):
            return remembered
        # Otherwise the experiment touched last; "Default" only if it is all there is.
        model = self.experiments.model
        model.set_frame(exps)
        acts = [model.activity(i) for i in range(len(ids))]
        names = exps["name"].astype(str).tolist()
        order = sorted(range(len(ids)), key=lambda i: (names[i] != "Default",
                                                       -1 if acts[i] != acts[i] else acts[i]),
                       reverse=True)
        return [ids[order[0]]]

    # -- experiments -> runs ---------------------------------------------------------------
    def _experiments_selected(self, ids: list[str]) -> None:
        if ids == self._exp_ids:
            return
        self._exp_ids = ids
        if self.store is not None and ids:
            self.settings.set_last_experiment(str(self.store.uri), ids)
        self.runs.search_edit.clear()
        self.load_runs(keep_selection=False)

    def load_runs(self, keep_selection: bool = True, quiet: bool = False) -> None:
        """(Re)load the runs of the selected experiments with the filter in the box."""
        store = self.store
        if store is None:
            return
        ids = list(self._exp_ids)
        if not ids:
            self._frame = None
            self.runs.set_runs(self._empty_frame(), {}, [])
            self.runsLoaded.emit(0)
            return
        filt = self.runs.filter_text()
        view = self.experiments.current_view()
        if not quiet:
            self.runs.set_loading(True)
            self.statusMessage.emit("Loading runs…")
        t0 = time.perf_counter()

        def work(progress, cancel, partial):
            frame = store.runs(ids, filt, None, view, attributes=True, progress=progress,
                               cancel=cancel, partial=partial)
            return frame, filt, ids, time.perf_counter() - t0

        self._start("runs", "runs", work, lambda res: self._runs_loaded(res, keep_selection),
                    self._runs_failed, self.runs.set_progress, self._runs_cancelled,
                    self._runs_streamed)

    def _runs_streamed(self, frame) -> None:
        """Rows read so far of a long load: shown at once; the loading bar stays until the end."""
        self.runs.set_runs(frame, self.experiments.model.names(), self._columns_for(frame),
                           keep_selection=True)

    @staticmethod
    def _empty_frame():
        import pandas as pd

        return pd.DataFrame(columns=["run_id", "experiment_id", "status", "start_time", "end_time"])

    def _runs_loaded(self, result, keep_selection: bool) -> None:
        frame, filt, ids, seconds = result
        self._frame = frame
        self.runs.set_loading(False)
        self.runs.set_filter_error(None)
        names = self.experiments.model.names()
        self.runs.model.experiment_names = names
        columns = self._columns_for(frame)
        self.runs.set_runs(frame, names, columns, keep_selection=keep_selection)
        if self._run_to_select:
            rid, self._run_to_select = self._run_to_select, None
            self.runs.select_run(rid)
        elif not self.runs.current_run_id() and len(frame):
            top = self.runs.model.index(0, 0)
            if top.isValid():
                self.runs.select_run(self.runs.model.run_id(top))
        what = f"{len(frame):,} runs" + (f" matching {filt}" if filt else "")
        self.statusMessage.emit(f"{what} · read in {seconds:.2f} s")
        self._update_problems()
        self._update_watch()
        self._feed_charts_frame()
        if not self.loaded_once:
            self.loaded_once = True
            self._load_counts()
            QTimer.singleShot(WARM_UP_DELAY_MS, self._warm_up_search)
        self.runsLoaded.emit(len(frame))

    def _warm_up_search(self) -> None:
        """Import MLflow's search parser in the background once the window is idle, so the
        first filter a user types answers at once instead of after a 3-second import."""
        if _warm["started"]:
            return
        _warm["started"] = True

        def work(progress, cancel):
            from mlscope.core.search import parse_filter

            parse_filter("metrics.x > 0")

        self.tasks.start("warm-up", work, None, lambda exc: None)

    def _runs_failed(self, exc) -> None:
        from mlscope.core.errors import FilterError

        self.runs.set_loading(False)
        if isinstance(exc, FilterError):
            self.runs.set_filter_error(str(exc))
            self.statusMessage.emit("The filter is not valid MLflow search syntax.")
        else:
            self.statusMessage.emit(f"Could not read runs: {user_message(exc)}")
        self._update_problems()

    def _runs_cancelled(self) -> None:
        self.runs.set_loading(False)
        self.statusMessage.emit("Loading cancelled.")

    def cancel_loading(self) -> None:
        for kind in ("open", "runs"):
            h = self._handles.get(kind)
            if h is not None and h.running:
                h.cancel()

    def is_loading(self) -> bool:
        return any(h is not None and h.running for k, h in self._handles.items()
                   if k in ("open", "runs"))

    def _load_counts(self) -> None:
        """Run counts per experiment, after the first table is up (it may read every run)."""
        store = self.store
        view = self.experiments.current_view()
        exp_ids = self.experiments.model.experiment_ids()

        if getattr(store, "kind", "") == "rest":
            return  # counting would page through every run of the server: not worth it

        def work(progress, cancel):
            stats = store.experiment_stats(view)
            counts = {str(e): 0 for e in exp_ids} | dict(zip(stats["experiment_id"], stats["runs"].tolist(), strict=True))
            last = {e: v for e, v in zip(stats["experiment_id"], stats["last_activity"], strict=True) if v == v}
            return counts, last

        self._start("counts", "counts", work, lambda res: self.experiments.set_counts(*res),
                    lambda exc: None)

    # -- columns -----------------------------------------------------------------------------
    def _layout_key(self) -> str:
        return f"{getattr(self.store, 'uri', self.target)}|{','.join(sorted(self._exp_ids))}"

    def _columns_for(self, frame) -> list[str]:
        available = list(C.ATTRIBUTES) + C.data_columns(frame.columns)
        layout = self.settings.column_layout(self._layout_key())
        return C.apply_layout(available, layout, multi_experiment=len(self._exp_ids) > 1,
                              view=self.experiments.current_view())

    def _columns_edited(self, visible: list[str]) -> None:
        self.settings.set_column_layout(
            self._layout_key(), C.make_layout(visible, self.runs.model.available_columns()))
        self.runs.set_columns(visible)

    def _columns_reset(self) -> None:
        self.settings.set_column_layout(self._layout_key(), None)
        if self._frame is not None:
            self.runs.set_columns(self._columns_for(self._frame))

    def choose_columns(self) -> None:
        dlg = ColumnChooser(self.runs.model.available_columns(), self.runs.model.visible_columns(), self)
        self._chooser = dlg  # tests reach it here
        result = dlg.exec()
        if result == QDialog.Accepted:
            self._columns_edited(dlg.visible())
        elif result == ColumnChooser.RESET:
            self._columns_reset()

    # -- detail ------------------------------------------------------------------------------
    def _runs_selected(self, ids: list[str]) -> None:
        if len(ids) > 1:
            names = {r: self.runs.model.value(r, "run_name") for r in ids}
            self.detail.show_selection(ids, names)
            self._detail_for = None
        elif not ids and not self.runs.current_run_id():
            self.detail.show_message("Select a run to see its details.")
            self._detail_for = None
        else:
            self._detail_timer.start()
        self._feed_charts(ids or ([self.runs.current_run_id()] if self.runs.current_run_id() else []))

    def _show_current_run(self) -> None:
        if len(self.runs.selected_run_ids()) > 1:
            return
        rid = self.runs.current_run_id()
        if rid is None or self.store is None:
            return
        if rid == self._detail_for and self.detail.run_id == rid:
            return
        self._detail_for = rid
        links = self._links(rid)
        self.detail.set_run(self._run_from_frame(rid), links)  # instant, from the table
        store = self.store

        def work(progress, cancel):
            run = store.run(rid)
            stats = {}
            keys = list(run.get("metrics", {}))
            if keys and not cancel():
                hist = store.metric_history([rid], keys)
                if len(hist):
                    g = hist.groupby("key")["value"]
                    stats = {k: (lo, hi, n) for k, lo, hi, n in
                             zip(g.min().index, g.min(), g.max(), g.count(), strict=False)}
            return rid, run, stats

        def done(res):
            rid_, run, stats = res
            if rid_ == self.runs.current_run_id():
                self.detail.set_run(run, self._links(rid_), stats)

        self._start("detail", "detail", work, done, lambda exc: self.statusMessage.emit(
            f"Could not read run {rid}: {user_message(exc)}"))

    def _run_from_frame(self, rid: str) -> dict:
        """What the table already knows about a run, in ``store.run()``'s shape."""
        m = self.runs.model
        f = m.frame
        row = m._row_of.get(rid)
        info, params, metrics, tags = {"run_id": rid}, {}, {}, {}
        if row is None:
            return {"info": info}
        rec = f.iloc[row]
        for key in ("experiment_id", "status", "artifact_uri", "run_name", "user_id", "lifecycle_stage"):
            if key in f.columns:
                info[key] = rec[key]
        info["start_time"] = m._cols["start_time"].values[row]
        info["end_time"] = m._cols["end_time"].values[row]
        for col in f.columns:
            v = rec[col]
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            if col.startswith("params."):
                params[col[7:]] = v
            elif col.startswith("metrics."):
                metrics[col[8:]] = {"value": v, "step": None}
            elif col.startswith("tags."):
                tags[col[5:]] = v
        return {"info": info, "params": params, "metrics": metrics, "tags": tags}

    def _links(self, rid: str) -> dict:
        m = self.runs.model
        parent = m.value(rid, "tags.mlflow.parentRunId") if "tags.mlflow.parentRunId" in m._cols else None
        exp = m.value(rid, "experiment")
        out = {"experiment": exp, "parent": None, "children": []}
        if isinstance(parent, str):
            out["parent"] = (parent, m.value(parent, "run_name"))
        out["children"] = [(c, m.value(c, "run_name")) for c in m.children_of(rid)]
        return out

    def select_run(self, run_id: str) -> None:
        if self.runs.model.contains(run_id):
            self.runs.select_run(run_id)
        else:
            self.statusMessage.emit(f"Run {run_id} is not in the table (another experiment, "
                                    "or hidden by the filter or search).")

    # -- charts (plugged in, optional) --------------------------------------------------------
    def _tab_changed(self, index: int) -> None:
        if self.detail_tabs.widget(index) is self.charts_holder:
            self._ensure_charts()

    def _ensure_charts(self):
        """Create the ChartPanel on first use: pyqtgraph stays off the path to the first window.

        The panel never reads the store: it asks with ``requestHistory`` and is answered
        here, from a worker."""
        if self._charts is None:
            cls = _charts_class()
            if cls is None:
                self._charts = False
                return None
            try:
                self._charts = cls()
            except Exception as exc:  # noqa: BLE001
                self._charts = False
                self.statusMessage.emit(f"Charts are unavailable: {exc}")
                return None
            if hasattr(self._charts, "requestHistory"):
                self._charts.requestHistory.connect(self._chart_history)
            scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
            scroll.setWidget(self._charts)  # its toolbar must not widen the whole window
            self.charts_holder.addWidget(scroll)
            self.charts_holder.setCurrentWidget(scroll)
            self._feed_charts_frame()
            self._feed_charts(self._chart_runs)
        return self._charts or None

    def _attach_charts_store(self) -> None:
        """A new store (open, reload): charts keep nothing from the old one."""
        if self._charts and hasattr(self._charts, "set_runs"):
            self._charts.set_runs([])
            self._feed_charts(self._chart_runs)

    def _feed_charts_frame(self) -> None:
        if self._charts and self._frame is not None and hasattr(self._charts, "set_params"):
            self._charts.set_params(self._frame)

    def _feed_charts(self, run_ids: list[str]) -> None:
        self._chart_runs = [r for r in run_ids if r]
        if not self._charts:
            return
        names = {r: self.runs.model.value(r, "run_name") or r[:8] for r in self._chart_runs}
        try:
            self._charts.set_runs(self._chart_runs, names)
        except Exception as exc:  # noqa: BLE001 - a chart bug must not take the table down
            self.statusMessage.emit(f"Charts: {exc}")

    def _chart_history(self, run_ids: list, keys: list) -> None:
        store = self.store
        if store is None:
            return
        run_ids, keys = list(run_ids), list(keys)

        def work(progress, cancel):
            return store.metric_history(run_ids, keys or None)

        def done(frame):
            if self._charts and store is self.store:
                self._charts.set_history(frame, run_ids, keys or None)

        self.tasks.start("history", work, done, self._task_failed)

    # -- problems, reload, watch -------------------------------------------------------------
    def _update_problems(self) -> None:
        problems = list(getattr(self.store, "problems", []) or [])
        self.problems.set_problems(problems)
        i = self.detail_tabs.indexOf(self.problems)
        self.detail_tabs.setTabText(i, f"Problems ({len(problems)})" if problems else "Problems")
        self.problemsChanged.emit(len(problems))

    def show_problems(self) -> None:
        self.detail_tabs.setCurrentWidget(self.problems)

    def reload(self, reopen: bool = True) -> None:
        """F5: read the store again from disk (a new Store, so no stale cache is kept)."""
        if reopen or self.store is None:
            self.open()
            return
        view = self.experiments.current_view()
        store = self.store

        def work(progress, cancel):
            return store.experiments(view)

        def done(exps):
            self.experiments.set_experiments(exps, self._exp_ids)
            self._exp_ids = self.experiments.selected_ids()
            self.loaded_once = False
            self.load_runs()

        self._start("experiments", "experiments", work, done)

    def set_watch(self, on: bool) -> None:
        self._watching = on
        self._update_watch()

    def _update_watch(self) -> None:
        on = getattr(self, "_watching", False)
        if on and not self._watch_timer.isActive():
            self._watch_timer.start()
        elif not on:
            self._watch_timer.stop()

    def running_runs(self) -> int:
        f = self._frame
        if f is None or "status" not in f:
            return 0
        return int((f["status"] == "RUNNING").sum())

    def _watch_tick(self) -> None:
        """Re-read when runs are RUNNING (their metrics and status move) or the store's files
        changed (a new run); otherwise a few stat() calls in a worker, nothing more."""
        if self.is_loading() or self.store is None:
            return
        h = self._handles.get("watch")
        if h is not None and h.running:
            return
        store = self.store
        loc = getattr(store, "location", None)
        ids, filt, view = list(self._exp_ids), self.runs.filter_text(), self.experiments.current_view()
        running = self.running_runs() > 0
        before = getattr(self, "_signature", None)

        def work(progress, cancel):
            sig = _signature(loc, ids)
            if not running and sig is not None and sig == before:
                return None
            store.refresh()  # cheap: unchanged runs come back from the signature cache
            return sig, store.runs(ids, filt, None, view, attributes=True)

        def done(res):
            if res is None:
                return
            sig, frame = res
            self._signature = sig
            self._detail_for = None
            self._runs_loaded((frame, filt, ids, 0.0), keep_selection=True)
            self._tail_charts()

        if before is None:
            self._signature = _signature(loc, ids)
        self._start("watch", "watch", work, done, lambda exc: None)

    def _tail_charts(self) -> None:
        """Curves of charted RUNNING runs grow by the points logged since the last look (the
        store reads only those: the end of each metric file, the rows past the last count)."""
        panel, store, frame = self._charts, self.store, self._frame
        if not panel or store is None or frame is None or "status" not in frame:
            return
        charted = panel.last_points()
        running = set(frame.loc[frame["status"] == "RUNNING", "run_id"])
        run_ids = sorted({r for r, _ in charted} & running)
        keys = sorted({k for r, k in charted if r in running})
        if not run_ids or not keys:
            return

        def work(progress, cancel):
            return store.metric_tail(run_ids, keys)

        def done(new):
            if len(new):
                panel.append_history(new)  # drops points it already has

        self._start("chart-tail", "chart-tail", work, done, lambda exc: None)

    def shutdown(self) -> None:
        self._watch_timer.stop()
        self.tasks.shutdown()
        if self.store is not None:
            try:
                self.store.close()
            except Exception:  # noqa: BLE001
                pass



def _signature(loc, experiment_ids) -> tuple | None:
    """Modification times that change when MLflow writes: the database (and its WAL), or the
    mlruns root and the selected experiment folders. None for a server (always re-read)."""
    path = getattr(loc, "path", None)
    if path is None:
        return None
    files = [path, path.with_name(path.name + "-wal")] if getattr(loc, "kind", "") == "sql" else (
        [path] + [path / e for e in experiment_ids])
    sig = []
    for f in files:
        try:
            st = f.stat()
            sig.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            sig.append((str(f), None, None))
    return tuple(sig)
