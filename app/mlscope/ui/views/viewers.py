"""One viewer per kind of artifact, and the stack that picks one for a preview.

Viewers show what a worker already read (:class:`mlscope.core.previews.Preview`): they do
no I/O. Where the user asks for more (rows, opening in the system browser, Save as) they
emit a signal the controller answers. HTML and Markdown are shown by QTextBrowser, which
runs no scripts; every resource a page asks for is refused, so nothing reaches the network.
"""

from __future__ import annotations

import html as _html
import json

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QFont, QImage, QImageReader, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mlscope.core.artifact_kinds import ArtifactError, human_size

MAX_PIXELS = 60_000_000  # a 20 MP photo decodes; a 30,000 x 30,000 bomb does not (Qt: 256 MB)
MONO = QFont("DejaVu Sans Mono")
MONO.setStyleHint(QFont.Monospace)


def decode_image(path, max_pixels: int = MAX_PIXELS, fit: QSize | None = None) -> QImage:
    """Decode an image file (on a worker: QImage is not a widget). The size is read from the
    header first, so an image bomb is refused before any pixel is allocated; ``fit`` decodes
    straight to a smaller size (thumbnails, side by side)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    name = str(getattr(path, "name", path))
    if not size.isValid():
        if not reader.canRead():
            raise ArtifactError(f"{name} is not an image Qt can read ({reader.errorString()}).")
    elif size.width() * size.height() > max_pixels:
        raise ArtifactError(
            f"{name} is {size.width():,} x {size.height():,} pixels "
            f"({size.width() * size.height() / 1e6:,.0f} megapixels): too large to show "
            f"safely (limit {max_pixels / 1e6:,.0f} megapixels).")
    if fit is not None and size.isValid() and (size.width() > fit.width()
                                               or size.height() > fit.height()):
        reader.setScaledSize(size.scaled(fit, Qt.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ArtifactError(f"{name} could not be decoded: {reader.errorString()} "
                            "(truncated or damaged?).")
    return for_display(image)


# The fit view's image: no screen shows more of a photo at once. A 20-megapixel PNG is
# drawn from a copy this size (made on the worker) until the user zooms past it: the GUI
# thread then never scales 20 million pixels per paint (bench_artifacts.py).
SCREEN_FIT = QSize(2560, 1600)
_NATIVE = (QImage.Format_RGB32, QImage.Format_ARGB32_Premultiplied)


def for_display(image: QImage) -> QImage:
    """``image`` in a format QPixmap takes as is (RGB32, or premultiplied ARGB32 for alpha):
    converted here, on the worker, not by QPixmap.fromImage on the GUI thread (20 MP of
    matplotlib's RGBA: 0.13 s)."""
    if image.format() in _NATIVE:
        return image
    return image.convertToFormat(QImage.Format_ARGB32_Premultiplied if image.hasAlphaChannel()
                                 else QImage.Format_RGB32)


def decode_for_view(path, fit: QSize = SCREEN_FIT,
                    max_pixels: int = MAX_PIXELS) -> tuple[QImage, QImage | None]:
    """Worker: the full image, and a copy scaled to ``fit`` when it is larger (None when
    it is not) for the fit view to show first."""
    image = decode_image(path, max_pixels)
    if image.width() <= fit.width() and image.height() <= fit.height():
        return image, None
    return image, image.scaled(fit, Qt.KeepAspectRatio, Qt.SmoothTransformation)


_ROOT = QModelIndex()  # the invalid index Qt passes for the top level
# Roles arrive in data() as ints; comparing an int with a PySide enum costs ~100 us, with
# an int 0.1 us (it is called for every cell and role on each paint).
DISPLAY, TOOLTIP, ALIGN = (Qt.DisplayRole.value, Qt.ToolTipRole.value,
                           Qt.TextAlignmentRole.value)
HORIZONTAL = Qt.Horizontal.value
RIGHT = int((Qt.AlignRight | Qt.AlignVCenter).value)


def _int(v) -> int:
    return getattr(v, "value", v)

class SafeBrowser(QTextBrowser):
    """QTextBrowser that loads nothing: no files, no network, no links followed."""

    linkClicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(lambda url: self.linkClicked.emit(url.toString()))
        self.blocked = 0

    def loadResource(self, kind, url):  # noqa: N802 - Qt's name
        if url.scheme() == "data":
            return super().loadResource(kind, url)
        self.blocked += 1
        return None


class _Bar(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.lay = QHBoxLayout(self)
        self.lay.setContentsMargins(4, 2, 4, 2)
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.lay.addWidget(self.label, 1)

    def button(self, text, slot, name=""):
        b = QToolButton(text=text, objectName=name)
        b.setAutoRaise(True)
        b.clicked.connect(slot)
        self.lay.addWidget(b)
        return b


class ImageViewer(QWidget):
    """Fit to the window, zoom (wheel, buttons), pan (drag)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scene = QGraphicsScene(self)
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.SmoothTransformation)
        self.scene.addItem(self.item)
        self.graphics = QGraphicsView(self.scene)
        self.graphics.setDragMode(QGraphicsView.ScrollHandDrag)
        self.graphics.setRenderHint(QPainter.SmoothPixmapTransform)
        self.graphics.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.graphics.wheelEvent = self._wheel
        self.bar = _Bar()
        self.bar.button("Fit", self.fit, "fitButton")
        self.bar.button("100%", lambda: self.zoom_to(1.0), "actualButton")
        self.bar.button("−", lambda: self.zoom_by(1 / 1.25))
        self.bar.button("+", lambda: self.zoom_by(1.25))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.bar)
        lay.addWidget(self.graphics, 1)
        self.fitted = True
        self.full = QImage()
        self.small: QImage | None = None

    def set_image(self, image: QImage, caption: str = "", small: QImage | None = None) -> None:
        """Show ``image``; ``small`` (decode_for_view) stands in for it, scaled up to its
        size, until a zoom needs more pixels than it has."""
        self.full = image
        self.small = small
        if small is not None and not small.isNull():
            self.item.setPixmap(QPixmap.fromImage(small))
            self.item.setScale(image.width() / small.width())
        else:
            self._show_full()
        self.scene.setSceneRect(0, 0, image.width(), image.height())
        self.bar.label.setText(f"{caption}  {image.width()} x {image.height()}")
        self.fit()

    def _show_full(self) -> None:
        self.small = None
        self.item.setPixmap(QPixmap.fromImage(self.full))
        self.item.setScale(1.0)

    def _zoomed(self) -> None:
        """Past the stand-in's own resolution: the full image from now on."""
        if self.small is not None and self.scale() * self.item.scale() > 1.001:
            self._show_full()

    def scale(self) -> float:
        return self.graphics.transform().m11()

    def fit(self) -> None:
        self.fitted = True
        if not self.item.pixmap().isNull():
            self.graphics.fitInView(self.scene.sceneRect(), Qt.KeepAspectRatio)
            if self.scale() > 1.0:
                self.zoom_to(1.0, keep_fit=True)
            self._zoomed()

    def zoom_to(self, factor: float, keep_fit: bool = False) -> None:
        self.fitted = keep_fit
        self.graphics.resetTransform()
        self.graphics.scale(factor, factor)
        self._zoomed()

    def zoom_by(self, factor: float) -> None:
        self.fitted = False
        new = max(0.02, min(40.0, self.scale() * factor))
        self.graphics.scale(new / self.scale(), new / self.scale())
        self._zoomed()

    def _wheel(self, event) -> None:
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 1 / 1.25)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.fitted:
            self.fit()


class TextViewer(QStackedWidget):
    """Coloured text (Pygments' HTML) or, for big or unknown text, plain and fast."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rich = SafeBrowser()
        self.plain = QPlainTextEdit(readOnly=True)
        self.plain.setFont(MONO)
        self.plain.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.addWidget(self.rich)
        self.addWidget(self.plain)

    def set_text(self, text: str, html: str = "") -> None:
        if html:
            self.rich.setHtml(html)
            self.setCurrentWidget(self.rich)
        else:
            self.plain.setPlainText(text)
            self.setCurrentWidget(self.plain)

    def text(self) -> str:
        w = self.currentWidget()
        return w.toPlainText()


class JsonViewer(QTabWidget):
    """A foldable tree (children made when a branch opens) and the pretty-printed text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Key", "Value"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.tree.itemExpanded.connect(self._expand)
        self.text = TextViewer()
        self.addTab(self.tree, "Tree")
        self.addTab(self.text, "Text")

    def set_value(self, value, text: str, html: str = "") -> None:
        self.tree.clear()
        self._fill(self.tree.invisibleRootItem(), value)
        if self.tree.topLevelItemCount() <= 50:
            for i in range(self.tree.topLevelItemCount()):
                self.tree.topLevelItem(i).setExpanded(True)
        self.text.set_text(text, html)

    @staticmethod
    def _summary(value) -> str:
        if isinstance(value, dict):
            return f"{{{len(value)}}}"
        if isinstance(value, list):
            return f"[{len(value)}]"
        return json.dumps(value, ensure_ascii=False)[:1000]

    def _fill(self, parent, value, limit: int = 5000) -> None:
        items = value.items() if isinstance(value, dict) else enumerate(value) \
            if isinstance(value, list) else []
        for n, (k, v) in enumerate(items):
            if n >= limit:
                QTreeWidgetItem(parent, ["…", f"{len(value) - limit} more"])
                break
            item = QTreeWidgetItem(parent, [str(k), self._summary(v)])
            if isinstance(v, (dict, list)) and v:
                item.setData(0, Qt.UserRole, v)
                item.setChildIndicatorPolicy(QTreeWidgetItem.ShowIndicator)

    def _expand(self, item) -> None:
        value = item.data(0, Qt.UserRole)
        if value is not None and item.childCount() == 0:
            self._fill(item, value)


class FrameModel(QAbstractTableModel):
    """Rows of a DataFrame, more appended as they come; sorting reorders the loaded rows."""

    moreRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        import pandas as pd

        self.frame = pd.DataFrame()
        self.cols: list = []  # one numpy array per column: cell access without pandas
        self.done = True
        self.waiting = False

    def set_frame(self, frame, done: bool) -> None:
        self.beginResetModel()
        self.frame = frame.reset_index(drop=True)
        self._arrays()
        self.done = done
        self.waiting = False
        self.endResetModel()

    def append(self, frame, done: bool) -> None:
        import pandas as pd

        self.waiting = False
        self.done = done
        if frame is None or frame.empty:
            return
        n = len(self.frame)
        self.beginInsertRows(QModelIndex(), n, n + len(frame) - 1)
        self.frame = pd.concat([self.frame, frame], ignore_index=True)
        self._arrays()
        self.endInsertRows()

    def _arrays(self) -> None:
        self.cols = [self.frame.iloc[:, i].to_numpy() for i in range(self.frame.shape[1])]

    def text(self, row: int, column: int) -> str:
        v = self.cols[column][row]
        if v is None or (isinstance(v, float) and v != v):
            return ""
        return str(v)[:2000]

    def rowCount(self, parent=_ROOT):  # noqa: N802
        return 0 if parent.isValid() else len(self.frame)

    def columnCount(self, parent=_ROOT):  # noqa: N802
        return 0 if parent.isValid() else len(self.frame.columns)

    def data(self, index, role=DISPLAY):
        role = _int(role)
        if role == DISPLAY or role == TOOLTIP:
            return self.text(index.row(), index.column())
        if role == ALIGN and self.cols[index.column()].dtype.kind in "iufb":
            return RIGHT
        return None

    def headerData(self, section, orientation, role=DISPLAY):  # noqa: N802
        if _int(role) != DISPLAY:
            return None
        if _int(orientation) == HORIZONTAL:
            return str(self.frame.columns[section])
        return str(section + 1)

    def canFetchMore(self, parent=_ROOT):  # noqa: N802
        return not parent.isValid() and not self.done and not self.waiting

    def fetchMore(self, parent=_ROOT):  # noqa: N802
        if self.canFetchMore(parent):
            self.waiting = True
            self.moreRequested.emit()

    def sort(self, column, order=Qt.AscendingOrder):
        if not 0 <= column < len(self.frame.columns):
            return
        self.layoutAboutToBeChanged.emit()
        col = self.frame.columns[column]
        asc = order == Qt.AscendingOrder
        try:
            self.frame = self.frame.sort_values(col, ascending=asc, kind="stable",
                                                na_position="last").reset_index(drop=True)
        except TypeError:  # mixed types: by their text
            self.frame = self.frame.sort_values(col, ascending=asc, kind="stable",
                                                key=lambda s: s.astype(str)).reset_index(drop=True)
        self._arrays()
        self.layoutChanged.emit()


class TableViewer(QWidget):
    moreRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = FrameModel(self)
        self.model.moreRequested.connect(self.moreRequested)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.bar = _Bar()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.bar)
        lay.addWidget(self.table, 1)
        self.total: int | None = None

    def set_frame(self, frame, done: bool, total: int | None) -> None:
        self.total = total
        self.table.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)
        self.model.set_frame(frame, done)
        header = self.table.horizontalHeader()
        metrics = self.table.fontMetrics()
        for c in range(min(self.model.columnCount(), 200)):  # from the first rows only
            texts = [str(self.model.frame.columns[c])] + [
                self.model.text(r, c) for r in range(min(self.model.rowCount(), 40))]
            width = max(metrics.horizontalAdvance(t[:60]) for t in texts) + 24
            header.resizeSection(c, max(60, min(width, 320)))
        self._caption()

    def append(self, frame, done: bool) -> None:
        self.model.append(frame, done)
        self._caption()

    def set_total(self, total: int | None) -> None:
        self.total = total
        self._caption()

    def _caption(self) -> None:
        n = self.model.rowCount()
        cols = self.model.columnCount()
        of = f" of {self.total:,}" if self.total is not None else (
            "" if self.model.done else " (counting…)")
        more = "" if self.model.done else "; more load as you scroll"
        self.bar.label.setText(f"{n:,} rows{of} shown, {cols} columns{more}. "
                               "Sorting orders the rows loaded.")


