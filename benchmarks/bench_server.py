"""A tracking server over PostgreSQL with 100,000 runs: mlscope against MLflow's client and web UI.

    python benchmarks/bench_server.py [--quick] [--processes N] [--mlflow-budget S] [--only PARTS]

The store: 100,000 runs (--quick: 10,000) of bench_scale.py's shape (3 experiments, 10 params,
7 tags, 5 metrics x 10 steps), in a throwaway PostgreSQL cluster on 127.0.0.1
(tests/pg_cluster.py) whose schema MLflow's own SqlAlchemyStore creates; the rows go in with
COPY, as MLflow writes them (make_stores.generate's data, +-inf stored as MLflow's SQL store
does), and MLflow's client reads samples back. The cluster's folder is kept in
benchmarks/_stores/ and started again on later runs. Then ``mlflow server --workers 2`` serves
it on 127.0.0.1 (MLflow's job runner off: it serves nothing read here), warmed up untimed.

Figures, one a line as ``name: value unit``, each with the load average when taken:

- runs: every run listed, the first call in a fresh process after its imports (median of
  --processes): mlscope ``open_store(url).runs(view="all")`` with its time to the first
  partial frame and its peak RSS; MLflow ``MlflowClient.search_runs`` paged 1,000 at a time
  (its default) over every experiment, with its first page; the two frames equal, every column
  (MLflow's frame built by ``mlflow.search_runs``' own code from the pages, untimed);
- app: ``MainWindow`` offscreen opens the server with every experiment selected: first rows
  in the table (the first streamed frame), table filled, the copy saved, the process's peak
  RSS; then a second process reopens it: the cached table shown, then refreshed live;
- history: one metric (val_loss) of 100 runs: mlscope ``store.metric_history`` on an open
  store against the web UI's requests for the same runs, as its charts send them
  (``ajax-api/2.0/mlflow/metrics/get-history-bulk-interval``, 100 run ids a request,
  ``max_results=320``); both answers checked equal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "app"
TESTS = HERE.parent / "tests"
sys.path[:0] = [str(APP), str(HERE), str(TESTS)]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# A page of 1,000 runs takes the server 2-8 s here (its ORM and JSON, on 2 shared cores); with
# several asked at once, one waits behind the others past mlscope's 30 s read timeout.
os.environ.setdefault("MLSCOPE_HTTP_TIMEOUT", "300")

from bench_scale import SHAPE, app_env, load, measured  # noqa: E402
from bench_store import frames_equal, report  # noqa: E402
from make_stores import DONE_MARKER, STORES_DIR, Spec, _sql_value, generate  # noqa: E402

QUICK_RUNS, FULL_RUNS = 10_000, 100_000
HISTORY_RUNS, HISTORY_KEY = 100, "val_loss"
UI_RUN_LIMIT, UI_MAX_RESULTS = 100, 320  # MLflow's web UI: SAMPLED_METRIC_HISTORY_API_RUN_LIMIT


# -- the store ------------------------------------------------------------------------------------
def build_postgres(cluster, spec: Spec) -> str:
    """MLflow's schema (its own migrations) in a new ``mlflow`` database, then the rows by COPY."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    uri = cluster.create_database("mlflow")
    artifact_root = str(cluster.base / "artifacts")
    SqlAlchemyStore(uri, artifact_root).engine.dispose()  # tables + the Default experiment
    data = generate(spec)
    t = time.perf_counter()
    with cluster.connect("mlflow") as conn, conn.cursor() as cur:
        with cur.copy("COPY experiments (experiment_id, name, artifact_location, lifecycle_stage,"
                      " creation_time, last_update_time, workspace) FROM STDIN") as cp:
            for j, (name, ct) in enumerate(zip(data.experiment_names, data.experiment_times,
                                               strict=True)):
                cp.write_row((j + 1, name, f"{artifact_root}/{j + 1}", "active", ct, ct, "default"))
        cur.execute("SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'),"
                    " (SELECT max(experiment_id) FROM experiments))")
        with cur.copy("COPY runs (run_uuid, name, source_type, source_name, entry_point_name,"
                      " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                      " artifact_uri, experiment_id, deleted_time) FROM STDIN") as cp:
            for r in data.runs:
                exp = r.exp + 1
                cp.write_row((r.run_id, r.name, "UNKNOWN", "", "", r.user, r.status, r.start_time,
                              r.end_time, "", r.lifecycle_stage,
                              f"{artifact_root}/{exp}/{r.run_id}/artifacts", exp, r.deleted_time))
        for table, attr in (("tags", "tags"), ("params", "params")):
            with cur.copy(f"COPY {table} (key, value, run_uuid) FROM STDIN") as cp:
                for r in data.runs:
                    for k, v in getattr(r, attr).items():
                        cp.write_row((k, v, r.run_id))
        steps = range(spec.n_steps)
        with cur.copy("COPY metrics (key, value, is_nan, timestamp, run_uuid, step) FROM STDIN") as cp:
            for i, r in enumerate(data.runs):
                ts = data.timestamps[i].tolist()
                for m, key in enumerate(data.metric_keys):
                    for s, t_, v in zip(steps, ts, data.values[i, m].tolist(), strict=True):
                        value, is_nan = _sql_value(v)
                        cp.write_row((key, value, bool(is_nan), t_, r.run_id, s))
        with cur.copy("COPY latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
                      " FROM STDIN") as cp:
            for i, r in enumerate(data.runs):
                last_t = int(data.timestamps[i, -1])
                for m, key in enumerate(data.metric_keys):
                    value, is_nan = _sql_value(float(data.values[i, m, -1]))
                    cp.write_row((key, value, last_t, spec.n_steps - 1, bool(is_nan), r.run_id))
    with cluster.connect("mlflow") as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"copied {spec.n_runs} runs in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return uri


