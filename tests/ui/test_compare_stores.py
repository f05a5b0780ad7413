"""Compare across open stores and from a chart's legend, driven in one main window: an
mlruns folder and an SQLite file, both written by MLflow's own client."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from conftest import wait_loaded

T0 = 1_700_000_000_000


def log_sweep(uri: str, prefix: str, lrs) -> list[str]:
    """A small sweep logged with MLflow's client: lr varies, seed is the same."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp = client.create_experiment("sweep")
    ids = []
    for k, lr in enumerate(lrs):
        rid = client.create_run(exp, start_time=T0 + k * 60_000,
                                run_name=f"{prefix}-{k}").info.run_id
        client.log_batch(rid, params=[Param("lr", lr), Param("seed", "7")],
                         metrics=[Metric("val_loss", v, T0 + s, s) for s, v in
                                  enumerate([1.0 / (k + 1), 0.8 / (k + 1), 0.5 / (k + 1)])])
        client.set_terminated(rid, "FINISHED", end_time=T0 + k * 60_000 + 30_000)
        ids.append(rid)
    return ids


@pytest.fixture(scope="module")
def two_stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare-stores")
    folder = root / "laptop" / "mlruns"
    db = root / "server" / "mlflow.db"
    db.parent.mkdir()
    folder_ids = log_sweep(folder.as_uri(), "laptop", ["0.1", "0.01", "0.001"])
    db_ids = log_sweep(f"sqlite:///{db}", "server", ["0.3", "0.03", "0.003", "0.0003"])
    return folder, folder_ids, db, db_ids


def compared(qtbot, ctl, action):
    with qtbot.waitSignal(ctl.compared, timeout=30_000) as sig:
        action()
    return sig.args[0]


def menu_action(view, text_start: str):
    view.add_menu.aboutToShow.emit()  # what opening the menu does, without a modal loop
    acts = [a for a in view.add_menu.actions() if a.text().startswith(text_start)]
    assert acts, [a.text() for a in view.add_menu.actions()]
    return acts[0]


def test_runs_of_two_open_stores_side_by_side(qtbot, window, two_stores):
    folder, folder_ids, db, db_ids = two_stores
    laptop = wait_loaded(qtbot, window.open_target(str(folder)))
    server = wait_loaded(qtbot, window.open_target(str(db)))
    assert laptop.title() == "laptop/mlruns" and server.title() == "server/mlflow.db"
    server.runs.select_runs(db_ids[1:3], current=db_ids[1])
    qtbot.waitUntil(lambda: set(server.selection.selected) == set(db_ids[1:3]))

    window.tabs.setCurrentWidget(laptop)
    laptop.runs.select_runs(folder_ids[:2], current=folder_ids[0])
    ctl, view = laptop.compare, laptop.compare.view
    compared(qtbot, ctl, lambda: laptop.show_view("compare"))
    assert view.add_button.isVisible()

    act = menu_action(view, "Add")
    assert act.text() == "Add the 2 runs selected in server/mlflow.db" and act.isEnabled()
    comp = compared(qtbot, ctl, act.trigger)
    assert {c.run_id for c in comp.columns} == set(folder_ids[:2]) | set(db_ids[1:3])
    by_run = {c.run_id: c.store for c in comp.columns}
    assert {by_run[r] for r in folder_ids[:2]} == {"laptop/mlruns"}
    assert {by_run[r] for r in db_ids[1:3]} == {"server/mlflow.db"}
    heads = [view.model.headerData(c, Qt.Horizontal) for c in range(1, 5)]
    assert sum(h.endswith("[server/mlflow.db]") for h in heads) == 2
    assert sum(h.endswith("[laptop/mlruns]") for h in heads) == 2
    assert "4 runs from 2 stores" in view.summary.text()
    # the values are what MLflow's client reads from each store
    from mlflow.tracking import MlflowClient

    lr = comp.row_index("params", "lr")
    for j, c in enumerate(comp.columns):
        uri = folder.as_uri() if c.store == "laptop/mlruns" else f"sqlite:///{db}"
        assert comp.text[lr, j] == MlflowClient(uri).get_run(c.run_id).data.params["lr"]
    # the laptop's table selection still drives its own columns; the server's stay
    laptop.runs.select_runs(folder_ids[1:], current=folder_ids[1])
    qtbot.waitUntil(lambda: ctl.comparison is not None and {c.run_id for c in
                    ctl.comparison.columns} == set(folder_ids[1:]) | set(db_ids[1:3]),
                    timeout=30_000)
    # the menu now offers to replace or remove the server's runs
    assert menu_action(view, "Replace").text().startswith("Replace with the 2 runs")
    messages = []
    laptop.statusMessage.connect(messages.append)
    # the server's tab is closed: its runs leave, the view says so and keeps working
    comp = compared(qtbot, ctl, lambda: window.close_tab(window.tabs.indexOf(server)))
    assert {c.run_id for c in comp.columns} == set(folder_ids[1:])
    note = "2 runs of server/mlflow.db left the comparison: its tab was closed"
    assert note in view.summary.text()
    assert messages[0] == note + "."
    assert menu_action(view, "Open another store").isEnabled() is False
    qtbot.mouseClick(view.only_diff, Qt.LeftButton)
    assert view.model.rowCount() > 0 and len(view.model.comp.columns) == 2


