"""The Compare view: the diff table (runs as columns, rows grouped by section), and the
parallel-coordinates and scatter plots in tabs beside it (built when first shown, so
pyqtgraph stays off the path to the first window).

Everything here is drawn from a :class:`mlscope.core.compare.Comparison`; the view does no
I/O and asks its controller for what it needs through signals.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QStyledItemDelegate,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mlscope.core import compare as cmp
from mlscope.ui import theme

SECTION_TITLES = {"attributes": "Attributes", "params": "Params", "metrics": "Metrics",
                  "tags": "Tags", "datasets": "Datasets"}
# Cell tints against the baseline (light, so the text stays readable).
CELL_BACKGROUND = {
    cmp.C_DIFF: "#fff3c4",
    cmp.C_NUMBERS: "#dcecff",
    cmp.C_SPACES: "#ececec",
    cmp.C_MISSING: "#f6e1e1",
    cmp.C_ADDED: "#e3f4e1",
}
BETTER, WORSE = "#1a7f37", "#c62828"
MISSING_FG = "#8a8a8a"
ROW_MARK = {cmp.DIFFERS: "●", cmp.MISSING: "◐", cmp.NUMBERS: "≈", cmp.SPACES: "␣", cmp.SAME: ""}


# Roles as ints: comparing PySide6's enum members costs tens of microseconds each, and a
# table asks for a dozen roles of every visible cell at every paint.
DISPLAY, FOREGROUND, BACKGROUND, TOOLTIP, FONT, DECORATION, USER = (r.value for r in (
    Qt.DisplayRole, Qt.ForegroundRole, Qt.BackgroundRole, Qt.ToolTipRole, Qt.FontRole,
    Qt.DecorationRole, Qt.UserRole))
HORIZONTAL = Qt.Horizontal.value
_VALUE_ROLES = {DISPLAY, FOREGROUND, BACKGROUND, TOOLTIP, USER}


def _int(v) -> int:
    return v if type(v) is int else v.value
_BRUSHES: dict = {}


def _brushes() -> None:
    """Brushes made once (a QColor parsed per cell and paint shows in a profile)."""
    if _BRUSHES.get("scheme") != theme.scheme():  # made again when the theme changes
        t = theme.themed
        _BRUSHES.clear()
        _BRUSHES["scheme"] = theme.scheme()
        _BRUSHES.update({("cell", k): QBrush(QColor(t(v))) for k, v in CELL_BACKGROUND.items()})
        _BRUSHES.update({1: QBrush(QColor(t(BETTER))), -1: QBrush(QColor(t(WORSE))),
                         "missing": QBrush(QColor(t(MISSING_FG))),
                         "section": QBrush(QColor(t("#e8ebf0")))})


def _bold() -> QFont:
    font = _BRUSHES.get("bold")
    if font is None:
        font = _BRUSHES["bold"] = QFont()
        font.setBold(True)
    return font


def _swatch(color: str) -> QPixmap:
    key = ("swatch", color)
    pm = _BRUSHES.get(key)
    if pm is None:
        pm = _BRUSHES[key] = QPixmap(12, 12)
        pm.fill(QColor(color))
    return pm


class _TintDelegate(QStyledItemDelegate):
    """Paints the model's background tint: a style sheet with ``::item`` rules (the app's
    theme) would otherwise ignore BackgroundRole."""

    def paint(self, painter, option, index):
        tint = index.data(Qt.BackgroundRole)
        if tint is not None:
            painter.fillRect(option.rect, tint)
        super().paint(painter, option, index)


class CompareModel(QAbstractTableModel):
    """Rows of a comparison with a header row per section; column 0 is the key. In
    ``transposed`` mode runs are the rows and keys the columns (for many runs)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        _brushes()
        self.comp: cmp.Comparison | None = None
        self.items: list[tuple[str, object]] = []  # ("section", name) or ("row", index)
        self.transposed = False
        self.color = lambda uid: "#444444"

    def set_rows(self, comp, rows, transposed: bool) -> None:
        self.beginResetModel()
        self.comp, self.transposed = comp, transposed
        self.items = []
        self.forget()
        if comp is not None:
            if transposed:
                self.items = [("row", int(i)) for i in rows]
            else:
                shown: dict[str, list[int]] = {}
                for i in rows:
                    shown.setdefault(str(comp.section[i]), []).append(int(i))
                for s in cmp.SECTIONS:
                    differ, same = comp.counts().get(s, (0, 0))
                    if differ + same == 0:
                        continue
                    self.items.append(("section", s))
                    self.items.extend(("row", i) for i in shown.get(s, []))
        self.endResetModel()

    def forget(self) -> None:
        """Drop the cached texts (after a change of baseline or direction)."""
        self._labels = self.comp.labels() if self.comp is not None else []
        self._counts = self.comp.counts() if self.comp is not None else {}
        self._texts: dict[tuple[int, int], str] = {}

    # -- shape -------------------------------------------------------------------------------
    def _runs(self) -> int:
        return len(self.comp.columns) if self.comp is not None else 0

    def rowCount(self, parent=None):  # noqa: N802 - Qt's name
        if parent is not None and parent.isValid():
            return 0
        return self._runs() if self.transposed else len(self.items)

    def columnCount(self, parent=None):  # noqa: N802
        if (parent is not None and parent.isValid()) or self.comp is None:
            return 0
        return len(self.items) + 1 if self.transposed else self._runs() + 1

    def cell(self, index: QModelIndex) -> tuple[int | None, int | None]:
        """(comparison row, run column) under ``index``; None where it is a label."""
        if not index.isValid() or self.comp is None:
            return None, None
        r, c = index.row(), index.column()
        if self.transposed:
            if c == 0:
                return None, r
            kind, i = self.items[c - 1]
            return i, r
        kind, i = self.items[r]
        if kind != "row":
            return None, None
        return i, (c - 1 if c > 0 else None)

    def section_at(self, row: int) -> str | None:
        if self.transposed or not (0 <= row < len(self.items)):
            return None
        kind, name = self.items[row]
        return name if kind == "section" else None

    # -- headers -----------------------------------------------------------------------------
    def run_title(self, j: int) -> str:
        label = self._labels[j]
        return f"★ {label}" if j == self.comp.baseline else label

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        comp = self.comp
        if comp is None:
            return None
        role = _int(role)
        horizontal = _int(orientation) == HORIZONTAL
        runs_axis = (not self.transposed) == horizontal  # this header names the runs
        if runs_axis:
            if self.transposed:
                j = section
            else:
                if section == 0:
                    return "key" if role == DISPLAY else None
                j = section - 1
            col = comp.columns[j]
            if role == DISPLAY:
                return self.run_title(j)
            if role == FOREGROUND:
                return QBrush(QColor(self.color(col.run_id)))
            if role == DECORATION:  # a swatch: the theme's header colour wins over text
                return _swatch(self.color(col.run_id))
            if role == FONT:
                return _bold()
            if role == TOOLTIP:
                base = "the baseline" if j == comp.baseline else "click to make it the baseline"
                return (f"{col.title}\nrun {col.run_id}\nexperiment {col.experiment_id}\n"
                        f"store {col.store}\n({base}; double-click to open the run)")
            return None
        if self.transposed and role == DISPLAY:
            if section == 0:
                return "run"
            i = self.items[section - 1][1]
            return f"{comp.section[i]}: {comp.key[i]}"
        if role == DISPLAY and not self.transposed:
            return None
        return None

    # -- cells -------------------------------------------------------------------------------
    def data(self, index, role=Qt.DisplayRole):
        role = _int(role)
        comp = self.comp
        if comp is None or not index.isValid():
            return None
        if not self.transposed:
            kind, name = self.items[index.row()]
            if kind == "section":
                return self._section_data(name, index.column(), role)
        i, j = self.cell(index)
        if i is None:  # the run label of a transposed row
            if role == DISPLAY:
                return self.run_title(j)
            if role == FOREGROUND:
                return QBrush(QColor(self.color(comp.columns[j].run_id)))
            return None
        if j is None:
            return self._key_data(i, role)
        return self._value_data(i, j, role)

    def _section_data(self, name, column, role):
        if role == DISPLAY and column == 0:
            differ, same = self._counts.get(name, (0, 0))
            parts = [SECTION_TITLES[name]]
            if differ:
                parts.append(f"{differ} differ")
            note = self.comp.same_note(name)
            if note:
                parts.append(note)
            return " · ".join(parts)
        if role == FONT:
            return _bold()
        if role == BACKGROUND:
            return _BRUSHES["section"]
        return None

    def _key_data(self, i, role):
        comp = self.comp
        status = comp.status[i]
        if role == DISPLAY:
            mark = ROW_MARK[status]
            return f"{mark} {comp.key[i]}" if mark else f"  {comp.key[i]}"
        if role == TOOLTIP:
            words = cmp.STATUS_WORDS[status]
            extra = ""
            if comp.section[i] == "metrics":
                d = comp.direction[i]
                extra = {"min": "\nlower is better", "max": "\nhigher is better",
                         "": "\nno better or worse"}[d]
            return f"{comp.key[i]}: {words}{extra}"
        if role == FONT and status != cmp.SAME:
            return _bold()
        return None

    def _value_data(self, i, j, role):
        if role not in _VALUE_ROLES:
            return None
        comp = self.comp
        if role == DISPLAY:
            got = self._texts.get((i, j))
            if got is None:
                text, delta = comp.display(i, j), comp.delta_text(i, j)
                got = self._texts[(i, j)] = f"{text}   {delta}" if delta else text
            return got
        if role == FOREGROUND:
            if comp.text[i, j] is None:
                return _BRUSHES["missing"]
            b = comp.better[i, j]
            return _BRUSHES[int(b)] if b else None
        if role == BACKGROUND:
            return _BRUSHES.get(("cell", int(comp.cells[i, j]))) if j != comp.baseline else None
        if role == TOOLTIP:
            v = comp.text[i, j]
            shown = "missing" if v is None else ('"" (an empty string)' if v == "" else
                                                 (v if len(v) <= 600 else v[:600] + "…"))
            lines = [shown]
            if j != comp.baseline:
                lines.append(cmp.CELL_WORDS[int(comp.cells[i, j])])
                d = comp.delta_text(i, j)
                if d:
                    lines.append(f"{d} against the baseline")
            if comp.is_long(i):
                lines.append("double-click to see it beside the baseline's")
            return "\n".join(lines)
        if role == USER:  # the raw text, None when missing
            return comp.text[i, j]
        return None


