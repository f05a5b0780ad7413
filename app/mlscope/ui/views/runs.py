"""The runs table with its filter box, quick search, column controls and loading bar.

It only shows and asks: filtering with MLflow syntax is requested through ``filterRequested``
(the store does it, off the GUI thread); quick search, sorting and tree/flat happen in the
model on the frame already loaded.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPointF, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .. import theme
from ..models import BRANCH_ROLE, DEPTH_ROLE, RunsModel
from ..models import columns as C
from .filter_edit import FilterEdit

WIDTHS = {"status": 104, "run_name": 230, "start_time": 140, "duration": 80, "user_id": 90,
          "source": 130, "git_commit": 96, "experiment": 140, "run_id": 250, "end_time": 130,
          "lifecycle_stage": 80, "artifact_uri": 260}
FILTER_HINT = 'Filter runs: metrics.rmse < 6 and params.model = "Ridge"  (Enter to apply)'


INDENT = 18  # pixels per tree level
BRANCH_W = 16  # the expand arrow's box


class RunNameDelegate(QStyledItemDelegate):
    """The run-name column of a flattened tree: indentation by depth and an expand arrow."""

    def _branch_rect(self, option, depth: int) -> QRect:
        r = option.rect
        return QRect(r.left() + 2 + depth * INDENT, r.top(), BRANCH_W, r.height())

    def paint(self, painter, option, index) -> None:
        depth = index.data(DEPTH_ROLE) or 0
        branch = index.data(BRANCH_ROLE) or 0
        tree = index.model().has_children_rows()
        shift = (depth * INDENT + BRANCH_W + 4) if tree else 0
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else QApplication.style()
        # Background and selection across the full cell, then the text shifted right.
        text = opt.text
        opt.text = ""
        style.drawControl(QStyle.CE_ItemViewItem, opt, painter, opt.widget)
        opt.text = text
        opt.rect = option.rect.adjusted(shift, 0, 0, 0)
        opt.backgroundBrush = Qt.NoBrush
        opt.state &= ~QStyle.State_HasFocus
        painter.save()
        painter.setClipRect(option.rect)
        painter.setFont(opt.font)
        painter.setPen(index.data(Qt.ForegroundRole) or opt.palette.color(QPalette.Text))
        elided = QFontMetrics(opt.font).elidedText(text, Qt.ElideRight, opt.rect.width() - 6)
        painter.drawText(opt.rect.adjusted(4, 0, -2, 0), int(Qt.AlignVCenter | Qt.AlignLeft), elided)
        if branch:
            b = self._branch_rect(option, depth)
            c = b.center()
            painter.setRenderHint(QPainter.Antialiasing)
            painter.setPen(QPen(QColor("#64748b"), 1.6, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
            if branch == 1:  # closed: chevron right
                pts = [QPointF(c.x() - 2, c.y() - 4), QPointF(c.x() + 2, c.y()), QPointF(c.x() - 2, c.y() + 4)]
            else:  # open: chevron down
                pts = [QPointF(c.x() - 4, c.y() - 2), QPointF(c.x(), c.y() + 2), QPointF(c.x() + 4, c.y() - 2)]
            painter.drawPolyline(pts)
        painter.restore()

    def branch_hit(self, view, index, pos) -> bool:
        if not (index.data(BRANCH_ROLE) or 0):
            return False
        rect = view.visualRect(index)
        option = QStyleOptionViewItem()
        option.rect = rect
        return self._branch_rect(option, index.data(DEPTH_ROLE) or 0).adjusted(-3, 0, 3, 0).contains(pos)


class RunsTable(QTableView):
    """The table: fixed row height (no per-row layout work at 100k rows), multi-select, sort
    by header, and the keys of a tree: Right opens a parent, Left closes it or goes up."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSortingEnabled(True)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollPerPixel)
        v = self.verticalHeader()
        v.hide()
        v.setSectionResizeMode(QHeaderView.Fixed)
        v.setDefaultSectionSize(self.fontMetrics().height() + 9)
        h = self.horizontalHeader()
        h.setSectionsMovable(True)
        h.setStretchLastSection(False)
        h.setDefaultSectionSize(110)
        h.setMinimumSectionSize(40)
        h.setSortIndicatorShown(True)
        h.setHighlightSections(False)
        h.setContextMenuPolicy(Qt.CustomContextMenu)
        h.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.name_delegate = RunNameDelegate(self)

    def header(self) -> QHeaderView:
        return self.horizontalHeader()

    def set_name_column(self, column: int) -> None:
        for c in range(self.model().columnCount() if self.model() else 0):
            self.setItemDelegateForColumn(c, None)
        if column >= 0:
            self.setItemDelegateForColumn(column, self.name_delegate)

    def _name_column(self) -> int:
        m = self.model()
        keys = m.visible_columns() if m is not None else []
        return keys.index("run_name") if "run_name" in keys else -1

    def mousePressEvent(self, event) -> None:
        index = self.indexAt(event.position().toPoint())
        if (index.isValid() and index.column() == self._name_column()
                and self.name_delegate.branch_hit(self, index, event.position().toPoint())):
            self.model().toggle(self.model().run_id(index))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        index = self.indexAt(event.position().toPoint())
        if index.isValid() and (index.data(BRANCH_ROLE) or 0):
            self.model().toggle(self.model().run_id(index))
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event) -> None:
        index = self.currentIndex()
        m = self.model()
        if index.isValid() and event.modifiers() == Qt.NoModifier and event.key() in (Qt.Key_Right, Qt.Key_Left):
            rid = m.run_id(index)
            branch = index.data(BRANCH_ROLE) or 0
            if event.key() == Qt.Key_Right and branch == 1:
                m.set_expanded(rid, True)
                return
            if event.key() == Qt.Key_Left:
                if branch == 2:
                    m.set_expanded(rid, False)
                    return
                parent = m.value(rid, "tags.mlflow.parentRunId") if m.has_children_rows() else None
                pidx = m.index_of(parent, index.column()) if isinstance(parent, str) else None
                if pidx is not None and pidx.isValid():
                    self.setCurrentIndex(pidx)
                    return
        super().keyPressEvent(event)


