"""A real `mlflow server` opened in a store page: its runs are kept on disk, shown at once on
the next open (then refreshed), and opened read-only, marked offline, when the server cannot
be reached; Reconnect goes live again. The network between is a small proxy on 127.0.0.1
(tests/http_proxy.py) that can be slowed down or switched off (the server itself stays as
MLflow runs it). Reopening brings the copy up to date with small searches before the full
read replaces it."""

import pytest
from mlflow.tracking import MlflowClient

from http_proxy import Proxy
from mlflow_stores import MlflowServer
from mlscope.core import server_cache
from mlscope.core.reststore import RestStore

pytestmark = pytest.mark.usefixtures("module_cache")  # the server copies of this file's own


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = MlflowServer(tmp_path_factory.mktemp("server"))
    client = MlflowClient(srv.url)
    exp = client.create_experiment("cached")
    for i in range(3):
        run = client.create_run(exp, run_name=f"run-{i}")
        client.log_param(run.info.run_id, "lr", str(0.1 * (i + 1)))
        client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1))
        client.set_terminated(run.info.run_id)
    proxy = Proxy(srv.url)
    yield srv, proxy, client, exp
    proxy.stop()
    srv.stop()


def new_page(qtbot, settings, url, experiment=None):
    """A store page on url, shown and opening (on ``experiment`` when given)."""
    from mlscope.ui.store_page import StorePage

    page = StorePage(url, settings, experiment=experiment)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.open()
    return page


def live(page) -> bool:
    return (isinstance(page.store, RestStore) and page.loaded_once and not page.is_loading()
            and not page.cache_bar.isVisible())


def test_a_live_read_keeps_a_copy(server, qtbot, settings):
    _srv, proxy, _client, exp = server
    page = new_page(qtbot, settings, proxy.url)
    qtbot.waitUntil(lambda: live(page) and page.runs.model.rowCount() == 3, timeout=60_000)
    qtbot.waitUntil(lambda: server_cache.load(proxy.url) is not None, timeout=10_000)
    cached = server_cache.load(proxy.url)
    assert len(cached.runs) == 3 and cached.experiment_ids == [exp]
    assert set(cached.runs["run_id"]) == set(page.loading.frame["run_id"])
    page.shutdown()


def test_reopening_shows_the_copy_at_once_then_the_live_runs(server, qtbot, settings):
    _srv, proxy, client, exp = server
    assert server_cache.load(proxy.url) is not None  # the previous test's copy
    new = client.create_run(exp, run_name="logged-meanwhile").info.run_id
    proxy.delay = 1.5  # the live answer comes after the copy is up
    try:
        page = new_page(qtbot, settings, proxy.url)
        qtbot.waitUntil(lambda: page.cache_bar.isVisible() and page.runs.model.rowCount() == 3,
                        timeout=10_000)
        assert "Cached" in page.cache_bar.label.text() and "refreshing" in page.cache_bar.label.text()
        assert not page.runs.model.contains(new)
        qtbot.waitUntil(lambda: live(page) and page.runs.model.rowCount() == 4, timeout=60_000)
        assert page.runs.model.contains(new)
    finally:
        proxy.delay = 0.0
    qtbot.waitUntil(lambda: len(getattr(server_cache.load(proxy.url), "runs", ())) == 4,
                    timeout=10_000)
    page.shutdown()


def test_unreachable_server_opens_the_copy_offline_and_reconnects(server, qtbot, settings):
    _srv, proxy, _client, _exp = server
    proxy.stop()
    page = new_page(qtbot, settings, proxy.url)
    said = []
    page.statusMessage.connect(said.append)
    bar = page.cache_bar
    qtbot.waitUntil(lambda: bar.isVisible() and bar.offline and not page.is_loading(), timeout=30_000)
    assert page.loaded_once
    assert "Offline: showing the copy of" in bar.label.text()
    assert bar.reconnect.isVisible()
    assert page.stack.currentWidget() is page.split  # the table, not the error page
    assert page.runs.model.rowCount() == 4
    assert not page.store.can_write
    page.runs.select_run(page.runs.model.run_id(page.runs.model.index(1, 0)))  # the run detail
    page.show_view("registry")  # every feature reads the copy without calling the server
    qtbot.wait(1500)
    assert not [m for m in said if "has no attribute" in m or "Traceback" in m], said
    # Reconnect while still down: offline again, with words, no traceback
    bar.reconnect.click()
    qtbot.waitUntil(lambda: not page.is_loading() and bar.offline, timeout=30_000)
    assert page.runs.model.rowCount() == 4
    proxy.start()
    bar.reconnect.click()
    qtbot.waitUntil(lambda: live(page) and page.runs.model.rowCount() == 4, timeout=60_000)
    page.shutdown()


