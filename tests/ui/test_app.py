"""Drive the app as a user would: open stores of each kind, sort, filter, select, drag, cancel."""

from __future__ import annotations

import shutil
import sqlite3
import time

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from conftest import wait_loaded
from mlscope.core import open_store
from mlscope.ui.models import RUN_ID_ROLE, SORT_ROLE


def shown_ids(page):
    """Every run the table shows, with all parents opened."""
    m = page.runs.model
    m.set_all_expanded(True)
    return [m.index(r, 0).data(RUN_ID_ROLE) for r in range(m.rowCount())]


def expected_ids(target, experiment_id, filter_string=""):
    store = open_store(target)
    return set(store.runs([experiment_id], filter_string)["run_id"])


def click_row(qtbot, page, run_id, modifier=Qt.NoModifier):
    view = page.runs.view
    idx = page.runs.model.index_of(run_id, 1)
    view.scrollTo(idx)
    rect = view.visualRect(idx)
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, modifier, rect.center())


# -- opening each kind of store ---------------------------------------------------------------

def test_welcome_page_lists_recent_stores(window, settings):
    assert window.stack.currentWidget() is window.welcome
    settings.add_recent("/some/where/mlruns")
    window._refresh_recent()
    assert window.welcome.recent_list.count() == 1
    assert window.recent_menu.actions()[0].text() == "/some/where/mlruns"


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_open_store_shows_experiment_runs_as_tree(kind, built, open_store_page, window, qtbot):
    ids = built["ids"] if kind == "file" else built["sql_ids"]
    page = open_store_page(built[kind], "alpha")
    assert page.stack.currentWidget() is page.split
    assert page.experiments.selected_ids() == [ids["alpha"]]
    want = expected_ids(built[kind], ids["alpha"])
    assert set(shown_ids(page)) == want
    assert page.runs.count_label.text() == f"{len(want)} runs"
    m = page.runs.model
    assert sorted(m.children_of(ids["parent"])) == sorted(ids["children"])
    assert m.depth_of(ids["children"][0]) == 1  # under their parent
    assert m.index_of(ids["children"][0]).row() > m.index_of(ids["parent"]).row()
    assert window.tabs.count() == 1 and window.stack.currentWidget() is window.tabs
    assert str(built[kind]) in window.settings.recent()
    # Run counts per experiment arrive after the table.
    qtbot.waitUntil(lambda: bool(page.experiments.model.counts), timeout=30000)


def test_open_a_folder_inside_a_run_selects_it(built, qtbot, window):
    ids = built["ids"]
    run_dir = built["file"] / ids["alpha"] / ids["children"][1]
    page = wait_loaded(qtbot, window.open_target(str(run_dir)))
    qtbot.waitUntil(lambda: page.runs.current_run_id() == ids["children"][1], timeout=5000)
    qtbot.waitUntil(lambda: page.detail.run_id == ids["children"][1], timeout=5000)


@pytest.mark.parametrize("name, experiment", [
    ("kuto5046__kaggle-rainforest", None),  # mlruns, nested param keys, no artifacts/ dirs
    ("MadanManav__MLFlow_tutorial_with_hyperopt", None),  # oldest SQLite schema, 100 runs
    ("afonsosousah__MLOPS-Project", None),  # WAL-mode SQLite with 60 child runs
])
def test_open_real_corpus_store(name, experiment, corpus_copy, qtbot, window):
    root = corpus_copy(name)
    page = wait_loaded(qtbot, window.open_target(str(root), experiment))
    assert page.stack.currentWidget() is page.split, page.error_page.message.text()
    page.experiments.view_combo.setCurrentIndex(2)  # All: some of these are in the trash
    qtbot.waitUntil(lambda: not page.is_loading() and page.experiments.model.rowCount() > 0)
    # The experiment with the most runs.
    store = open_store(root)
    runs = store.runs(None, view="all")
    best = runs["experiment_id"].value_counts().index[0]
    page.experiments.select([best])
    qtbot.waitUntil(lambda: not page.is_loading() and page.runs.model.total_runs() > 0, timeout=30000)
    assert page.runs.model.total_runs() == int((runs["experiment_id"] == best).sum())