class RunsPanel(QWidget):
    filterRequested = Signal(str)  # MLflow search syntax; "" clears
    currentRunChanged = Signal(object)  # run_id or None
    selectionChanged = Signal(list)  # run ids
    columnsEdited = Signal(list)  # visible keys in order, after a user change
    columnsResetRequested = Signal()
    chooseColumnsRequested = Signal()
    cancelRequested = Signal()
    treeToggled = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = RunsModel(self)
        self._widths: dict[str, int] = {}
        self._applying = False

        self.filter_edit = FilterEdit()
        self.filter_edit.setObjectName("filterEdit")
        self.filter_edit.setPlaceholderText(FILTER_HINT)
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.addAction(theme.icon("filter"), QLineEdit.LeadingPosition)
        self.search_edit = QLineEdit(objectName="searchEdit")
        self.search_edit.setPlaceholderText("Search names, params, tags")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.addAction(theme.icon("search"), QLineEdit.LeadingPosition)
        self.search_edit.setMaximumWidth(260)
        self.tree_button = QToolButton(objectName="treeButton", checkable=True, checked=True)
        self.tree_button.setIcon(theme.icon("tree"))
        self.tree_button.setToolTip("Show child runs under their parent")
        self.columns_button = QToolButton(objectName="columnsButton")
        self.columns_button.setIcon(theme.icon("columns"))
        self.columns_button.setText("Columns")
        self.columns_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.columns_button.setToolTip("Show, hide and reorder columns")
        self.count_label = QLabel(objectName="runCount")

        self.error_label = QLabel(objectName="filterError", wordWrap=True)
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.hide()

        self.progress = QProgressBar(objectName="loadProgress")
        self.progress.setMaximumWidth(260)
        self.progress.setFormat("%v / %m runs")
        self.progress_label = QLabel("Loading runs…")
        self.cancel_button = QPushButton("Cancel", objectName="cancelButton")
        self.loading_bar = QWidget(objectName="loadingBar")
        lb = QHBoxLayout(self.loading_bar)
        lb.setContentsMargins(0, 0, 0, 0)
        lb.addWidget(self.progress_label)
        lb.addWidget(self.progress, 1)
        lb.addWidget(self.cancel_button)
        lb.addStretch(1)
        self.loading_bar.hide()

        self.view = RunsTable(self)
        self.view.setObjectName("runsView")
        self.view.setModel(self.model)
        self.empty_label = QLabel("", objectName="emptyHint", alignment=Qt.AlignCenter)
        self.empty_label.hide()

        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.filter_edit, 3)
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.tree_button)
        top.addWidget(self.columns_button)
        top.addWidget(self.count_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addWidget(self.error_label)
        lay.addWidget(self.loading_bar)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.empty_label, 1)

        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._make_actions()
        self._wire()

    # -- wiring ---------------------------------------------------------------------------------
    def _make_actions(self) -> None:
        def act(text, shortcut, slot, icon=None):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            if icon:
                a.setIcon(theme.icon(icon))
            a.triggered.connect(slot)
            self.view.addAction(a)
            return a

        self.copy_id_action = act("Copy Run ID", QKeySequence.Copy, self.copy_run_ids, "copy")
        self.copy_csv_action = act("Copy as CSV", "Ctrl+Shift+C", self.copy_csv)
        self.expand_action = act("Expand All", "Ctrl+Right", self.expand_all)
        self.collapse_action = act("Collapse All", "Ctrl+Left", self.collapse_all)
        focus_search = QAction(self)
        focus_search.setShortcut(QKeySequence.Find)
        focus_search.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        focus_search.triggered.connect(lambda: (self.search_edit.setFocus(), self.search_edit.selectAll()))
        self.addAction(focus_search)
        focus_filter = QAction(self)
        focus_filter.setShortcut(QKeySequence("Ctrl+L"))
        focus_filter.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        focus_filter.triggered.connect(lambda: (self.filter_edit.setFocus(), self.filter_edit.selectAll()))
        self.addAction(focus_filter)

    def _wire(self) -> None:
        self.filter_edit.returnPressed.connect(self._submit_filter)
        self.filter_edit.textChanged.connect(self._filter_text_changed)
        self.search_edit.textChanged.connect(lambda _: self._search_timer.start())
        self._search_timer.timeout.connect(self._apply_search)
        self.tree_button.toggled.connect(self._set_tree)
        self.columns_button.clicked.connect(self.chooseColumnsRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.customContextMenuRequested.connect(self._context_menu)
        h = self.view.header()
        h.sectionMoved.connect(self._section_moved)
        h.sectionResized.connect(self._section_resized)
        h.customContextMenuRequested.connect(self._header_menu)
        h.sortIndicatorChanged.connect(lambda *_: QTimer.singleShot(0, self._update_count))

    # -- filter and search -----------------------------------------------------------------
    def _submit_filter(self) -> None:
        self.filterRequested.emit(self.filter_edit.text().strip())

    def _filter_text_changed(self, text: str) -> None:
        if not text:  # the clear button: show everything again
            self.set_filter_error(None)
            self.filterRequested.emit("")

    def set_filter_error(self, message: str | None) -> None:
        """MLflow's own parser message, inline under the box (never a dialog)."""
        self.filter_edit.setProperty("error", bool(message))
        self.filter_edit.style().unpolish(self.filter_edit)
        self.filter_edit.style().polish(self.filter_edit)
        if message:
            self.error_label.setText(f"Invalid filter: {message}")
            self.error_label.show()
        else:
            self.error_label.clear()
            self.error_label.hide()

    def filter_text(self) -> str:
        return self.filter_edit.text().strip()

    def _apply_search(self) -> None:
        keep = self.selected_run_ids()
        self.model.set_quick_filter(self.search_edit.text())
        self._after_reset(keep)

    def _set_tree(self, tree: bool) -> None:
        keep = self.selected_run_ids()
        self.model.set_tree(tree)
        self._after_reset(keep)
        self.treeToggled.emit(tree)

    # -- data ------------------------------------------------------------------------------
    def set_runs(self, frame, experiment_names: dict[str, str], columns: list[str],
                 keep_selection: bool = True) -> None:
        """New frame (a load, a filter, a refresh): keep sort, selection and expanded parents."""
        keep = self.selected_run_ids() if keep_selection else []
        current = self.current_run_id() if keep_selection else None
        self._applying = True
        self.model.set_frame(frame, experiment_names)
        self.model.set_columns(columns)
        self.filter_edit.set_columns(self.model.available_columns())
        self._restore_header()
        self._applying = False
        self._after_reset(keep, current)

    def set_columns(self, keys: list[str]) -> None:
        keep = self.selected_run_ids()
        current = self.current_run_id()
        self._applying = True
        self.model.set_columns(keys)
        self._restore_header()
        self._applying = False
        self._after_reset(keep, current)

    def _restore_header(self) -> None:
        h = self.view.header()
        fm = h.fontMetrics()
        for i, key in enumerate(self.model.visible_columns()):
            w = self._widths.get(key) or WIDTHS.get(key)
            if key == "run_name" and self.model.has_children_rows() and not self._widths.get(key):
                w += 2 * INDENT
            if not w:  # data columns: wide enough for their MLflow name, within reason
                w = min(230, max(90, fm.horizontalAdvance(C.title(key)) + 34))
            h.resizeSection(i, w)
        key, order = self.model.sort_state()
        vis = self.model.visible_columns()
        self.view.set_name_column(vis.index("run_name") if "run_name" in vis else -1)
        h.blockSignals(True)
        if key in vis:
            h.setSortIndicator(vis.index(key), order)
        else:
            h.setSortIndicator(-1, Qt.AscendingOrder)
        h.blockSignals(False)

    def _after_reset(self, keep: list[str], current: str | None = None) -> None:
        if keep or current:
            self.select_runs(keep, current=current or (keep[0] if keep else None), scroll=False)
        else:
            self._selection_changed()
        self._update_count()

    def _update_count(self) -> None:
        total = self.model.total_runs()
        shown = self.model.shown_runs()
        if shown != total:
            self.count_label.setText(f"{shown:,} of {total:,} runs")
        else:
            self.count_label.setText(f"{total:,} run" + ("" if total == 1 else "s"))
        empty = total == 0 or shown == 0
        self.empty_label.setVisible(empty and not self.loading_bar.isVisible())
        if empty:
            if total == 0 and self.filter_text():
                self.empty_label.setText("No runs match this filter.")
            elif total == 0:
                self.empty_label.setText("No runs in this experiment yet.")
            else:
                self.empty_label.setText("No runs match this search.")
        self.view.setVisible(not empty or self.loading_bar.isVisible())

    def expand_all(self) -> None:
        keep, current = self.selected_run_ids(), self.current_run_id()
        self.model.set_all_expanded(True)
        self._after_reset(keep, current)

    def collapse_all(self) -> None:
        keep, current = self.selected_run_ids(), self.current_run_id()
        self.model.set_all_expanded(False)
        self._after_reset([k for k in keep if self.model.index_of(k).isValid()], current
                          if current and self.model.index_of(current).isValid() else None)

    # -- loading ---------------------------------------------------------------------------
    def set_loading(self, loading: bool, text: str = "Loading runs…") -> None:
        self.progress_label.setText(text)
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.loading_bar.setVisible(loading)
        if loading:
            self.empty_label.hide()
            self.view.show()
        else:
            self._update_count()

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    # -- selection -------------------------------------------------------------------------
    def selected_run_ids(self) -> list[str]:
        sm = self.view.selectionModel()
        if sm is None:
            return []
        ids = []
        for idx in sm.selectedRows(0):
            rid = self.model.run_id(idx)
            if rid is not None:
                ids.append(rid)
        return ids

    def current_run_id(self) -> str | None:
        return self.model.run_id(self.view.currentIndex())

    def select_runs(self, run_ids: list[str], current: str | None = None, scroll: bool = True) -> None:
        sm = self.view.selectionModel()
        sm.blockSignals(True)
        sm.clearSelection()
        first_idx = QModelIndex()
        for rid in run_ids:
            self.model.reveal(rid)  # a child's parent must be open for it to be seen
            idx = self.model.index_of(rid)
            if not idx.isValid():
                continue
            if not first_idx.isValid():
                first_idx = idx
            sm.select(idx, QItemSelectionModel.Select | QItemSelectionModel.Rows)
        cur = self.model.index_of(current) if current else first_idx
        if cur.isValid():
            sm.setCurrentIndex(cur, QItemSelectionModel.NoUpdate)
            if scroll:
                self.view.scrollTo(cur, QAbstractItemView.PositionAtCenter)
        sm.blockSignals(False)
        self._selection_changed()
        self.currentRunChanged.emit(self.current_run_id() if cur.isValid() else None)

    def select_run(self, run_id: str) -> None:
        self.select_runs([run_id], current=run_id)

    def _selection_changed(self, *_):
        self.selectionChanged.emit(self.selected_run_ids())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.currentRunChanged.emit(self.model.run_id(current))

    # -- copy ------------------------------------------------------------------------------
    def copy_run_ids(self) -> None:
        ids = self.selected_run_ids() or ([self.current_run_id()] if self.current_run_id() else [])
        if ids:
            QGuiApplication.clipboard().setText("\n".join(ids))

    def copy_csv(self) -> None:
        ids = self.selected_run_ids()
        QGuiApplication.clipboard().setText(self.model.to_csv(ids or None))

    # -- menus and header ----------------------------------------------------------------------
    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction(self.copy_id_action)
        menu.addAction(self.copy_csv_action)
        menu.addSeparator()
        if self.model.has_children_rows():
            menu.addAction(self.expand_action)
            menu.addAction(self.collapse_action)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def _header_menu(self, pos) -> None:
        h = self.view.header()
        col = h.logicalIndexAt(pos)
        key = self.model.column_key(col)
        menu = QMenu(self)
        if key is not None and len(self.model.visible_columns()) > 1:
            hide = menu.addAction(f"Hide “{C.title(key)}”")
            hide.triggered.connect(lambda: self._hide_column(key))
        menu.addAction(theme.icon("columns"), "Columns…", self.chooseColumnsRequested)
        menu.addAction("Reset Columns", self.columnsResetRequested)
        menu.exec(h.mapToGlobal(pos))

    def _hide_column(self, key: str) -> None:
        vis = [k for k in self.model.visible_columns() if k != key]
        self.columnsEdited.emit(vis)

    def _section_moved(self, logical: int, old_visual: int, new_visual: int) -> None:
        """A header drag: turn the visual order into the model's column order, then put the
        header back to identity so logical == visual stays true everywhere else."""
        if self._applying:
            return
        h = self.view.header()
        order = [self.model.column_key(h.logicalIndex(v)) for v in range(h.count())]
        h.blockSignals(True)
        h.moveSection(new_visual, old_visual)
        h.blockSignals(False)
        self.columnsEdited.emit([k for k in order if k])

    def _section_resized(self, logical: int, _old: int, new: int) -> None:
        if not self._applying:
            key = self.model.column_key(logical)
            if key:
                self._widths[key] = new
