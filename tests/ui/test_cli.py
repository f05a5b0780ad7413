"""The command line: --version/--help without Qt, the default target, --screenshot, --demo,
and no ``import mlflow`` on the way to a filled table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_app(args, tmp_path, extra_env=None, timeout=180):
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.pathsep.join(
        [*(extra_env or {}).pop("_prepend", []), str(ROOT / "app")]),
        MLSCOPE_CONFIG_DIR=str(tmp_path / "config"), MLSCOPE_CACHE_DIR=str(tmp_path / "cache"))
    env.update(extra_env or {})
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run([sys.executable, "-m", "mlscope", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout)


def test_version_and_help(tmp_path):
    from mlscope import __version__

    out = run_app(["--version"], tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == f"mlscope {__version__}"
    out = run_app(["--help"], tmp_path)
    assert out.returncode == 0
    for word in ("TARGET", "--demo", "--screenshot", "MLFLOW_TRACKING_URI"):
        assert word in out.stdout


def test_default_target(tmp_path, monkeypatch):
    from mlscope.__main__ import default_target

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert default_target(tmp_path) is None
    (tmp_path / "mlruns").mkdir()
    assert default_target(tmp_path) == str(tmp_path / "mlruns")
    (tmp_path / "mlflow.db").write_bytes(b"")
    assert default_target(tmp_path) == str(tmp_path / "mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://localhost:5000")
    assert default_target(tmp_path) == "http://localhost:5000"


def test_screenshot_of_a_store_and_no_mlflow_import(built, tmp_path):
    """A fake ``mlflow`` first on the path fails loudly if anything imports it."""
    fake = tmp_path / "fake"
    (fake / "mlflow").mkdir(parents=True)
    (fake / "mlflow" / "__init__.py").write_text(
        "import pathlib\npathlib.Path(__file__).parent.parent.joinpath('IMPORTED').write_text('x')\n"
        "raise ImportError('mlflow must not be imported on the way to the first window')\n")
    shot = tmp_path / "shot.png"
    out = run_app([str(built["file"]), "--experiment", "alpha", "--screenshot", str(shot)],
                  tmp_path, {"_prepend": [str(fake)]})
    assert out.returncode == 0, out.stderr
    assert shot.stat().st_size > 20_000
    assert not (fake / "IMPORTED").exists()
    assert "Traceback" not in out.stderr


def test_bench_events_in_order(built, tmp_path):
    out = run_app([str(built["sqlite"]), "--bench"], tmp_path)
    assert out.returncode == 0, out.stderr
    events = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("mlscope-event")]
    assert events[:1] == ["painted"] or "painted" in events
    assert events.index("opened") < events.index("loaded")


def test_screenshot_of_a_broken_store_exits_cleanly(tmp_path):
    bad = tmp_path / "mlflow.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00garbage" * 100)
    shot = tmp_path / "err.png"
    out = run_app([str(bad), "--screenshot", str(shot)], tmp_path)
    assert out.returncode == 0 and shot.exists()
    assert "Traceback" not in out.stderr


@pytest.mark.slow
@pytest.mark.timeout(660)
def test_demo_is_built_once_with_every_feature_and_screenshots(tmp_path):
    data = tmp_path / "data"
    shot = tmp_path / "demo.png"
    out = run_app(["--demo", "--screenshot", str(shot)], tmp_path, {"MLSCOPE_DATA_DIR": str(data)},
                  timeout=600)  # the build took over 180 s once in CI beside the 100k-run test
    assert out.returncode == 0, out.stderr
    assert shot.stat().st_size > 20_000
    db = data / "demo" / "mlflow.db"
    assert db.exists()

    from mlscope.core import open_store

    store = open_store(db)
    exps = store.experiments("all")
    assert {"nyc-taxi-experiment", "fashion-mnist-cnn"} <= set(exps["name"])
    assert "deleted" in set(exps["lifecycle_stage"])
    taxi = exps.loc[exps["name"] == "nyc-taxi-experiment", "experiment_id"].iloc[0]
    runs = store.runs([taxi], view="all", attributes=True)
    assert {"params.alpha", "params.train-data-path", "params.valid-data-path", "metrics.rmse",
            "tags.developer"} <= set(runs.columns)
    assert {"FINISHED", "FAILED", "KILLED"} <= set(runs["status"])
    assert (runs["lifecycle_stage"] == "deleted").any()
    assert runs["tags.mlflow.parentRunId"].notna().sum() >= 5
    hist = store.metric_history(runs["run_id"].tolist(), ["validation-rmse"])
    assert hist.groupby("run_id").size().max() >= 300
    versions = store.model_versions("nyc-taxi-regressor")
    assert {"None", "Staging", "Production", "Archived"} <= set(versions["current_stage"])
    assert any("champion" in (a or []) for a in versions["aliases"])
    arts = {p.suffix for p in (data / "demo" / "artifacts").rglob("*") if p.is_file()}
    assert {".png", ".csv", ".json", ".yaml", ".txt", ".html"} <= arts
    assert any(p.name == "MLmodel" for p in (data / "demo" / "artifacts").rglob("MLmodel"))

    # Reused, not rebuilt: the second start does not touch it.
    mtime = db.stat().st_mtime
    out = run_app(["--demo", "--screenshot", str(shot)], tmp_path, {"MLSCOPE_DATA_DIR": str(data)})
    assert out.returncode == 0 and db.stat().st_mtime == mtime