# -- sort, filter, search ------------------------------------------------------------------------

def test_sort_by_clicking_a_header(built, qtbot, open_store_page):
    page = open_store_page(built["file"], "alpha")
    view = page.runs.view
    page.runs.set_columns(["status", "run_name", "metrics.rmse"])
    header = view.header()
    x = header.sectionViewportPosition(2) + header.sectionSize(2) // 2
    qtbot.mouseClick(header.viewport(), Qt.LeftButton, pos=QPoint(x, header.height() // 2))
    m = page.runs.model
    first = [m.index(r, 2).data(SORT_ROLE) for r in range(m.rowCount())]
    present = [v for v in first if v is not None]
    qtbot.mouseClick(header.viewport(), Qt.LeftButton, pos=QPoint(x, header.height() // 2))
    second = [m.index(r, 2).data(SORT_ROLE) for r in range(m.rowCount())]
    present2 = [v for v in second if v is not None]
    assert len(present) >= 3
    assert present == sorted(present) and present != present[::-1]  # first click: ascending
    assert present2 == sorted(present, reverse=True)  # second click: descending
    assert first[len(present):] == [None] * (len(first) - len(present))  # missing last
    assert second[len(present2):] == [None] * (len(second) - len(present2))


def test_filter_good_syntax_then_bad_syntax_inline(built, qtbot, open_store_page):
    ids = built["ids"]
    page = open_store_page(built["file"], "alpha")
    before = set(shown_ids(page))
    box = page.runs.filter_edit
    box.setFocus()
    qtbot.keyClicks(box, "metrics.rmse < 0.5")
    with qtbot.waitSignal(page.runsLoaded, timeout=30000):
        qtbot.keyClick(box, Qt.Key_Return)
    want = expected_ids(built["file"], ids["alpha"], "metrics.rmse < 0.5")
    assert set(shown_ids(page)) == want and want < before
    assert "of" not in page.runs.count_label.text()
    assert page.runs.error_label.isHidden()

    box.clear()
    qtbot.waitUntil(lambda: set(shown_ids(page)) == before, timeout=30000)
    qtbot.keyClicks(box, "metrics.rmse <<< oops")
    qtbot.keyClick(box, Qt.Key_Return)
    qtbot.waitUntil(lambda: page.runs.error_label.isVisible(), timeout=30000)
    assert "Invalid filter" in page.runs.error_label.text()
    assert box.property("error") is True
    assert set(shown_ids(page)) == before  # the table is left as it was
    box.clear()
    qtbot.waitUntil(lambda: page.runs.error_label.isHidden())


def test_quick_search(built, qtbot, open_store_page):
    page = open_store_page(built["file"], "alpha")
    total = page.runs.model.total_runs()
    qtbot.keyClicks(page.runs.search_edit, "sweep-child")
    qtbot.waitUntil(lambda: page.runs.model.shown_runs() == 2)
    assert page.runs.count_label.text() == f"2 of {total} runs"
    page.runs.search_edit.clear()
    qtbot.waitUntil(lambda: page.runs.model.shown_runs() == total)


# -- selection, detail, copy, keyboard -------------------------------------------------------------

def test_select_run_shows_detail_multi_select_and_copy(built, qtbot, open_store_page):
    ids = built["ids"]
    run = built["ids"]["children"][0]
    page = open_store_page(built["file"], "alpha")
    page.runs.expand_all()
    click_row(qtbot, page, run)
    qtbot.waitUntil(lambda: page.detail.run_id == run)
    qtbot.waitUntil(lambda: "Points" in page.detail.toHtml() and "sweep-child-0" in page.detail.toPlainText())
    text = page.detail.toPlainText()
    assert "alpha" in text and "0.1" in text and "Parent run" in text and "sweep-parent" in text

    click_row(qtbot, page, ids["children"][1], Qt.ControlModifier)
    assert set(page.runs.selected_run_ids()) == set(ids["children"])
    qtbot.waitUntil(lambda: "2 runs selected" in page.detail.toPlainText())
    page.runs.copy_run_ids()
    assert set(QGuiApplication.clipboard().text().split()) == set(ids["children"])
    page.runs.copy_csv()
    csv = QGuiApplication.clipboard().text().splitlines()
    assert csv[0].startswith("run_id,") and len(csv) == 3

    # Keyboard: Down moves the current run, and the detail follows.
    click_row(qtbot, page, run)
    page.runs.view.setFocus()
    qtbot.keyClick(page.runs.view, Qt.Key_Down)
    qtbot.waitUntil(lambda: page.detail.run_id not in (None, run))


def test_parent_detail_links_to_children(built, qtbot, open_store_page):
    ids = built["ids"]
    page = open_store_page(built["file"], "alpha")
    page.select_run(ids["parent"])
    qtbot.waitUntil(lambda: page.detail.run_id == ids["parent"])
    html = page.detail.toHtml()
    assert f"run:{ids['children'][0]}" in html and "Child runs (2)" in page.detail.toPlainText()
    page.detail.anchorClicked.emit(QUrl(f"run:{ids['children'][1]}"))
    qtbot.waitUntil(lambda: page.runs.current_run_id() == ids["children"][1])


def test_description_and_metric_min_max(built, qtbot, open_store_page):
    ids = built["ids"]
    page = open_store_page(built["file"], "alpha")
    r1 = next(r for r in shown_ids(page) if page.runs.model.value(r, "run_name") == "lasso-0.1")
    page.select_run(r1)
    qtbot.waitUntil(lambda: page.detail.run_id == r1 and "Points" in page.detail.toPlainText())
    # rmse over steps 0..4 is 1/(step+1): latest 0.2 (step 4), min 0.2, max 1; train/loss twice that.
    qtbot.waitUntil(lambda: "rmse" in metric_cells(page.detail)
                    and metric_cells(page.detail)["rmse"][1] != "")
    cells = metric_cells(page.detail)
    assert cells["rmse"] == ["0.2", "0.2", "1"]
    assert cells["train/loss"] == ["0.4", "0.4", "2"]
    assert cells["loss"] == ["NaN", "0.3", "0.3"]  # latest NaN; min/max over the numbers
    assert cells["acc"] == ["inf", "inf", "inf"] and cells["neg"] == ["-inf", "-inf", "-inf"]
    text = page.detail.toPlainText()
    assert "DESCRIPTION" in text and "so far" in text
    assert ids  # keeps the fixture honest


def metric_cells(detail) -> dict[str, list[str]]:
    """The run detail's metrics table as the user reads it: {metric: [Latest, Min, Max]},
    cell by cell from the QTextDocument's table (the first line of the name cell)."""
    from PySide6.QtGui import QTextTable

    def text(cell):
        cursor = cell.firstCursorPosition()
        cursor.setPosition(cell.lastCursorPosition().position(), cursor.MoveMode.KeepAnchor)
        return cursor.selectedText().replace("\u200b", "").replace("\u2029", "\n").replace("\u2028", "\n").strip()

    root = detail.document().rootFrame()
    for frame in root.childFrames():
        if isinstance(frame, QTextTable) and text(frame.cellAt(0, 0)) == "Metric":
            assert [text(frame.cellAt(0, c)) for c in range(4)] == ["Metric", "Latest", "Min", "Max"]
            return {text(frame.cellAt(r, 0)).split("\n")[0]: [text(frame.cellAt(r, c)) for c in (1, 2, 3)]
                    for r in range(1, frame.rows())}
    return {}


# -- drag and drop, tabs ---------------------------------------------------------------------------

def test_drag_a_folder_onto_the_window(built, qtbot, window):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(built["file"]))])
    pos = QPointF(200, 200)
    enter = QDragEnterEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, drop)
    assert window.tabs.count() == 1
    page = wait_loaded(qtbot, window.page())
    assert page.runs.model.total_runs() > 0


