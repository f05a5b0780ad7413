"""Compare, driven as a user would: a real store written by MLflow's client, the
controller with its own task runner, every control clicked."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication

from mlscope.core import compare as cmp
from mlscope.core import open_store

T0 = 1_700_000_000_000
CONFIG = '{"model": {"depth": %d, "heads": 8}, "optimizer": "adam"}'


@pytest.fixture(scope="module")
def compare_db(tmp_path_factory):
    """Six runs of a sweep, logged with MLflow's client: lr and depth vary, seed is the same."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("compare-ui") / "mlflow.db"
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.create_experiment("sweep")
    ids = []
    for k, (lr, depth) in enumerate([("0.1", 4), ("0.10", 6), ("0.01", 8), ("0.001", 4),
                                     ("0.3", 6), ("1.0", 8)]):
        rid = client.create_run(exp, start_time=T0 + k * 60_000, run_name=f"run-{k}",
                                tags={"mlflow.source.name": "train.py"}).info.run_id
        params = {"lr": lr, "depth": str(depth), "seed": "7", "optimizer": ["adam", "sgd"][k % 2],
                  "config": CONFIG % depth}
        client.log_batch(rid, params=[Param(p, v) for p, v in params.items()],
                         metrics=[Metric("val_loss", 1.0 / (k + 1), T0, 0),
                                  Metric("accuracy", 0.5 + 0.05 * k, T0, 0)])
        for step in range(3):
            client.log_metric(rid, "val_loss", 2.0 / (k + 1) - step * 0.1, T0 + step, step + 1)
        client.set_terminated(rid, "FINISHED", end_time=T0 + k * 60_000 + 30_000 * (k + 1))
        ids.append(rid)
    return db, ids


@pytest.fixture
def ctl(qtbot, compare_db, tmp_path):
    from mlscope.ui.colors import RunColors
    from mlscope.ui.controllers.compare import CompareController
    from mlscope.ui.tasks import Tasks

    db = tmp_path / "mlflow.db"
    shutil.copy(compare_db[0], db)
    store = open_store(db)
    tasks = Tasks()
    c = CompareController(tasks)
    c.set_colors(RunColors())
    c.set_store(store)
    c.set_frame(store.runs(attributes=True))
    qtbot.addWidget(c.view)
    c.view.resize(1200, 700)
    c.view.show()
    c.activate()
    c.db, c.ids = db, compare_db[1]
    yield c
    tasks.cancel_all()
    store.close()


def compare_runs(qtbot, ctl, ids):
    with qtbot.waitSignal(ctl.compared, timeout=30_000) as sig:
        ctl.set_runs(ids)
    return sig.args[0]


def model_keys(view):
    m = view.model
    return [m.data(m.index(r, 0)) for r in range(m.rowCount())]


