"""A tracking server's registry read page by page (a real `mlflow server` on 127.0.0.1): every
intermediate listing is exact for what it says it holds, a model opened early is read on
its own, and the end equals MLflow's client. Pages are made small here so that a dozen
models take several pages, as a thousand do with the real page sizes."""

from __future__ import annotations

import warnings

import pytest
from test_registry_server import start_server, stop

from mlscope.core import open_store
from mlscope.core.registry import changes as C
from mlscope.core.registry import listing as L
from mlscope.core.registry import rest
from mlscope.ui.controllers.registry import RegistryController
from mlscope.ui.tasks import Tasks
from registry_helpers import build_registry, client_for, registry_state

TIMEOUT = 120_000
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """build_registry's models, nine more (m-00..m-08, 1-3 versions, some staged and
    aliased) and a prompt, written by MLflow's client, then served."""
    base = tmp_path_factory.mktemp("stream-server")
    uri = f"sqlite:///{base / 'mlflow.db'}"
    ids = build_registry(uri)
    client = client_for(uri)
    run = ids["runs"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(9):
            name = f"m-{i:02d}"
            client.create_registered_model(name, tags={"i": str(i)})
            for _ in range(i % 3 + 1):
                client.create_model_version(name, f"runs:/{run}/model", run_id=run)
            if i % 2:
                client.transition_model_version_stage(name, "1", "Staging")
                client.set_registered_model_alias(name, "best", "1")
        import mlflow

        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        mlflow.genai.register_prompt(name="a-prompt", template="Hello {{name}}")
        mlflow.set_registry_uri(None)
    url, proc, log = start_server(base, base / "mlflow.db")
    try:
        yield url, registry_state(url)
    finally:
        stop(proc, log)


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(rest, "MODELS_PAGE", 4)
    monkeypatch.setattr(rest, "VERSIONS_PAGE", 5)


def versions_of(listing, name) -> dict:
    v = listing.versions[listing.versions["name"] == name]
    return {int(r.version): {"stage": r.current_stage, "description": r.description or "",
                             "tags": r.tags, "run_id": r.run_id, "source": r.source,
                             "status": r.status} for r in v.itertuples()}


def test_every_partial_listing_is_exact_for_what_it_holds(server, small_pages):
    url, ref = server
    names = sorted(ref)
    assert "a-prompt" not in names and len(names) == 12
    partials = []
    final = L.read(open_store(url), partials.append)
    assert final.complete
    model_steps = [p for p in partials if not p.loaded and not len(p.versions)]
    assert [len(p.models) for p in model_steps] == [4, 8, 12]  # the models, page by page
    assert len(partials) > len(model_steps) + 2  # then the versions, page by page
    truth_latest = C.latest_per_stage(final.versions)
    for p in partials:
        assert p.models["name"].tolist() == names[:len(p.models)]
        assert p.latest_text() == {k: v for k, v in truth_latest.items() if k in set(p.models["name"])}
        for name in p.loaded:
            assert versions_of(p, name) == ref[name]["versions"], name
    loaded = [len(p.loaded) for p in partials if p.loaded is not None]
    assert loaded == sorted(loaded) and loaded[-1] < len(names)
    assert final.models["name"].tolist() == names
    for name in names:
        assert versions_of(final, name) == ref[name]["versions"]
        row = final.models[final.models["name"] == name].iloc[0]
        assert row["aliases"] == ref[name]["aliases"] and row["tags"] == ref[name]["tags"]
    alias = final.versions[(final.versions["name"] == "credit-model")
                           & (final.versions["version"] == 2)]["aliases"].iloc[0]
    assert alias == ["champion"]


def test_one_model_is_read_on_its_own(server):
    url, ref = server
    store = open_store(url)
    for name in ("credit-model", "it's-quoted", "m-05"):
        v = store.model_versions(name)
        assert set(v["name"]) == {name}
        assert {int(r.version): r.current_stage for r in v.itertuples()} == {
            n: x["stage"] for n, x in ref[name]["versions"].items()}
    assert len(store.model_versions("a-prompt")) == 0 and len(store.model_versions("nope")) == 0
    assert store.problems == []


def test_the_view_shows_a_models_versions_only_when_all_are_read(qtbot, server, small_pages):
    """Whatever the view shows as the current model's versions is what MLflow says; a model
    opened before its versions came is read on its own."""
    url, ref = server
    tasks = Tasks()
    try:
        ctl = RegistryController(tasks, open_store(url))
        qtbot.addWidget(ctl.view)
        ctl.view.show()
        shown = []
        real = ctl.view.set_listing

        def spy(listing):
            real(listing)
            current = ctl.view.current_model()
            v = ctl.view.model_versions()
            shown.append((current, None if v is None else sorted(v["version"].astype(int))))

        ctl.view.set_listing = spy
        qtbot.waitUntil(lambda: ctl.listing is not None and len(ctl.listing.models) >= 8,
                        timeout=TIMEOUT)
        assert ctl.view.select_model("m-03")  # the versions of "m-0x" come last
        qtbot.waitUntil(lambda: ctl.view.model_versions() is not None, timeout=TIMEOUT)
        assert sorted(ctl.view.model_versions()["version"]) == sorted(ref["m-03"]["versions"])
        qtbot.waitUntil(lambda: ctl.versions is not None and not ctl.running(), timeout=TIMEOUT)
        assert ctl.listing.complete and "reading" not in ctl.view.count.text()
        for current, versions in shown:
            if current and versions is not None:
                assert versions == sorted(ref[current]["versions"]), current
        assert any(v is None for c, v in shown if c)  # some model was shown as still reading
    finally:
        tasks.shutdown()
