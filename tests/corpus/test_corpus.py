"""Every real store in the corpus ($MLSCOPE_CORPUS, else ../shared/corpus): mlscope reads
the original, MLflow reads a copy. Without a corpus they skip saying how to run them (under
CI=true they fail).

MLflow 3.17 migrates SQLite copies in place and needs empty run folders that git dropped
(recreated on a second copy for get_metric_history); mlscope needs neither. The one store
MLflow "opens" by inventing data (a half-initialised mlflow.db with a hot journal) is
reported by mlscope as not an MLflow database.
"""

import json
import os
import shutil
import stat

import mlflow
import pandas as pd
import pytest
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from corpus_location import corpus_dir, require
from mlflow_stores import (
    history_reference,
    restore_run_dirs,
    same_experiments,
    same_history,
    trashed_saying_active,
)
from mlscope.core import StoreCorrupt, open_store

CORPUS = corpus_dir()
GROUND_TRUTH = CORPUS / "ground_truth.json"
MISSING = ("(no corpus)", "", "")  # one placeholder case, so a missing corpus is reported


@pytest.fixture(autouse=True)
def _corpus_present():
    require(GROUND_TRUTH)


def corpus_stores():
    if not GROUND_TRUTH.exists():
        return [MISSING]
    gt = json.loads(GROUND_TRUTH.read_text())
    return [(repo, s["path"], s["kind"]) for repo, v in gt.items() if not repo.startswith("_")
            for s in v["stores"]]


INVENTED_BY_MLFLOW = {("mlopslabs02__mlopsdemo3", "mlflow.db")}


def writable_copy(repo, tmp_path):
    dst = tmp_path / repo
    shutil.copytree(CORPUS / repo, dst)
    for folder, _dirs, files in os.walk(dst):
        os.chmod(folder, 0o755)
        for f in files:
            os.chmod(os.path.join(folder, f), 0o644)
    return dst


def ref_uri(copy, path, kind):
    return str(copy / path) if kind == "file" else f"sqlite:///{copy / path}"


@pytest.mark.parametrize("repo,path,kind", corpus_stores(), ids=lambda x: str(x))
def test_runs_and_experiments_equal_mlflow(repo, path, kind, tmp_path):
    target = CORPUS / repo / path
    if (repo, path) in INVENTED_BY_MLFLOW:
        with pytest.raises(StoreCorrupt) as err:
            open_store(target, cache=False)
        assert str(target.resolve()) in str(err.value) and "journal" in str(err.value)
        return
    store = open_store(target, cache=False)
    assert store.problems == []
    copy = writable_copy(repo, tmp_path)
    uri = ref_uri(copy, path, kind)
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    for view, vt in (("active", ViewType.ACTIVE_ONLY), ("deleted", ViewType.DELETED_ONLY), ("all", ViewType.ALL)):
        ref_exps = client.search_experiments(view_type=vt)
        same_experiments(store.experiments(view), ref_exps, trashed_saying_active(client))
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    ref = mlflow.search_runs(ids, run_view_type=ViewType.ALL)
    ours = store.runs(view="all")
    assert set(ours.columns) == set(ref.columns)
    assert list(ours["run_id"]) == list(ref["run_id"])
    if len(ref):
        cols = sorted(ref.columns)
        pd.testing.assert_frame_equal(ours[cols], ref[cols], check_exact=True)
    gt = json.loads(GROUND_TRUTH.read_text())[repo]
    expected = next(s for s in gt["stores"] if s["path"] == path)["mlflow"]["n_runs_total"]
    assert len(ours) == expected


@pytest.mark.parametrize("repo,path,kind", [s for s in corpus_stores() if (s[0], s[1]) not in INVENTED_BY_MLFLOW],
                         ids=lambda x: str(x))
def test_metric_history_and_registry_equal_mlflow(repo, path, kind, tmp_path):
    store = open_store(CORPUS / repo / path, cache=False)
    copy = writable_copy(repo, tmp_path)
    if kind == "file":
        restore_run_dirs(copy / path)
    uri = ref_uri(copy, path, kind)
    client = MlflowClient(uri, registry_uri=uri)
    runs = store.runs(view="all")
    keys = sorted(c[8:] for c in runs.columns if c.startswith("metrics."))
    ours = store.metric_history(list(runs["run_id"]), keys)
    same_history(ours, history_reference(client, runs["run_id"], keys))
    ref_models = {m.name: dict(m.aliases) for m in client.search_registered_models()}
    models = store.registered_models()
    assert dict(zip(models["name"], models["aliases"], strict=False)) == ref_models
    ref_versions = sorted((v.name, int(v.version), v.current_stage, v.run_id)
                          for v in client.search_model_versions())
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    ref_logged = sorted(m.model_id for m in client.search_logged_models(ids)) if ids else []
    assert sorted(store.logged_models()["model_id"]) == ref_logged
    for model in store.logged_models(view="all").itertuples():
        if model.source_run_id in set(runs["run_id"]):
            assert model.model_id in {m["model_id"] for m in store.run(model.source_run_id)["logged_models"]}
    versions = store.model_versions()
    assert sorted(zip(versions["name"], versions["version"], versions["current_stage"],
                      versions["run_id"], strict=False)) == ref_versions


def tree_state(root):
    """Every file's bytes and every folder's entries: any write shows up."""
    import hashlib

    state = {}
    for folder, dirs, files in os.walk(root):
        state[folder] = ("dir", tuple(sorted(dirs + files)))
        for f in files:
            p = os.path.join(folder, f)
            st = os.lstat(p)
            with open(p, "rb") as fh:
                state[p] = ("file", hashlib.sha256(fh.read()).hexdigest(), stat.S_IMODE(st.st_mode),
                            st.st_mtime_ns)
    return state


def read_everything(store):
    store.experiments("all")
    runs = store.runs(view="all")
    for run_id in runs["run_id"]:
        store.run(run_id)
    store.metric_history(list(runs["run_id"]))
    store.registered_models()
    store.model_versions()
    store.close()


@pytest.mark.parametrize("repo", sorted({s[0] for s in corpus_stores()}))
def test_reading_changes_no_byte(repo, tmp_path):
    """A writable copy of each corpus repo, read in full (cache on): not a byte changes."""
    copy = writable_copy(repo, tmp_path)
    before = tree_state(copy)
    for r, path, _kind in corpus_stores():
        if r != repo:
            continue
        try:
            store = open_store(copy / path)
        except StoreCorrupt:
            continue
        read_everything(store)
    assert tree_state(copy) == before
