"""The charts of the panel: curves (batched, with their own spike-preserving level of
detail), bars for one value per run, dots against a param; each with its hover.

pyqtgraph's built-in ``setDownsampling(mode="peak")`` and ``setClipToView`` work per item and
assume one increasing x per item (clipping bisects x; peak mode takes a uniform dx from
the ends). Drawing 1,000 runs needs them batched into a few items, which breaks both
assumptions, so each batch asks every member's :class:`MinMaxPyramid` for the visible
window instead: the same min/max-per-pixel result, per run, in O(pixels) a frame.
"""

from __future__ import annotations

import importlib
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPaintEngine, QPainter, QPainterPath, QPen

from mlscope.core.format import format_duration
from mlscope.core.series import (
    Curve,
    MinMaxPyramid,
    bar_order,
    isolated,
    nearest_point,
    values_at,
)
from mlscope.ui.theme import themed as _c

# Past this many points in a frame lines are drawn 1 pixel wide: Qt's raster engine strokes
# wider antialiased paths (a min/max zigzag above all) 10-30x slower than cosmetic hairlines.
FINE_POINTS = 8_000


@dataclass(eq=False)
class Trace:
    """One drawn line: a run's (or a group's) metric in display coordinates.

    ``info`` holds what hover shows for point i of the curve (the original step, time,
    value...), looked up lazily through ``curve.source``.
    """

    label: str
    color: str
    key: str
    curve: Curve
    faint: bool = False
    bold: bool = False  # smoothed lines and group means stand out; noisy raw lines stay thin
    style: Qt.PenStyle = Qt.PenStyle.SolidLine
    run_id: str | None = None
    info: dict = field(default_factory=dict)
    _pyramid: MinMaxPyramid | None = None

    @property
    def pyramid(self) -> MinMaxPyramid:
        if self._pyramid is None:
            self._pyramid = MinMaxPyramid(self.curve.x, self.curve.y, self.curve.breaks)
        return self._pyramid


@dataclass(eq=False)
class Band:
    """The shaded spread of a group: lower and upper edge in display coordinates."""

    color: str
    x: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


class DurationAxis(pg.AxisItem):
    """Relative time in seconds shown as 45s, 12m30s, 3h05m00s."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        if self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [format_duration(v * scale, compact=True) for v in values]


class WallTimeAxis(pg.DateAxisItem):
    """Dates and times, labelled with the millisecond they mean.

    pyqtgraph steps sub-second ticks by adding floats around 1.7e9, so 21.6 s arrives as
    21.5999994 and was labelled "21.599". Its finest ticks are whole milliseconds: round
    to those before formatting.
    """

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return super().tickStrings([round(v, 3) for v in values], scale, spacing)


class BatchCurve(pg.PlotCurveItem):
    """Many traces of one pen drawn as one item, joined with a ``connect`` array.

    Bounds come from all the data, not from the decimated window on screen, so autorange
    ("A" button, reset view) still sees every point.
    """

    def __init__(self, traces: list[Trace], pen: QPen):
        super().__init__(pen=pen, skipFiniteCheck=True, antialias=True)
        self.traces = traces
        self.fine = True
        self._pen = pen
        xs, ys = zip(*(t.pyramid.bounds() for t in traces), strict=True)
        self._bounds = (_span(xs), _span(ys))

    def dataBounds(self, ax, frac=1.0, orthoRange=None):  # noqa: N802 - pyqtgraph's name
        return self._bounds[ax]

    def set_fine(self, fine: bool) -> None:
        self.fine = fine
        pen = QPen(self._pen)
        if not fine:
            pen.setWidthF(1.0)
        self.setPen(pen)

    def paint(self, p, opt, widget):
        if not _draws_svg(p):
            super().paint(p, opt, widget)
            return
        _draw_in_pixels(p, self.getPath(), self.opts["pen"], Qt.BrushStyle.NoBrush)

    def show_window(self, x0: float, x1: float, max_points: int) -> int:
        parts = [t.pyramid.window(x0, x1, max_points) for t in self.traces]
        parts = [p for p in parts if p[0].size]
        if not parts:
            self.setData(np.zeros(0), np.zeros(0))
            return 0
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        connect = np.concatenate([p[2] for p in parts])
        ends = np.cumsum([p[0].size for p in parts]) - 1
        connect[ends] = False  # never join one run's last point to the next run's first
        self.setData(x, y, connect=connect)
        return x.size


class BandFill(pg.FillBetweenItem):
    """A group's shaded spread; in SVG drawn in pixel coordinates like :class:`BatchCurve`."""

    def paint(self, p, opt, widget):
        if not _draws_svg(p):
            super().paint(p, opt, widget)
            return
        _draw_in_pixels(p, self.path(), self.pen(), self.brush())


