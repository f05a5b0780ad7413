"""One mlscope per user, with real processes: a second launch hands its path to the running
one and exits; a killed instance leaves a socket behind that does not block the next start.
And macOS's QFileOpenEvent opens the file in a tab."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    """Three runs in an mlruns folder written by MLflow's client."""
    from mlflow.tracking import MlflowClient

    root = tmp_path_factory.mktemp("desk") / "mlruns"
    client = MlflowClient(tracking_uri=root.as_uri())
    exp = client.create_experiment("desktop")
    for i in range(3):
        run = client.create_run(exp, run_name=f"run-{i}")
        client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1), step=0)
        client.set_terminated(run.info.run_id)
    return root


@pytest.fixture
def stores(tmp_path, small_store):
    """Two copies of the store (two different targets), and a config folder of this test's."""
    a, b = tmp_path / "a" / "mlruns", tmp_path / "b" / "mlruns"
    shutil.copytree(small_store, a)
    shutil.copytree(small_store, b)
    return a, b


@pytest.fixture
def app_env(tmp_path):
    env = dict(os.environ)
    for name in ("CONFIG", "CACHE", "DATA"):
        env[f"MLSCOPE_{name}_DIR"] = str(tmp_path / name.lower())
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = str(ROOT / "app")
    return env


class App:
    """``python -m mlscope`` in a process of its own, killed at the end of the test."""

    procs: list[subprocess.Popen] = []

    @classmethod
    def start(cls, env, *args, cwd=None) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-m", "mlscope", *map(str, args)], env=env,
                             cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        cls.procs.append(p)
        return p

    @classmethod
    def kill_all(cls) -> None:
        for p in cls.procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)
        cls.procs.clear()


@pytest.fixture(autouse=True)
def _kill_apps():
    yield
    App.kill_all()


def recent(env) -> list[str]:
    """The stores the app opened, newest first (written once a store is open)."""
    try:
        path = Path(env["MLSCOPE_CONFIG_DIR"]) / "settings.json"
        return json.loads(path.read_text())["recent"]
    except (OSError, ValueError, KeyError):
        return []


def wait_for(cond, proc, timeout=90.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"mlscope exited ({proc.returncode}):\n"
                                 + proc.stdout.read().decode(errors="replace"))
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_second_launch_hands_its_path_to_the_running_app(app_env, stores):
    a, b = stores
    first = App.start(app_env, a)
    wait_for(lambda: recent(app_env)[:1] == [str(a)], first)

    t0 = time.monotonic()
    second = App.start(app_env, "mlruns", cwd=b.parent)  # relative: made absolute by the sender
    assert second.wait(30) == 0, second.stdout.read().decode()
    took = time.monotonic() - t0

    wait_for(lambda: recent(app_env)[:2] == [str(b), str(a)], first, timeout=60)
    assert first.poll() is None  # the first one keeps running, now with both stores open
    assert took < 15, f"the second launch took {took:.1f} s to hand over"

    # Without a target, a launch hands over what it would have opened: ./mlruns here.
    c = b.parent.parent / "c" / "mlruns"
    shutil.copytree(b, c)
    third = App.start({k: v for k, v in app_env.items() if k != "MLFLOW_TRACKING_URI"},
                      cwd=c.parent)
    assert third.wait(30) == 0
    wait_for(lambda: recent(app_env)[:1] == [str(c)], first, timeout=60)


def test_a_killed_instance_does_not_block_the_next_start(app_env, stores):
    from mlscope import desktop

    a, b = stores
    first = App.start(app_env, a)
    wait_for(lambda: recent(app_env)[:1] == [str(a)], first)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    name = desktop.server_name(Path(app_env["MLSCOPE_CONFIG_DIR"]))
    sock = Path(name if os.path.isabs(name) else os.path.join(tempfile.gettempdir(), name))
    assert sock.exists(), "the killed instance should have left its socket file behind"

    second = App.start(app_env, b)  # finds the stale socket: nobody answers, it takes over
    wait_for(lambda: recent(app_env)[:1] == [str(b)], second)
    assert second.poll() is None

    third = App.start(app_env, a)  # ...and the new instance is the one that answers now
    assert third.wait(30) == 0
    wait_for(lambda: recent(app_env)[:1] == [str(a)], second, timeout=60)
    assert second.poll() is None