def test_dragging_plain_text_is_refused(window):
    mime = QMimeData()
    mime.setText("hello")
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_several_stores_in_tabs(built, qtbot, window):
    a = wait_loaded(qtbot, window.open_target(str(built["file"])))
    b = wait_loaded(qtbot, window.open_target(str(built["sqlite"])))
    assert window.tabs.count() == 2 and window.page() is b
    assert window.open_target(str(built["file"])) is a and window.page() is a  # no duplicate
    window.close_tab(0)
    assert window.tabs.count() == 1
    window.close_tab(0)
    assert window.stack.currentWidget() is window.welcome


# -- loading: cancel, event loop, reload, watch ----------------------------------------------------

def test_cancel_a_long_load(big_mlruns, fresh_cache, qtbot, window):
    page = window.open_target(str(big_mlruns))
    qtbot.waitUntil(lambda: page.runs.loading_bar.isVisible() and page.loading.running("runs"),
                    timeout=20000)
    qtbot.mouseClick(page.runs.cancel_button, Qt.LeftButton)
    assert not page.is_loading()
    assert page.runs.loading_bar.isHidden()
    assert "cancelled" in window.status_label.text().lower()
    # The worker stops soon (the core checks cancel()), and the app is usable: F5 loads it all.
    qtbot.waitUntil(lambda: page.tasks.pool.activeThreadCount() == 0, timeout=20000)
    with qtbot.waitSignal(page.runsLoaded, timeout=60000):
        window.reload_action.trigger()
    assert page.runs.model.total_runs() > 2500


