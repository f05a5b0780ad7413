"""The registry write door on SQLite and mlruns stores: each change happens exactly once,
nothing else changes (the whole registry read back by a separate MlflowClient), refusals
change nothing, and an older SQLite schema is never migrated behind the user's back."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mlscope.core import open_store
from mlscope.core.registry import changes as C
from mlscope.core.registry import write as W
from registry_helpers import build_registry, client_for, edited, registry_state

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    base = tmp_path_factory.mktemp("registry-templates")
    db = base / "mlflow.db"
    runs_db = build_registry(f"sqlite:///{db}")
    folder = base / "mlruns"
    runs_file = build_registry(str(folder))
    return {"sqlite": (db, runs_db), "file": (folder, runs_file)}


@pytest.fixture(params=["sqlite", "file"])
def store(request, templates, tmp_path):
    """A fresh copy of a registry built by MLflow, opened by mlscope: (store, uri, run ids)."""
    src, ids = templates[request.param]
    dst = tmp_path / src.name
    (shutil.copy if src.is_file() else shutil.copytree)(src, dst)
    s = open_store(dst)
    uri = W.write_uri(s)
    return s, uri, ids


def stages(store, model="credit-model"):
    v = store.model_versions(model)
    return dict(zip(v["version"].astype(int), v["current_stage"], strict=True))


def aliases(store, model="credit-model"):
    m = store.registered_models().set_index("name")
    return dict(m.loc[model, "aliases"])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the sentences -------------------------------------------------------------------------------

def test_sentences_say_exactly_what_changes():
    st = {1: "Archived", 2: "Production", 3: "Staging"}
    ch = C.transition("credit-model", 3, "Production", st, archive_existing=True)
    assert ch.sentence == "credit-model v3: Staging -> Production; v2 (Production) -> Archived"
    assert ch.inverse.sentence == "credit-model v3: Production -> Staging; v2 (Archived) -> Production"
    assert C.transition("credit-model", 3, "Production", st).sentence == \
        "credit-model v3: Staging -> Production"
    # MLflow archives only out of Staging/Production: no displaced versions for Archived.
    assert C.transition("credit-model", 2, "Archived", st, True).sentence == \
        "credit-model v2: Production -> Archived"
    assert C.set_alias("m", "champion", 3, {"champion": 2}).sentence == \
        "m: alias 'champion' moves from v2 to v3"
    assert C.set_alias("m", "champion", 3, {}).sentence == "m: new alias 'champion' -> v3"
    assert C.delete_alias("m", "champion", {"champion": 2}).sentence == \
        "m: alias 'champion' removed (it points at v2)"
    assert C.tag("m", "k", "new", {"k": "old"}, version=2).sentence == "m v2: tag 'k' 'old' -> 'new'"
    assert C.tag("m", "k", None, {"k": "old"}).inverse.sentence == "m: new tag 'k' = 'old'"
    assert "cannot be undone" in C.delete_model("m", 3).sentence
    assert not C.delete_version("m", 1, "None").undoable
    for bad in (lambda: C.transition("m", 2, "Production", st),  # no change
                lambda: C.set_alias("m", "champion", 2, {"champion": 2}),
                lambda: C.rename("m", "other", names=["m", "other"]),
                lambda: C.model_description("m", "same", "same")):
        with pytest.raises(W.WriteRefused):
            bad()


def test_registered_as_words(store):
    s, _uri, ids = store
    words = C.registered_as(s.model_versions(), ids["runs"][1])
    assert words == ["credit-model v2, Production, @champion"]
    assert C.registered_as(s.model_versions(), ids["runs"][0]) == [
        "credit-model v1, Archived", "it's-quoted v1, Production"]


# -- each change, exactly once -------------------------------------------------------------------

def test_transition_with_archiving_and_its_undo(store):
    s, uri, _ = store
    before = registry_state(uri)
    ch = C.transition("credit-model", 3, "Production", stages(s), archive_existing=True)
    C.apply(ch, uri)

    def expected(st):
        st["credit-model"]["versions"][3]["stage"] = "Production"
        st["credit-model"]["versions"][2]["stage"] = "Archived"

    assert registry_state(uri) == edited(before, expected)
    s.refresh()
    assert stages(s) == {1: "Archived", 2: "Archived", 3: "Production"}  # mlscope re-reads it too
    C.apply(ch.inverse, uri)
    assert registry_state(uri) == before


def test_alias_set_move_delete_and_undo(store):
    s, uri, _ = store
    before = registry_state(uri)
    move = C.set_alias("credit-model", "champion", 3, aliases(s))
    C.apply(move, uri)
    assert registry_state(uri) == edited(
        before, lambda st: st["credit-model"]["aliases"].update(champion=3))
    C.apply(move.inverse, uri)
    assert registry_state(uri) == before
    gone = C.delete_alias("credit-model", "challenger", aliases(s))
    C.apply(gone, uri)
    assert registry_state(uri) == edited(before, lambda st: st["credit-model"]["aliases"].pop("challenger"))
    C.apply(gone.inverse, uri)
    assert registry_state(uri) == before
    new = C.set_alias("fraud-model", "shadow", 1, {})
    C.apply(new, uri)
    assert registry_state(uri) == edited(before, lambda st: st["fraud-model"]["aliases"].update(shadow=1))
    C.apply(new.inverse, uri)
    assert registry_state(uri) == before


def test_descriptions_and_tags(store):
    s, uri, _ = store
    before = registry_state(uri)
    steps = [
        (C.model_description("credit-model", "Scores credit applications.", "Line one\nline two"),
         lambda st: st["credit-model"].update(description="Line one\nline two")),
        (C.version_description("credit-model", 2, "version 2", "the champion"),
         lambda st: st["credit-model"]["versions"][2].update(description="the champion")),
        (C.tag("credit-model", "team", "fraud", {"team": "risk"}),
         lambda st: st["credit-model"]["tags"].update(team="fraud")),
        (C.tag("credit-model", "n", None, {"n": "0"}, version=1),
         lambda st: st["credit-model"]["versions"][1]["tags"].pop("n")),
        (C.tag("fraud-model", "owner", "ann", {}, version=1),
         lambda st: st["fraud-model"]["versions"][1]["tags"].update(owner="ann")),
    ]
    for change, fn in steps:
        C.apply(change, uri)
        assert registry_state(uri) == edited(before, fn), change.sentence
        C.apply(change.inverse, uri)
        assert registry_state(uri) == before, change.inverse.sentence


def test_rename_and_back(store):
    _s, uri, _ = store
    before = registry_state(uri)
    ch = C.rename("fraud-model", "fraud-model-v2", names=before)
    C.apply(ch, uri)
    after = registry_state(uri)
    assert set(after) == set(before) - {"fraud-model"} | {"fraud-model-v2"}
    assert after["fraud-model-v2"]["versions"].keys() == before["fraud-model"]["versions"].keys()
    C.apply(ch.inverse, uri)
    assert registry_state(uri) == before


def test_delete_version_and_model(store):
    s, uri, _ = store
    before = registry_state(uri)
    C.apply(C.delete_version("credit-model", 1, "Archived"), uri)
    assert registry_state(uri) == edited(before, lambda st: st["credit-model"]["versions"].pop(1))
    C.apply(C.delete_model("fraud-model", 1), uri)
    expected = edited(before, lambda st: (st["credit-model"]["versions"].pop(1), st.pop("fraud-model")))
    assert registry_state(uri) == expected


def test_register_new_and_existing(store):
    _s, uri, ids = store
    before = registry_state(uri)
    run = ids["runs"][2]
    v = C.apply(C.register("fraud-model", f"runs:/{run}/model", run, new_model=False), uri)
    assert int(v.version) == 2
    after = registry_state(uri)
    assert after["fraud-model"]["versions"][2]["run_id"] == run
    assert edited(after, lambda st: st["fraud-model"]["versions"].pop(2)) == before
    v = C.apply(C.register("churn", f"runs:/{run}/model", run, new_model=True), uri)
    assert int(v.version) == 1
    after2 = registry_state(uri)
    assert set(after2) - set(after) == {"churn"}
    assert list(after2["churn"]["versions"]) == [1]


# -- refusals: the reason in words, nothing changed -----------------------------------------------

def test_duplicate_name_is_refused(store):
    _s, uri, ids = store
    before = registry_state(uri)
    with pytest.raises(W.NameExists) as err:
        C.apply(C.rename("fraud-model", "credit-model"), uri)
    assert "credit-model" in str(err.value)
    run = ids["runs"][0]
    with pytest.raises(W.NameExists):
        C.apply(C.register("credit-model", f"runs:/{run}/model", run, new_model=True), uri)
    assert registry_state(uri) == before


def test_deleted_meanwhile_is_refused(store):
    s, uri, _ = store
    change = C.transition("credit-model", 3, "Production", stages(s), archive_existing=True)
    alias = C.set_alias("credit-model", "champion", 3, aliases(s))
    other = client_for(uri)
    other.delete_model_version("credit-model", "3")
    before = registry_state(uri)
    with pytest.raises(W.Gone) as err:
        C.apply(change, uri)
    assert "v3" in str(err.value) and "Nothing was written" in str(err.value)
    other.delete_registered_model("credit-model")
    before = registry_state(uri)
    with pytest.raises(W.Gone) as err:
        C.apply(alias, uri)
    assert "credit-model" in str(err.value)
    assert registry_state(uri) == before


def test_changed_meanwhile_is_refused(store):
    s, uri, _ = store
    move = C.set_alias("credit-model", "champion", 3, aliases(s))
    archive = C.transition("credit-model", 3, "Production", stages(s), archive_existing=True)
    other = client_for(uri)
    other.set_registered_model_alias("credit-model", "champion", "1")
    other.transition_model_version_stage("credit-model", "1", "Production")
    before = registry_state(uri)
    with pytest.raises(W.Conflict, match="now points v1"):
        C.apply(move, uri)
    with pytest.raises(W.Conflict, match="v1 entered Production"):
        C.apply(archive, uri)
    assert registry_state(uri) == before


# -- where the write lands ------------------------------------------------------------------------

def test_mlruns_folder_written_without_the_user_setting_anything(templates, tmp_path):
    """MLflow 3.13+ refuses file stores without MLFLOW_ALLOW_FILE_STORE: the door sets it."""
    src, _ = templates["file"]
    folder = tmp_path / "mlruns"
    shutil.copytree(src, folder)
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_ALLOW_FILE_STORE"}
    code = ("import sys; from mlscope.core.registry import write as W; "
            "W.set_alias(sys.argv[1], 'credit-model', 'prod', 2); print('ok')")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]
    assert registry_state(str(folder))["credit-model"]["aliases"]["prod"] == 2


def test_snapshot_store_writes_to_the_real_file(templates, tmp_path):
    src, _ = templates["sqlite"]
    db = tmp_path / "mlflow.db"
    shutil.copy(src, db)
    keeper = sqlite3.connect(db)  # another program holds the database open in WAL mode
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.execute("CREATE TABLE IF NOT EXISTS _keep(x)")
    keeper.execute("DROP TABLE _keep")
    keeper.commit()
    try:
        assert Path(str(db) + "-wal").exists()
        s = open_store(db)
        assert s.snapshot_dir is not None
        uri = W.write_uri(s)
        assert uri == f"sqlite:///{db.resolve().as_posix()}"
        C.apply(C.set_alias("credit-model", "champion", 3, aliases(s)), uri)
        assert registry_state(f"sqlite:///{db}")["credit-model"]["aliases"]["champion"] == 3
        assert "champion" in aliases(s) and aliases(s)["champion"] == 2  # the snapshot is not written
    finally:
        keeper.close()


def test_missing_database_is_not_created(tmp_path):
    uri = f"sqlite:///{tmp_path / 'gone.db'}"
    with pytest.raises(W.StoreError, match="no longer exists"):
        W.set_alias(uri, "m", "a", 1)
    assert not (tmp_path / "gone.db").exists()


# -- an older schema: read-only until the user upgrades ------------------------------------------

def _old_db(tmp_path, rel="MadanManav__MLFlow_tutorial_with_hyperopt/mlruns.db") -> Path:
    src = CORPUS / rel
    if not src.exists():
        pytest.skip(f"corpus store {rel} not present")
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    for s in W.SIDECARS:
        if Path(str(src) + s).exists():
            shutil.copy(str(src) + s, str(dst) + s)
    return dst


def test_old_schema_is_never_migrated_by_a_write(tmp_path):
    db = _old_db(tmp_path)
    digest = sha(db)
    s = open_store(db)
    assert "older MLflow schema" in W.read_only_reason(s)
    for attempt in (lambda: W.write_uri(s),  # the store says no
                    lambda: W.create_model(W.database_uri(s), "new"),  # the door checks anyway
                    lambda: C.apply(C.set_alias("m", "a", 1, {}), W.database_uri(s))):
        with pytest.raises(W.SchemaOutdated, match="Upgrade database"):
            attempt()
    assert sha(db) == digest  # declined / refused: not a byte changed
    assert sorted(p.name for p in tmp_path.iterdir()) == [db.name]


@pytest.mark.parametrize("rel", ["MadanManav__MLFlow_tutorial_with_hyperopt/mlruns.db",
                                 "afonsosousah__MLOPS-Project/mlflow.db"])
def test_upgrade_backs_up_byte_identical_then_migrates(tmp_path, rel):
    db = _old_db(tmp_path, rel)
    originals = {p.name: sha(p) for p in tmp_path.iterdir()}
    runs_before = len(open_store(db).runs(view="all"))
    backup = W.upgrade_database(W.database_uri(open_store(db)))
    assert backup.parent == db.parent and backup.name.startswith(db.name + ".backup-")
    for name, digest in originals.items():  # the file and each of its -wal/-shm, byte for byte
        assert sha(Path(str(backup) + name[len(db.name):])) == digest
    reopened = open_store(db)
    assert W.read_only_reason(reopened) == ""
    assert len(reopened.runs(view="all")) == runs_before
    W.create_model(W.write_uri(reopened), "after-upgrade")
    assert "after-upgrade" in registry_state(W.write_uri(reopened))


def test_mlruns_that_went_through_git(templates, tmp_path):
    """Empty folders dropped (as git does): MLflow's file registry still writes there."""
    from mlflow_stores import remove_empty_dirs

    src, ids = templates["file"]
    folder = tmp_path / "mlruns"
    shutil.copytree(src, folder)
    assert remove_empty_dirs(folder) > 0
    uri = W.write_uri(open_store(folder))
    before = registry_state(str(folder))
    C.apply(C.transition("fraud-model", 1, "Staging", {1: "None"}), uri)
    C.apply(C.set_alias("fraud-model", "shadow", 1, {}), uri)
    run = ids["runs"][1]  # its empty metrics/params/artifacts folders are gone
    v = C.apply(C.register("fraud-model", f"runs:/{run}/model", run, new_model=False), uri)
    after = registry_state(str(folder))
    assert after["fraud-model"]["versions"][int(v.version)]["run_id"] == run

    def expected(st):
        st["fraud-model"]["versions"][1]["stage"] = "Staging"
        st["fraud-model"]["aliases"]["shadow"] = 1

    assert edited(after, lambda st: st["fraud-model"]["versions"].pop(int(v.version))) == \
        edited(before, expected)


def test_register_a_logged_model_and_a_missing_one_leaves_nothing(templates, tmp_path):
    """MLflow 3: a run's LoggedModel registers as models:/<id>; a source MLflow cannot find
    is refused, and the model created for it is removed again."""
    src, _ = templates["sqlite"]
    db = tmp_path / "mlflow.db"
    shutil.copy(src, db)
    uri = f"sqlite:///{db}"
    client = client_for(uri)
    exp = client.create_experiment("logged", artifact_location=(tmp_path / "art").as_uri())
    run = client.create_run(exp).info.run_id
    logged = client.create_logged_model(exp, name="clf", source_run_id=run)
    store = open_store(db)
    assert logged.model_id in set(store.logged_models(view="all")["model_id"])
    before = registry_state(uri)
    v = C.apply(C.register("from-logged", f"models:/{logged.model_id}", run, new_model=True), uri)
    after = registry_state(uri)
    assert set(after) - set(before) == {"from-logged"}
    assert after["from-logged"]["versions"][int(v.version)]["source"] == f"models:/{logged.model_id}"
    with pytest.raises(W.Gone, match="removed again"):
        C.apply(C.register("ghost", "models:/m-does-not-exist", run, new_model=True), uri)
    assert registry_state(uri) == after