def test_remove_another_stores_runs(qtbot, window, two_stores):
    folder, folder_ids, db, db_ids = two_stores
    laptop = wait_loaded(qtbot, window.open_target(str(folder)))
    server = wait_loaded(qtbot, window.open_target(str(db)))
    server.runs.select_runs(db_ids[:1], current=db_ids[0])
    window.tabs.setCurrentWidget(laptop)
    laptop.runs.select_runs(folder_ids[:2], current=folder_ids[0])
    ctl, view = laptop.compare, laptop.compare.view
    compared(qtbot, ctl, lambda: laptop.show_view("compare"))
    compared(qtbot, ctl, menu_action(view, "Add the 1 run selected").trigger)
    assert len(ctl.comparison.columns) == 3
    comp = compared(qtbot, ctl, menu_action(view, "Remove the runs of server").trigger)
    assert [c.run_id for c in comp.columns] == folder_ids[:2]
    assert "stores" not in view.summary.text()
    # a run of the other store cannot be jumped to from here: it says where it is
    compared(qtbot, ctl, menu_action(view, "Add the 1 run selected").trigger)
    messages = []
    ctl.statusMessage.connect(messages.append)
    ctl.view.runActivated.emit(db_ids[0])
    assert messages == ["That run is in server/mlflow.db: open it from its tab."]


def test_compare_from_the_charts_legend(qtbot, window, two_stores):
    _folder, _ids, db, db_ids = two_stores
    page = wait_loaded(qtbot, window.open_target(str(db)))
    page.runs.select_runs(db_ids, current=db_ids[0])
    page.show_view("charts")
    panel = page.charts.ensure()
    legend = panel.legend_list
    qtbot.waitUntil(lambda: legend.count() == 4 and not any(  # the curves are drawn
        legend.item(k).text().endswith("(no data)") for k in range(4)), timeout=30_000)
    names = {legend.item(k).text(): legend.item(k).data(Qt.UserRole)[0] for k in range(4)}
    assert names == {f"server-{k}": rid for k, rid in enumerate(db_ids)}
    # pick two entries (click, ctrl+click) and right-click one of them
    row = {legend.item(k).text(): k for k in range(4)}
    rect = [legend.visualItemRect(legend.item(row[n])) for n in ("server-1", "server-3")]
    qtbot.mouseClick(legend.viewport(), Qt.LeftButton, pos=rect[0].center())
    qtbot.mouseClick(legend.viewport(), Qt.LeftButton, Qt.ControlModifier, pos=rect[1].center())
    assert set(panel.legend_runs()) == {db_ids[1], db_ids[3]}
    panel._legend_menu(rect[1].center())
    menu = panel._legend_menu_shown
    act = next(a for a in menu.actions() if a.text().startswith("Compare the"))
    assert act.text() == "Compare the 2 selected runs"
    ctl = page.compare
    comp = compared(qtbot, ctl, act.trigger)
    menu.close()
    assert [c.run_id for c in comp.columns] == [db_ids[1], db_ids[3]]
    assert page.workspace.currentWidget() is ctl.view  # Compare came to the front
    qtbot.waitUntil(lambda: set(page.runs.selected_run_ids()) == {db_ids[1], db_ids[3]})
    qtbot.wait(100)
    assert ctl.comparison is comp  # the table's echo did not start another comparison
    # a right-click on an unselected entry picks it alone
    page.show_view("charts")
    qtbot.waitUntil(lambda: legend.count() == 2, timeout=30_000)
    legend.clearSelection()
    panel._legend_menu(legend.visualItemRect(legend.item(0)).center())
    texts = [a.text() for a in panel._legend_menu_shown.actions()]
    panel._legend_menu_shown.close()
    assert texts == ["Compare the 1 selected run", "Compare every run in the legend (2)"]


