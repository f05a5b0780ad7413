"""The plots of Compare: parallel coordinates (brushable axes) and a scatter of any value
against any metric. Both draw a :class:`mlscope.core.compare.Comparison`, emit
``selectRunsRequested(run_ids)`` when the user picks runs in them, and export as PNG/SVG
the way the chart panel does."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGraphicsItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollBar,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mlscope.core import compare as cmp
from mlscope.ui.theme import themed as _c

from .charts_plot import export_svg

COLOR_BINS = 16
FEW_RUNS = 100
FEW_LIT = 50
# By default every differing param (as the issue asks), then up to 4 differing metrics. An
# axis gets at least MIN_AXIS_PX: when they do not all fit, the plot shows a window of them
# and scrolls sideways (its label stays readable, and a drag repaints only what is shown);
# "Fit all" squeezes every axis into the width instead.
MAX_DEFAULT_METRICS = 4
MIN_AXIS_PX = 76
MAX_CATEGORY_LABELS = 30
DIM = "#dcdcdc"  # opaque: alpha-blended lines cost a third more to draw
NO_VALUE = QColor(150, 150, 150, 200)


def _export_menu(owner, button: QToolButton, name: str) -> None:
    menu = QMenu(button)
    menu.addAction("Save as PNG…", lambda: _export_dialog(owner, "png", name))
    menu.addAction("Save as SVG…", lambda: _export_dialog(owner, "svg", name))
    button.setMenu(menu)


def _export_dialog(owner, kind: str, name: str) -> None:
    filters = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)"}
    path, _ = QFileDialog.getSaveFileName(owner, "Save plot", f"{name}.{kind}", filters[kind])
    if path:
        (owner.export_png if kind == "png" else owner.export_svg)(path)


def _export_png(plot_item, path: str) -> None:
    from pyqtgraph.exporters import ImageExporter

    exporter = ImageExporter(plot_item)
    exporter.parameters()["width"] = int(plot_item.boundingRect().width() * 2)
    exporter.export(str(path))


class _BrushBox(pg.ViewBox):
    """Dragging up or down along an axis brushes a range on it; a click on an axis clears
    its brush. Panning and zooming are off: the axes always fill the view."""

    def __init__(self, owner):
        super().__init__(enableMenu=False)
        self.owner = owner
        self.setMouseEnabled(False, False)

    def _axis_at(self, scene_pos) -> int | None:
        p = self.mapSceneToView(scene_pos)
        a = int(round(p.x()))
        if 0 <= a < len(self.owner.axes) and abs(p.x() - a) <= 0.3:
            return a
        return None

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - pyqtgraph's name
        if ev.button() != Qt.LeftButton:
            ev.ignore()
            return
        a = self._axis_at(ev.buttonDownScenePos())
        if a is None:
            ev.ignore()
            return
        ev.accept()
        y0 = self.mapSceneToView(ev.buttonDownScenePos()).y()
        y1 = self.mapSceneToView(ev.scenePos()).y()
        self.owner.brush_axis(a, y0, y1, final=ev.isFinish())

    def mouseClickEvent(self, ev):  # noqa: N802
        a = self._axis_at(ev.scenePos())
        if a is not None and ev.button() == Qt.LeftButton:
            ev.accept()
            self.owner.clear_brush(a)
        else:
            super().mouseClickEvent(ev)

    def wheelEvent(self, ev, axis=None):  # noqa: N802
        """The wheel scrolls the axes sideways when they do not all fit (no zoom here)."""
        bar = self.owner.scroll
        if bar.isVisible() and ev.delta():
            ev.accept()
            bar.setValue(bar.value() - (1 if ev.delta() > 0 else -1))
        else:
            ev.ignore()


class _AxesDecor(pg.GraphicsObject):
    """The vertical axes and all their labels, painted in one go in device pixels."""

    def __init__(self):
        super().__init__()
        self.lines: list[float] = []
        self.labels: list[tuple] = []  # (x, y, text, h-anchor 0..1, bold)
        self.staggered = False  # titles drawn in two rows (at the last paint)
        self.setZValue(15)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)  # redrawn when the axes change

    def set(self, lines, labels) -> None:
        self.prepareGeometryChange()
        self.lines, self.labels = list(lines), list(labels)
        self.update()

    def boundingRect(self):  # noqa: N802 - Qt's name
        lo, hi = (min(self.lines), max(self.lines)) if self.lines else (0.0, 1.0)
        return QRectF(lo - 1.0, -0.2, hi - lo + 2.0, 1.5)

    def paint(self, p, *_):
        tr = p.transform()
        p.save()
        p.resetTransform()
        p.setPen(QPen(QColor(_c("#555555")), 0))
        for x in self.lines:
            p.drawLine(tr.map(QPointF(x, 0.0)), tr.map(QPointF(x, 1.0)))
        font = p.font()
        # Each label gets the room between two axes (titles centred, values to the right).
        room = abs(tr.map(QPointF(1.0, 0.0)).x() - tr.map(QPointF(0.0, 0.0)).x())
        # Titles too long for their room take two rows, every other one raised a line:
        # each then has the room of two axes ("learning_rate" whole, not "lear…rate").
        font.setBold(True)
        p.setFont(font)
        bold_metrics = p.fontMetrics()
        stagger = any(bold_metrics.horizontalAdvance(t) > room - 8
                      for _x, _y, t, _a, b in self.labels if b)
        self.staggered = stagger
        for x, y, text, anchor, bold in self.labels:
            font.setBold(bold)
            p.setFont(font)
            metrics = p.fontMetrics()
            width = (2 * room - 12 if stagger else room - 8) if bold else room * 0.8
            text = metrics.elidedText(text, Qt.ElideMiddle, int(width))
            pt = tr.map(QPointF(x, y))
            if bold and stagger and int(round(x)) % 2:
                pt.setY(pt.y() - metrics.height())
            w = metrics.horizontalAdvance(text)
            p.setPen(QColor(255, 255, 255, 0))
            box = QRectF(pt.x() - anchor * w - 2, pt.y() - metrics.ascent() / 2 - 1, w + 4,
                         metrics.height())
            p.fillRect(box, QColor(_c("#aaffffff")))  # Qt reads #AARRGGBB
            p.setPen(QColor(_c("#222222")))
            p.drawText(QPointF(pt.x() - anchor * w, pt.y() + metrics.ascent() / 2 - 1), text)
        p.restore()


class ParallelCoordinates(QWidget):
    """One vertical axis per chosen param or metric, one line per run.

    Lines are coloured by a chosen metric (viridis, binned into a few batched curves so
    1,000 runs redraw in milliseconds); runs outside a brushed range are drawn faint.
    """

    selectRunsRequested = Signal(list)
    statusMessage = Signal(str)

    def __init__(self, color=None, parent=None):
        super().__init__(parent)
        self.color = color or (lambda rid: "#444444")
        self.comp: cmp.Comparison | None = None
        self.axes: list[cmp.Axis] = []
        self.rows: list[int] = []  # comparison rows of the axes
        self.norm = np.zeros((0, 0))  # runs x axes, 0..1
        self.brushes: dict[tuple[str, str], tuple[float, float]] = {}  # normalised ranges
        self.mask = np.zeros(0, bool)
        self.highlight: set[str] = set()
        self.first = 0  # the first axis shown (when they do not all fit)
        self.shown = 0  # how many axes are shown side by side
        self._brush_items: dict[int, QGraphicsRectItem] = {}
        self._build_ui()

    def _build_ui(self) -> None:
        self.color_by = QComboBox()
        self.color_by.setMinimumContentsLength(14)
        self.color_by.setToolTip("Colour the lines by this metric")
        self.clear_button = QPushButton("Clear brushes")
        self.fit_all = QCheckBox("Fit all")
        self.fit_all.setToolTip("Squeeze every axis into the width (labels get short) instead "
                                "of scrolling sideways")
        self.export_button = QToolButton(text="Export", popupMode=QToolButton.InstantPopup)
        _export_menu(self, self.export_button, "parallel-coordinates")
        self.status = QLabel()
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # cut, not wider
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Colour by"))
        bar.addWidget(self.color_by)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.fit_all)
        bar.addWidget(self.export_button)
        bar.addWidget(self.status, 1)

        self.box = _BrushBox(self)
        self.plot = pg.PlotWidget(viewBox=self.box, background=_c("#ffffff"))
        self.item = self.plot.getPlotItem()
        self.item.hideAxis("left")
        self.item.hideAxis("bottom")
        self.item.hideButtons()
        self.decor = _AxesDecor()
        self.box.addItem(self.decor)
        self.dim_curve = pg.PlotCurveItem(pen=pg.mkPen(_c(DIM), width=1))
        self.dim_curve.setCacheMode(QGraphicsItem.DeviceCoordinateCache)  # a blit while dragging
        self.box.addItem(self.dim_curve)
        self.bin_curves = []
        cmap = pg.colormap.get("viridis")
        self.bin_colors = [cmap.map(k / (COLOR_BINS - 1), mode="qcolor") for k in range(COLOR_BINS)]
        for c in [*self.bin_colors, NO_VALUE]:
            curve = pg.PlotCurveItem(pen=pg.mkPen(c, width=1))  # hairlines: 10x faster
            self.box.addItem(curve)
            self.bin_curves.append(curve)
        self.highlight_curves: list = []

        self.scroll = QScrollBar(Qt.Horizontal)
        self.scroll.setToolTip("More axes: scroll sideways")
        self.scroll.hide()
        plot_side = QWidget()
        pl = QVBoxLayout(plot_side)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(0)
        pl.addWidget(self.plot, 1)
        pl.addWidget(self.scroll)
        self.plot.installEventFilter(self)

        self.axis_list = QListWidget()
        self.axis_list.setDragDropMode(QAbstractItemView.InternalMove)
        self.axis_list.setToolTip("Tick the axes to show; drag to reorder them")
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(QLabel("Axes (drag to reorder)"))
        sl.addWidget(self.axis_list)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(plot_side)
        split.addWidget(side)
        split.setStretchFactor(0, 1)
        split.setSizes([800, 200])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(split, 1)

        self.color_by.currentIndexChanged.connect(lambda *_: self._draw())
        self.clear_button.clicked.connect(self.clear_brushes)
        self.fit_all.toggled.connect(lambda *_: self._fit())
        self.scroll.valueChanged.connect(self._scrolled)
        self.axis_list.itemChanged.connect(lambda *_: self._axes_changed())
        self.axis_list.model().rowsMoved.connect(lambda *_: self._axes_changed())
        self.axis_list.itemClicked.connect(self._reveal)

    # -- input -------------------------------------------------------------------------------
    def set_comparison(self, comp: cmp.Comparison | None) -> None:
        old = self.comp
        self.comp = comp
        checked = self.axis_keys() if old is not None else None
        self.axis_list.blockSignals(True)
        self.axis_list.clear()
        colour = self.color_by.currentText()
        self.color_by.blockSignals(True)
        self.color_by.clear()
        self.color_by.addItem("(run colours)")
        if comp is not None:
            candidates = [i for i in range(len(comp)) if comp.section[i] in ("params", "metrics")]
            default = [i for i in candidates if comp.status[i] != cmp.SAME and
                       comp.section[i] == "params"]
            default += [i for i in candidates if comp.section[i] == "metrics" and
                        comp.status[i] != cmp.SAME][:MAX_DEFAULT_METRICS]
            chosen = default
            if checked:
                keys = {k: i for i, k in ((i, (comp.section[i], comp.key[i])) for i in candidates)}
                kept = [keys[k] for k in checked if k in keys]
                chosen = kept or default
            order = chosen + [i for i in candidates if i not in chosen]
            for i in order:
                it = QListWidgetItem(f"{comp.section[i][:-1]}: {comp.key[i]}")
                it.setData(Qt.UserRole, (str(comp.section[i]), str(comp.key[i])))
                it.setFlags(it.flags() | Qt.ItemIsUserCheckable | Qt.ItemIsDragEnabled)
                it.setCheckState(Qt.Checked if i in chosen else Qt.Unchecked)
                self.axis_list.addItem(it)
            metrics = [str(comp.key[i]) for i in candidates if comp.section[i] == "metrics"]
            self.color_by.addItems(metrics)
            pick = colour if colour in metrics else next(
                (m for m in metrics if comp.status[comp.row_index("metrics", m)] != cmp.SAME),
                metrics[0] if metrics else None)
            if pick:
                self.color_by.setCurrentText(pick)
        self.color_by.blockSignals(False)
        self.axis_list.blockSignals(False)
        self._axes_changed()

    def set_highlight(self, run_ids) -> None:
        self.highlight = set(run_ids)
        self._draw_highlight()

    def recolor(self) -> None:
        self._draw_highlight()

    def axis_keys(self) -> list[tuple[str, str]]:
        """The (section, key) of the shown axes, in order."""
        out = []
        for k in range(self.axis_list.count()):
            it = self.axis_list.item(k)
            if it.checkState() == Qt.Checked:
                out.append(tuple(it.data(Qt.UserRole)))
        return out

    def set_axes(self, keys: list[tuple[str, str]]) -> None:
        """Show exactly these axes, in this order (the others stay in the list, unticked)."""
        self.axis_list.blockSignals(True)
        items = {tuple(self.axis_list.item(k).data(Qt.UserRole)): k
                 for k in range(self.axis_list.count())}
        taken = [self.axis_list.takeItem(items[k] - n) for n, k in enumerate(
            sorted((k for k in keys if k in items), key=lambda k: items[k]))]
        by_key = {tuple(it.data(Qt.UserRole)): it for it in taken}
        for pos, k in enumerate(k for k in keys if k in by_key):
            self.axis_list.insertItem(pos, by_key[k])
        for k in range(self.axis_list.count()):
            it = self.axis_list.item(k)
            it.setCheckState(Qt.Checked if tuple(it.data(Qt.UserRole)) in keys else Qt.Unchecked)
        self.axis_list.blockSignals(False)
        self._axes_changed()

    # -- geometry ----------------------------------------------------------------------------
    def _axes_changed(self) -> None:
        comp = self.comp
        keys = self.axis_keys() if comp is not None else []
        self.rows = [comp.row_index(*k) for k in keys] if comp is not None else []
        self.axes = [comp.axis(i) for i in self.rows]
        n = len(comp.columns) if comp is not None else 0
        self.norm = (np.column_stack([a.normalized() for a in self.axes]) if self.axes
                     else np.zeros((n, 0)))
        self.brushes = {k: v for k, v in self.brushes.items() if k in keys}
        self._draw()

    def _draw(self) -> None:
        for item in self._brush_items.values():
            self.box.removeItem(item)
        self._brush_items = {}
        k = len(self.axes)
        self._fit(redraw=False)
        a0, a1 = self._window()
        # One item draws every shown axis line and label: a TextItem each (200 for 50 axes)
        # would cost most of a redraw.
        lines, labels = [], []
        for a in range(a0, a1):
            axis = self.axes[a]
            lines.append(a)
            labels.append((a, 1.06, axis.label[:28], 0.5, True))
            lo, hi = axis.span()
            if axis.categorical:
                cats = axis.categories
                step = max(1, len(cats) // MAX_CATEGORY_LABELS)
                for c in range(0, len(cats), step):
                    labels.append((a + 0.03, (c - lo) / (hi - lo), cats[c][:24], 0.0, False))
            else:
                for y, v in ((0.0, lo), (1.0, hi), (0.5, (lo + hi) / 2)):
                    labels.append((a + 0.03, y, f"{v:.4g}", 0.0, False))
        self.decor.set(lines, labels)
        first, shown = self.first, max(self.shown, 1) if k else 1
        self.box.setRange(xRange=(first - 0.45, first + max(shown - 0.55, 0.55)),
                          yRange=(-0.08, 1.16), padding=0)
        for a, axis in enumerate(self.axes):
            rng = self.brushes.get((axis.section, axis.key))
            if rng is not None:
                self._show_brush(a, *rng)
        n = len(self.comp.columns) if self.comp is not None else 0
        width = 2 if n <= FEW_RUNS else 1  # few lines read better thick; many draw faster thin
        for c, colour in zip(self.bin_curves, [*self.bin_colors, NO_VALUE], strict=True):
            c.setPen(pg.mkPen(colour, width=width))
        self._colour_values()
        self._apply(dim=True)

    def _colour_values(self) -> None:
        comp, name = self.comp, self.color_by.currentText()
        n = len(comp.columns) if comp is not None else 0
        self.bins = np.full(n, -1, dtype=np.int64)  # -1: run colour / no value
        self._color_note = ""
        if comp is None or self.color_by.currentIndex() <= 0:
            return
        values = comp.number[comp.row_index("metrics", name)]
        finite = np.isfinite(values)
        if finite.any():
            lo, hi = values[finite].min(), values[finite].max()
            scaled = (values - lo) / (hi - lo) if hi > lo else np.full(n, 0.5)
            self.bins[finite] = np.clip((scaled[finite] * (COLOR_BINS - 1)).round(), 0,
                                        COLOR_BINS - 1).astype(np.int64)
            self._color_note = (f"colour: {name} from {cmp.format_number(lo)} (purple) to "
                                f"{cmp.format_number(hi)} (yellow)")
        self.bins[~finite] = COLOR_BINS  # grey: no value

    def _window(self) -> tuple[int, int]:
        """The axes whose lines are drawn: the shown ones and one beyond each edge."""
        k = len(self.axes)
        if self.shown >= k:
            return 0, k
        return max(self.first - 1, 0), min(self.first + self.shown + 1, k)

    def _fit(self, redraw: bool = True) -> None:
        """How many axes fit side by side at MIN_AXIS_PX (all with "Fit all"); the scroll
        bar reaches the others."""
        k = len(self.axes)
        width = self.plot.width()  # (in its resize event the viewport is not resized yet)
        fit = k if self.fit_all.isChecked() else max(2, int(width // MIN_AXIS_PX))
        shown = min(k, fit)
        first = max(0, min(self.first, k - shown))
        changed = (shown, first) != (self.shown, self.first)
        self.shown, self.first = shown, first
        self.scroll.blockSignals(True)
        self.scroll.setRange(0, max(0, k - shown))
        self.scroll.setPageStep(max(shown, 1))
        self.scroll.setValue(first)
        self.scroll.blockSignals(False)
        self.scroll.setVisible(k > shown)
        if redraw and changed:
            self._draw()

    def _scrolled(self, value: int) -> None:
        if value != self.first:
            self.first = value
            self._draw()

    def scroll_to(self, a: int) -> None:
        """Bring axis ``a`` into the shown ones."""
        if not (self.first <= a < self.first + self.shown):
            self.scroll.setValue(max(0, a - self.shown // 2))

    def _reveal(self, item) -> None:
        """An axis clicked in the list is scrolled into view."""
        key = tuple(item.data(Qt.UserRole))
        keys = self.axis_keys()
        if key in keys:
            self.scroll_to(keys.index(key))

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        if obj is self.plot and event.type() == QEvent.Resize:
            self._fit()
        return super().eventFilter(obj, event)

    def _lines(self, runs: np.ndarray):
        """x, y, connect for these runs' polylines over the drawn axes (NaN: a gap)."""
        a0, a1 = self._window()
        k = a1 - a0
        y = self.norm[runs][:, a0:a1].ravel().astype(float)
        x = np.tile(np.arange(a0, a1, dtype=float), len(runs))
        finite = np.isfinite(y)
        connect = finite.copy()
        connect[:-1] &= finite[1:]
        if k:
            connect[k - 1::k] = False
        y[~finite] = 0.0
        return x, y, connect

    def _apply(self, dim: bool = False) -> None:
        """Redraw the coloured lines for the current brushes. Every line is also drawn
        faint beneath them (``dim``: redone only when the axes or runs change), a cached
        picture: a drag step repaints only the lines it keeps."""
        comp = self.comp
        n = len(comp.columns) if comp is not None else 0
        ranges = {}
        for a, axis in enumerate(self.axes):
            rng = self.brushes.get((axis.section, axis.key))
            if rng is not None:
                lo, hi = axis.span()
                ranges[a] = (lo + rng[0] * (hi - lo), lo + rng[1] * (hi - lo))
        self.mask = cmp.brush(self.axes, ranges) if self.axes else np.ones(n, bool)
        empty = (np.zeros(0), np.zeros(0))
        if not self.axes or n == 0:
            self.dim_curve.setData(*empty)
            for c in self.bin_curves:
                c.setData(*empty)
            self._draw_highlight()
            self._update_status(n)
            return
        if dim:
            x, y, con = self._lines(np.arange(n))
            self.dim_curve.setData(x, y, connect=con)
        # The faint lines show only what brushes leave out: unbrushed, the coloured lines
        # cover them, and drawing them anyway cost two thirds of the first paint.
        self.dim_curve.setVisible(bool(ranges))
        inside = self.mask
        for b, curve in enumerate(self.bin_curves):
            sel = np.flatnonzero(inside & (self.bins == (b if b < COLOR_BINS else COLOR_BINS)))
            if b == COLOR_BINS and self.color_by.currentIndex() <= 0:
                sel = np.zeros(0, dtype=np.int64)
            if sel.size:
                x, y, con = self._lines(sel)
                curve.setData(x, y, connect=con)
            else:
                curve.setData(*empty)
        self._draw_highlight()
        self._update_status(n)

    def _draw_highlight(self) -> None:
        """The runs selected in the table, thick in their run colours; when the lines are
        not coloured by a metric, every line in its run colour (one curve per colour)."""
        for c in self.highlight_curves:
            self.box.removeItem(c)
        self.highlight_curves = []
        comp = self.comp
        if comp is None or not self.axes:
            return
        ids = [c.run_id for c in comp.columns]
        lit = np.array([r in self.highlight for r in ids], dtype=bool) if self.highlight \
            else np.zeros(len(ids), bool)
        if self.brushes and np.array_equal(lit, self.mask):
            lit[:] = False  # the table selected what the brushes keep: nothing to add
        width = 3.0 if np.count_nonzero(lit) <= FEW_LIT else 1.5  # thick lines paint slowly
        show = lit if self.color_by.currentIndex() > 0 else lit | self.mask
        if not show.any():
            return
        groups: dict[tuple[str, bool], list[int]] = {}
        for j in np.flatnonzero(show):
            groups.setdefault((self.color(ids[j]), bool(lit[j])), []).append(int(j))
        for (color, is_lit), runs in groups.items():
            x, y, con = self._lines(np.array(runs))
            curve = pg.PlotCurveItem(x, y, connect=con,
                                     pen=pg.mkPen(color, width=width if is_lit else 1))
            curve.setZValue(10 if is_lit else 5)
            self.box.addItem(curve)
            self.highlight_curves.append(curve)

    def _update_status(self, n: int) -> None:
        k = len(self.axes)
        parts = [f"{int(self.mask.sum())} of {n} runs" if self.brushes else f"{n} runs",
                 f"axes {self.first + 1}-{self.first + self.shown} of {k} (scroll sideways, "
                 "or tick Fit all)" if self.shown < k else f"{k} axes"]
        if self._color_note:
            parts.append(self._color_note)
        if self.axes:
            parts.append("drag along an axis to filter; click it to clear")
        self.status.setText(" · ".join(parts))
        self.status.setToolTip("\n".join(parts))

    # -- brushing ----------------------------------------------------------------------------
    def brush_axis(self, a: int, y0: float, y1: float, final: bool = True) -> None:
        """Brush normalised range [y0, y1] (0 bottom, 1 top) on axis ``a``; runs outside
        any brush fade; ``final`` (the drag ended) makes the table select the runs left."""
        lo, hi = sorted((float(y0), float(y1)))
        axis = self.axes[a]
        self.brushes[(axis.section, axis.key)] = (lo, hi)
        self._show_brush(a, lo, hi)
        self._apply()
        if final:
            self._emit_selection()

    def clear_brush(self, a: int) -> None:
        axis = self.axes[a]
        if self.brushes.pop((axis.section, axis.key), None) is not None:
            item = self._brush_items.pop(a, None)
            if item is not None:
                self.box.removeItem(item)
            self._apply()
            self._emit_selection()

    def clear_brushes(self) -> None:
        had = bool(self.brushes)
        self.brushes = {}
        for item in self._brush_items.values():
            self.box.removeItem(item)
        self._brush_items = {}
        self._apply()
        if had:
            self._emit_selection()

    def _show_brush(self, a: int, lo: float, hi: float) -> None:
        item = self._brush_items.get(a)
        if item is None:
            item = QGraphicsRectItem()
            item.setBrush(QBrush(QColor(30, 110, 220, 60)))
            item.setPen(QPen(QColor(30, 110, 220), 0))
            item.setZValue(20)
            self.box.addItem(item)
            self._brush_items[a] = item
        item.setRect(QRectF(a - 0.06, lo, 0.12, hi - lo))

    def selected_runs(self) -> list[str]:
        if self.comp is None:
            return []
        return [c.run_id for c, keep in zip(self.comp.columns, self.mask, strict=True) if keep]

    def _emit_selection(self) -> None:
        self.selectRunsRequested.emit(self.selected_runs())

    # -- export ------------------------------------------------------------------------------
    def export_png(self, path: str) -> None:
        _export_png(self.item, path)

    def export_svg(self, path: str) -> None:
        export_svg(self.item, path)


