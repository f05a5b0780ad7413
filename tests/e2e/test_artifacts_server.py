"""Artifacts that are not on this disk: a real `mlflow server --serve-artifacts` on 127.0.0.1
(``mlflow-artifacts:`` URIs), moto's S3 server on 127.0.0.1 for ``s3://`` roots (as MLflow's
own tests use it), and crafted stores that name an artifact ``../../evil``."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from mlflow_stores import free_port
from mlscope.core import Cancelled, open_store
from mlscope.core.artifacts import ArtifactError, Resolved, Source

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from artifact_stores import build_artifact_runs  # noqa: E402

pytestmark = pytest.mark.slow


def _wait(url: str, proc, log: Path, path: str = "/health") -> None:
    deadline = time.monotonic() + 300  # a loaded machine starts MLflow slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("server exited: " + log.read_text()[-2000:])
        try:
            requests.get(url + path, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    pytest.fail("server did not start: " + log.read_text()[-2000:])


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("artserver")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = base / "server.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{base / 'mlflow.db'}", "--serve-artifacts",
         "--artifacts-destination", str(base / "mlartifacts"), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, cwd=base)
    _wait(url, proc, log_path)
    ids = build_artifact_runs(url, base / "work", n_compare=2, autolog=False)
    yield url, ids, base
    _stop(proc)
    log.close()


def test_server_artifacts_list_and_download(server, tmp_path):
    url, ids, base = server
    from mlflow.tracking import MlflowClient

    store = open_store(url)
    rid = ids["kinds"]
    src = Source.for_run(store, rid)
    assert src.resolved.uri.startswith("mlflow-artifacts:") and src.local is None
    client = MlflowClient(url)
    assert sorted(e.path for e in src.list("tables")) == sorted(
        f.path for f in client.list_artifacts(rid, "tables"))
    seen = []
    got = src.fetch("tables/predictions.csv", size=None, progress=lambda d, t: seen.append(d))
    ref = Path(client.download_artifacts(rid, "tables/predictions.csv", str(tmp_path)))
    assert got.read_bytes() == ref.read_bytes()
    from mlscope.core.paths import cache_dir

    assert got.is_relative_to(cache_dir()) and not got.is_relative_to(base)
    assert seen, "progress was reported"
    # A folder, downloaded whole, then Save as elsewhere.
    folder = src.fetch("images", is_dir=True)
    assert (folder / "flat.png").is_file()
    saved = src.save("tables", tmp_path / "out", is_dir=True)
    assert sorted(p.name for p in saved.iterdir()) == sorted(
        e.name for e in src.list("tables"))


def test_server_download_cancel_leaves_nothing(server, tmp_path):
    url, ids, _ = server
    src = Source.for_run(open_store(url), ids["kinds"])
    with pytest.raises(Cancelled):
        src.save("tables", tmp_path, is_dir=True, cancel=lambda: True)
    time.sleep(1.0)
    assert not any(p.name == "tables" for p in tmp_path.iterdir())


def test_server_artifacts_in_the_view(qtbot, server, tmp_path):
    """Drag out of a remote tree: first a download (with progress), then real file URLs."""
    from mlscope.ui.controllers.artifacts import ArtifactsController
    from mlscope.ui.settings import Settings
    from mlscope.ui.tasks import Tasks

    settings = Settings(tmp_path / "settings.json")
    url, ids, _ = server
    tasks = Tasks()
    c = ArtifactsController(tasks, open_store(url), settings)
    qtbot.addWidget(c.view)
    c.view.show()
    with qtbot.waitSignal(c.treeShown, timeout=60_000):
        c.set_runs([ids["kinds"]])
    with qtbot.waitSignal(c.previewShown, timeout=30_000) as blocker:
        c.select("report.json")
    assert blocker.args[0] == "json"
    m = c.view.model
    assert m.mimeData([m.index_of("notes.md")]) is None  # not local yet: the tree fetches it
    with qtbot.waitSignal(c.treeShown, timeout=60_000):
        c.set_runs([ids["bad"]])
    c.view.tree.expand(m.index_of("bad"))
    for name in ("bomb.png", "broken.csv", "half.png", "empty.parquet"):
        with qtbot.waitSignal(c.previewShown, timeout=30_000) as blocker:
            c.select(f"bad/{name}")
        assert blocker.args[0] == "error", name
    tasks.shutdown()


# -- drag out of a remote tree, one gesture ---------------------------------------------------
@pytest.fixture
def remote_view(qtbot, server, tmp_path, monkeypatch):
    """The artifact view of the server's 'kinds' run, with a cache of this test's own and a
    preview limit so small that selecting a file downloads nothing."""
    from mlscope.ui.controllers.artifacts import ArtifactsController
    from mlscope.ui.settings import Settings
    from mlscope.ui.tasks import Tasks

    monkeypatch.setenv("MLSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings(tmp_path / "settings.json")
    settings.set("artifact_preview_limit_mb", 0.00001)
    url, ids, _ = server
    tasks = Tasks()
    c = ArtifactsController(tasks, open_store(url), settings)
    qtbot.addWidget(c.view)
    c.view.resize(1000, 700)
    c.view.show()
    qtbot.waitExposed(c.view)
    with qtbot.waitSignal(c.treeShown, timeout=60_000):
        c.set_runs([ids["kinds"]])
    yield c, ids
    tasks.shutdown()


def _press_and_drag(qtbot, c, paths, before_move=None):
    """A real gesture on the tree: click the rows (Ctrl for more), press on the first and
    move past the drag distance with the button held; returns what was dragged (or None)."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    tree, m = c.view.tree, c.view.model
    vp = tree.viewport()
    rects = [tree.visualRect(m.index_of(p)) for p in paths]
    for i, r in enumerate(rects):
        QTest.mouseClick(vp, Qt.LeftButton, Qt.ControlModifier if i else Qt.NoModifier,
                         r.center())
    assert {e.path for e in tree.drag_entries()} == set(paths)
    started = []
    tree.dragStarted.connect(started.append)
    start = rects[0].center()
    QTest.mousePress(vp, Qt.LeftButton, Qt.ControlModifier if len(paths) > 1
                     else Qt.NoModifier, start)
    if before_move is not None:
        before_move()
    step = QApplication.startDragDistance() + 5
    QTest.mouseMove(vp, start + QPoint(step, step))  # the drag (and its wait) runs in here
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, start + QPoint(step, step))
    return started[0] if started else None