def _draws_svg(p: QPainter) -> bool:
    return p.paintEngine().type() == QPaintEngine.Type.SVG


def _draw_in_pixels(p: QPainter, path: QPainterPath, pen: QPen, brush) -> None:
    """Draws a path given in item (data) coordinates with the painter's transform applied
    first: Qt's SVG writer prints coordinates in the item's frame with 6 significant
    digits, which moves points at x ~1.7e9 (epoch seconds) or 1e7 (steps) by whole pixels
    and stacks a run's points on one x (pyqtgraph issue #2661). Pens here are cosmetic, so
    dropping the transform changes nothing else."""
    path = p.transform().map(path)
    p.resetTransform()
    p.setPen(pen)
    p.setBrush(brush)
    p.drawPath(path)


def _span(pairs):
    lows = [p[0] for p in pairs if p[0] is not None]
    highs = [p[1] for p in pairs if p[1] is not None]
    return (min(lows), max(highs)) if lows else (None, None)


class MetricChart:
    """A PlotItem showing traces and bands, redrawing their detail as the view moves."""

    kind = "line"

    def __init__(self, title: str, x_mode: str, log_x: bool, log_y: bool):
        axis = {"wall": WallTimeAxis, "relative": DurationAxis}.get(x_mode, pg.AxisItem)
        self.plot = pg.PlotItem(axisItems={"bottom": axis(orientation="bottom")})
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLogMode(x=log_x, y=log_y)
        self.plot.setMenuEnabled(False)  # its own log/transform menu would bypass ours
        _style_axes(self.plot)
        self.plot.setLabel("bottom", X_LABELS.get(x_mode, x_mode))
        self.plot.setLabel("left", title)
        self.x_mode = x_mode
        self.key = title
        self.title = title
        self.traces: list[Trace] = []
        self.batches: list[BatchCurve] = []
        self._extra: list = []
        self.legend: pg.LegendItem | None = None
        self.vb = self.plot.getViewBox()
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self.vb.sigXRangeChanged.connect(lambda *_: self._timer.start())
        self.vb.sigResized.connect(lambda *_: self._timer.start())
        self._hover_items = self._make_hover()

    # -- content -------------------------------------------------------------------------
    def set_content(self, traces: list[Trace], bands: list[Band], note: str = "",
                    legend: list[tuple[str, str, Qt.PenStyle]] | None = None) -> None:
        """Replaces everything drawn; the view range stays unless it follows the data."""
        for item in self.batches + self._extra:
            self.plot.removeItem(item)
        self._remove_legend()
        self.batches, self._extra = [], []
        self.traces = [t for t in traces if t.curve.x.size]
        for band in bands:
            self._add_band(band)
        groups: dict[tuple, list[Trace]] = {}
        for t in self.traces:  # faint first: raw curves stay behind their smoothed line
            groups.setdefault((not t.faint, t.bold, t.color, t.style), []).append(t)
        for (strong, bold, color, style), members in sorted(groups.items(),
                                                             key=lambda kv: kv[0][:2]):
            batch = BatchCurve(members, _pen(color, style, strong, bold))
            batch.setZValue(1 if strong else 0)
            self.plot.addItem(batch)
            self.batches.append(batch)
        self._add_dots()
        self.set_note(note)
        if not self.traces and not bands:
            text = pg.TextItem("no data to draw", color=_c("#6b7280"), anchor=(0.5, 0.5))
            self.plot.addItem(text, ignoreBounds=True)
            text.setPos(*self.vb.viewRect().center().toTuple())
            self._extra.append(text)
        if legend:
            self._add_legend(legend)
        self.refresh()

    def set_note(self, note: str) -> None:
        _set_title(self.plot, self.title, note)

    def set_y_label(self, text: str) -> None:
        self.plot.setLabel("left", text)

    def height(self) -> int:
        return 0  # takes what the grid row gives

    def _add_band(self, band: Band) -> None:
        color = QColor(band.color)
        lo = pg.PlotCurveItem(band.x, band.lo, pen=pg.mkPen(None))
        hi = pg.PlotCurveItem(band.x, band.hi, pen=pg.mkPen(None))
        color.setAlpha(55)
        fill = BandFill(lo, hi, brush=pg.mkBrush(color))
        fill.setZValue(-1)
        for item in (lo, hi, fill):
            self.plot.addItem(item)
            self._extra.append(item)

    def _add_dots(self) -> None:
        """Points no line reaches (single-point metrics, a value between two gaps) as dots."""
        xs, ys, brushes = [], [], []
        for t in self.traces:
            idx = isolated(t.curve)
            if idx.size:
                xs.append(t.curve.x[idx])
                ys.append(t.curve.y[idx])
                color = QColor(t.color)
                if t.faint:
                    color.setAlpha(90)
                brushes.extend([pg.mkBrush(color)] * idx.size)
        if xs:
            dots = pg.ScatterPlotItem(np.concatenate(xs), np.concatenate(ys), size=7,
                                      pen=pg.mkPen(None), brush=brushes)
            dots.setZValue(2)
            self.plot.addItem(dots)
            self._extra.append(dots)

    def _add_legend(self, entries) -> None:
        """The legend in its own column right of the plot: beside the curves, never on them."""
        legend = pg.LegendItem(labelTextSize="8pt", verSpacing=-6, labelTextColor=_c("#1f2937"))
        for name, color, style in entries:
            legend.addItem(pg.PlotDataItem(pen=_pen(color, style, True, True)), _esc(name))
        # pyqtgraph sizes a legend itself (it does not sit in a layout cell): reserve a
        # column of its width right of the plot and pin it to the top right corner there.
        self.plot.layout.setColumnFixedWidth(3, legend.width() + 6)
        legend.setParentItem(self.plot)
        legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-2, 28))
        self.legend = legend

    def _remove_legend(self) -> None:
        if self.legend is not None:
            self.plot.layout.setColumnFixedWidth(3, 0)
            if self.legend.scene() is not None:
                self.legend.scene().removeItem(self.legend)
            self.legend = None

    # -- level of detail ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Puts the visible window of every batch on screen at about 2 points per pixel."""
        if not self.batches:
            return
        width = self.vb.width()
        max_points = int(2 * width) if width and width > 10 else 2000
        if self.vb.autoRangeEnabled()[0]:
            x0, x1 = -math.inf, math.inf  # the view is about to show everything
        else:
            x0, x1 = self.vb.viewRange()[0]
        total = 0
        for batch in self.batches:
            total += batch.show_window(x0, x1, max_points)
        fine = total <= FINE_POINTS
        for batch in self.batches:
            if batch.fine != fine:
                batch.set_fine(fine)

    # -- hover -------------------------------------------------------------------------------
    def _make_hover(self):
        pen = pg.mkPen(_c("#9ca3af"), width=1, style=Qt.PenStyle.DashLine)
        vline = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        markers = pg.ScatterPlotItem(size=8, pen=pg.mkPen(_c("#ffffff"), width=1.5))
        for item in (vline, markers):
            item.setZValue(10)
            item.hide()
            self.plot.addItem(item, ignoreBounds=True)
        return vline, markers

    def hide_hover(self) -> None:
        for item in self._hover_items:
            item.hide()

    def hover(self, scene_pos: QPointF) -> dict | None:
        """Every line's value at the cursor's x (its nearest point), highest first, as
        TensorBoard's tooltip; the point nearest the cursor's top level for the caller."""
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            self.hide_hover()
            return None
        strong = [t for t in self.traces if not t.faint and t.curve.x.size] or [
            t for t in self.traces if t.curve.x.size]
        if not strong:
            self.hide_hover()
            return None
        pos = self.vb.mapSceneToView(scene_pos)
        (x0, x1), (y0, y1) = self.vb.viewRange()
        sx = self.vb.width() / ((x1 - x0) or 1.0)
        sy = self.vb.height() / ((y1 - y0) or 1.0)
        hit = nearest_point([(t.curve.x, t.curve.y) for t in strong], pos.x(), pos.y(), sx, sy)
        trace, i = strong[hit[0]], hit[1]
        x = float(trace.curve.x[i])
        rows = []
        for t, j in zip(strong, values_at([t.curve.x for t in strong], x), strict=True):
            row = hover_info(t, j)
            row.update(color=t.color, x=float(t.curve.x[j]), y=float(t.curve.y[j]),
                       nearest=t is trace and j == i)
            rows.append(row)
        rows.sort(key=lambda r: -r["y"])  # as the lines lie on screen: highest first
        vline, markers = self._hover_items
        vline.setPos(x)
        markers.setData([r["x"] for r in rows], [r["y"] for r in rows],
                        brush=[pg.mkBrush(r["color"]) for r in rows])
        vline.show()
        markers.show()
        point = hover_info(trace, i)
        point.update(color=trace.color, rows=rows, x_mode=self.x_mode)
        return point


