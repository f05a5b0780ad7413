"""Icons, stylesheet and palette, found where they are: in the installed package or in the repo."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication

STATUS_COLORS = {
    "FINISHED": "#16a34a",
    "FAILED": "#dc2626",
    "KILLED": "#9333ea",
    "RUNNING": "#0194e2",
    "SCHEDULED": "#64748b",
}


@cache
def resource_dir() -> Path | None:
    """Package data (``mlscope/resources``) when installed; the repo's ``resources/`` in a checkout."""
    here = Path(__file__).resolve()
    for candidate in (here.parent.parent / "resources", here.parents[3] / "resources"):
        if (candidate / "icons").is_dir():
            return candidate
    return None


@cache
def swatch(color: str, size: int = 10) -> QIcon:
    """A small round dot of ``color``: a run's colour beside its name in the table."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPainter, QPixmap

    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(0, 0, size, size)
    painter.end()
    return QIcon(pixmap)


@cache
def icon(name: str) -> QIcon:
    """An icon by file stem (``icon("reload")``); an empty icon if the file is missing."""
    root = resource_dir()
    if root is None:
        return QIcon()
    path = root / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


@cache
def status_icon(status: str | None) -> QIcon:
    """The status disc, drawn the same when its row is selected (no washed-out tint)."""
    root = resource_dir()
    path = root / "icons" / f"status-{(status or 'scheduled').lower()}.svg" if root else None
    if path is None or not path.is_file():
        return QIcon()
    ic = QIcon()
    for mode in (QIcon.Normal, QIcon.Selected, QIcon.Active):
        ic.addFile(str(path), QSize(), mode)
    return ic


def apply(app: QApplication) -> None:
    """Fusion + a light palette + the stylesheet: the same look on every platform."""
    app.setStyle("Fusion")
    pal = QPalette()
    pal.setColor(QPalette.Window, QColor("#f6f8fa"))
    pal.setColor(QPalette.Base, QColor("#ffffff"))
    pal.setColor(QPalette.AlternateBase, QColor("#f9fafb"))
    pal.setColor(QPalette.Text, QColor("#1f2937"))
    pal.setColor(QPalette.WindowText, QColor("#1f2937"))
    pal.setColor(QPalette.Button, QColor("#ffffff"))
    pal.setColor(QPalette.ButtonText, QColor("#1f2937"))
    pal.setColor(QPalette.Highlight, QColor("#dbeafe"))
    pal.setColor(QPalette.HighlightedText, QColor("#0f172a"))
    pal.setColor(QPalette.Link, QColor("#0b78c2"))
    pal.setColor(QPalette.PlaceholderText, QColor("#9ca3af"))
    app.setPalette(pal)
    font = app.font()
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    app.setFont(font)
    root = resource_dir()
    if root is not None and (root / "style.qss").is_file():
        qss = (root / "style.qss").read_text(encoding="utf-8")
        app.setStyleSheet(qss.replace("@ICONS@", (root / "icons").as_posix()))
    app.setWindowIcon(icon("app"))


def mono_font() -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.Monospace)
    return font