def test_open_compare_toggle_only_differences_and_baseline(qtbot, ctl):
    comp = compare_runs(qtbot, ctl, ctl.ids[:3])
    view = ctl.view
    assert [c.run_id for c in comp.columns] == ctl.ids[:3]
    m = view.model
    assert [m.headerData(c, Qt.Horizontal) for c in range(1, 4)] == ["★ run-0", "run-1", "run-2"]
    color = m.headerData(1, Qt.Horizontal, Qt.ForegroundRole).color().name()
    assert color == ctl.colors.hex(ctl.ids[0])  # the run's colour, as in the table
    swatch = m.headerData(1, Qt.Horizontal, Qt.DecorationRole).toImage().pixelColor(5, 5)
    assert swatch.name() == ctl.colors.hex(ctl.ids[0])  # shown even under the theme
    keys = model_keys(view)
    assert "Params · 4 differ · 1 param the same" in keys  # seed collapsed into a count
    assert not any(k.endswith(" seed") for k in keys)
    assert any(k.endswith(" lr") and k.startswith("●") for k in keys)  # marked as differing
    # toggle "only differences" off: seed appears, unmarked
    qtbot.mouseClick(view.only_diff, Qt.LeftButton)
    assert not view.only_diff.isChecked()
    assert any(k == "  seed" for k in model_keys(view))
    qtbot.mouseClick(view.only_diff, Qt.LeftButton)
    assert not any(k.endswith(" seed") for k in model_keys(view))
    # differing first: within params, the real difference (depth) before lr's 0.1 vs 0.10
    view.set_baseline(0)
    params = [k for k in model_keys(view) if k and k[0] in "●◐≈␣ "]
    assert params.index("● depth") < params.index("● lr")
    # one click on a run's header makes it the baseline
    lr_row = keys.index("● lr")
    hdr = view.table.horizontalHeader()
    x = hdr.sectionViewportPosition(3) + hdr.sectionSize(3) // 2
    qtbot.mouseClick(hdr.viewport(), Qt.LeftButton, pos=QPoint(x, hdr.height() // 2))
    assert ctl.comparison.baseline == 2
    assert m.headerData(3, Qt.Horizontal) == "★ run-2"
    loss = model_keys(view).index("● val_loss")
    # run-0's latest val_loss (1.8) is worse than run-2's (0.467): red, with its delta
    cell = m.index(loss, 1)
    assert m.data(cell) == "1.8   +1.333 (+286%)"
    assert m.data(cell, Qt.ForegroundRole).color().name() == "#c62828"
    # lr 0.1 vs 0.10: equal as numbers, different as text, said in the tooltip
    view.set_baseline(0)
    lr_row = model_keys(view).index("● lr")
    tip = m.data(m.index(lr_row, 2), Qt.ToolTipRole)
    assert "equal to the baseline as a number, different as text" in tip
    # the direction is switchable per metric, and kept when the runs change
    view.set_direction("val_loss", "max")
    loss = model_keys(view).index("● val_loss")
    assert m.data(m.index(loss, 2), Qt.ForegroundRole).color().name() == "#c62828"
    comp = compare_runs(qtbot, ctl, ctl.ids[:4])
    assert comp.direction[comp.row_index("metrics", "val_loss")] == "max"


def test_transpose_copy_and_minmax(qtbot, ctl):
    compare_runs(qtbot, ctl, ctl.ids[:3])
    view = ctl.view
    qtbot.mouseClick(view.transpose, Qt.LeftButton)
    m = view.model
    assert m.rowCount() == 3
    assert m.headerData(0, Qt.Vertical) == "★ run-0"
    heads = [m.headerData(c, Qt.Horizontal) for c in range(m.columnCount())]
    assert "params: lr" in heads
    lr = heads.index("params: lr")
    assert m.data(m.index(1, lr)) == "0.10"
    # one click on a run (a row now) makes it the baseline
    rect = view.table.visualRect(m.index(1, 0))
    qtbot.mouseClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())
    assert ctl.comparison.baseline == 1
    assert m.data(m.index(1, 0)) == "★ run-1"
    view.copy("csv")
    text = QGuiApplication.clipboard().text()
    assert text.splitlines()[0].startswith('"run","attributes.')
    assert text.splitlines()[1].startswith('"run-0"')
    qtbot.mouseClick(view.transpose, Qt.LeftButton)
    view.copy_text_action.trigger()
    text = QGuiApplication.clipboard().text()
    assert text.splitlines()[0] == "section\tkey\tstatus\trun-0\trun-1\trun-2"
    assert "params\tlr\tnumbers\t0.1\t0.10\t0.01" not in text  # 0.01 differs: row differs
    assert "params\tlr\tdiffers\t0.1\t0.10\t0.01" in text
    # min and max of each metric with their steps: read from the history on a worker
    with qtbot.waitSignal(ctl.compared, timeout=30_000) as sig:
        qtbot.mouseClick(view.extremes, Qt.LeftButton)
    comp = sig.args[0]
    i = comp.row_index("metrics", "val_loss (min)")
    assert comp.text[i, 0] == "1.0 @ step 0" or comp.text[i, 0].endswith("@ step 3")
    assert any("val_loss (max)" in k for k in model_keys(view))


def _drag(widget, points):
    """A real left-button drag through widget pixel positions (press, moves, release)."""
    app = QApplication.instance()
    first, *rest = [QPointF(p) for p in points]
    glob = lambda p: QPointF(widget.mapToGlobal(p.toPoint()))  # noqa: E731
    app.sendEvent(widget, QMouseEvent(QEvent.MouseButtonPress, first, glob(first),
                                      Qt.LeftButton, Qt.LeftButton, Qt.NoModifier))
    for p in rest:
        app.sendEvent(widget, QMouseEvent(QEvent.MouseMove, p, glob(p), Qt.NoButton,
                                          Qt.LeftButton, Qt.NoModifier))
        app.processEvents()
    app.sendEvent(widget, QMouseEvent(QEvent.MouseButtonRelease, rest[-1], glob(rest[-1]),
                                      Qt.LeftButton, Qt.NoButton, Qt.NoModifier))
    app.processEvents()


def _to_widget(plot_widget, box, x, y) -> QPoint:
    scene = box.mapViewToScene(QPointF(x, y))
    return plot_widget.mapFromScene(scene)


def test_parallel_coordinates_brush_selects_runs(qtbot, ctl, tmp_path):
    compare_runs(qtbot, ctl, ctl.ids)
    view = ctl.view
    pc = view.show_plot("parallel")
    assert pc is not None and pc.comp is ctl.comparison
    # every differing param by default (config, depth, lr, optimizer), then the metrics
    keys = pc.axis_keys()
    assert keys[:4] == [("params", "config"), ("params", "depth"), ("params", "lr"),
                        ("params", "optimizer")]
    assert ("params", "seed") not in keys
    assert pc.color_by.currentText() == "accuracy"
    pc.set_axes([("params", "lr"), ("params", "depth"), ("metrics", "val_loss")])
    assert [a.key for a in pc.axes] == ["lr", "depth", "val_loss"]
    qtbot.wait(50)
    # drag along the depth axis (4, 6, 8: normalised 0, 0.5, 1) over its upper half
    a = 1
    widget = pc.plot.viewport()
    pts = [_to_widget(pc.plot, pc.box, a, y) for y in (1.02, 0.9, 0.7, 0.4)]
    with qtbot.waitSignal(ctl.selectRunsRequested, timeout=5000) as sig:
        _drag(widget, pts)
    depth = ctl.comparison.number[ctl.comparison.row_index("params", "depth")]
    expected = [r for r, d in zip(ctl.ids, depth, strict=True) if d >= 6]
    assert sig.args[0] == expected
    assert pc.mask.tolist() == [d >= 6 for d in depth]
    # the table selects them and says so: a highlight, not a new comparison
    before = ctl.comparison
    ctl.set_runs(expected)
    assert ctl.comparison is before and not ctl.running("compare")
    assert pc.highlight == set(expected)
    # a second brush on lr narrows it; a click on the depth axis clears that brush
    pc.brush_axis(0, 0.25, 1.0)  # lr >= 0.25 of its span: 0.3 and 1.0
    assert pc.selected_runs() == [ctl.ids[4], ctl.ids[5]]
    with qtbot.waitSignal(ctl.selectRunsRequested, timeout=5000) as sig:
        qtbot.mouseClick(widget, Qt.LeftButton, pos=_to_widget(pc.plot, pc.box, a, 0.5))
    assert sig.args[0] == [ctl.ids[4], ctl.ids[5]]
    with qtbot.waitSignal(ctl.selectRunsRequested, timeout=5000) as sig:
        qtbot.mouseClick(pc.clear_button, Qt.LeftButton)
    assert sig.args[0] == ctl.ids
    # a table selection that is not ours starts a new comparison
    comp = compare_runs(qtbot, ctl, ctl.ids[:2])
    assert len(comp.columns) == 2 and pc.comp is comp
    # export as the chart panel does
    pc.export_png(tmp_path / "pc.png")
    pc.export_svg(tmp_path / "pc.svg")
    assert (tmp_path / "pc.png").stat().st_size > 1000
    assert "<svg" in (tmp_path / "pc.svg").read_text()


def test_scatter_hover_and_click(qtbot, ctl, tmp_path):
    compare_runs(qtbot, ctl, ctl.ids)
    sc = ctl.view.show_plot("scatter")
    assert sc.x_combo.currentData() == ("params", "config")  # the first differing param
    sc.set_axes(("params", "lr"), ("metrics", "val_loss"))
    qtbot.wait(50)
    j = 2  # lr 0.01
    x, y = sc.point_pos(j)
    assert (x, y) == (0.01, pytest.approx(2.0 / 3 - 0.2))
    pos = _to_widget(sc.plot, sc.item.vb, x, y)
    with qtbot.waitSignal(ctl.selectRunsRequested, timeout=5000) as sig:
        qtbot.mouseClick(sc.plot.viewport(), Qt.LeftButton, pos=pos)
    assert sig.args[0] == [ctl.ids[2]]
    assert "run-2" in sc.describe(j) and "lr: 0.01" in sc.describe(j)
    # log x: the points move to log10; a categorical x gets its names as ticks
    qtbot.mouseClick(sc.log_x, Qt.LeftButton)
    assert sc.point_pos(j)[0] == pytest.approx(-2.0)
    assert (-2.0, "0.01") in sc.item.getAxis("bottom")._tickLevels[0]  # one tick a decade
    sc.set_axes(("params", "optimizer"), ("metrics", "accuracy"))
    assert sc.point_pos(1) == (1.0, pytest.approx(0.55))  # sgd is category 1, log ignored
    ticks = sc.item.getAxis("bottom")._tickLevels
    assert ticks[0] == [(0, "adam"), (1, "sgd")]
    sc.set_axes(("attributes", "duration"), ("metrics", "accuracy"))
    assert sc.point_pos(0)[0] == pytest.approx(np.log10(30.0))
    sc.export_png(tmp_path / "sc.png")
    sc.export_svg(tmp_path / "sc.svg")
    assert (tmp_path / "sc.png").stat().st_size > 1000


def test_long_value_side_by_side(qtbot, ctl):
    compare_runs(qtbot, ctl, ctl.ids[:2])
    view = ctl.view
    row = model_keys(view).index("● config")
    index = view.model.index(row, 2)
    view.table.scrollTo(index)
    rect = view.table.visualRect(index)
    qtbot.mouseClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())
    dlg = view._value_dialog
    qtbot.addWidget(dlg)
    assert "1 of 3 keys differ" in dlg.html
    assert "model.depth" in dlg.html and "background:#f5c26b" in dlg.html
    dlg.close()


