"""HTML artifacts without a screen: scikit-learn's estimator page read as its structure (real
pages made by sklearn's own ``estimator_html_repr``), and the copy the system browser gets."""

from __future__ import annotations

import pytest

from mlscope.core.estimator_html import browser_copy, estimator_page, estimator_summary
from mlscope.core.previews import preview, strip_scripts

sklearn = pytest.importorskip("sklearn")


def _pipeline_html() -> str:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils import estimator_html_repr

    pipe = Pipeline([("pre", ColumnTransformer([("num", StandardScaler(), [0, 1])])),
                     ("clf", LogisticRegression(C=0.5, max_iter=300))])
    return estimator_html_repr(pipe)


def _labels(nodes, depth=0):
    for n in nodes:
        yield depth, n["label"]
        yield from _labels(n["children"], depth + 1)


def test_pipeline_structure_and_parameters():
    s = estimator_summary(_pipeline_html())
    assert s["text"].startswith("Pipeline(steps=[('pre',")
    assert "LogisticRegression(C=0.5, max_iter=300)" in s["text"]
    labels = list(_labels(s["tree"]))
    assert labels[0] == (0, "Pipeline")
    assert (1, "pre: ColumnTransformer") in labels and (3, "StandardScaler") in labels
    clf = next(n for n in s["tree"][0]["children"] if n["label"].endswith("LogisticRegression"))
    assert [(p["name"], p["value"]) for p in clf["params"] if p["set"]] == [
        ("C", "0.5"), ("max_iter", "300")]
    assert any(p["name"] == "tol" and not p["set"] for p in clf["params"])
    num = next(n for d, n in _nodes(s["tree"]) if n["label"] == "num")
    assert num["note"] == "[0, 1]"  # the columns a ColumnTransformer branch takes


def _nodes(nodes, depth=0):
    for n in nodes:
        yield depth, n
        yield from _nodes(n["children"], depth + 1)


def test_page_is_short_and_has_no_docstrings(tmp_path):
    path = tmp_path / "estimator.html"
    path.write_text(_pipeline_html(), encoding="utf-8")
    pv = preview(path)
    assert pv.kind == "html" and pv.data is not None
    page = pv.html
    assert "<b>LogisticRegression</b>" in page and "<b>0.5</b>" in page
    for noise in ("Documentation for", "In a Jupyter environment", "copyToClipboard",
                  "<script", "versionadded"):
        assert noise not in page
    assert len(page) < len(path.read_text()) / 5
    assert estimator_page(pv.data).count("<pre>") == 1


def test_other_pages_stay_pages(tmp_path):
    """A page that is not sklearn's (even one naming its CSS classes) is shown as itself."""
    assert estimator_summary("<html><body><h1>Report</h1></body></html>") is None
    page = tmp_path / "report.html"
    page.write_text("<html><body><h1>Styling notes</h1><p>The diagram's box is "
                    "<code>sk-top-container</code>.</p></body></html>")
    assert estimator_summary(page.read_text()) is None
    pv = preview(page)
    assert pv.kind == "html" and pv.html == "" and "Styling notes" in pv.text


def test_browser_copy_in_the_cache_without_scripts(tmp_path, monkeypatch):
    monkeypatch.setenv("MLSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    page = tmp_path / "store" / "report.html"
    page.parent.mkdir()
    original = ("<html><head><title>r</title><script src='http://127.0.0.1:9/x.js'></script>"
                "</head><body><script>document.title='ran'</script><p onclick='alert(1)'>ok</p>"
                "<img src='http://127.0.0.1:9/p.png'></body></html>")
    page.write_text(original)
    copy = browser_copy(page, "report.html", strip_scripts)
    assert copy.is_relative_to(tmp_path / "cache") and copy.name == "report.html"
    text = copy.read_text()
    assert "<script" not in text and "onclick" not in text and "document.title" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert text.index("Content-Security-Policy") < text.index("<body>")
    assert page.read_text() == original  # the store's file untouched
    # A crafted name cannot steer the copy out of the cache.
    assert browser_copy(page, "../../evil.html", strip_scripts).parent == copy.parent