def loop_ticks(qtbot, run, interval_ms=20):
    """Gaps between the ticks of a 20 ms timer while ``run(done)`` goes on, and ticks per second.

    ``run`` starts the work and returns a callable saying whether it is done."""
    ticks = []
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    t0 = time.perf_counter()
    done = run()
    qtbot.waitUntil(done, timeout=300_000)
    timer.stop()
    elapsed = time.perf_counter() - t0
    gaps = sorted(b - a for a, b in zip(ticks, ticks[1:], strict=False)) or [elapsed]
    return gaps, len(ticks) / elapsed


def loop_verdict(gaps, rate, idle_gaps, idle_rate):
    """Why the GUI thread counts as blocked, or "" when it kept turning.

    Judged against an idle loop measured in the same test, so a loaded machine (other
    processes taking the 2 cores) raises both sides alike: the 95th percentile of the gaps
    within 3x the idle one (at least 0.4 s: the tests run two at a time, and the other one's
    load comes and goes within this one), at least a third of the idle tick rate, and no
    single gap over 1.5 s (the lead's 2 s block in a slot fails it, whatever the load)."""
    p95, idle_p95 = gaps[int(len(gaps) * 0.95)], idle_gaps[int(len(idle_gaps) * 0.95)]
    if p95 > max(0.4, 3 * idle_p95):
        return f"95th percentile gap {p95:.3f} s against {idle_p95:.3f} s idle"
    if rate < idle_rate / 3:
        return f"{rate:.1f} ticks/s against {idle_rate:.1f} idle"
    if gaps[-1] > 1.5:
        return f"a {gaps[-1]:.2f} s gap (the GUI thread blocked)"
    return ""


