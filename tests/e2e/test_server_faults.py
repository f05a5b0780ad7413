"""A real `mlflow server` failing under the app's main window: answering very slowly, past the
timeout, with HTTP 500, with a body cut mid-way, killed in the middle of a load, and restarted
during the refresh of its saved copy. The network between is a proxy on 127.0.0.1
(tests/http_proxy.py), the server is the real one (killed and started again on its database).

For each: the event loop keeps turning (measured as tests/ui/test_app.py does: ticks of a
20 ms timer against an idle loop of the same test), the app says what happened in words
naming the server (never a traceback), the runs already on screen stay, and Reconnect or F5
brings the live runs back once the server answers."""

import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from http_proxy import Proxy
from mlflow_stores import MlflowServer
from mlscope.core import open_store, reststore, server_cache
from mlscope.core.reststore import RestStore

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from make_stores import build_sqlite  # noqa: E402

N_RUNS = 2500  # three pages of the server's search: a load long enough to fail in the middle
# The server copies of this file's own cache folder.
pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("module_cache")]


class Server:
    """The real server behind the proxy; ``restart()`` kills it and starts another on the
    same database, which the proxy then forwards to (the app's URL stays the same)."""

    def __init__(self, base: Path):
        self.base = base
        store = open_store(f"sqlite:///{base / 'mlflow.db'}")
        self.n = len(store.runs(["1"]))  # the active runs of its experiment, which the app shows
        store.close()
        self.srv = MlflowServer(base)
        self.proxy = Proxy(self.srv.url)
        self.url = self.proxy.url

    def kill(self) -> None:
        self.srv.kill()

    def start(self) -> None:
        self.srv = MlflowServer(self.base)
        self.proxy.upstream = self.srv.url


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    build_sqlite(base / "mlflow.db", n_runs=N_RUNS, n_metrics=2, n_steps=2, n_params=4, n_tags=2,
                 n_experiments=1, seed=3)
    s = Server(base)
    yield s
    s.proxy.stop()
    if s.srv.proc.poll() is None:
        s.srv.stop()


def live(page) -> bool:
    return (isinstance(page.store, RestStore) and page.loaded_once and not page.is_loading()
            and not page.cache_bar.isVisible())


def open_live(qtbot, window, server):
    page = window.open_target(server.url, "1")
    qtbot.waitUntil(lambda: live(page) and page.runs.model.total_runs() == server.n, timeout=120_000)
    return page


class Watcher:
    """What the user sees while a fault goes on: the event loop's ticks, every status
    message, and the fewest runs the table held."""

    def __init__(self, qtbot, page):
        self.qtbot, self.page = qtbot, page
        self.said, self.ticks, self.fewest = [], [], page.runs.model.total_runs()
        page.statusMessage.connect(self.said.append)
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        self.ticks.append(time.perf_counter())
        self.fewest = min(self.fewest, self.page.runs.model.total_runs())

    def idle(self, seconds=1.5):
        self.timer.start()
        self.qtbot.wait(int(seconds * 1000))
        self.timer.stop()
        self.idle_gaps, self.idle_rate = self._gaps(), len(self.ticks) / seconds
        self.ticks = []

    def during(self, until, timeout=120_000, at_least=5.0):
        """Ticks from now until ``until()``, and on for ``at_least`` seconds in all (a fault
        answered at once would leave too few gaps for a percentile)."""
        self.timer.start()
        t0 = time.perf_counter()
        self.qtbot.waitUntil(until, timeout=timeout)
        self.qtbot.waitUntil(lambda: time.perf_counter() - t0 >= at_least, timeout=timeout)
        self.timer.stop()
        self.rate = len(self.ticks) / (time.perf_counter() - t0)
        self.gaps = self._gaps()

    def _gaps(self):
        return sorted(b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False)) or [9.9]

    def verdict(self) -> str:
        """As tests/ui/test_app.py's loop_verdict: the 95th percentile gap within 3x idle (at
        least 0.4 s), a third of the idle tick rate, no gap over 1.5 s."""
        p95 = self.gaps[int(len(self.gaps) * 0.95)]
        idle_p95 = self.idle_gaps[int(len(self.idle_gaps) * 0.95)]
        if p95 > max(0.4, 3 * idle_p95):
            return f"95th percentile gap {p95:.3f} s against {idle_p95:.3f} s idle"
        if self.rate < self.idle_rate / 3:
            return f"{self.rate:.1f} ticks/s against {self.idle_rate:.1f} idle"
        if self.gaps[-1] > 1.5:
            return f"a {self.gaps[-1]:.2f} s gap (the GUI thread blocked)"
        return ""

    def words(self) -> str:
        return " | ".join([self.page.cache_bar.label.text(), *self.said])


def said_offline(page, server, watcher, *expected):
    """The bar names the server and offers Reconnect; the runs stayed; no traceback."""
    bar = page.cache_bar
    text = bar.label.text()
    assert bar.isVisible() and bar.offline and bar.reconnect.isVisible(), watcher.words()
    assert server.url in text, text
    assert any(e in text for e in expected), text
    assert "Traceback" not in watcher.words() and 'File "' not in watcher.words()
    assert page.stack.currentWidget() is page.split  # the table, not the error page


