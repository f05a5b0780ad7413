"""One run in full: overview, description, metrics (latest, min, max), params, tags, links.

Rendered as rich text in a QTextBrowser: selectable, copyable, and parent/children are
real links (``run:<id>``) that select that run in the table.
"""

from __future__ import annotations

import html
from pathlib import PurePath

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QTextBrowser

from mlscope.core.format import format_duration, format_number, format_time

from ..theme import STATUS_COLORS

CSS = """
body { font-size: 10pt; color: #1f2937; }
h2 { font-size: 14pt; margin: 0; }
p.h { font-size: 8.5pt; color: #64748b; margin-top: 12px; margin-bottom: 4px; font-weight: 700; }
td { padding: 3px 8px 3px 0; vertical-align: top; }
td.k { color: #64748b; white-space: nowrap; }
th { text-align: left; color: #64748b; font-weight: 600; padding: 3px 8px 3px 0;
     border-bottom: 1px solid #e5e7eb; }
.mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 9pt; }
.muted { color: #94a3b8; }
a { color: #0b78c2; text-decoration: none; }
.note { background: #f8fafc; border: 1px solid #e5e7eb; padding: 6px; }
"""


def _e(v) -> str:
    return html.escape("" if v is None else str(v))


def _row(key: str, value_html: str) -> str:
    return f"<tr><td class='k'>{_e(key)}</td><td>{value_html}</td></tr>"


