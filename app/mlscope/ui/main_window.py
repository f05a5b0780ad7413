"""The main window: menus, store tabs, drag and drop, status bar. Layout and routing only:
each open store is a :class:`~mlscope.ui.store_page.StorePage` that does its own work."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QToolButton,
)

from .. import __version__
from ..core import server_cache
from ..core.secrets import redact, without_password
from . import theme
from .settings import Settings
from .store_page import StorePage
from .views.welcome import WelcomePage
from .warm_up import WarmUp

WARM_UP_DELAY_MS = 3000  # after the first store's first table (scripts' screenshots are done by then)
GUI_SWITCH_S = 0.0005  # the interpreter's thread switch interval in the app (see __init__)


def _warm_up_search() -> None:
    """Import MLflow's search parser on a worker once the window is idle, so the first filter
    a user types answers at once instead of after a 3-second import. Not sooner: the import
    holds the GIL for seconds, which a first read of 100,000 runs would wait out."""
    import threading

    def work():
        from mlscope.core.search import parse_filter

        parse_filter("metrics.x > 0")

    threading.Thread(target=work, name="mlscope-warm-up", daemon=True).start()


class MainWindow(QMainWindow):
    pageCreated = Signal(object)  # StorePage, before it starts opening
    storeOpened = Signal(object)  # StorePage, once its store is open
    firstPainted = Signal()

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        # Workers parse while the window paints. Each of the window thread's calls into Qt
        # lets go of the GIL and waits for it back: at Python's 5 ms a turn, beside busy
        # readers, painting the first rows of a 100,000-run store took seconds on two loaded
        # cores; at 0.5 ms about a tenth of that.
        sys.setswitchinterval(GUI_SWITCH_S)
        self.settings = settings or Settings()
        self.setWindowTitle("mlscope")
        self.setWindowIcon(theme.icon("app"))
        self.setAcceptDrops(True)
        self.resize(1440, 900)
        self._painted = False
        self._warmed = False  # MLflow's search parser imported in the background, once
        self.warm_up = WarmUp()  # the store layer's imports, after the first paint

        self.welcome = WelcomePage()
        self.tabs = QTabWidget(objectName="storeTabs")
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.tabs)
        self.setCentralWidget(self.stack)

        self.status_label = QLabel()
        self.problems_button = QToolButton(objectName="problemsButton")
        self.problems_button.setIcon(theme.icon("warning"))
        self.problems_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.problems_button.setAutoRaise(True)
        self.problems_button.hide()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.problems_button)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._wire()
        self._refresh_recent()
        self._tab_changed(-1)
        geometry = self.settings.get("geometry")
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))

    # -- actions and menus ---------------------------------------------------------------------
    def _make_actions(self) -> None:
        def act(text, shortcut=None, icon=None, checkable=False):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            if icon:
                a.setIcon(theme.icon(icon))
            a.setCheckable(checkable)
            return a

        self.open_folder_action = act("Open &Folder…", "Ctrl+O", "folder-open")
        self.open_db_action = act("Open &Database…", "Ctrl+Shift+O", "database")
        self.connect_action = act("&Connect to Server…", "Ctrl+Shift+K", "server")
        self.demo_action = act("Open D&emo Store", None, "sparkles")
        self.migrate_action = act("&Migrate to SQLite…", None, "database")
        # core.server_cache's copies: servers' runs and large mlruns folders' last tables
        self.clear_cache_action = act("Clear Saved Copies of Runs")
        self.close_tab_action = act("&Close Tab", QKeySequence.Close)
        self.quit_action = act("&Quit", QKeySequence.Quit)
        self.reload_action = act("&Reload", QKeySequence.Refresh, "reload")
        self.watch_action = act("&Watch for Changes", "Ctrl+Shift+W", "eye", checkable=True)
        self.watch_action.setToolTip("Re-read every few seconds while runs are RUNNING")
        self.watch_action.setChecked(bool(self.settings.get("watch", False)))
        self.columns_action = act("C&olumns…", "Ctrl+Shift+L", "columns")
        self.problems_action = act("Show &Problems", None, "warning")
        self.filter_action = act("&Filter Runs", "Ctrl+L", "filter")
        self.about_action = act("&About mlscope")

    def _make_menus(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")
        for a in (self.open_folder_action, self.open_db_action, self.connect_action):
            file.addAction(a)
        self.recent_menu = file.addMenu("Open &Recent")
        file.addAction(self.demo_action)
        file.addAction(self.migrate_action)
        file.addAction(self.clear_cache_action)
        file.addSeparator()
        file.addAction(self.close_tab_action)
        file.addAction(self.quit_action)
        view = mb.addMenu("&View")
        for a in (self.reload_action, self.watch_action):
            view.addAction(a)
        view.addSeparator()
        view.addAction(self.columns_action)
        view.addAction(self.problems_action)
        mb.addMenu("&Help").addAction(self.about_action)

    def _make_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(18, 18))
        tb.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        for a in (self.open_folder_action, self.open_db_action, self.connect_action):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.reload_action)
        tb.addAction(self.watch_action)
        self.open_folder_action.setIconText("Open Folder")
        self.open_db_action.setIconText("Open Database")
        self.connect_action.setIconText("Connect")
        self.watch_action.setIconText("Watch")

    def _wire(self) -> None:
        self.open_folder_action.triggered.connect(self.ask_open_folder)
        self.open_db_action.triggered.connect(self.ask_open_database)
        self.connect_action.triggered.connect(self.ask_connect)
        self.demo_action.triggered.connect(lambda: self.open_demo())
        self.migrate_action.triggered.connect(self.ask_migrate)
        self.clear_cache_action.triggered.connect(lambda: self.status_label.setText(
            f"Removed the saved runs of {server_cache.clear()} server(s) and folder(s)."))
        self.close_tab_action.triggered.connect(lambda: self.close_tab(self.tabs.currentIndex()))
        self.quit_action.triggered.connect(self.close)
        self.reload_action.triggered.connect(lambda: self._on_page(lambda p: p.reload()))
        self.watch_action.toggled.connect(self._set_watch)
        self.columns_action.triggered.connect(lambda: self._on_page(lambda p: p.choose_columns()))
        self.problems_action.triggered.connect(lambda: self._on_page(lambda p: p.show_problems()))
        self.problems_button.clicked.connect(lambda: self._on_page(lambda p: p.show_problems()))
        self.about_action.triggered.connect(self.about)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._tab_changed)
        w = self.welcome
        w.openFolderRequested.connect(self.ask_open_folder)
        w.openDatabaseRequested.connect(self.ask_open_database)
        w.connectRequested.connect(self.ask_connect)
        w.demoRequested.connect(lambda: self.open_demo())
        w.recentRequested.connect(self.open_target)

    # -- opening -------------------------------------------------------------------------------
    def page(self) -> StorePage | None:
        w = self.tabs.currentWidget()
        return w if isinstance(w, StorePage) else None

    def pages(self) -> list[StorePage]:
        return [self.tabs.widget(i) for i in range(self.tabs.count())]

    def _peers(self, page: StorePage) -> list:
        """The other open stores, for Compare: (title, store, runs selected in its tab)."""
        return [(p.title(), p.store, list(p.selection.selected)) for p in self.pages()
                if p is not page and p.store is not None]

    def _on_page(self, fn) -> None:
        page = self.page()
        if page is not None:
            fn(page)

    def open_target(self, target, experiment: str | None = None) -> StorePage:
        """Open a store in a new tab (or switch to the tab that already shows it)."""
        target = str(target)
        for i, p in enumerate(self.pages()):
            if p.target == target:
                self.tabs.setCurrentIndex(i)
                return p
        page = StorePage(target, self.settings, experiment)
        page.statusMessage.connect(lambda text, p=page: self._status_from(p, text))
        page.titleChanged.connect(lambda title, p=page: self._set_tab_title(p, title))
        page.opened.connect(lambda _store, p=page, t=target: self._opened(p, t))
        page.runsLoaded.connect(lambda _n, p=page: self._warm_up_after(p))
        page.openFailed.connect(lambda msg, p=page: self._set_tab_title(p, "⚠ " + Path(p.target).name))
        page.problemsChanged.connect(lambda n, p=page: self._problems_changed(p, n))
        page.closeRequested.connect(lambda p=page: self.close_tab(self.tabs.indexOf(p)))
        page.openRequested.connect(self.open_target)
        page.compare.set_peers(lambda p=page: self._peers(p))  # Compare across stores
        shown = redact(target)  # a password in a URL is never on screen
        i = self.tabs.addTab(page, theme.icon(self._kind_icon(target)), Path(shown).name or shown)
        self.tabs.setTabToolTip(i, shown)
        self.tabs.setCurrentIndex(i)
        self.stack.setCurrentWidget(self.tabs)
        page.set_watch(self.watch_action.isChecked())
        self.pageCreated.emit(page)
        page.open()
        return page

    @staticmethod
    def _kind_icon(target: str) -> str:
        if target.startswith(("http://", "https://")):
            return "server"
        if target.endswith((".db", ".sqlite", ".sqlite3")) or "://" in target:
            return "database"
        return "folder-open"

    def _opened(self, page: StorePage, target: str) -> None:
        self.settings.add_recent(without_password(target))
        self._refresh_recent()
        self._save_session()
        self.storeOpened.emit(page)

    def _warm_up_after(self, page: StorePage) -> None:
        """The search parser's import, once, after the first table that is not being read
        (a saved copy shown while the store is read does not count)."""
        if not self._warmed and not page.is_loading():
            self._warmed = True
            QTimer.singleShot(WARM_UP_DELAY_MS, _warm_up_search)

    def ask_open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open mlruns folder or project folder",
                                                self._last_dir())
        if path:
            self._remember_dir(path)
            self.open_target(path)

    def ask_open_database(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open MLflow database", self._last_dir(),
            "MLflow databases (*.db *.sqlite *.sqlite3);;All files (*)")
        if path:
            self._remember_dir(str(Path(path).parent))
            self.open_target(path)

    def ask_connect(self, message: str = "", current: dict | None = None) -> None:
        """The connect dialog; its credentials reach the store in memory only. When the
        server refuses them, the dialog comes back with the server's words and the URL."""
        from mlscope.core import AuthError, credentials, keyring_store

        from .dialogs.connect import ConnectDialog

        history = [r for r in self.settings.recent() if r.startswith(("http://", "https://"))]
        servers = [s for s in self.settings.get("servers", []) if isinstance(s, dict)]
        dlg = ConnectDialog(history, self, servers=servers, keyring=keyring_store.status(),
                            message=message, current=current)
        self.connect_dialog = dlg
        if not dlg.exec() or not dlg.value():
            return
        url, entry = dlg.value(), dlg.entry()
        credentials.remember(url, dlg.auth())
        self.settings.set("servers", [entry] + [s for s in servers if s.get("url") != url][:19])
        for i, p in enumerate(self.pages()):
            if p.target == url:  # reconnecting: a new page with the new credentials
                self.close_tab(i)
        page = self.open_target(url)

        first = [True]  # only this connect's outcome, not a later F5's

        def failed(msg, page=page):
            if first[0] and isinstance(page.loading.last_error, AuthError):
                QTimer.singleShot(0, lambda: self._reenter(page, msg, entry))
            first[0] = False

        page.openFailed.connect(failed)
        page.opened.connect(lambda _store: first.__setitem__(0, False))

    def _reenter(self, page, message: str, entry: dict) -> None:
        """Part of ask_connect: the failed tab goes, the dialog comes back with the URL."""
        if page in self.pages():
            self.close_tab(self.tabs.indexOf(page))
        self.ask_connect(message, entry)

    def ask_migrate(self):
        """The current tab's mlruns folder (or one the user picks) into a new SQLite file."""
        from .dialogs.migrate import MigrateDialog

        loc = getattr(self.page() and self.page().store, "location", None)
        dlg = MigrateDialog(str(loc.path) if loc is not None and loc.kind == "file" else "", self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.openRequested.connect(self.open_target)
        dlg.open()
        return dlg

    def open_demo(self, experiment: str | None = None) -> None:
        """Build the demo store once (it takes a while: MLflow's own client writes it)."""
        from mlscope import demo

        experiment = experiment or demo.FIRST_EXPERIMENT
        if demo.is_built():
            self.open_target(str(demo.demo_target()), experiment)
            return
        from .tasks import Tasks

        self.welcome.set_status("Building the demo store with MLflow's client (first time only, "
                                "about half a minute)…")
        self.status_label.setText("Building the demo store…")
        self.welcome.buttons["demo"].setEnabled(False)
        self._demo_tasks = getattr(self, "_demo_tasks", None) or Tasks(self, threads=1)

        def done(path):
            self.welcome.set_status("")
            self.welcome.buttons["demo"].setEnabled(True)
            self.open_target(str(path), experiment)

        def failed(exc):
            self.welcome.buttons["demo"].setEnabled(True)
            msg = f"Could not build the demo store: {exc}"
            self.welcome.set_status(msg)
            self.status_label.setText(msg)

        self._demo_tasks.start("demo", lambda progress, cancel: demo.build_demo(), done, failed)

    def _last_dir(self) -> str:
        return self.settings.get("last_dir") or os.getcwd()

    def _remember_dir(self, path: str) -> None:
        self.settings.set("last_dir", path)

    def _refresh_recent(self) -> None:
        recent = self.settings.recent()
        self.recent_menu.clear()
        for target in recent:
            a = self.recent_menu.addAction(theme.icon(self._kind_icon(target)), target)
            a.triggered.connect(lambda _=False, t=target: self.open_target(t))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent", self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))
        self.welcome.set_recent(recent)

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._refresh_recent()

    # -- tabs and status --------------------------------------------------------------------------
    def close_tab(self, index: int) -> None:
        page = self.tabs.widget(index)
        if page is None:
            return
        self.tabs.removeTab(index)
        for other in self.pages():  # its runs leave the other tabs' comparisons
            other.compare.store_closed(page.store, page.title())
        page.shutdown()
        page.deleteLater()
        self._save_session()
        if self.tabs.count() == 0:
            self.stack.setCurrentWidget(self.welcome)
            self.setWindowTitle("mlscope")
            self.problems_button.hide()

    def _set_tab_title(self, page: StorePage, title: str) -> None:
        i = self.tabs.indexOf(page)
        if i >= 0:
            self.tabs.setTabText(i, title)
            if page is self.page():
                self.setWindowTitle(f"{title} — mlscope")

    def _status_from(self, page: StorePage, text: str) -> None:
        if page is self.page():
            self.status_label.setText(text)

    def _problems_changed(self, page: StorePage, n: int) -> None:
        if page is self.page():
            self.problems_button.setText(f"{n} problem" + ("" if n == 1 else "s"))
            self.problems_button.setVisible(n > 0)

    def _tab_changed(self, _index: int) -> None:
        has_page = self.page() is not None
        for a in (self.reload_action, self.columns_action, self.problems_action, self.close_tab_action):
            a.setEnabled(has_page)
        page = self.page()
        if page is not None:
            self.setWindowTitle(f"{page.title()} — mlscope")
            self._problems_changed(page, len(getattr(page.store, "problems", []) or []))

    def _set_watch(self, on: bool) -> None:
        self.settings.set("watch", on)
        for p in self.pages():
            p.set_watch(on)
        self.status_label.setText("Watching for changes to running runs." if on else "Stopped watching.")

    def about(self) -> None:
        QMessageBox.about(self, "About mlscope",
                          f"<h3>mlscope {__version__}</h3><p>A fast, read-only desktop browser for "
                          "MLflow tracking stores: mlruns folders, mlflow.db files and tracking "
                          "servers.</p><p>Apache License 2.0</p>")

    # -- drag and drop ------------------------------------------------------------------------
    @staticmethod
    def _dropped_paths(mime) -> list[str]:
        if not mime.hasUrls():
            return []
        out = []
        for url in mime.urls():
            if url.isLocalFile():
                out.append(url.toLocalFile())
            elif url.scheme() in ("http", "https"):
                out.append(url.toString())
        return out

    def dragEnterEvent(self, event) -> None:
        if self._dropped_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        paths = self._dropped_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        from mlscope.core.artifacts import drop_route

        for p in paths:  # one route: stores open as pages, files to look at in viewers
            self.open_artifact(p) if drop_route(p) == "artifact" else self.open_target(p)

    def _save_session(self) -> None:
        """The open stores, for the next start; saved as tabs open and close, so that a
        crash or a kill keeps them too. No password: a URL's is dropped."""
        self.settings.set("session", {"targets": [without_password(p.target) for p in self.pages()],
                                      "current": max(self.tabs.currentIndex(), 0)})

    def restore_session(self) -> list[str]:
        """Reopen the stores that were open when mlscope last closed, as a desktop app does
        when started with nothing to open. A folder or file that is gone is left out."""
        saved = self.settings.get("session") or {}
        targets = [t for t in saved.get("targets", []) if isinstance(t, str)]
        opened = [t for t in targets if "://" in t or Path(t).exists()]
        for t in opened:
            self.open_target(t)
        current = saved.get("current", 0)
        if opened and isinstance(current, int) and len(opened) == len(targets):
            self.tabs.setCurrentIndex(min(max(current, 0), len(opened) - 1))
        if len(opened) < len(targets):
            gone = ", ".join(redact(t) for t in targets if t not in opened)
            self.status_label.setText(f"Not reopened (no longer there): {gone}")
        return opened

    def open_artifact(self, path: str):
        """Files or a folder to look at, in a viewer window of their own (no store needed)."""
        from .controllers.artifacts import open_window

        win = open_window([path], self, self.settings)
        self.artifact_windows = [*getattr(self, "artifact_windows", []), win]
        win.closed.connect(lambda w=win: self.artifact_windows.remove(w))
        return win

    # -- lifecycle ----------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.firstPainted.emit)
            QTimer.singleShot(0, self._warm_up_store)

    def _warm_up_store(self) -> None:
        """Import the store layer while the user chooses a store. Not when a store is already
        opening (a target on the command line): its worker imports what it needs, and a second
        thread importing beside it would only compete with it for the interpreter."""
        if not self.pages():
            self.warm_up.start()

    def closeEvent(self, event) -> None:
        self.warm_up.cancel()
        self.settings.set("geometry", bytes(self.saveGeometry().toBase64()).decode())
        self._save_session()
        for p in self.pages():
            p.shutdown()
        tasks = getattr(self, "_demo_tasks", None)
        if tasks is not None:
            tasks.shutdown(wait_ms=0)
        super().closeEvent(event)
