"""Icons, stylesheet and palette, found where they are: in the installed package or in the repo."""

from __future__ import annotations

import os
import re
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
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QGuiApplication, QPainter, QPixmap

    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio() if screen else 1.0  # sharp on high-DPI screens
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QRectF(0, 0, size, size))
    painter.end()
    return QIcon(pixmap)


def icon(name: str) -> QIcon:
    """An icon by file stem (``icon("reload")``), drawn for the theme in use; an empty icon
    if the file is missing."""
    return _icon(name, scheme())


@cache
def _icon(name: str, which: str) -> QIcon:
    folder = _icon_dir(which)
    if folder is None:
        return QIcon()
    path = folder / f"{name}.svg"
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


# The palettes: the stylesheet is written in the light colours; the dark theme swaps each one.
LIGHT = {"window": "#f6f8fa", "base": "#ffffff", "alt": "#f9fafb", "text": "#1f2937",
         "highlight": "#dbeafe", "highlighted_text": "#0f172a", "link": "#0b78c2",
         "placeholder": "#9ca3af", "disabled": "#9ca3af"}
DARK = {"window": "#0d1117", "base": "#161b22", "alt": "#1b2129", "text": "#e6edf3",
        "highlight": "#1f3a5f", "highlighted_text": "#f0f6fc", "link": "#58a6ff",
        "placeholder": "#7d8590", "disabled": "#6e7681"}
DARK_SWAP = {
    "#f6f8fa": "#0d1117", "#ffffff": "#161b22", "#f9fafb": "#1b2129", "#f8fafc": "#161b22",
    "#1f2937": "#e6edf3", "#111827": "#f0f6fc", "#0f172a": "#f0f6fc", "#4b5563": "#9198a1",
    "#475569": "#9198a1", "#64748b": "#8b949e", "#6b7280": "#8b949e", "#9ca3af": "#6e7681",
    "#e5e7eb": "#30363d", "#e2e8f0": "#30363d", "#d1d5db": "#3d444d", "#cbd5e1": "#484f58",
    "#eef0f3": "#21262d", "#eef2f7": "#21262d", "#f3f4f6": "#262c36", "#f1f5f9": "#1c2330",
    "#e5e7eb80": "#30363d80", "#e8f3fc": "#1c2d41", "#b9dcf5": "#1f6feb", "#dbeafe": "#1f3a5f",
    "#0b5cad": "#58a6ff", "#dc2626": "#f85149", "#b91c1c": "#ff7b72", "#fef2f2": "#2d1517",
    "#fecaca": "#5c2226", "#eff6ff": "#12243a", "#bfdbfe": "#1f4b7a", "#1e3a8a": "#9ecbff",
    # colours of the views' own CSS (through themed()): borders, greys, links, diff shades
    "#d7dce3": "#3d444d", "#e8ebf0": "#262c36", "#ececec": "#2a2f36", "#94a3b8": "#7d8590",
    "#a3acb9": "#6e7681", "#8a8a8a": "#8b949e", "#555555": "#b1bac4", "#444444": "#c9d1d9",
    "#374151": "#d1d7e0", "#222222": "#e6edf3", "#0b78c2": "#58a6ff", "#dcecff": "#16304f",
    "#dcfce7": "#12361f", "#e3f4e1": "#15301a", "#e2f5e2": "#15301a", "#fee2e2": "#3b1619",
    "#f6e1e1": "#3a1a1c", "#fbe3e3": "#3a1a1c", "#fff3c4": "#3a3212",
    "#1a7f37": "#3fb950", "#c62828": "#f85149", "#dcdcdc": "#30363d", "#aaffffff": "#aa161b22",
}
ICON_STROKE = {"light": "#475569", "dark": "#c9d1d9"}
_scheme = ["light"]


def scheme() -> str:
    """The theme in use: ``"light"`` or ``"dark"``."""
    return _scheme[0]


def system_scheme(app: QApplication) -> str:
    """``$MLSCOPE_THEME`` (light/dark) if set, else the system's colour scheme (Qt's hint;
    light when the platform does not say)."""
    from PySide6.QtCore import Qt

    forced = os.environ.get("MLSCOPE_THEME", "").strip().lower()
    if forced in ("light", "dark"):
        return forced
    hints = app.styleHints()
    return "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"


def _recolor(text: str, swap: dict[str, str]) -> str:
    return re.sub(r"#[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?\b",
                  lambda m: swap.get(m.group(0).lower(), m.group(0)), text)


def themed(css: str) -> str:
    """CSS (or any text) written in the light colours, in the colours of the theme in use:
    for the HTML of text views, which the application stylesheet does not reach."""
    return _recolor(css, DARK_SWAP) if scheme() == "dark" else css


@cache
def _icon_dir(which: str) -> Path | None:
    """The icons for ``which`` scheme: the originals, or copies with a light stroke for dark."""
    root = resource_dir()
    if root is None or which == "light":
        return root / "icons" if root else None
    from mlscope.core.paths import cache_dir

    out = cache_dir() / f"icons-{which}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        for svg in (root / "icons").glob("*.svg"):
            text = svg.read_text(encoding="utf-8").replace(ICON_STROKE["light"],
                                                          ICON_STROKE[which])
            target = out / svg.name
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
    except OSError:
        return root / "icons"
    return out


def _palette(colors: dict[str, str]) -> QPalette:
    c = {k: QColor(v) for k, v in colors.items()}
    pal = QPalette()
    for role, key in ((QPalette.Window, "window"), (QPalette.Base, "base"),
                      (QPalette.AlternateBase, "alt"), (QPalette.Text, "text"),
                      (QPalette.WindowText, "text"), (QPalette.Button, "base"),
                      (QPalette.ButtonText, "text"), (QPalette.Highlight, "highlight"),
                      (QPalette.HighlightedText, "highlighted_text"), (QPalette.Link, "link"),
                      (QPalette.PlaceholderText, "placeholder"), (QPalette.ToolTipBase, "text"),
                      (QPalette.ToolTipText, "base")):
        pal.setColor(role, c[key])
    for role in (QPalette.Text, QPalette.WindowText, QPalette.ButtonText):
        pal.setColor(QPalette.Disabled, role, c["disabled"])
    return pal


def apply(app: QApplication, which: str | None = None) -> None:
    """Fusion + a palette + the stylesheet, light or dark as the system asks (and again
    whenever the system switches): the same look on every platform."""
    from PySide6.QtCore import Qt

    first = which is None and not getattr(app, "_mlscope_follows", False)
    which = which or system_scheme(app)
    _scheme[0] = which
    app.setStyle("Fusion")
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme") and os.environ.get("MLSCOPE_THEME"):
        hints.setColorScheme(Qt.ColorScheme.Dark if which == "dark" else Qt.ColorScheme.Light)
    app.setPalette(_palette(DARK if which == "dark" else LIGHT))
    font = app.font()
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    app.setFont(font)
    root = resource_dir()
    if root is not None and (root / "style.qss").is_file():
        qss = (root / "style.qss").read_text(encoding="utf-8")
        if which == "dark":
            qss = _recolor(qss, DARK_SWAP)
        app.setStyleSheet(qss.replace("@ICONS@", _icon_dir(which).as_posix()))
    app.setWindowIcon(icon("app"))
    if first:  # follow the system from now on (icons already shown keep their colour)
        app._mlscope_follows = True
        hints.colorSchemeChanged.connect(lambda _s: apply(app, system_scheme(app)))


def mono_font() -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.Monospace)
    return font
