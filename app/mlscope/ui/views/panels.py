"""The page's three panels: Experiments (and the registry) | the workspace of views | the run
detail. Remembers where the user put the borders without ever squeezing the workspace, gives
wide views the room they need, and lets a view be maximised or popped out into a window."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QSplitter, QTabWidget, QWidget

SIDE_DEFAULT = [300, 880, 300]  # experiments | workspace | detail, in pixels
SIDE_MIN = 240  # a side panel's default never narrower (experiment names stay readable)
WORKSPACE_MIN = 0.5  # a restored layout never leaves the workspace less than this share


def _tabs(name: str) -> QTabWidget:
    tabs = QTabWidget(objectName=name)
    tabs.setDocumentMode(True)
    return tabs


class Panels(QSplitter):
    """``left``, ``workspace`` and ``detail`` tab widgets side by side."""

    def __init__(self, settings, parent=None):
        super().__init__(Qt.Horizontal, parent)
        self.settings = settings
        self.left, self.workspace, self.detail = (
            _tabs("leftTabs"), _tabs("workspace"), _tabs("detailTabs"))
        for w in (self.left, self.workspace, self.detail):
            self.addWidget(w)
        self.setStretchFactor(1, 1)
        self.setCollapsible(1, False)
        self.setSizes(self._restored())
        self.maximised = False
        self.windows: dict[QWidget, QMainWindow] = {}  # popped-out views
        self._before_wide: list[int] | None = None  # the borders before a wide left view
        self._save_timer = QTimer(self, singleShot=True, interval=400)
        self._save_timer.timeout.connect(self.remember)
        self.splitterMoved.connect(lambda *_: self._save_timer.start())
        self.workspace.currentChanged.connect(lambda _i: self._fit())
        self.left.currentChanged.connect(self._left_changed)
        bar = self.workspace.tabBar()
        bar.setContextMenuPolicy(Qt.CustomContextMenu)
        bar.customContextMenuRequested.connect(self._tab_menu)
        bar.tabBarDoubleClicked.connect(lambda _i: self.set_maximised(not self.maximised))

    # -- borders -----------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        # Sized again once it has its real width: sizes set while it was 640 px wide (Qt's
        # default before a show) squeezed the side panels to their minimum for good.
        if not getattr(self, "_shown_once", False):
            self._shown_once = True
            self.setSizes(self._restored())
        super().showEvent(event)

    def _restored(self) -> list[int]:
        """The borders the user left, unless they would squeeze the workspace."""
        saved = (self.settings.get("splitters") or {}).get("h3")
        if not (isinstance(saved, list) and len(saved) == 3 and sum(saved) > 0
                and saved[1] >= WORKSPACE_MIN * sum(saved)):
            return self._default()
        return saved

    def _default(self) -> list[int]:
        """The side panels at their default width and the workspace the rest; on a narrower
        window they give way first, down to SIDE_MIN (scaled in proportion, a 1280-pixel
        window's panels were 257 pixels and the experiment names cut to "nyc-...")."""
        total = self.width() if getattr(self, "_shown_once", False) else sum(SIDE_DEFAULT)
        side = SIDE_DEFAULT[0]
        if total - 2 * side < WORKSPACE_MIN * total:
            side = max(SIDE_MIN, int(total * (1 - WORKSPACE_MIN) / 2))
        return [side, max(total - 2 * side, 1), side]

    def remember(self) -> None:
        if not self.maximised and self._before_wide is None:
            self.settings.set("splitters", {"h3": self.sizes()})

    def _fit(self) -> None:
        """The run detail sits beside the runs table (the workspace's first tab) only; other
        views and wide left views (the registry) take its room."""
        self.left.setVisible(not self.maximised)
        self.detail.setVisible(not self.maximised and self.workspace.currentIndex() == 0
                               and self.left.currentIndex() == 0)

    def _left_changed(self, index: int) -> None:
        sizes, total = self.sizes(), sum(self.sizes())
        if index == 0:
            self._fit()  # the detail shown first, so that it takes its old width back
            if self._before_wide:
                self.setSizes(self._before_wide)
                self._before_wide = None
        elif self._before_wide is None and total:
            self._before_wide = sizes
            left = max(sizes[0], int(total * 0.42))
            self.setSizes([left, max(total - left, 1), 0])
        self._fit()

    def show_view(self, name: str) -> bool:
        """Bring the tab whose title starts with ``name`` (runs, charts, registry...) to the front."""
        for tabs in (self.workspace, self.left, self.detail):
            for i in range(tabs.count()):
                if tabs.tabText(i).lower().startswith(name.lower()):
                    tabs.setCurrentIndex(i)
                    return True
        return False

    # -- maximise and pop out ----------------------------------------------------------------
    def set_maximised(self, on: bool) -> None:
        """The workspace alone (double-click a view's tab; again to come back)."""
        self.maximised = on
        self._fit()

    def pop_out(self, index: int) -> QMainWindow | None:
        """The view of tab ``index`` in a window of its own; closing the window docks it back."""
        widget, title = self.workspace.widget(index), self.workspace.tabText(index)
        if widget is None or self.workspace.count() < 2:
            return None
        self.workspace.removeTab(index)
        win = _PoppedOut(title, widget, lambda: self._dock(widget, title, index))
        self.windows[widget] = win
        win.resize(max(widget.width(), 900), max(widget.height(), 600))
        win.show()
        return win

    def _dock(self, widget, title: str, index: int) -> None:
        self.windows.pop(widget, None)
        self.workspace.insertTab(min(index, self.workspace.count()), widget, title)
        widget.show()

    def _tab_menu(self, pos) -> None:
        index = self.workspace.tabBar().tabAt(pos)
        menu = QMenu(self)
        menu.addAction("Restore Panels" if self.maximised else "Maximise",
                       lambda: self.set_maximised(not self.maximised))
        if index >= 0:
            menu.addAction("Pop Out", lambda: self.pop_out(index))
        menu.exec(self.workspace.tabBar().mapToGlobal(pos))


class _PoppedOut(QMainWindow):
    def __init__(self, title: str, widget, on_close):
        super().__init__()
        self.setWindowTitle(f"{title} — mlscope")
        self.setCentralWidget(widget)
        self._on_close = on_close

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        widget = self.takeCentralWidget()
        if widget is not None:
            self._on_close()
        super().closeEvent(event)


class InfoBar(QLabel):
    """What the user should know about this store: the other store in a project folder (a
    link opens it), an older schema that MLflow would migrate. Hidden with nothing to say."""

    def __init__(self, parent=None):
        super().__init__(parent, objectName="infoBar", wordWrap=True, textFormat=Qt.RichText)
        self.hide()

    def show_for(self, store) -> None:
        loc, lines = store.location, []
        if loc.note:
            links = " ".join(f'<a href="{escape(str(a.path or a.uri))}">Open '
                             f'{escape(a.path.name if a.path else a.uri)}</a>' for a in loc.alternatives)
            lines.append(f"{escape(loc.note)} {links}")
        if store.read_only_note:
            lines.append(escape(store.read_only_note))
        self.setText("<br>".join(lines))
        self.setVisible(bool(lines))
