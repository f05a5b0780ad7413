"""Artifacts: the tree of the current run, viewers by type, the same file across the selected
runs side by side, drag out, Save as, and windows for files dropped on mlscope.

Every listing, download, parse and image decode runs on the task runner; results come
back to the view. Files over the preview limit (settings: ``artifact_preview_limit_mb``,
default 50) wait until the user asks.
"""

from __future__ import annotations

import difflib
import html
import os
from pathlib import Path

import pandas as pd
from PySide6.QtCore import QSize, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication

from mlscope.core.artifacts import MODELS, ArtifactError, Entry, Source, human_size, sniff
from mlscope.core.errors import Cancelled, user_message
from mlscope.core.estimator_html import browser_copy
from mlscope.core.previews import (
    Preview,
    TableReader,
    model_summary,
    preview,
    read_text,
    strip_scripts,
)
from mlscope.core.records import last_row

from ..tasks import Tasks
from ..views.artifacts import ArtifactView, ArtifactWindow, color_of
from ..views.viewers import decode_for_view, decode_image
from .base import Controller

LIMIT_KEY = "artifact_preview_limit_mb"
DEFAULT_LIMIT_MB = 50
CELL = QSize(640, 480)


def preview_limit(settings) -> int:
    """The big-file limit in bytes (a setting; 50 MB unless the user changed it)."""
    try:
        mb = float(settings.get(LIMIT_KEY, DEFAULT_LIMIT_MB)) if settings is not None \
            else DEFAULT_LIMIT_MB
    except (TypeError, ValueError):
        mb = DEFAULT_LIMIT_MB
    return max(int(mb * 1024 * 1024), 1)


def load_preview(src: Source, entry: Entry, limit: int, force: bool = False, progress=None,
                 cancel=None) -> tuple[Preview, object]:
    """Worker: what the viewer shows for ``entry`` (downloaded first when remote) and, for
    an image, the decoded QImage with its fit-view copy (``decode_for_view``)."""
    name = entry.name
    if entry.is_dir:
        if entry.path == MODELS:
            return Preview("info", None, "Logged models", None,
                           text="The models this run logged (MLflow 3), each a folder.",
                           extra={"type": "folder"}), None
        children = src.list(entry.path)
        if any(c.name == "MLmodel" and not c.is_dir for c in children):
            folder, files = src.fetch_model(entry.path, cancel)
            total = sum(n for _p, n in files)
            return Preview("model", folder, name, total,
                           data=model_summary(folder, total, files)), None
        return Preview("info", None, name, None, extra={"type": "folder"},
                       text=f"A folder of {len(children)} item(s)."), None
    if entry.size is not None and entry.size > limit and not force \
            and src.cached(entry.path) is None:  # remote and big: not downloaded unasked
        return Preview("info", None, name, entry.size, extra={"type": entry.kind, "big": True},
                       text="Larger than the preview limit: not downloaded or shown yet."), None
    local = src.fetch(entry.path, size=entry.size, progress=progress, cancel=cancel)
    pv = preview(local, name, limit, force)
    image = None
    if pv.kind == "image":
        try:
            image = decode_for_view(local)
        except ArtifactError as exc:
            pv = Preview("error", local, name, pv.size, text=str(exc))
    return pv, image


