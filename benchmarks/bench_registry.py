"""The model registry, mlscope against MLflow's client, side by side in one run.

    python benchmarks/bench_registry.py [--quick] [--no-server] [--page-sizes]

A registry of 1,000 models x 10 versions (--quick: 100 x 10) in an SQLite store: MLflow
creates the schema and writes one model (tags, 10 versions in every stage, aliases) with
its own client; sqlite3 copies that model's rows under 999 more names; MLflow's client
then reads the count back. Cached in benchmarks/_stores/. Prints ``name: value unit``:

- listing every model and version: MLflow's ``search_registered_models`` +
  ``search_model_versions`` (its default page sizes, paged, single run) vs mlscope's
  ``registered_models()`` + ``model_versions()`` (open included, best of 3), and the
  registry view filled with them;
- through a local ``mlflow server`` on 127.0.0.1 serving that file: MLflow's client; the
  server alone (its two searches fetched raw, bodies not even decoded: the floor any client
  has); and what an mlscope user sees, in the registry view driven by its controller: the
  first models, every model listed (name, latest version per stage, aliases, tags), every
  version read;
- one stage change written through mlscope's door (MlflowClient) and re-read as the app
  does (the model it changed), and for contrast the whole registry re-read.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "app"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

VERSIONS = 10
STAGES = ["Archived"] * 6 + ["None", "Archived", "Staging", "Production"]
TEMPLATE = "model-00000"


def report(name: str, value, unit: str = "", note: str = "") -> None:
    if isinstance(value, float):
        value = f"{value:.3g}" if value < 100 else f"{value:.0f}"
    print(f"{name}: {value} {unit}".rstrip() + (f" ({note})" if note else ""), flush=True)


def best_of(n: int, fn):
    best, result = float("inf"), None
    for _ in range(n):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def build(db: Path, n_models: int) -> None:
    """One model written by MLflow's client, its rows copied under n_models - 1 more names."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{db}"
    client = MlflowClient(uri, uri)
    exp = client.create_experiment("registry-bench")
    runs = [client.create_run(exp, run_name=f"train-{i}").info.run_id for i in range(VERSIONS)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.create_registered_model(TEMPLATE, tags={"team": "risk", "task": "credit"},
                                       description="A credit scoring model.")
        for i, stage in enumerate(STAGES):
            v = client.create_model_version(TEMPLATE, f"runs:/{runs[i]}/model", run_id=runs[i],
                                            tags={"n": str(i)}, description=f"version {i + 1}")
            if stage != "None":
                client.transition_model_version_stage(TEMPLATE, v.version, stage)
        client.set_registered_model_alias(TEMPLATE, "champion", str(VERSIONS))
        client.set_registered_model_alias(TEMPLATE, "challenger", str(VERSIONS - 1))
    conn = sqlite3.connect(db)
    names = [(f"model-{i:05d}",) for i in range(1, n_models)]
    with conn:
        for table in ("registered_models", "model_versions", "registered_model_tags",
                      "model_version_tags", "registered_model_aliases"):
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            other = ", ".join(c if c != "name" else "?" for c in cols)
            conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {other} FROM {table} "
                             f"WHERE name = '{TEMPLATE}'", names)
    conn.close()
    got = len(client.search_registered_models(max_results=1000)) if n_models <= 1000 else None
    if got is not None and got != n_models:
        raise SystemExit(f"built {got} models, wanted {n_models}")


def ensure(n_models: int) -> Path:
    import mlflow

    folder = HERE / "_stores" / f"registry-{n_models}x{VERSIONS}-mlflow{mlflow.__version__}"
    db = folder / "mlflow.db"
    if not db.exists():
        tmp = Path(tempfile.mkdtemp(prefix=".registry-", dir=HERE / "_stores"
                                    if (HERE / "_stores").exists() else None))
        build(tmp / "mlflow.db", n_models)
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    return db


def mlflow_list(uri: str) -> tuple[int, int]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri, uri)
    models, token = [], None
    while True:  # MLflow's default page sizes: 100 models, 10,000 versions
        page = client.search_registered_models(page_token=token)
        models += page
        token = page.token
        if not token:
            break
    versions, token = [], None
    while True:
        page = client.search_model_versions(page_token=token)
        versions += page
        token = page.token
        if not token:
            break
    return len(models), len(versions)


def mlscope_list(target: str):
    from mlscope.core import open_store

    store = open_store(target)
    return store.registered_models(), store.model_versions()