X_LABELS = {"step": "Step", "wall": "Wall time", "relative": "Relative time"}
BAR_PITCH = 26       # pixels per bar: room for an 8-9 pt run name
BAR_CHROME = 86      # title, value axis and its label
VALUE_LABELS_UP_TO = 40  # more bars than this: values on hover only
BAR_PITCH_DENSE = 12     # ...and thinner bars
BAR_MAX_HEIGHT = 1600    # hundreds of runs: bars get thinner, names thinned out


@dataclass(eq=False)
class Bar:
    """One run's (or group's) single value of a metric."""

    label: str
    value: float
    color: str
    run_id: str | None = None
    lo: float | None = None  # a group's spread, drawn as a whisker
    hi: float | None = None
    info: dict = field(default_factory=dict)


class BarChart:
    """A single-value metric across runs: horizontal bars sorted from the largest value
    down, in the runs' colours, run names on the left, the value at each bar's end.

    Same face to the panel as :class:`MetricChart` (``plot``, ``vb``, ``hover``...)."""

    kind = "bar"

    def __init__(self, title: str):
        self.plot = pg.PlotItem()
        self.plot.showGrid(x=True, y=False, alpha=0.25)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.vb = self.plot.getViewBox()
        self.vb.invertY(True)  # the first (largest) bar on top
        self.vb.setMouseEnabled(x=True, y=False)
        _style_axes(self.plot)
        self.plot.setLabel("bottom", title)
        self.title = self.key = title
        self.keys = [title]
        self.traces: list[Trace] = []
        self.batches: list = []
        self.bars: list[Bar] = []
        self._items: list = []
        self.note = ""
        self._highlight = pg.BarGraphItem(x0=[0], y=[0], height=0.84, width=[0],
                                          brush=pg.mkBrush(0, 0, 0, 0),
                                          pen=pg.mkPen(_c("#111827"), width=1.5))
        self._highlight.setZValue(5)
        self._highlight.hide()
        self.plot.addItem(self._highlight, ignoreBounds=True)

    def height(self) -> int:
        n = max(len(self.bars), 2)
        pitch = BAR_PITCH if n <= VALUE_LABELS_UP_TO else BAR_PITCH_DENSE
        return min(BAR_CHROME + pitch * n, BAR_MAX_HEIGHT)

    def set_bars(self, bars: list[Bar], note: str = "") -> None:
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        self.bars = [bars[i] for i in bar_order([b.value for b in bars])]
        self.set_note(note)
        n = len(self.bars)
        axis = self.plot.getAxis("left")
        metrics = QFontMetrics(QFont())
        names = [metrics.elidedText(b.label, Qt.ElideMiddle, 150) for b in self.bars]
        pitch = (self.height() - BAR_CHROME) / max(n, 1)
        every = max(1, math.ceil(metrics.height() / max(pitch, 1e-6)))  # names never overlap
        axis.setTicks([[(i, name) for i, name in enumerate(names) if i % every == 0], []])
        axis.setWidth(min(160, max([metrics.horizontalAdvance(t) for t in names] + [20]) + 14))
        ok = [i for i, b in enumerate(self.bars) if math.isfinite(b.value)]
        if ok:
            values = np.array([self.bars[i].value for i in ok])
            item = pg.BarGraphItem(
                x0=np.minimum(values, 0), width=np.abs(values), y=np.array(ok, dtype=float),
                height=0.68, brushes=[pg.mkBrush(self.bars[i].color) for i in ok],
                pens=[pg.mkPen(QColor(self.bars[i].color).darker(115)) for i in ok])
            self._add(item)
        whiskers = [i for i in ok if self.bars[i].lo is not None and self.bars[i].hi is not None
                    and self.bars[i].hi > self.bars[i].lo]
        if whiskers:
            c = np.array([self.bars[i].value for i in whiskers])
            self._add(pg.ErrorBarItem(
                x=c, y=np.array(whiskers, dtype=float), beam=0.25, pen=pg.mkPen(_c("#374151")),
                left=c - np.array([self.bars[i].lo for i in whiskers]),
                right=np.array([self.bars[i].hi for i in whiskers]) - c))
        lo = min([0.0] + [self.bars[i].lo if self.bars[i].lo is not None else self.bars[i].value
                          for i in ok])
        hi = max([0.0] + [self.bars[i].hi if self.bars[i].hi is not None else self.bars[i].value
                          for i in ok])
        span = (hi - lo) or 1.0
        if n <= VALUE_LABELS_UP_TO:
            for i, b in enumerate(self.bars):
                finite = math.isfinite(b.value)
                end = b.hi if finite and b.hi is not None else (b.value if finite else 0.0)
                text = pg.TextItem(_num(b.value), color=_c("#374151"),
                                   anchor=(0, 0.5) if not finite or b.value >= 0 else (1, 0.5))
                text.setFont(_small_font())
                text.setPos(end + span * 0.01 * (1 if end >= 0 else -1), i)
                self._add(text, ignore_bounds=True)
        # Room for the value labels: about a sixth of the plot beyond the longest bar.
        self.vb.setXRange(lo - (span * 0.16 if lo < 0 else 0), hi + (span * 0.16 if hi > 0 else 0),
                          padding=0.02)
        self.vb.setYRange(-0.6, max(n, 1) - 0.4, padding=0)
        self.vb.setLimits(yMin=-1, yMax=max(n, 1))
        if not ok:
            text = pg.TextItem("no data to draw", color=_c("#6b7280"), anchor=(0.5, 0.5))
            text.setPos(0.5 * (lo + hi), (n - 1) / 2 if n else 0)
            self._add(text, ignore_bounds=True)

    def _add(self, item, ignore_bounds: bool = False) -> None:
        self.plot.addItem(item, ignoreBounds=ignore_bounds)
        self._items.append(item)

    def set_note(self, note: str) -> None:
        self.note = note
        _set_title(self.plot, self.title, note)

    def refresh(self) -> None:
        """Bars have no level of detail to redo."""

    def hide_hover(self) -> None:
        self._highlight.hide()

    def hover(self, scene_pos: QPointF) -> dict | None:
        """The bar under the cursor's row: its run, value and rank."""
        if not self.vb.sceneBoundingRect().contains(scene_pos) or not self.bars:
            self.hide_hover()
            return None
        i = int(round(self.vb.mapSceneToView(scene_pos).y()))
        if not 0 <= i < len(self.bars):
            self.hide_hover()
            return None
        bar = self.bars[i]
        if math.isfinite(bar.value):
            self._highlight.setOpts(x0=[min(bar.value, 0)], width=[abs(bar.value)], y=[i])
            self._highlight.show()
        else:
            self._highlight.hide()
        out = {"label": bar.label, "key": self.key, "run_id": bar.run_id, "value": bar.value,
               "rank": i + 1, "of": len(self.bars), "color": bar.color, **bar.info}
        out["rows"] = [{"label": bar.label, "color": bar.color, "value": bar.value,
                        "key": self.key, **bar.info}]
        return out


