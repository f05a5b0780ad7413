"""One run in full: overview, description, metrics (latest, min, max), params, tags, links.

Rendered as rich text in a QTextBrowser: selectable, copyable, and parent/children are
real links (``run:<id>``) that select that run in the table.
"""

from __future__ import annotations

import html
import json
from pathlib import PurePath

from PySide6.QtCore import QMimeData, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QTextOption
from PySide6.QtWidgets import QTextBrowser

from mlscope.core.format import format_duration, format_number, format_time

from .. import theme
from ..theme import STATUS_COLORS

CSS = """
body { font-size: 10pt; color: #1f2937; }
h2 { font-size: 14pt; margin: 0; }
p.h { font-size: 8.5pt; color: #64748b; margin-top: 14px; margin-bottom: 4px; font-weight: 700; }
td { padding: 2px 6px 2px 0; vertical-align: top; }
td.k { color: #64748b; }
th { text-align: left; color: #64748b; font-weight: 600; padding: 2px 6px 2px 0;
     border-bottom: 1px solid #e5e7eb; }
.mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 9pt; }
.muted { color: #94a3b8; }
.small { font-size: 8.5pt; }
a { color: #0b78c2; text-decoration: none; }
.note { background: #f8fafc; border: 1px solid #e5e7eb; padding: 6px; }
"""

ZWSP = "\u200b"  # a break opportunity that is not drawn
_BREAK_AFTER = set("/\\_-.:=,;&?")
_CHUNK = 12  # longest run of characters without a break opportunity


def _e(v) -> str:
    return html.escape("" if v is None else str(v))


def _b(v) -> str:
    """Escaped, with break opportunities after separators and inside long tokens, so a path,
    URI or hash wraps at a sensible place instead of widening the panel (or being split into
    a column of letters)."""
    text = "" if v is None else str(v)
    if all(len(word) <= _CHUNK + 4 for word in text.split()):
        return html.escape(text)  # short words wrap between themselves: nothing to add
    out, run = [], 0
    for ch in text:
        out.append(html.escape(ch))
        run = 0 if ch.isspace() else run + 1
        if ch in _BREAK_AFTER or run >= _CHUNK:
            out.append(ZWSP)
            run = 0
    return "".join(out)


def _row(key: str, value_html: str) -> str:
    return f"<tr><td class='k'>{_e(key)}</td><td>{value_html}</td></tr>"


def _models(run: dict) -> list[dict]:
    """Logged models of a run: MLflow 3's LoggedModels (``run["logged_models"]``) merged with
    the run's ``mlflow.log-model.history`` tag, which is where the flavors are written (and
    the only record of models logged by MLflow 2)."""
    history = []
    raw = (run.get("tags") or {}).get("mlflow.log-model.history")
    if raw:
        try:
            history = [h for h in json.loads(raw) if isinstance(h, dict)]
        except (TypeError, ValueError):
            history = []
    out, used = [], set()
    for m in run.get("logged_models") or []:
        mid = m.get("model_id")
        match = next((i for i, h in enumerate(history) if i not in used and mid
                      and h.get("model_id") == mid), None)
        if match is None:
            match = next((i for i, h in enumerate(history) if i not in used
                          and h.get("artifact_path") == m.get("name")), None)
        flavors = m.get("flavors")
        if match is not None:
            used.add(match)
            flavors = flavors or history[match].get("flavors")
        out.append({"name": m.get("name"), "model_id": mid, "flavors": flavors,
                    "path": m.get("artifact_location"), "status": m.get("status")})
    for i, h in enumerate(history):
        if i not in used:
            out.append({"name": h.get("artifact_path"), "flavors": h.get("flavors"),
                        "model_id": h.get("model_id") or h.get("model_uuid"),
                        "path": h.get("artifact_path"), "status": None})
    return out


