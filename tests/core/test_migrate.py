"""Migrate to SQLite: MLflow's own migration of a folder MLflow's client wrote, the folder
untouched (hashed), the new database read back by a separate MlflowClient and counted by
mlscope on both sides; the git-like variant, refusals, a failure and a cancel leave nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from mlflow_stores import build, make_git_like_variant, reference, restore_run_dirs, same
from mlscope.core.errors import Cancelled
from mlscope.core.migrate import MigrateError, migrate, plan
from registry_helpers import build_registry, registry_state


def tree_hash(root: Path) -> str:
    """Every folder (empty ones too), file name, content and mode under root."""
    h = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        h.update(f"D {os.path.relpath(folder, root)} {oct(os.stat(folder).st_mode)}\n".encode())
        for name in sorted(files):
            path = os.path.join(folder, name)
            h.update(f"F {name} {oct(os.stat(path).st_mode)}\n".encode())
            h.update(Path(path).read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """An mlruns folder written by MLflow's client: runs, params, metric histories, tags,
    parent/children, deleted runs and experiments, a dataset, and a file model registry."""
    root = tmp_path_factory.mktemp("migrate-src") / "mlruns"
    ids = build(str(root))
    ids["registry"] = build_registry(root.as_uri())
    from mlflow.tracking import MlflowClient

    MlflowClient(root.as_uri()).log_text(ids["children"][0], "hello", "notes/readme.txt")
    return root, ids


@pytest.fixture(scope="module")
def migrated(source, tmp_path_factory):
    root, _ids = source
    project = tmp_path_factory.mktemp("migrate-project")
    folder = project / "mlruns"
    shutil.copytree(root, folder)
    before = tree_hash(folder)
    seen = []
    report = migrate(folder, progress=lambda done, total: seen.append((done, total)))
    return folder, before, report, seen


def mlflow_frame(uri: str):
    return reference(uri).sort_values("run_id").reset_index(drop=True)


def as_sql_stores_it(frame):
    """MLflow's SQL store keeps +-inf metric values as +-max float (its own documented
    sanitising, the file store keeps inf): the one difference between MLflow's two answers."""
    cols = [c for c in frame.columns if c.startswith("metrics.")]
    frame[cols] = frame[cols].replace({np.inf: sys.float_info.max, -np.inf: -sys.float_info.max})
    return frame


def test_folder_to_sqlite_beside_it_untouched_and_nothing_lost(migrated):
    folder, before, report, seen = migrated
    assert tree_hash(folder) == before  # the source folder: not one byte, folder or mode changed
    target = folder.parent / "mlflow.db"
    assert report.plan.target == target and target.is_file()
    assert sorted(p.name for p in folder.parent.iterdir()) == ["mlflow.db", "mlruns"]  # no leftovers
    assert report.ok, report.differences
    counts = {c.what: c.target for c in report.counts}
    assert counts["runs"] == 16 and counts["deleted runs"] == 2
    assert counts["metric points"] > 1000 and counts["params"] > 0 and counts["tags"] > 0
    assert counts["registered models"] == 3 and counts["model versions"] == 5
    assert "Migration summary" in report.mlflow_summary and str(target) in report.mlflow_summary
    assert seen[-1][0] == seen[-1][1] == report.plan.experiments + report.plan.models
    assert report.plan.repairs == [] and report.plan.trashed_active == []
    # one plain file, like any sqlite:/// store MLflow creates (no WAL left behind)
    con = sqlite3.connect(target)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_mlflow_reads_the_same_runs_and_registry_from_both(source, migrated):
    _root, ids = source
    folder, _before, report, _seen = migrated
    uri = f"sqlite:///{report.plan.target}"
    same(mlflow_frame(uri), as_sql_stores_it(mlflow_frame(str(folder))))
    assert registry_state(uri) == registry_state(folder.as_uri())
    # artifacts stay where they are: the new database's runs point at them, not at copies
    from mlflow.tracking import MlflowClient

    listed = MlflowClient(uri).list_artifacts(ids["children"][0], "notes")
    assert [a.path for a in listed] == ["notes/readme.txt"]