class ParamChart:
    """A single-value metric against a param: one dot per run in its colour, x the
    param's value (numbers on a number axis, text values in named slots)."""

    kind = "scatter"

    def __init__(self, title: str, param: str):
        self.plot = pg.PlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMenuEnabled(False)
        self.vb = self.plot.getViewBox()
        _style_axes(self.plot)
        self.plot.setLabel("bottom", param)
        self.plot.setLabel("left", title)
        self.title = self.key = title
        self.keys = [title]
        self.param = param
        self.traces: list[Trace] = []
        self.batches: list = []
        self.points: list[dict] = []
        self._items: list = []
        self._ring = pg.ScatterPlotItem(size=14, pen=pg.mkPen(_c("#111827"), width=1.5),
                                        brush=pg.mkBrush(0, 0, 0, 0))
        self._ring.setZValue(5)
        self._ring.hide()
        self.plot.addItem(self._ring, ignoreBounds=True)

    def height(self) -> int:
        return 0

    def set_points(self, points: list[dict], ticks, note: str = "") -> None:
        """``points``: dicts with x, value, label, color (and run_id)."""
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        self.points = [q for q in points if math.isfinite(q["x"]) and math.isfinite(q["value"])]
        _set_title(self.plot, self.title, note)
        self.plot.getAxis("bottom").setTicks([ticks, []] if ticks else None)
        if self.points:
            dots = pg.ScatterPlotItem(
                [q["x"] for q in self.points], [q["value"] for q in self.points], size=10,
                pen=pg.mkPen(_c("#ffffff"), width=1), brush=[pg.mkBrush(q["color"]) for q in self.points])
            self.plot.addItem(dots)
            self._items.append(dots)
            self.vb.autoRange(padding=0.12)
        else:
            text = pg.TextItem(f"no run with a value here has {self.param} set",
                               color=_c("#6b7280"), anchor=(0.5, 0.5))
            self.plot.addItem(text, ignoreBounds=True)
            text.setPos(*self.vb.viewRect().center().toTuple())
            self._items.append(text)

    def set_note(self, note: str) -> None:
        _set_title(self.plot, self.title, note)

    def refresh(self) -> None:
        """Dots have no level of detail to redo."""

    def hide_hover(self) -> None:
        self._ring.hide()

    def hover(self, scene_pos: QPointF) -> dict | None:
        if not self.vb.sceneBoundingRect().contains(scene_pos) or not self.points:
            self.hide_hover()
            return None
        pos = self.vb.mapSceneToView(scene_pos)
        (x0, x1), (y0, y1) = self.vb.viewRange()
        sx = self.vb.width() / ((x1 - x0) or 1.0)
        sy = self.vb.height() / ((y1 - y0) or 1.0)
        q = min(self.points, key=lambda q: math.hypot((q["x"] - pos.x()) * sx,
                                                      (q["value"] - pos.y()) * sy))
        self._ring.setData([q["x"]], [q["value"]])
        self._ring.show()
        out = {"key": self.key, **q}
        out["rows"] = [{**q, "key": self.key, "nearest": True}]
        out["where"] = f"{self.param} = {q['param']}"
        return out