def side_by_side(prefix: str, target: str, uri: str, n_models: int, repeat: int) -> None:
    t0 = time.perf_counter()
    n, nv = mlflow_list(uri)
    theirs = time.perf_counter() - t0
    ours, (models, versions) = best_of(repeat, lambda: mlscope_list(target))
    assert (len(models), len(versions)) == (n, nv) == (n_models, n_models * VERSIONS), \
        (len(models), len(versions), n, nv)
    report(f"{prefix}_list_mlflow", theirs, "s", f"{n} models, {nv} versions")
    report(f"{prefix}_list_mlscope", ours, "s")
    report(f"{prefix}_list_ratio", theirs / ours, "x")
    return models, versions


def view_fill(models, versions, repeat: int) -> None:
    from PySide6.QtWidgets import QApplication

    from mlscope.ui.views.registry import RegistryView

    app = QApplication.instance() or QApplication([])
    view = RegistryView()
    view.resize(1000, 700)
    view.show()
    secs, _ = best_of(repeat, lambda: (view.set_registry(models, versions), app.processEvents()))
    report("registry_view_fill", secs, "s", f"{len(models)} models, the first model's versions")
    view.close()


def write_and_reread(db: Path, repeat: int) -> None:
    from mlscope.core import open_store
    from mlscope.core.registry import changes as C
    from mlscope.core.registry import listing as L
    from mlscope.core.registry import write as W
    from mlscope.ui.controllers.registry import read_registry

    work = Path(tempfile.mkdtemp(prefix="registry-write-")) / "mlflow.db"
    shutil.copy(db, work)
    store = open_store(work)
    uri = W.write_uri(store)
    t0 = time.perf_counter()
    W.model_state(uri, TEMPLATE)  # the first call imports MLflow's client
    report("registry_first_client_call", time.perf_counter() - t0, "s", "import mlflow included")
    writes, rereads, fulls = [], [], []
    listing = L.read(store)
    for i in range(repeat):
        v = listing.versions[listing.versions["name"] == TEMPLATE]
        stages = dict(zip(v["version"].astype(int), v["current_stage"], strict=True))
        to = "Staging" if stages[VERSIONS] != "Staging" else "Production"
        change = C.transition(TEMPLATE, VERSIONS, to, stages, archive_existing=True)
        t0 = time.perf_counter()
        C.apply(change, uri)  # what the controller runs on Apply...
        t1 = time.perf_counter()
        listing = L.reread(store, listing, [TEMPLATE])  # ...and then
        t2 = time.perf_counter()
        writes.append(t1 - t0)
        rereads.append(t2 - t0)
        now = listing.versions[(listing.versions["name"] == TEMPLATE)
                               & (listing.versions["version"] == VERSIONS)]
        assert now["current_stage"].iloc[0] == to, i
        t0 = time.perf_counter()
        _models, versions = read_registry(store, fresh=True)
        fulls.append(time.perf_counter() - t0)
        assert len(versions) == len(listing.versions)
    report("registry_write_sqlite", min(writes), "s",
           "stage change with archiving, its expectations checked, written by MlflowClient")
    report("registry_write_reread_sqlite", min(rereads), "s",
           f"the write and the re-read of the model it changed, of {len(listing.versions)} "
           f"versions; best of {repeat}")
    report("registry_full_reread_sqlite", min(fulls), "s",
           "for contrast: the whole registry read again")
    shutil.rmtree(work.parent, ignore_errors=True)


def server_alone(url: str, models_page: int | None = None) -> tuple[float, float]:
    """The server's own time: its two searches page by page as mlscope asks them, bodies
    fetched but not decoded (what no client can go under). ``models_page``: only the
    models, in pages of that size."""
    import requests

    from mlscope.core.registry import rest

    api = f"{url}/api/2.0/mlflow"
    session = requests.Session()

    def pages(path: str, args: dict) -> float:
        t0, token = time.perf_counter(), None
        while True:
            resp = session.get(f"{api}/{path}", params={**args, **({"page_token": token}
                                                                   if token else {})})
            resp.raise_for_status()
            token = resp.json().get("next_page_token") if b"next_page_token" in resp.content \
                else None
            if not token:
                return time.perf_counter() - t0

    models = pages("registered-models/search", {"max_results": models_page or rest.MODELS_PAGE})
    if models_page:
        return models, 0.0
    versions = pages("model-versions/search", {"max_results": rest.VERSIONS_PAGE,
                                               "order_by": rest.NAME_ORDER})
    return models, versions


