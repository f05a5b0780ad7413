"""The chart panel, driven through its controls, offscreen."""

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from mlscope.ui.views.charts import ChartPanel

T0 = 1_700_000_000_000
RUNS = ["ra", "rb", "rc"]
NAMES = {"ra": "alpha", "rb": "beta", "rc": "gamma"}


def history(runs=RUNS, keys=("loss", "acc"), n=50):
    parts = []
    for i, rid in enumerate(runs):
        steps = np.arange(n, dtype=np.int64) * 2
        for k, key in enumerate(keys):
            parts.append(pd.DataFrame({
                "run_id": rid, "key": key, "step": steps,
                "timestamp": T0 + i * 60_000 + steps * 1000,
                "value": (1.0 + i + k) * np.exp(-steps / 40.0) + 0.01 * np.sin(steps)}))
    return pd.concat(parts, ignore_index=True)


def params():
    return pd.DataFrame({"run_id": RUNS, "params.lr": ["0.1", "0.01", "0.1"],
                         "tags.team": ["a", "b", "a"], "tags.mlflow.user": ["x"] * 3,
                         "metrics.loss": [0.1, 0.2, 0.3],
                         "start_time": pd.to_datetime([T0 - 5000, T0 + 60_000, T0 + 120_000],
                                                      unit="ms", utc=True)})


@pytest.fixture
def panel(qtbot):
    p = ChartPanel()
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    p.set_params(params())
    p.set_runs(RUNS, NAMES)
    p.set_history(history(), RUNS, None)
    qtbot.wait(10)
    return p


def drawn_points(chart):
    return sum(b.xData.size for b in chart.batches if b.xData is not None)


def not_blank(widget) -> bool:
    img = widget.grab().toImage()
    colors = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    return len(colors) > 20


def test_draws_one_chart_per_metric_with_legend(panel, qtbot):
    assert [c.title for c in panel.charts] == ["acc", "loss"]
    assert all(drawn_points(c) > 0 for c in panel.charts)
    legend = [panel.legend_list.item(i).text() for i in range(panel.legend_list.count())]
    assert legend == ["alpha", "beta", "gamma"]
    assert panel.charts[0].legend is None  # the sidebar has it: nothing covers the curves
    panel.legend_check.setChecked(True)
    chart = panel.charts[0]
    assert chart.legend is not None
    # beside the plot, not on it
    qtbot.waitUntil(lambda: chart.legend.sceneBoundingRect().left()
                    >= chart.vb.sceneBoundingRect().right())
    panel.legend_check.setChecked(False)
    assert panel.charts[0].legend is None


def test_run_color_is_shared_and_pinnable(panel):
    from mlscope.core.series import PALETTE

    assert panel.colors.color("ra") == panel.colors.color("ra")
    assert panel.colors.color("ra") != panel.colors.color("rb")
    assert panel.colors.color("ra") in PALETTE
    p2 = ChartPanel(colors=panel.colors)
    p2.set_runs(["zz"], {}, colors={"zz": "#123456"})
    assert QColor(panel.colors.color("zz")) == QColor("#123456")
    p2.deleteLater()


def test_request_history_for_missing_metrics(qtbot):
    p = ChartPanel()
    qtbot.addWidget(p)
    p.set_params(params())  # knows "loss" from metrics.loss
    with qtbot.waitSignal(p.requestHistory) as sig:
        p.set_runs(["ra", "rb"], NAMES)
    assert sig.args == [["ra", "rb"], ["loss"]]
    p.set_history(history(["ra"], ["loss"]), ["ra", "rb"], ["loss"])
    with qtbot.assertNotEmitted(p.requestHistory):
        p.set_runs(["ra", "rb"], NAMES)  # rb is known to be empty, not asked again


def test_metric_picker_search_and_check(panel, qtbot):
    items = {panel.metric_list.item(i).text(): panel.metric_list.item(i)
             for i in range(panel.metric_list.count())}
    panel.metric_search.setText("lo")
    assert items["acc"].isHidden() and not items["loss"].isHidden()
    items["acc"].setCheckState(Qt.Unchecked)
    qtbot.waitUntil(lambda: [c.title for c in panel.charts] == ["loss"])
    panel.metric_search.clear()
    panel.set_checked_metrics(["acc", "loss"])
    qtbot.waitUntil(lambda: len(panel.charts) == 2)