class CompareView(QWidget):
    """Toolbar, the diff table and the plot tabs of one comparison."""

    baselineChanged = Signal(int)  # column index
    directionChanged = Signal(str, str)  # metric key, "min" / "max" / ""
    extremesToggled = Signal(bool)  # show each metric's min and max (needs the history)
    followToggled = Signal(bool)
    addMenuRequested = Signal()  # the "Add runs from" menu opens: call set_peer_choices
    addRunsRequested = Signal(str)  # another open store's label: add its selected runs
    removeStoreRequested = Signal(object)  # a store's label (None: every other store)
    runActivated = Signal(str)
    selectRunsRequested = Signal(list)
    statusMessage = Signal(str)

    def __init__(self, color=None, parent=None):
        super().__init__(parent)
        self.comp: cmp.Comparison | None = None
        self.color = color or (lambda rid: "#444444")
        self.parallel = None  # built when its tab is first shown
        self.scatter = None
        self._highlight: list[str] = []
        self._build_ui()

    def _build_ui(self) -> None:
        self.only_diff = QCheckBox("Only differences", checked=True)
        self.only_diff.setToolTip("Hide rows whose values are the same in every run")
        self.diff_first = QCheckBox("Differing first", checked=True)
        self.diff_first.setToolTip("Within each section, rows that differ come first")
        self.transpose = QCheckBox("Transpose")
        self.transpose.setToolTip("Runs as rows, keys as columns (for many runs)")
        self.extremes = QCheckBox("Min/max")
        self.extremes.setToolTip("Add each metric's min and max with their steps "
                                 "(reads the metric history)")
        self.follow = QCheckBox("Follow selection", checked=True)
        self.follow.setToolTip("Compare the runs selected in the table; off: keep these runs "
                               "and only highlight the selection")
        self.copy_button = QToolButton(text="Copy", popupMode=QToolButton.InstantPopup)
        menu = QMenu(self.copy_button)
        self.copy_text_action = menu.addAction("Copy as text")
        self.copy_csv_action = menu.addAction("Copy as CSV")
        self.copy_button.setMenu(menu)
        self.add_button = QToolButton(text="Add runs from…", popupMode=QToolButton.InstantPopup,
                                      objectName="compareAddRuns")
        self.add_button.setToolTip("Compare the runs selected in another open store (another "
                                   "tab) beside these; each column says its store")
        self.add_menu = QMenu(self.add_button)
        self.add_button.setMenu(self.add_menu)
        self.summary = QLabel(objectName="compareSummary")
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        # A long summary (notes on other stores) is cut, whole in its tooltip: never a reason
        # to widen the window.
        self.summary.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        bar = QHBoxLayout()
        for w in (self.only_diff, self.diff_first, self.transpose, self.extremes, self.follow,
                  self.add_button, self.copy_button):
            bar.addWidget(w)
        bar.addWidget(self.summary, 1)

        self.model = CompareModel(self)
        self.model.color = lambda rid: self.color(rid)
        self.table = QTableView(objectName="compareTable")
        self.table.setModel(self.model)
        self.table.setItemDelegate(_TintDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectItems)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionsClickable(True)
        self.table.horizontalHeader().setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.hint = QLabel("Select two or more runs in the table to compare them.",
                           alignment=Qt.AlignCenter, objectName="emptyHint")

        self.tabs = QTabWidget(objectName="compareTabs")
        self.tabs.setDocumentMode(True)
        table_page = QWidget()
        tl = QVBoxLayout(table_page)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.hint)
        tl.addWidget(self.table)
        self.tabs.addTab(table_page, "Table")
        self._parallel_page = QWidget()
        QVBoxLayout(self._parallel_page).setContentsMargins(0, 0, 0, 0)
        self._scatter_page = QWidget()
        QVBoxLayout(self._scatter_page).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self._parallel_page, "Parallel coordinates")
        self.tabs.addTab(self._scatter_page, "Scatter")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(bar)
        lay.addWidget(self.tabs, 1)
        self.table.hide()
        # The page's views share one tab stack, whose minimum is its widest view's: this
        # toolbar's 720 pixels squeezed the side panels beside the runs table on a 1280-pixel
        # screen. Compare itself is shown without the run detail, with room for it.
        self.setMinimumWidth(360)

        for box in (self.only_diff, self.diff_first, self.transpose):
            box.toggled.connect(self._refresh_rows)
        self.extremes.toggled.connect(self.extremesToggled)
        self.follow.toggled.connect(self.followToggled)
        self.copy_text_action.triggered.connect(lambda: self.copy("text"))
        self.copy_csv_action.triggered.connect(lambda: self.copy("csv"))
        self.add_menu.aboutToShow.connect(self.addMenuRequested)
        self.table.horizontalHeader().sectionClicked.connect(self._header_clicked)
        self.table.horizontalHeader().sectionDoubleClicked.connect(self._header_double_clicked)
        self.table.horizontalHeader().customContextMenuRequested.connect(self._header_menu)
        self.table.customContextMenuRequested.connect(self._cell_menu)
        self.table.doubleClicked.connect(self._cell_double_clicked)
        self.table.clicked.connect(self._cell_clicked)
        self.tabs.currentChanged.connect(self._tab_changed)

    # -- input -------------------------------------------------------------------------------
    def set_comparison(self, comp: cmp.Comparison | None) -> None:
        """A new comparison (runs, baseline and directions as the controller built them)."""
        self.comp = comp
        has = comp is not None and len(comp.columns) > 0
        self.table.setVisible(has)
        self.hint.setVisible(not has)
        self._refresh_rows()
        self._refresh_plots()

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)

    def set_peer_choices(self, peers: list[tuple[str, int, bool]], added: list[str]) -> None:
        """Fill the "Add runs from" menu: the other open stores as (label, runs selected
        there, already compared), and the stores whose runs are in the comparison."""
        menu = self.add_menu
        menu.clear()
        if not peers:
            menu.addAction("Open another store in a new tab to compare its runs "
                           "here").setEnabled(False)
        for label, n, is_added in peers:
            if n:
                verb = "Replace with" if is_added else "Add"
                text = f"{verb} the {n} run{'s' if n != 1 else ''} selected in {label}"
            else:
                text = f"{label}: select runs in its tab first"
            act = menu.addAction(text, lambda lab=label: self.addRunsRequested.emit(lab))
            act.setEnabled(n > 0)
        if added:
            menu.addSeparator()
            for label in added:
                menu.addAction(f"Remove the runs of {label}",
                               lambda lab=label: self.removeStoreRequested.emit(lab))
            if len(added) > 1:
                menu.addAction("Remove the runs of every other store",
                               lambda: self.removeStoreRequested.emit(None))

    def set_highlight(self, run_ids: list[str]) -> None:
        """The runs selected in the table, drawn stronger in the plots."""
        self._highlight = list(run_ids)
        for plot in (self.parallel, self.scatter):
            if plot is not None:
                plot.set_highlight(self._lit())

    def _lit(self) -> list[str]:
        """The runs to highlight: none when the selection is every compared run (the usual
        case: the table selects what Compare shows), else the selection."""
        if self.comp is None:
            return []
        shown = {c.run_id for c in self.comp.columns}
        lit = [r for r in self._highlight if r in shown]
        return [] if len(set(lit)) == len(shown) else lit

    def recolor(self, *_):
        self.table.viewport().update()
        self.table.horizontalHeader().viewport().update()
        for plot in (self.parallel, self.scatter):
            if plot is not None:
                plot.recolor()

    def set_baseline(self, j: int) -> None:
        if self.comp is None or not (0 <= j < len(self.comp.columns)):
            return
        self.comp.set_baseline(j)
        self._refresh_rows()
        self.baselineChanged.emit(j)

    def set_direction(self, key: str, direction: str) -> None:
        if self.comp is None:
            return
        self.comp.set_direction(key, direction)
        self.model.forget()
        self.table.viewport().update()
        self.directionChanged.emit(key, direction)

    # -- rows --------------------------------------------------------------------------------
    def visible_rows(self) -> np.ndarray:
        if self.comp is None:
            return np.zeros(0, dtype=int)
        return self.comp.order(self.only_diff.isChecked(), self.diff_first.isChecked())

    def _refresh_rows(self, *_):
        comp = self.comp
        self.model.set_rows(comp, self.visible_rows(), self.transpose.isChecked())
        self.table.clearSpans()
        if not self.transpose.isChecked() and self.model.columnCount() > 1:
            for r in range(self.model.rowCount()):
                if self.model.section_at(r):
                    self.table.setSpan(r, 0, 1, self.model.columnCount())
        # The key column fits its longest key (measured once, not asked of every row).
        keys = [str(k) for k in comp.key] if comp is not None and len(comp) else ["key"]
        if self.transpose.isChecked() and comp is not None:
            keys = comp.labels() or ["run"]
        bold = self.table.fontMetrics() if comp is None else QFontMetrics(_bold())
        self.table.setColumnWidth(0, min(bold.horizontalAdvance(max(keys, key=len)) + 36, 420))
        hdr = self.table.horizontalHeader()
        for c in range(1, min(self.model.columnCount(), 60)):
            hdr.resizeSection(c, min(max(hdr.sectionSizeHint(c), 170), 300))
        self._update_summary()

    def _update_summary(self) -> None:
        comp = self.comp
        if comp is None:
            self.summary.setText("")
            return
        runs = len(comp.columns)
        stores = comp.stores
        differ = int(np.count_nonzero(comp.differs()))
        parts = [f"{runs} run{'s' if runs != 1 else ''}"
                 + (f" from {len(stores)} stores" if len(stores) > 1 else ""),
                 f"{differ} of {len(comp)} rows differ"]
        if runs:
            parts.append(f"baseline: {comp.labels()[comp.baseline]}")
        if comp.missing_runs:
            n = len(comp.missing_runs)
            parts.append(f"{n} run{'s are' if n != 1 else ' is'} no longer in the store")
        parts += comp.notes
        self.summary.setText(" · ".join(parts))
        self.summary.setToolTip("\n".join(parts))

    # -- table interaction -------------------------------------------------------------------
    def _header_clicked(self, section: int) -> None:
        if not self.transpose.isChecked() and section > 0:
            self.set_baseline(section - 1)

    def _cell_clicked(self, index) -> None:
        """Transposed, a run is a row: a click on its name makes it the baseline."""
        if self.transpose.isChecked() and index.column() == 0:
            self.set_baseline(index.row())

    def _header_double_clicked(self, section: int) -> None:
        if self.comp is not None and not self.transpose.isChecked() and section > 0:
            self.runActivated.emit(self.comp.columns[section - 1].run_id)

    def _header_menu(self, pos) -> None:
        section = self.table.horizontalHeader().logicalIndexAt(pos)
        if self.comp is None or self.transpose.isChecked() or section < 1:
            return
        j = section - 1
        menu = QMenu(self)
        menu.addAction("Make baseline", lambda: self.set_baseline(j))
        menu.addAction("Open run", lambda: self.runActivated.emit(self.comp.columns[j].run_id))
        menu.exec(self.table.horizontalHeader().mapToGlobal(pos))

    def _cell_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        i, j = self.model.cell(index)
        if self.comp is None or i is None:
            return
        menu = QMenu(self)
        if j is not None:
            menu.addAction("Make this run the baseline", lambda: self.set_baseline(j))
            if j != self.comp.baseline:
                menu.addAction("Compare with the baseline…", lambda: self.show_value_diff(i, j))
        if self.comp.section[i] == "metrics":
            key = cmp._metric_of(str(self.comp.key[i]))
            for label, d in (("Lower is better", "min"), ("Higher is better", "max"),
                             ("No better or worse", "")):
                act = menu.addAction(label, lambda d=d: self.set_direction(key, d))
                act.setCheckable(True)
                act.setChecked(self.comp.direction[i] == d)
        menu.addAction("Copy value", lambda: QGuiApplication.clipboard().setText(
            "" if j is None else (self.comp.text[i, j] or "")))
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def _cell_double_clicked(self, index) -> None:
        i, j = self.model.cell(index)
        if self.comp is not None and i is not None and j is not None and j != self.comp.baseline:
            self.show_value_diff(i, j)

    def show_value_diff(self, i: int, j: int):
        """The run's value beside the baseline's: changed parts marked, configs key by key."""
        from ..dialogs.value_diff import ValueDiffDialog

        comp = self.comp
        b = comp.baseline
        dlg = ValueDiffDialog(f"{comp.section[i]}: {comp.key[i]}", comp.labels()[b],
                              comp.text[i, b], comp.labels()[j], comp.text[i, j], self)
        self._value_dialog = dlg  # tests reach it here
        dlg.show()
        return dlg

    # -- export ------------------------------------------------------------------------------
    def export_text(self, kind: str = "text") -> str:
        if self.comp is None:
            return ""
        rows, t = self.visible_rows(), self.transpose.isChecked()
        return self.comp.to_csv(rows, t) if kind == "csv" else self.comp.to_text(rows, t)

    def copy(self, kind: str = "text") -> None:
        text = self.export_text(kind)
        QGuiApplication.clipboard().setText(text)
        n = len(self.visible_rows())
        self.statusMessage.emit(f"Copied {n} rows of the comparison as {kind.upper()}.")

    # -- plots -------------------------------------------------------------------------------
    def _tab_changed(self, index: int) -> None:
        page = self.tabs.widget(index)
        if page is self._parallel_page and self.parallel is None:
            from .compare_plots import ParallelCoordinates

            self.parallel = ParallelCoordinates(self.color)
            self.parallel.selectRunsRequested.connect(self.selectRunsRequested)
            self.parallel.statusMessage.connect(self.statusMessage)
            page.layout().addWidget(self.parallel)
            self._refresh_plots()
        elif page is self._scatter_page and self.scatter is None:
            from .compare_plots import ScatterPlot

            self.scatter = ScatterPlot(self.color)
            self.scatter.selectRunsRequested.connect(self.selectRunsRequested)
            self.scatter.statusMessage.connect(self.statusMessage)
            page.layout().addWidget(self.scatter)
            self._refresh_plots()

    def show_plot(self, name: str):
        """Bring the 'parallel' or 'scatter' tab to the front (building it) and return it."""
        page = self._parallel_page if name == "parallel" else self._scatter_page
        self.tabs.setCurrentWidget(page)
        return self.parallel if name == "parallel" else self.scatter

    def _refresh_plots(self) -> None:
        for plot in (self.parallel, self.scatter):
            if plot is not None:
                plot.set_comparison(self.comp)
                plot.set_highlight(self._lit())