@pytest.mark.alone
@pytest.mark.timeout(900)  # its fixtures build two stores; a loaded machine takes minutes
def test_event_loop_keeps_turning_while_a_large_store_loads(big_mlruns, built, fresh_cache, qtbot, window):
    # A small store first: the page's modules are imported on a store's first open (startup
    # cost, measured by benchmarks/bench_startup.py); this test is about the load itself.
    wait_loaded(qtbot, window.open_target(str(built["file"])))
    end = time.perf_counter() + 1.5
    idle_gaps, idle_rate = loop_ticks(qtbot, lambda: lambda: time.perf_counter() > end)
    pages, progress = [], []

    def load():
        pages.append(window.open_target(str(big_mlruns)))
        pages[0].runs.progress.valueChanged.connect(progress.append)
        return lambda: pages[0].runs.model.total_runs() > 0 and not pages[0].is_loading()

    gaps, rate = loop_ticks(qtbot, load)
    assert pages[0].runs.model.total_runs() > 2500
    assert loop_verdict(gaps, rate, idle_gaps, idle_rate) == "", (gaps[-5:], rate, idle_gaps[-5:], idle_rate)
    assert progress, "the progress bar never moved"


def test_a_blocked_gui_thread_fails_the_loop_verdict(qtbot):
    """The verdict above can fail: a slot that holds the GUI thread for 2 s is caught."""
    end = time.perf_counter() + 1.0
    idle_gaps, idle_rate = loop_ticks(qtbot, lambda: lambda: time.perf_counter() > end)

    def block():
        QTimer.singleShot(100, lambda: time.sleep(2.0))  # the deliberate block, in a slot
        stop = time.perf_counter() + 3.0
        return lambda: time.perf_counter() > stop

    gaps, rate = loop_ticks(qtbot, block)
    assert gaps[-1] >= 2.0 and loop_verdict(gaps, rate, idle_gaps, idle_rate) != ""


def test_f5_reload_keeps_selection(built, qtbot, window, open_store_page):
    ids = built["ids"]
    page = open_store_page(built["file"], "alpha")
    page.select_run(ids["parent"])
    with qtbot.waitSignal(page.runsLoaded, timeout=30000):
        window.reload_action.trigger()
    assert page.runs.current_run_id() == ids["parent"]


def test_watch_rereads_while_runs_are_running(built, qtbot, window, open_store_page):
    page = open_store_page(built["file"], "alpha")
    assert page.running_runs() >= 1
    window.watch_action.setChecked(True)
    assert page.watch.timer.isActive()
    with qtbot.waitSignal(page.runsLoaded, timeout=30000):
        page.watch.tick()
    window.watch_action.setChecked(False)
    assert not page.watch.timer.isActive()


# -- broken stores ---------------------------------------------------------------------------------

def test_corrupt_database_shows_an_error_page_not_a_crash(tmp_path, qtbot, window):
    bad = tmp_path / "mlflow.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x13garbage" * 500)
    page = window.open_target(str(bad))
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.error_page, timeout=30000)
    msg = page.error_page.message.text()
    assert str(bad) in msg or "mlflow.db" in msg
    assert "Traceback" not in msg
    assert window.status_label.text()
    page.error_page.closeRequested.emit()
    assert window.tabs.count() == 0


def test_not_a_store(tmp_path, qtbot, window):
    (tmp_path / "empty").mkdir()
    page = window.open_target(str(tmp_path / "empty"))
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.error_page, timeout=30000)
    assert "empty" in page.error_page.message.text()


def test_broken_run_is_listed_in_problems(built, tmp_path, qtbot, window):
    ids = built["ids"]
    root = tmp_path / "mlruns"
    shutil.copytree(built["file"], root)
    (root / ids["alpha"] / ids["empty"] / "meta.yaml").write_bytes(b"run_id: [unclosed\n  - x: {")
    page = wait_loaded(qtbot, window.open_target(str(root), "alpha"))
    assert page.stack.currentWidget() is page.split
    assert page.problems.rowCount() >= 1
    assert window.problems_button.isVisible()
    window.problems_button.click()
    assert page.detail_tabs.currentWidget() is page.problems