def _small_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8)
    return font


def _style_axes(plot: pg.PlotItem) -> None:
    for name in ("left", "bottom"):
        axis_item = plot.getAxis(name)
        axis_item.setPen(pg.mkPen(_c("#9ca3af")))
        axis_item.setTextPen(pg.mkPen(_c("#374151")))
        axis_item.label.setDefaultTextColor(QColor(_c("#4b5563")))
        axis_item.setZValue(-200)  # its grid lines behind the bars and curves, not over them
        axis_item.enableAutoSIPrefix(False)  # r2 in 0-1 is not "0-900 (x0.001)"


def _set_title(plot: pg.PlotItem, title: str, note: str) -> None:
    html = f"<span style='font-weight:600;color:#111827'>{_esc(title)}</span>"
    if note:
        html += f"&nbsp;&nbsp;<span style='color:#6b7280;font-size:8pt'>{_esc(note)}</span>"
    plot.setTitle(_c(html), size="10pt")


def export_svg(item, path: str) -> None:
    """Writes a plot (or a layout of plots) as SVG through pyqtgraph's exporter.

    Not Qt's QSvgGenerator on the whole widget: that leaves curves in data coordinates
    under a `non-scaling-stroke` transform (librsvg, for one, strokes them hundreds of pixels
    wide), does not clip curves to their plot, and replays the axes (QPictures) scaled by
    72/96 dpi so they miss the curves. pyqtgraph draws each item on its own, writes pixel
    coordinates and clips; it only needs the closed-path fix below.
    """
    from pyqtgraph.exporters import SVGExporter

    with _svg_closed_paths():
        svg = SVGExporter(item).export(toBytes=True).decode()
    # A clip outline is geometry only; renderers that ignore clipPath (Qt's) would stroke it.
    svg = re.sub(r"(<clipPath[^>]*>\s*<path) ", r'\1 stroke="none" ', svg)
    Path(path).write_text(svg, encoding="utf-8")


