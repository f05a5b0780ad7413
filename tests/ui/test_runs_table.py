"""The runs table keeps its bearings: pinned name, metrics near it, columns the filter names
brought into view, a colour dot beside (never over) the name, counts that stay, and a filter
that does not parse shown as such. On runs logged by MLflow's client."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QStyle, QStyleOptionHeader, QStyleOptionViewItem

from mlscope.core import open_store
from mlscope.core.errors import FilterError
from mlscope.core.series import ColorBook
from mlscope.ui.models import columns as C
from mlscope.ui.models.runs import STALE_COLOR
from mlscope.ui.views.runs import RunsPanel, filter_columns


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Runs with many metrics and params (the table is wider than its panel), a parent with a
    long name and children, and names like MLflow's generated hex ones."""
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("table") / "mlflow.db"
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.create_experiment("wide")
    t0 = 1_700_000_000_000
    parent = client.create_run(exp, start_time=t0, run_name="a-hyperparameter-search-whose-name-"
                               "is-far-longer-than-its-column").info.run_id
    for i in range(3):
        rid = client.create_run(exp, start_time=t0 + 1 + i, run_name=f"df738b7{i}",
                                tags={"mlflow.parentRunId": parent}).info.run_id
        for k in range(8):
            client.log_metric(rid, f"metric_{k}", i + k / 10, timestamp=t0, step=0)
        for k in range(8):
            client.log_param(rid, f"param_{k}", f"value-{i}-{k}")
        client.set_terminated(rid, "FINISHED", end_time=t0 + 60_000)
    client.set_terminated(parent, "FINISHED", end_time=t0 + 90_000)
    return open_store(str(db)), exp, parent


@pytest.fixture
def panel(qtbot, store):
    st, exp, _ = store
    p = RunsPanel()
    qtbot.addWidget(p)
    p.resize(640, 420)
    p.show()
    frame = st.runs(experiment_ids=[exp])

    def load(f=frame, columns=None):
        available = list(C.ATTRIBUTES) + C.data_columns(f.columns)
        p.set_runs(f, {exp: "wide"}, columns or C.apply_layout(available, None))

    load()
    p.load = load
    p.columnsEdited.connect(p.set_columns)  # as the page's column controller answers
    qtbot.waitExposed(p)
    return p


def _in_view(panel, key) -> bool:
    view = panel.view
    col = panel.model.visible_columns().index(key)
    x = view.columnViewportPosition(col)
    left = view.columnWidth(0) if view.frozen.isVisible() else 0
    return x >= left and x + view.columnWidth(col) <= view.viewport().width()


def test_metrics_and_params_come_right_after_the_name(panel):
    vis = panel.model.visible_columns()
    assert vis[0] == "run_name"
    first_attribute = min(i for i, k in enumerate(vis) if C.is_attribute(k))
    metrics = [i for i, k in enumerate(vis) if k.startswith("metrics.")]
    params = [i for i, k in enumerate(vis) if k.startswith("params.")]
    assert metrics and params and max(metrics) < min(params) < first_attribute
    assert _in_view(panel, "metrics.metric_0")


def test_run_name_stays_pinned_while_scrolling_right(panel, qtbot):
    view = panel.view
    panel.expand_all()
    bar = view.horizontalScrollBar()
    assert bar.maximum() > 0  # wider than the panel
    bar.setValue(bar.maximum())
    qtbot.waitUntil(lambda: view.columnViewportPosition(0) < -view.columnWidth(0))
    frozen = view.frozen
    assert frozen.isVisible()
    assert frozen.geometry().left() <= view.frameWidth()
    assert frozen.width() == view.columnWidth(0)
    # What is drawn at the left of the table is the pinned column, with the runs' names.
    y = view.horizontalHeader().height() + view.rowHeight(0) // 2 + view.frameWidth()
    assert view.childAt(QPoint(20, y)) is frozen.viewport()
    names = [frozen.indexAt(QPoint(20, view.rowHeight(0) * r + 3)).data() for r in range(4)]
    assert names == [panel.model.index(r, 0).data() for r in range(4)]
    assert frozen.horizontalHeader().isVisible() and frozen.model().headerData(0, Qt.Horizontal) == "Run Name"
    # Scrolling down moves both together.
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    assert frozen.verticalScrollBar().value() == view.verticalScrollBar().value()