class ScatterPlot(QWidget):
    """Any param, metric, start time or duration (x) against any metric (y): one point per
    run in its colour; hover names the run, a click selects it in the table."""

    selectRunsRequested = Signal(list)
    statusMessage = Signal(str)

    def __init__(self, color=None, parent=None):
        super().__init__(parent)
        self.color = color or (lambda rid: "#444444")
        self.comp: cmp.Comparison | None = None
        self.highlight: set[str] = set()
        self.x = self.y = np.zeros(0)
        self.shown = np.zeros(0, dtype=np.int64)  # comparison columns of the drawn points
        self._build_ui()

    def _build_ui(self) -> None:
        self.x_combo = QComboBox()
        self.y_combo = QComboBox()
        for c in (self.x_combo, self.y_combo):
            c.setMinimumContentsLength(16)
        self.log_x = QCheckBox("log x")
        self.log_y = QCheckBox("log y")
        self.export_button = QToolButton(text="Export", popupMode=QToolButton.InstantPopup)
        _export_menu(self, self.export_button, "scatter")
        self.hover_label = QLabel(" ")
        self.hover_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        bar = QHBoxLayout()
        for w in (QLabel("x"), self.x_combo, QLabel("y"), self.y_combo, self.log_x, self.log_y,
                  self.export_button):
            bar.addWidget(w)
        bar.addStretch(1)
        self.plot = pg.PlotWidget(background=_c("#ffffff"))
        self.item = self.plot.getPlotItem()
        self.item.showGrid(x=True, y=True, alpha=0.25)
        self.points = pg.ScatterPlotItem(size=10, hoverable=True, hoverSize=14,
                                         hoverPen=pg.mkPen("k", width=2))
        self.item.addItem(self.points)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.hover_label)
        for c in (self.x_combo, self.y_combo):
            c.currentIndexChanged.connect(lambda *_: self._draw())
        for b in (self.log_x, self.log_y):
            b.toggled.connect(lambda *_: self._draw())
        self.points.sigHovered.connect(self._hovered)
        self.points.sigClicked.connect(self._clicked)

    def set_comparison(self, comp: cmp.Comparison | None) -> None:
        self.comp = comp
        x_was, y_was = self.x_combo.currentData(), self.y_combo.currentData()
        for c in (self.x_combo, self.y_combo):
            c.blockSignals(True)
            c.clear()
        if comp is not None:
            self.x_combo.addItem("start time", ("attributes", "start"))
            self.x_combo.addItem("duration", ("attributes", "duration"))
            for i in range(len(comp)):
                s, k = str(comp.section[i]), str(comp.key[i])
                if s in ("params", "metrics"):
                    self.x_combo.addItem(f"{s[:-1]}: {k}", (s, k))
                if s == "metrics":
                    self.y_combo.addItem(k, (s, k))
            self._pick(self.x_combo, x_was, lambda d: d[0] == "params" and
                       comp.status[comp.row_index(*d)] != cmp.SAME)
            self._pick(self.y_combo, y_was, lambda d: comp.status[comp.row_index(*d)] != cmp.SAME)
        for c in (self.x_combo, self.y_combo):
            c.blockSignals(False)
        self._draw()

    @staticmethod
    def _pick(combo, previous, good) -> None:
        datas = [combo.itemData(k) for k in range(combo.count())]
        if previous in datas:
            combo.setCurrentIndex(datas.index(previous))
            return
        for k, d in enumerate(datas):
            if d and good(d):
                combo.setCurrentIndex(k)
                return

    def set_axes(self, x: tuple[str, str], y: tuple[str, str]) -> None:
        for combo, want in ((self.x_combo, x), (self.y_combo, y)):
            datas = [combo.itemData(k) for k in range(combo.count())]
            if tuple(want) in datas:
                combo.setCurrentIndex(datas.index(tuple(want)))

    def set_highlight(self, run_ids) -> None:
        self.highlight = set(run_ids)
        self._draw()

    def recolor(self) -> None:
        self._draw()

    def _axis(self, data) -> cmp.Axis | None:
        comp = self.comp
        if comp is None or data is None:
            return None
        try:
            return comp.axis(comp.row_index(*data))
        except KeyError:
            return None

    def _draw(self) -> None:
        comp = self.comp
        ax, ay = self._axis(self.x_combo.currentData()), self._axis(self.y_combo.currentData())
        if comp is None or ax is None or ay is None:
            self.points.setData([])
            self.shown = np.zeros(0, dtype=np.int64)
            return
        x, y = ax.values.astype(float), ay.values.astype(float)
        keep = np.isfinite(x) & np.isfinite(y)
        dropped_log = 0
        for flag, v, axis in ((self.log_x, x, ax), (self.log_y, y, ay)):
            if flag.isChecked() and not axis.categorical:
                bad = keep & ~(v > 0)
                dropped_log += int(bad.sum())
                keep &= v > 0
        self.shown = np.flatnonzero(keep)
        xs, ys = x[keep], y[keep]
        lx = self.log_x.isChecked() and not ax.categorical
        ly = self.log_y.isChecked() and not ay.categorical
        if lx:
            xs = np.log10(xs)
        if ly:
            ys = np.log10(ys)
        self.x, self.y = xs, ys
        spots = []
        for j, px, py in zip(self.shown, xs, ys, strict=True):
            col = comp.columns[j]
            lit = col.run_id in self.highlight
            spots.append({"pos": (px, py), "data": int(j),
                          "brush": pg.mkBrush(self.color(col.run_id)),
                          "pen": pg.mkPen(_c("#111827"), width=2) if lit else pg.mkPen(_c("#ffffff"), width=0.5),
                          "size": 14 if lit else 10})
        self.points.setData(spots)
        for name, axis, log, vals in (("bottom", ax, lx, xs), ("left", ay, ly, ys)):
            item = self.item.getAxis(name)
            if axis.categorical:
                item.setTicks([[(k, c[:20]) for k, c in enumerate(axis.categories)]])
            elif log:  # the points are in log10: one labelled tick per power of ten
                lo, hi = (math.floor(vals.min()), math.ceil(vals.max())) if vals.size else (0, 1)
                item.setTicks([[(float(p), cmp.format_number(10.0 ** p))
                                for p in range(lo, hi + 1)], []])
            else:
                item.setTicks(None)
        self.item.setLabel("bottom", ax.label)
        self.item.setLabel("left", ay.label)
        self.item.enableAutoRange()
        missing = len(comp.columns) - len(self.shown)
        note = f"{len(self.shown)} runs"
        if missing:
            note += f" ({missing} without both values"
            note += f", {dropped_log} not > 0 on a log axis)" if dropped_log else ")"
        self.hover_label.setText(note)

    def point_pos(self, j: int):
        """The data position of comparison column ``j``'s point (None when not drawn)."""
        hit = np.flatnonzero(self.shown == j)
        if not hit.size:
            return None
        k = int(hit[0])
        return float(self.x[k]), float(self.y[k])

    def describe(self, j: int) -> str:
        comp = self.comp
        col = comp.columns[j]
        ax, ay = self.x_combo.currentData(), self.y_combo.currentData()
        xi, yi = comp.row_index(*ax), comp.row_index(*ay)
        return (f"{comp.labels()[j]} ({col.run_id[:8]}) · {self.x_combo.currentText()}: "
                f"{comp.display(xi, j)} · {ay[1]}: {comp.display(yi, j)}")

    def _hovered(self, _item, points, _ev) -> None:
        if len(points):
            text = "\n".join(self.describe(int(p.data())) for p in points[:5])
            self.hover_label.setText(text.replace("\n", "  |  "))
            self.plot.setToolTip(text)
        else:
            self.plot.setToolTip("")

    def _clicked(self, _item, points, _ev) -> None:
        if len(points) and self.comp is not None:
            j = int(points[0].data())
            self.selectRunsRequested.emit([self.comp.columns[j].run_id])

    def export_png(self, path: str) -> None:
        _export_png(self.item, path)

    def export_svg(self, path: str) -> None:
        export_svg(self.item, path)