def test_sqlite_file_is_not_changed_by_opening(built, tmp_path, qtbot, window):
    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    before = db.read_bytes()
    page = wait_loaded(qtbot, window.open_target(str(db), "alpha"))
    page.select_run(page.runs.model.run_id(page.runs.model.index(0, 0)))
    qtbot.wait(300)
    window.close_tab(0)
    assert db.read_bytes() == before
    con = sqlite3.connect(db)
    con.close()


# -- columns ---------------------------------------------------------------------------------------

def test_columns_hidden_and_reordered_are_remembered_per_experiment(built, qtbot, window, settings):
    from mlscope.ui.main_window import MainWindow

    page = wait_loaded(qtbot, window.open_target(str(built["file"]), "alpha"))
    vis = page.runs.model.visible_columns()
    assert "metrics.rmse" in vis
    page.runs._hide_column("metrics.rmse")
    assert "metrics.rmse" not in page.runs.model.visible_columns()
    # Drag "Duration" to the front through the header.
    h = page.runs.view.header()
    d = page.runs.model.visible_columns().index("duration")
    h.moveSection(d, 0)
    assert page.runs.model.visible_columns()[0] == "duration"
    assert h.logicalIndex(0) == 0  # the header is back to identity

    w2 = MainWindow(settings)
    qtbot.addWidget(w2)
    p2 = wait_loaded(qtbot, w2.open_target(str(built["file"]), "alpha"))
    assert p2.runs.model.visible_columns()[0] == "duration"
    assert "metrics.rmse" not in p2.runs.model.visible_columns()
    p2.runs.columnsResetRequested.emit()
    assert "metrics.rmse" in p2.runs.model.visible_columns()
    p2.shutdown()


def test_column_chooser_dialog(built, qtbot, window, monkeypatch):
    from mlscope.ui.dialogs.columns import ColumnChooser

    page = wait_loaded(qtbot, window.open_target(str(built["file"]), "alpha"))

    def fake_exec(self):
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setCheckState(Qt.Checked if it.data(Qt.UserRole) in ("run_name", "run_id") else Qt.Unchecked)
        return 1

    monkeypatch.setattr(ColumnChooser, "exec", fake_exec)
    page.choose_columns()
    assert page.runs.model.visible_columns() == ["run_name", "run_id"]


def test_experiment_views_active_deleted_all(built, qtbot, open_store_page):
    ids = built["ids"]
    page = open_store_page(built["file"], "alpha")
    assert ids["beta"] not in page.experiments.model.experiment_ids()
    page.experiments.view_combo.setCurrentIndex(1)  # Deleted
    qtbot.waitUntil(lambda: ids["beta"] in page.experiments.model.experiment_ids(), timeout=20000)
    page.experiments.view_combo.setCurrentIndex(2)  # All
    qtbot.waitUntil(lambda: {ids["alpha"], ids["beta"]} <= set(page.experiments.model.experiment_ids()),
                    timeout=20000)
    page.experiments.filter_edit.setText("bet")
    assert page.experiments.proxy.rowCount() == 1


def test_select_two_experiments_adds_experiment_column(built, qtbot, open_store_page):
    ids = built["ids"]
    page = open_store_page(built["file"], "alpha")
    with qtbot.waitSignal(page.runsLoaded, timeout=30000):
        page.experiments.select([ids["alpha"], ids["gamma"]])
    assert "experiment" in page.runs.model.visible_columns()
    assert ids["long"] in shown_ids(page)


# -- menus and dialogs -----------------------------------------------------------------------------

def test_file_menu_open_folder_and_database(built, qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(built["file"]))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(built["sqlite"]), ""))
    window.open_folder_action.trigger()
    window.open_db_action.trigger()
    assert window.tabs.count() == 2
    for page in window.pages():
        wait_loaded(qtbot, page)
        assert page.stack.currentWidget() is page.split
    assert window.settings.get("last_dir") == str(built["sqlite"].parent)


