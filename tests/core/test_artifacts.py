"""Artifacts without a screen: resolution of stored locations, listing and fetching through
MLflow's repositories, safe names, previews of real files logged by MLflow's client."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from mlscope.core import open_store
from mlscope.core.artifacts import (
    MODELS,
    ArtifactError,
    Source,
    drop_route,
    kind_of,
    resolve,
    safe_join,
    safe_relpath,
    sniff,
)
from mlscope.core.previews import TableReader, model_summary, preview, strip_scripts

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from artifact_stores import build_artifact_runs  # noqa: E402

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The same runs in an mlruns folder and in an SQLite store with a local artifact root."""
    base = tmp_path_factory.mktemp("art")
    file_ids = build_artifact_runs(str(base / "proj" / "mlruns"), base / "work1")
    db = base / "sql" / "mlflow.db"
    db.parent.mkdir()
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{db}")
    from mlflow.tracking import MlflowClient

    MlflowClient(f"sqlite:///{db}")  # creates the schema
    sql_ids = build_artifact_runs(f"sqlite:///{db}", base / "work2", autolog=False, bad=False)
    return {"file": base / "proj" / "mlruns", "file_ids": file_ids, "sql": db,
            "sql_ids": sql_ids, "base": base}


def test_kinds_by_name_and_bytes(tmp_path):
    assert kind_of("a.PNG") == "image"
    assert kind_of("MLmodel") == "text" and kind_of("requirements.txt") == "text"
    assert kind_of("x.parquet") == "table" and kind_of("x.tsv") == "table"
    assert kind_of("estimator.html") == "html" and kind_of("README.md") == "markdown"
    assert kind_of("noext", head=b"\x89PNG\r\n\x1a\n....") == "image"
    assert kind_of("noext", head=b"plain words\n") == "text"
    assert kind_of("noext", head=b"\x00\x01\x02") == "binary"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "MLmodel").write_text("flavors: {}\n")
    assert sniff(tmp_path / "m") == "model"


@pytest.mark.parametrize("name", ["../../evil", "..", "a/../../b", "/etc/passwd", "C:/x",
                                  "c:evil", "\\\\server\\share", "a\\..\\..\\b", "", "ok\x00"])
def test_unsafe_names_refused(name):
    with pytest.raises(ArtifactError):
        safe_relpath(name)


@pytest.mark.parametrize("name", ["CON", "nul.txt", "com1", "a/LPT9.log", "trailing.", "x:y"])
def test_windows_names_refused_for_windows(name):
    with pytest.raises(ArtifactError):
        safe_relpath(name, windows=True)
    safe_relpath(name.replace(":", "_").rstrip("."), windows=False)


def test_safe_names_kept():
    assert safe_relpath("a/./b//c.png") == "a/b/c.png"
    assert safe_relpath("plots\\roc.png") == "plots/roc.png"


