"""scikit-learn's ``estimator.html`` (the HTML repr autologging saves) made readable without
a browser, and a safe copy of any HTML artifact for the system browser.

sklearn's page is a diagram driven by CSS and scripts: in Qt's rich text every hidden
parameter table and docstring spills out at once. What it holds is read here as data (the
text repr of its ``<pre>`` fallback; the nested ``sk-item`` boxes with their labels and
parameter tables) and rendered as a short page of the estimator's structure. The page is
parsed as text with the standard library's HTMLParser: nothing in it is run or fetched.
"""

from __future__ import annotations

import hashlib
import html as _html
import re
from html.parser import HTMLParser
from pathlib import Path

from .paths import cache_dir

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
         "source", "track", "wbr"}
_SKIP = {"style", "script", "title", "button", "noscript", "template"}


def is_estimator_html(text: str) -> bool:
    """True for sklearn's HTML repr (any version since 0.23)."""
    return "sk-top-container" in text or "sk-text-repr-fallback" in text


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[dict] = []
        self.roots: list[dict] = []
        self.fallback: list[str] = []

    # -- where we are --------------------------------------------------------------------
    def _node(self) -> dict | None:
        for rec in reversed(self.stack):
            if rec.get("node") is not None:
                return rec["node"]
        return None

    def _row(self) -> dict | None:
        for rec in reversed(self.stack):
            if rec.get("row") is not None:
                return rec["row"]
        return None

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        a = dict(attrs)
        cls = set((a.get("class") or "").split())
        rec: dict = {"tag": tag}
        if tag in _SKIP or (tag == "span" and "param-doc-description" in cls) or (
                tag in ("a", "span") and self._capturing("label")) or tag == "summary":
            rec["skip"] = True
        elif tag == "div" and "sk-item" in cls:
            node = {"label": "", "note": "", "params": [], "children": []}
            parent = self._node()
            (parent["children"] if parent is not None else self.roots).append(node)
            rec["node"] = node
        elif tag == "label" and "sk-toggleable__label" in cls:
            rec["capture"] = "label"
        elif tag == "div" and "sk-toggleable__content" in cls:
            rec["capture"] = "note"
        elif tag == "pre" and any(r.get("fallback") for r in self.stack):
            rec["capture"] = "fallback"
        elif tag == "div" and "sk-text-repr-fallback" in cls:
            rec["fallback"] = True
        elif tag == "tr" and cls & {"user-set", "default"}:
            node = self._node()
            if node is not None:
                row = {"name": "", "value": "", "set": "user-set" in cls, "type": ""}
                node["params"].append(row)
                rec["row"] = row
        elif tag == "td" and "param" in cls:
            rec["capture"] = "name"
        elif tag == "td" and "value" in cls:
            rec["capture"] = "value"
        elif tag == "td" and "fitted-att-type" in cls:
            rec["capture"] = "type"  # a fitted attribute (sklearn 1.8+): type, then value
        elif tag == "td" and (self._row() or {}).get("type"):
            rec["capture"] = "value"
        rec["buf"] = []
        self.stack.append(rec)

    def _capturing(self, what: str) -> bool:
        return any(r.get("capture") == what for r in self.stack)

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["tag"] == tag:
                while len(self.stack) > i:
                    self._close(self.stack.pop())
                return

    def _close(self, rec: dict) -> None:
        what = rec.get("capture")
        if what is None:
            return
        raw = "".join(rec["buf"])
        text = raw if what == "fallback" else " ".join(raw.split())
        node = self._node()
        if what == "fallback":
            self.fallback.append(text.strip("\n"))
        elif what == "label" and node is not None:
            if node["label"]:  # a second label in one box: a child of it
                node["children"].append({"label": text, "note": "", "params": [],
                                         "children": []})
            else:
                node["label"] = text
        elif what == "note" and node is not None and text and not node["note"]:
            node["note"] = text
        elif what in ("name", "value", "type"):
            row = self._row()
            if row is not None:
                row[what] = text

    def handle_data(self, data):
        for rec in reversed(self.stack):
            if rec.get("skip"):
                return
            if rec.get("capture") is not None:
                if rec["capture"] == "note" and (self._row() is not None or any(
                        r["tag"] in ("table", "details") for r in self.stack)):
                    return  # the parameter table, read row by row
                rec["buf"].append(data)
                return