def test_another_stores_runs_deleted_or_its_file_gone(qtbot, two_stores, tmp_path):
    """The other store changes under the view: a run purged, then the file gone. The view
    names what it cannot show and keeps comparing the rest."""
    import shutil
    import sqlite3

    from mlflow.tracking import MlflowClient

    from mlscope.core import open_store
    from mlscope.ui.colors import RunColors
    from mlscope.ui.controllers.compare import CompareController
    from mlscope.ui.tasks import Tasks

    folder, folder_ids, db, db_ids = two_stores
    mine = open_store(folder)
    other_db = tmp_path / "server" / "mlflow.db"
    other_db.parent.mkdir()
    shutil.copy(db, other_db)
    other = open_store(other_db)
    tasks = Tasks()
    ctl = CompareController(tasks)
    ctl.set_colors(RunColors())
    ctl.set_store(mine)
    ctl.set_frame(mine.runs(attributes=True))
    qtbot.addWidget(ctl.view)
    ctl.view.show()
    ctl.activate()
    ctl.set_peers(lambda: [("server/mlflow.db", other, db_ids[:3])])
    try:
        compared(qtbot, ctl, lambda: ctl.set_runs(folder_ids[:2]))
        comp = compared(qtbot, ctl, menu_action(ctl.view, "Add the 3 runs").trigger)
        assert len(comp.columns) == 5
        # a run of the other store is purged while the view is open
        MlflowClient(f"sqlite:///{other_db}").delete_run(db_ids[1])
        with sqlite3.connect(other_db) as con:
            for table in ("params", "metrics", "latest_metrics", "tags"):
                con.execute(f"DELETE FROM {table} WHERE run_uuid = ?", (db_ids[1],))
            con.execute("DELETE FROM runs WHERE run_uuid = ?", (db_ids[1],))
        other.refresh()
        messages = []
        ctl.statusMessage.connect(messages.append)
        comp = compared(qtbot, ctl, ctl.refresh)
        assert [c.run_id for c in comp.columns] == folder_ids[:2] + [db_ids[0], db_ids[2]]
        note = "1 run of server/mlflow.db is no longer in that store"
        assert note in ctl.view.summary.text()
        assert messages == [note[:1].upper() + note[1:]]
        # the file goes (moved, unmounted): its runs cannot be read; this store's still are
        other.close()
        other_db.unlink()
        other.refresh()
        comp = compared(qtbot, ctl, ctl.refresh)
        assert [c.run_id for c in comp.columns] == folder_ids[:2]
        assert "the runs of server/mlflow.db could not be read: " in ctl.view.summary.text()
        assert f"Cannot open {other_db}" in ctl.view.summary.toolTip()  # the path named
        assert ctl.view.table.isVisible() and ctl.view.model.rowCount() > 0
    finally:
        tasks.cancel_all()
        mine.close()