def test_git_committed_folder_is_repaired_on_a_copy(source, tmp_path):
    root, ids = source
    git = tmp_path / "repo" / "mlruns"
    make_git_like_variant(root, git, ids)
    before = tree_hash(git)
    target = tmp_path / "elsewhere" / "moved.db"
    target.parent.mkdir()
    report = migrate(git, target)
    assert tree_hash(git) == before
    repaired = {r.run_id: r.missing for r in report.plan.repairs}
    assert ids["empty"] in repaired and set(repaired[ids["empty"]]) == {
        "metrics", "params", "artifacts"}
    assert ids["parent"] in repaired and "params" in repaired[ids["parent"]]
    assert set(repaired[ids["long"]]) == {"params", "artifacts"}  # in .trash: found there too
    # in .trash but its meta.yaml says active: still deleted in the database, as in the folder
    assert report.plan.trashed_active == [ids["gamma"]]
    assert report.ok, report.differences
    assert sorted(os.listdir(tmp_path / "elsewhere")) == ["moved.db"]
    # MLflow reads the migrated runs as it reads the folder once its folders are restored
    fixed = tmp_path / "fixed" / "mlruns"
    shutil.copytree(git, fixed)
    restore_run_dirs(fixed)
    same(mlflow_frame(f"sqlite:///{target}"), as_sql_stores_it(mlflow_frame(str(fixed))))


def test_cancel_kills_mlflow_and_leaves_nothing(source, tmp_path):
    root, _ids = source
    out = tmp_path / "out"
    out.mkdir()
    during = []

    def progress(done, _total):
        if done >= 1:  # MLflow has created its tables and moved one experiment
            during.append(os.listdir(out))

    with pytest.raises(Cancelled):
        migrate(root, out / "mlflow.db", progress=progress, cancel=lambda: bool(during))
    assert during[0] and "mlflow.db" not in during[0]  # a hidden partial file, never the target
    assert os.listdir(out) == []


def test_a_failing_migration_names_the_folder_and_leaves_nothing(source, tmp_path):
    root, ids = source
    bad = tmp_path / "mlruns"
    shutil.copytree(root, bad)
    run = ids["children"][0]  # the same run id in two experiments: MLflow's insert fails
    shutil.copytree(bad / ids["alpha"] / run, bad / ids["delta"] / run)
    with pytest.raises(MigrateError) as err:
        migrate(bad, tmp_path / "x.db")
    assert str(bad) in str(err.value) and "UNIQUE" in str(err.value)
    assert sorted(os.listdir(tmp_path)) == ["mlruns"]


def unwritable_dir(tmp_path) -> Path:
    if os.geteuid() == 0:  # root writes anywhere chmod allows nothing: a read-only file system
        return Path("/sys/kernel")
    d = tmp_path / "ro"
    d.mkdir(mode=0o500)
    return d


WORDS = {"exists": "already exists", "not-mlruns": "", "database": "only a file store",
         "unwritable": "Cannot write", "no-folder": "does not exist", "inside": "inside"}


@pytest.mark.parametrize("case", list(WORDS))
def test_bad_input_is_refused_before_mlflow_starts_naming_the_path(source, tmp_path, case):
    root, _ids = source
    folder, target, named = root, None, None
    if case == "exists":
        target = tmp_path / "mlflow.db"
        target.write_bytes(b"mine")
        named = target
    elif case == "not-mlruns":
        folder = named = tmp_path / "photos"
        folder.mkdir()
    elif case == "database":
        folder = named = tmp_path / "mlflow.db"
        sqlite3.connect(folder).execute("CREATE TABLE t (x)").connection.close()
    elif case == "unwritable":
        named = unwritable_dir(tmp_path)
        target = named / "mlflow.db"
    elif case == "no-folder":
        target = tmp_path / "missing" / "mlflow.db"
        named = target.parent
    else:
        target = named = root / "mlflow.db"
    with pytest.raises(MigrateError) as err:
        plan(folder, target)
    assert str(named) in str(err.value) and WORDS[case] in str(err.value)
    if case == "exists":
        assert target.read_bytes() == b"mine"