class RunDetail(QTextBrowser):
    runActivated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("runDetail")
        self.setOpenLinks(False)
        self.document().setDefaultStyleSheet(CSS)
        self.anchorClicked.connect(self._anchor)
        self.run_id: str | None = None
        self._run: dict | None = None
        self._links: dict = {}
        self._stats: dict = {}
        self.show_message("Select a run to see its details.")

    def show_message(self, text: str) -> None:
        self.run_id = None
        self._run = None
        self.setHtml(f"<p class='muted' style='margin:16px'>{_e(text)}</p>")

    def show_selection(self, run_ids: list[str], names: dict[str, str]) -> None:
        """Several runs selected: say so and list them (charts compare them)."""
        self.run_id = None
        items = "".join(
            f"<li><a href='run:{_e(r)}'>{_e(names.get(r) or r[:8])}</a> "
            f"<span class='mono muted'>{_e(r[:8])}</span></li>" for r in run_ids[:50])
        more = f"<p class='muted'>and {len(run_ids) - 50} more</p>" if len(run_ids) > 50 else ""
        self.setHtml(f"<h2>{len(run_ids)} runs selected</h2><ul>{items}</ul>{more}")

    def set_run(self, run: dict, links: dict | None = None, stats: dict | None = None) -> None:
        """``run`` is ``store.run(id)``; ``links`` = {"parent": (id, name) | None,
        "children": [(id, name)], "experiment": name}; ``stats`` = {key: (min, max, n)}."""
        self._run = run
        self._links = links or {}
        self._stats = stats or {}
        self.run_id = run.get("info", {}).get("run_id")
        self._render()

    def set_stats(self, run_id: str, stats: dict) -> None:
        if run_id == self.run_id and self._run is not None:
            self._stats = stats
            bar = self.verticalScrollBar().value()
            self._render()
            self.verticalScrollBar().setValue(bar)

    def _render(self) -> None:
        run, links = self._run, self._links
        info = run.get("info", {})
        tags = run.get("tags", {}) or {}
        params = run.get("params", {}) or {}
        metrics = run.get("metrics", {}) or {}
        rid = info.get("run_id", "")
        name = info.get("run_name") or tags.get("mlflow.runName") or rid[:8]
        status = info.get("status") or ""
        color = STATUS_COLORS.get(status, "#64748b")
        start, end = info.get("start_time"), info.get("end_time")
        start = float(start) if start is not None else float("nan")
        end = float(end) if end is not None else float("nan")
        duration = format_duration((end - start) / 1000) if end == end else (
            "still running" if status == "RUNNING" else "")
        source = tags.get("mlflow.source.name")
        commit = tags.get("mlflow.source.git.commit")
        overview = [
            _row("Run ID", f"<span class='mono'>{_e(rid)}</span> &nbsp;<a href='copy:{_e(rid)}'>copy</a>"),
            _row("Experiment", f"{_e(links.get('experiment') or '')} "
                 f"<span class='muted'>({_e(info.get('experiment_id'))})</span>"),
            _row("Status", f"<b style='color:{color}'>{_e(status.capitalize())}</b>"),
            _row("Started", _e(format_time(start, seconds=True))),
            _row("Ended", _e(format_time(end, seconds=True))),
            _row("Duration", _e(duration)),
            _row("User", _e(info.get("user_id") or tags.get("mlflow.user") or "")),
            _row("Source", f"<span title='{_e(source)}'>{_e(PurePath(source).name if source else '')}</span>"
                 + (f" <span class='muted'>({_e(tags.get('mlflow.source.type'))})</span>"
                    if tags.get("mlflow.source.type") else "")),
            _row("Git commit", f"<span class='mono'>{_e(commit or '')}</span>"),
            _row("Lifecycle", _e(info.get("lifecycle_stage") or "")),
            _row("Artifact URI", f"<span class='mono'>{_e(info.get('artifact_uri') or '')}</span>"),
        ]
        parent = links.get("parent")
        if parent:
            overview.append(_row("Parent run", f"<a href='run:{_e(parent[0])}'>{_e(parent[1] or parent[0][:8])}</a>"))
        children = links.get("children") or []
        if children:
            kids = ", ".join(f"<a href='run:{_e(c)}'>{_e(n or c[:8])}</a>" for c, n in children[:100])
            if len(children) > 100:
                kids += f" … and {len(children) - 100} more"
            overview.append(_row(f"Child runs ({len(children)})", kids))
        inputs = run.get("inputs") or []
        if inputs:
            ds = "<br>".join(
                f"{_e(d.get('name'))} <span class='muted'>{_e(d.get('context') or '')} "
                f"{_e((d.get('digest') or '')[:8])}</span>" for d in inputs)
            overview.append(_row("Datasets", ds))
        note = tags.get("mlflow.note.content")
        desc = (f"<p class='h'>DESCRIPTION</p><table class='note' width='100%'><tr><td>"
                f"{_e(note).replace(chr(10), '<br>')}</td></tr></table>") if note else ""

        mrows = []
        for key in sorted(metrics, key=str.lower):
            m = metrics[key]
            value = m.get("value") if isinstance(m, dict) else m
            step = m.get("step") if isinstance(m, dict) else None
            lo, hi, n = self._stats.get(key, (None, None, None))
            mrows.append(
                f"<tr><td>{_e(key)}</td><td align='right'><b>{_e(format_number(value))}</b></td>"
                f"<td align='right'>{_e(format_number(lo))}</td><td align='right'>{_e(format_number(hi))}</td>"
                f"<td align='right' class='muted'>{_e(step if step is not None else '')}</td>"
                f"<td align='right' class='muted'>{_e(n if n else '')}</td></tr>")
        metrics_html = (
            "<table width='100%' cellspacing='0'><tr><th>Metric</th><th align='right'>Latest</th>"
            "<th align='right'>Min</th><th align='right'>Max</th><th align='right'>Step</th>"
            "<th align='right'>Points</th></tr>" + "".join(mrows) + "</table>"
        ) if mrows else "<p class='muted'>No metrics.</p>"
        params_html = self._kv_table(params, "Param") if params else "<p class='muted'>No params.</p>"
        user_tags = {k: v for k, v in tags.items() if not k.startswith("mlflow.")}
        sys_tags = {k: v for k, v in tags.items() if k.startswith("mlflow.") and k != "mlflow.note.content"}
        tags_html = self._kv_table(user_tags, "Tag") if user_tags else "<p class='muted'>No tags.</p>"
        sys_html = self._kv_table(sys_tags, "System tag", muted=True) if sys_tags else ""

        self.setHtml(
            f"<table width='100%' cellspacing='0'><tr><td>"
            f"<h2><span style='color:{color}'>●</span> {_e(name)}</h2></td></tr></table>"
            f"{desc}<table width='100%' cellspacing='0'><tr>"
            f"<td width='42%'><p class='h'>OVERVIEW</p><table cellspacing='0'>{''.join(overview)}</table></td>"
            f"<td width='58%'><p class='h'>METRICS ({len(metrics)})</p>{metrics_html}"
            f"<p class='h'>PARAMETERS ({len(params)})</p>{params_html}"
            f"<p class='h'>TAGS ({len(user_tags)})</p>{tags_html}{sys_html}</td>"
            f"</tr></table>"
        )

    @staticmethod
    def _kv_table(items: dict, title: str, muted: bool = False) -> str:
        cls = " class='muted'" if muted else ""
        rows = "".join(
            f"<tr><td{cls}>{_e(k)}</td><td{cls}><span class='mono'>{_e(_short(v))}</span></td></tr>"
            for k, v in sorted(items.items(), key=lambda kv: kv[0].lower()))
        head = f"<tr><th>{_e(title)}</th><th>Value</th></tr>"
        return f"<table width='100%' cellspacing='0'>{head}{rows}</table>"

    def _anchor(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("run:"):
            self.runActivated.emit(text[4:])
        elif text.startswith("copy:"):
            QGuiApplication.clipboard().setText(text[5:])
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)


def _short(v, limit: int = 300) -> str:
    s = "" if v is None else str(v)
    return s if len(s) <= limit else s[:limit] + " …"
