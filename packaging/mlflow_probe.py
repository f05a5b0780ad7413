"""Which mlflow modules mlscope needs, found by doing what mlscope does with MLflow.

MLflow imports much of itself inside functions, by name or through plugin registries, so
PyInstaller's import scan alone misses some. This runs, in a fresh interpreter, the calls
mlscope makes (the search-syntax parser, the client on a file store and on SQLite, registry
writes, artifact listing, MLflow's file-store migration) and prints every ``mlflow.*`` module that got loaded; the spec
bundles exactly those (plus what the scan finds)."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = r"""
import os, sys, tempfile
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
from mlflow.utils.search_utils import SearchUtils
SearchUtils.parse_search_filter("metrics.loss < 0.5 and params.a = 'x' and tags.t LIKE 'a%'")
SearchUtils.parse_order_by_for_search_runs("metrics.loss DESC")
from mlflow.tracking import MlflowClient
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
import mlflow.store.db.utils, mlflow.store.tracking.sqlalchemy_store
import mlflow.store.model_registry.sqlalchemy_store, mlflow.store.model_registry.file_store
with tempfile.TemporaryDirectory() as d:
    uri = "file://" + os.path.join(d, "mlruns")
    c = MlflowClient(tracking_uri=uri, registry_uri=uri)
    e = c.create_experiment("probe")
    r = c.create_run(e)
    c.log_metric(r.info.run_id, "m", 1.0)
    c.log_param(r.info.run_id, "p", "1")
    c.set_tag(r.info.run_id, "t", "x")
    c.set_terminated(r.info.run_id)
    c.search_runs([e], "metrics.m > 0")
    c.create_registered_model("model")
    c.set_registered_model_tag("model", "k", "v")
    v = c.create_model_version("model", "runs:/%s/model" % r.info.run_id, r.info.run_id)
    c.set_registered_model_alias("model", "champion", v.version)
    c.delete_registered_model_alias("model", "champion")
    get_artifact_repository(uri).list_artifacts()
    from pathlib import Path
    from mlflow.store.fs2db import migrate  # "Migrate to SQLite", run by the bundle itself
    migrate(Path(d) / "mlruns", "sqlite:///" + os.path.join(d, "migrated.db"), progress=False)
print("\n".join(sorted(m for m in sys.modules if m == "mlflow" or m.startswith("mlflow."))))
"""


def mlflow_modules(python: str = sys.executable) -> list[str]:
    # MLflow's own settings of the caller (a tracking URI to a database, retries) must not
    # steer the probe: it writes only to its temporary folder.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    out = subprocess.run([python, "-c", SCRIPT], capture_output=True, text=True, check=True,
                         env=env, timeout=600)
    return [line for line in out.stdout.splitlines() if line.startswith("mlflow")]


if __name__ == "__main__":
    mods = mlflow_modules()
    print("\n".join(mods))
    print(f"{len(mods)} modules", file=sys.stderr)