def validate_samples(uri: str, spec: Spec, n: int = 50) -> None:
    """MLflow's client reads runs back (n at random, the special ones and the last, with their
    histories): AssertionError on a difference. +-inf reads back as MLflow's SQL store keeps it."""
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    data = generate(spec)
    client = MlflowClient(uri)
    exps = {e.name for e in client.search_experiments(view_type=ViewType.ALL)}
    assert exps == {"Default", *data.experiment_names}, exps

    def same(a, b):
        return (math.isnan(a) and math.isnan(b)) or a == b

    def stored(v):
        v = float(v)
        return _sql_value(v)[0] if math.isinf(v) else v

    picks = random.Random(1).sample(range(spec.n_runs), n)
    special = set(data.special.values()) | {spec.n_runs - 1}
    for i in [*picks, *special]:
        want, run = data.runs[i], client.get_run(data.runs[i].run_id)
        info = run.info
        assert (info.status, info.lifecycle_stage, info.run_name) == (
            want.status, want.lifecycle_stage, want.name), i
        assert (info.start_time, info.end_time) == (want.start_time, want.end_time), i
        assert info.experiment_id == str(want.exp + 1), i
        assert run.data.params == want.params and run.data.tags == want.tags, i
        for m, key in enumerate(data.metric_keys):
            assert same(run.data.metrics[key], stored(data.values[i, m, -1])), (i, key)
        if i in special:
            for m, key in enumerate(data.metric_keys):
                hist = sorted(client.get_metric_history(want.run_id, key), key=lambda p: p.step)
                assert [p.step for p in hist] == list(range(spec.n_steps)), (i, key)
                for s, p in enumerate(hist):
                    assert p.timestamp == data.timestamps[i, s], (i, key, s)
                    assert same(p.value, stored(data.values[i, m, s])), (i, key, s)