def test_drag_remote_in_one_gesture(qtbot, remote_view, tmp_path):
    """Press on remote entries and move: they download (progress dialog), then the drag
    starts at once, carrying file URLs of files with the server's bytes."""
    from mlflow.tracking import MlflowClient

    c, ids = remote_view
    cache = tmp_path / "cache"
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))
    mime = _press_and_drag(qtbot, c, ["notes.md", "tables"])
    assert mime is not None and mime.hasUrls()
    files = [Path(u.toLocalFile()) for u in mime.urls()]
    assert [f.name for f in files] == ["notes.md", "tables"]
    assert all(f.is_relative_to(cache) for f in files)
    ref = Path(MlflowClient(c.store.uri).download_artifacts(ids["kinds"], "", str(tmp_path /
                                                                               "ref")))
    assert files[0].read_bytes() == (ref / "notes.md").read_bytes()
    got = sorted(p.relative_to(files[1]).as_posix() for p in files[1].rglob("*"))
    assert got == sorted(p.relative_to(ref / "tables").as_posix()
                         for p in (ref / "tables").rglob("*"))
    for name in got:
        assert (files[1] / name).read_bytes() == (ref / "tables" / name).read_bytes()
    # Local now: the next drag starts at once, no download asked.
    asked = []
    c.view.tree.downloadForDrag.connect(asked.append)
    assert _press_and_drag(qtbot, c, ["notes.md"]) is not None and not asked


