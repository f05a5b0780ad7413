"""Stores built with MLflow's own client, holding every edge case the store layer must read.

``build(uri)`` logs the same content to any tracking URI (a file store folder, an SQLite
file, a server), so one reference (MLflow's answer) serves every backend.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
from pathlib import Path

FILTERS = [
    "",
    "metrics.rmse < 0.5",
    "metrics.rmse < 0.5 and params.model = 'lasso'",
    "params.model LIKE 'la%'",
    "params.model ILIKE 'LA%'",
    "tags.developer = 'ann'",
    "tags.`mlflow.runName` != 'nothing'",
    "attributes.status = 'FINISHED'",
    "attributes.run_name LIKE '%child%'",
    "metrics.`train/loss` > 0",
    "attributes.status != 'FINISHED'",
    "attributes.status = 'RUNNING'",  # no end_time in any run: pandas 3 makes it datetime64 NaT
    "metrics.acc >= 0",
    "params.lr IS NULL",
    "attributes.start_time > 1700000000000",
    "datasets.name = 'taxi'",
    "datasets.context = 'train'",
]
ORDERS = [
    None,
    ["metrics.rmse ASC"],
    ["metrics.rmse DESC", "params.model"],
    ["params.model DESC"],
    ["attributes.start_time ASC"],
    ["tags.developer"],
    ["attributes.run_name"],
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (for servers the tests start, or miss)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """A real ``mlflow server`` on 127.0.0.1 over an SQLite file in ``base`` (or ``backend``,
    any store URI), with ``workers`` processes as deployed servers run (issue 14: two),
    started and waited for (``/health``); ``stop()`` ends it. ``args`` are more server options,
    ``env`` more environment variables (the basic-auth app's)."""

    def __init__(self, base: Path, args=(), env: dict | None = None, backend: str | None = None,
                 workers: int = 2):
        import subprocess
        import sys
        import time

        import pytest
        import requests

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        backend = backend or f"sqlite:///{base / 'mlflow.db'}"
        cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
               str(self.port), "--backend-store-uri", backend, "--workers", str(workers), *args]
        if "--serve-artifacts" not in args and "--artifacts-destination" not in args:
            cmd += ["--default-artifact-root", str(base / "artifacts")]
        self.log_path = base / f"server-{self.port}.log"
        self.log = open(self.log_path, "wb")
        # MLflow's job runner (7 huey consumer processes, each importing MLflow) serves nothing
        # mlscope reads; off unless env turns it on. A session of its own: stop() ends the
        # whole tree (uvicorn, its workers, any job runner), none left orphaned.
        env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ, **(env or {})}
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=base,
                                     env=env, start_new_session=True)
        deadline = time.monotonic() + 300  # minutes on a busy 2-core machine
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                pytest.fail("mlflow server exited: " + self.log_path.read_text()[-2000:])
            try:
                if requests.get(self.url + "/health", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.5)
        self.stop()
        pytest.fail("mlflow server did not start: " + self.log_path.read_text()[-2000:])

    def kill(self) -> None:
        """SIGKILL to the server and its workers at once, as a crash (a SIGTERM to the parent
        alone lets uvicorn's workers finish, answering requests meanwhile)."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM to the group, 20 s to finish, then SIGKILL to whatever of it is left."""
        self._end(signal.SIGTERM, signal.SIGKILL)

    def _end(self, *signals) -> None:
        import subprocess

        for sig in signals:
            try:
                os.killpg(self.proc.pid, sig)  # the group: the server started it, nobody else
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=None if sig == signal.SIGKILL else 20)
            except subprocess.TimeoutExpired:
                continue
        self.log.close()


def reference(uri: str, filter_string: str = "", order_by=None, view=None):
    """MLflow's own answer: ``mlflow.search_runs`` over every experiment of ``uri`` (all views
    unless ``view`` says otherwise)."""
    import mlflow
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(uri)
    ids = [e.experiment_id for e in MlflowClient(uri).search_experiments(view_type=ViewType.ALL)]
    return mlflow.search_runs(ids, filter_string, ViewType.ALL if view is None else view, order_by=order_by)