def ensure_store(spec: Spec):
    """The cluster holding spec's store, started (built and validated on first use)."""
    from pg_cluster import PgCluster, pg_bin

    major = Path(pg_bin()).parent.name if pg_bin() else "pg"
    base = STORES_DIR / f"{spec.key()}-postgres-{major}"
    if (base / DONE_MARKER).exists():
        try:
            cluster = PgCluster(base)
            if cluster.has_database("mlflow"):
                return cluster, cluster.uri("mlflow")
            cluster.stop()
        except RuntimeError as exc:
            print(f"the cached cluster did not start, rebuilding: {exc}", file=sys.stderr)
    shutil.rmtree(base, ignore_errors=True)
    t = time.perf_counter()
    cluster = PgCluster(base)
    uri = build_postgres(cluster, spec)
    validate_samples(uri, spec)
    print(f"built and validated {spec.n_runs} runs in PostgreSQL in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)
    (base / DONE_MARKER).write_text(json.dumps(asdict(spec), indent=1) + "\n")
    return cluster, uri


def start_server(tmp: Path, backend: str):
    """``mlflow server --workers 2`` on backend, with its first answers (slow after a start)
    taken untimed: a page of runs of each experiment, one bulk history."""
    import requests

    from mlflow_stores import MlflowServer

    srv = MlflowServer(tmp, backend=backend, workers=2)
    api = f"{srv.url}/api/2.0/mlflow"
    exps = requests.post(f"{api}/experiments/search", json={"max_results": 1000}).json()["experiments"]
    for _ in range(2):  # both workers
        for e in exps:
            runs = requests.post(f"{api}/runs/search", json={"experiment_ids": [e["experiment_id"]],
                                                             "max_results": 100}).json()
            ids = [r["info"]["run_id"] for r in runs.get("runs", [])]
            if ids:
                requests.get(f"{srv.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
                             params=[("run_ids", r) for r in ids] + [("metric_key", HISTORY_KEY)])
    return srv


def prewarm(cluster) -> None:
    """Every table and index read once, untimed, so neither side pays for the disk."""
    with cluster.connect("mlflow") as conn:
        for table in ("experiments", "runs", "tags", "params", "metrics", "latest_metrics"):
            conn.execute(f"SELECT count(*) FROM {table}")
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            rels = conn.execute("SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
                                "ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                                "AND c.relkind IN ('r', 'i')").fetchall()
            for (rel,) in rels:
                conn.execute("SELECT pg_prewarm(%s)", (rel,))
        except Exception as exc:  # noqa: BLE001 - the contrib module may be missing: counts did
            print(f"pg_prewarm not used: {exc}", file=sys.stderr)


# -- every run listed -----------------------------------------------------------------------------
RUNS_SCRIPT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
side, url, out = sys.argv[2:5]
first = []
if side == "mlflow":
    import mlflow
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient
    t = time.perf_counter()
    client = MlflowClient(url)
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs, token = [], None
    while True:
        page = client.search_runs(ids, run_view_type=ViewType.ALL, max_results=1000, page_token=token)
        runs += page
        if not first:
            first.append(time.perf_counter() - t)
        token = page.token
        if not token:
            break
    elapsed = time.perf_counter() - t
    import mlflow.tracking.fluent as fluent  # MLflow's own frame of these runs, untimed
    fluent.get_results_from_paginated_fn = lambda *a, **k: runs
    mlflow.set_tracking_uri(url)
    frame = mlflow.search_runs(ids, run_view_type=ViewType.ALL)
else:
    from mlscope.core import open_store
    t = time.perf_counter()
    frame = open_store(url).runs(view="all", partial=lambda f: first or first.append(
        (time.perf_counter() - t, len(f))))
    elapsed = time.perf_counter() - t
    first = [first[0][0], first[0][1]] if first else []
frame.to_pickle(out)
print(json.dumps({"seconds": elapsed, "rows": len(frame), "first": first}))
"""


def runs_side(side: str, url: str, out: Path, timeout=None) -> dict:
    r = measured([sys.executable, "-c", RUNS_SCRIPT, str(APP), side, url, str(out)],
                 dict(os.environ), timeout)
    if not r.get("timed_out"):
        r.update(json.loads(r["stdout"].strip().splitlines()[-1]))
    r["load"] = load()
    return r


def server_pages(url: str, n: int, pages: int = 5) -> None:
    """The floor under any client: the server's own time for a page of 1,000 runs (the raw
    request, JSON parsed, nothing built), the first few pages of the all-runs search."""
    import requests

    session, api = requests.Session(), f"{url}/api/2.0/mlflow"
    exps = session.post(f"{api}/experiments/search", json={"max_results": 1000,
                                                           "view_type": "ALL"}).json()
    payload = {"experiment_ids": [e["experiment_id"] for e in exps["experiments"]],
               "max_results": 1000, "run_view_type": "ALL"}
    times, token = [], None
    for _ in range(pages):
        t = time.perf_counter()
        body = session.post(f"{api}/runs/search", json={**payload, **(
            {"page_token": token} if token else {})}).json()
        times.append(time.perf_counter() - t)
        token = body.get("next_page_token")
        if not token:
            break
    page = statistics.median(times)
    report("server_page_1000_runs", page, "s",
           f"median of {len(times)} raw runs/search pages, {load()}")
    report(f"server_all_runs_{n}_floor_one_at_a_time", page * n / 1000, "s",
           "pages x the page time: any client reading page after page")


def all_runs(url: str, n: int, args, tmp: Path) -> None:
    server_pages(url, n)
    ours, ml = [], None
    for i in range(args.processes):  # MLflow once, in the middle: the load hits both sides
        ours.append(runs_side("mlscope", url, tmp / "mlscope.pkl"))
        if i == 0 and not args.no_mlflow:
            ml = runs_side("mlflow", url, tmp / "mlflow.pkl", args.mlflow_budget)
    secs = statistics.median(r["seconds"] for r in ours)
    note = f"first call in a fresh process, median of {len(ours)}, {ours[-1]['load']}"
    report(f"server_all_runs_{n}_mlscope", secs, "s", f"{ours[0]['rows']} runs, {note}")
    firsts = [r["first"][0] for r in ours if r["first"]]
    if firsts:
        report(f"server_all_runs_{n}_mlscope_first_rows", statistics.median(firsts), "s",
               f"first partial frame ({ours[0]['first'][1]} runs) from the call, {note}")
    report(f"server_all_runs_{n}_mlscope_peak_rss", max(r["peak_mb"] for r in ours), "MB",
           "whole process, imports included")
    if ml is None:
        return
    if ml.get("timed_out"):
        report(f"server_all_runs_{n}_mlflow_search_runs", f"> {args.mlflow_budget:.0f}", "s",
               f"stopped at the budget, {ml['load']}")
        report(f"server_all_runs_{n}_ratio", f"> {args.mlflow_budget / secs:.1f}", "x")
        return
    report(f"server_all_runs_{n}_mlflow_search_runs", ml["seconds"], "s",
           f"MlflowClient.search_runs, 1,000 a page, first call in a fresh process, {ml['load']}")
    report(f"server_all_runs_{n}_mlflow_first_page", ml["first"][0], "s", ml["load"])
    report(f"server_all_runs_{n}_mlflow_peak_rss", ml["peak_mb"], "MB", "whole process")
    ratio = ml["seconds"] / secs
    report(f"server_all_runs_{n}_ratio", ratio, "x",
           "target >= 3x: " + ("met" if ratio >= 3 else "NOT MET"))
    diff = frames_equal(tmp / "mlscope.pkl", tmp / "mlflow.pkl")
    report(f"server_all_runs_{n}_frames_equal", "yes" if not diff else "NO", note=diff)


# -- the app --------------------------------------------------------------------------------------
APP_SCRIPT = """
import json, os, sys, time
t0 = float(sys.argv[3])
sys.path.insert(0, sys.argv[1])
from PySide6.QtWidgets import QApplication
from mlscope.core import server_cache
from mlscope.ui.main_window import MainWindow

app = QApplication([])
w = MainWindow()
w.resize(1440, 900)
w.show()
app.processEvents()
ev = {"painted": time.time() - t0}
url = sys.argv[2]
opened = time.time()
page = w.open_target(url)
ld = page.loading
loads = []

def streamed(frame):
    ev.setdefault("first_rows", time.time() - opened)
    ev.setdefault("first_rows_n", len(frame))

def loaded(frame, _keep):  # the cached copy is flagged before it is emitted, the live read after
    loads.append((time.time() - opened, len(frame), ld.cache_shown))

ld.runsStreamed.connect(streamed)
ld.runsLoaded.connect(loaded)
end = time.time() + float(sys.argv[4])
while not (ld.loaded_once and not ld.cache_shown and not ld.running("open", "runs", "cache-save")):
    app.processEvents()
    time.sleep(0.002)
    if time.time() > end:
        raise SystemExit("the runs did not load in time: " + json.dumps(loads))
ev["saved"] = time.time() - opened
ev["loads"] = loads
ev["rows_in_table"] = page.runs.model.total_runs()
ev["opened_since_start"] = opened - t0
ev["cache_files"] = os.path.exists(server_cache.folder(url) / server_cache.META)
print(json.dumps(ev))
"""


def app_side(url: str, env: dict, timeout: float) -> dict:
    t0 = time.time()
    r = measured([sys.executable, "-c", APP_SCRIPT, str(APP), url, repr(t0), str(timeout)], env,
                 timeout + 60)
    if r.get("timed_out"):
        raise SystemExit("the app did not finish")
    out = json.loads(r["stdout"].strip().splitlines()[-1])
    out["peak_mb"], out["load"] = r["peak_mb"], load()
    return out


def app(url: str, n: int, args, tmp: Path) -> None:
    cold_runs, warm_runs = [], []
    for i in range(args.app_processes):
        env = {**app_env(tmp, url), "MLSCOPE_CACHE_DIR": str(tmp / f"app-cache{i}")}
        cold_runs.append(app_side(url, env, args.mlflow_budget))
        warm_runs.append(app_side(url, env, args.mlflow_budget))  # reopening: the copy is there
    cold = cold_runs[-1]
    note = f"median of {len(cold_runs)} fresh processes, {cold['load']}"

    def med(runs, fn):
        return statistics.median(fn(r) for r in runs)

    report(f"app_server_{n}_first_rows", med(cold_runs, lambda r: r.get("first_rows", math.nan)),
           "s", f"open to the first streamed rows in the table ({cold.get('first_rows_n')} runs), "
           f"target <= 1 s, {note}")
    report(f"app_server_{n}_table_filled", med(cold_runs, lambda r: r["loads"][-1][0]), "s",
           f"open to all {cold['rows_in_table']} runs in the table, {note}")
    report(f"app_server_{n}_copy_saved", med(cold_runs, lambda r: r["saved"]), "s",
           f"open to the server's copy written, {note}")
    report(f"app_server_{n}_peak_rss", max(r["peak_mb"] for r in cold_runs), "MB",
           f"the app's process, {cold['rows_in_table']} runs in the table, target < 1,500 MB")
    report(f"app_server_{n}_process_to_painted", med(cold_runs, lambda r: r["painted"]), "s", note)
    warm = warm_runs[-1]
    shown = [r["loads"][0] for r in warm_runs]
    assert all(cached for _, _, cached in shown), f"the first table was not the copy: {shown}"
    report(f"app_server_{n}_reopen_cached_table_shown", statistics.median(s[0] for s in shown),
           "s", f"open to the saved copy in the table ({shown[-1][1]} runs), target <= 1 s, "
           f"{warm['load']}")
    report(f"app_server_{n}_reopen_cached_from_process_start",
           med(warm_runs, lambda r: r["opened_since_start"] + r["loads"][0][0]), "s",
           f"process start to the copy in the table, {warm['load']}")
    report(f"app_server_{n}_reopen_refreshed", med(warm_runs, lambda r: r["loads"][-1][0]), "s",
           f"open to the live runs replacing the copy, {warm['load']}")
    report(f"app_server_{n}_reopen_peak_rss", max(r["peak_mb"] for r in warm_runs), "MB",
           "the app's process")


# -- one metric, 100 runs -------------------------------------------------------------------------
HISTORY_SCRIPT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
side, url, key, ui_limit, ui_max = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
ids = json.loads(sys.stdin.read())
if side == "ui":
    import requests
    session = requests.Session()
    t = time.perf_counter()
    points = []
    for i in range(0, len(ids), ui_limit):  # the web UI: one request a metric and 100 runs
        chunk = ids[i:i + ui_limit]
        resp = session.get(url + "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
                           params=[("run_ids", r) for r in chunk] + [("metric_key", key),
                                                                      ("max_results", ui_max)])
        resp.raise_for_status()
        points += [(p["run_id"], int(p.get("step", 0)), float(p["value"]))
                   for p in resp.json().get("metrics", [])]
    elapsed = time.perf_counter() - t
else:
    from mlscope.core import open_store
    store = open_store(url)  # open, as in the app when a metric is picked
    t = time.perf_counter()
    frame = store.metric_history(ids, [key])
    elapsed = time.perf_counter() - t
    points = list(zip(frame["run_id"], frame["step"].astype(int), frame["value"].astype(float)))
print(json.dumps({"seconds": elapsed, "points": sorted(points)}))
"""


def history(url: str, n: int, args) -> None:
    import requests

    exps = requests.post(f"{url}/api/2.0/mlflow/experiments/search",
                         json={"max_results": 1000}).json()["experiments"]
    exp = next(e["experiment_id"] for e in exps if e["name"] != "Default")
    runs = requests.post(f"{url}/api/2.0/mlflow/runs/search",
                         json={"experiment_ids": [exp], "max_results": HISTORY_RUNS}).json()["runs"]
    ids = [r["info"]["run_id"] for r in runs]  # the first 100 of the table, as the UI charts them

    def side(name):
        proc = subprocess.run([sys.executable, "-c", HISTORY_SCRIPT, str(APP), name, url,
                               HISTORY_KEY, str(UI_RUN_LIMIT), str(UI_MAX_RESULTS)],
                              input=json.dumps(ids), capture_output=True, text=True, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])

    ui, ours = [], []
    for _ in range(args.processes):  # alternated: both meet the same server and load
        ui.append(side("ui"))
        ours.append(side("mlscope"))
    ld = load()
    ui_s = statistics.median(r["seconds"] for r in ui)
    ms_s = statistics.median(r["seconds"] for r in ours)
    report(f"history_{HISTORY_RUNS}_runs_web_ui_bulk_interval", ui_s, "s",
           f"{len(ui[0]['points'])} points, median of {len(ui)} fresh processes, {ld}")
    report(f"history_{HISTORY_RUNS}_runs_mlscope", ms_s, "s",
           f"metric_history on an open store, median of {len(ours)} fresh processes, {ld}")
    ratio = ui_s / ms_s
    report(f"history_{HISTORY_RUNS}_runs_ratio", ratio, "x",
           "target >= 10x: " + ("met" if ratio >= 10 else "NOT MET"))
    same = [tuple(p) for p in ui[0]["points"]] == [tuple(p) for p in ours[0]["points"]]
    report(f"history_{HISTORY_RUNS}_runs_same_points", "yes" if same else "NO",
           note=f"{len(ours[0]['points'])} points ({len(ids)} runs)")