def test_hand_off_gives_up_after_a_second_when_nobody_answers(tmp_path):
    """A hung instance (accepts, never answers): the launch goes on after a second."""
    from PySide6.QtNetwork import QLocalServer

    from mlscope import desktop

    name = desktop.server_name(tmp_path)
    server = QLocalServer()
    assert server.listen(name)
    try:
        t0 = time.monotonic()
        assert desktop.hand_off({"targets": ["x"]}, name) is False
        took = time.monotonic() - t0
    finally:
        server.close()
    assert 0.8 < took < 2.0, took


def test_no_instance_is_answered_at_once(tmp_path):
    from mlscope import desktop

    t0 = time.monotonic()
    assert desktop.hand_off({"targets": []}, desktop.server_name(tmp_path)) is False
    assert time.monotonic() - t0 < 0.9


def test_malformed_requests_are_refused(qtbot, tmp_path):
    """Only a JSON object with string targets is acted on."""
    from mlscope import desktop

    inst = desktop.Instance(desktop.server_name(tmp_path))
    assert inst.listen()
    got = []
    inst.requested.connect(got.append)
    client = (
        "import sys; sys.path.insert(0, sys.argv[2]); from mlscope import desktop; "
        "print(desktop.hand_off(eval(sys.argv[3]), sys.argv[1]))")
    outs = []
    for req in ('{"targets": [1, 2]}', '["a"]', '{"targets": ["/x"], "experiment": "e"}'):
        p = subprocess.Popen([sys.executable, "-c", client, inst.name, str(ROOT / "app"), req],
                             stdout=subprocess.PIPE, text=True)
        qtbot.waitUntil(lambda p=p: p.poll() is not None, timeout=30_000)
        outs.append(p.stdout.read().strip())
    qtbot.waitUntil(lambda: len(got) == 1)
    inst.close()
    assert outs == ["False", "False", "True"]
    assert got == [{"targets": ["/x"], "experiment": "e", "demo": False}]


FILE_OPEN_SCRIPT = r"""
import json, sys
from PySide6.QtCore import QCoreApplication, QTimer, QUrl
from PySide6.QtGui import QFileOpenEvent
from mlscope import desktop
from mlscope.ui.main_window import MainWindow

a, b = sys.argv[1:3]
app = desktop.Application([])
window = MainWindow()
window.show()
desktop.open_files_in(app, window)
# What macOS does: the events go to the application object, through the event loop.
QCoreApplication.postEvent(app, QFileOpenEvent(a))
QCoreApplication.postEvent(app, QFileOpenEvent(QUrl.fromLocalFile(b)))

def check():
    pages = window.pages()
    if len(pages) == 2 and all(p.loaded_once and not p.is_loading() for p in pages):
        print("TABS", json.dumps([p.target for p in pages]), pages[1].runs.model.rowCount())
        app.quit()
    else:
        QTimer.singleShot(100, check)

QTimer.singleShot(100, check)
QTimer.singleShot(90_000, app.quit)
app.exec()
"""


def test_file_open_event_opens_the_store_in_a_tab(app_env, stores):
    """What macOS sends when a store is double-clicked in Finder or dropped on the Dock."""
    a, b = stores
    r = subprocess.run([sys.executable, "-c", FILE_OPEN_SCRIPT, str(a), str(b)], env=app_env,
                       capture_output=True, text=True, timeout=120)
    line = next((x for x in r.stdout.splitlines() if x.startswith("TABS ")), None)
    assert line, r.stdout + r.stderr
    targets, rows = line[len("TABS "):].rsplit(" ", 1)
    assert json.loads(targets) == [str(a), str(b)]
    assert int(rows) == 3


def test_targets_are_sent_as_absolute_paths(tmp_path):
    from mlscope import desktop

    got = desktop.absolute_targets(["mlruns", "~/x.db", "http://h:5000", "sqlite:///a.db"],
                                   cwd=str(tmp_path))
    assert got == [str(tmp_path / "mlruns"), str(Path.home() / "x.db"), "http://h:5000",
                   "sqlite:///a.db"]