class RunDetail(QTextBrowser):
    """Sections stacked in one column, so it reads in a side panel of ~340 px: words wrap
    only between words (long tokens carry break opportunities), never letter by letter."""

    runActivated = Signal(str)
    metricActivated = Signal(str)  # a metric name clicked: chart it

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("runDetail")
        self.setOpenLinks(False)
        self.setWordWrapMode(QTextOption.WordWrap)
        self.document().setDefaultStyleSheet(theme.themed(CSS))
        self.anchorClicked.connect(self._anchor)
        self.run_id: str | None = None
        self._run: dict | None = None
        self._links: dict = {}
        self._stats: dict = {}
        self._metric_keys: list[str] = []
        self.show_message("Select a run to see its details.")

    def show_message(self, text: str) -> None:
        self.run_id = None
        self._run = None
        self.setHtml(f"<p class='muted' style='margin:16px'>{_e(text)}</p>")

    def show_selection(self, run_ids: list[str], names: dict[str, str]) -> None:
        """Several runs selected: say so and list them (charts compare them)."""
        self.run_id = None
        items = "".join(
            f"<li><a href='run:{_e(r)}'>{_b(names.get(r) or r[:8])}</a> "
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
            _row("Run ID", f"<span class='mono'>{_b(rid)}</span> <a href='copy:{_e(rid)}'>copy</a>"),
            _row("Experiment", f"{_b(links.get('experiment') or '')} "
                 f"<span class='muted'>({_e(info.get('experiment_id'))})</span>"),
            _row("Status", f"<b style='color:{color}'>{_e(status.capitalize())}</b>"),
            _row("Started", _e(format_time(start, seconds=True))),
            _row("Ended", _e(format_time(end, seconds=True))),
            _row("Duration", _e(duration)),
            _row("User", _b(info.get("user_id") or tags.get("mlflow.user") or "")),
        ]
        if source:
            overview.append(_row("Source", f"<span title='{_e(source)}'>{_b(PurePath(source).name)}</span>"
                                 + (f" <span class='muted'>({_e(tags.get('mlflow.source.type'))})</span>"
                                    if tags.get("mlflow.source.type") else "")))
        if commit:
            overview.append(_row("Git commit", f"<span class='mono' title='{_e(commit)}'>{_e(commit[:12])}</span>"))
        overview += [
            _row("Lifecycle", _e(info.get("lifecycle_stage") or "")),
            _row("Artifacts", f"<span class='mono small'>{_b(info.get('artifact_uri') or '')}</span>"),
        ]
        for line in links.get("registered") or []:
            overview.append(_row("Registered as", _b(line)))
        parent = links.get("parent")
        if parent:
            overview.append(_row("Parent run", f"<a href='run:{_e(parent[0])}'>{_b(parent[1] or parent[0][:8])}</a>"))
        children = links.get("children") or []
        if children:
            kids = ", ".join(f"<a href='run:{_e(c)}'>{_b(n or c[:8])}</a>" for c, n in children[:100])
            if len(children) > 100:
                kids += f" … and {len(children) - 100} more"
            overview.append(_row(f"Child runs ({len(children)})", kids))
        inputs = run.get("inputs") or []
        if inputs:
            ds = "<br>".join(
                f"{_b(d.get('name'))} <span class='muted'>{_e(d.get('context') or '')} "
                f"{_e((d.get('digest') or '')[:8])}</span>" for d in inputs)
            overview.append(_row("Datasets", ds))
        note = tags.get("mlflow.note.content")
        desc = (f"<p class='h'>DESCRIPTION</p><table class='note' width='100%'><tr><td>"
                f"{_b(note).replace(chr(10), '<br>')}</td></tr></table>") if note else ""

        self._metric_keys = sorted(metrics, key=str.lower)
        mrows = []
        for i, key in enumerate(self._metric_keys):
            m = metrics[key]
            value = m.get("value") if isinstance(m, dict) else m
            step = m.get("step") if isinstance(m, dict) else None
            lo, hi, n = self._stats.get(key, (None, None, None))
            where = " · ".join(x for x in (
                f"Points {n:,}" if n else "",
                f"last step {step}" if step is not None else "") if x)
            mrows.append(
                f"<tr><td><a href='metric:{i}' title='Chart {_e(key)}'>{_b(key)}</a>"
                + (f"<br><span class='muted small'>{_e(where)}</span>" if where else "")
                + f"</td><td align='right'><b>{_e(format_number(value))}</b></td>"
                f"<td align='right'>{_e(format_number(lo)) or '&nbsp;'}</td>"
                f"<td align='right'>{_e(format_number(hi)) or '&nbsp;'}</td></tr>")
        metrics_html = (
            # 99%: Qt rounds a 100% table of four columns 1 px wider than the page
            "<table width='99%' cellspacing='0'><tr><th>Metric</th><th align='right'>Latest</th>"
            "<th align='right'>Min</th><th align='right'>Max</th></tr>"
            + "".join(mrows) + "</table>"
        ) if mrows else "<p class='muted'>No metrics.</p>"
        params_html = self._kv_table(params, "Param") if params else "<p class='muted'>No params.</p>"
        user_tags = {k: v for k, v in tags.items() if not k.startswith("mlflow.")}
        sys_tags = {k: v for k, v in tags.items()
                    if k.startswith("mlflow.") and k not in ("mlflow.note.content", "mlflow.log-model.history")}
        tags_html = self._kv_table(user_tags, "Tag") if user_tags else "<p class='muted'>No tags.</p>"
        sys_html = self._kv_table(sys_tags, "System tag", muted=True) if sys_tags else ""
        models = _models(run)
        models_html = ""
        if models:
            rows = []
            for m in models:
                flavors = ", ".join(sorted(m["flavors"])) if isinstance(m["flavors"], dict) else ""
                lines = [f"<b>{_b(m['name'] or m['model_id'] or '')}</b>"
                         + (f" <span class='muted'>{_e(m['status'])}</span>" if m.get("status") else "")]
                if flavors:
                    lines.append(f"<span class='muted'>flavors</span> {_b(flavors)}")
                if m.get("path"):
                    lines.append(f"<span class='muted'>path</span> <span class='mono small'>{_b(m['path'])}</span>")
                if m.get("model_id"):
                    lines.append(f"<span class='muted'>id</span> <span class='mono small'>{_b(m['model_id'])}</span>")
                rows.append(f"<tr><td>{'<br>'.join(lines)}</td></tr>")
            models_html = (f"<p class='h'>LOGGED MODELS ({len(models)})</p>"
                           f"<table width='100%' cellspacing='0'>{''.join(rows)}</table>")

        self.setHtml(
            f"<h2><span style='color:{color}'>●</span> {_b(name)}</h2>"
            f"{desc}<p class='h'>OVERVIEW</p><table width='100%' cellspacing='0'>{''.join(overview)}</table>"
            f"<p class='h'>METRICS ({len(metrics)})</p>{metrics_html}"
            f"<p class='h'>PARAMETERS ({len(params)})</p>{params_html}"
            f"{models_html}"
            f"<p class='h'>TAGS ({len(user_tags)})</p>{tags_html}{sys_html}"
        )

    @staticmethod
    def _kv_table(items: dict, title: str, muted: bool = False) -> str:
        cls = " class='muted'" if muted else ""
        rows = "".join(
            f"<tr><td{cls} width='40%'>{_b(k)}</td><td{cls}><span class='mono'>{_b(_short(v))}</span></td></tr>"
            for k, v in sorted(items.items(), key=lambda kv: kv[0].lower()))
        head = f"<tr><th>{_e(title)}</th><th>Value</th></tr>"
        return f"<table width='100%' cellspacing='0'>{head}{rows}</table>"

    def createMimeDataFromSelection(self):  # noqa: N802 (Qt's name)
        """Copied text without the invisible break opportunities (a pasted run id must work)."""
        mime = super().createMimeDataFromSelection()
        out = QMimeData()
        out.setText(mime.text().replace(ZWSP, ""))
        return out

    def _anchor(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("run:"):
            self.runActivated.emit(text[4:])
        elif text.startswith("metric:"):
            i = int(text[7:]) if text[7:].isdigit() else -1
            if 0 <= i < len(self._metric_keys):
                self.metricActivated.emit(self._metric_keys[i])
        elif text.startswith("copy:"):
            QGuiApplication.clipboard().setText(text[5:])
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)


def _short(v, limit: int = 300) -> str:
    s = "" if v is None else str(v)
    return s if len(s) <= limit else s[:limit] + " …"
