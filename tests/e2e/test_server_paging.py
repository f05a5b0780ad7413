"""A server's runs read by searches side by side (reststore._Listing) equal MLflow's client:
same runs, same order, filters still the server's; streaming, cancel and a server that goes
away mid-read. Small pages and splits make a few hundred runs take every road."""

import threading
import time

import pandas as pd
import pytest
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.tracking import MlflowClient

from mlflow_stores import MlflowServer, history_reference, reference, same, same_history
from mlscope.core import Cancelled, ServerError, open_store
from mlscope.core import reststore as rest

T0 = 1_700_000_000_000
TIE = T0 + 500_000  # 25 runs at this very millisecond: more than a page
NEWEST = T0 + 10**9  # after every hourly run
FILTERS = [
    "",
    "metrics.rmse < 0.5",
    "params.model = 'lasso' and metrics.rmse >= 0.2",
    "attributes.status = 'FINISHED'",
    "tags.group = 'tie'",
    f"attributes.start_time >= {TIE}",
    f"attributes.start_time < {TIE + 1}",
]


def build_many(uri: str, artifacts: str) -> dict:
    """~160 runs over four experiments (one deleted, one empty) with MLflow's client: bursts
    1 ms apart, runs a day apart, a tie of 25 runs at one millisecond, deleted runs, and the
    newest 9 runs ending in 4 at one millisecond (across experiments), where the first page
    (7 runs here) ends."""
    client = MlflowClient(uri)
    big, mid, small, _, gone = (client.create_experiment(name, artifact_location=f"{artifacts}/{name}")
                                for name in ("big", "mid", "small", "empty", "gone"))
    starts = {big: [T0 + i for i in range(40)]  # a burst
              + [T0 + 1000 + i * 3_600_000 for i in range(30)]  # hourly, then
              + [TIE] * 25, mid: [T0 + 10 + 2 * i for i in range(20)]  # inside big's burst
              + [T0 + 1000 + i * 7_200_000 for i in range(20)] + [TIE] * 5,
              small: [NEWEST + 10 * i for i in range(5)] + [NEWEST - 1] * 2,
              gone: [T0 + 30 + i for i in range(6)]}
    starts[big] += [NEWEST - 1] * 2  # 9 newest: 5 distinct, then 4 at NEWEST - 1
    ids = []
    for exp, times in starts.items():
        for n, start in enumerate(times):
            tags = {"group": "tie"} if start == TIE else {}
            run = client.create_run(exp, start_time=start, tags=tags, run_name=f"r{n}").info.run_id
            client.log_batch(run, metrics=[Metric("rmse", (n % 10) / 10, T0, 0)],
                             params=[Param("model", "lasso" if n % 3 else "ridge")],
                             tags=[RunTag("n", str(n))])
            if n % 4:
                client.set_terminated(run, "FINISHED", end_time=start + 100)
            if n % 37 == 5:
                client.delete_run(run)
            ids.append(run)
    client.delete_experiment(gone)
    return {"runs": ids}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("paging")
    ids = build_many(f"sqlite:///{base / 'mlflow.db'}", (base / "artifacts").as_uri())
    return base, ids


@pytest.fixture(scope="module")
def server(built):
    srv = MlflowServer(built[0])
    yield srv.url
    srv.stop()


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 10, a first page of 7, cuts in 3: every road of the listing on ~300 runs."""
    monkeypatch.setattr(rest, "PAGE", 10)
    monkeypatch.setattr(rest, "FIRST_PAGE", 7)
    monkeypatch.setattr(rest, "SPLIT_MAX", 3)
    monkeypatch.setattr(rest, "SEARCH_WORKERS", 3)


class Spy:
    """Counts the store's requests, their filters and how many were in flight at once."""

    def __init__(self, store, delay: float = 0.0, on_call=None):
        self.calls, self.inflight, self.most = [], 0, 0
        self.lock = threading.Lock()
        real = store._call

        def call(method, path, *args, **kwargs):
            with self.lock:
                self.inflight += 1
                self.most = max(self.most, self.inflight)
                self.calls.append((path, (kwargs.get("json") or {}).get("filter")))
            try:
                if on_call:
                    on_call(len(self.calls))
                time.sleep(delay)
                return real(method, path, *args, **kwargs)
            finally:
                with self.lock:
                    self.inflight -= 1

        store._call = call

    def ranges(self) -> list[str]:
        return [f for p, f in self.calls if p == "runs/search" and f and "start_time" in f]


def rest_threads() -> list:
    return [t for t in threading.enumerate() if t.name.startswith("mlscope-rest")]