def as_seen(url: str, n_models: int) -> tuple[float, float, float]:
    """The registry view and its controller on the server: seconds until the first models
    are on screen, until all are, until every version is read."""
    from PySide6.QtWidgets import QApplication

    from mlscope.core import open_store
    from mlscope.ui.controllers.registry import RegistryController
    from mlscope.ui.tasks import Tasks

    app = QApplication.instance() or QApplication([])
    tasks = Tasks()
    t0 = time.perf_counter()
    ctl = RegistryController(tasks, open_store(url))
    ctl.view.resize(1000, 700)
    ctl.view.show()
    first = listed = None
    try:
        while ctl.versions is None:
            app.processEvents()
            rows = ctl.view.models_model.rowCount()
            if first is None and rows:
                first = time.perf_counter() - t0
            if listed is None and rows == n_models:
                listed = time.perf_counter() - t0
            time.sleep(0.002)
            if time.perf_counter() - t0 > 600:
                raise SystemExit("the registry was not read in 10 minutes")
        complete = time.perf_counter() - t0
        app.processEvents()
        assert ctl.view.models_model.rowCount() == n_models and len(ctl.versions) == \
            n_models * VERSIONS
    finally:
        ctl.view.close()
        tasks.shutdown()
    return first or complete, listed or complete, complete


def server_side_by_side(url: str, n_models: int, repeat: int, page_sizes: bool) -> None:
    from mlscope.core.registry import rest

    t0 = time.perf_counter()
    n, nv = mlflow_list(url)
    theirs = time.perf_counter() - t0
    assert (n, nv) == (n_models, n_models * VERSIONS), (n, nv)
    report("registry_server_list_mlflow", theirs, "s",
           f"search_registered_models + search_model_versions, {n} models, {nv} versions")
    runs, seen = [], []
    for _ in range(repeat):  # interleaved: the machine's load hits both alike
        runs.append(server_alone(url))
        seen.append(as_seen(url, n_models))
    models_alone = min(r[0] for r in runs)
    versions_alone = min(r[1] for r in runs)
    report("registry_server_alone_models", models_alone, "s",
           f"registered-models/search in pages of {rest.MODELS_PAGE}, not decoded")
    report("registry_server_alone_versions", versions_alone, "s",
           f"model-versions/search in pages of {rest.VERSIONS_PAGE}, not decoded")
    first, listed, complete = (min(s[i] for s in seen) for i in range(3))
    report("registry_server_first_models_shown", first, "s", "mlscope's view, open included")
    report("registry_server_models_listed", listed, "s",
           f"all {n_models} models on screen with latest versions, aliases, tags")
    report("registry_server_versions_complete", complete, "s",
           f"all {n_models * VERSIONS} versions read (a model opened earlier is read alone)")
    report("registry_server_ratio", theirs / complete, "x", "MLflow's client / mlscope complete")
    if page_sizes:  # the server's model search by page size, interleaved, best of `repeat`
        sizes = (100, 200, 500, 1000)
        best = dict.fromkeys(sizes, float("inf"))
        for _ in range(repeat):
            for size in sizes:
                best[size] = min(best[size], server_alone(url, size)[0])
        for size in sizes:
            report(f"registry_server_alone_models_pages_of_{size}", best[size], "s",
                   "registered-models/search, not decoded")


def settle(url: str) -> None:
    """A new MLflow server's first full model search is ~10x slower than the next ones
    (23.5 s, then 2.9 s and 1.9 s for 1,000 models, load 12): whoever is timed first would
    pay it. It is paid here, and reported."""
    t0 = time.perf_counter()
    server_alone(url)
    report("registry_server_first_search_after_start", time.perf_counter() - t0, "s",
           "a new server's first searches of all models and versions, raw; not counted below")


def serve(db: Path):
    import requests

    sys.path.insert(0, str(HERE.parent / "tests"))
    from mlflow_stores import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    base = Path(tempfile.mkdtemp(prefix="registry-server-"))
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
                             "--port", str(port), "--backend-store-uri", f"sqlite:///{db}",
                             "--default-artifact-root", str(base), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=base)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/health", timeout=1).ok:
                settle(url)
                return url, proc
        except requests.RequestException:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("mlflow server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 models instead of 1,000")
    parser.add_argument("--no-server", action="store_true", help="skip the local mlflow server")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--page-sizes", action="store_true",
                        help="also time the server's model search at page sizes 100-1,000")
    args = parser.parse_args()
    n_models = 100 if args.quick else 1000
    t0 = time.perf_counter()
    db = ensure(n_models)
    report("registry_store_ready", time.perf_counter() - t0, "s", str(db.parent.name))
    models, versions = side_by_side("registry_sqlite", str(db), f"sqlite:///{db}", n_models,
                                    args.repeat)
    view_fill(models, versions, args.repeat)
    write_and_reread(db, args.repeat)
    if not args.no_server:
        served = Path(tempfile.mkdtemp(prefix="registry-served-")) / "mlflow.db"
        shutil.copy(db, served)
        url, proc = serve(served)
        try:
            server_side_by_side(url, n_models, args.repeat, args.page_sizes)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            shutil.rmtree(served.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