def test_connect_dialog_normalises_url_and_a_dead_server_is_an_error_page(qtbot, window, monkeypatch):
    from mlscope.ui.dialogs.connect import ConnectDialog

    dlg = ConnectDialog(["http://old:5000"])
    qtbot.addWidget(dlg)
    assert dlg.value() == "http://old:5000"
    dlg.url.setCurrentText("localhost:1")
    assert dlg.value() == "http://localhost:1"
    monkeypatch.setattr(ConnectDialog, "exec", lambda self: 1)
    monkeypatch.setattr(ConnectDialog, "value", lambda self: "http://127.0.0.1:9")
    window.connect_action.trigger()
    page = window.page()
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.error_page, timeout=60000)
    assert "127.0.0.1:9" in page.error_page.message.text()


def test_watch_picks_up_a_new_run(built, tmp_path, qtbot, window):
    """A run logged while the window is open appears on the next watch tick."""
    from mlflow.tracking import MlflowClient

    db = tmp_path / "mlflow.db"
    shutil.copy(built["sqlite"], db)
    page = wait_loaded(qtbot, window.open_target(str(db), "alpha"))
    n = page.runs.model.total_runs()
    page.watch.tick()  # records the store's signature; RUNNING runs re-read anyway
    qtbot.waitUntil(lambda: not page.watch.running("check") and not page.is_loading(), timeout=30000)
    client = MlflowClient(f"sqlite:///{db}")
    rid = client.create_run(built["sql_ids"]["alpha"], run_name="new-one").info.run_id
    with qtbot.waitSignal(page.runsLoaded, timeout=30000):
        page.watch.tick()
    assert page.runs.model.total_runs() == n + 1 and page.runs.model.index_of(rid).isValid()


