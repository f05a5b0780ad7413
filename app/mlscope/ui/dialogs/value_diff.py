"""A long value beside the baseline's (a config, a command line, a list): side by side with
the changed parts marked, and a config compared key by key."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout

from mlscope.core import compare as cmp

TAG_COLORS = {"delete": "#fbe3e3", "insert": "#e2f5e2", "replace": "#fff3c4"}
MARK = "#f5c26b"
STATUS_COLORS = {"changed": "#fff3c4", "added": "#e2f5e2", "removed": "#fbe3e3"}


def _value(v) -> str:
    return "—" if v is None else ('""' if v == "" else escape(repr(v) if not isinstance(v, str)
                                                                else v))


def _marked(text: str | None, spans) -> str:
    if text is None:
        return ""
    out, pos = [], 0
    for a, b in spans:
        out.append(escape(text[pos:a]))
        out.append(f'<span style="background:{MARK}">{escape(text[a:b])}</span>')
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def diff_html(title_left: str, left: str | None, title_right: str, right: str | None) -> str:
    """The HTML of the dialog: the key-by-key table of two configs (when both parse),
    then the two values side by side."""
    parts = []
    keys = cmp.json_diff(left, right) if left is not None and right is not None else None
    if keys is not None:
        changed = [k for k in keys if k.status != "same"]
        parts.append(f"<h3>Key by key: {len(changed)} of {len(keys)} keys differ</h3>")
        parts.append('<table cellspacing="0" cellpadding="3" border="1" width="100%">')
        parts.append(f"<tr><th>key</th><th>{escape(title_left)}</th>"
                     f"<th>{escape(title_right)}</th></tr>")
        for k in sorted(keys, key=lambda k: k.status == "same"):
            bg = STATUS_COLORS.get(k.status)
            style = f' style="background:{bg}"' if bg else ""
            left_v = "—" if k.status == "added" else _value(k.left)
            right_v = "—" if k.status == "removed" else _value(k.right)
            parts.append(f"<tr{style}><td><code>{escape(k.path)}</code></td>"
                         f"<td><code>{left_v}</code></td><td><code>{right_v}</code></td></tr>")
        parts.append("</table>")
    lines = cmp.side_by_side(left, right)
    differ = sum(1 for ln in lines if ln.tag != "equal")
    parts.append(f"<h3>Side by side: {differ} of {len(lines)} lines differ</h3>")
    parts.append('<table cellspacing="0" cellpadding="2" width="100%">')
    parts.append(f"<tr><th width='50%'>{escape(title_left)}</th>"
                 f"<th width='50%'>{escape(title_right)}</th></tr>")
    if left is None or right is None:
        parts.append(f"<tr><td>{'(missing)' if left is None else ''}</td>"
                     f"<td>{'(missing)' if right is None else ''}</td></tr>")
    for ln in lines:
        bg = TAG_COLORS.get(ln.tag)
        style = f' style="background:{bg}"' if bg else ""
        parts.append(f"<tr{style}><td><pre>{_marked(ln.left, ln.left_spans)}</pre></td>"
                     f"<td><pre>{_marked(ln.right, ln.right_spans)}</pre></td></tr>")
    parts.append("</table>")
    return "".join(parts)


class ValueDiffDialog(QDialog):
    def __init__(self, title: str, left_title: str, left, right_title: str, right, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Compare {title}")
        self.resize(1000, 640)
        self.html = diff_html(left_title, left, right_title, right)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setHtml(self.html)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        copy = buttons.addButton("Copy both values", QDialogButtonBox.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(
            f"{left_title}:\n{left if left is not None else '(missing)'}\n\n"
            f"{right_title}:\n{right if right is not None else '(missing)'}\n"))
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"<b>{escape(title)}</b>: {escape(left_title)} (baseline) "
                             f"beside {escape(right_title)}", textFormat=Qt.RichText))
        lay.addWidget(self.browser, 1)
        lay.addWidget(buttons)