def compare_cells(sources: list[tuple[str, Source]], path: str, cancel=None) -> list[dict]:
    """Worker: ``path`` in each source: a scaled image, or text diffed against the first.
    The runs are fetched and decoded a few at a time (downloads from a server overlap)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item) -> dict:
        run_id, src = item
        if cancel is not None and cancel():
            raise Cancelled()
        cell: dict = {"run_id": run_id, "label": src.label}
        try:
            if not src.exists and not src.mounts:
                raise ArtifactError(src.resolved.note)
            local = src.fetch(path, cancel=cancel)
            kind = sniff(local)
            if kind == "image":
                cell["image"] = decode_image(local, fit=CELL)
            elif kind in ("text", "json", "markdown", "html") or (kind == "table" and
                                                                   local.suffix != ".parquet"):
                cell["lines"] = read_text(local, 200_000)[0].splitlines()
            else:
                cell["error"] = f"{kind}: no side-by-side view; open it in the tree."
        except ArtifactError as exc:
            cell["error"] = "Not in this run." if "missing" in str(exc) else str(exc)
        return cell

    local = all(src.local is not None for _r, src in sources)
    workers = min(4, os.cpu_count() or 1) if local else 6  # decoding vs waiting on a server
    with ThreadPoolExecutor(max_workers=min(workers, max(len(sources), 1))) as pool:
        cells = list(pool.map(one, sources))
    base_lines: list[str] | None = None
    for cell in cells:
        lines = cell.pop("lines", None)
        if lines is None:
            continue
        if base_lines is None:
            base_lines = lines
            cell["html"] = _pre("".join(_line(ln, "") for ln in lines[:3000]))
        else:
            cell["html"] = _diff_html(base_lines, lines)
    return cells


def _line(text: str, kind: str) -> str:
    style = {"+": "background:#dcfce7", "-": "background:#fee2e2", "@": "color:#64748b"}.get(
        kind, "")
    return f"<div style='{style}'>{html.escape(text) or '&nbsp;'}</div>"


def _pre(body: str) -> str:
    return f"<div style='font-family:monospace; white-space:pre'>{body}</div>"


def _diff_html(base: list[str], lines: list[str]) -> str:
    out = []
    for ln in difflib.unified_diff(base, lines, "baseline", "this run", lineterm="", n=2):
        if ln.startswith(("+++", "---")):
            continue
        out.append(_line(ln, ln[:1] if ln[:1] in "+-@" else ""))
        if len(out) > 3000:
            break
    return _pre("".join(out)) if out else "<i>Same as the baseline run.</i>"


class ArtifactsController(Controller):
    """Feeds an :class:`ArtifactView` from the store's runs (or from dropped files)."""

    title = "Artifacts"
    previewShown = Signal(str)  # the kind shown (tests and --screenshot wait on it)
    treeShown = Signal()

    def __init__(self, tasks: Tasks, store=None, settings=None, parent=None):
        super().__init__(tasks, store, parent)
        self.settings = settings
        self.view = ArtifactView()
        self.source: Source | None = None
        self.run_ids: list[str] = []
        self.names: dict[str, str] = {}
        self.colors = None
        self.compare = False
        self._sources: dict[str, Source] = {}
        self._run_of_source: str | None = None
        self._reader: TableReader | None = None
        self._entry: Entry | None = None
        self._complete: set[tuple[int, str]] = set()  # remote folders fully downloaded
        self.select_after_load: str | None = None
        self._pending: list[str] | None = None
        self._frame = None  # the runs table's frame: artifact_uri, experiment_id, names
        self._rows = None  # run_id -> row of it, made on the first lookup
        self._models = None  # the store's logged models, read once
        v = self.view
        v.model.local_for = self._local_for
        v.model.childrenNeeded.connect(self._list_children)
        v.tree.downloadForDrag.connect(self._download_for_drag)
        v.tree.dragCancelled.connect(lambda: self.cancel("drag"))
        v.tree.dragWaiting.connect(self.statusMessage)
        v.entrySelected.connect(self._selected)
        v.actionRequested.connect(self._action)
        v.saveRequested.connect(self._save)
        v.cancelRequested.connect(self._cancel_transfer)
        v.compareToggled.connect(self._compare_toggled)
        v.viewers.moreRowsRequested.connect(self._more_rows)
        v.limit.blockSignals(True)
        v.limit.setValue(max(1, round(self.limit() / 1024 / 1024)))
        v.limit.blockSignals(False)
        v.limitChanged.connect(lambda mb: self.settings.set(LIMIT_KEY, mb))
        v.viewers.previewRequested.connect(lambda: self._preview(self._entry, force=True))
        v.viewers.openRequested.connect(lambda: self._action("open", self._entry))
        v.viewers.browserRequested.connect(lambda: self._action("open", self._entry))
        v.viewers.saveRequested.connect(lambda: self._entry and v.ask_save(self._entry))

    # -- slots the page calls ------------------------------------------------------------
    def set_store(self, store) -> None:
        super().set_store(store)
        self.cancel()
        self._sources.clear()
        self._frame, self._rows, self._models = None, None, None
        self._pending = None
        self.source = None
        self._run_of_source = None
        self.run_ids = []
        self.view.show_message("Select a run to see its artifacts.")

    def set_frame(self, frame) -> None:
        if frame is None or "run_id" not in getattr(frame, "columns", ()):
            return
        # Kept as it is: a run is looked up when it is opened (dicts of every run cost
        # seconds on the GUI thread at 100,000 runs).
        self._frame, self._rows = frame, None

    def _row(self, run_id: str) -> int | None:
        frame = self._frame
        if frame is None:
            return None
        if self._rows is None:
            self._rows = pd.Index(frame["run_id"])
        return last_row(self._rows, run_id)

    def _infos(self, run_ids) -> dict[str, dict]:
        """run_id -> artifact_uri and experiment_id, from the table, for these runs."""
        frame, out = self._frame, {}
        if frame is None or not {"artifact_uri", "experiment_id"} <= set(frame.columns):
            return out
        for rid in run_ids:
            i = self._row(rid)
            if i is not None:
                out[rid] = {"artifact_uri": frame["artifact_uri"].iat[i],
                            "experiment_id": frame["experiment_id"].iat[i]}
        return out

    def set_colors(self, colors) -> None:
        self.colors = colors

    def activate(self) -> None:
        """The tab is shown: read what the selection asked for while it was hidden."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self.set_runs(pending)

    def set_runs(self, run_ids: list[str]) -> None:
        run_ids = [str(r) for r in run_ids or []]
        if not self.view.isVisible() and self.view.parent() is not None:
            self._pending = run_ids  # a hidden tab reads nothing until it is shown
            return
        if run_ids == self.run_ids:
            return
        self.run_ids = run_ids
        self.view.set_comparable(len(run_ids) > 1)
        if not run_ids:
            self.view.show_message("Select a run to see its artifacts.")
            return
        if self._run_of_source == run_ids[0] and self.source is not None:
            if self.compare and self._entry is not None:
                self._compare(self._entry)
            return
        self._open_run(run_ids[0])

    # -- opening a tree ------------------------------------------------------------------
    def label(self, run_id: str) -> str:
        name, frame, i = self.names.get(run_id), self._frame, self._row(run_id)
        if not name and i is not None:
            col = "run_name" if "run_name" in frame.columns else "tags.mlflow.runName"
            name = frame[col].iat[i] if col in frame.columns else None
        return name if isinstance(name, str) and name else run_id[:8]

    def _open_run(self, run_id: str) -> None:
        store = self.store
        if store is None:
            return
        known = self._sources.get(run_id)
        label = self.label(run_id)
        infos, models = self._infos([run_id]), self._models

        def work(progress, cancel):
            if known is not None:
                src = known
            else:
                src, found = _run_source(store, run_id, label, infos, models)
                self._models = found  # one reference, set whole: safe across threads
            entries = src.list("") if (src.exists or src.mounts) else []
            return src, entries

        self.view.show_message(f"Reading the artifacts of {label}…")
        self._run_of_source = run_id
        self.start("source", work, lambda res: self._tree_ready(res, run_id),
                   on_error=self._source_failed)

    def open_paths(self, paths: list) -> None:
        """Files or a folder dropped on the window (no store needed)."""
        path = Path(paths[0])
        src = Source.for_folder(path) if path.is_dir() and not (path / "MLmodel").is_file() \
            else Source.for_file(path)
        self.select_after_load = path.name if src.only else None
        self.start("source", lambda p, c: (src, src.list("")),
                   lambda res: self._tree_ready(res, None), on_error=self._source_failed)

    def _tree_ready(self, res, run_id) -> None:
        src, entries = res
        self.source = src
        self._reader = None
        self._entry = None
        if run_id is not None:
            self._sources[run_id] = src
        if not src.exists and not src.mounts:
            self.view.show_message(src.resolved.note)
            self.statusMessage.emit(src.resolved.note)
            return
        where = src.resolved.uri or str(src.local or "")
        title = f"<b>{html.escape(src.label)}</b>  <span style='color:#64748b'>" \
                f"{html.escape(where)}</span>"
        self.view.show_tree(title, entries)
        if src.resolved.note:
            self.statusMessage.emit(src.resolved.note)
        self.treeShown.emit()
        if self.select_after_load:
            self.select(self.select_after_load)
            self.select_after_load = None

    def _source_failed(self, exc) -> None:
        msg = user_message(exc)
        self.view.show_message(msg)
        self.statusMessage.emit(msg)

    def select(self, path: str) -> None:
        """Select (and show) ``path``, opening the folders above it as they list."""
        if self.view.select_path(path):
            return
        parts = path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            idx = self.view.model.index_of(parent)
            if idx.isValid():
                self.view.tree.expand(idx)
        self.select_after_load = path

    def _list_children(self, path: str) -> None:
        src = self.source
        if src is None:
            return

        def done(entries):
            if self.source is src:
                self.view.model.set_children(path, entries)
                if self.select_after_load and self.view.select_path(self.select_after_load):
                    self.select_after_load = None

        def failed(exc):
            if self.source is src:
                self.view.model.set_failed(path, user_message(exc))

        self.start(f"list {path}", lambda p, c: src.list(path), done, on_error=failed)

    # -- viewing -------------------------------------------------------------------------
    def limit(self) -> int:
        if self.settings is None:
            from ..settings import Settings

            self.settings = Settings()
        return preview_limit(self.settings)

    def _selected(self, entry: Entry) -> None:
        self._entry = entry
        if self.compare and len(self.run_ids) > 1:
            self._compare(entry)
        else:
            self._preview(entry)

    def _preview(self, entry: Entry | None, force: bool = False) -> None:
        src = self.source
        if entry is None or src is None:
            return
        limit = self.limit()
        self._close_reader()

        def progress(done, total):
            self.view.set_busy(f"Downloading {entry.name}", done, total)

        def done(res):
            self.view.set_idle()
            pv, image = res
            if self._entry is not entry:
                return
            self.view.viewers.show_preview(pv, *(image or ()))
            if pv.kind == "table":
                self._reader = pv.table
                if pv.table.total is None and not pv.table.done:
                    self._count_rows(pv.table)
            if pv.kind == "error":
                self.statusMessage.emit(pv.text)
            self.previewShown.emit(pv.kind)

        def failed(exc):
            self.view.set_idle()
            msg = user_message(exc)
            self.view.viewers.show_preview(Preview("error", None, entry.name, entry.size,
                                                   text=msg))
            self.statusMessage.emit(msg)
            self.previewShown.emit("error")

        self.start("preview", lambda p, c: load_preview(src, entry, limit, force, p, c), done,
                   on_error=failed, on_progress=progress, on_cancel=self.view.set_idle)

    def _close_reader(self) -> None:
        reader, self._reader = self._reader, None
        self.cancel("rows", "count")
        if reader is not None:
            reader.close()

    def _more_rows(self) -> None:
        reader = self._reader
        if reader is None:
            return

        def done(res):
            frame, finished = res
            if self._reader is reader:
                self.view.viewers.table.append(frame, finished)
                if finished:
                    self.view.viewers.table.set_total(reader.total)

        def failed(exc):
            self.view.viewers.table.append(None, True)
            self.statusMessage.emit(user_message(exc))

        self.start("rows", lambda p, c: (reader.more(), reader.done), done, on_error=failed)

    def _count_rows(self, reader: TableReader) -> None:
        def done(total):
            if self._reader is reader:
                self.view.viewers.table.set_total(total)

        self.start("count", lambda p, c: reader.count(c), done, on_error=lambda e: None)

    # -- side by side --------------------------------------------------------------------
    def _compare_toggled(self, on: bool) -> None:
        self.compare = on
        self.view.show_grid(on)
        if on and self._entry is not None:
            self._compare(self._entry)
        elif not on and self._entry is not None:
            self._preview(self._entry)

    def _compare(self, entry: Entry) -> None:
        store, run_ids = self.store, list(self.run_ids)
        known = dict(self._sources)
        names = {r: self.label(r) for r in run_ids}
        infos, models = self._infos(run_ids), self._models
        if entry.is_dir:
            self.view.grid.clear()
            self.statusMessage.emit("Side by side shows files: pick a file in the tree.")
            return

        def work(progress, cancel):
            sources = []
            found = models
            for rid in run_ids:
                src = known.get(rid)
                if src is None:
                    try:
                        src, found = _run_source(store, rid, names[rid], infos, found)
                    except Exception as exc:  # noqa: BLE001 - shown in that run's cell
                        from mlscope.core.artifacts import Resolved

                        src = Source(Resolved("", "", None, False, user_message(exc)),
                                     names[rid])
                sources.append((rid, src))
            return sources, compare_cells(sources, entry.path, cancel)

        def done(res):
            sources, cells = res
            for rid, src in sources:
                self._sources.setdefault(rid, src)
            for c in cells:
                c["color"] = color_of(self.colors, c["run_id"])
            self.view.grid.set_cells(entry.path, cells)
            self.view.show_grid(True)
            self.previewShown.emit("compare")

        self.start("compare", work, done)

    # -- actions -------------------------------------------------------------------------
    def _local_for(self, path: str):
        src = self.source
        if src is None:
            return None
        try:
            local = src.cached(path)
        except ArtifactError:
            return None
        if local is None or not local.exists():
            return None
        if local.is_dir() and src.local is None and (id(src), path) not in self._complete \
                and not _mounted_local(src, path):
            return None
        return local

    def _fetch_work(self, src: Source, entries: list[Entry]):
        """Worker: every entry into the cache (folders whole), progress over all of them."""
        total = sum(e.size or 0 for e in entries)

        def work(progress, cancel):
            out, base = [], 0
            for e in entries:
                if cancel():
                    raise Cancelled()
                out.append(src.fetch(e.path, e.is_dir, e.size,
                                     lambda d, t, b=base: progress(b + d, max(total, b + t)),
                                     cancel))
                base += e.size or 0
                if e.is_dir:
                    self._complete.add((id(src), e.path))
            return out

        return work

    def _fetch_then(self, entries: list[Entry], then, what: str) -> None:
        src = self.source
        if src is None:
            return
        total = sum(e.size or 0 for e in entries)
        work = self._fetch_work(src, entries)

        self.view.set_busy(what, 0, total)
        self.start("transfer", work, lambda paths: (self.view.set_idle(), then(paths)),
                   on_error=lambda exc: (self.view.set_idle(), self.failed(exc)),
                   on_progress=lambda d, t: self.view.set_busy(what, d, t),
                   on_cancel=self.view.set_idle)

    def _download_for_drag(self, entries: list) -> None:
        """A drag started on remote entries: download them; the tree waits in its dialog."""
        tree, src = self.view.tree, self.source
        if src is None:
            tree.drag_finished(False, "No artifacts are open.")
            return

        def failed(exc):
            msg = user_message(exc)
            self.statusMessage.emit(msg)
            tree.drag_finished(False, msg)

        self.start("drag", self._fetch_work(src, entries),
                   lambda _paths: tree.drag_finished(True), on_error=failed,
                   on_progress=tree.drag_progress,
                   on_cancel=lambda: tree.drag_finished(False, "Cancelled."))

    def _cancel_transfer(self) -> None:
        self.cancel("transfer", "preview", "save")
        self.view.set_idle()
        self.statusMessage.emit("Cancelled.")

    def _action(self, name: str, entry: Entry | None) -> None:
        src = self.source
        if entry is None or src is None:
            return
        if name == "copy_uri":
            QGuiApplication.clipboard().setText(src.uri_of(entry.path))
            self.statusMessage.emit(f"Copied {src.uri_of(entry.path)}")
        elif name == "copy_path":
            local = self._local_for(entry.path)
            if local is not None:
                QGuiApplication.clipboard().setText(str(local))
                self.statusMessage.emit(f"Copied {local}")
            else:
                self._fetch_then([entry], lambda paths: (
                    QGuiApplication.clipboard().setText(str(paths[0])),
                    self.statusMessage.emit(f"Copied {paths[0]}")), f"Downloading {entry.name}")
        elif name == "open" and entry.kind == "html" and not entry.is_dir:
            self._open_html(entry)
        elif name == "open":
            self._fetch_then([entry], lambda paths: self._open_url(paths[0]),
                             f"Downloading {entry.name}")

    def _open_url(self, path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def _open_html(self, entry: Entry) -> None:
        """HTML goes to the system browser as a copy in the cache, scripts removed and a
        Content-Security-Policy against scripts and requests: never the store's file."""
        src = self.source
        if src is None:
            return
        fetch = self._fetch_work(src, [entry])

        def work(progress, cancel):
            local = fetch(progress, cancel)[0]
            return browser_copy(local, entry.name, strip_scripts)

        what = f"Preparing {entry.name}"
        self.view.set_busy(what, 0, entry.size or 0)
        self.start("transfer", work, lambda path: (self.view.set_idle(), self._open_url(path)),
                   on_error=lambda exc: (self.view.set_idle(), self.failed(exc)),
                   on_progress=lambda d, t: self.view.set_busy(what, d, t),
                   on_cancel=self.view.set_idle)

    def _save(self, entry: Entry, folder: str) -> None:
        src = self.source
        if src is None:
            return

        def done(dest):
            self.view.set_idle()
            self.statusMessage.emit(f"Saved {dest}")

        self.view.set_busy(f"Saving {entry.name}", 0, entry.size or 0)
        self.start("save", lambda p, c: src.save(entry.path, Path(folder), entry.is_dir,
                                                 entry.size, p, c), done,
                   on_error=lambda exc: (self.view.set_idle(), self.failed(exc)),
                   on_progress=lambda d, t: self.view.set_busy(f"Saving {entry.name}", d, t),
                   on_cancel=self.view.set_idle)

    def shutdown(self) -> None:
        self.cancel()
        self._close_reader()


