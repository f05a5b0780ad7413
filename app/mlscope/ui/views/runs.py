"""The runs table with its filter box, quick search, column controls and loading bar.

It only shows and asks: filtering with MLflow syntax is requested through ``filterRequested``
(the store does it, off the GUI thread); quick search, sorting and tree/flat happen in the
model on the frame already loaded.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPointF, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFontMetrics,
    QGuiApplication,
    QIcon,
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
from ..models.runs import COUNT_ROLE
from .filter_edit import FilterEdit

WIDTHS = {"status": 104, "run_name": 230, "start_time": 140, "duration": 80, "user_id": 90,
          "source": 130, "git_commit": 96, "experiment": 140, "run_id": 250, "end_time": 130,
          "lifecycle_stage": 80, "artifact_uri": 260}
FILTER_HINT = 'Filter runs: metrics.rmse < 6 and params.model = "Ridge"  (Enter to apply)'


_FILTER_KEY = re.compile(
    r"(?<![\w.`])(metrics|params|tags)\.(?:`([^`]+)`|\"([^\"]+)\"|([A-Za-z0-9_][\w.\-/]*))")


def filter_columns(text: str) -> list[str]:
    """Table columns an MLflow filter names, in order: ``metrics.rmse < 6 and params.`a-b` = 1``
    gives ``["metrics.rmse", "params.a-b"]``."""
    out = []
    for m in _FILTER_KEY.finditer(text or ""):
        key = f"{m.group(1)}.{m.group(2) or m.group(3) or m.group(4)}"
        if key not in out:
            out.append(key)
    return out


INDENT = 18  # pixels per tree level
BRANCH_W = 16  # the expand arrow's box


SWATCH_W = 10  # the run's colour dot
GAP = 5


class RunNameDelegate(QStyledItemDelegate):
    """The run-name column of a flattened tree: indentation by depth, an expand arrow, the
    run's colour dot and then the name, each in its own box so nothing covers the text; a
    parent's child count stays visible however long its name (the name is elided first)."""

    def _branch_rect(self, option, depth: int) -> QRect:
        r = option.rect
        return QRect(r.left() + 2 + depth * INDENT, r.top(), BRANCH_W, r.height())

    def layout(self, option, index) -> tuple[QRect | None, QRect]:
        """(swatch rect or None, text rect) of a cell: what paint() uses, and tests check."""
        r = option.rect
        tree = index.model().has_children_rows()
        x = r.left() + ((index.data(DEPTH_ROLE) or 0) * INDENT + BRANCH_W + 4 if tree else 4)
        swatch = None
        if index.data(Qt.DecorationRole) is not None:
            swatch = QRect(x, r.top() + (r.height() - SWATCH_W) // 2, SWATCH_W, SWATCH_W)
            x += SWATCH_W + GAP
        return swatch, QRect(x, r.top(), max(0, r.right() - 2 - x), r.height())

    @staticmethod
    def texts(text: str, count: int, fm: QFontMetrics, width: int) -> tuple[str, str]:
        """(name elided to leave room for the count, the count): the count is never cut."""
        suffix = f"  ({count})"
        name = text[: -len(suffix)] if count and text.endswith(suffix) else text
        count_text = f"({count})" if count else ""
        room = width - (fm.horizontalAdvance(count_text) + GAP if count else 0)
        return fm.elidedText(name, Qt.ElideRight, max(0, room)), count_text

    def paint(self, painter, option, index) -> None:
        depth = index.data(DEPTH_ROLE) or 0
        branch = index.data(BRANCH_ROLE) or 0
        count = index.data(COUNT_ROLE) or 0
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else QApplication.style()
        # Background and selection across the full cell; the dot and the text after it.
        text = opt.text
        icon = index.data(Qt.DecorationRole)
        opt.text = ""
        opt.icon = QIcon()
        opt.features &= ~QStyleOptionViewItem.HasDecoration
        style.drawControl(QStyle.CE_ItemViewItem, opt, painter, opt.widget)
        swatch, rect = self.layout(option, index)
        painter.save()
        painter.setClipRect(option.rect)
        if swatch is not None and isinstance(icon, QIcon) and not icon.isNull():
            icon.paint(painter, swatch)
        fm = QFontMetrics(opt.font)
        name, count_text = self.texts(text, count, fm, rect.width())
        count_w = fm.horizontalAdvance(count_text) + GAP if count else 0
        color = index.data(Qt.ForegroundRole) or opt.palette.color(QPalette.Text)
        painter.setFont(opt.font)
        painter.setPen(color)
        painter.drawText(rect, int(Qt.AlignVCenter | Qt.AlignLeft), name)
        if count:
            x = rect.left() + fm.horizontalAdvance(name) + GAP
            painter.setPen(QColor("#64748b"))
            painter.drawText(QRect(x, rect.top(), count_w, rect.height()),
                             int(Qt.AlignVCenter | Qt.AlignLeft), count_text)
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


# The sort arrow in its own box at the right of the section, clear of the title.
HEADER_CSS = """
QHeaderView::section { padding-right: 16px; }
QHeaderView::up-arrow, QHeaderView::down-arrow {
    subcontrol-origin: padding; subcontrol-position: center right; right: 3px;
    width: 10px; height: 10px; }
"""


class BranchClicks:
    """Folding a parent run's children from the view: a click on the branch arrow in the name
    column, or a double click on a row that has children. For the table and its pinned
    name column alike (each has a ``name_delegate``)."""

    def _branch_column(self, index) -> bool:
        return True

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        index = self.indexAt(event.position().toPoint())
        if (index.isValid() and self._branch_column(index)
                and self.name_delegate.branch_hit(self, index, event.position().toPoint())):
            self.model().toggle(self.model().run_id(index))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt override
        index = self.indexAt(event.position().toPoint())
        if index.isValid() and (index.data(BRANCH_ROLE) or 0):
            self.model().toggle(self.model().run_id(index))
            return
        super().mouseDoubleClickEvent(event)


class RunsTable(BranchClicks, QTableView):
    """The table: fixed row height (no per-row layout work at 100k rows), multi-select, sort
    by header, and the keys of a tree: Right opens a parent, Left closes it or goes up.
    Run Name, when it is the first column, is pinned: it stays while scrolling sideways."""

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
        h.setStyleSheet(HEADER_CSS)
        self.name_delegate = RunNameDelegate(self)
        self.frozen = FrozenColumn(self)
        self.frozen.hide()
        fh = self.frozen.horizontalHeader()
        fh.sectionClicked.connect(self._frozen_header_clicked)
        fh.sectionResized.connect(lambda i, _o, new: i == 0 and h.resizeSection(0, new))
        h.sectionResized.connect(self._section_resized)
        h.sortIndicatorChanged.connect(lambda *_: self._sync_sort_indicator())
        self.frozen.customContextMenuRequested.connect(
            lambda pos: self.customContextMenuRequested.emit(
                self.viewport().mapFromGlobal(self.frozen.viewport().mapToGlobal(pos))))
        self.frozen.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        self.verticalScrollBar().valueChanged.connect(self.frozen.verticalScrollBar().setValue)

    def header(self) -> QHeaderView:
        return self.horizontalHeader()

    # -- the pinned column -------------------------------------------------------------------
    def setModel(self, model) -> None:
        super().setModel(model)
        self.frozen.setModel(model)
        self.frozen.setSelectionModel(self.selectionModel())
        for sig in (model.modelReset, model.layoutChanged, model.columnsInserted,
                    model.columnsRemoved):
            sig.connect(self.sync_frozen)
        self.sync_frozen()

    def pinned(self) -> bool:
        """Run Name is the first column (and not the only one): it is pinned."""
        m = self.model()
        return (m is not None and m.columnCount() > 1 and m.column_key(0) == "run_name"
                and not self.isColumnHidden(0))

    def sync_frozen(self, *_) -> None:
        on = self.pinned()
        self.frozen.setVisible(on)
        if not on:
            return
        m = self.model()
        for c in range(m.columnCount()):
            self.frozen.setColumnHidden(c, c != 0)
        self.frozen.setItemDelegateForColumn(0, self.name_delegate)
        self.frozen.setColumnWidth(0, self.columnWidth(0))
        self._sync_sort_indicator()
        self._place_frozen()
        self.frozen.verticalScrollBar().setValue(self.verticalScrollBar().value())

    def _sync_sort_indicator(self) -> None:
        h, fh = self.horizontalHeader(), self.frozen.horizontalHeader()
        fh.setSortIndicator(0 if h.sortIndicatorSection() == 0 else -1, h.sortIndicatorOrder())

    def _frozen_header_clicked(self, _section: int) -> None:
        """A click on the pinned header sorts as a click on the table's would."""
        h = self.horizontalHeader()
        ascending = h.sortIndicatorSection() != 0 or h.sortIndicatorOrder() == Qt.DescendingOrder
        h.setSortIndicator(0, Qt.AscendingOrder if ascending else Qt.DescendingOrder)

    def _section_resized(self, logical: int, _old: int, new: int) -> None:
        if logical == 0 and self.frozen.isVisible():
            self.frozen.setColumnWidth(0, new)
            self._place_frozen()

    def _place_frozen(self) -> None:
        fw = self.frameWidth()
        self.frozen.setGeometry(fw, fw, self.columnWidth(0),
                                self.viewport().height() + self.horizontalHeader().height())
        self.frozen.horizontalHeader().setFixedHeight(self.horizontalHeader().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if getattr(self, "frozen", None) is not None and self.frozen.isVisible():
            self._place_frozen()

    def updateGeometries(self) -> None:
        super().updateGeometries()
        if getattr(self, "frozen", None) is not None and self.frozen.isVisible():
            self._place_frozen()

    def scrollTo(self, index, hint=QAbstractItemView.EnsureVisible) -> None:
        """Scrolling to a run keeps the sideways position (its name is pinned); a column that
        would end up under the pinned one is shown beside it."""
        if not self.frozen.isVisible() or not index.isValid():
            super().scrollTo(index, hint)
            return
        bar = self.horizontalScrollBar()
        keep = bar.value()
        super().scrollTo(index, hint)
        if index.column() == 0:
            bar.setValue(keep)
            return
        x = self.columnViewportPosition(index.column())
        if x < self.columnWidth(0):
            bar.setValue(bar.value() + x - self.columnWidth(0))

    def reveal_column(self, column: int) -> None:
        """Scroll sideways so that ``column`` is in view, beside the pinned name."""
        if column < 0:
            return
        bar = self.horizontalScrollBar()
        left = self.columnWidth(0) if self.frozen.isVisible() else 0
        x = self.columnViewportPosition(column)
        w = self.columnWidth(column)
        width = self.viewport().width()
        if x < left:
            bar.setValue(bar.value() + x - left)
        elif x + w > width:
            bar.setValue(bar.value() + min(x + w - width, x - left))

    def set_name_column(self, column: int) -> None:
        for c in range(self.model().columnCount() if self.model() else 0):
            self.setItemDelegateForColumn(c, None)
        if column >= 0:
            self.setItemDelegateForColumn(column, self.name_delegate)
        self.sync_frozen()

    def _name_column(self) -> int:
        m = self.model()
        keys = m.visible_columns() if m is not None else []
        return keys.index("run_name") if "run_name" in keys else -1

    def _branch_column(self, index) -> bool:
        return index.column() == self._name_column()

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



class FrozenColumn(BranchClicks, QTableView):
    """The pinned Run Name: a second view over the table's first column that stays put while
    the table scrolls sideways (Qt's frozen column example). It shares the model and the
    selection; clicks, the header and the context menu act on the table."""

    def __init__(self, table: RunsTable):
        super().__init__(table)
        self.table = table
        self.setObjectName("runsFrozen")
        self.setFocusPolicy(Qt.NoFocus)
        self.verticalHeader().hide()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.setStyleSheet(theme.themed(
            "QTableView#runsFrozen { border: none; border-right: 1px solid #d7dce3;"
            " border-radius: 0; }") + HEADER_CSS)
        v = self.verticalHeader()
        v.setSectionResizeMode(QHeaderView.Fixed)
        v.setDefaultSectionSize(table.verticalHeader().defaultSectionSize())
        h = self.horizontalHeader()
        h.setSectionsMovable(False)
        h.setSortIndicatorShown(True)
        h.setHighlightSections(False)
        h.setMinimumSectionSize(40)
        h.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        h.setContextMenuPolicy(Qt.CustomContextMenu)

    def mousePressEvent(self, event) -> None:
        self.table.setFocus(Qt.MouseFocusReason)
        super().mousePressEvent(event)

    @property
    def name_delegate(self):
        return self.table.name_delegate

    def wheelEvent(self, event) -> None:
        QApplication.sendEvent(self.table.viewport(), event)


class RunsPanel(QWidget):
    filterRequested = Signal(str)  # MLflow search syntax; "" clears
    currentRunChanged = Signal(object)  # run_id or None
    selectionChanged = Signal(list)  # run ids
    columnsEdited = Signal(list)  # visible keys in order, after a user change
    columnsResetRequested = Signal()
    chooseColumnsRequested = Signal()
    cancelRequested = Signal()
    treeToggled = Signal(bool)
    compareRequested = Signal(list)  # the selected run ids (Ctrl+D, the menu, the button)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = RunsModel(self)
        self._widths: dict[str, int] = {}
        self._applying = False
        self.attributes_collapsed = False
        self._reveal: str | None = None  # a column the filter or the sort named: show it
        self._requested_filter = ""  # the text last sent to the store
        self.applied_filter = ""  # the filter the rows answer
        self._filter_error: str | None = None

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
        self.search_edit.setMinimumWidth(140)  # a word typed stays readable beside a long filter
        self.tree_button = QToolButton(objectName="treeButton", checkable=True, checked=True)
        self.tree_button.setIcon(theme.icon("tree"))
        self.tree_button.setToolTip("Show child runs under their parent")
        self.columns_button = QToolButton(objectName="columnsButton")
        self.columns_button.setIcon(theme.icon("columns"))
        self.columns_button.setText("Columns")
        self.columns_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.columns_button.setToolTip("Show, hide and reorder columns")
        self.compare_button = QToolButton(objectName="compareButton", text="Compare")
        self.compare_button.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.compare_button.setToolTip("Compare the selected runs: params, metrics, tags (Ctrl+D)")
        self.compare_button.setEnabled(False)
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
        top.addWidget(self.compare_button)
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
        self.compare_action = act("Compare Selected Runs", "Ctrl+D", self._compare)
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
        self.compare_button.clicked.connect(self._compare)
        self.selectionChanged.connect(lambda ids: self.compare_button.setEnabled(len(ids) >= 2))
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.customContextMenuRequested.connect(self._context_menu)
        h = self.view.header()
        h.sectionMoved.connect(self._section_moved)
        h.sectionResized.connect(self._section_resized)
        h.customContextMenuRequested.connect(lambda pos: self._header_menu(h.logicalIndexAt(pos), h.mapToGlobal(pos)))
        fh = self.view.frozen.horizontalHeader()
        fh.customContextMenuRequested.connect(lambda pos: self._header_menu(0, fh.mapToGlobal(pos)))
        h.sortIndicatorChanged.connect(self._sort_changed)

    # -- filter and search -----------------------------------------------------------------
    def _submit_filter(self) -> None:
        text = self.filter_edit.text().strip()
        self._requested_filter = text
        keys = [k for k in filter_columns(text) if k in self.model.available_columns()]
        if keys:
            self._reveal = keys[0]
            self._reveal_pending()
        self.filterRequested.emit(text)

    def _filter_text_changed(self, text: str) -> None:
        if not text:  # the clear button: show everything again
            self.set_filter_error(None)
            self._requested_filter = ""
            self.filterRequested.emit("")

    def set_filter_error(self, message: str | None) -> None:
        """MLflow's parser message for a filter that does not parse, inline under the box
        (never a dialog), after a sentence of ours. The rows stay, dimmed, and the count says
        they answer the last valid filter: never passed off as the answer to this one."""
        self._filter_error = message or None
        self.filter_edit.setProperty("error", bool(message))
        self.filter_edit.style().unpolish(self.filter_edit)
        self.filter_edit.style().polish(self.filter_edit)
        self.model.set_stale(bool(message))
        if message:
            last = (f"the last valid filter ({self.applied_filter})" if self.applied_filter
                    else "the last valid filter (none: all runs)")
            self.error_label.setText(
                "Invalid filter: it is not MLflow search syntax, so it was not applied, and the "
                f"dimmed rows below are those of {last}. MLflow's parser says: {message}")
            self.error_label.setToolTip(message)
            self.error_label.show()
        else:
            self.error_label.clear()
            self.error_label.hide()
        self._update_count()

    def is_stale(self) -> bool:
        """The rows answer an older filter than the one in the box (which does not parse)."""
        return self._filter_error is not None

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
        if not self.is_stale():
            self.applied_filter = self._requested_filter
        self._applying = True
        self.model.set_frame(frame, experiment_names)
        self.model.set_columns(columns)
        self.filter_edit.set_columns(self.model.available_columns())
        self._restore_header()
        self._applying = False
        self._after_reset(keep, current)
        self._reveal_pending()

    def set_columns(self, keys: list[str]) -> None:
        keep = self.selected_run_ids()
        current = self.current_run_id()
        self._applying = True
        self.model.set_columns(keys)
        self._restore_header()
        self._applying = False
        self._after_reset(keep, current)
        self._reveal_pending()

    def _restore_header(self) -> None:
        h = self.view.header()
        fm = h.fontMetrics()
        for i, key in enumerate(self.model.visible_columns()):
            w = self._widths.get(key) or WIDTHS.get(key)
            if key == "run_name" and self.model.has_children_rows() and not self._widths.get(key):
                w += 2 * INDENT
            if not w:  # data columns: wide enough for their MLflow name, within reason
                w = min(250, max(90, fm.horizontalAdvance(C.title(key)) + 48))  # + padding and arrow
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
        for i, k in enumerate(vis):
            self.view.setColumnHidden(i, self.attributes_collapsed and C.is_attribute(k))
        self.view.sync_frozen()
        if key and key != getattr(self, "_sorted_by", None):
            self._sorted_by = key
            self._reveal = self._reveal or key

    def _sort_changed(self, column: int, _order) -> None:
        QTimer.singleShot(0, self._update_count)
        if not self._applying:
            self._sorted_by = self.model.column_key(column)
            self.view.reveal_column(column)

    # -- columns the filter or the sort named ---------------------------------------------------
    def reveal(self, key: str) -> None:
        """Bring a column into view: scroll to it, or show it beside the name if hidden."""
        self._reveal = key
        self._reveal_pending()

    def _reveal_pending(self) -> None:
        key = self._reveal
        if not key:
            return
        vis = self.model.visible_columns()
        if key in vis:
            col = vis.index(key)
            if self.view.isColumnHidden(col):  # a collapsed attribute column
                self.set_attributes_collapsed(False)
            self._reveal = None
            QTimer.singleShot(0, lambda: self.view.reveal_column(
                self.model.visible_columns().index(key) if key in self.model.visible_columns() else -1))
            self.view.reveal_column(col)
        elif key in self.model.available_columns():
            at = vis.index("run_name") + 1 if "run_name" in vis else 0
            self.columnsEdited.emit(vis[:at] + [key] + vis[at:])  # comes back via set_columns

    def set_attributes_collapsed(self, collapsed: bool) -> None:
        """Hide (or show again) the attribute columns other than the name: Status, Created,
        Duration, User, Source... The chosen layout itself is kept."""
        self.attributes_collapsed = collapsed
        for i, k in enumerate(self.model.visible_columns()):
            self.view.setColumnHidden(i, collapsed and C.is_attribute(k))
        self.view.sync_frozen()

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
        if self.is_stale():
            self.count_label.setText(self.count_label.text() + " of the last valid filter")
        self.count_label.setProperty("stale", self.is_stale())
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

    def _compare(self) -> None:
        ids = self.selected_run_ids()
        if len(ids) >= 2:
            self.compareRequested.emit(ids)

    def copy_csv(self) -> None:
        ids = self.selected_run_ids()
        QGuiApplication.clipboard().setText(self.model.to_csv(ids or None))

    # -- menus and header ----------------------------------------------------------------------
    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        self.compare_action.setEnabled(len(self.selected_run_ids()) >= 2)
        menu.addAction(self.compare_action)
        menu.addSeparator()
        menu.addAction(self.copy_id_action)
        menu.addAction(self.copy_csv_action)
        menu.addSeparator()
        if self.model.has_children_rows():
            menu.addAction(self.expand_action)
            menu.addAction(self.collapse_action)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def _header_menu(self, col: int, global_pos) -> None:
        key = self.model.column_key(col)
        menu = QMenu(self)
        if key is not None and len(self.model.visible_columns()) > 1:
            hide = menu.addAction(f"Hide “{C.title(key)}”")
            hide.triggered.connect(lambda: self._hide_column(key))
        collapse = menu.addAction("Collapse Attribute Columns")
        collapse.setCheckable(True)
        collapse.setChecked(self.attributes_collapsed)
        collapse.setToolTip("Status, Created, Duration, User… out of the way of the metrics")
        collapse.toggled.connect(self.set_attributes_collapsed)
        menu.addAction(theme.icon("columns"), "Columns…", self.chooseColumnsRequested)
        menu.addAction("Reset Columns", self.columnsResetRequested)
        menu.exec(global_pos)

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