@contextmanager
def _svg_closed_paths():
    """pyqtgraph 0.14 moves each SVG path point into pixels as an "x,y" pair and fails on
    the close command "Z" that Qt 6 writes (pyqtgraph issue #3495): take the Zs out while
    it runs, then put them back where they were. Paths already in pixels (curves and bands,
    under an identity transform) skip its point-by-point Python loop altogether."""
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = module.correctCoordinates

    def correct(node, defs, item, options):
        in_pixels, closes = {}, {}
        for path in node.getElementsByTagName("path"):
            d = path.getAttribute("d")
            tokens = d.split()
            if path.parentNode.getAttribute("transform") == "matrix(1,0,0,1,0,0)":
                in_pixels[path] = d
                path.setAttribute("d", "")  # pyqtgraph skips empty paths
            elif "Z" in tokens:
                closes[path] = [i for i, token in enumerate(tokens) if token == "Z"]
                path.setAttribute("d", " ".join(t for t in tokens if t != "Z"))
        original(node, defs, item, options)
        for path, d in in_pixels.items():
            path.setAttribute("d", d)
        for path, where in closes.items():
            tokens = path.getAttribute("d").split()
            for i in where:
                tokens.insert(i, "Z")
            path.setAttribute("d", " ".join(tokens))

    module.correctCoordinates = correct
    try:
        yield
    finally:
        module.correctCoordinates = original


