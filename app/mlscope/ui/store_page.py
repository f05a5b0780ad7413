"""One open store in one tab: lays out the views and wires the controllers together.

Behaviour lives in ``controllers/`` (loading, selection and detail, charts, watch, columns,
and one controller per feature); this page only places their views and routes signals, in
``_wire``. Layout: Experiments (and features placed "left") | the workspace tabs (Runs,
Charts, then the features) | Run detail and Problems.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QStackedWidget, QVBoxLayout, QWidget

from mlscope.core.secrets import redact

from .colors import RunColors
from .controllers.artifacts import ArtifactsController
from .controllers.charts import ChartsController
from .controllers.columns import ColumnsController
from .controllers.compare import CompareController
from .controllers.loading import LoadingController
from .controllers.registry import RegistryController
from .controllers.selection import SelectionController
from .controllers.watch import WatchController
from .dialogs.columns import ColumnChooser
from .settings import Settings
from .tasks import Tasks
from .views.cache_bar import CacheBar
from .views.detail import RunDetail
from .views.error_page import ErrorPage
from .views.experiments import ExperimentsPanel
from .views.panels import InfoBar, Panels
from .views.problems import ProblemsPanel
from .views.runs import RunsPanel


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
        self.tasks = Tasks(self)
        self.colors = RunColors(self, settings)
        self.loading = LoadingController(self.tasks, target, settings, experiment, self)
        self.selection = SelectionController(self.tasks, self)
        self.charts = ChartsController(self.tasks, self.colors, self)
        self.watch = WatchController(self.tasks, self)
        self.columns = ColumnsController(settings, self)
        self.features = []
        self._run_to_select: str | None = None

        self.experiments = ExperimentsPanel()
        self.runs = RunsPanel()
        self.runs.model.colors = self.colors.book
        self.detail = RunDetail()
        self.problems = ProblemsPanel()
        self.split = Panels(settings)
        self.left_tabs, self.workspace, self.detail_tabs = (
            self.split.left, self.split.workspace, self.split.detail)
        self.left_tabs.addTab(self.experiments, "Experiments")
        self.workspace.addTab(self.runs, "Runs")
        self.workspace.addTab(self.charts.view, "Charts")
        self.detail_tabs.addTab(self.detail, "Run")
        self.detail_tabs.addTab(self.problems, "Problems")

        self.error_page = ErrorPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.split)
        self.stack.addWidget(self.error_page)
        self.info_bar = InfoBar()
        self.cache_bar = CacheBar()  # a server's saved copy: cached while refreshing, or offline
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 4)
        lay.addWidget(self.info_bar)
        lay.addWidget(self.cache_bar)
        lay.addWidget(self.stack)
        self._wire()
        # -- features: one controller each, with its view in the workspace or the left panel --
        self.compare = CompareController(self.tasks, parent=self)
        self.add_feature(self.compare)
        self.charts.compareRequested.connect(self.compare_runs)  # from a chart's legend
        self.add_feature(ArtifactsController(self.tasks, settings=settings, parent=self))
        self.registry = RegistryController(self.tasks, parent=self)
        self.add_feature(self.registry)
        self.registry.storeReopened.connect(lambda _store: self.reload())  # after an upgrade
        self.registry.registrationsChanged.connect(self.selection.refresh_detail)
        self.registry.runInExperimentRequested.connect(self.jump_to_run)

    def add_feature(self, feature) -> None:
        """Place a feature's view and route the page's facts to it, its requests back."""
        self.features.append(feature)
        tabs = self.left_tabs if feature.placement == "left" else self.workspace
        tabs.addTab(feature.view, feature.title)
        feature.set_colors(self.colors)
        if self.loading.store is not None:
            feature.set_store(self.loading.store)
        self.loading.opened.connect(feature.set_store)
        self.loading.runsLoaded.connect(lambda frame, _keep: feature.set_frame(frame))
        self.selection.runsChanged.connect(feature.set_runs)
        feature.statusMessage.connect(self.statusMessage)
        feature.selectRunsRequested.connect(self._select_runs)
        feature.runActivated.connect(self.selection.select_run)

    # -- the routing -------------------------------------------------------------------------
    def _wire(self) -> None:
        e, r, ld, sel = self.experiments, self.runs, self.loading, self.selection
        e.selectionChanged.connect(self._experiments_selected)
        e.viewChanged.connect(ld.set_view)
        r.filterRequested.connect(ld.set_filter)
        r.currentRunChanged.connect(sel.set_current)
        r.selectionChanged.connect(sel.set_selection)
        r.columnsEdited.connect(self.columns.edited)
        r.columnsResetRequested.connect(lambda: self.columns.reset(ld.frame))
        r.chooseColumnsRequested.connect(self.choose_columns)
        r.cancelRequested.connect(ld.cancel_loading)
        r.compareRequested.connect(lambda _ids: self.show_view("compare"))
        self.columns.columnsChanged.connect(r.set_columns)
        ld.opened.connect(self._opened)
        ld.openFailed.connect(self._open_failed)
        ld.experimentsLoaded.connect(self._experiments_loaded)
        ld.loadingChanged.connect(lambda on, text: r.set_loading(on, text) if on else r.set_loading(False))
        ld.progress.connect(r.set_progress)
        ld.runsStreamed.connect(lambda f: r.set_runs(f, e.model.names(), self.columns.columns_for(f),
                                                     keep_selection=True))
        ld.runsLoaded.connect(self._runs_loaded)
        ld.filterFailed.connect(r.set_filter_error)
        ld.countsLoaded.connect(lambda c, last: e.set_counts(  # servers: the ones known so far
            ({i: 0 for i in e.model.experiment_ids()} if self.store.cheap_counts
             else e.model.counts) | c, last or e.model.last_run))
        ld.problemsChanged.connect(self._show_problems)
        ld.cacheState.connect(self.cache_bar.show_state)
        self.cache_bar.reconnectRequested.connect(self.open)
        sel.detailReady.connect(self._show_detail)
        sel.selectionSummary.connect(self.detail.show_selection)
        sel.detailMessage.connect(self.detail.show_message)
        sel.selectRunRequested.connect(r.select_run)
        sel.namesChanged.connect(self.charts.set_names)
        sel.runsChanged.connect(self.charts.set_runs)
        self.detail.runActivated.connect(sel.select_run)
        self.detail.metricActivated.connect(self.chart_metric)
        self.watch.busy = ld.is_loading
        self.watch.changed.connect(self._watch_changed)
        for c in (ld, sel, self.charts, self.watch):
            c.statusMessage.connect(self.statusMessage)
            if c is not ld:
                ld.opened.connect(c.set_store)
        self.workspace.currentChanged.connect(self._activate)
        self.left_tabs.currentChanged.connect(lambda i: self._activate(i, self.left_tabs))
        self.error_page.retryRequested.connect(self.open)
        self.error_page.closeRequested.connect(self.closeRequested)
        self.info_bar.linkActivated.connect(self.openRequested)

    def _activate(self, index: int, tabs=None) -> None:
        """A view was shown: build what it put off until needed."""
        widget = (tabs or self.workspace).widget(index)
        if widget is self.charts.view:
            self.charts.ensure()
        for f in self.features:
            if f.view is widget:
                f.activate()

    # -- what the controllers say ------------------------------------------------------------
    @property
    def store(self):
        return self.loading.store

    @property
    def loaded_once(self) -> bool:
        return self.loading.loaded_once

    def title(self) -> str:
        store = self.store
        if store is None:
            return redact(self.target)
        path = store.location.path
        if path is None:
            return redact(store.uri)
        return f"{path.parent.name}/{path.name}" if path.name in ("mlruns", "mlflow.db") else path.name

    def _opened(self, store) -> None:
        self._run_to_select = store.location.run_id
        self.experiments.model.counting = store.cheap_counts
        self.titleChanged.emit(self.title())
        self.opened.emit(store)
        self.info_bar.show_for(store)

    def _open_failed(self, msg: str) -> None:
        self.error_page.message.setText(msg)
        self.stack.setCurrentWidget(self.error_page)
        self.openFailed.emit(msg)

    def _experiments_loaded(self, exps, keep: list[str]) -> None:
        self.experiments.set_experiments(exps, keep)
        self.loading.experiment_ids = self.experiments.selected_ids()
        self._columns_scope()

    def _experiments_selected(self, ids: list[str]) -> None:
        self.runs.search_edit.clear()
        self.loading.select_experiments(ids)
        self._columns_scope()

    def _columns_scope(self) -> None:
        self.columns.store_uri = redact(getattr(self.store, "uri", self.target))
        self.columns.experiment_ids = list(self.loading.experiment_ids)
        self.columns.view = self.loading.view

    def _runs_loaded(self, frame, keep_selection: bool) -> None:
        names = self.experiments.model.names()
        self.runs.set_filter_error(None)
        self.runs.model.experiment_names = names
        self.runs.set_runs(frame, names, self.columns.columns_for(frame), keep_selection=keep_selection)
        self.selection.set_frame(frame, names)
        self.watch.set_frame(frame, self.loading.experiment_ids)
        self.charts.set_frame(frame)
        if self._run_to_select:
            rid, self._run_to_select = self._run_to_select, None
            self.runs.select_run(rid)
        elif not self.runs.current_run_id() and len(frame):
            top = self.runs.model.index(0, 0)
            if top.isValid():
                self.runs.select_run(self.runs.model.run_id(top))
        self.runsLoaded.emit(len(frame))

    def _show_detail(self, run: dict, links: dict, stats: dict) -> None:
        rid = run.get("info", {}).get("run_id")
        registered = self.registry.registered_as(rid) if rid else []
        self.detail.set_run(run, {**links, "registered": registered}, stats)

    def _show_problems(self, problems: list) -> None:
        self.problems.set_problems(problems)
        i = self.detail_tabs.indexOf(self.problems)
        self.detail_tabs.setTabText(i, f"Problems ({len(problems)})" if problems else "Problems")
        self.problemsChanged.emit(len(problems))

    def _select_runs(self, run_ids: list) -> None:
        ids = [r for r in run_ids if self.runs.model.contains(r)]
        self.runs.select_runs(ids, current=ids[0] if ids else None)

    def _watch_changed(self) -> None:
        self.loading.load_runs(keep_selection=True, quiet=True, refresh=True)
        self.loading.load_counts()

    # -- what the window asks ----------------------------------------------------------------
    def open(self) -> None:
        self.stack.setCurrentWidget(self.split)
        self.loading.open()

    def reload(self, reopen: bool = True) -> None:
        self.loading.reload(reopen)

    def load_runs(self) -> None:
        self.loading.load_runs()

    def is_loading(self) -> bool:
        return self.loading.is_loading()

    def select_run(self, run_id: str) -> None:
        self.selection.select_run(run_id)

    def set_watch(self, on: bool) -> None:
        self.watch.set_on(on)

    def running_runs(self) -> int:
        return self.watch.running_runs

    def show_view(self, name: str) -> bool:
        return self.split.show_view(name)

    def jump_to_run(self, run_id: str, experiment_id: str) -> None:
        """A link to a run that may be in another experiment: select that experiment, then
        the run once its runs are read (as a run named when the store was opened)."""
        if self.runs.model.contains(run_id) or experiment_id in self.loading.experiment_ids:
            self.selection.select_run(run_id)  # here, or hidden by the filter: it says so
            return
        if self.experiments.model.row_of(experiment_id) < 0:
            self.statusMessage.emit(f"Run {run_id} is in experiment {experiment_id}, which is "
                                    "not listed (deleted? switch the view to All).")
            return
        self._run_to_select = run_id
        self.experiments.select([experiment_id])  # reads its runs; _runs_loaded selects it

    def compare_runs(self, run_ids: list) -> None:
        """Compare these runs (picked in a chart's legend): the table selects them too."""
        self.compare.compare_runs(run_ids)
        self._select_runs(run_ids)
        self.show_view("compare")

    def chart_metric(self, key: str) -> None:
        """A metric name clicked in the run detail: its chart, for the selected runs."""
        self.show_view("charts")
        self.charts.ensure().set_checked_metrics([key])

    def show_problems(self) -> None:
        self.detail_tabs.setCurrentWidget(self.problems)

    def choose_columns(self) -> None:
        dlg = ColumnChooser(self.runs.model.available_columns(), self.runs.model.visible_columns(), self)
        self._chooser = dlg  # tests reach it here
        result = dlg.exec()
        if result == QDialog.Accepted:
            self.columns.edited(dlg.visible())
        elif result == ColumnChooser.RESET:
            self.columns.reset(self.loading.frame)

    def shutdown(self) -> None:
        self.watch.set_on(False)
        self.tasks.shutdown()
        if self.store is not None:
            try:
                self.store.close()
            except Exception:  # noqa: BLE001 - closing must not fail the window
                pass
