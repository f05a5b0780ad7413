"""The run cache of mlruns folders does the work it promises: a reopened folder reads only
the runs whose files changed, and sees every change MLflow makes in place (appended metric
lines, rewritten tags) as well as new runs. Reads are counted by watching what is handed to
the reader pool."""

from __future__ import annotations

import shutil

import pytest
from mlflow.tracking import MlflowClient

import mlscope.core.filestore as filestore
from mlscope.core import open_store


@pytest.fixture
def reads(monkeypatch):
    """The run folders each load reads from disk (the real reader does the work)."""
    calls = []
    real = filestore.run_parallel

    def spy(fn, jobs, *args, **kwargs):
        if fn is filestore.read_runs:
            calls.append(sorted(d.rsplit("/", 1)[-1] for d, _ in jobs))
        return real(fn, jobs, *args, **kwargs)

    monkeypatch.setattr(filestore, "run_parallel", spy)
    return calls


def _values(store, exp):
    frame = store.runs(exp, view="all").set_index("run_id")
    return frame


def test_reopen_reads_only_what_changed_and_sees_in_place_writes(built, tmp_path, monkeypatch,
                                                                 reads):
    monkeypatch.setenv("MLSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "mlruns"
    shutil.copytree(built["file"], root)
    ids, exp = built["ids"], built["ids"]["alpha"]
    first = _values(open_store(root), exp)
    assert reads and len(reads[-1]) == len(first)  # every run read once
    reads.clear()

    again = _values(open_store(root), exp)
    assert reads in ([], [[]])  # the cache served every run
    assert again.equals(first)

    client = MlflowClient(root.as_uri())
    lasso = first.index[first["tags.mlflow.runName"] == "lasso-0.1"][0]
    client.log_metric(lasso, "rmse", 0.001, timestamp=1_700_000_099_000, step=99)  # appended
    client.set_tag(ids["parent"], "mlflow.runName", "renamed-parent")  # rewritten in place
    new = client.create_run(exp, run_name="brand-new").info.run_id
    reads.clear()
    store = open_store(root)
    after = _values(store, exp)
    assert sorted(reads[-1]) == sorted([lasso, ids["parent"], new])
    assert after.loc[lasso, "metrics.rmse"] == 0.001
    assert after.loc[ids["parent"], "tags.mlflow.runName"] == "renamed-parent"
    assert new in after.index

    # An open store sees the same through refresh(), reading only the changed run again.
    client.log_metric(lasso, "rmse", 0.0005, timestamp=1_700_000_099_500, step=100)
    reads.clear()
    store.refresh()
    assert _values(store, exp).loc[lasso, "metrics.rmse"] == 0.0005
    assert reads[-1] == [lasso]