def same(ours, ref) -> None:
    """mlscope's frame equals MLflow's: same columns (in any order), same rows and values."""
    import pandas as pd

    assert set(ours.columns) == set(ref.columns)
    cols = sorted(ref.columns)
    # Exact: a value rounded to float32 differs from MLflow's by ~1e-8, which the default
    # relative tolerance (1e-5) would let pass. NaN equals NaN here, dtypes are not cast.
    pd.testing.assert_frame_equal(ours[cols], ref[cols], check_exact=True)


def same_experiments(ours, ref, differ: dict | None = None) -> None:
    """mlscope's experiments frame holds every field of MLflow's ``search_experiments``
    answer, exactly: ids, names, lifecycle_stage, artifact_location, both times and tags.

    ``differ`` ({experiment_id: {field: value}}) names where mlscope knowingly answers
    otherwise (an experiment old MLflow moved to .trash is deleted, whatever its meta says)."""
    import pandas as pd

    assert sorted(ours["experiment_id"]) == sorted(e.experiment_id for e in ref)
    rows = {row["experiment_id"]: row for row in ours.to_dict("records")}
    for e in ref:
        row = rows[e.experiment_id]
        got = {f: row[f] for f in ("name", "lifecycle_stage", "artifact_location",
                                   "creation_time", "last_update_time")}
        got = {k: (None if v is None or v is pd.NA else v) for k, v in got.items()}
        want = {"name": e.name, "lifecycle_stage": e.lifecycle_stage,
                "artifact_location": e.artifact_location, "creation_time": e.creation_time,
                "last_update_time": e.last_update_time, **(differ or {}).get(e.experiment_id, {})}
        assert got == want, (e.experiment_id, got, want)
        tags = {c[len("tags."):]: v for c, v in row.items()
                if c.startswith("tags.") and isinstance(v, str)}
        assert tags == e.tags, e.experiment_id


def trashed_saying_active(client) -> dict:
    """``same_experiments``' ``differ`` for experiments old MLflow moved to .trash whose
    meta.yaml still says active: MLflow lists them as deleted, mlscope also says deleted."""
    from mlflow.entities import ViewType

    return {e.experiment_id: {"lifecycle_stage": "deleted"}
            for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)
            if e.lifecycle_stage != "deleted"}


def history_reference(client, run_ids, keys):
    """MLflow's get_metric_history for every run and key, in the history frame's declared
    dtypes (written here, not copied from mlscope's frame, so a dtype change is seen)."""
    import pandas as pd

    rows = [(r, k, m.step, m.timestamp, m.value) for r in run_ids for k in keys
            for m in client.get_metric_history(r, k)]
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 5
    return pd.DataFrame({
        "run_id": pd.Series(cols[0], dtype=object), "key": pd.Series(cols[1], dtype=object),
        "step": pd.Series(cols[2], dtype="int64"), "timestamp": pd.Series(cols[3], dtype="int64"),
        "value": pd.Series(cols[4], dtype="float64")})


def same_history(ours, ref) -> None:
    import pandas as pd

    order = ["run_id", "key", "step", "timestamp", "value"]
    pd.testing.assert_frame_equal(ours.sort_values(order).reset_index(drop=True),
                                  ref.sort_values(order).reset_index(drop=True), check_exact=True)