def test_attribute_columns_collapse_and_come_back(panel):
    vis = panel.model.visible_columns()
    attrs = [i for i, k in enumerate(vis) if C.is_attribute(k)]
    panel.set_attributes_collapsed(True)
    assert all(panel.view.isColumnHidden(i) for i in attrs)
    assert not panel.view.isColumnHidden(0)
    assert panel.model.visible_columns() == vis  # the chosen layout is kept
    panel.set_attributes_collapsed(False)
    assert not any(panel.view.isColumnHidden(i) for i in attrs)


def test_filter_names_its_columns():
    assert filter_columns('metrics.rmse < 6 and params.`train-data` = "x" and tags."a b" = "1"') == [
        "metrics.rmse", "params.train-data", "tags.a b"]
    assert filter_columns("attributes.status = 'FINISHED'") == []


def test_a_column_the_filter_names_is_brought_into_view(panel, store, qtbot):
    st, exp, _ = store
    key = "params.param_7"  # the far end of the table
    assert not _in_view(panel, key)
    text = "params.param_7 = 'value-1-7'"
    with qtbot.waitSignal(panel.filterRequested) as asked:
        panel.filter_edit.setText(text)
        panel.filter_edit.returnPressed.emit()
    assert asked.args == [text]
    panel.load(st.runs(experiment_ids=[exp], filter_string=text))
    qtbot.waitUntil(lambda: _in_view(panel, key))
    # A hidden column is shown beside the name.
    hidden = [k for k in panel.model.visible_columns() if k != "params.param_3"]
    panel.set_columns(hidden)
    panel.filter_edit.setText("params.param_3 = 'value-1-3'")
    panel.filter_edit.returnPressed.emit()
    qtbot.waitUntil(lambda: "params.param_3" in panel.model.visible_columns())
    assert panel.model.visible_columns()[1] == "params.param_3" and _in_view(panel, "params.param_3")


def test_the_colour_dot_never_covers_the_name(panel, qtbot):
    panel.tree_button.setChecked(False)  # flat: no indentation to hide the bug behind
    book = ColorBook()
    panel.model.colors = book
    idx = panel.model.index(0, 0)
    book.color(panel.model.run_id(idx))  # charted: it gets a colour
    option = QStyleOptionViewItem()
    option.rect = panel.view.visualRect(idx)
    swatch, text = panel.view.name_delegate.layout(option, idx)
    assert swatch is not None and swatch.width() > 0
    assert not swatch.intersects(text) and text.left() >= swatch.right()
    assert text.right() <= option.rect.right()
    # Without a colour the text starts at the left.
    idx2 = panel.model.index(1, 0)
    option.rect = panel.view.visualRect(idx2)
    swatch2, text2 = panel.view.name_delegate.layout(option, idx2)
    assert swatch2 is None and text2.left() < text.left()


def test_a_long_parent_name_never_hides_its_child_count(panel, store):
    _, _, parent = store
    idx = panel.model.index_of(parent, 0)
    text = idx.data()
    assert text.endswith("(3)")
    fm = QFontMetrics(panel.view.font())
    width = panel.view.columnWidth(0) - 60
    assert fm.horizontalAdvance(text) > width  # too long for its column
    name, count = panel.view.name_delegate.texts(text, 3, fm, width)
    assert count == "(3)" and name.endswith("…")
    assert fm.horizontalAdvance(name) + fm.horizontalAdvance(count) <= width


