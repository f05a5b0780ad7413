"""Registries built with MLflow's client, and the whole registry read back by a separate client.

Write tests compare :func:`registry_state` before and after one confirmed change: the
expected state is the old one with exactly that change made by hand, so a second write,
a missing write or a stray change anywhere else fails the comparison.
"""

from __future__ import annotations

import copy
import warnings


def client_for(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def build_registry(uri: str) -> dict:
    """credit-model v1 Archived, v2 Production (@champion), v3 Staging (@challenger);
    fraud-model v1 None; it's-quoted v1 Production. Returns the run ids."""
    client = client_for(uri)
    exp = client.create_experiment("registry-exp")
    runs = [client.create_run(exp, run_name=f"train-{i}").info.run_id for i in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.create_registered_model("credit-model", tags={"team": "risk"},
                                       description="Scores credit applications.")
        for i, stage in enumerate(("Archived", "Production", "Staging")):
            v = client.create_model_version("credit-model", f"runs:/{runs[i]}/model", run_id=runs[i],
                                            tags={"n": str(i)}, description=f"version {i + 1}")
            client.transition_model_version_stage("credit-model", v.version, stage)
        client.set_registered_model_alias("credit-model", "champion", "2")
        client.set_registered_model_alias("credit-model", "challenger", "3")
        client.create_registered_model("fraud-model")
        client.create_model_version("fraud-model", f"runs:/{runs[3]}/model", run_id=runs[3])
        client.create_registered_model("it's-quoted")
        v = client.create_model_version("it's-quoted", f"runs:/{runs[0]}/clf", run_id=runs[0])
        client.transition_model_version_stage("it's-quoted", v.version, "Production")
    return {"experiment": exp, "runs": runs}


def registry_state(uri: str) -> dict:
    """Every registered model with its versions, as MLflow's client reads it (no timestamps)."""
    client = client_for(uri)
    out = {}
    for m in client.search_registered_models(max_results=1000):
        q = '"' if "'" in m.name else "'"
        versions = client.search_model_versions(f"name = {q}{m.name}{q}")
        out[m.name] = {
            "description": m.description or "",
            "tags": dict(m.tags or {}),
            "aliases": {a: int(v) for a, v in (m.aliases or {}).items()},
            "versions": {int(v.version): {"stage": v.current_stage, "description": v.description or "",
                                          "tags": dict(v.tags or {}), "run_id": v.run_id,
                                          "source": v.source, "status": v.status}
                         for v in versions},
        }
    return out


def edited(state: dict, fn) -> dict:
    """A deep copy of ``state`` with ``fn(copy)`` applied: the expected state after a change."""
    new = copy.deepcopy(state)
    fn(new)
    return new
