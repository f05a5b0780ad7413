"""The chart panel: metric curves of the selected runs, fast and honest at any size.

The panel never reads a store. The main window hands it frames (``set_runs``,
``set_history``, ``append_history``, ``set_params``) and answers ``requestHistory`` when
the user asks for metrics it has not got yet. All the maths lives in
:mod:`mlscope.core.series`; one plot and its drawing in :mod:`.charts_plot`.

Each metric gets the chart that reads: curves for histories, bars across runs (or dots
against a param) for one value per run, a mention in one line for none. The toolbar and
the grid follow the width, so the panel never widens the window.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QDoubleValidator, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from mlscope.core.format import plural
from mlscope.core.series import (
    PALETTE,
    Aggregate,
    ColorBook,
    aggregate,
    drawable,
    ema,
    grid_columns,
    group_runs,
    param_axis,
    scale_range,
    single_valued,
    split_history,
    x_values,
)

from .. import theme
from .charts_plot import (
    Band,
    Bar,
    BarChart,
    MetricChart,
    ParamChart,
    Trace,
    export_svg,
    readout_html,
)

# Overlaid metrics share a run's colour and differ by line style.
METRIC_STYLES = (
    Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine, Qt.PenStyle.DashDotDotLine,
)
DEFAULT_CHECKED = 12  # metrics shown at first; more is one click in the picker
ROW_HEIGHT = 250      # a chart never gets shorter than this: the grid scrolls instead
EMPTY_NAMED = 12      # metrics named in the "no values" line; the rest in its tooltip


@dataclass
class _Series:
    step: np.ndarray
    timestamp: np.ndarray
    value: np.ndarray


class ChartPanel(QWidget):
    """Metric charts for the selected runs: grid or overlay, smoothing, grouping, export.

    Wiring: ``set_params(runs_frame)`` when the run table loads (gives metric names,
    params/tags to group by and run start times); ``set_runs(ids, names)`` on selection;
    answer ``requestHistory(run_ids, keys)`` (``keys == []``: every metric) with
    ``set_history(store.metric_history(run_ids, keys or None), run_ids, keys or None)``
    from a worker; for RUNNING runs poll and call ``append_history(new_rows)``.
    """

    requestHistory = Signal(list, list)  # noqa: N815 - Qt signal naming
    compareRequested = Signal(list)  # noqa: N815 - runs picked in the legend, to compare

    def __init__(self, parent: QWidget | None = None, colors: ColorBook | None = None):
        super().__init__(parent)
        self.colors = colors or ColorBook()  # the page's book: the table shows the same
        self._run_ids: list[str] = []
        self._names: dict[str, str] = {}
        self._data: dict[tuple[str, str], _Series] = {}
        self._loaded: set[tuple[str, str]] = set()
        self._loaded_all: set[str] = set()
        self._keys: list[str] = []
        self._checked: set[str] = set()
        self._picker_touched = False
        self._runs_frame: pd.DataFrame | None = None
        self._start_ms: dict[str, float] = {}
        self._export: list[tuple] = []
        self.charts: list[MetricChart] = []
        self._columns = 0
        self._spec_list: list = []
        self._legend_for_export = False
        self.last_hover: dict | None = None
        self._build_ui()

    # -- public API ------------------------------------------------------------------------
    def set_runs(self, run_ids, names: dict | None = None, colors: dict | None = None) -> None:
        """Shows these runs; forgets the history of runs no longer selected."""
        self._run_ids = [str(r) for r in dict.fromkeys(run_ids)]
        self._names = {str(k): str(v) for k, v in (names or {}).items()}
        for rid, color in (colors or {}).items():
            self.colors.set(str(rid), QColor(color).name())
        keep = set(self._run_ids)
        self._data = {k: v for k, v in self._data.items() if k[0] in keep}
        self._loaded = {k for k in self._loaded if k[0] in keep}
        self._loaded_all &= keep
        self._request_missing()
        self._refresh()

    def set_history(self, frame: pd.DataFrame, run_ids=None, keys=None) -> None:
        """The complete history of ``run_ids`` x ``keys`` (defaults: what ``frame`` holds).

        ``keys=None`` with explicit ``run_ids`` means every metric of those runs; a run or
        key with no rows is then known to be empty and is not requested again.
        """
        series = list(split_history(frame))
        if run_ids is None:
            run_ids = {pair[0] for pair, *_ in series}
        run_ids = {str(r) for r in run_ids}
        if keys is None:
            self._data = {k: v for k, v in self._data.items() if k[0] not in run_ids}
            self._loaded_all |= run_ids
        else:
            pairs = {(r, str(k)) for r in run_ids for k in keys}
            self._data = {k: v for k, v in self._data.items() if k not in pairs}
            self._loaded |= pairs
        for pair, step, ts, value in series:
            self._data[pair] = _Series(step, ts, value)
            self._loaded.add(pair)
        self._refresh()

    def append_history(self, frame: pd.DataFrame) -> None:
        """New points of running runs; the view stays where the user put it."""
        for pair, step, ts, value in split_history(frame):
            old = self._data.get(pair)
            if old is not None:
                step = np.concatenate([old.step, step])
                ts = np.concatenate([old.timestamp, ts])
                value = np.concatenate([old.value, value])
                order = np.lexsort((value, ts, step))
                step, ts, value = step[order], ts[order], value[order]
                same = (np.diff(step) == 0) & (np.diff(ts) == 0) & (
                    (np.diff(value) == 0) | (np.isnan(value[1:]) & np.isnan(value[:-1])))
                keep = np.concatenate([[True], ~same])
                step, ts, value = step[keep], ts[keep], value[keep]
            self._data[pair] = _Series(step, ts, value)
            self._loaded.add(pair)
        self._refresh()

    def set_params(self, runs: pd.DataFrame | None) -> None:
        """The runs frame (``store.runs()``): group-by choices, metric names, start times."""
        self._runs_frame = runs
        self._start_ms = _start_times(runs)
        current = self.group_combo.currentData()
        self.group_combo.blockSignals(True)
        self.group_combo.clear()
        self.group_combo.addItem("No grouping", None)
        if runs is not None:
            for col in runs.columns:
                if col.startswith("params.") or (
                        col.startswith("tags.") and not col.startswith("tags.mlflow.")):
                    self.group_combo.addItem(col, col)
        index = self.group_combo.findData(current)
        self.group_combo.setCurrentIndex(max(index, 0))
        self.group_combo.blockSignals(False)
        versus = self.versus_combo.currentData()
        self.versus_combo.blockSignals(True)
        self.versus_combo.clear()
        self.versus_combo.addItem("One value: bars", None)
        for col in (runs.columns if runs is not None else []):
            if col.startswith("params."):
                self.versus_combo.addItem(f"One value vs {col[7:]}", col)
        self.versus_combo.setCurrentIndex(max(self.versus_combo.findData(versus), 0))
        self.versus_combo.blockSignals(False)
        self._update_group_controls()
        self._refresh()

    def last_points(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(run_id, key) -> (last step, last timestamp): where a live poll should resume."""
        return {k: (int(s.step[-1]), int(s.timestamp.max())) for k, s in self._data.items()
                if s.step.size}

    def set_checked_metrics(self, keys) -> None:
        """Checks exactly these metrics in the picker (as if the user had)."""
        wanted = set(keys)
        self.metric_list.blockSignals(True)
        for i in range(self.metric_list.count()):
            item = self.metric_list.item(i)
            item.setCheckState(Qt.Checked if item.text() in wanted else Qt.Unchecked)
        self.metric_list.blockSignals(False)
        self._on_metrics_changed()

    def smoothing(self) -> float:
        return self.smooth_slider.value() / 1000.0

    def set_ranges(self, x=None, y=None) -> None:
        """Manual axis ranges in data units (not log10); ``None`` leaves an axis alone."""
        for chart in self.charts:
            for axis, span, log in ((0, x, self.logx_check.isChecked()),
                                    (1, y, self.logy_check.isChecked())):
                if span is None:
                    continue
                lo, hi = span
                if log:
                    if lo <= 0 or hi <= 0:
                        raise ValueError("a log axis needs a range above 0")
                    lo, hi = math.log10(lo), math.log10(hi)
                if axis == 0:
                    chart.vb.setXRange(lo, hi, padding=0)
                else:
                    chart.vb.setYRange(lo, hi, padding=0)

    def reset_view(self) -> None:
        """Every chart back to showing all its data."""
        for edit in self._range_edits:
            edit.clear()
        for chart in self.charts:
            chart.vb.enableAutoRange(enable=True)
            chart.vb.autoRange()

    def plotted_frame(self) -> pd.DataFrame:
        """What the charts show, at full resolution (decimation is for the screen only)."""
        parts = []
        for kind, key, who, payload in self._export:
            if kind == "run":
                rid, x, s, smoothed = who, payload[0], payload[1], payload[2]
                part = pd.DataFrame({
                    "key": key, "run_id": rid, "run_name": self._names.get(rid, rid),
                    "x": x, "step": s.step, "timestamp": s.timestamp, "value": s.value})
                if smoothed is not None:
                    part["smoothed"] = smoothed
            else:
                agg, how = payload
                part = pd.DataFrame({"key": key, "group": who, "x": agg.x, how: agg.center,
                                     "band_lo": agg.lo, "band_hi": agg.hi, "runs": agg.n})
            parts.append(part)
        if not parts:
            return pd.DataFrame(columns=["key", "run_id", "run_name", "x", "step", "timestamp",
                                         "value"])
        out = pd.concat(parts, ignore_index=True)
        return out.rename(columns={"x": {"step": "x_step", "wall": "x_wall_time_s",
                                         "relative": "x_relative_s"}[self.x_mode()]})

    def export_png(self, path: str) -> None:
        from pyqtgraph.exporters import ImageExporter

        with self._export_legend():
            exporter = ImageExporter(self.canvas.ci)
            exporter.parameters()["width"] = int(self.canvas.ci.boundingRect().width() * 2)
            exporter.export(str(path))

    def export_svg(self, path: str) -> None:
        with self._export_legend():
            export_svg(self.canvas.ci, path)

    @contextmanager
    def _export_legend(self):
        """A picture leaves the sidebar behind: it carries the legend beside its first chart."""
        if self.legend_check.isChecked():
            yield
            return
        self._legend_for_export = True
        self._redraw()
        try:
            yield
        finally:
            self._legend_for_export = False
            self._redraw()

    def export_csv(self, path: str) -> None:
        self.plotted_frame().to_csv(path, index=False)

    def x_mode(self) -> str:
        return self.x_combo.currentData()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Modest: the toolbar's full width is not a reason to widen the window."""
        return QSize(760, 560)

    # -- widgets ---------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.metric_search = QLineEdit(placeholderText="Filter metrics…", clearButtonEnabled=True)
        self.metric_list = QListWidget()
        self.metric_list.setUniformItemSizes(True)
        show_all = QPushButton("All")
        show_all.setToolTip("Check every metric the filter shows")
        show_none = QPushButton("None")
        show_none.setToolTip("Uncheck every metric")
        show_all.clicked.connect(lambda: self._check_visible(True))
        show_none.clicked.connect(lambda: self._check_visible(False))
        self.legend_list = QListWidget()
        self.legend_list.setSelectionMode(QListWidget.ExtendedSelection)
        self.legend_list.setToolTip("Select runs here and right-click to compare them")
        self.legend_list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.legend_list.customContextMenuRequested.connect(self._legend_menu)
        self.legend_list.setUniformItemSizes(True)
        for names in (self.metric_list, self.legend_list):  # long names elide, never scroll
            names.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            names.setTextElideMode(Qt.ElideMiddle)

        side = QWidget()
        sv = QVBoxLayout(side)
        sv.setContentsMargins(0, 0, 4, 0)
        sv.addWidget(QLabel("<b>Metrics</b>"))
        sv.addWidget(self.metric_search)
        sv.addWidget(self.metric_list, 3)
        buttons = QHBoxLayout()
        buttons.addWidget(show_all)
        buttons.addWidget(show_none)
        sv.addLayout(buttons)
        sv.addWidget(QLabel("<b>Legend</b>"))
        sv.addWidget(self.legend_list, 2)

        self.layout_combo = _combo([("Grid", "grid"), ("Overlay", "overlay")])
        self.layout_combo.setToolTip("Grid: one chart per metric · Overlay: metrics in one chart")
        self.x_combo = _combo([("Step", "step"), ("Wall time", "wall"),
                               ("Relative time", "relative")])
        self.x_combo.setToolTip("What the x axis of line charts shows")
        self.logx_check = QCheckBox("Log X")
        self.logy_check = QCheckBox("Log Y")
        self.smooth_slider = QSlider(Qt.Horizontal, minimum=0, maximum=999, value=0)
        self.smooth_slider.setFixedWidth(110)
        self.smooth_slider.setToolTip("TensorBoard's debiased exponential moving average")
        self.smooth_label = QLabel("0.000")
        self.group_combo = _combo([("No grouping", None)])
        self.group_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.group_combo.setMinimumContentsLength(12)
        self.group_combo.setToolTip("Group runs by a param or tag: one line per group")
        self.normalise_check = QCheckBox("Scale 0–1", checked=True)
        self.normalise_check.setToolTip(
            "Overlay: scale each metric to 0–1 over the selected runs, so accuracy and a loss "
            "of 9,500 share one axis; the hover readout shows the real values")
        self.legend_check = QCheckBox("Legend")
        self.legend_check.setToolTip("Show the legend beside the first chart too (exports "
                                     "always carry it)")
        self.versus_combo = _combo([("One value: bars", None)])
        self.versus_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.versus_combo.setMinimumContentsLength(14)
        self.versus_combo.setToolTip("Metrics with one value per run: bars across the runs, "
                                     "or each run's value against a param")
        self.agg_combo = _combo([("Mean", "mean"), ("Median", "median")])
        self.band_combo = _combo([("Min–max band", "minmax"), ("±1 std band", "std"),
                                  ("No band", "none")])

        self.xmin_edit, self.xmax_edit, self.ymin_edit, self.ymax_edit = self._range_edits = [
            QLineEdit(placeholderText=p) for p in ("x min", "x max", "y min", "y max")]
        for edit in self._range_edits:
            edit.setValidator(QDoubleValidator())
            edit.setFixedWidth(80)
            edit.returnPressed.connect(self._apply_range_edits)
        self.apply_range_button = QPushButton("Apply")
        range_box = QWidget()
        rg = QGridLayout(range_box)
        rg.setContentsMargins(8, 6, 8, 6)
        rg.addWidget(QLabel("X"), 0, 0)
        rg.addWidget(self.xmin_edit, 0, 1)
        rg.addWidget(self.xmax_edit, 0, 2)
        rg.addWidget(QLabel("Y"), 1, 0)
        rg.addWidget(self.ymin_edit, 1, 1)
        rg.addWidget(self.ymax_edit, 1, 2)
        rg.addWidget(self.apply_range_button, 2, 2)
        self.range_button = QToolButton(text="Range", popupMode=QToolButton.InstantPopup)
        self.range_button.setToolTip("Set the axes' ranges by hand")
        range_menu = QMenu(self.range_button)
        range_action = QWidgetAction(range_menu)
        range_action.setDefaultWidget(range_box)
        range_menu.addAction(range_action)
        self.range_button.setMenu(range_menu)
        self.reset_button = QToolButton(text="Reset view")
        self.reset_button.setToolTip("Every chart back to showing all its data")
        self.export_button = QToolButton(text="Export", popupMode=QToolButton.InstantPopup)
        menu = QMenu(self.export_button)
        self.export_png_action = menu.addAction("Chart as PNG…")
        self.export_svg_action = menu.addAction("Chart as SVG…")
        self.export_csv_action = menu.addAction("Plotted data as CSV…")
        self.export_button.setMenu(menu)

        # A QToolBar hides what does not fit behind its "»" button: the panel never asks
        # for more width than the window has.
        self._tool_actions = {}
        self.toolbar = QToolBar("Chart controls")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        # A label goes behind the "»" together with its control, never alone.
        for group in ((self.layout_combo, self.normalise_check,
                       _labelled(" X ", self.x_combo), self.logx_check, self.logy_check,
                       self.legend_check),
                      (_labelled("Smoothing ", self.smooth_slider, self.smooth_label),),
                      (self.versus_combo,),
                      (self.group_combo, self.agg_combo, self.band_combo),
                      (self.range_button, self.reset_button, self.export_button)):
            if self.toolbar.actions():  # a gap, not a separator: none dangles before "»"
                gap = QWidget()
                gap.setFixedWidth(10)
                self.toolbar.addWidget(gap)
            for w in group:
                self._tool_actions[w] = self.toolbar.addWidget(w)
        more = self.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
        if more is not None:  # the style's own arrow is blank in some themes: draw "»"
            more.setIcon(_chevron_icon(self.palette().color(self.foregroundRole())))
            more.setToolTip("More chart controls")
            more.setStyleSheet("QToolButton { padding: 0px; }")  # 12 px: padding left none

        self.status_label = QLabel()
        self.status_label.setStyleSheet(theme.themed("color:#6b7280"))
        self.status_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.empty_label = QLabel(wordWrap=True, objectName="chartsEmptyLine")
        self.empty_label.setStyleSheet(theme.themed("color:#4b5563; padding:2px 4px"))
        self.empty_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.empty_label.hide()

        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(theme.themed("#ffffff"))
        self.canvas.ci.setSpacing(6)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.canvas)
        self.scroll.viewport().installEventFilter(self)
        # The hover readout: a widget over the canvas, opaque, kept inside its chart.
        self.readout = QLabel(self.canvas, objectName="chartReadout")
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.readout.setAutoFillBackground(True)
        self.readout.setStyleSheet(theme.themed(
            "QLabel#chartReadout { background: #ffffff; color: #111827;"
            " border: 1px solid #d1d5db; border-radius: 4px; padding: 4px 6px; }"))
        self.readout.hide()

        main = QWidget()
        mv = QVBoxLayout(main)
        mv.setContentsMargins(4, 0, 0, 0)
        mv.setSpacing(2)
        mv.addWidget(self.toolbar)
        mv.addWidget(self.empty_label)
        mv.addWidget(self.scroll, 1)
        mv.addWidget(self.status_label)
        splitter = QSplitter()
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(side)
        splitter.addWidget(main)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([170, 1000])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(splitter)

        self._smooth_timer = QTimer(self, singleShot=True, interval=120)
        self._smooth_timer.timeout.connect(self._redraw)

        self.metric_search.textChanged.connect(self._filter_metrics)
        self.metric_list.itemChanged.connect(self._on_metrics_changed)
        for combo in (self.layout_combo, self.x_combo):
            combo.currentIndexChanged.connect(self._on_axes_changed)
        self.logx_check.toggled.connect(self._rebuild)
        self.logy_check.toggled.connect(self._update_normalise)
        self.logy_check.toggled.connect(self._rebuild)
        self.normalise_check.toggled.connect(self._rebuild)
        self.legend_check.toggled.connect(self._redraw)
        self.smooth_slider.valueChanged.connect(self._on_smoothing)
        self.group_combo.currentIndexChanged.connect(self._on_grouping)
        self.agg_combo.currentIndexChanged.connect(self._redraw)
        self.versus_combo.currentIndexChanged.connect(self._rebuild)
        self.band_combo.currentIndexChanged.connect(self._redraw)
        self.apply_range_button.clicked.connect(self._apply_range_edits)
        self.reset_button.clicked.connect(self.reset_view)
        self.export_png_action.triggered.connect(lambda: self._export_dialog("png"))
        self.export_svg_action.triggered.connect(lambda: self._export_dialog("svg"))
        self.export_csv_action.triggered.connect(lambda: self._export_dialog("csv"))
        self._hover_proxy = pg.SignalProxy(self.canvas.scene().sigMouseMoved, rateLimit=30,
                                           slot=lambda args: self.hover_scene(args[0]))
        self._update_group_controls()
        self._update_normalise()
        self._rebuild()

    # -- reactions -------------------------------------------------------------------------
    def _filter_metrics(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.metric_list.count()):
            item = self.metric_list.item(i)
            item.setHidden(not all(w in item.text().lower() for w in words))

    def _check_visible(self, state: bool) -> None:
        self.metric_list.blockSignals(True)
        for i in range(self.metric_list.count()):
            item = self.metric_list.item(i)
            if not state or not item.isHidden():
                item.setCheckState(Qt.Checked if state else Qt.Unchecked)
        self.metric_list.blockSignals(False)
        self._on_metrics_changed()

    def _on_metrics_changed(self, *_):
        self._picker_touched = True
        self._checked = {self.metric_list.item(i).text() for i in range(self.metric_list.count())
                         if self.metric_list.item(i).checkState() == Qt.Checked}
        self._request_missing()
        self._rebuild()

    def _on_axes_changed(self, *_):
        wall = self.x_mode() == "wall"
        if wall:
            self.logx_check.setChecked(False)  # log of epoch seconds shows nothing useful
        self.logx_check.setEnabled(not wall)
        self._update_normalise()
        self._rebuild()

    def _update_normalise(self, *_):
        """Scaling to 0-1 is for overlaid metrics, and means nothing on a log axis."""
        overlay = self.layout_combo.currentData() == "overlay"
        self._tool_actions[self.normalise_check].setVisible(overlay)
        self.normalise_check.setEnabled(overlay and not self.logy_check.isChecked())

    def _on_smoothing(self, value: int) -> None:
        self.smooth_label.setText(f"{value / 1000:.3f}")
        self._smooth_timer.start()

    def _on_grouping(self, *_):
        self._update_group_controls()
        self._redraw()

    def _update_group_controls(self) -> None:
        grouped = self.group_combo.currentData() is not None
        self.agg_combo.setEnabled(grouped)
        self.band_combo.setEnabled(grouped)

    def _apply_range_edits(self) -> None:
        def span(a: QLineEdit, b: QLineEdit, current):
            if not a.text() and not b.text():
                return None
            lo = float(a.text()) if a.text() else current[0]
            hi = float(b.text()) if b.text() else current[1]
            return (lo, hi) if lo < hi else None

        if not self.charts:
            return
        (x0, x1), (y0, y1) = self.charts[0].vb.viewRange()
        unlog = lambda v, log: 10 ** v if log else v  # noqa: E731
        lx, ly = self.logx_check.isChecked(), self.logy_check.isChecked()
        try:
            self.set_ranges(
                span(self.xmin_edit, self.xmax_edit, (unlog(x0, lx), unlog(x1, lx))),
                span(self.ymin_edit, self.ymax_edit, (unlog(y0, ly), unlog(y1, ly))))
        except ValueError as exc:
            self.status_label.setText(str(exc))

    def _export_dialog(self, kind: str) -> None:
        filters = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)",
                   "csv": "CSV table (*.csv)"}
        path, _ = QFileDialog.getSaveFileName(self, "Export", f"metrics.{kind}", filters[kind])
        if path:
            {"png": self.export_png, "svg": self.export_svg, "csv": self.export_csv}[kind](path)

    def hover_scene(self, scene_pos) -> dict | None:
        """Crosshair and readout on the chart under ``scene_pos``; the point shown, if any.

        The readout lists every line's value at that x, highest first."""
        self.last_hover = None
        for chart in self.charts:
            info = chart.hover(scene_pos)
            if info is not None:
                self.last_hover = info
                self._show_readout(chart, info, scene_pos)
        if self.last_hover is None:
            self.readout.hide()
        return self.last_hover

    def _show_readout(self, chart, info: dict, scene_pos) -> None:
        """Beside the cursor, flipped and clamped so it never leaves the chart's plot."""
        area = self.canvas.mapFromScene(chart.vb.sceneBoundingRect()).boundingRect()
        line = self.readout.fontMetrics().lineSpacing() + 2
        rows = max(2, (area.height() - 2 * line - 12) // line)
        self.readout.setText(theme.themed(readout_html(info, rows)))
        self.readout.adjustSize()
        size = self.readout.size()
        cursor = self.canvas.mapFromScene(scene_pos)
        x = cursor.x() + 16
        if x + size.width() > area.right():
            x = cursor.x() - 16 - size.width()
        y = cursor.y() + 12
        if y + size.height() > area.bottom():
            y = cursor.y() - 12 - size.height()
        x = max(area.left() + 2, min(x, area.right() - size.width() - 1))
        y = max(area.top() + 2, min(y, area.bottom() - size.height() - 1))
        self.readout.move(x, y)
        self.readout.show()
        self.readout.raise_()

    def hide_hover(self) -> None:
        for chart in self.charts:
            chart.hide_hover()
        self.readout.hide()

    def leaveEvent(self, event):  # noqa: N802 - Qt's name
        self.hide_hover()
        super().leaveEvent(event)

    # -- data bookkeeping --------------------------------------------------------------------
    def _update_keys(self) -> bool:
        """Refreshes the metric picker; True when the set of metrics (so of charts) changed."""
        keys = {k for _, k in self._data}
        if self._runs_frame is not None:
            keys |= {c[8:] for c in self._runs_frame.columns if c.startswith("metrics.")}
        keys = sorted(keys)
        if keys == self._keys:
            return False
        self._keys = keys
        if not self._picker_touched:
            self._checked = set(keys[:DEFAULT_CHECKED])
        self.metric_list.blockSignals(True)
        self.metric_list.clear()
        for key in keys:
            item = QListWidgetItem(key)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if key in self._checked else Qt.Unchecked)
            self.metric_list.addItem(item)
        self.metric_list.blockSignals(False)
        self._filter_metrics(self.metric_search.text())
        return True

    def _request_missing(self) -> None:
        keys = sorted(self._checked) if self._keys else []
        missing = [r for r in self._run_ids if r not in self._loaded_all and (
            not keys or any((r, k) not in self._loaded for k in keys))]
        if missing:
            self.requestHistory.emit(missing, keys)

    def _run_start(self, rid: str) -> float | None:
        start = self._start_ms.get(rid)
        if start is not None:
            return start
        firsts = [s.timestamp.min() for (r, _), s in self._data.items() if r == rid and s.step.size]
        return float(min(firsts)) if firsts else None

    # -- drawing ---------------------------------------------------------------------------
    def _refresh(self) -> None:
        if self._update_keys() or self._specs() != self._spec_list:
            self._rebuild()
        else:
            self._redraw()

    def _specs(self):
        """(title, keys, kind) of each chart: lines for metrics with histories (and those
        still loading), bars for one value per run. Checked metrics that no selected run
        has get no chart: they are named in one line above the grid."""
        if not self._run_ids:
            return []
        lines, bars = [], []
        for key in (k for k in self._keys if k in self._checked):
            lengths = [self._length(r, key) for r in self._run_ids]
            if single_valued(lengths):
                bars.append(key)
            elif any(lengths) or not all(self._known(r, key) for r in self._run_ids):
                lines.append(key)
        if self.layout_combo.currentData() == "overlay" and lines:
            title = " · ".join(lines) if len(lines) <= 4 else f"{len(lines)} metrics"
            specs = [(title, tuple(lines), "line")]
        else:
            specs = [(k, (k,), "line") for k in lines]
        single = "scatter" if self.versus_combo.currentData() else "bar"
        return specs + [(k, (k,), single) for k in bars]

    def _length(self, rid: str, key: str) -> int:
        s = self._data.get((rid, key))
        return 0 if s is None else int(s.value.size)

    def _known(self, rid: str, key: str) -> bool:
        """Whether the history of this run's metric has been read (so empty means empty)."""
        return rid in self._loaded_all or (rid, key) in self._loaded

    def empty_metrics(self) -> list[str]:
        """Checked metrics none of the selected runs has (after their history was read)."""
        if not self._run_ids:
            return []
        charted = {k for _, keys, _ in self._spec_list for k in keys}
        return [k for k in self._keys if k in self._checked and k not in charted]

    def _rebuild(self, *_):
        """New set of charts (metrics, layout, axes changed), then their content."""
        self.hide_hover()
        self.canvas.clear()
        self.charts = []
        self._spec_list = self._specs()
        lx, ly = self.logx_check.isChecked(), self.logy_check.isChecked()
        for title, chart_keys, kind in self._spec_list:
            if kind == "bar":
                chart = BarChart(title)
            elif kind == "scatter":
                chart = ParamChart(title, self.versus_combo.currentData()[7:])
            else:
                chart = MetricChart(title, self.x_mode(), lx, ly)
            chart.keys = list(chart_keys)
            self.charts.append(chart)
        self._columns = 0
        self._place_charts()
        self._redraw()

    def columns(self) -> int:
        """Charts side by side: as many as the plot area's width gives room for."""
        return grid_columns(self.scroll.viewport().width(), len(self.charts))

    def _place_charts(self) -> None:
        """Lays the charts out in the grid for the current width (zoom and content stay)."""
        cols = self.columns()
        if cols == self._columns and self.canvas.ci.items:
            return
        self._columns = cols
        for chart in self.charts:
            if chart.plot in self.canvas.ci.items:
                self.canvas.ci.removeItem(chart.plot)
        for i, chart in enumerate(self.charts):
            self.canvas.ci.addItem(chart.plot, row=i // cols, col=i % cols)
        self._size_rows()

    def _size_rows(self) -> None:
        """Line charts get at least ROW_HEIGHT and share what is left; bar charts get the
        height their bars need, no more."""
        layout = self.canvas.ci.layout
        cols = max(self._columns, 1)
        total = 0
        for r in range(max(layout.rowCount(), 1)):
            row = self.charts[r * cols:(r + 1) * cols]
            if row and all(c.kind == "bar" for c in row):
                h = max(c.height() for c in row)
                layout.setRowMinimumHeight(r, h)
                layout.setRowMaximumHeight(r, h)
            else:
                h = ROW_HEIGHT if row else 0
                layout.setRowMinimumHeight(r, h)
                layout.setRowMaximumHeight(r, 16_777_215)
            total += h
        self.canvas.setMinimumHeight(total + 6 * max(layout.rowCount() - 1, 0) if total else 0)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        if obj is self.scroll.viewport() and event.type() == QEvent.Resize:
            self._place_charts()
        return super().eventFilter(obj, event)

    def _redraw(self, *_):
        """Recomputes every chart's curves from the data; view ranges are kept."""
        self._smooth_timer.stop()
        w = self.smoothing()
        group = self.group_combo.currentData()
        overlay = self.layout_combo.currentData() == "overlay"
        self._export = []
        groups = group_runs(self._runs_frame, self._run_ids, group) if group else None
        contents = []
        for chart in self.charts:
            if chart.kind == "bar":
                contents.append(self._bar_content(chart.keys[0], groups))
            elif chart.kind == "scatter":
                contents.append(self._param_content(chart.keys[0]))
            elif groups is not None:
                contents.append(self._group_content(chart.keys, w, groups, overlay))
            else:
                contents.append(self._run_content(chart.keys, w, overlay))
        legend = list(dict.fromkeys(e for content in contents for e in content[-1]))
        if groups is None:  # runs in selection order, then metric styles
            order = {self._name(r): i for i, r in enumerate(self._run_ids)}
            legend.sort(key=lambda e: order.get(e[0], len(order)))
        in_plot = self.legend_check.isChecked() or self._legend_for_export
        first_line = next((c for c in self.charts if c.kind == "line"), None)
        for chart, content in zip(self.charts, contents, strict=True):
            if chart.kind == "bar":
                bars, notes, _ = content
                chart.set_bars(bars, " · ".join(notes))
                continue
            if chart.kind == "scatter":
                points, ticks, notes, _ = content
                chart.set_points(points, ticks, " · ".join(notes))
                continue
            traces, bands, notes, _ = content
            chart.set_content(traces, bands, " · ".join(notes),
                              legend if in_plot and chart is first_line else None)
            chart.set_y_label(self._y_label(chart.keys))
        if not self.charts:
            legend = [(self._name(r), self.colors.color(r), Qt.PenStyle.SolidLine)
                      for r in self._run_ids]
        self._fill_legend(legend)
        self._size_rows()
        self._update_empty_line()
        self._update_status()

    def _normalising(self, keys) -> bool:
        return (len(keys) > 1 and self.normalise_check.isChecked()
                and self.normalise_check.isEnabled())

    def _y_label(self, keys) -> str:
        if len(keys) == 1:
            return keys[0]
        return "value, each metric scaled to 0–1" if self._normalising(keys) else "value"

    def _scales(self, keys) -> dict[str, tuple[float, float]]:
        """key -> (low, high) over the selected runs, when overlaid metrics are scaled."""
        if not self._normalising(keys):
            return {}
        out = {}
        for key in keys:
            values = [self._data[(r, key)].value for r in self._run_ids if (r, key) in self._data]
            span = scale_range(np.concatenate(values)) if values else None
            if span is not None:
                out[key] = span
        return out

    def _name(self, rid: str) -> str:
        return self._names.get(rid) or rid[:8]

    def _bar_content(self, key, groups):
        """One bar per run with the metric (or per group: its mean or median, with the
        spread as a whisker); the runs without it are counted in the note."""
        bars, notes, legend = [], [], []
        have = [r for r in self._run_ids if self._length(r, key)]
        if groups is None:
            for rid in have:
                s = self._data[(rid, key)]
                color = self.colors.color(rid)
                bars.append(Bar(self._name(rid), float(s.value[0]), color, run_id=rid,
                                info={"step": int(s.step[0]), "timestamp": int(s.timestamp[0])}))
                legend.append((self._name(rid), color, Qt.PenStyle.SolidLine))
                x, _ = x_values(s.step, s.timestamp, self.x_mode(), self._run_start(rid))
                self._export.append(("run", key, rid, (x, s, None)))
        else:
            how, band = self.agg_combo.currentData(), self.band_combo.currentData()
            for gi, (label, rids) in enumerate(groups.items()):
                values = np.array([self._data[(r, key)].value[0] for r in rids if r in have])
                values = values[np.isfinite(values)]
                if not values.size:
                    continue
                center = float(np.mean(values) if how == "mean" else np.median(values))
                lo = hi = None
                if band == "minmax":
                    lo, hi = float(values.min()), float(values.max())
                elif band == "std":
                    sd = float(values.std())
                    lo, hi = center - sd, center + sd
                color = PALETTE[gi % len(PALETTE)]
                name = f"{label} ({plural(values.size, 'run')})"
                bars.append(Bar(name, center, color, lo=lo, hi=hi,
                                info={"center": center, "lo": lo if lo is not None else center,
                                      "hi": hi if hi is not None else center,
                                      "n": values.size, "how": how}))
                legend.append((name, color, Qt.PenStyle.SolidLine))
        missing = len(self._run_ids) - len(have)
        if missing:
            notes.append(f"{missing} of {plural(len(self._run_ids), 'run')} have no values")
        return bars, notes, legend

    def _param_content(self, key):
        """Each run's single value against its value of the chosen param."""
        column = self.versus_combo.currentData()
        have = [r for r in self._run_ids if self._length(r, key)]
        values = {}
        if self._runs_frame is not None and column in self._runs_frame.columns:
            values = self._runs_frame.drop_duplicates("run_id").set_index("run_id")[column]
            values = {r: values.get(r) for r in have}
        x, ticks = param_axis([values.get(r) for r in have])
        points, legend = [], []
        for rid, xi in zip(have, x, strict=True):
            s = self._data[(rid, key)]
            color = self.colors.color(rid)
            points.append({"x": float(xi), "value": float(s.value[0]), "label": self._name(rid),
                           "color": color, "run_id": rid, "param": values.get(rid),
                           "step": int(s.step[0])})
            legend.append((self._name(rid), color, Qt.PenStyle.SolidLine))
            xs, _ = x_values(s.step, s.timestamp, self.x_mode(), self._run_start(rid))
            self._export.append(("run", key, rid, (xs, s, None)))
        notes = []
        unset = int(np.count_nonzero(np.isnan(x))) if x.size else 0
        if unset:
            notes.append(f"{plural(unset, 'run')} without {column[7:]}")
        missing = len(self._run_ids) - len(have)
        if missing:
            notes.append(f"{missing} of {plural(len(self._run_ids), 'run')} have no values")
        return points, ticks, notes, legend

    def _run_content(self, keys, w, overlay):
        traces, notes, legend = [], [], []
        mode, lx, ly = self.x_mode(), self.logx_check.isChecked(), self.logy_check.isChecked()
        empty, nonfinite, nonpositive, stepless = set(), 0, 0, False
        scales = self._scales(keys)
        for ki, key in enumerate(keys):
            style = METRIC_STYLES[ki % len(METRIC_STYLES)] if overlay else Qt.PenStyle.SolidLine
            lo, hi = scales.get(key, (0.0, 1.0))
            scale = (lambda v, lo=lo, hi=hi: (v - lo) / (hi - lo)) if key in scales else (
                lambda v: v)
            for rid in self._run_ids:
                s = self._data.get((rid, key))
                if s is None or s.value.size == 0:
                    empty.add(rid)
                    continue
                start = self._run_start(rid)
                x, note = x_values(s.step, s.timestamp, mode, start)
                stepless |= bool(note)
                raw = drawable(x, scale(s.value), lx, ly)
                nonfinite += raw.nonfinite
                nonpositive += raw.nonpositive
                smoothed = ema(s.value, w) if w else None
                info = {"step": s.step, "timestamp": s.timestamp, "value": s.value,
                        "start_ms": start}
                color, name = self.colors.color(rid), self._name(rid)
                if smoothed is not None:
                    info["smoothed"] = smoothed
                    traces.append(Trace(name, color, key, raw, faint=True, style=style,
                                        run_id=rid, info=info))
                    main = drawable(x, scale(smoothed), lx, ly)
                else:
                    main = raw
                traces.append(Trace(name, color, key, main, style=style, run_id=rid, info=info,
                                    bold=smoothed is not None))
                self._export.append(("run", key, rid, (x, s, smoothed)))
        shown = {t.run_id for t in traces}
        legend = [(self._name(r), self.colors.color(r), Qt.PenStyle.SolidLine)
                  for r in self._run_ids if r in shown]
        if overlay and len(keys) > 1:
            legend += [(k, "#4b5563", METRIC_STYLES[i % len(METRIC_STYLES)])
                       for i, k in enumerate(keys)]
        empty -= shown
        if empty:
            notes.append(f"{len(empty)} of {plural(len(self._run_ids), 'run')} have no values")
        notes += _value_notes(nonfinite, nonpositive, stepless)
        return traces, [], notes, legend

    def _group_content(self, keys, w, groups, overlay):
        traces, bands, notes, legend = [], [], [], []
        mode, lx, ly = self.x_mode(), self.logx_check.isChecked(), self.logy_check.isChecked()
        how, band = self.agg_combo.currentData(), self.band_combo.currentData()
        nonfinite, stepless = 0, False
        scales = self._scales(keys)
        for ki, key in enumerate(keys):
            style = METRIC_STYLES[ki % len(METRIC_STYLES)] if overlay else Qt.PenStyle.SolidLine
            for gi, (label, rids) in enumerate(groups.items()):
                color = PALETTE[gi % len(PALETTE)]
                main_curves, raw_curves = [], []
                for rid in rids:
                    s = self._data.get((rid, key))
                    if s is None or s.value.size == 0:
                        continue
                    x, note = x_values(s.step, s.timestamp, mode, self._run_start(rid))
                    stepless |= bool(note)
                    ok = np.isfinite(s.value)
                    nonfinite += int(ok.size - np.count_nonzero(ok))
                    order = np.argsort(x[ok], kind="stable")
                    xs = x[ok][order]
                    raw_curves.append((xs, s.value[ok][order]))
                    if w:
                        main_curves.append((xs, ema(s.value, w)[ok][order]))
                if not raw_curves:
                    continue
                name = f"{label} ({plural(len(rids), 'run')})"
                agg = aggregate(main_curves or raw_curves, how, band)
                info = _group_info(agg, mode, how)
                shown = _scaled(agg, scales.get(key))
                if w:
                    faint = aggregate(raw_curves, how, "none")
                    traces.append(Trace(name, color, key,
                                        drawable(faint.x, _scaled(faint, scales.get(key)).center,
                                                 lx, ly),
                                        faint=True, style=style,
                                        info=_group_info(faint, mode, how)))
                traces.append(Trace(name, color, key, drawable(shown.x, shown.center, lx, ly),
                                    style=style, info=info, bold=True))
                if band != "none":
                    bands.append(_band(shown, color, lx, ly))
                legend.append((name, color, Qt.PenStyle.SolidLine))
                self._export.append(("group", key, label, (agg, how)))
        if overlay and len(keys) > 1:
            legend = list(dict.fromkeys(legend))
            legend += [(k, "#4b5563", METRIC_STYLES[i % len(METRIC_STYLES)])
                       for i, k in enumerate(keys)]
        notes += _value_notes(nonfinite, 0, stepless)
        return traces, bands, notes, legend

    def _fill_legend(self, entries) -> None:
        self.legend_list.clear()
        runs_of: dict[tuple, list] = {}  # (name, colour) -> its runs, for Compare
        for r in self._run_ids:
            runs_of.setdefault((self._name(r), self.colors.color(r)), []).append(r)
        for name, color, _style in entries:
            pix = QPixmap(12, 12)
            pix.fill(QColor(color))
            item = QListWidgetItem(QIcon(pix), name)
            item.setData(Qt.UserRole, runs_of.get((name, color), []))
            self.legend_list.addItem(item)
        if self.group_combo.currentData() is None:
            shown = {n for n, _, _ in entries}
            for rid in self._run_ids:
                if self._name(rid) not in shown:
                    item = QListWidgetItem(f"{self._name(rid)} (no data)")
                    item.setForeground(QColor(theme.themed("#9ca3af")))
                    item.setData(Qt.UserRole, [rid])
                    self.legend_list.addItem(item)

    def legend_runs(self, selected: bool = True) -> list[str]:
        """The runs of the legend's selected entries (every entry's: ``selected=False``)."""
        items = (self.legend_list.selectedItems() if selected else
                 [self.legend_list.item(k) for k in range(self.legend_list.count())])
        return list(dict.fromkeys(r for it in items for r in (it.data(Qt.UserRole) or [])))

    def _legend_menu(self, pos) -> None:
        item = self.legend_list.itemAt(pos)
        if item is not None and not item.isSelected():
            self.legend_list.setCurrentItem(item)  # a right-click picks the entry under it
        picked, every = self.legend_runs(), self.legend_runs(selected=False)
        menu = QMenu(self)
        act = menu.addAction(f"Compare the {plural(len(picked), 'selected run')}",
                             lambda: self.compareRequested.emit(picked))
        act.setEnabled(bool(picked))
        act = menu.addAction(f"Compare every run in the legend ({len(every)})",
                             lambda: self.compareRequested.emit(every))
        act.setEnabled(bool(every))
        self._legend_menu_shown = menu  # tests reach it here
        menu.popup(self.legend_list.viewport().mapToGlobal(pos))

    def _update_empty_line(self) -> None:
        """One line instead of a full-size empty chart per metric the runs lack."""
        if not self._run_ids:
            text = "Select runs in the Runs tab to chart their metrics." if self._keys else ""
            tip = ""
        else:
            empty = self.empty_metrics()
            names = ", ".join(empty[:EMPTY_NAMED]) + (
                f" and {len(empty) - EMPTY_NAMED} more" if len(empty) > EMPTY_NAMED else "")
            text = f"No values for the selected runs: {names}" if empty else ""
            tip = "\n".join(empty) if len(empty) > EMPTY_NAMED else ""
        self.empty_label.setText(text)
        self.empty_label.setToolTip(tip)
        self.empty_label.setVisible(bool(text))

    def _update_status(self) -> None:
        points = sum(s.value.size for s in self._data.values())
        text = " · ".join((plural(len(self._run_ids), "run"), plural(len(self.charts), "chart"),
                           plural(points, "point")))
        if self._keys and not self._checked:
            text += " · pick a metric on the left"
        self.status_label.setText(text)


def _chevron_icon(color: QColor) -> QIcon:
    """A "»" that says more controls are behind the toolbar's extension button."""
    pix = QPixmap(16, 16)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = painter.font()
    font.setPixelSize(15)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(color)
    painter.drawText(pix.rect(), Qt.AlignCenter, "»")
    painter.end()
    return QIcon(pix)


def _labelled(text: str, *widgets: QWidget) -> QWidget:
    """A label and its controls as one toolbar item."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(2)
    row.addWidget(QLabel(text))
    for w in widgets:
        row.addWidget(w)
    return box


def _combo(items) -> QComboBox:
    combo = QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    return combo


def _value_notes(nonfinite: int, nonpositive: int, stepless: bool) -> list[str]:
    notes = []
    if nonfinite:
        notes.append(f"{nonfinite:,} NaN/inf values not drawn")
    if nonpositive:
        notes.append(f"{nonpositive:,} points at ≤ 0 hidden by log axis")
    if stepless:
        notes.append("logged without steps: x is logging order")
    return notes


def _scaled(agg, span):
    """An aggregate's line and band scaled to 0-1 by ``span`` (overlay), for drawing only."""
    if span is None:
        return agg
    lo, hi = span
    f = 1.0 / (hi - lo)
    return Aggregate(agg.x, (agg.center - lo) * f, (agg.lo - lo) * f, (agg.hi - lo) * f, agg.n)


def _group_info(agg, mode: str, how: str) -> dict:
    info = {"center": agg.center, "lo": agg.lo, "hi": agg.hi, "n": agg.n, "how": how}
    if mode == "step":
        info["step"] = agg.x
    elif mode == "wall":
        info["timestamp"] = agg.x * 1000.0
    else:
        info["x"] = agg.x
    return info


def _band(agg, color: str, log_x: bool, log_y: bool) -> Band:
    x, lo, hi = agg.x, agg.lo, agg.hi
    ok = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi)
    if log_x:
        ok &= x > 0
    if log_y:
        ok &= (hi > 0) & (agg.center > 0)
        lo = np.where(lo > 0, lo, agg.center)  # a band reaching <= 0 is cut at its line
    x, lo, hi = x[ok], lo[ok], hi[ok]
    if log_x:
        x = np.log10(x)
    if log_y:
        lo, hi = np.log10(lo), np.log10(hi)
    return Band(color, x, lo, hi)


def _start_times(runs: pd.DataFrame | None) -> dict[str, float]:
    """run_id -> start time in ms, from the runs frame (datetime or epoch-ms column)."""
    if runs is None or "start_time" not in runs.columns or "run_id" not in runs.columns:
        return {}
    col = runs["start_time"]
    if pd.api.types.is_datetime64_any_dtype(col):
        ms = pd.to_datetime(col, utc=True)
        values = (ms - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(milliseconds=1)
    else:
        values = pd.to_numeric(col, errors="coerce")
    return {str(r): float(v) for r, v in zip(runs["run_id"], values, strict=True)
            if v is not None and math.isfinite(v)}