def build(uri: str) -> dict:
    """Log the edge-case content to ``uri`` with MLflow's client; returns ids by role."""
    import mlflow
    import pandas as pd
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    t0 = 1_700_000_000_000
    ids: dict = {}
    exp = client.create_experiment("alpha", tags={"team": "vision"})
    beta = client.create_experiment("beta")
    gamma = client.create_experiment("gamma/with slash")
    ids.update(alpha=exp, beta=beta, gamma=gamma)

    def run(experiment, name, start, tags=None):
        r = client.create_run(experiment, start_time=start, tags=tags or {}, run_name=name)
        return r.info.run_id

    r1 = run(exp, "lasso-0.1", t0, {"developer": "ann", "mlflow.note.content": "# Best\nso far"})
    client.log_param(r1, "model", "lasso")
    client.log_param(r1, "lr", "0.1")
    client.log_param(r1, "note", "it's a 'quoted' value: with colon\nand a second line")
    client.log_param(r1, "unicode", "naïve — 数据")
    for step in range(5):
        client.log_metric(r1, "rmse", 1.0 / (step + 1), timestamp=t0 + step * 1000, step=step)
        client.log_metric(r1, "train/loss", 2.0 / (step + 1), timestamp=t0 + step * 1000, step=step)
    client.log_metric(r1, "loss", 0.3, timestamp=t0, step=0)
    client.log_metric(r1, "loss", float("nan"), timestamp=t0 + 10, step=1)
    client.log_metric(r1, "acc", float("inf"), timestamp=t0, step=0)
    client.log_metric(r1, "neg", float("-inf"), timestamp=t0, step=0)
    client.set_terminated(r1, "FINISHED", end_time=t0 + 60_000)

    r2 = run(exp, "ridge-running", t0 + 1000, {"developer": "bob"})
    client.log_param(r2, "model", "ridge")
    # Same step twice: the later timestamp wins; then a tie on (step, timestamp): larger value.
    client.log_metric(r2, "rmse", 0.4, timestamp=t0 + 5, step=3)
    client.log_metric(r2, "rmse", 0.45, timestamp=t0 + 6, step=3)
    client.log_metric(r2, "rmse", 0.9, timestamp=t0 + 9, step=2)
    client.log_metric(r2, "tie", 0.1, timestamp=t0 + 5, step=1)
    client.log_metric(r2, "tie", 0.7, timestamp=t0 + 5, step=1)
    client.log_metric(r2, "tie", 0.2, timestamp=t0 + 5, step=1)
    ids["running"] = r2

    r3 = run(exp, "elastic-failed", t0 + 2000)
    client.log_param(r3, "model", "elasticnet")
    client.log_metric(r3, "rmse", 0.7, timestamp=t0 + 2000, step=0)
    client.set_terminated(r3, "FAILED", end_time=t0 + 3000)

    parent = run(exp, "sweep-parent", t0 + 3000)
    children = []
    for i in range(2):
        c = run(exp, f"sweep-child-{i}", t0 + 3100 + i, {"mlflow.parentRunId": parent})
        client.log_param(c, "model", "lasso")
        client.log_param(c, "alpha", str(0.1 * (i + 1)))
        client.log_metric(c, "rmse", 0.3 + 0.1 * i, timestamp=t0 + 3200, step=0)
        client.set_terminated(c, "FINISHED", end_time=t0 + 4000)
        children.append(c)
    client.set_terminated(parent, "FINISHED", end_time=t0 + 5000)
    ids.update(parent=parent, children=children)

    deleted = run(exp, "deleted-run", t0 + 6000)
    client.log_metric(deleted, "rmse", 0.05, timestamp=t0 + 6000, step=0)
    client.set_terminated(deleted, "KILLED", end_time=t0 + 6500)
    client.delete_run(deleted)
    ids["deleted_run"] = deleted

    empty = run(exp, "0042", t0 + 7000)
    client.set_terminated(empty, "FINISHED", end_time=t0 + 7000)
    ids["empty"] = empty

    # A dataset input, logged with MLflow's fluent API (as users do).
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(experiment_id=exp, run_name="with-dataset") as active:
        ds = mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2], "y": [3, 4]}), name="taxi", source="s3://b/taxi.csv")
        mlflow.log_input(ds, context="train")
        mlflow.log_metric("rmse", 0.6)
        ids["dataset_run"] = active.info.run_id

    b1 = run(beta, "in-deleted-experiment", t0 + 8000)
    client.log_metric(b1, "rmse", 0.2, timestamp=t0 + 8000, step=0)
    client.set_terminated(b1, "FINISHED", end_time=t0 + 8100)
    client.delete_experiment(beta)
    ids["beta_run"] = b1

    g1 = run(gamma, "long-curve", t0 + 9000)
    for start in range(0, 1000, 250):
        from mlflow.entities import Metric

        client.log_batch(g1, metrics=[
            Metric("val_loss", math.exp(-s / 300.0), t0 + 9000 + s, s) for s in range(start, start + 250)
        ])
    client.set_terminated(g1, "FINISHED", end_time=t0 + 19000)
    ids["long"] = g1

    # Values a reader must hand over byte for byte: surrounding whitespace, unicode, empty
    # strings and MLflow's longest values, in an experiment of their own (counts elsewhere stay).
    delta = client.create_experiment("delta values", tags={"padded": "  both  ", "empty": "",
                                                           "unicode": "naïve — 数据 🎉"})
    ids["delta"] = delta
    v1 = run(delta, "  padded name  ", t0 + 20000)
    for key, value in EDGE_VALUES.items():
        client.log_param(v1, key, value)
        client.set_tag(v1, f"tag_{key}", value)
    client.set_tag(v1, "tag_longest", "t" * 8000)  # MLflow's longest tag value
    client.log_metric(v1, "tiny", 5e-324, timestamp=t0 + 20000, step=0)
    client.log_metric(v1, "huge", 1.7976931348623157e308, timestamp=t0 + 20000, step=0)
    client.set_terminated(v1, "FINISHED", end_time=t0 + 21000)
    ids["values"] = v1
    return ids


