"""Registry reads: one shape on every store kind, equal to what MLflow's client reads."""

import warnings

import pytest

from mlscope.core import open_store
from mlscope.core.registry import MODEL_COLUMNS, VERSION_COLUMNS
from registry_helpers import build_registry, client_for, registry_state


@pytest.fixture(scope="module")
def registries(tmp_path_factory):
    """The same registry, plus a prompt, written by MLflow to an mlruns folder and an SQLite file."""
    base = tmp_path_factory.mktemp("registry-reads")
    uris = {"file": (base / "mlruns").as_uri(), "sqlite": f"sqlite:///{base / 'mlflow.db'}"}
    import mlflow

    for uri in uris.values():
        build_registry(uri)
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlflow.genai.register_prompt(name="a-prompt", template="Hello {{name}}")
    mlflow.set_registry_uri(None)
    return uris


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_registry_equals_mlflow(registries, kind):
    uri = registries[kind]
    store = open_store(uri)
    models, versions = store.registered_models(), store.model_versions()
    assert list(models.columns) == MODEL_COLUMNS and list(versions.columns) == VERSION_COLUMNS
    ref = registry_state(uri)  # MLflow's client: prompts left out
    assert "a-prompt" not in ref and "a-prompt" not in set(models["name"])
    assert "a-prompt" not in set(versions["name"])
    assert models["name"].tolist() == sorted(ref)
    for m in models.itertuples():
        assert (m.description or "", m.tags, m.aliases) == (
            ref[m.name]["description"], ref[m.name]["tags"], ref[m.name]["aliases"])
    got = {(v.name, v.version): {"stage": v.current_stage, "description": v.description or "",
                                 "tags": v.tags, "run_id": v.run_id, "source": v.source, "status": v.status}
           for v in versions.itertuples()}
    assert got == {(name, n): v for name, m in ref.items() for n, v in m["versions"].items()}
    assert list(zip(versions["name"], versions["version"], strict=True)) == sorted(got)
    client = client_for(uri)
    users = {(v.name, int(v.version)): v.user_id for v in client.search_model_versions()}
    assert dict(zip(zip(versions["name"], versions["version"], strict=True), versions["user_id"], strict=True)) == users
    aliases = dict(zip(zip(versions["name"], versions["version"], strict=True), versions["aliases"],
                       strict=True))
    assert aliases[("credit-model", 2)] == ["champion"] and aliases[("fraud-model", 1)] == []
    one = store.model_versions("it's-quoted")
    assert one[["name", "version", "current_stage"]].values.tolist() == [["it's-quoted", 1, "Production"]]
    assert store.problems == []


def test_every_kind_reads_the_same_registry(registries):
    frames = [open_store(uri).model_versions() for uri in registries.values()]
    keep = ["name", "version", "current_stage", "description", "tags", "aliases"]
    assert frames[0][keep].to_dict("records") == frames[1][keep].to_dict("records")