def test_overlay_puts_metrics_in_one_chart_with_styles(panel):
    panel.layout_combo.setCurrentIndex(panel.layout_combo.findData("overlay"))
    assert len(panel.charts) == 1
    chart = panel.charts[0]
    assert len({t.style for t in chart.traces}) == 2
    assert len({t.key for t in chart.traces}) == 2


@pytest.mark.parametrize("mode", ["wall", "relative"])
def test_x_axis_modes(panel, mode):
    panel.x_combo.setCurrentIndex(panel.x_combo.findData(mode))
    trace = next(t for t in panel.charts[1].traces if t.run_id == "ra")
    if mode == "wall":
        assert trace.curve.x[0] == pytest.approx(T0 / 1000)
        assert not panel.logx_check.isEnabled()
    else:  # since the run's start_time, 5 s before its first point
        assert trace.curve.x[0] == pytest.approx(5.0)
    assert panel.plotted_frame().columns[3].startswith("x_")


def test_wall_time_ticks_label_the_millisecond_they_mean(panel):
    panel.x_combo.setCurrentIndex(panel.x_combo.findData("wall"))
    t = T0 / 1000
    panel.set_ranges(x=(t + 1, t + 2))
    panel.grab()  # axes learn their font metrics when painted
    axis = panel.charts[0].plot.getAxis("bottom")
    spacing, values = axis.tickValues(t + 1, t + 2, 900)[-1]  # ticks every 100 ms
    assert spacing < 1 and len(values) >= 5
    # pyqtgraph adds floats up to 1.7e9 + 21.5999994: that is still 21.600
    assert axis.tickStrings(values, 1, spacing) == [f"{round(v % 60, 3):06.3f}" for v in values]


def test_log_axes(panel):
    panel.logy_check.setChecked(True)
    panel.logx_check.setChecked(True)
    chart = panel.charts[1]
    assert chart.plot.getAxis("left").logMode and chart.plot.getAxis("bottom").logMode
    trace = next(t for t in chart.traces if t.run_id == "ra")
    assert trace.curve.x[0] == pytest.approx(np.log10(2))  # step 0 cannot be on a log axis
    assert "3 points at ≤ 0 hidden by log axis" in chart.plot.titleLabel.text


def test_manual_ranges_and_reset(panel, qtbot):
    panel.xmin_edit.setText("10")
    panel.xmax_edit.setText("20")
    panel.ymin_edit.setText("0")
    panel.ymax_edit.setText("0.5")
    panel.apply_range_button.click()
    (x0, x1), (y0, y1) = panel.charts[0].vb.viewRange()
    assert (x0, x1, y0, y1) == pytest.approx((10, 20, 0, 0.5))
    qtbot.wait(10)
    assert drawn_points(panel.charts[0]) < 3 * 50  # only the window is drawn
    panel.reset_button.click()
    (x0, x1), _ = panel.charts[0].vb.viewRange()
    assert x0 <= 0 and x1 >= 98
    assert panel.xmin_edit.text() == ""


def test_smoothing_draws_raw_faint_behind(panel, qtbot):
    panel.smooth_slider.setValue(600)
    assert panel.smooth_label.text() == "0.600"
    qtbot.waitUntil(lambda: any(t.faint for t in panel.charts[0].traces))
    chart = panel.charts[0]
    faint = [t for t in chart.traces if t.faint]
    strong = [t for t in chart.traces if not t.faint]
    assert len(faint) == len(strong) == 3
    assert chart.batches[0].zValue() < chart.batches[-1].zValue()
    assert "smoothed" in panel.plotted_frame().columns


def test_hover_shows_nearest_point(panel):
    chart = panel.charts[1]  # loss
    chart.vb.setRange(xRange=(0, 98), yRange=(0, 3.5), padding=0)
    pos = chart.vb.mapViewToScene(QPointF(20, 3.0 * np.exp(-0.5)))  # gamma at step 20
    info = panel.hover_scene(pos)
    assert info["label"] == "gamma" and info["step"] == 20
    assert info["value"] == pytest.approx(3.0 * np.exp(-0.5) + 0.01 * np.sin(20))
    assert chart._hover_items[0].isVisible()
    assert panel.hover_scene(QPointF(-500, -500)) is None


