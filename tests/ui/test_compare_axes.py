"""Parallel coordinates with many differing params: every one is an axis by default, each
readable (a window of them scrolls sideways), "Fit all" squeezes them into the width."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mlscope.core import open_store

N_RUNS, N_PARAMS = 30, 40
T0 = 1_700_000_000_000


@pytest.fixture(scope="module")
def wide_db(tmp_path_factory):
    """30 runs with 40 params that all differ (and one that does not), logged by MLflow."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("compare-axes") / "mlflow.db"
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.create_experiment("wide")
    ids = []
    for k in range(N_RUNS):
        rid = client.create_run(exp, start_time=T0 + k, run_name=f"w{k}").info.run_id
        params = [Param(f"p{j:02d}", str(k * (j + 1))) for j in range(N_PARAMS)]
        params.append(Param("learning_rate_warmup_steps", str(k)))  # a long name
        client.log_batch(rid, params=[*params, Param("same", "1")],
                         metrics=[Metric("loss", 1.0 / (k + 1), T0, 0),
                                  Metric("acc", k / N_RUNS, T0, 0)])
        ids.append(rid)
    return db, ids


@pytest.fixture
def pc(qtbot, wide_db):
    from mlscope.ui.colors import RunColors
    from mlscope.ui.controllers.compare import CompareController
    from mlscope.ui.tasks import Tasks

    db, ids = wide_db
    store = open_store(db)
    tasks = Tasks()
    ctl = CompareController(tasks)
    ctl.set_colors(RunColors())
    ctl.set_store(store)
    ctl.set_frame(store.runs(attributes=True))
    qtbot.addWidget(ctl.view)
    ctl.view.resize(1200, 700)
    ctl.view.show()
    ctl.activate()
    with qtbot.waitSignal(ctl.compared, timeout=30_000):
        ctl.set_runs(ids)
    plot = ctl.view.show_plot("parallel")
    qtbot.waitUntil(lambda: plot.plot.width() > 500)
    yield plot
    tasks.cancel_all()
    store.close()


def test_every_differing_param_is_an_axis_and_a_window_of_them_shows(qtbot, pc):
    from mlscope.ui.views.compare_plots import MIN_AXIS_PX

    keys = pc.axis_keys()
    assert keys == [("params", "learning_rate_warmup_steps")] + [
        ("params", f"p{j:02d}") for j in range(N_PARAMS)] + [("metrics", "acc"), ("metrics", "loss")]
    k = len(keys)
    # each shown axis gets its readable room; the rest are a scroll away
    assert 2 <= pc.shown < k and pc.plot.width() / pc.shown >= MIN_AXIS_PX
    assert pc.scroll.isVisible() and pc.scroll.maximum() == k - pc.shown
    assert f"axes 1-{pc.shown} of {k} (scroll sideways, or tick Fit all)" in pc.status.text()
    lo, hi = pc.box.viewRange()[0]
    assert -0.5 < lo < 0 and pc.shown - 1 < hi < pc.shown
    assert pc.decor.lines == list(range(0, pc.shown + 1))  # the shown axes and the next
    pc.plot.grab()
    assert pc.decor.staggered  # "learning_rate_warmup_steps" is too long for one axis's room
    # the lines are drawn over the shown axes (and one beyond), not all 42
    drawn = [c.getData()[0] for c in pc.bin_curves if c.getData()[0] is not None]
    drawn += [c.getData()[0] for c in pc.highlight_curves]
    assert drawn and max(float(d.max()) for d in drawn if d.size) == pc.shown
    # scroll to the end: the metrics come into view
    pc.scroll.setValue(pc.scroll.maximum())
    assert pc.first == k - pc.shown
    lo, hi = pc.box.viewRange()[0]
    assert k - pc.shown - 0.5 < lo and hi < k
    assert pc.decor.lines[-1] == k - 1
    assert f"axes {k - pc.shown + 1}-{k} of {k}" in pc.status.text()
    # a brush there filters every run by that axis, wherever the others are
    loss = pc.axes[k - 1]
    pc.brush_axis(k - 1, 0.5, 1.0)
    assert pc.mask.tolist() == (pc.axes[k - 1].normalized() >= 0.5).tolist()
    assert loss.key == "loss" and 0 < pc.mask.sum() < N_RUNS


def test_fit_all_and_the_faint_layer(qtbot, pc):
    from mlscope.ui.views.compare_plots import MIN_AXIS_PX

    k = len(pc.axes)
    assert not pc.dim_curve.isVisible()  # unbrushed: the coloured lines cover it
    pc.brush_axis(0, 0.0, 0.5, final=False)
    assert pc.dim_curve.isVisible()
    pc.clear_brushes()
    assert not pc.dim_curve.isVisible()
    qtbot.mouseClick(pc.fit_all, Qt.LeftButton)
    assert pc.shown == k and pc.first == 0 and not pc.scroll.isVisible()
    assert pc.decor.lines == list(range(k))
    assert f"{k} axes" in pc.status.text()
    qtbot.mouseClick(pc.fit_all, Qt.LeftButton)
    assert pc.shown < k and pc.scroll.isVisible()
    # a narrower window shows fewer axes at once, each as wide as before
    before = pc.shown
    pc.window().resize(800, 700)
    qtbot.waitUntil(lambda: pc.shown < before)
    assert pc.scroll.maximum() == k - pc.shown
    assert pc.shown == pc.plot.width() // MIN_AXIS_PX


def test_the_wheel_and_the_axis_list_scroll_the_axes(qtbot, pc):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    k = len(pc.axes)
    assert pc.first == 0
    vp = pc.plot.viewport()
    at = QPointF(vp.width() / 2, vp.height() / 2)
    for delta, first in ((-120, 1), (-120, 2), (120, 1)):
        QApplication.sendEvent(vp, QWheelEvent(
            at, QPointF(vp.mapToGlobal(at.toPoint())), QPoint(0, 0), QPoint(0, delta),
            Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False))
        assert pc.first == first
    # a click on an axis far right in the list brings it into view
    item = pc.axis_list.item(k - 1)
    pc.axis_list.scrollToItem(item)
    rect = pc.axis_list.visualItemRect(item)
    qtbot.mouseClick(pc.axis_list.viewport(), Qt.LeftButton, pos=rect.center() + QPoint(30, 0))
    assert pc.first <= k - 1 < pc.first + pc.shown
    assert pc.decor.lines[-1] == k - 1