def hover_info(trace: Trace, i: int) -> dict:
    """What the user sees about point i of a trace, in data units (not log10)."""
    src = int(trace.curve.source[i])
    out = {"label": trace.label, "key": trace.key, "run_id": trace.run_id}
    for name, values in trace.info.items():
        out[name] = values[src] if isinstance(values, np.ndarray) else values
    return out


def readout_html(point: dict, max_rows: int | None = None) -> str:
    """The hover readout: where (step, time) then one row per line, as the rows come
    (highest first); past ``max_rows`` the rest is counted, not listed."""
    rows = point.get("rows") or []
    head = []
    if "rank" in point:
        head.append(f"{_esc(point['key'])} · #{point['rank']} of {point['of']}")
    elif "where" in point:
        head.append(_esc(point["where"]))
    else:
        head.extend(_where(point))
    keys = {r.get("key") for r in rows}
    shown = rows if max_rows is None or len(rows) <= max_rows else rows[:max(max_rows - 1, 1)]
    cells = []
    for r in shown:
        name = _esc(str(r["label"]))
        if len(keys) > 1:
            name += f" <span style='color:#6b7280'>{_esc(r['key'])}</span>"
        weight = "font-weight:700;" if r.get("nearest") else ""
        if "center" in r:
            value = (f"<b>{_num(r['center'])}</b> <span style='color:#6b7280'>"
                     f"{_num(r['lo'])}–{_num(r['hi'])} · {int(r['n'])} runs</span>")
        elif "smoothed" in r:
            value = (f"<b>{_num(r['smoothed'])}</b>"
                     f" <span style='color:#6b7280'>raw {_num(r['value'])}</span>")
        else:
            value = f"<b>{_num(r['value'])}</b>"
        step = ""
        if "step" in r and "step" in point and "rank" not in point and (
                int(r["step"]) != int(point["step"])):
            step = f"<span style='color:#9ca3af'>step {int(r['step']):,}</span>"
        cells.append(
            f"<tr><td style='color:{r['color']}'>■</td>"
            f"<td style='{weight}padding-right:10px'>{name}</td>"
            f"<td align='right'>{value}</td><td>{step}</td></tr>")
    more = len(rows) - len(shown)
    if more:
        cells.append(f"<tr><td></td><td colspan='3' style='color:#6b7280'>"
                     f"… and {more} more</td></tr>")
    html = ""
    if head:
        html += f"<div style='color:#374151'>{' · '.join(head)}</div>"
    html += "<table cellspacing='0' cellpadding='1'>" + "".join(cells) + "</table>"
    return "<div style='font-size:8pt'>" + html + "</div>"


def _where(p: dict) -> list[str]:
    """The x of a hovered point in words: step, date and time, time since start."""
    parts = []
    if "step" in p and p.get("x_mode", "step") == "step":
        parts.append(f"step {int(p['step']):,}")
    if "timestamp" in p and p.get("x_mode") in ("wall", "relative"):
        ts = int(p["timestamp"])
        parts.append(datetime.fromtimestamp(ts / 1000).strftime("%Y-%m-%d %H:%M:%S"))
        if p.get("start_ms") is not None:
            parts.append("+" + format_duration((ts - p["start_ms"]) / 1000, compact=True))
    elif "x" in p and "step" not in p and "timestamp" not in p:
        parts.append(f"x {_num(p['x'])}")
    if "step" in p and p.get("x_mode") in ("wall", "relative"):
        parts.append(f"step {int(p['step']):,}")
    return parts


def _num(v) -> str:
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    return f"{v:.6g}"


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pen(color: str, style: Qt.PenStyle, strong: bool, bold: bool) -> QPen:
    c = QColor(color)
    if not strong:
        c.setAlpha(70)
    pen = pg.mkPen(c, width=2.2 if bold else 1.5)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen
