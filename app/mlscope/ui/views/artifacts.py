"""The artifact view: a lazy tree (name, size, icon by type) beside the viewers, and a grid
of the same artifact across runs. Layout and signals only: listings, downloads and
previews come from the controller; the tree asks for a folder's children when it opens.

Drag out, one gesture: the tree's mime data carries file URLs of local files (a local
store's own files, or remote ones in the cache). When a drag starts on remote entries that
are not local yet, the tree asks the controller to download them (``downloadForDrag``),
waits in a progress dialog with Cancel (the download on a worker, the GUI live), then starts
the drag with the files while the button is still held (see dialogs/drag_download.py).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import cache

from PySide6.QtCore import QAbstractItemModel, QMimeData, QModelIndex, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QDrag,
    QFont,
    QGuiApplication,
    QIcon,
    QImage,
    QPainter,
    QPixmap,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTextBrowser,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from mlscope.core.artifact_kinds import MODELS, Entry, human_size

from .viewers import ALIGN, DISPLAY, HORIZONTAL, RIGHT, TOOLTIP, ViewerStack, _int

DECORATION, USER = Qt.DecorationRole.value, Qt.UserRole.value

BADGES = {  # kind -> (text, colour) of the tree's icons
    "image": ("IMG", "#7c3aed"), "table": ("TAB", "#059669"), "json": ("{ }", "#d97706"),
    "markdown": ("MD", "#2563eb"), "html": ("</>", "#db2777"), "text": ("TXT", "#475569"),
    "binary": ("BIN", "#94a3b8"), "model": ("ML", "#0194e2"),
}


@cache
def kind_icon(kind: str) -> QIcon:
    """A folder, or a small coloured badge naming the kind of file."""
    if kind == "folder":
        return QApplication.style().standardIcon(QStyle.SP_DirIcon)
    text, color = BADGES.get(kind, BADGES["binary"])
    pix = QPixmap(32, 32)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    p.setBrush(QColor(color))
    p.setPen(Qt.NoPen)
    p.drawRoundedRect(1, 4, 30, 24, 5, 5)
    p.setPen(QColor("white"))
    font = QFont()
    font.setPixelSize(11 if len(text) <= 2 else 10)
    font.setBold(True)
    p.setFont(font)
    p.drawText(pix.rect(), Qt.AlignCenter, text)
    p.end()
    return QIcon(pix)


_ROOT = QModelIndex()  # the invalid index Qt passes for the top level
_NO_FLAGS = Qt.NoItemFlags
_FLAGS = Qt.ItemIsEnabled | Qt.ItemIsSelectable
_DRAG_FLAGS = _FLAGS | Qt.ItemIsDragEnabled

PAGE = 1000  # rows a folder shows at first, and adds each time the list is scrolled to its end


class _Node:
    __slots__ = ("entry", "parent", "row", "entries", "children", "loading", "error")

    def __init__(self, entry: Entry | None, parent: _Node | None, row: int = 0):
        self.entry = entry
        self.parent = parent
        self.row = row
        self.entries: list[Entry] | None = None  # all children listed; None: not listed yet
        self.children: list[_Node] = []  # the rows shown so far (a page at a time)
        self.loading = False
        self.error = ""


class ArtifactTreeModel(QAbstractItemModel):
    """Folders list their children when first opened (``childrenNeeded``), and show them a
    page at a time (``PAGE`` rows, more when scrolled to the end: Qt's fetchMore). QTreeView
    lays out every row it is given, asking the model several questions a row: 10,000 rows
    at once kept the GUI thread 0.5 s; a page of them, a tenth of that."""

    childrenNeeded = Signal(str)

    HEADERS = ("Name", "Size")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.root = _Node(None, None)
        self.local_for: Callable[[str], object] | None = None  # path -> local Path or None
        self._by_path: dict[str, _Node] = {"": self.root}

    # -- filling -------------------------------------------------------------------------
    def reset(self, entries: list[Entry] | None = None) -> None:
        self.beginResetModel()
        self.root = _Node(None, None)
        self._by_path = {"": self.root}
        if entries is not None:
            self.root.entries = entries
            self._grow(self.root, PAGE)
        self.endResetModel()

    def _grow(self, node: _Node, n: int) -> None:
        """Make the next ``n`` rows of ``node`` (inside begin/endInsertRows or a reset)."""
        first = len(node.children)
        by_path = self._by_path
        for row, e in enumerate(node.entries[first:first + n], first):
            child = _Node(e, node, row)
            node.children.append(child)
            by_path[e.path] = child

    def _more(self, node: _Node, upto: int | None = None) -> None:
        """Show the next page of ``node``'s rows (or up to row ``upto``)."""
        have, total = len(node.children), len(node.entries or ())
        want = min(total, max(have + PAGE, (upto or 0) + 1))
        if want > have:
            self.beginInsertRows(self._index(node), have, want - 1)
            self._grow(node, want - have)
            self.endInsertRows()

    def _drop_rows(self, node: _Node) -> None:
        if node.children:
            self.beginRemoveRows(self._index(node), 0, len(node.children) - 1)
            stack = list(node.children)
            while stack:
                c = stack.pop()
                self._by_path.pop(c.entry.path, None)
                stack.extend(c.children)
            node.children = []
            self.endRemoveRows()

    def set_children(self, path: str, entries: list[Entry]) -> None:
        node = self._by_path.get(path)
        if node is None:
            return
        node.loading = False
        self._drop_rows(node)
        node.entries = list(entries)
        if entries:
            self._more(node)
        else:
            idx = self._index(node)
            self.dataChanged.emit(idx, idx)

    def set_failed(self, path: str, message: str) -> None:
        node = self._by_path.get(path)
        if node is not None:
            node.loading = False
            self._drop_rows(node)
            node.entries = []
            node.error = message
            idx = self._index(node)
            self.dataChanged.emit(idx, idx)

    def entry(self, index: QModelIndex) -> Entry | None:
        node = index.internalPointer() if index.isValid() else None
        return node.entry if node is not None else None

    def index_of(self, path: str) -> QModelIndex:
        """The row of ``path``, shown first if it is listed but beyond the rows shown."""
        node = self._by_path.get(path)
        if node is None and path:
            parent_path = path.rsplit("/", 1)[0] if "/" in path else ""
            if parent_path and not self.index_of(parent_path).isValid():
                return QModelIndex()
            parent = self._by_path.get(parent_path)
            if parent is not None and parent.entries:
                row = next((i for i, e in enumerate(parent.entries) if e.path == path), None)
                if row is not None:
                    self._more(parent, row)
                    node = self._by_path.get(path)
        return self._index(node) if node is not None else QModelIndex()

    def _index(self, node: _Node, column: int = 0) -> QModelIndex:
        if node is None or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    # -- Qt's model ----------------------------------------------------------------------
    def index(self, row, column, parent=_ROOT):
        children = (parent.internalPointer() if parent.isValid() else self.root).children
        if not 0 <= row < len(children):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index=_ROOT):
        if not index.isValid():
            return QModelIndex()
        node = index.internalPointer().parent
        if node is None or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    def rowCount(self, parent=_ROOT):  # noqa: N802
        if parent.column() > 0:
            return 0
        return len((parent.internalPointer() if parent.isValid() else self.root).children)

    def columnCount(self, parent=_ROOT):  # noqa: N802
        return 2

    def hasChildren(self, parent=_ROOT):  # noqa: N802
        node = parent.internalPointer() if parent.isValid() else self.root
        if node is self.root:
            return bool(node.entries)
        return node.entry.is_dir and (node.entries is None or bool(node.entries))

    def canFetchMore(self, parent):  # noqa: N802
        node = parent.internalPointer() if parent.isValid() else self.root
        if node.entries is None:  # a folder not listed yet
            return node is not self.root and node.entry.is_dir and not node.loading
        return len(node.children) < len(node.entries)

    def fetchMore(self, parent):  # noqa: N802
        node = parent.internalPointer() if parent.isValid() else self.root
        if node.entries is None:
            if node is not self.root and not node.loading:
                node.loading = True
                self.childrenNeeded.emit(node.entry.path)
        else:
            self._more(node)

    def data(self, index, role=DISPLAY):
        if not index.isValid():
            return None
        node = index.internalPointer()
        e = node.entry
        role = _int(role)
        if role == DISPLAY:
            if index.column() == 0:
                name = "Logged models" if e.path == MODELS else e.name
                return name + ("  (loading…)" if node.loading else "") + (
                    f"  ⚠ {node.error}" if node.error else "")
            return human_size(e.size) if not e.is_dir else ""
        if role == DECORATION and index.column() == 0:
            kind = "model" if e.path.startswith(MODELS + "/") and e.path.count("/") == 1 \
                else e.kind
            return kind_icon(kind)
        if role == TOOLTIP:
            return node.error or e.path
        if role == ALIGN and index.column() == 1:
            return RIGHT
        if role == USER:
            return e
        return None

    def headerData(self, section, orientation, role=DISPLAY):  # noqa: N802
        if _int(orientation) == HORIZONTAL and _int(role) == DISPLAY:
            return self.HEADERS[section]
        return None

    def flags(self, index):
        # Asked twice per row when the tree lays out: constants, no enum arithmetic (which
        # cost 0.6 s for 10,000 files; bench_artifacts.py).
        if not index.isValid():
            return _NO_FLAGS
        node = index.internalPointer()
        return _FLAGS if node.entry.path == MODELS else _DRAG_FLAGS

    # -- drag out --------------------------------------------------------------------------
    def mimeTypes(self):  # noqa: N802
        return ["text/uri-list"]

    def supportedDragActions(self):  # noqa: N802
        return Qt.CopyAction

    def mimeData(self, indexes):  # noqa: N802
        entries = []
        for idx in indexes:
            e = self.entry(idx)
            if idx.column() == 0 and e is not None and e not in entries:
                entries.append(e)
        return self.mime_for(entries)

    def missing(self, entries: list[Entry]) -> list[Entry]:
        """The entries that have no local copy yet (remote, not downloaded)."""
        return [e for e in entries
                if (self.local_for(e.path) if self.local_for else None) is None]

    def mime_for(self, entries: list[Entry]) -> QMimeData | None:
        """File URLs of the local copies of ``entries``; None while one of them is not
        local yet (the tree downloads those first)."""
        urls = []
        for e in entries:
            local = self.local_for(e.path) if self.local_for else None
            if local is None:
                return None
            urls.append(QUrl.fromLocalFile(str(local)))
        if not urls:
            return None
        mime = QMimeData()
        mime.setUrls(urls)
        mime.setText("\n".join(u.toLocalFile() for u in urls))
        return mime


class ArtifactTree(QTreeView):
    """Drags out the selected entries as files; remote ones are downloaded first, inside
    the gesture (a progress dialog with Cancel), and the drag goes on if the button is
    still held when they arrive (else they wait in the cache: the next drag is at once)."""

    downloadForDrag = Signal(list)  # entries to fetch; answered by drag_progress/drag_finished
    dragCancelled = Signal()  # the user cancelled that download
    dragStarted = Signal(object)  # the QMimeData handed to QDrag (tests, status)
    dragWaiting = Signal(str)  # files downloaded after the button was released

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dialog = None  # the DragDownloadDialog of a drag waiting for files
        self._in_drag = False

    def drag_entries(self) -> list[Entry]:
        model = self.model()
        out = []
        for idx in self.selectionModel().selectedRows(0):
            e = model.entry(idx)
            if e is not None and e.path != MODELS and e not in out:
                out.append(e)
        return out

    def startDrag(self, actions) -> None:  # noqa: N802 - Qt's name
        if self._in_drag:  # mouse moves while waiting for the files call this again
            return
        entries = self.drag_entries()
        if not entries:
            return
        self._in_drag = True
        try:
            self._drag(entries)
        finally:
            self._in_drag = False

    def _drag(self, entries: list[Entry]) -> None:
        from ..dialogs.drag_download import DragDownloadDialog

        model = self.model()
        missing = model.missing(entries)
        if missing:
            names = ", ".join(e.name for e in missing[:3]) + (
                f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            self.dialog = dialog = DragDownloadDialog(names, self)
            dialog.canceled.connect(self.dragCancelled)
            self.downloadForDrag.emit(missing)
            try:
                ok = dialog.wait()
            finally:
                self.dialog = None
                dialog.deleteLater()
            if not ok:
                return
            if not QGuiApplication.mouseButtons() & Qt.LeftButton:
                self.dragWaiting.emit(f"Downloaded {names}: drag again to drop it.")
                return
        mime = model.mime_for(entries)
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        first = entries[0]
        drag.setPixmap(kind_icon("folder" if first.is_dir else first.kind).pixmap(32, 32))
        self.dragStarted.emit(mime)
        drag.exec(Qt.CopyAction, Qt.CopyAction)

    def drag_progress(self, done: int, total: int) -> None:
        if self.dialog is not None:
            self.dialog.set_progress(done, total)

    def drag_finished(self, ok: bool, message: str = "") -> None:
        if self.dialog is not None:
            self.dialog.finish(ok, message)


class FitLabel(QLabel):
    """An image scaled to the label's size, aspect kept (cells of the side-by-side grid)."""

    def __init__(self, image: QImage, parent=None):
        super().__init__(parent, alignment=Qt.AlignCenter)
        self.source = QPixmap.fromImage(image)
        self.setMinimumSize(QSize(160, 120))
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.setPixmap(self.source)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        size = self.size()
        if size.width() < self.source.width() or size.height() < self.source.height():
            self.setPixmap(self.source.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        else:
            self.setPixmap(self.source)


class CompareGrid(QScrollArea):
    """The same artifact in each run, in a grid: images scaled to the cell, text as a diff
    against the first (baseline) run."""

    runActivated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.inner = QWidget()
        self.grid = QGridLayout(self.inner)
        self.grid.setSpacing(8)
        self.setWidget(self.inner)
        self.cells: list[QWidget] = []

    def clear(self) -> None:
        for w in self.cells:
            w.setParent(None)
            w.deleteLater()
        self.cells = []

    def set_cells(self, path: str, cells: list[dict], columns: int | None = None) -> None:
        """``cells``: dicts with run_id, label, color, and image (QImage) or html or error."""
        self.clear()
        n = len(cells)
        columns = columns or (1 if n <= 1 else 2 if n <= 4 else 3 if n <= 9 else 4)
        for i, cell in enumerate(cells):
            box = QWidget(objectName="compareCell")
            lay = QVBoxLayout(box)
            lay.setContentsMargins(4, 4, 4, 4)
            title = QLabel(f"<span style='color:{cell.get('color') or '#1f2937'}'>●</span> "
                           f"<b>{html.escape(cell.get('label', ''))}</b>")
            title.setToolTip(cell.get("run_id", ""))
            lay.addWidget(title)
            if cell.get("image") is not None:
                pic = FitLabel(cell["image"])
                lay.addWidget(pic, 1)
            elif cell.get("html") is not None:
                text = QTextBrowser()
                text.setOpenLinks(False)
                text.setHtml(cell["html"])
                lay.addWidget(text, 1)
            else:
                msg = QLabel(cell.get("error") or "Not in this run.", wordWrap=True)
                msg.setStyleSheet("color: #94a3b8;")
                lay.addWidget(msg, 1)
            self.grid.addWidget(box, i // columns, i % columns)
            self.cells.append(box)


class ArtifactView(QWidget):
    """Tree | viewers for one run; the grid for one path across several runs."""

    entrySelected = Signal(object)  # Entry
    actionRequested = Signal(str, object)  # name, Entry: copy_path, copy_uri, save, open...
    saveRequested = Signal(object, str)  # Entry, destination folder
    cancelRequested = Signal()
    compareToggled = Signal(bool)
    limitChanged = Signal(int)  # MB

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("artifactView")
        self.model = ArtifactTreeModel(self)
        self.tree = ArtifactTree()
        self.tree.setObjectName("artifactTree")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeView.DragOnly)
        self.tree.setSelectionMode(QTreeView.ExtendedSelection)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, self.tree.header().ResizeMode.Stretch)
        self.tree.setColumnWidth(1, 80)
        self.tree.selectionModel().currentChanged.connect(self._current)
        self.viewers = ViewerStack()
        self.grid = CompareGrid()
        self.right = QStackedWidget()
        self.right.addWidget(self.viewers)
        self.right.addWidget(self.grid)

        self.title = QLabel(objectName="artifactTitle")
        self.title.setTextInteractionFlags(Qt.TextSelectableByMouse)
        # A long location is clipped (full text in the tooltip), never widening the window.
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.compare_button = QToolButton(text="Side by side", checkable=True,
                                          objectName="compareButton")
        self.compare_button.setToolTip("The selected artifact in every selected run")
        self.compare_button.toggled.connect(self._compare_toggled)
        self.compare_button.hide()
        self.progress = QProgressBar(objectName="artifactProgress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QToolButton(text="Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.cancel_button.hide()
        self.limit = QSpinBox(objectName="previewLimit", minimum=1, maximum=100_000,
                              suffix=" MB")
        self.limit.setToolTip("Files larger than this are not downloaded or previewed until "
                              "you ask (Preview anyway)")
        self.limit.valueChanged.connect(self.limitChanged)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        bar.addWidget(self.title, 1)
        bar.addSpacing(12)  # a clipped location never runs into the label
        bar.addWidget(QLabel("Preview up to"))
        bar.addSpacing(4)
        bar.addWidget(self.limit)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.compare_button)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.right)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([300, 900])
        self.message = QLabel("Select a run to see its artifacts.", alignment=Qt.AlignCenter,
                              wordWrap=True, objectName="artifactMessage")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.splitter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.stack, 1)

    # -- what the controller calls ---------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def show_tree(self, title: str, entries: list[Entry]) -> None:
        self.title.setText(title)
        self.title.setToolTip(title)
        self.model.reset(entries)
        self.viewers.clear("Select an artifact to view it." if entries
                           else "This run has no artifacts.")
        self.right.setCurrentWidget(self.viewers)
        self.stack.setCurrentWidget(self.splitter)

    def set_comparable(self, on: bool) -> None:
        self.compare_button.setVisible(on)
        if not on:
            self.compare_button.setChecked(False)

    def show_grid(self, on: bool) -> None:
        self.right.setCurrentWidget(self.grid if on else self.viewers)

    def select_path(self, path: str) -> bool:
        idx = self.model.index_of(path)
        if idx.isValid():
            self.tree.setCurrentIndex(idx)
            self.tree.scrollTo(idx)
            return True
        return False

    def set_busy(self, text: str, done: int = 0, total: int = 0) -> None:
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.progress.setRange(0, total if total > 0 else 0)
        if total > 0:
            self.progress.setValue(min(done, total))
            self.progress.setFormat(f"{text} {human_size(done)} / {human_size(total)}")
        else:
            self.progress.setFormat(text)

    def set_idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def current_entry(self) -> Entry | None:
        return self.model.entry(self.tree.currentIndex())

    def selected_entries(self) -> list[Entry]:
        out = []
        for idx in self.tree.selectionModel().selectedRows(0):
            e = self.model.entry(idx)
            if e is not None:
                out.append(e)
        return out

    # -- user ------------------------------------------------------------------------------
    def _current(self, current, _previous) -> None:
        e = self.model.entry(current)
        if e is not None:
            self.entrySelected.emit(e)

    def _compare_toggled(self, on: bool) -> None:
        self.compareToggled.emit(on)

    def _menu(self, pos) -> None:
        e = self.model.entry(self.tree.indexAt(pos))
        if e is None or e.path == MODELS:
            return
        menu = QMenu(self)
        for name, text in (("open", "Open with system app"), ("copy_path", "Copy path"),
                           ("copy_uri", "Copy URI"), ("save", "Save as…")):
            act = QAction(text, menu)
            act.triggered.connect(lambda _=False, n=name: self._action(n, e))
            menu.addAction(act)
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def _action(self, name: str, e: Entry) -> None:
        if name == "save":
            self.ask_save(e)
        else:
            self.actionRequested.emit(name, e)

    def ask_save(self, e: Entry) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"Save {e.name} into folder")
        if folder:
            self.saveRequested.emit(e, folder)


class ArtifactWindow(QMainWindow):
    """A window of its own for files dropped on mlscope (no store needed)."""

    closed = Signal()

    def __init__(self, view: ArtifactView, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"{title} — mlscope")
        self.setCentralWidget(view)
        self.view = view
        self.resize(1100, 750)
        self.setAttribute(Qt.WA_DeleteOnClose)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.closed.emit()
        super().closeEvent(event)


def color_of(colors, run_id: str) -> str | None:
    try:
        return colors.hex(run_id) if colors is not None else None
    except Exception:  # noqa: BLE001 - a colour is decoration
        return QColor("#1f2937").name()
