"""Whatever a user double-clicks opens the right store and selects the right run."""

import os
import shutil
import time

import pytest

from mlscope.core import StoreNotFound, locate, open_store


@pytest.fixture
def project(built, tmp_path):
    """A project folder holding both an mlruns/ and an mlflow.db, as mlops course repos do."""
    shutil.copytree(built["file"], tmp_path / "mlruns")
    shutil.copy(built["sqlite"], tmp_path / "mlflow.db")
    return tmp_path


def test_root_whatever_its_name(built, tmp_path):
    odd = tmp_path / "runs" / "mlflow"
    shutil.copytree(built["file"], odd)
    loc = locate(odd)
    assert loc.kind == "file" and loc.path == odd.resolve() and loc.run_id is None


def test_paths_inside_the_tree_select_experiment_and_run(built):
    ids = built["ids"]
    root = built["file"]
    exp = locate(root / ids["alpha"])
    assert (exp.path, exp.experiment_id, exp.run_id) == (root.resolve(), ids["alpha"], None)
    run_dir = root / ids["alpha"] / ids["running"]
    for inside in (run_dir, run_dir / "metrics", run_dir / "metrics" / "rmse", run_dir / "meta.yaml"):
        loc = locate(inside)
        assert (loc.path, loc.experiment_id, loc.run_id) == (root.resolve(), ids["alpha"], ids["running"]), inside
    nested = run_dir / "metrics" / "nested"
    nested.mkdir()
    try:
        assert locate(nested).run_id == ids["running"]
    finally:
        nested.rmdir()


def test_trashed_experiment_folder(built):
    root = built["git"]
    loc = locate(root / ".trash" / built["ids"]["gamma"])
    assert loc.path == root.resolve() and loc.experiment_id == built["ids"]["gamma"]


def test_project_folder_with_both_says_so_and_defaults_to_the_newer(project):
    now = time.time()
    os.utime(project / "mlflow.db", (now + 100, now + 100))
    loc = locate(project)
    assert loc.kind == "sql" and "mlflow.db" in loc.note and "mlruns" in loc.note
    assert [a.kind for a in loc.alternatives] == ["file"]
    assert locate(project, choice="file").kind == "file"
    os.utime(project / "mlflow.db", (now - 10_000, now - 10_000))
    for entry in (project / "mlruns").iterdir():
        os.utime(entry, (now + 200, now + 200))
    assert locate(project).kind == "file"


def test_uris(built):
    db = built["sqlite"]
    assert locate(f"sqlite:///{db}").path == db.resolve()
    assert locate(db.resolve().as_uri()).kind == "sql"
    assert locate(built["file"].resolve().as_uri()).kind == "file"
    assert locate("postgresql://u@h/db").kind == "sql"
    assert locate("https://mlflow.example.com/").uri == "https://mlflow.example.com"
    assert len(open_store(f"sqlite:///{db}").runs(view="all")) == 12


def test_not_a_store(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    for target in (tmp_path, tmp_path / "notes.txt", tmp_path / "missing", "ftp://x/y", ""):
        with pytest.raises(StoreNotFound):
            locate(target)


def test_mlruns_that_is_only_an_artifact_root_is_not_a_store(built, tmp_path):
    """A DB's artifact folder named mlruns (no meta.yaml experiments) is not an mlruns store."""
    (tmp_path / "mlruns" / "1" / "abc" / "artifacts").mkdir(parents=True)
    shutil.copy(built["sqlite"], tmp_path / "mlflow.db")
    loc = locate(tmp_path)
    assert loc.kind == "sql" and loc.alternatives == []