def test_100k_runs_in_the_view_sort_by_header_without_freezing(qtbot):
    """The whole widget, not just the model: a header click on 100,000 rows stays interactive."""
    from test_models import frame

    from mlscope.ui.views.runs import RunsPanel

    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    panel.show()
    big = frame(100_000, seed=2, parents={5: 0, 6: 0})
    # How fast: benchmarks/bench_table.py (time limits live in benchmarks, not tests).
    panel.set_runs(big, {"1": "exp"}, ["run_name", "status", "start_time", "metrics.rmse",
                                      "params.alpha", "params.model"])
    QApplication.processEvents()
    assert panel.count_label.text() == "100,000 runs"
    header = panel.view.header()
    for col in (3, 4, 5, 0):
        x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
        qtbot.mouseClick(header.viewport(), Qt.LeftButton, pos=QPoint(x, header.height() // 2))
        QApplication.processEvents()
    qtbot.keyClicks(panel.search_edit, "lasso")
    qtbot.waitUntil(lambda: "of 100,000" in panel.count_label.text(), timeout=5000)


def test_rows_stream_into_the_table_while_a_large_store_loads(big_mlruns, fresh_cache, qtbot, window,
                                                              monkeypatch):
    from mlscope.core.filestore import FileStore

    streamer = FileStore._streamer
    monkeypatch.setattr(FileStore, "_streamer",
                        staticmethod(lambda *a, **k: streamer(*a, **{**k, "every_s": 0.2})))
    page = window.open_target(str(big_mlruns))
    seen = []
    page.runs.model.modelReset.connect(lambda: seen.append((page.runs.model.total_runs(), page.is_loading())))
    wait_loaded(qtbot, page)
    final = page.runs.model.total_runs()
    assert final > 2900
    assert [n for n, loading in seen if loading and 0 < n < final], seen


def test_watch_grows_the_curves_of_a_running_run(built, tmp_path, qtbot, window):
    """A run still training: the next watch tick adds its new points to the chart."""
    import shutil

    root = tmp_path / "mlruns"
    shutil.copytree(built["file"], root)
    ids = built["ids"]
    page = wait_loaded(qtbot, window.open_target(str(root / ids["alpha"] / ids["running"])))
    qtbot.waitUntil(lambda: page.runs.current_run_id() == ids["running"], timeout=10000)
    assert page.show_view("charts")
    panel = page.charts.panel
    qtbot.waitUntil(lambda: (ids["running"], "rmse") in panel.last_points(), timeout=30000)
    assert panel.last_points()[(ids["running"], "rmse")][0] == 3
    with open(root / ids["alpha"] / ids["running"] / "metrics" / "rmse", "a") as fh:
        fh.write("1700000099999 0.05 7\n")
    page.watch.tick()
    qtbot.waitUntil(lambda: panel.last_points()[(ids["running"], "rmse")][0] == 7, timeout=30000)


def test_panel_borders_are_remembered(built, qtbot, window, settings, open_store_page):
    page = open_store_page(built["file"])
    page.split.setSizes([300, 900, 200])
    page.split.remember()
    saved = settings.get("splitters")["h3"]
    assert saved[0] < saved[1] and saved[2] < saved[0]
    from mlscope.ui.store_page import StorePage

    again = StorePage(str(built["file"]), settings)
    qtbot.addWidget(again)
    again.resize(page.size())
    again.show()
    qtbot.waitExposed(again)
    h = again.split.sizes()
    assert abs(h[0] / sum(h) - saved[0] / sum(saved)) < 0.05, (h, saved)


def _borders(qtbot, settings, target, width: int, height: int) -> list[int]:
    """The three panels' widths of a store page shown at that size."""
    from mlscope.ui.store_page import StorePage

    page = StorePage(str(target), settings)
    qtbot.addWidget(page)
    page.resize(width, height)
    page.show()
    qtbot.waitExposed(page)
    return page.split.sizes()


def test_a_saved_layout_never_squeezes_the_next_store(built, qtbot, settings):
    """Borders dragged to leave the runs a sliver are not carried to the next store."""
    from mlscope.ui.views.panels import SIDE_DEFAULT

    settings.set("splitters", {"h3": [900, 150, 400]})
    h = _borders(qtbot, settings, built["file"], 1400, 800)
    assert h[1] / sum(h) >= 0.5, h
    assert h[1] / sum(h) == pytest.approx(SIDE_DEFAULT[1] / sum(SIDE_DEFAULT), abs=0.05)


def test_a_1280_pixel_window_keeps_the_side_panels_readable(built, qtbot, settings):
    """On a laptop's 1280 pixels the experiments and the run detail keep their default width:
    no view's toolbar (Compare's is 720 pixels, shown without the detail) may squeeze them."""
    from mlscope.ui.views.panels import SIDE_DEFAULT

    h = _borders(qtbot, settings, built["sqlite"], 1270, 760)
    assert h[0] >= SIDE_DEFAULT[0] - 10 and h[2] >= SIDE_DEFAULT[2] - 10, h


def test_project_folder_with_both_kinds_says_so_and_opens_the_other(built, tmp_path, qtbot, window):
    import os
    import shutil
    import time as _time

    shutil.copytree(built["file"], tmp_path / "mlruns")
    shutil.copy(built["sqlite"], tmp_path / "mlflow.db")
    later = _time.time() + 100
    os.utime(tmp_path / "mlflow.db", (later, later))
    page = wait_loaded(qtbot, window.open_target(str(tmp_path)))
    assert page.info_bar.isVisible() and "mlruns" in page.info_bar.text()
    other = str((tmp_path / "mlruns").resolve())
    page.info_bar.linkActivated.emit(other)
    qtbot.waitUntil(lambda: any(p.target == other for p in window.pages()), timeout=10000)


def test_old_schema_database_explains_what_mlflow_would_do(corpus_copy, qtbot, window):
    db = corpus_copy("MadanManav__MLFlow_tutorial_with_hyperopt") / "mlruns.db"
    page = wait_loaded(qtbot, window.open_target(str(db)))
    assert page.info_bar.isVisible() and "mlflow db upgrade" in page.info_bar.text()
