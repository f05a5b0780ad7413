"""After a write, mlscope reads again only the models the write can have changed; the result
must equal reading the whole registry again, on every store kind it writes."""

from __future__ import annotations

import shutil

import pytest

from mlscope.core import open_store
from mlscope.core.registry import changes as C
from mlscope.core.registry import listing as L
from mlscope.core.registry import write as W
from registry_helpers import build_registry


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    base = tmp_path_factory.mktemp("listing")
    build_registry(f"sqlite:///{base / 'mlflow.db'}")
    build_registry(str(base / "mlruns"))
    return {"sqlite": base / "mlflow.db", "file": base / "mlruns"}


@pytest.fixture(params=["sqlite", "file"])
def store_copy(request, templates, tmp_path):
    src = templates[request.param]
    dst = tmp_path / src.name
    (shutil.copy if src.is_file() else shutil.copytree)(src, dst)
    return dst


def same(a: L.Listing, b: L.Listing) -> None:
    assert a.complete and b.complete
    for x, y in ((a.models, b.models), (a.versions, b.versions)):
        drop = ["creation_timestamp", "last_updated_timestamp"]
        assert x.drop(columns=drop).to_dict("records") == y.drop(columns=drop).to_dict("records")
        assert x["last_updated_timestamp"].tolist() == y["last_updated_timestamp"].tolist()


def changes(state):
    """Writes touching one model each: stage with archiving, alias, tag, rename, a new
    version, delete a version, delete a model."""
    stages = dict(state)
    return [
        (C.transition("credit-model", 3, "Production", stages, archive_existing=True),
         ["credit-model"]),
        (C.set_alias("fraud-model", "shadow", 1, {}), ["fraud-model"]),
        (C.tag("credit-model", "owner", "ana", {}), ["credit-model"]),
        (C.rename("fraud-model", "fraud-model-2"), ["fraud-model", "fraud-model-2"]),
        (C.tag("fraud-model-2", "checked", "yes", {}, version=1), ["fraud-model-2"]),
        (C.delete_version("credit-model", 1, "Archived", []), ["credit-model"]),
        (C.delete_model("it's-quoted", 1), ["it's-quoted"]),
    ]


def test_reread_after_each_write_equals_a_full_read(store_copy):
    store = open_store(store_copy)
    uri = W.write_uri(store)
    listing = L.read(store)
    v = listing.versions
    credit = v[v["name"] == "credit-model"]
    state = list(zip(credit["version"].astype(int), credit["current_stage"], strict=True))
    for change, names in changes(state):
        C.apply(change, uri)
        listing = L.reread(store, listing, names)
        same(listing, L.read(open_store(store_copy)))
    assert "fraud-model-2" in set(listing.models["name"])
    assert "it's-quoted" not in set(listing.versions["name"])


def test_one_model_read_equals_the_full_read_of_it(store_copy):
    store = open_store(store_copy)
    full = store.model_versions()
    for name in ("credit-model", "fraud-model", "it's-quoted", "no-such-model"):
        one = store.model_versions(name)
        want = full[full["name"] == name].reset_index(drop=True)
        assert one.to_dict("records") == want.to_dict("records")


def test_a_model_read_alone_fills_an_incomplete_listing(store_copy):
    store = open_store(store_copy)
    full = L.read(store)
    empty = L.Listing(full.models, full.versions.iloc[:0], frozenset())
    assert not empty.has_versions("fraud-model")
    filled = empty.with_model("fraud-model", store.model_versions("fraud-model"))
    assert filled.has_versions("fraud-model") and not filled.has_versions("credit-model")
    got = filled.versions.to_dict("records")
    assert got == full.versions[full.versions["name"] == "fraud-model"].to_dict("records")


def test_file_registry_rename_of_a_model_with_version_tags_is_refused(templates, tmp_path):
    """MLflow's file registry would fail halfway (the model under both names): refused first."""
    from registry_helpers import registry_state

    root = tmp_path / "mlruns"
    shutil.copytree(templates["file"], root)
    uri = W.write_uri(open_store(root))
    before = registry_state(str(root))
    assert before["credit-model"]["versions"][1]["tags"]  # build_registry tags every version
    with pytest.raises(W.WriteRefused, match="versions have tags"):
        C.apply(C.rename("credit-model", "credit-model-2"), uri)
    assert registry_state(str(root)) == before
