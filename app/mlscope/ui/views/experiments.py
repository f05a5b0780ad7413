"""The experiments list: name, run count, last activity; a filter box; active/deleted/all."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from .. import theme
from ..models import ExperimentsModel
from ..models.experiments import EXP_ID_ROLE
from ..models.runs import SORT_ROLE

VIEWS = [("Active", "active"), ("Deleted", "deleted"), ("All", "all")]


class ExperimentsPanel(QWidget):
    selectionChanged = Signal(list)  # experiment ids
    viewChanged = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = ExperimentsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)

        title = QLabel("EXPERIMENTS", objectName="panelTitle")
        self.view_combo = QComboBox(objectName="experimentView")
        for text, value in VIEWS:
            self.view_combo.addItem(text, value)
        self.view_combo.setToolTip("Which experiments to list (MLflow's view type)")
        self.filter_edit = QLineEdit(objectName="experimentFilter")
        self.filter_edit.setPlaceholderText("Filter experiments")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.addAction(theme.icon("search"), QLineEdit.LeadingPosition)

        self.view = QTreeView(objectName="experimentsView")
        self.view.setModel(self.proxy)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(False)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(2, Qt.DescendingOrder)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        h = self.view.header()
        h.setStretchLastSection(False)
        h.setSectionResizeMode(0, QHeaderView.Stretch)
        h.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        h.setSectionResizeMode(2, QHeaderView.ResizeToContents)

        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.view_combo)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(head)
        lay.addWidget(self.filter_edit)
        lay.addWidget(self.view, 1)

        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.view_combo.currentIndexChanged.connect(
            lambda _: self.viewChanged.emit(self.view_combo.currentData()))
        self.view.selectionModel().selectionChanged.connect(
            lambda *_: self.selectionChanged.emit(self.selected_ids()))

    def current_view(self) -> str:
        return self.view_combo.currentData()

    def set_experiments(self, frame, keep: list[str] | None = None) -> None:
        self.model.set_frame(frame)
        if keep:
            self.select(keep, emit=False)

    def set_counts(self, counts: dict, last_run: dict | None = None) -> None:
        self.model.set_counts(counts, last_run)

    def selected_ids(self) -> list[str]:
        rows = self.view.selectionModel().selectedRows(0)
        return [self.proxy.data(i, EXP_ID_ROLE) for i in sorted(rows, key=lambda i: i.row())]

    def select(self, ids: list[str], emit: bool = True) -> None:
        sm = self.view.selectionModel()
        sm.blockSignals(True)  # one selectionChanged at the end, not one per step
        sm.clearSelection()
        first = None
        for eid in ids:
            row = self.model.row_of(eid)
            if row < 0:
                continue
            idx = self.proxy.mapFromSource(self.model.index(row, 0))
            if not idx.isValid():
                continue
            sm.select(idx, QItemSelectionModel.Select | QItemSelectionModel.Rows)
            first = first or idx
        if first is not None:
            sm.setCurrentIndex(first, QItemSelectionModel.NoUpdate)
            self.view.scrollTo(first)
        sm.blockSignals(False)
        if emit:
            self.selectionChanged.emit(self.selected_ids())