@pytest.mark.parametrize("split_experiments", [True, False], ids=["by-experiment", "by-time"])
@pytest.mark.parametrize("filter_string", FILTERS)
def test_listing_equals_mlflow(server, small_pages, monkeypatch, filter_string, split_experiments):
    if not split_experiments:  # more experiments than this: ranges of start_time over all
        monkeypatch.setattr(rest, "EXPERIMENT_SPLIT_MAX", 1)
    store = open_store(server)
    spy = Spy(store)
    same(store.runs(filter_string=filter_string, view="all"), reference(server, filter_string))
    if not filter_string:
        assert len(spy.ranges()) >= 10 and spy.most > 1  # cut into ranges, side by side


def test_views_and_the_full_table(server, small_pages):
    store = open_store(server)
    for view, vt in (("active", ViewType.ACTIVE_ONLY), ("deleted", ViewType.DELETED_ONLY)):
        same(store.runs(view=view), reference(server, view=vt))
    table = store.run_table(view="all")
    assert sorted(table.info["run_id"]) == sorted(reference(server)["run_id"])
    assert table.info["run_id"].is_unique


def test_runs_at_one_millisecond_across_boundaries(server, small_pages):
    """25 runs at TIE (a page all at one millisecond: that millisecond paged on its own), and
    the first page ending inside 4 runs at one millisecond: none lost, none twice."""
    store = open_store(server)
    spy = Spy(store)
    ours = store.runs(view="all")
    same(ours, reference(server))
    assert (ours["start_time"] == pd.Timestamp(TIE, unit="ms", tz="UTC")).sum() == 30  # big 25, mid 5
    assert any(f"start_time >= {TIE} and attributes.start_time < {TIE + 1}" in f for f in spy.ranges())
    assert ours["run_id"].is_unique


def test_an_order_by_pages_one_after_another(server, small_pages):
    store = open_store(server)
    spy = Spy(store)
    order = ["metrics.rmse DESC", "params.model"]
    same(store.runs(order_by=order, view="all"), reference(server, order_by=order))
    assert spy.ranges() == [] and spy.most == 1


def test_rows_stream_as_the_answer_begins(server, small_pages, monkeypatch):
    """The first partial comes with the first answer; every partial is the start of the final
    frame (rows never move); they grow."""
    monkeypatch.setattr(rest, "PARTIAL_EVERY_S", 0.0)
    store = open_store(server)
    spy = Spy(store, delay=0.02)
    seen, answered = [], []
    final = store.runs(view="all", partial=lambda f: (seen.append(f), answered.append(len(spy.calls))))
    same(final, reference(server))
    # The first partial follows the first answer: the searches that answer starts may have
    # begun meanwhile (how many depends on the load), but the listing is far from done.
    assert len(seen) >= 3 and answered[0] * 2 < len(spy.calls), (answered, len(spy.calls))
    assert len(seen[0]) == 5  # the 7 newest, less the 2 at NEWEST - 1 (more may follow)
    assert [len(f) for f in seen] == sorted({len(f) for f in seen})
    for part in seen:
        assert part["run_id"].tolist() == final["run_id"].tolist()[:len(part)]


def test_cancel_stops_the_listing(server, small_pages, monkeypatch):
    monkeypatch.setattr(rest, "PARTIAL_EVERY_S", 0.0)
    store = open_store(server)
    spy = Spy(store, delay=0.05)
    stop = threading.Event()
    with pytest.raises(Cancelled):
        store.runs(view="all", cancel=stop.is_set, partial=lambda f: stop.set())
    at_cancel = len(spy.calls)
    deadline = time.monotonic() + 10
    while rest_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rest_threads() == []  # the requests in flight ended; nothing queued ran
    assert len(spy.calls) <= at_cancel + rest.SEARCH_WORKERS
    assert at_cancel <= 1 + 2 * rest.SEARCH_WORKERS  # stopped at once (the listing takes 20+)
    same(store.runs(view="all"), reference(server))  # and the store still reads


def test_a_server_gone_mid_listing_says_so(built, small_pages):
    srv = MlflowServer(built[0])  # its own server, on the same database
    try:
        store = open_store(srv.url)
        Spy(store, delay=0.02, on_call=lambda n: n == 4 and srv.kill())
        started = time.monotonic()
        with pytest.raises(ServerError) as err:
            store.runs(view="all")
        assert f"Cannot reach the tracking server at {srv.url}" in str(err.value)
        assert rest_threads() == [] and time.monotonic() - started < 30
    finally:
        srv.stop()


def test_full_histories_past_the_bulk_cap_come_in_parallel(server, monkeypatch):
    """A bulk answer cut at BULK_POINTS is asked again in halves, then run by run, on several
    threads at once; the points equal MLflow's."""
    monkeypatch.setattr(rest, "BULK_POINTS", 1)
    store = open_store(server)
    run_ids = list(store.runs(view="all")["run_id"])[:24]
    spy = Spy(store, delay=0.02)
    ours = store.metric_history(run_ids, ["rmse"])
    same_history(ours, history_reference(MlflowClient(server), run_ids, ["rmse"]))
    paths = [p for p, _ in spy.calls]
    assert paths.count("metrics/get-history") == 24 and spy.most > 1
