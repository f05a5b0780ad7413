"""The corpus tests honour MLSCOPE_CORPUS, say how to run them when it is missing, and fail
instead of skipping under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_corpus_tests(tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "MLSCOPE_CORPUS")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "corpus"), "-k", "reading_changes_no_byte"],
        capture_output=True, text=True, cwd=ROOT, env=environ, timeout=600)


def test_missing_corpus_skips_saying_how_to_run(tmp_path):
    done = run_corpus_tests(tmp_path, MLSCOPE_CORPUS=str(tmp_path / "nowhere"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" in done.stdout and "MLSCOPE_CORPUS=" in done.stdout
    assert str(tmp_path / "nowhere") in done.stdout


def test_missing_corpus_fails_under_ci(tmp_path):
    done = run_corpus_tests(tmp_path, MLSCOPE_CORPUS=str(tmp_path / "nowhere"), CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("error" in done.stdout or "failed" in done.stdout) and "CI=true and corpus tests" in done.stdout


def test_the_variable_names_the_corpus(tmp_path):
    """A corpus elsewhere (here: an empty ground truth) is the one the tests read."""
    corpus = tmp_path / "my-corpus"
    corpus.mkdir()
    (corpus / "ground_truth.json").write_text("{}")
    done = run_corpus_tests(tmp_path, MLSCOPE_CORPUS=str(corpus), CI="true")
    # The ground truth is read from there: no stores, so nothing to run, and nothing fails.
    assert "failed" not in done.stdout, done.stdout
    assert "no tests ran" in done.stdout or "deselected" in done.stdout, done.stdout