def history_sqlite(args) -> None:
    """The history part against ``mlflow server --workers 2`` over a copy of bench_store.py's
    10,000-run SQLite store, whose histories are 100 steps long (the PostgreSQL store's are 10)."""
    from make_stores import ensure_stores
    from mlflow_stores import MlflowServer

    _, db = ensure_stores(Spec())
    with tempfile.TemporaryDirectory(prefix="mlscope-bench-server-") as tmp:
        shutil.copy(db, Path(tmp) / "mlflow.db")
        srv = MlflowServer(Path(tmp))
        try:
            history(srv.url, Spec().n_runs, args)
        finally:
            srv.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes a figure")
    parser.add_argument("--app-processes", type=int, default=1,
                        help="cold open + reopen pairs of the app")
    parser.add_argument("--mlflow-budget", type=float, default=900.0,
                        help="seconds before MLflow's search_runs (or the app) is stopped")
    parser.add_argument("--no-mlflow", action="store_true", help="mlscope's figures only")
    parser.add_argument("--only", default="runs,app,history",
                        help="comma-separated parts to run (runs,app,history); history-sqlite "
                             "alone: the history part behind a server over bench_store.py's "
                             "10,000-run SQLite store (100 steps a run)")
    args = parser.parse_args()
    if args.only == "history-sqlite":
        history_sqlite(args)
        return
    n = QUICK_RUNS if args.quick else FULL_RUNS
    spec = Spec(n_runs=n, **SHAPE)
    t = time.perf_counter()
    cluster, backend = ensure_store(spec)
    try:
        print(f"store ready in {time.perf_counter() - t:.1f} s: {cluster.base}", file=sys.stderr)
        report("store_runs", n, "runs", "PostgreSQL, 3 experiments, 10 params, 7 tags, "
               "5 metrics x 10 steps")
        prewarm(cluster)
        parts = set(args.only.split(","))
        with tempfile.TemporaryDirectory(prefix="mlscope-bench-server-") as tmp:
            tmp = Path(tmp)
            t = time.perf_counter()
            srv = start_server(tmp, backend)
            print(f"server up and warmed in {time.perf_counter() - t:.1f} s: {srv.url}",
                  file=sys.stderr)
            try:
                if "runs" in parts:
                    all_runs(srv.url, n, args, tmp)
                if "app" in parts:
                    app(srv.url, n, args, tmp)
                if "history" in parts:
                    history(srv.url, n, args)
            finally:
                srv.stop()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
