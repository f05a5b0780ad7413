"""Where the corpus of real MLflow stores is: ``$MLSCOPE_CORPUS``, else ``../shared/corpus``
beside the checkout. Missing, the corpus tests skip and say how to run them; under CI
(``CI=true``) they fail instead, so a misconfigured CI never passes by skipping them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV = "MLSCOPE_CORPUS"
DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def corpus_dir() -> Path:
    value = os.environ.get(ENV, "").strip()
    return Path(value).expanduser() if value else DEFAULT


def missing_reason(what: str = "") -> str:
    where = corpus_dir()
    item = f"{what} is not in" if what else "no corpus (ground_truth.json) at"
    return (f"corpus tests need real MLflow stores: {item} {where}. Point {ENV} at a corpus "
            f"folder to run them, e.g. {ENV}=/path/to/corpus python -m pytest tests/corpus")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(path: Path | None = None, what: str = "") -> Path:
    """``path`` (default: the corpus' ground truth) or skip saying how to run; fail under CI."""
    target = path if path is not None else corpus_dir() / "ground_truth.json"
    if not target.exists():
        reason = missing_reason(what)
        if in_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return target