def test_refused_credentials_are_not_offline(server, qtbot, settings):
    """A 401 asks for the password again (the error page and the connect flow), even with a
    copy on disk: the copy is for a server that cannot be reached, not one that says no."""
    _srv, proxy, _client, _exp = server
    assert server_cache.load(proxy.url) is not None
    proxy.refuse, proxy.delay = True, 3.0  # the copy is up first, then the server says no
    try:
        page = new_page(qtbot, settings, proxy.url)
        # (Whether the copy got on screen before the refusal depends on the machine's load;
        # the reopening test checks that it comes first. Here: it is not left up.)
        qtbot.waitUntil(lambda: page.stack.currentWidget() is page.error_page, timeout=30_000)
        assert not page.cache_bar.isVisible()
        assert "401" in page.error_page.message.text() or "refused" in page.error_page.message.text()
    finally:
        proxy.refuse, proxy.delay = False, 0.0
    page.shutdown()


def test_unreachable_without_a_copy_is_the_error_page(server, qtbot, window):
    _srv, proxy, _client, _exp = server
    window.clear_cache_action.trigger()  # File > Clear Saved Copies of Runs
    assert server_cache.load(proxy.url) is None and "Removed" in window.status_label.text()
    proxy.stop()
    try:
        page = window.open_target(proxy.url)
        qtbot.waitUntil(lambda: page.stack.currentWidget() is page.error_page, timeout=30_000)
        assert "127.0.0.1" in page.error_page.message.text()
        assert not page.cache_bar.isVisible()
    finally:
        proxy.start()


def full_read(path, body) -> bool:
    """The full read of the runs (no filter), not the small searches of what changed."""
    return path.endswith("runs/search") and b'"filter": ""' in body


def test_reopening_merges_what_changed_then_reads_every_run(server, qtbot, settings):
    """Between the copy and the full read, the table holds the copy with the runs started or
    ended since, and says it is still being checked; a deleted finished run (which only the
    full read sees) goes when that ends."""
    _srv, proxy, client, exp = server
    page = new_page(qtbot, settings, proxy.url)
    qtbot.waitUntil(lambda: live(page), timeout=60_000)
    qtbot.waitUntil(lambda: server_cache.load(proxy.url) is not None, timeout=10_000)
    frame = page.loading.frame
    shown = set(frame["run_id"])
    finished = sorted(frame.loc[frame["status"] == "FINISHED", "run_id"])
    page.shutdown()
    new = client.create_run(exp, run_name="new-since").info.run_id
    client.set_terminated(new)
    deleted = finished[0]
    client.delete_run(deleted)
    proxy.only, proxy.delay = full_read, 4.0
    try:
        page = new_page(qtbot, settings, proxy.url)
        bar = page.cache_bar
        qtbot.waitUntil(lambda: "updated since" in bar.label.text(), timeout=60_000)
        assert "1 run updated since" in bar.label.text() and "checking every run" in bar.label.text()
        assert bar.isVisible() and page.is_loading()
        assert page.runs.model.contains(new) and page.runs.model.contains(deleted)
        kept = finished[-1]
        page.runs.select_run(kept)  # the user picks a run while every run is read again
        qtbot.waitUntil(lambda: live(page), timeout=60_000)
    finally:
        proxy.clear()
    assert page.runs.model.contains(new) and not page.runs.model.contains(deleted)
    assert page.runs.current_run_id() == kept  # the full read kept the selection
    assert set(page.loading.frame["run_id"]) == shown - {deleted} | {new}
    qtbot.waitUntil(lambda: new in set(getattr(server_cache.load(proxy.url), "runs", {"run_id": []})
                                       ["run_id"]), timeout=10_000)
    page.shutdown()


def test_a_copy_read_after_the_servers_answer_is_still_brought_up_to_date(server, qtbot, settings,
                                                                         monkeypatch):
    """The server answers the open before the disk gives the copy (a fast server, a big copy):
    the runs wait for the copy, which shows first and is merged with what changed since, as
    when the copy comes first."""
    import time

    _srv, proxy, client, exp = server
    page = new_page(qtbot, settings, proxy.url)
    qtbot.waitUntil(lambda: live(page), timeout=60_000)
    qtbot.waitUntil(lambda: server_cache.load(proxy.url) is not None, timeout=10_000)
    page.shutdown()
    new = client.create_run(exp, run_name="after-the-answer").info.run_id
    client.set_terminated(new)
    real_load = server_cache.load
    monkeypatch.setattr(server_cache, "load", lambda uri: (time.sleep(2.0), real_load(uri))[1])
    proxy.only, proxy.delay = full_read, 4.0
    try:
        page = new_page(qtbot, settings, proxy.url)
        qtbot.waitUntil(lambda: isinstance(page.store, RestStore), timeout=60_000)
        assert page.runs.model.rowCount() == 0  # answered before the copy was read
        qtbot.waitUntil(lambda: "updated since" in page.cache_bar.label.text(), timeout=60_000)
        assert "1 run updated since" in page.cache_bar.label.text()
        assert page.runs.model.contains(new) and page.is_loading()
        qtbot.waitUntil(lambda: live(page), timeout=60_000)
    finally:
        proxy.clear()
    assert page.runs.model.contains(new)
    page.shutdown()