class ModelViewer(QWidget):
    """A logged model, from its MLmodel: flavors, signature table, input example, requirements."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.head = SafeBrowser()
        self.head.setMaximumHeight(190)
        self.signature = QTableWidget(0, 5)
        self.signature.setHorizontalHeaderLabels(["", "Name", "Type", "Shape", "Required"])
        self.signature.horizontalHeader().setStretchLastSection(True)
        self.signature.verticalHeader().hide()
        self.example = QTableWidget()
        self.example_text = QPlainTextEdit(readOnly=True)
        self.requirements = QPlainTextEdit(readOnly=True)
        self.files = QPlainTextEdit(readOnly=True)
        for w in (self.example_text, self.requirements, self.files):
            w.setFont(MONO)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.signature, "Signature")
        self.example_stack = QStackedWidget()
        self.example_stack.addWidget(self.example)
        self.example_stack.addWidget(self.example_text)
        self.tabs.addTab(self.example_stack, "Input example")
        self.tabs.addTab(self.requirements, "Requirements")
        self.tabs.addTab(self.files, "Files")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.head)
        lay.addWidget(self.tabs, 1)

    def set_summary(self, s: dict) -> None:
        e = _html.escape
        rows = "".join(
            f"<tr><td><b>{e(f)}</b></td><td>"
            + ", ".join(f"{e(k)}: {e(str(v))}" for k, v in list(conf.items())[:8])
            + "</td></tr>" for f, conf in s.get("flavors", {}).items())
        meta = " · ".join(e(str(x)) for x in (
            f"size {human_size(s.get('size'))}" if s.get("size") else None,
            f"MLflow {s['mlflow_version']}" if s.get("mlflow_version") else None,
            f"created {s['created']}" if s.get("created") else None,
            f"run {s['run_id']}" if s.get("run_id") else None) if x)
        self.head.setHtml(f"<h3>Model {e(s.get('name', ''))}</h3><p>{meta}</p>"
                          f"<p><b>Flavors</b> (summarised from MLmodel; never loaded)</p>"
                          f"<table cellpadding=2>{rows}</table>")
        sig = s.get("signature") or []
        self.signature.setRowCount(len(sig))
        for r, row in enumerate(sig):
            for c, key in enumerate(("role", "name", "type", "shape", "required")):
                self.signature.setItem(r, c, QTableWidgetItem(str(row.get(key, ""))))
        self.signature.resizeColumnsToContents()
        ex = s.get("input_example")
        if ex and "columns" in ex:
            self.example.setColumnCount(len(ex["columns"]))
            self.example.setHorizontalHeaderLabels(ex["columns"])
            self.example.setRowCount(len(ex["rows"]))
            for r, row in enumerate(ex["rows"]):
                for c, v in enumerate(row if isinstance(row, list) else [row]):
                    self.example.setItem(r, c, QTableWidgetItem(str(v)))
            self.example_stack.setCurrentWidget(self.example)
        else:
            self.example_text.setPlainText((ex or {}).get("text", "No input example saved."))
            self.example_stack.setCurrentWidget(self.example_text)
        self.requirements.setPlainText("\n".join(s.get("requirements") or ["(none listed)"]))
        self.files.setPlainText("\n".join(f"{human_size(n):>10}  {p}" for p, n in s.get("files", [])))


class InfoViewer(QWidget):
    """Anything without a viewer (and files over the size limit): what it is, and actions."""

    openRequested = Signal()
    saveRequested = Signal()
    previewRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel(objectName="infoTitle")
        self.title.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.details = QLabel(wordWrap=True)
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.open_button = QPushButton("Open with system app")
        self.save_button = QPushButton("Save as…")
        self.preview_button = QPushButton("Preview anyway")
        self.open_button.clicked.connect(self.openRequested)
        self.save_button.clicked.connect(self.saveRequested)
        self.preview_button.clicked.connect(self.previewRequested)
        buttons = QHBoxLayout()
        for b in (self.preview_button, self.open_button, self.save_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.details)
        lay.addLayout(buttons)
        lay.addStretch(1)

    def set_info(self, name: str, size, type_: str, text: str, big: bool = False,
                 error: bool = False) -> None:
        self.title.setText(("⚠ " if error else "") + name)
        bits = [f"Type: {type_}"] if type_ else []
        if size is not None:
            bits.append(f"Size: {human_size(size)} ({size:,} bytes)")
        self.details.setText("\n".join([text, *bits]) if text else "\n".join(bits))
        self.preview_button.setVisible(big)
        self.open_button.setVisible(not error)
        self.save_button.setVisible(not error)


class ViewerStack(QStackedWidget):
    """Picks the viewer for a preview. Signals carry the user's requests out."""

    moreRowsRequested = Signal()
    openRequested = Signal()  # with the system app
    saveRequested = Signal()
    previewRequested = Signal()  # a big file, after all
    browserRequested = Signal()  # HTML in the system browser

    HTML_NOTE = "Shown without scripts or network."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.empty = QLabel("Select an artifact to view it.", alignment=Qt.AlignCenter)
        self.empty.setObjectName("emptyViewer")
        self.image = ImageViewer()
        self.text = TextViewer()
        self.json = JsonViewer()
        self.markdown = SafeBrowser()
        self.html_page = QWidget()
        self.html = SafeBrowser()
        self.html_bar = hbar = _Bar()
        hbar.label.setText(self.HTML_NOTE)
        hbar.button("Open in system browser", self.browserRequested.emit, "browserButton")
        hl = QVBoxLayout(self.html_page)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(hbar)
        hl.addWidget(self.html, 1)
        self.table = TableViewer()
        self.model = ModelViewer()
        self.info = InfoViewer()
        self.note = QLabel(wordWrap=True)
        self.note.setFrameShape(QFrame.StyledPanel)
        self.note.hide()
        for w in (self.empty, self.image, self.text, self.json, self.markdown, self.html_page,
                  self.table, self.model, self.info):
            self.addWidget(w)
        self.table.moreRequested.connect(self.moreRowsRequested)
        self.info.openRequested.connect(self.openRequested)
        self.info.saveRequested.connect(self.saveRequested)
        self.info.previewRequested.connect(self.previewRequested)
        self.kind = "empty"

    def clear(self, text: str = "Select an artifact to view it.") -> None:
        self.empty.setText(text)
        self.kind = "empty"
        self.setCurrentWidget(self.empty)

    def show_preview(self, pv, image: QImage | None = None, small: QImage | None = None) -> None:
        """Show a core Preview (an image preview comes with its decoded QImage, and a
        smaller copy for the fit view when it is big: decode_for_view)."""
        kind = pv.kind
        if kind == "image" and image is not None:
            self.image.set_image(image, pv.name, small)
            self.setCurrentWidget(self.image)
        elif kind == "text":
            text = pv.text + ("\n…(cut: the file is longer)" if pv.truncated else "")
            self.text.set_text(text, pv.html)
            self.setCurrentWidget(self.text)
        elif kind == "json":
            self.json.set_value(pv.data, pv.text, pv.html)
            self.setCurrentWidget(self.json)
        elif kind == "markdown":
            self.markdown.setMarkdown(pv.text)
            self.setCurrentWidget(self.markdown)
        elif kind == "html":
            # sklearn's estimator page comes as its structure (pv.html); other pages as
            # themselves, scripts stripped.
            self.html.setHtml(pv.html or pv.text)
            self.html_bar.label.setText(
                "scikit-learn estimator: structure and parameters." if pv.html
                else self.HTML_NOTE)
            self.setCurrentWidget(self.html_page)
        elif kind == "table":
            reader = pv.table
            self.table.set_frame(pv.data, reader.done, reader.total)
            self.setCurrentWidget(self.table)
        elif kind == "model":
            self.model.set_summary(pv.data)
            self.setCurrentWidget(self.model)
        elif kind == "error":
            self.info.set_info(pv.name, pv.size, "", pv.text, error=True)
            self.setCurrentWidget(self.info)
        else:
            extra = pv.extra or {}
            self.info.set_info(pv.name, pv.size, extra.get("type", ""), pv.text,
                               big=bool(extra.get("big")))
            self.setCurrentWidget(self.info)
        self.kind = kind


__all__ = ["ViewerStack", "decode_image", "decode_for_view", "for_display", "SafeBrowser", "ImageViewer", "TableViewer",
           "JsonViewer", "TextViewer", "ModelViewer", "InfoViewer", "MAX_PIXELS"]