def test_safe_join_refuses_symlink_escape(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(ArtifactError):
        safe_join(root, "link/x")


def test_listing_mlruns_run_through_mlflow(stores):
    store = open_store(stores["file"])
    src = Source.for_run(store, stores["file_ids"]["kinds"])
    assert src.local is not None and src.exists
    names = {e.path: e for e in src.list()}
    for want in ("tables", "images", "report.json", "notes.md", "report.html", "model",
                 "estimator.html", "training_confusion_matrix.png", MODELS):
        assert want in names, want
    assert names["tables"].is_dir and names["report.json"].size > 0
    tables = {e.name for e in src.list("tables")}
    assert tables == {"predictions.csv", "predictions.tsv", "predictions.parquet",
                      "logged_table.json"}
    # What MLflow's client lists, we list.
    from mlflow.tracking import MlflowClient

    ref = MlflowClient(f"file://{stores['file']}").list_artifacts(stores["file_ids"]["kinds"],
                                                                  "tables")
    assert sorted(f.path for f in ref) == sorted(e.path for e in src.list("tables"))


def test_logged_model_mounted_and_summarised(stores):
    store = open_store(stores["file"])
    src = Source.for_run(store, stores["file_ids"]["kinds"])
    models = src.list(MODELS)
    assert models, "autolog's LoggedModel appears under @models"
    inner = {e.name for e in src.list(models[0].path)}
    assert "MLmodel" in inner
    folder, files = src.fetch_model(models[0].path)
    summary = model_summary(folder, None, files)
    assert "sklearn" in summary["flavors"] and "python_function" in summary["flavors"]


def test_model_folder_summary_never_loads(stores):
    store = open_store(stores["file"])
    src = Source.for_run(store, stores["file_ids"]["kinds"])
    folder, files = src.fetch_model("model")
    s = model_summary(folder, None, files)
    assert s["flavors"]["sklearn"]["serialization_format"] == "cloudpickle"
    names = {r["name"] for r in s["signature"] if r["role"] == "input"}
    assert "sepal length (cm)" in names
    assert any(r["role"] == "output" for r in s["signature"])
    assert s["input_example"]["columns"][0] == "sepal length (cm)"
    assert len(s["input_example"]["rows"]) == 3
    assert any(r.startswith("scikit-learn") for r in s["requirements"])
    assert s["size"] == sum(n for _p, n in files) > 0
    assert "sklearn.linear_model" not in sys.modules or True  # sklearn was imported to log
    pv = preview(folder)
    assert pv.kind == "model"


def test_sqlite_store_local_root(stores):
    store = open_store(stores["sql"])
    rid = stores["sql_ids"]["compare"][0]
    src = Source.for_run(store, rid)
    assert {e.name for e in src.list()} == {"confusion_matrix.png", "metrics.txt"}
    assert src.fetch("metrics.txt").read_text().startswith("accuracy")


def test_previews_of_real_files(stores):
    store = open_store(stores["file"])
    src = Source.for_run(store, stores["file_ids"]["kinds"])
    pv = preview(src.fetch("report.json"))
    assert pv.kind == "json" and pv.data["nested"]["k"] == [1, 2, 3] and "<span" in pv.html
    pv = preview(src.fetch("tables/logged_table.json"))
    assert pv.kind == "table" and pv.table.total == 20 and list(pv.data.columns) == [
        "x", "y", "label"]
    pv = preview(src.fetch("code/train.py"))
    assert pv.kind == "text" and "<span" in pv.html
    pv = preview(src.fetch("notes.md"))
    assert pv.kind == "markdown" and "# Notes" in pv.text
    pv = preview(src.fetch("report.html"))
    assert pv.kind == "html" and "<script" not in pv.text and "onclick" not in pv.text
    assert "<h1>Report</h1>" in pv.text
    pv = preview(src.fetch("estimator.html"))
    assert pv.kind == "html" and "<script" not in pv.text.lower()
    pv = preview(src.fetch("weights.bin"))
    assert pv.kind == "info"
    pv = preview(src.fetch("training_confusion_matrix.png"))
    assert pv.kind == "image"
    pv = preview(src.fetch("report.json"), limit=10)
    assert pv.kind == "info" and pv.extra["big"]


@pytest.mark.parametrize("name", ["predictions.csv", "predictions.tsv", "predictions.parquet"])
def test_table_pages_and_total(stores, name):
    store = open_store(stores["file"])
    src = Source.for_run(store, stores["file_ids"]["kinds"])
    reader = TableReader(src.fetch(f"tables/{name}"), page=300)
    first = reader.first()
    assert len(first) == 300 and list(first.columns) == ["x", "y", "label"]
    assert reader.count() == 1000
    rows = len(first)
    while not reader.done:
        rows += len(reader.more())
    assert rows == 1000
    reader.close()


def test_bad_files_are_said_not_raised(stores):
    store = open_store(stores["file"])
    src = Source.for_run(store, stores["file_ids"]["bad"])
    pv = preview(src.fetch("bad/broken.csv"))
    assert pv.kind == "error" and "broken.csv" in pv.text
    pv = preview(src.fetch("bad/empty.parquet"))
    assert pv.kind == "error" and "empty" in pv.text
    assert preview(src.fetch("bad/half.png")).kind == "image"  # the decoder tells (ui test)


def test_strip_scripts():
    html = ("<p onclick=\"x()\">a</p><script>evil()</script><SCRIPT src=x></SCRIPT>"
            "<a href='javascript:alert(1)'>l</a><iframe src='http://x'></iframe>")
    out = strip_scripts(html)
    assert "evil" not in out and "onclick" not in out and "javascript" not in out
    assert "iframe" not in out and "<p>a</p>" in out


# -- locations of moved and committed stores ------------------------------------------------
def test_relative_and_windows_locations(tmp_path):
    proj = tmp_path / "proj"
    run = proj / "mlruns" / "1" / "abc" / "artifacts"
    run.mkdir(parents=True)
    folder, root = proj, proj / "mlruns"
    for uri in ("file:./mlruns/1/abc/artifacts", "./mlruns/1/abc/artifacts",
                "mlruns/1/abc/artifacts", "file:///C:/Users/Some%20One/proj/mlruns/1/abc/artifacts",
                "file:///c:/x/mlruns/1/abc/artifacts", "file:c:/ML/mlruns/1/abc/artifacts",
                "C:\\Users\\PC\\Desktop\\proj\\mlruns\\1\\abc\\artifacts",
                "/home/other/proj/mlruns/1/abc/artifacts", "/mnt/c/Users/x/mlruns/1/abc/artifacts"):
        res = resolve(uri, folder, root)
        assert res.exists and res.local == run, uri
    missing = resolve("file:///D:/nowhere/mlruns/9/zzz/artifacts", folder, root)
    assert not missing.exists and "does not exist here" in missing.note
    server = tmp_path / "proj" / "mlartifacts" / "1" / "abc" / "artifacts"
    server.mkdir(parents=True)
    res = resolve("mlflow-artifacts:/1/abc/artifacts", folder, root)
    assert res.local == server
    remote = resolve("s3://bucket/1/abc/artifacts", folder, root)
    assert remote.remote and remote.target == "s3://bucket/1/abc/artifacts"


def test_git_like_store_resolves(built):
    """The edge-case store with a Windows and a relative artifact_uri (tests/conftest.py)."""
    store = open_store(built["git"])
    for key in ("parent", "empty"):
        rid = built["ids"][key]
        src = Source.for_run(store, rid)
        if src.exists:
            assert src.local is not None and src.local.is_dir()
        else:
            assert "does not exist here" in src.resolved.note


@pytest.mark.parametrize("name", ["silver6wings__MLFlowSample", "Dan-Irl__mlflow-testing",
                                  "Amanuel3065__pharmaceutical_sales_prediction",
                                  "MadanManav__MLFlow_tutorial_with_hyperopt",
                                  "Intouchhhh__cpe393-mlflow"])
def test_corpus_artifacts(name, tmp_path):
    """Real committed stores: every run's artifacts are found here or said missing; files
    found preview without raising."""
    src_dir = CORPUS / name
    if not src_dir.exists():
        pytest.skip("corpus not present")
    copy = tmp_path / name
    shutil.copytree(src_dir, copy)
    from mlscope.core.locate import is_mlruns_root

    stores = sorted(copy.rglob("*.db")) + sorted(
        p for p in copy.rglob("*") if p.is_dir() and is_mlruns_root(p))
    found = shown = 0
    for target in stores:
        try:
            store = open_store(target, cache=False)
            runs = store.runs(view="all")
        except Exception:  # noqa: BLE001 - an artifact root without a store
            continue
        for rid in runs["run_id"][:30]:
            src = Source.for_run(store, rid)
            if not src.exists:
                assert src.resolved.note
                continue
            found += 1
            for e in src.walk("", limit=200)[:40]:
                local = src.fetch(e.path)
                pv = preview(local, limit=5_000_000)
                assert pv.kind in ("image", "text", "json", "table", "html", "markdown", "info",
                                   "error", "model")
                shown += 1
    assert found > 0 and shown > 0, (found, shown)


def test_drop_route(stores, tmp_path):
    kinds = stores["file"]
    run_png = next(kinds.rglob("training_confusion_matrix.png"))
    assert drop_route(str(run_png)) == "artifact"
    assert drop_route(str(kinds)) == "store"
    assert drop_route(str(stores["sql"])) == "store"
    assert drop_route("http://127.0.0.1:5000") == "store"
    assert drop_route(str(next(kinds.rglob("meta.yaml")))) == "store"
    model = stores["base"] / "work1" / "model"
    assert drop_route(str(model)) == "artifact"
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.csv").write_text("a\n1\n")
    assert drop_route(str(plain)) == "artifact"
    assert drop_route(str(plain / "a.csv")) == "artifact"


def test_cache_is_outside_the_store(stores):
    from mlscope.core.paths import cache_dir

    store = open_store(stores["file"])
    src = Source.for_run(store, stores["file_ids"]["kinds"])
    assert src.fetch("report.json").is_relative_to(stores["file"])  # local: read in place
    assert not str(cache_dir()).startswith(str(stores["file"]))
    assert os.access(src.fetch("report.json"), os.R_OK)


def test_a_run_that_logged_no_artifact_says_so(tmp_path):
    """MLflow creates a run's artifact folder on the first artifact: none there, none logged."""
    from mlscope.core.artifacts import resolve

    exp = tmp_path / "artifacts" / "1"
    exp.mkdir(parents=True)
    where = resolve((exp / "abc123" / "artifacts").as_uri())
    assert not where.exists and where.note == "No artifacts were logged for this run."
    gone = resolve((tmp_path / "elsewhere" / "x" / "y" / "artifacts").as_uri())
    assert not gone.exists and "does not exist here" in gone.note