@pytest.mark.parametrize("fault", ["past the timeout", "HTTP 500", "cut mid-body"])
def test_a_failing_answer_keeps_the_runs_and_says_so(fault, server, qtbot, window, monkeypatch):
    page = open_live(qtbot, window, server)
    w = Watcher(qtbot, page)
    w.idle()
    proxy = server.proxy
    proxy.only = "runs/search"
    expected = {"past the timeout": ["did not answer within 2 s"], "HTTP 500": ["HTTP 500"],
                "cut mid-body": ["was cut off"]}[fault]
    if fault == "past the timeout":
        monkeypatch.setattr(reststore, "READ_TIMEOUT_S", 2.0)  # the store F5 opens reads it
        proxy.delay = 6.0
    elif fault == "HTTP 500":
        proxy.status = 500
    else:
        proxy.cut = True
    try:
        window.reload_action.trigger()  # F5
        w.during(lambda: not page.is_loading() and page.cache_bar.isVisible())
        assert w.verdict() == "", (w.gaps[-5:], w.rate, w.idle_rate)
        said_offline(page, server, w, *expected)
        assert w.fewest == server.n and page.runs.model.total_runs() == server.n
    finally:
        proxy.clear()
    monkeypatch.setattr(reststore, "READ_TIMEOUT_S", 30.0)
    page.cache_bar.reconnect.click()  # the server answers again
    qtbot.waitUntil(lambda: live(page) and page.runs.model.total_runs() == server.n, timeout=120_000)


def test_a_very_slow_server_keeps_the_loop_turning(server, qtbot, window):
    """Every search answered 2 s late (within the timeout): the old runs stay until the new
    ones are all read, and the app never stops answering."""
    page = open_live(qtbot, window, server)
    w = Watcher(qtbot, page)
    w.idle()
    server.proxy.only, server.proxy.delay = "runs/search", 2.0
    try:
        window.reload_action.trigger()
        qtbot.waitUntil(page.is_loading, timeout=10_000)
        w.during(lambda: live(page))
    finally:
        server.proxy.clear()
    assert w.verdict() == "", (w.gaps[-5:], w.rate, w.idle_rate)
    assert page.runs.model.total_runs() == server.n
    assert "Traceback" not in w.words()


def test_server_killed_during_a_load_then_back(server, qtbot, window):
    page = open_live(qtbot, window, server)
    w = Watcher(qtbot, page)
    w.idle()
    server.proxy.only, server.proxy.delay = "runs/search", 2.0  # the load is under way...
    window.reload_action.trigger()
    qtbot.waitUntil(lambda: server.proxy.requests.get("/api/2.0/mlflow/experiments/search", 0) > 1
                    and page.is_loading(), timeout=30_000)
    server.kill()  # ... when the server dies
    try:
        w.during(lambda: not page.is_loading() and page.cache_bar.isVisible())
        assert w.verdict() == "", (w.gaps[-5:], w.rate, w.idle_rate)
        said_offline(page, server, w, "Cannot reach")
        assert w.fewest == server.n and page.runs.model.total_runs() == server.n
        page.cache_bar.reconnect.click()  # still down: offline again, the runs still there
        qtbot.waitUntil(lambda: not page.is_loading(), timeout=30_000)
        said_offline(page, server, w, "Cannot reach")
        assert page.runs.model.total_runs() == server.n
    finally:
        server.proxy.clear()
        server.start()
    window.reload_action.trigger()  # F5 once it is back
    qtbot.waitUntil(lambda: live(page) and page.runs.model.total_runs() == server.n, timeout=120_000)


def test_server_restarted_during_the_refresh_of_its_copy(server, qtbot, window):
    """Reopened from the copy: the copy is up at once, the refresh begins, the server is
    killed and started again meanwhile. The copy stays, marked as such; F5 refreshes it."""
    first = open_live(qtbot, window, server)
    qtbot.waitUntil(lambda: server_cache.load(server.url) is not None, timeout=30_000)
    window.close_tab(window.tabs.indexOf(first))
    server.proxy.only, server.proxy.delay = "runs/search", 3.0
    page = window.open_target(server.url, "1")
    qtbot.waitUntil(lambda: page.cache_bar.isVisible() and page.runs.model.total_runs() == server.n
                    and isinstance(page.store, RestStore), timeout=30_000)
    w = Watcher(qtbot, page)
    assert "refreshing" in page.cache_bar.label.text()
    w.idle()
    server.kill()
    try:
        w.during(lambda: not page.is_loading() and page.cache_bar.offline)
        assert w.verdict() == "", (w.gaps[-5:], w.rate, w.idle_rate)
        said_offline(page, server, w, "the refresh failed")
        assert "cached copy" in page.cache_bar.label.text()
        assert w.fewest == server.n and page.runs.model.total_runs() == server.n
    finally:
        server.proxy.clear()
        server.start()
    page.cache_bar.reconnect.click()
    qtbot.waitUntil(lambda: live(page) and page.runs.model.total_runs() == server.n, timeout=120_000)