def test_runs_deleted_while_open(qtbot, ctl):
    from mlflow.tracking import MlflowClient

    compare_runs(qtbot, ctl, ctl.ids[:3])
    shutil.copy(ctl.db, ctl.db.with_name("scratch.db"))
    import sqlite3

    # the run vanishes from the database (purged by `mlflow gc` while mlscope looks)
    MlflowClient(f"sqlite:///{ctl.db}").delete_run(ctl.ids[1])
    with sqlite3.connect(ctl.db) as con:
        for table in ("params", "metrics", "latest_metrics", "tags"):
            con.execute(f"DELETE FROM {table} WHERE run_uuid = ?", (ctl.ids[1],))
        con.execute("DELETE FROM runs WHERE run_uuid = ?", (ctl.ids[1],))
    ctl.store.refresh()
    messages = []
    ctl.statusMessage.connect(messages.append)
    with qtbot.waitSignal(ctl.compared, timeout=30_000) as sig:
        ctl.set_frame(ctl.store.runs(attributes=True))
    comp = sig.args[0]
    assert [c.run_id for c in comp.columns] == [ctl.ids[0], ctl.ids[2]]
    assert comp.missing_runs == [ctl.ids[1]]
    assert messages == ["1 selected run is no longer in the store; comparing the others."]
    assert "1 run is no longer in the store" in ctl.view.summary.text()


