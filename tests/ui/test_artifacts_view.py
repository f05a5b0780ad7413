"""The artifact view on real runs logged by MLflow's client: tree, each viewer, bad files,
side by side, drag out (real QMimeData with file URLs) and drag in (real drop events)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QLabel, QToolButton

from mlscope.core import open_store
from mlscope.ui.controllers.artifacts import ArtifactsController
from mlscope.ui.tasks import Tasks

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from artifact_stores import build_artifact_runs  # noqa: E402


@pytest.fixture(scope="module")
def art_store(tmp_path_factory):
    base = tmp_path_factory.mktemp("artui")
    root = base / "proj" / "mlruns"
    ids = build_artifact_runs(str(root), base / "work", n_compare=4)
    return root, ids, base


@pytest.fixture
def ctrl(qtbot, art_store, settings):
    root, ids, _ = art_store
    tasks = Tasks()
    c = ArtifactsController(tasks, open_store(root), settings)
    qtbot.addWidget(c.view)
    c.view.resize(1200, 800)
    c.view.show()
    yield c
    tasks.shutdown()


def open_run(qtbot, c, run_id):
    with qtbot.waitSignal(c.treeShown, timeout=60_000):
        c.set_runs([run_id])
    return c


def show(qtbot, c, path, kind=None, timeout=30_000):
    with qtbot.waitSignal(c.previewShown, timeout=timeout) as blocker:
        c.select(path)
    if kind is not None:
        assert blocker.args[0] == kind, (path, blocker.args, c.view.viewers.info.details.text())
    return blocker.args[0]


def test_tree_lists_lazily_with_sizes(qtbot, ctrl, art_store):
    _, ids, _ = art_store
    open_run(qtbot, ctrl, ids["kinds"])
    m = ctrl.view.model
    top = [m.entry(m.index(i, 0)).path for i in range(m.rowCount())]
    assert "tables" in top and "report.json" in top and "@models" in top
    idx = m.index_of("tables")
    assert m.rowCount(idx) == 0 and m.canFetchMore(idx)
    ctrl.view.tree.expand(idx)
    qtbot.waitUntil(lambda: m.rowCount(m.index_of("tables")) == 4, timeout=20_000)
    size = m.data(m.index(0, 1, m.index_of("tables")))
    assert size.endswith(("KB", "B"))


@pytest.mark.parametrize("path,kind,widget", [
    ("report.json", "json", "json"),
    ("notes.md", "markdown", "markdown"),
    ("code/train.py", "text", "text"),
    ("report.html", "html", "html_page"),
    ("estimator.html", "html", "html_page"),
    ("images/flat.png", "image", "image"),
    ("training_confusion_matrix.png", "image", "image"),
    ("tables/predictions.csv", "table", "table"),
    ("tables/predictions.parquet", "table", "table"),
    ("tables/logged_table.json", "table", "table"),
    ("model", "model", "model"),
    ("model/MLmodel", "text", "text"),
    ("weights.bin", "info", "info"),
])
def test_each_viewer(qtbot, ctrl, art_store, path, kind, widget):
    _, ids, _ = art_store
    open_run(qtbot, ctrl, ids["kinds"])
    show(qtbot, ctrl, path, kind)
    viewers = ctrl.view.viewers
    assert viewers.currentWidget() is getattr(viewers, widget)
    if kind == "html":
        assert viewers.html.blocked == 0 or path == "report.html"
        assert "document.title" not in viewers.html.toPlainText()
    if path == "report.html":
        assert viewers.html.blocked >= 1  # the page's <img src=http://...> was refused
    if kind == "image":
        assert not viewers.image.item.pixmap().isNull()
    if path == "model":
        sig = viewers.model.signature
        assert sig.rowCount() >= 5 and sig.item(0, 1).text() == "sepal length (cm)"
        assert viewers.model.example.rowCount() == 3


def test_table_more_rows_on_scroll_and_total(qtbot, ctrl, art_store):
    _, ids, _ = art_store
    open_run(qtbot, ctrl, ids["kinds"])
    show(qtbot, ctrl, "tables/predictions.csv", "table")
    table = ctrl.view.viewers.table
    assert table.model.rowCount() == 500
    qtbot.waitUntil(lambda: table.total == 1000, timeout=10_000)
    table.table.scrollToBottom()
    qtbot.waitUntil(lambda: table.model.rowCount() == 1000, timeout=10_000)
    table.table.sortByColumn(0, Qt.DescendingOrder)
    assert table.model.data(table.model.index(0, 0)) == "999"


@pytest.mark.parametrize("name,words", [
    ("half.png", "could not be decoded"),
    ("broken.csv", "broken.csv"),
    ("empty.parquet", "empty"),
    ("bomb.png", "megapixels"),
])
def test_bad_files_shown_as_such(qtbot, ctrl, art_store, name, words):
    _, ids, _ = art_store
    open_run(qtbot, ctrl, ids["bad"])
    ctrl.view.tree.expand(ctrl.view.model.index_of("bad"))
    show(qtbot, ctrl, f"bad/{name}", "error", timeout=20_000)
    viewers = ctrl.view.viewers
    assert viewers.currentWidget() is viewers.info
    assert words in viewers.info.details.text()
    assert ctrl.view.isVisible()  # and the GUI thread kept answering (the wait above)


def test_big_file_waits_until_asked(qtbot, ctrl, art_store, settings):
    _, ids, _ = art_store
    settings.set("artifact_preview_limit_mb", 0.00001)  # 10 bytes
    open_run(qtbot, ctrl, ids["kinds"])
    show(qtbot, ctrl, "report.json", "info")
    assert ctrl.view.viewers.info.preview_button.isVisibleTo(ctrl.view.viewers.info)
    with qtbot.waitSignal(ctrl.previewShown, timeout=10_000) as blocker:
        ctrl.view.viewers.info.preview_button.click()
    assert blocker.args[0] == "json"
    assert ctrl.view.limit.value() == 50  # the spin box shows the setting when built
    ctrl.view.limit.setValue(7)  # and writes it
    assert settings.get("artifact_preview_limit_mb") == 7


def test_side_by_side(qtbot, ctrl, art_store):
    _, ids, _ = art_store
    runs = ids["compare"]
    ctrl.set_frame(ctrl.store.runs(attributes=True))  # locations and names from the frame
    open_run(qtbot, ctrl, runs[0])
    ctrl.set_runs(runs)
    assert ctrl.view.compare_button.isVisibleTo(ctrl.view)
    show(qtbot, ctrl, "confusion_matrix.png", "image")
    with qtbot.waitSignal(ctrl.previewShown, timeout=30_000) as blocker:
        ctrl.view.compare_button.setChecked(True)
    assert blocker.args[0] == "compare"
    assert len(ctrl.view.grid.cells) == 4
    titles = [c.findChild(QLabel).text() for c in ctrl.view.grid.cells]
    assert "compare-1" in titles[1]
    for cell in ctrl.view.grid.cells:  # an image in every run's cell
        assert any(not lab.pixmap().isNull() for lab in cell.findChildren(QLabel))
    with qtbot.waitSignal(ctrl.previewShown, timeout=30_000):
        ctrl.select("metrics.txt")
    from PySide6.QtWidgets import QTextBrowser

    texts = [c.findChild(QTextBrowser).toPlainText() for c in ctrl.view.grid.cells]
    assert "accuracy: 0.90" in texts[0]  # the baseline in full
    assert "+accuracy: 0.91" in texts[1] and "-accuracy: 0.90" in texts[1]  # a diff against it


def test_drag_out_carries_files_with_the_right_bytes(qtbot, ctrl, art_store):
    root, ids, _ = art_store
    open_run(qtbot, ctrl, ids["kinds"])
    m = ctrl.view.model
    mime = m.mimeData([m.index_of("report.json"), m.index_of("images")])
    assert isinstance(mime, QMimeData) and mime.hasUrls()
    files = [Path(u.toLocalFile()) for u in mime.urls()]
    assert all(f.exists() for f in files)
    src = next(root.rglob("report.json"))
    assert files[0].read_bytes() == src.read_bytes()
    assert (files[1] / "flat.png").is_file()


def test_copy_uri_and_path(qtbot, ctrl, art_store):
    _, ids, _ = art_store
    open_run(qtbot, ctrl, ids["kinds"])
    e = next(ctrl.view.model.entry(ctrl.view.model.index(i, 0))
             for i in range(ctrl.view.model.rowCount())
             if ctrl.view.model.entry(ctrl.view.model.index(i, 0)).path == "report.json")
    ctrl._action("copy_uri", e)
    assert QApplication.clipboard().text().endswith("/artifacts/report.json")
    ctrl._action("copy_path", e)
    assert Path(QApplication.clipboard().text()).is_file()


def test_save_as(qtbot, ctrl, art_store, tmp_path):
    _, ids, _ = art_store
    open_run(qtbot, ctrl, ids["kinds"])
    from mlscope.core.artifacts import Entry

    with qtbot.waitSignal(ctrl.statusMessage, timeout=20_000) as blocker:
        ctrl._save(Entry("tables", True), str(tmp_path))
    assert "Saved" in blocker.args[0]
    assert (tmp_path / "tables" / "predictions.csv").is_file()


def test_missing_location_says_so(qtbot, settings, built):
    tasks = Tasks()
    c = ArtifactsController(tasks, open_store(built["git"]), settings)
    qtbot.addWidget(c.view)
    c.view.show()
    c.set_runs([built["ids"]["parent"]])
    qtbot.waitUntil(lambda: "does not exist here" in c.view.message.text()
                    or c.view.stack.currentWidget() is c.view.splitter, timeout=30_000)
    tasks.shutdown()


def _drop(widget, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(widget.rect().center())
    event = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    widget.dropEvent(event)
    return event


def test_drop_files_open_viewers_and_stores_open_pages(qtbot, window, art_store):
    root, ids, base = art_store
    csv = base / "work" / "predictions.csv"
    _drop(window, [csv])
    qtbot.waitUntil(lambda: bool(getattr(window, "artifact_windows", [])), timeout=10_000)
    art = window.artifact_windows[-1]
    qtbot.waitUntil(lambda: art.view.viewers.currentWidget() is art.view.viewers.table,
                    timeout=30_000)
    assert art.view.viewers.table.model.rowCount() == 500
    assert not window.pages()
    # An MLmodel folder: the model summary.
    _drop(window, [base / "work" / "model"])
    qtbot.waitUntil(lambda: len(window.artifact_windows) == 2, timeout=10_000)
    art2 = window.artifact_windows[-1]
    art2.controller.select("MLmodel")
    # The store: a page, as before.
    _drop(window, [root])
    qtbot.waitUntil(lambda: len(window.pages()) == 1, timeout=10_000)
    assert QPoint(0, 0) is not None


def test_in_the_store_page(qtbot, open_store_page, art_store, fresh_cache):
    """Wired into the page: a hidden tab reads nothing; shown, it has the selected runs."""
    root, ids, _ = art_store
    page = open_store_page(root)
    ctrl = next(f for f in page.features if isinstance(f, ArtifactsController))
    page.runs.select_runs(ids["compare"][:2], current=ids["compare"][0])
    qtbot.wait(300)
    assert ctrl.source is None  # the Artifacts tab is not shown yet
    with qtbot.waitSignal(ctrl.treeShown, timeout=60_000):
        assert page.show_view("artifacts")
    assert ctrl.run_ids[0] == ids["compare"][0] and len(ctrl.run_ids) == 2
    assert ctrl.view.compare_button.isVisibleTo(ctrl.view)
    assert "compare-0" in ctrl.view.title.text()  # the run's name, from the page's frame


def test_estimator_html_shown_as_its_structure(qtbot, ctrl, art_store):
    """The estimator.html sklearn autologging wrote: the estimator and its parameters, not
    the page's spilled docstrings."""
    _, ids, _ = art_store
    open_run(qtbot, ctrl, ids["kinds"])
    show(qtbot, ctrl, "estimator.html", "html")
    text = ctrl.view.viewers.html.toPlainText()
    assert "LogisticRegression" in text and "max_iter=300" in text
    assert "coef_ ndarray[float64](3, 4)" in text or "coef_" not in Path(
        ctrl.source.fetch("estimator.html")).read_text()  # fitted attributes (sklearn 1.8+)
    assert "Documentation for" not in text and "In a Jupyter environment" not in text
    assert len(text) < 3000