def _mean_lightness(image, rect) -> float:
    from PySide6.QtGui import QColor

    xs = range(rect.left() + 2, rect.right() - 2, 7)
    ys = range(rect.top() + 2, rect.bottom() - 2, 7)
    vals = [QColor(image.pixel(x, y)).lightnessF() for x in xs for y in ys]
    return sum(vals) / len(vals)


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_theme_follows_the_colour_scheme(qtbot, qapp, window, stores, tmp_path, scheme):
    """The window rendered in each theme: backgrounds, table and toolbar icons change."""
    from PySide6.QtCore import QPoint, QRect, QSize

    from conftest import wait_loaded
    from mlscope.ui import theme

    saved = (qapp.styleSheet(), qapp.palette(), theme.scheme())
    theme.apply(qapp, scheme)
    try:
        page = wait_loaded(qtbot, window.open_target(str(stores[0])))
        qtbot.wait(300)
        shot = window.grab().toImage()
        shot.save(str(tmp_path / f"{scheme}.png"))
        table = page.runs.view.viewport()
        area = QRect(table.mapTo(window, QPoint(0, 0)), table.size())
        bottom = QRect(area.left(), area.top() + area.height() // 2, area.width(),
                       area.height() // 2)  # below the three rows: the table's own background
        icon = theme.icon("reload").pixmap(QSize(24, 24)).toImage()
        ink = [icon.pixelColor(x, y) for x in range(24) for y in range(24)]
        ink = sum(c.lightnessF() for c in ink if c.alpha() > 200) / max(
            1, sum(1 for c in ink if c.alpha() > 200))
        # The views that draw themselves: the charts' canvas and the run detail's HTML.
        from mlscope.ui.views.charts import ChartPanel
        from mlscope.ui.views.detail import RunDetail

        panel, detail = ChartPanel(), RunDetail()
        qtbot.addWidget(panel)
        qtbot.addWidget(detail)
        canvas = panel.canvas.backgroundBrush().color().lightnessF()
        note = detail.document().defaultStyleSheet()
        if scheme == "dark":
            assert _mean_lightness(shot, bottom) < 0.2
            assert ink > 0.6  # light strokes on the dark toolbar
            assert canvas < 0.2
            assert "#f8fafc" not in note and "#161b22" in note  # the description box
        else:
            assert _mean_lightness(shot, bottom) > 0.9
            assert ink < 0.5
            assert canvas > 0.9
            assert "#f8fafc" in note
    finally:
        theme.apply(qapp, saved[2])
        qapp.setStyleSheet(saved[0])
        qapp.setPalette(saved[1])


def test_the_last_stores_reopen_on_the_next_start(app_env, stores, tmp_path):
    """Started with nothing to open, mlscope reopens the stores of its last session, even
    after it was killed; a store that is gone since is left out, with a word."""
    a, b = stores
    env = {k: v for k, v in app_env.items() if k != "MLFLOW_TRACKING_URI"}
    empty = tmp_path / "elsewhere"  # no ./mlruns or ./mlflow.db to open instead
    empty.mkdir()
    first = App.start(env, a, b, cwd=empty)
    wait_for(lambda: set(recent(env)[:2]) == {str(a), str(b)}, first)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    settings = Path(env["MLSCOPE_CONFIG_DIR"]) / "settings.json"
    data = json.loads(settings.read_text())
    assert data["session"]["targets"] == [str(a), str(b)]

    data["recent"] = []  # what the next start opens shows up here again
    settings.write_text(json.dumps(data))
    second = App.start(env, cwd=empty)
    wait_for(lambda: set(recent(env)) == {str(a), str(b)}, second)


def test_restore_session_skips_what_is_gone(qtbot, settings, stores, tmp_path):
    from mlscope.ui.main_window import MainWindow

    a, b = stores
    gone = tmp_path / "gone" / "mlruns"
    settings.set("session", {"targets": [str(a), str(gone), str(b)], "current": 2})
    w = MainWindow(settings)
    qtbot.addWidget(w)
    try:
        assert w.restore_session() == [str(a), str(b)]
        assert [p.target for p in w.pages()] == [str(a), str(b)]
        assert str(gone) in w.status_label.text()
    finally:
        for p in w.pages():
            p.shutdown()
    w.close_tab(0)
    assert settings.get("session")["targets"] == [str(b)]


def test_high_dpi_renders_at_the_screen_scale(app_env, stores, tmp_path):
    """At a 2x screen the window is drawn with twice the pixels (not a blurry upscale), and
    the run colour dots are drawn at that resolution too."""
    from PySide6.QtGui import QImage

    env = {**app_env, "QT_SCALE_FACTOR": "2"}
    png = tmp_path / "hidpi.png"
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from mlscope.ui import theme; p = theme.swatch('#1f77b4').pixmap(10, 10);"
            "print(p.width(), p.devicePixelRatio())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["20", "2.0"], out.stderr
    run = subprocess.run([sys.executable, "-m", "mlscope", str(stores[0]), "--screenshot",
                          str(png), "--size", "1280x800"], env=env, capture_output=True,
                         timeout=180)
    assert run.returncode == 0, run.stdout.decode() + run.stderr.decode()
    image = QImage(str(png))
    assert (image.width(), image.height()) == (2560, 1600)
