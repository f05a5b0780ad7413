"""One metric chart: batched curves with their own spike-preserving level of detail, hover.

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
from PySide6.QtGui import QColor, QPaintEngine, QPainter, QPainterPath, QPen

from mlscope.core.format import format_duration
from mlscope.core.series import Curve, MinMaxPyramid, isolated, nearest_point

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

    def __init__(self, title: str, x_mode: str, log_x: bool, log_y: bool):
        axis = {"wall": WallTimeAxis, "relative": DurationAxis}.get(x_mode, pg.AxisItem)
        self.plot = pg.PlotItem(axisItems={"bottom": axis(orientation="bottom")})
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLogMode(x=log_x, y=log_y)
        self.plot.setMenuEnabled(False)  # its own log/transform menu would bypass ours
        for name in ("left", "bottom"):
            axis_item = self.plot.getAxis(name)
            axis_item.setPen(pg.mkPen("#9ca3af"))
            axis_item.setTextPen(pg.mkPen("#374151"))
        self.x_mode = x_mode
        self.key = title
        self.title = title
        self.traces: list[Trace] = []
        self.batches: list[BatchCurve] = []
        self._extra: list = []
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
        if self.plot.legend is not None:
            self.plot.legend.scene() and self.plot.legend.scene().removeItem(self.plot.legend)
            self.plot.legend = None
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
            text = pg.TextItem("no data to draw", color="#6b7280", anchor=(0.5, 0.5))
            self.plot.addItem(text, ignoreBounds=True)
            text.setPos(*self.vb.viewRect().center().toTuple())
            self._extra.append(text)
        if legend:
            self._add_legend(legend)
        self.refresh()

    def set_note(self, note: str) -> None:
        html = f"<span style='font-weight:600;color:#111827'>{_esc(self.title)}</span>"
        if note:
            html += f"&nbsp;&nbsp;<span style='color:#6b7280;font-size:8pt'>{_esc(note)}</span>"
        self.plot.setTitle(html, size="10pt")

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
        legend = self.plot.addLegend(offset=(-8, 8), labelTextSize="8pt", verSpacing=-6,
                                     labelTextColor="#1f2937", brush=pg.mkBrush(255, 255, 255, 210),
                                     pen=pg.mkPen("#e5e7eb"))
        for name, color, style in entries:
            legend.addItem(pg.PlotDataItem(pen=_pen(color, style, True, True)), _esc(name))

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
        pen = pg.mkPen("#9ca3af", width=1, style=Qt.PenStyle.DashLine)
        vline = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        hline = pg.InfiniteLine(angle=0, movable=False, pen=pen)
        marker = pg.ScatterPlotItem(size=9, pen=pg.mkPen("w", width=1.5))
        label = pg.TextItem(anchor=(0, 1), color="#111827", fill=pg.mkBrush(255, 255, 255, 235),
                            border=pg.mkPen("#d1d5db"))
        for item in (vline, hline, marker, label):
            item.setZValue(10)
            item.hide()
            self.plot.addItem(item, ignoreBounds=True)
        return vline, hline, marker, label

    def hide_hover(self) -> None:
        for item in self._hover_items:
            item.hide()

    def hover(self, scene_pos: QPointF) -> dict | None:
        """Shows the crosshair at the nearest point to the cursor; returns that point's info."""
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            self.hide_hover()
            return None
        strong = [t for t in self.traces if not t.faint] or self.traces
        pos = self.vb.mapSceneToView(scene_pos)
        (x0, x1), (y0, y1) = self.vb.viewRange()
        sx = self.vb.width() / ((x1 - x0) or 1.0)
        sy = self.vb.height() / ((y1 - y0) or 1.0)
        hit = nearest_point([(t.curve.x, t.curve.y) for t in strong], pos.x(), pos.y(), sx, sy)
        if hit is None:
            self.hide_hover()
            return None
        trace, i = strong[hit[0]], hit[1]
        x, y = float(trace.curve.x[i]), float(trace.curve.y[i])
        vline, hline, marker, label = self._hover_items
        vline.setPos(x)
        hline.setPos(y)
        marker.setData([x], [y], brush=pg.mkBrush(trace.color))
        point = hover_info(trace, i)
        label.setHtml(_hover_html(point, trace.color))
        # Keep the label inside the view: flip it to the side with more room.
        right = x > (x0 + x1) / 2
        top = y > (y0 + y1) / 2
        label.setAnchor((1 if right else 0, 0 if top else 1))
        label.setPos(x, y)
        for item in self._hover_items:
            item.show()
        return point


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


def _hover_html(p: dict, color: str) -> str:
    lines = [f"<b style='color:{color}'>{_esc(str(p['label']))}</b>"
             f" <span style='color:#6b7280'>{_esc(p['key'])}</span>"]
    parts = []
    if "step" in p:
        parts.append(f"step {int(p['step']):,}")
    if "timestamp" in p:
        ts = int(p["timestamp"])
        parts.append(datetime.fromtimestamp(ts / 1000).strftime("%Y-%m-%d %H:%M:%S"))
        if "start_ms" in p and p["start_ms"] is not None:
            parts.append("+" + format_duration((ts - p["start_ms"]) / 1000, compact=True))
    if "x" in p:
        parts.append(f"x {_num(p['x'])}")
    if parts:
        lines.append(" · ".join(parts))
    if "value" in p:
        value = f"value <b>{_num(p['value'])}</b>"
        if "smoothed" in p:
            value += f" (smoothed {_num(p['smoothed'])})"
        lines.append(value)
    if "center" in p:
        lines.append(f"{p.get('how', 'mean')} <b>{_num(p['center'])}</b>"
                     f" · band {_num(p['lo'])} to {_num(p['hi'])} · {int(p['n'])} runs")
    return "<span style='font-size:8pt'>" + "<br>".join(lines) + "</span>"


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