def _run_source(store, run_id: str, label: str, infos: dict, models):
    """Worker: a run's Source from the runs frame's row and the store's logged models (read
    here once when not known yet); returns the models for the next run."""
    info = infos.get(run_id)
    if info is not None and models is None:
        try:
            models = store.logged_models(view="all")
        except Exception:  # noqa: BLE001 - then the store is asked run by run
            models = None
    return Source.for_run(store, run_id, label, info, models), models


def _mounted_local(src: Source, path: str) -> bool:
    child, _rest = src._route(path)
    return child.local is not None


def open_window(paths: list, parent=None, settings=None) -> ArtifactWindow:
    """A window of viewers for files or a folder dropped on mlscope, with its own workers."""
    tasks = Tasks(threads=2)
    ctrl = ArtifactsController(tasks, settings=settings)
    window = ArtifactWindow(ctrl.view, Path(paths[0]).name, parent)
    tasks.setParent(window)
    ctrl.setParent(window)
    window.controller = ctrl
    window.closed.connect(lambda: tasks.shutdown(wait_ms=0))
    ctrl.statusMessage.connect(lambda text: window.statusBar().showMessage(text, 10_000))
    ctrl.open_paths(paths)
    window.show()
    return window


__all__ = ["ArtifactsController", "open_window", "load_preview", "compare_cells",
           "preview_limit", "human_size"]