def test_two_stores_side_by_side(qtbot, ctl, compare_db):
    other = open_store(compare_db[0])
    try:
        ctl.add_runs(other, compare_db[1][3:5], "laptop")
        comp = compare_runs(qtbot, ctl, ctl.ids[:1])
        assert [c.store for c in comp.columns][1:] == ["laptop", "laptop"]
        assert comp.labels()[1] == "run-3 [laptop]"
        assert ctl.view.model.headerData(2, Qt.Horizontal) == "run-3 [laptop]"
        assert "from 2 stores" in ctl.view.summary.text()
    finally:
        other.close()


def test_follow_off_keeps_the_runs(qtbot, ctl):
    compare_runs(qtbot, ctl, ctl.ids[:3])
    before = ctl.comparison
    qtbot.mouseClick(ctl.view.follow, Qt.LeftButton)
    ctl.set_runs(ctl.ids[3:])
    assert ctl.comparison is before and not ctl.running("compare")
    assert ctl.view.model.comp is before


def test_no_runs_and_no_store(qtbot):
    from mlscope.ui.controllers.compare import CompareController
    from mlscope.ui.tasks import Tasks

    c = CompareController(Tasks())
    qtbot.addWidget(c.view)
    c.activate()
    c.set_runs(["abc"])
    assert c.view.hint.text() == "No store is open."
    assert c.comparison is None
    assert isinstance(cmp.Comparison, type)


def test_in_the_store_page(qtbot, open_store_page, compare_db):
    """Wired into a store page: the table's selection is compared, and a brush selects
    the runs it keeps in the table."""
    db, ids = compare_db
    page = open_store_page(db)
    ctl = next((f for f in page.features if f.title == "Compare"), None)
    if ctl is None:
        pytest.skip("Compare is not wired into the store page")
    page.runs.select_runs(ids[:4], current=ids[0])
    with qtbot.waitSignal(ctl.compared, timeout=30_000) as sig:
        assert page.show_view("compare")
    assert set(c.run_id for c in sig.args[0].columns) == set(ids[:4])
    pc = ctl.view.show_plot("parallel")
    pc.set_axes([("params", "depth"), ("metrics", "accuracy")])
    pc.brush_axis(0, 0.4, 1.0)  # depth 6 and 8 of 4, 6, 8
    depth = ctl.comparison.number[ctl.comparison.row_index("params", "depth")]
    kept = {c.run_id for c, d in zip(ctl.comparison.columns, depth, strict=True) if d >= 6}
    qtbot.waitUntil(lambda: set(page.runs.selected_run_ids()) == kept, timeout=5000)
    before = ctl.comparison
    qtbot.wait(200)
    assert ctl.comparison is before  # the table follows; Compare keeps its runs
    assert pc.highlight == kept