def test_drag_remote_cancel_leaves_nothing(qtbot, remote_view, tmp_path):
    """Cancel in the drag's progress dialog: no drag, no file (partial or whole) in the
    cache once MLflow's download thread has ended, and the GUI answered throughout."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QPushButton

    c, _ids = remote_view
    tree = c.view.tree
    shown = []

    def cancel_soon():
        def click():
            shown.append(tree.dialog is not None)
            if tree.dialog is not None:
                tree.dialog.findChild(QPushButton).click()  # its Cancel button
        QTimer.singleShot(0, click)

    mime = _press_and_drag(qtbot, c, ["tables"], before_move=cancel_soon)
    assert shown == [True] and mime is None
    assert c.tasks.pool.waitForDone(60_000)  # the worker has ended (noticed the cancel)
    cache = tmp_path / "cache"
    qtbot.waitUntil(lambda: not cache.exists() or not any(
        p.name.startswith(".mlscope-part-") for p in cache.rglob("*")), timeout=30_000)
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]
    assert tree.model().missing(tree.drag_entries())  # still remote: nothing was kept


# -- s3:// through moto's server ---------------------------------------------------------------
@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    pytest.importorskip("boto3")
    pytest.importorskip("moto")
    base = tmp_path_factory.mktemp("s3")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = base / "moto.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=log, stderr=subprocess.STDOUT)
    _wait(endpoint, proc, log_path, "/")
    env = {"MLFLOW_S3_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="mlscope")
    yield endpoint, client, base
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    _stop(proc)
    log.close()


def test_s3_artifact_root(s3, tmp_path):
    endpoint, client, base = s3
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{base / 'mlflow.db'}"
    mc = MlflowClient(uri)
    exp = mc.create_experiment("s3", artifact_location="s3://mlscope/exp")
    run = mc.create_run(exp).info.run_id
    (tmp_path / "a.txt").write_text("hello s3")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.json").write_text('{"k": 1}')
    mc.log_artifact(run, str(tmp_path / "a.txt"))
    mc.log_artifacts(run, str(tmp_path / "d"), "d")
    store = open_store(base / "mlflow.db")
    src = Source.for_run(store, run)
    assert src.resolved.uri.startswith("s3://mlscope/exp/") and src.local is None
    entries = {e.path: e for e in src.list()}
    assert set(entries) == {"a.txt", "d"} and entries["d"].is_dir
    assert sorted(f.path for f in mc.list_artifacts(run)) == sorted(entries)
    assert src.fetch("a.txt", size=entries["a.txt"].size).read_text() == "hello s3"
    assert json.loads(src.fetch("d/b.json").read_text()) == {"k": 1}

    # A crafted bucket: a key that climbs out of the run's folder.
    prefix = src.resolved.uri[len("s3://mlscope/"):]
    client.put_object(Bucket="mlscope", Key=f"{prefix}/d/../../../evil", Body=b"evil")
    target = tmp_path / "target" / "inner"
    target.mkdir(parents=True)
    try:
        listed = src.list("d")
    except ArtifactError:
        listed = []
    for e in listed:
        with pytest.raises(ArtifactError):
            if ".." in e.path:
                src.save(e.path, target)
                src.fetch(e.path)
            else:
                raise ArtifactError("fine")
    with pytest.raises(ArtifactError):
        src.save("d", target, is_dir=True)
    _nothing_outside(tmp_path, target)


def _nothing_outside(root: Path, target: Path) -> None:
    """No file named evil anywhere under ``root`` or the cache, none outside ``target``."""
    from mlscope.core.paths import cache_dir

    for where in (root, cache_dir(), root.parent):
        hits = [p for p in Path(where).rglob("evil*") if p.is_file()]
        assert not hits, hits
    for p in target.rglob("*"):
        assert p.resolve().is_relative_to(target.resolve())


# -- a crafted tracking server ---------------------------------------------------------------
class _Crafted(http.server.BaseHTTPRequestHandler):
    """Answers MLflow's artifact API with names that climb out, and bytes for any path."""

    def do_GET(self):  # noqa: N802
        if "/mlflow-artifacts/artifacts" in self.path and "?" in self.path:
            body = json.dumps({"files": [
                {"path": "../../evil", "is_dir": False, "file_size": 4},
                {"path": "ok.txt", "is_dir": False, "file_size": 2}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        elif self.path.startswith("/api/2.0/mlflow-artifacts/artifacts/"):
            body = b"evil"
            self.send_response(200)
        else:
            body = b"{}"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_crafted_server_cannot_write_outside(tmp_path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Crafted)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        src = Source(Resolved("mlflow-artifacts:/1/run/artifacts",
                              "mlflow-artifacts:/1/run/artifacts", None, True), "crafted", url)
        target = tmp_path / "a" / "b" / "target"
        target.mkdir(parents=True)
        try:
            entries = src.list()
        except ArtifactError as exc:  # MLflow's own check refuses the listing
            assert "evil" in str(exc) or "Invalid path" in str(exc) or "list" in str(exc)
            entries = []
        for e in entries:
            if ".." in e.path:
                with pytest.raises(ArtifactError):
                    src.fetch(e.path)
                with pytest.raises(ArtifactError):
                    src.save(e.path, target)
        for path in ("../../evil", "sub/../../../evil", "/tmp/evil", "C:/evil"):
            with pytest.raises(ArtifactError):
                src.save(path, target)
            with pytest.raises(ArtifactError):
                src.fetch(path)
        with pytest.raises(ArtifactError):
            src.save("", target, is_dir=True)
        _nothing_outside(tmp_path, target)
    finally:
        httpd.shutdown()