def test_sort_arrow_clear_of_the_header_text(panel):
    h = panel.view.horizontalHeader()
    col = panel.model.visible_columns().index("metrics.metric_0")
    h.setSortIndicator(col, Qt.DescendingOrder)
    opt = QStyleOptionHeader()
    h.initStyleOptionForIndex(opt, col)
    opt.rect = QRect(0, 0, h.sectionSize(col), h.height())
    style = h.style()
    arrow = style.subElementRect(QStyle.SE_HeaderArrow, opt, h)
    label = style.subElementRect(QStyle.SE_HeaderLabel, opt, h)
    assert arrow.isValid() and label.isValid()
    assert not arrow.intersects(label), (arrow, label)


def test_a_filter_that_does_not_parse_leaves_dimmed_rows_that_say_so(panel, store, qtbot):
    st, exp, _ = store
    good = "metrics.metric_0 < 1.5"
    panel.filter_edit.setText(good)
    panel.filter_edit.returnPressed.emit()
    panel.load(st.runs(experiment_ids=[exp], filter_string=good))
    assert panel.applied_filter == good and not panel.is_stale()
    shown = panel.model.total_runs()
    bad = "metrics.metric_0 <<< 1"
    panel.filter_edit.setText(bad)
    panel.filter_edit.returnPressed.emit()
    with pytest.raises(FilterError) as err:
        st.runs(experiment_ids=[exp], filter_string=bad)
    panel.set_filter_error(str(err.value))
    assert panel.is_stale() and panel.model.total_runs() == shown
    assert "last valid filter" in panel.count_label.text()
    message = panel.error_label.text()
    assert message.startswith("Invalid filter: it is not MLflow search syntax")
    assert good in message and message.endswith(str(err.value))
    assert message.index(good) < message.index(str(err.value))
    for c in range(panel.model.columnCount()):
        assert panel.model.index(0, c).data(Qt.ForegroundRole) == QColor(STALE_COLOR)
    # The next valid filter's answer is not stale.
    panel.filter_edit.setText("")
    panel.set_filter_error(None)
    panel.load()
    assert not panel.is_stale() and panel.applied_filter == ""
    assert "last valid" not in panel.count_label.text()
    assert panel.model.index(0, 0).data(Qt.ForegroundRole) != QColor(STALE_COLOR)


def test_a_parent_folds_by_its_arrow_and_by_double_click_in_both_views(panel, qtbot, store):
    """The branch arrow and a double click fold a parent's children, in the table and in the
    pinned name column shown while the table is scrolled sideways."""
    _, _, parent = store
    view, model = panel.view, panel.model
    panel.expand_all()
    assert model.is_expanded(parent) and model.rowCount() == 4

    row = next(r for r in range(model.rowCount()) if model.run_id(model.index(r, 0)) == parent)
    index = model.index(row, view._name_column())
    rect = view.visualRect(index)
    arrow = next(QPoint(x, rect.center().y()) for x in range(rect.left(), rect.right())
                 if view.name_delegate.branch_hit(view, index, QPoint(x, rect.center().y())))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=arrow)
    assert not model.is_expanded(parent) and model.rowCount() == 1
    qtbot.mouseDClick(view.viewport(), Qt.LeftButton, pos=view.visualRect(index).center())
    assert model.is_expanded(parent)

    bar = view.horizontalScrollBar()
    bar.setValue(bar.maximum())
    frozen = view.frozen
    qtbot.waitUntil(frozen.isVisible)
    findex = frozen.model().index(row, 0)
    qtbot.mouseDClick(frozen.viewport(), Qt.LeftButton, pos=frozen.visualRect(findex).center())
    assert not model.is_expanded(parent)
    frect = frozen.visualRect(findex)
    farrow = next(QPoint(x, frect.center().y()) for x in range(frect.left(), frect.right())
                  if view.name_delegate.branch_hit(frozen, findex, QPoint(x, frect.center().y())))
    qtbot.mouseClick(frozen.viewport(), Qt.LeftButton, pos=farrow)
    assert model.is_expanded(parent)