class _Counter:
    """A real HTTP server on 127.0.0.1 that counts every request it gets."""

    def __init__(self):
        import http.server
        import threading

        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_html_runs_nothing_and_requests_nothing(qtbot, settings, tmp_path, monkeypatch):
    """A page with scripts, remote images, styles and frames: shown without one request or
    one script; the system browser gets a cleaned copy in the cache, never the file."""
    from PySide6.QtCore import QObject, QUrl, Slot
    from PySide6.QtGui import QDesktopServices

    monkeypatch.setenv("MLSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    server = _Counter()
    u = server.url
    page = tmp_path / "drop" / "report.html"
    page.parent.mkdir()
    page.write_text(
        f"<html><head><link rel=stylesheet href='{u}/c.css'><script src='{u}/s.js'></script>"
        f"</head><body><h1>Report</h1><script>document.write('SCRIPT-RAN')</script>"
        f"<img src='{u}/p.png'><iframe src='{u}/frame'></iframe>"
        f"<p style=\"background:url('{u}/bg.png')\" onclick='alert(1)'>body text</p>"
        f"<a href='javascript:alert(2)'>link</a></body></html>")
    tasks = Tasks()
    c = ArtifactsController(tasks, settings=settings)
    qtbot.addWidget(c.view)
    c.view.show()
    try:
        with qtbot.waitSignal(c.previewShown, timeout=30_000) as blocker:
            c.open_paths([page])
        assert blocker.args == ["html"]
        browser = c.view.viewers.html
        qtbot.wait(500)  # time for anything the page could start
        text = browser.toPlainText()
        assert "Report" in text and "body text" in text and "SCRIPT-RAN" not in text
        assert browser.blocked >= 1
        assert server.hits == []

        class Catch(QObject):
            urls: list = []

            @Slot(QUrl)
            def open(self, url):
                self.urls.append(url)

        catch = Catch()
        QDesktopServices.setUrlHandler("file", catch, "open")
        try:
            c.view.viewers.html_page.findChild(QToolButton, "browserButton").click()
            qtbot.waitUntil(lambda: bool(catch.urls), timeout=20_000)
        finally:
            QDesktopServices.unsetUrlHandler("file")
        opened = Path(catch.urls[0].toLocalFile())
        assert opened != page and opened.is_relative_to(tmp_path / "cache")
        copy = opened.read_text()
        assert "<script" not in copy and "javascript:" not in copy and "onclick" not in copy
        assert "default-src 'none'" in copy
        assert server.hits == []
    finally:
        tasks.shutdown()
        server.httpd.shutdown()
