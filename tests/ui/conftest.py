"""Fixtures for driving the app as a user would: a main window with its own settings file,
stores of each kind, and a helper that opens one and waits for its table."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from corpus_location import corpus_dir, require  # noqa: E402

CORPUS = corpus_dir()  # $MLSCOPE_CORPUS, else ../shared/corpus


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """A cache folder of this test's own, so a load really reads the files."""
    monkeypatch.setenv("MLSCOPE_CACHE_DIR", str(tmp_path / "cache"))


def wait_loaded(qtbot, page, timeout=60_000):
    """Until the page shows its runs (or its error page)."""
    qtbot.waitUntil(lambda: (page.loaded_once and not page.is_loading())
                    or page.stack.currentWidget() is page.error_page, timeout=timeout)
    return page


@pytest.fixture
def open_store_page(qtbot, window):
    def _open(target, experiment=None):
        page = window.open_target(str(target), experiment)
        return wait_loaded(qtbot, page)

    return _open


@pytest.fixture(scope="session")
def big_mlruns(tmp_path_factory):
    """3,000 runs in one mlruns folder, written in MLflow's format by the benchmark generator."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from make_stores import build_mlruns

    root = tmp_path_factory.mktemp("big") / "mlruns"
    build_mlruns(root, n_runs=3000, n_metrics=3, n_steps=5, n_params=12, n_tags=7,
                 n_experiments=1, seed=0)
    return root


@pytest.fixture
def corpus_copy(tmp_path):
    """A real store from the corpus, copied first: the corpus is read-only."""

    def _copy(name: str) -> Path:
        src = CORPUS / name
        require(src, f"the store {name}")  # skips saying how to run; fails under CI=true
        dst = tmp_path / "corpus" / name
        shutil.copytree(src, dst)
        return dst

    return _copy