EDGE_VALUES = {
    "leading": "   lead",
    "trailing": "trail   ",
    "both": "\t both \t",
    "newline_end": "line\n",
    "empty": "",
    "space_only": " ",
    "unicode": "naïve — 数据 🎉 \u00a0nbsp",
    "longest": "p" * 5999 + "!",  # 6,000 characters: MLflow's longest param value
}


def remove_empty_dirs(root: Path) -> int:
    """What git does to a committed store: empty folders vanish."""
    removed = 0
    for folder, _dirs, _files in os.walk(root, topdown=False):
        if not os.listdir(folder) and Path(folder) != root:
            os.rmdir(folder)
            removed += 1
    return removed


def restore_run_dirs(root: Path) -> None:
    """Recreate the empty metrics/params/artifacts folders MLflow's get_run needs (on a copy)."""
    for meta in root.rglob("meta.yaml"):
        folder = meta.parent
        text = meta.read_text(encoding="utf-8", errors="replace")
        if "run_uuid:" in text or "run_id:" in text:
            for sub in ("metrics", "params", "artifacts", "tags"):
                (folder / sub).mkdir(exist_ok=True)


def make_git_like_variant(src: Path, dst: Path, ids: dict) -> None:
    """A copy of a built mlruns folder with what real committed stores look like."""
    shutil.copytree(src, dst)
    remove_empty_dirs(dst)
    alpha = dst / ids["alpha"]
    # Old two-field metric lines (MLflow < 1.0 wrote no step).
    old = alpha / ids["running"] / "metrics" / "old_metric"
    old.write_text("1500000000000 0.5\n1500000000001 0.25\n")
    # Artifact locations as Windows and relative paths, as committed from other machines.
    for run_key, uri in (("parent", "file:///C:/Users/Some%20One/mlruns/1/x/artifacts"),
                         ("empty", "file:./mlruns/1/y/artifacts")):
        meta = alpha / ids[run_key] / "meta.yaml"
        lines = [(f"artifact_uri: {uri}" if ln.startswith("artifact_uri:") else ln)
                 for ln in meta.read_text().splitlines()]
        meta.write_text("\n".join(lines) + "\n")
    # An experiment moved to .trash by old MLflow, its meta.yaml still saying active.
    gamma = dst / ids["gamma"]
    (dst / ".trash").mkdir(exist_ok=True)
    shutil.move(str(gamma), str(dst / ".trash" / ids["gamma"]))