def test_group_by_param_mean_median_and_bands(panel):
    panel.group_combo.setCurrentIndex(panel.group_combo.findData("params.lr"))
    assert panel.agg_combo.isEnabled()
    assert panel.group_combo.findData("tags.mlflow.user") == -1  # MLflow's own tags left out
    chart = panel.charts[1]
    labels = sorted(t.label for t in chart.traces)
    assert labels == ["0.01 (1 run)", "0.1 (2 runs)"]
    mean = next(t for t in chart.traces if t.label.startswith("0.1 ")).info["center"][0]
    assert mean == pytest.approx((1.0 + 3.0) / 2)  # alpha and gamma at step 0
    assert len(chart._extra) >= 3  # band edges + fill
    panel.agg_combo.setCurrentIndex(panel.agg_combo.findData("median"))
    panel.band_combo.setCurrentIndex(panel.band_combo.findData("none"))
    frame = panel.plotted_frame()
    assert {"group", "median", "runs"} <= set(frame.columns)
    assert not any(isinstance(i, __import__("pyqtgraph").FillBetweenItem)
                   for i in panel.charts[1]._extra)


def test_append_history_keeps_a_zoomed_view(panel):
    chart = panel.charts[1]
    chart.vb.setXRange(10, 30, padding=0)
    new = pd.DataFrame({"run_id": "ra", "key": "loss", "step": [100, 102],
                        "timestamp": [T0 + 200_000, T0 + 202_000], "value": [0.01, 0.02]})
    panel.append_history(new)
    panel.append_history(new)  # a poll that overlaps is not doubled
    assert panel.charts[1].vb.viewRange()[0] == pytest.approx([10, 30])
    frame = panel.plotted_frame()
    ra = frame[(frame.run_id == "ra") & (frame.key == "loss")]
    assert len(ra) == 52
    assert panel.last_points()[("ra", "loss")] == (102, T0 + 202_000)


def test_exports(panel, tmp_path):
    panel.export_png(tmp_path / "c.png")
    panel.export_svg(tmp_path / "c.svg")
    panel.export_csv(tmp_path / "c.csv")
    assert (tmp_path / "c.png").stat().st_size > 5000
    assert "<svg" in (tmp_path / "c.svg").read_text()
    csv = pd.read_csv(tmp_path / "c.csv")
    assert len(csv) == 3 * 2 * 50
    assert {"run_name", "step", "timestamp", "value"} <= set(csv.columns)


def svg_image(path) -> QImage:
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    img = QImage(renderer.viewBoxF().size().toSize(), QImage.Format_ARGB32)
    img.fill(QColor("white"))
    painter = QPainter(img)
    renderer.render(painter)
    painter.end()
    return img


def to_pixel(panel, chart, x, y, scale):
    """Where a point in a chart's data coordinates lands in an export of the whole canvas."""
    pos = chart.vb.mapViewToScene(QPointF(x, y)) - panel.canvas.ci.scenePos()
    return pos.x() * scale, pos.y() * scale


def ink(img, x, y, color=None, radius=2) -> bool:
    """Whether a pixel within ``radius`` of (x, y) is drawn: in ``color`` if given, else
    anything darker than the white background."""
    want = QColor(color or "white").getRgb()[:3]
    distances = []
    for px in range(round(x) - radius, round(x) + radius + 1):
        for py in range(round(y) - radius, round(y) + radius + 1):
            if img.valid(px, py):
                got = QColor(img.pixel(px, py)).getRgb()[:3]
                distances.append(sum((a - b) ** 2 for a, b in zip(got, want, strict=True)) ** 0.5)
    return min(distances) < 90 if color else max(distances) > 6