def estimator_summary(text: str) -> dict | None:
    """sklearn's HTML repr as data: ``text`` (the estimator's repr) and ``tree`` (boxes:
    label, note, params [{name, value, set, type}], children; a fitted attribute has a
    ``type``). None for any other page."""
    if not is_estimator_html(text):
        return None
    parser = _Parser()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # noqa: BLE001 - a damaged page: whatever was read, else None
        pass
    tree = _prune(parser.roots)
    if not tree and not parser.fallback:
        return None
    return {"text": "\n".join(parser.fallback), "tree": tree}


def _prune(nodes: list[dict]) -> list[dict]:
    out = []
    for n in nodes:
        n["children"] = _prune(n["children"])
        if n["label"] or n["params"] or n["note"]:
            out.append(n)
        else:
            out.extend(n["children"])  # a wrapper box without a label of its own
    return out


def estimator_page(summary: dict, name: str = "estimator.html") -> str:
    """A short HTML page (Qt rich text) of the estimator: its structure, each box's
    parameters set by the user in bold and the defaults in grey, and the text repr."""
    e = _html.escape
    parts = [f"<h3>{e(name)}</h3>",
             "<p style='color:#64748b'>scikit-learn's estimator, read from the page: its "
             "structure and parameters (no scripts or network; "
             "<i>Open in system browser</i> shows the diagram).</p>"]

    def node(n: dict, depth: int) -> None:
        margin = f"margin-left:{18 * depth}px"
        note = f" <span style='color:#64748b'>{e(n['note'][:300])}</span>" if n["note"] else ""
        label = e(n["label"]) or "<i>(unnamed)</i>"
        parts.append(f"<p style='{margin}; margin-top:8px; margin-bottom:0'>"
                     f"{'▸ ' if depth else ''}<b>{label}</b>{note}</p>")
        set_ = [p for p in n["params"] if p["set"] and not p["type"]]
        default = [p for p in n["params"] if not p["set"] and not p["type"]]
        fitted = [p for p in n["params"] if p["type"]]
        if set_:
            parts.append(f"<p style='{margin}; margin-top:2px; margin-bottom:0'>" + ", ".join(
                f"<code>{e(p['name'])}</code>=<b>{e(p['value'][:200])}</b>" for p in set_)
                + "</p>")
        if default:
            parts.append(f"<p style='{margin}; margin-top:2px; margin-bottom:0; "
                         f"color:#94a3b8; font-size:small'>defaults: " + ", ".join(
                             f"{e(p['name'])}={e(p['value'][:80])}" for p in default) + "</p>")
        if fitted:
            parts.append(f"<p style='{margin}; margin-top:2px; margin-bottom:0; "
                         f"color:#475569; font-size:small'>fitted attributes:<br>" + "<br>".join(
                             f"<code>{e(p['name'])}</code> {e(p['type'])} = "
                             f"{e(p['value'][:160])}" for p in fitted) + "</p>")
        for c in n["children"]:
            node(c, depth + 1)

    if summary["tree"]:
        parts.append("<h4>Structure</h4>")
        for n in summary["tree"]:
            node(n, 0)
    if summary["text"]:
        parts.append("<h4>As Python</h4>")
        parts.append(f"<pre>{e(summary['text'])}</pre>")
    return "\n".join(parts)


# -- a copy for the system browser ----------------------------------------------------------
_CSP = ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:; font-src data:\">")


def browser_copy(path: Path, name: str, clean) -> Path:
    """A copy of the HTML file ``path`` in mlscope's cache for the system browser: scripts
    removed by ``clean`` (previews.strip_scripts) and a Content-Security-Policy that
    forbids scripts and every request (inline styles and data: images kept). The store's
    own file is never what the browser opens."""
    raw = Path(path).read_bytes()
    text = clean(raw.decode("utf-8", errors="replace"))
    head = re.search(r"<head\b[^>]*>", text, re.I)
    if head:
        text = text[:head.end()] + _CSP + text[head.end():]
    else:
        text = f"<!DOCTYPE html><html><head><meta charset=\"utf-8\">{_CSP}</head>" \
               f"<body>{text}</body></html>"
    key = hashlib.sha1(raw).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "page.html"
    if not safe.lower().endswith((".html", ".htm")):
        safe += ".html"
    folder = cache_dir() / "html" / key
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / safe
    out.write_text(text, encoding="utf-8")
    return out


__all__ = ["browser_copy", "estimator_page", "estimator_summary", "is_estimator_html"]