def misplaced(panel, img, scale) -> list[str]:
    """Curve points and major grid lines of every chart that are not where the view puts them."""
    wrong = []
    for chart in panel.charts:
        for trace in chart.traces:
            n = trace.curve.x.size
            for i in (0, n // 4, n // 2, 3 * n // 4, n - 1):
                x, y = trace.curve.x[i], trace.curve.y[i]
                if not ink(img, *to_pixel(panel, chart, x, y, scale), trace.color,
                           radius=round(2 * scale)):
                    wrong.append(f"{chart.title} {trace.label} point {i}")
        (x0, x1), (y0, y1) = chart.vb.viewRange()
        for name, lo, hi, size in (("left", y0, y1, chart.vb.height()),
                                   ("bottom", x0, x1, chart.vb.width())):
            levels = chart.plot.getAxis(name).tickValues(lo, hi, size)
            major = next(values for _, values in levels if len(values))
            for v in major:
                if not lo < v < hi:
                    continue
                # a grid line crosses the whole view: look at it a quarter and halfway in
                cross = [x0 + (x1 - x0) * f for f in (0.25, 0.5)] if name == "left" else \
                    [y0 + (y1 - y0) * f for f in (0.25, 0.5)]
                points = [(c, v) if name == "left" else (v, c) for c in cross]
                if not all(ink(img, *to_pixel(panel, chart, *pt, scale), radius=1)
                           for pt in points):
                    wrong.append(f"{chart.title} {name} grid line {v}")
    return wrong


@pytest.mark.parametrize("mode", ["step", "wall"])
def test_svg_export_puts_curves_on_their_axes(panel, tmp_path, mode):
    """Curves and axes of the SVG land where the PNG (and the screen) has them.

    Regression: Qt's QSvgGenerator over the widget scaled the axes by 72/96 against the
    curves, and wrote wall-time x (~1.7e9) with 6 digits, so each run became one stroke.
    """
    panel.x_combo.setCurrentIndex(panel.x_combo.findData(mode))
    panel.export_png(tmp_path / "c.png")
    panel.export_svg(tmp_path / "c.svg")
    png = QImage(str(tmp_path / "c.png"))
    assert misplaced(panel, png, png.width() / panel.canvas.ci.boundingRect().width()) == []
    assert misplaced(panel, svg_image(tmp_path / "c.svg"), 1.0) == []


def test_export_menu_uses_file_dialog(panel, tmp_path, monkeypatch):
    target = tmp_path / "m.csv"
    monkeypatch.setattr("mlscope.ui.views.charts.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    panel.export_csv_action.trigger()
    assert target.exists()


def test_awkward_data_never_crashes(qtbot):
    p = ChartPanel()
    qtbot.addWidget(p)
    p.resize(900, 600)
    p.show()
    frame = pd.DataFrame({
        "run_id": ["a"] * 6 + ["b"] + ["c"] * 3,
        "key": ["m"] * 6 + ["single"] + ["nosteps"] * 3,
        "step": [0, 1, 2, 3, 4, 5, 0, 0, 0, 0],
        "timestamp": np.arange(10) * 1000 + T0,
        "value": [1.0, np.nan, np.inf, -np.inf, 2.0, 3.0, 0.5, 1.0, 2.0, 3.0]})
    p.set_runs(["a", "b", "c", "empty"], {})
    p.set_history(frame, ["a", "b", "c", "empty"], None)
    charts = {c.title: c for c in p.charts}
    assert "3 NaN/inf values not drawn" in charts["m"].plot.titleLabel.text
    assert "logging order" in charts["nosteps"].plot.titleLabel.text
    assert "3 of 4 runs have no values" in charts["single"].plot.titleLabel.text
    assert charts["single"].kind == "bar" and len(charts["single"].bars) == 1
    legend = [p.legend_list.item(i).text() for i in range(p.legend_list.count())]
    assert "empty (no data)" in legend
    p.logy_check.setChecked(True)
    p.smooth_slider.setValue(999)
    p._redraw()
    p.group_combo.addItem("params.none", "params.none")
    p.group_combo.setCurrentIndex(p.group_combo.count() - 1)
    p.set_history(frame.iloc[:0], ["a"], None)  # a run that lost its points
    assert not_blank(p)
    p.set_runs([], {})
    assert not_blank(p)


def test_many_runs_are_batched(qtbot):
    p = ChartPanel()
    qtbot.addWidget(p)
    runs = [f"r{i}" for i in range(300)]
    p.set_runs(runs, {})
    p.set_history(history(runs, ["loss"], n=20), runs, None)
    assert len(p.charts[0].batches) <= 20  # one item per palette colour, not per run
    assert sum(len(b.traces) for b in p.charts[0].batches) == 300


def test_plot_draw_autorange_zoom_grab(qtbot):
    """Regression for the pinned binding: PySide6 6.12 crashed pyqtgraph 0.14 right here."""
    p = ChartPanel()
    qtbot.addWidget(p)
    p.resize(800, 500)
    p.show()
    n = 200_000
    frame = pd.DataFrame({"run_id": "r", "key": "loss", "step": np.arange(n),
                          "timestamp": T0 + np.arange(n), "value": np.random.default_rng(0)
                          .normal(size=n)})
    frame.loc[123_456, "value"] = 50.0
    p.set_runs(["r"], {"r": "spiky"})
    p.set_history(frame, ["r"], None)
    chart = p.charts[0]
    chart.vb.autoRange()
    qtbot.wait(20)
    assert not_blank(p)
    assert drawn_points(chart) < 5000  # decimated for the screen...
    assert chart.batches[0].yData.max() == 50.0  # ...with the spike kept
    chart.vb.setXRange(123_400, 123_500, padding=0)
    chart.vb.scaleBy((0.5, 1.0))
    qtbot.wait(20)
    assert not_blank(p)
    x = chart.batches[0].xData
    assert x.size < 120 and np.all(np.diff(x) == 1)  # zoomed in: full resolution


def test_a_charted_run_shows_its_chart_colour_in_the_table(qtbot):
    """One colour book: the swatch beside a run's name is the colour of its curves."""
    import pandas as pd
    from PySide6.QtCore import Qt

    from mlscope.core.series import ColorBook
    from mlscope.ui.models.runs import RunsModel

    frame = pd.DataFrame({"run_id": ["aaa", "bbb"], "experiment_id": ["1", "1"], "status": ["FINISHED"] * 2,
                          "start_time": pd.to_datetime([1, 2], unit="ms", utc=True),
                          "end_time": pd.to_datetime([3, 4], unit="ms", utc=True),
                          "run_name": ["first", "second"]})
    model = RunsModel()
    model.colors = book = ColorBook()
    model.set_frame(frame, {})
    col = model.visible_columns().index("run_name")
    row_of = {model.run_id(model.index(r, 0)): r for r in range(model.rowCount())}
    assert model.data(model.index(row_of["bbb"], col), Qt.DecorationRole) is None  # not charted yet
    color = QColor(book.color("bbb"))
    icon = model.data(model.index(row_of["bbb"], col), Qt.DecorationRole)
    image = icon.pixmap(10, 10).toImage()
    assert image.pixelColor(5, 5).name() == color.name() == book.peek("bbb")


# -- room: nothing scrolls sideways, nothing widens the window ----------------------------------


def grid_cells(panel):
    return [tuple(panel.canvas.ci.items[c.plot][0]) for c in panel.charts]


def test_toolbar_overflows_into_a_menu_and_the_grid_follows_the_width(qtbot):
    from PySide6.QtWidgets import QScrollBar, QToolButton

    p = ChartPanel()
    qtbot.addWidget(p)
    runs = ["ra", "rb", "rc"]
    p.set_runs(runs, NAMES)
    p.set_history(history(runs, ("a", "b", "c", "d")), runs, None)
    assert p.minimumSizeHint().width() < 600 and p.sizeHint().width() <= 900
    p.resize(760, 600)  # what the Charts tab gets in a 1280x800 window
    p.show()
    qtbot.wait(20)
    more = p.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert more.isVisible()  # the controls that do not fit are behind it...
    assert not p.export_button.isVisible()
    assert p.toolbar.widgetForAction(p.toolbar.actions()[-1]) is p.export_button  # ...not gone
    assert not p.scroll.horizontalScrollBar().isVisible()
    assert p.canvas.width() <= p.scroll.viewport().width()
    p.set_runs(runs, {r: f"a-very-long-run-name-{r}-that-never-fits" for r in runs})
    qtbot.wait(20)
    assert [b for b in p.findChildren(QScrollBar)
            if b.orientation() == Qt.Horizontal and b.isVisible()] == []
    assert p.columns() == 1 and grid_cells(p) == [(0, 0), (1, 0), (2, 0), (3, 0)]
    zoomed = p.charts[0].vb.viewRange()[0]
    p.charts[0].vb.setXRange(10, 20, padding=0)
    p.resize(1300, 700)
    qtbot.waitUntil(lambda: p.columns() == 2)
    assert grid_cells(p) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert p.charts[0].vb.viewRange()[0] == pytest.approx([10, 20])  # a re-layout, not a redraw
    assert zoomed != p.charts[0].vb.viewRange()[0]
    p.resize(1900, 700)
    qtbot.waitUntil(lambda: p.columns() == 3)
    assert not more.isVisible() and p.export_button.isVisible()


def test_window_at_1280x800_keeps_its_size_with_charts_shown(built, qtbot, window,
                                                             open_store_page):
    """A store written by MLflow's client: runs with one rmse each get a bar chart, one bar
    a run in the run's colour; the metrics they lack are one line; nothing scrolls sideways."""
    from PySide6.QtWidgets import QScrollBar

    page = open_store_page(built["sqlite"], "alpha")
    frame = page.runs.model.frame
    by_name = dict(zip(frame["run_name"], frame["run_id"], strict=True))
    runs = [by_name[n] for n in ("elastic-failed", "sweep-child-0", "sweep-child-1")]
    page.runs.select_runs(runs, current=runs[0])
    assert page.show_view("charts")
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: page.charts.panel is not None and bool(page.charts.panel.charts),
                    timeout=30_000)
    panel = page.charts.panel
    qtbot.waitUntil(lambda: panel.empty_label.isVisible(), timeout=30_000)
    qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1280
    assert window.width() == 1280
    bars = [b for b in page.charts.view.findChildren(QScrollBar)
            if b.orientation() == Qt.Horizontal and b.isVisible()]
    assert bars == []
    (chart,) = panel.charts
    assert chart.kind == "bar" and chart.title == "rmse"
    assert [(b.label, b.value) for b in chart.bars] == [
        ("elastic-failed", 0.7), ("sweep-child-1", 0.4), ("sweep-child-0", 0.3)]
    assert [b.color for b in chart.bars] == [page.colors.hex(r) for r in
                                             (runs[0], runs[2], runs[1])]
    assert panel.empty_label.text().startswith("No values for the selected runs: ")
    assert "train/loss" in panel.empty_label.text()


# -- every kind of metric ------------------------------------------------------------------------


def single_values(values: dict, key="rmse"):
    return pd.DataFrame({"run_id": list(values), "key": key, "step": 0,
                         "timestamp": [T0 + i for i in range(len(values))],
                         "value": list(values.values())})


def test_single_value_metrics_are_bars_sorted_in_run_colours(panel, qtbot):
    panel.set_history(pd.concat([history(), single_values({"ra": 0.5, "rb": 0.9, "rc": 0.2})]),
                      RUNS, None)
    panel.set_checked_metrics(["loss", "rmse"])
    kinds = {c.title: c.kind for c in panel.charts}
    assert kinds == {"loss": "line", "rmse": "bar"}  # a history stays a line chart
    bars = panel.charts[1]
    assert [(b.label, b.value) for b in bars.bars] == [("beta", 0.9), ("alpha", 0.5),
                                                       ("gamma", 0.2)]
    assert [b.color for b in bars.bars] == [panel.colors.color(r) for r in ("rb", "ra", "rc")]
    ticks = bars.plot.getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == ["beta", "alpha", "gamma"]  # names on the axis
    qtbot.wait(20)
    # the top bar is drawn in beta's colour
    pos = bars.vb.mapViewToScene(QPointF(0.45, 0)) - panel.canvas.ci.scenePos()
    image = panel.canvas.grab().toImage()
    assert QColor(image.pixel(round(pos.x()), round(pos.y()))).name() == \
        QColor(panel.colors.color("rb")).name()
    info = panel.hover_scene(bars.vb.mapViewToScene(QPointF(0.1, 1)))
    assert (info["label"], info["value"], info["rank"]) == ("alpha", 0.5, 2)
    assert panel.readout.isVisible() and "0.5" in panel.readout.text()
    panel.group_combo.setCurrentIndex(panel.group_combo.findData("params.lr"))
    bars = next(c for c in panel.charts if c.kind == "bar")
    assert [(b.label, b.value) for b in bars.bars] == [("0.01 (1 run)", 0.9),
                                                       ("0.1 (2 runs)", pytest.approx(0.35))]
    assert (bars.bars[1].lo, bars.bars[1].hi) == (0.2, 0.5)  # the min-max whisker


def test_metrics_the_runs_lack_collapse_into_one_line(qtbot):
    p = ChartPanel()
    qtbot.addWidget(p)
    p.resize(900, 700)
    p.show()
    frame = params().assign(**{"metrics.f1": np.nan, "metrics.auc": np.nan})
    p.set_params(frame)
    p.set_runs(["ra", "rb"], NAMES)
    assert {c.title for c in p.charts} == {"auc", "f1", "loss"}  # still loading: charts wait
    assert not p.empty_label.isVisible()
    p.set_history(history(["ra", "rb"], ["loss"]), ["ra", "rb"], None)
    assert [c.title for c in p.charts] == ["loss"]
    assert p.empty_label.isVisible()
    assert p.empty_label.text() == "No values for the selected runs: auc, f1"
    assert p.empty_label.height() < 60
    p.set_runs([], {})
    assert p.charts == [] and "Select runs" in p.empty_label.text()


def test_axis_labels_on_every_chart(panel):
    panel.set_history(pd.concat([history(), single_values({"ra": 0.74, "rb": 0.78})]), RUNS,
                      None)
    panel.set_checked_metrics(["acc", "loss", "rmse"])
    panel.grab()
    for chart in panel.charts:
        bottom = chart.plot.getAxis("bottom").labelText
        left = chart.plot.getAxis("left").labelText
        if chart.kind == "bar":
            assert bottom == chart.title  # the value axis; run names label the bars
            assert "x0.0" not in chart.plot.getAxis("bottom").labelString()  # no SI scaling
        else:
            assert (bottom, left) == ("Step", chart.title)
        assert chart.plot.getAxis("bottom").label.isVisible()
    for mode, text in (("wall", "Wall time"), ("relative", "Relative time")):
        panel.x_combo.setCurrentIndex(panel.x_combo.findData(mode))
        assert panel.charts[0].plot.getAxis("bottom").labelText == text


def test_hover_lists_every_run_at_that_step_sorted_and_stays_inside(panel, qtbot):
    chart = panel.charts[1]  # loss: gamma 3x, beta 2x, alpha 1x of the same curve
    chart.vb.setRange(xRange=(0, 98), yRange=(0, 3.5), padding=0)
    qtbot.wait(10)
    info = panel.hover_scene(chart.vb.mapViewToScene(QPointF(20.3, 0.6)))  # nearest: alpha
    assert info["label"] == "alpha" and info["step"] == 20
    rows = info["rows"]
    assert [r["label"] for r in rows] == ["gamma", "beta", "alpha"]  # every run, by value
    assert [r["step"] for r in rows] == [20, 20, 20]
    values = [r["value"] for r in rows]
    assert values == sorted(values, reverse=True)
    assert values[0] == pytest.approx(3.0 * np.exp(-0.5) + 0.01 * np.sin(20))
    text = panel.readout.text()
    assert text.index("gamma") < text.index("beta") < text.index("alpha")
    area = panel.canvas.mapFromScene(chart.vb.sceneBoundingRect()).boundingRect()
    for x, y in ((1, 3.4), (97, 3.4), (97, 0.1), (1, 0.1), (50, 1.5)):  # corners: it flips
        panel.hover_scene(chart.vb.mapViewToScene(QPointF(x, y)))
        assert panel.readout.isVisible()
        assert area.contains(panel.readout.geometry()), (x, y)
    # opaque: the grid lines under it do not show through its padding
    box = panel.readout.geometry()
    image = panel.canvas.grab().toImage()
    strip = {QColor(image.pixel(box.left() + 3, y)).name()
             for y in range(box.top() + 3, box.bottom() - 3)}
    assert strip == {"#ffffff"}
    panel.hover_scene(QPointF(-500, -500))
    assert not panel.readout.isVisible()


def test_overlay_scales_metrics_of_different_size_to_share_an_axis(qtbot):
    p = ChartPanel()
    qtbot.addWidget(p)
    p.resize(900, 600)
    p.show()
    steps = np.arange(20)
    frame = pd.concat([
        pd.DataFrame({"run_id": "ra", "key": "loss", "step": steps, "timestamp": T0 + steps,
                      "value": 9500.0 - steps * 100}),
        pd.DataFrame({"run_id": "ra", "key": "acc", "step": steps, "timestamp": T0 + steps,
                      "value": 0.5 + steps * 0.02})])
    p.set_runs(["ra"], NAMES)
    p.set_history(frame, ["ra"], None)
    scale_action = p._tool_actions[p.normalise_check]
    assert not scale_action.isVisible()  # grid: nothing to scale
    p.layout_combo.setCurrentIndex(p.layout_combo.findData("overlay"))
    (chart,) = p.charts
    assert scale_action.isVisible() and p.normalise_check.isChecked()
    for trace in chart.traces:  # accuracy is no flat line under a loss of 9,500
        assert trace.curve.y.min() == pytest.approx(0) and trace.curve.y.max() == pytest.approx(1)
    assert "0–1" in chart.plot.getAxis("left").labelText
    info = p.hover_scene(chart.vb.mapViewToScene(QPointF(0, 1.0)))
    assert {r["key"]: r["value"] for r in info["rows"]} == {"loss": 9500.0, "acc": 0.5}
    p.normalise_check.setChecked(False)
    assert max(t.curve.y.max() for t in p.charts[0].traces) == 9500.0
    p.normalise_check.setChecked(True)
    p.logy_check.setChecked(True)
    assert not p.normalise_check.isEnabled()  # scaling to 0-1 has no meaning on a log axis
    assert max(t.curve.y.max() for t in p.charts[0].traces) == pytest.approx(np.log10(9500))


def test_status_counts_read_right(qtbot):
    p = ChartPanel()
    qtbot.addWidget(p)
    p.set_runs(["ra"], NAMES)
    p.set_history(history(["ra"], ["loss"], n=1).iloc[:1], ["ra"], None)
    assert p.status_label.text() == "1 run · 1 chart · 1 point"
    p.set_runs(["ra", "rb"], NAMES)
    p.set_history(history(["ra", "rb"], ["loss"], n=3), ["ra", "rb"], None)
    assert p.status_label.text() == "2 runs · 1 chart · 6 points"


def test_single_values_against_a_param(panel, qtbot):
    panel.set_history(pd.concat([history(), single_values({"ra": 0.5, "rb": 0.9, "rc": 0.2})]),
                      RUNS, None)
    panel.set_checked_metrics(["loss", "rmse"])
    panel.versus_combo.setCurrentIndex(panel.versus_combo.findData("params.lr"))
    chart = next(c for c in panel.charts if c.title == "rmse")
    assert chart.kind == "scatter"
    assert chart.plot.getAxis("bottom").labelText == "lr"
    assert sorted((q["x"], q["value"], q["label"]) for q in chart.points) == [
        (0.01, 0.9, "beta"), (0.1, 0.2, "gamma"), (0.1, 0.5, "alpha")]
    assert {q["color"] for q in chart.points} == {panel.colors.color(r) for r in RUNS}
    qtbot.wait(20)
    info = panel.hover_scene(chart.vb.mapViewToScene(QPointF(0.1, 0.5)))
    assert info["label"] == "alpha" and "lr = 0.1" in panel.readout.text()
    assert next(c for c in panel.charts if c.title == "loss").kind == "line"
    panel.versus_combo.setCurrentIndex(0)
    assert next(c for c in panel.charts if c.title == "rmse").kind == "bar"


def test_hundreds_of_single_values_stay_a_readable_size(qtbot):
    p = ChartPanel()
    qtbot.addWidget(p)
    runs = [f"r{i:03d}" for i in range(300)]
    p.set_runs(runs, {})
    p.set_history(single_values({r: float(i) for i, r in enumerate(runs)}), runs, None)
    (chart,) = p.charts
    assert chart.kind == "bar" and len(chart.bars) == 300
    assert chart.height() <= 1600
    names = chart.plot.getAxis("left")._tickLevels[0]
    assert 20 < len(names) < 300 and names[0] == (0, "r299")  # thinned, largest first


def test_moving_the_mouse_over_a_chart_shows_the_readout(panel, qtbot):
    chart = panel.charts[1]
    chart.vb.setRange(xRange=(0, 98), yRange=(0, 3.5), padding=0)
    qtbot.wait(10)
    scene = chart.vb.mapViewToScene(QPointF(40, 1.0))
    where = panel.canvas.mapFromScene(scene)
    qtbot.mouseMove(panel.canvas.viewport(), where)
    qtbot.waitUntil(panel.readout.isVisible, timeout=3000)
    assert [r["label"] for r in panel.last_hover["rows"]] == ["gamma", "beta", "alpha"]
    panel.hide_hover()  # what leaving the panel does
    assert not panel.readout.isVisible()
