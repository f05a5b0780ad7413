"""The model registry: registered models (filterable) over the versions of the current one.

A view only: it shows frames it is given and asks for actions by signal
(``actionRequested(kind, model, version)``); the controller opens the dialogs and writes.
Stages and aliases are shown side by side: MLflow serves both and users use either.
A model whose versions are still being read says so instead of showing some of them.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from mlscope.core.registry.schema import Listing

SORT_ROLE = Qt.UserRole + 1
KEY_ROLE = Qt.UserRole + 2
MODEL_COLUMNS = ["Name", "Latest", "Aliases", "Tags", "Description", "Updated"]
VERSION_COLUMNS = ["Version", "Stage", "Aliases", "Status", "Source run", "Created", "User",
                   "Description", "Tags"]
RUN_COLUMN = VERSION_COLUMNS.index("Source run")

# kind -> (menu text, needs a version). The controller knows each kind.
MODEL_ACTIONS = [("model_description", "Edit Description..."), ("model_tag", "Set or Delete Tag..."),
                 ("rename", "Rename Model..."), ("delete_model", "Delete Model...")]
VERSION_ACTIONS = [("stage", "Transition Stage..."), ("alias", "Set or Move Alias..."),
                   ("version_description", "Edit Version Description..."),
                   ("version_tag", "Set or Delete Version Tag..."),
                   ("delete_version", "Delete Version..."), ("open_run", "Go to Source Run")]


def _time(ms) -> str:
    try:
        return datetime.fromtimestamp(float(ms) / 1000).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def _text(value) -> str:
    """A cell's text: "" for None and NaN (pandas fills missing strings with either)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _num(ms) -> float:
    try:
        value = float(ms)
    except (TypeError, ValueError):
        return 0.0
    return value if value == value else 0.0


def _cell(text, sort=None, key=None, tip=None) -> tuple:
    """(display, sort value, key, tooltip) of one cell."""
    text = "" if text is None else str(text)
    return (text, sort if sort is not None else text.lower(), key, tip or None)


_ROOT = QModelIndex()


class _Rows(QAbstractTableModel):
    """Rows of cells made once per read, sorted in Python: no object per cell and no Python
    call per comparison, so 1,000 models list at once."""

    def __init__(self, headers: list[str], link_column: int = -1, parent=None):
        super().__init__(parent)
        self.headers, self.rows, self.link_column = headers, [], link_column
        self.link_brush = None
        self.sort_column, self.sort_order = -1, Qt.AscendingOrder
        self._texts: list[str] | None = None

    def set_rows(self, rows: list[list[tuple]]) -> None:
        self.beginResetModel()
        self.rows = self._sorted(rows)
        self._texts = None
        self.endResetModel()

    def _sorted(self, rows: list) -> list:
        c = self.sort_column
        if c < 0 or not rows:
            return rows
        reverse = self.sort_order == Qt.DescendingOrder
        try:
            return sorted(rows, key=lambda r: r[c][1], reverse=reverse)
        except TypeError:  # mixed types in one column: compare as text
            return sorted(rows, key=lambda r: str(r[c][1]), reverse=reverse)

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self.sort_column, self.sort_order = column, order
        before = {id(r): i for i, r in enumerate(self.rows)}
        self.rows = self._sorted(self.rows)
        new_row = {before[id(r)]: i for i, r in enumerate(self.rows)}
        old = self.persistentIndexList()
        self.changePersistentIndexList(old, [self.index(new_row[i.row()], i.column()) for i in old])
        self._texts = None
        self.layoutChanged.emit()

    def row_text(self, row: int) -> str:
        """Every cell of a row, lower-cased: what the filter box searches."""
        if self._texts is None:
            self._texts = [" ".join(c[0] for c in r).lower() for r in self.rows]
        return self._texts[row]

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        cell = self.rows[index.row()][index.column()]
        if role == Qt.DisplayRole:
            return cell[0]
        if role == SORT_ROLE:
            return cell[1]
        if role == KEY_ROLE:
            return cell[2]
        if role == Qt.ToolTipRole:
            return cell[3]
        if index.column() == self.link_column and cell[2]:
            if role == Qt.FontRole:
                font = QFont()
                font.setUnderline(True)
                return font
            if role == Qt.ForegroundRole:
                return self.link_brush
        return None


def _pairs(d) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted((d or {}).items())) if isinstance(d, dict) else ""


class _Proxy(QSortFilterProxyModel):
    """Filters by a substring of any cell; sorting is the source model's (in Python)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.needle = ""

    def set_needle(self, text: str) -> None:
        self.needle = text.strip().lower()
        self.invalidateFilter()

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 - Qt's name
        return not self.needle or self.needle in self.sourceModel().row_text(row)


def _tree(name: str, columns: list[str], link_column: int = -1
          ) -> tuple[QTreeView, _Rows, QSortFilterProxyModel]:
    view = QTreeView(objectName=name)
    model = _Rows(columns, link_column, parent=view)  # owned by the view: gone with the page
    proxy = _Proxy(view)
    proxy.setSourceModel(model)
    view.setModel(proxy)
    view.setRootIsDecorated(False)
    view.setUniformRowHeights(True)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setSortingEnabled(True)
    view.setContextMenuPolicy(Qt.CustomContextMenu)
    view.header().setSectionResizeMode(QHeaderView.Interactive)
    return view, model, proxy


class RegistryView(QWidget):
    """Models above, the current model's versions below, an undo bar after a write."""

    modelChanged = Signal(str)  # the current model ("" for none)
    actionRequested = Signal(str, str, object)  # kind, model, version (int or None)
    runActivated = Signal(str)  # a version's source run
    undoRequested = Signal()
    upgradeRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._versions = None
        self._listing: Listing | None = None
        self._descriptions: dict[str, str] = {}
        self._sized = False
        self._fills = 0
        self._current = ""
        self._writable = True
        self._reason = ""

        title = QLabel("MODELS", objectName="panelTitle")
        self.count = QLabel(objectName="registryCount")
        self.filter_edit = QLineEdit(objectName="registryFilter")
        self.filter_edit.setPlaceholderText("Filter models (name, alias, tag, description)")
        self.filter_edit.setClearButtonEnabled(True)

        self.read_only = QLabel(objectName="registryReadOnly", wordWrap=True)
        self.upgrade_button = QPushButton("Upgrade Database...", objectName="upgradeButton")
        self.upgrade_button.clicked.connect(self.upgradeRequested)
        ro = QHBoxLayout()
        ro.addWidget(self.read_only, 1)
        ro.addWidget(self.upgrade_button)
        self.read_only_bar = QWidget(objectName="registryReadOnlyBar")
        self.read_only_bar.setLayout(ro)
        self.read_only_bar.hide()

        self.models, self.models_model, self.models_proxy = _tree("registryModels", MODEL_COLUMNS)
        self.models.sortByColumn(0, Qt.AscendingOrder)
        self.versions, self.versions_model, self.versions_proxy = _tree(
            "registryVersions", VERSION_COLUMNS, RUN_COLUMN)
        self.versions_model.link_brush = self.palette().link()
        self.versions.sortByColumn(0, Qt.DescendingOrder)
        self.model_label = QLabel(objectName="registryModelTitle", wordWrap=True)
        self.model_label.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.stage_button = QPushButton("Stage...", objectName="stageButton")
        self.alias_button = QPushButton("Alias...", objectName="aliasButton")
        self.more_button = QToolButton(objectName="moreButton", text="More")
        self.more_button.setPopupMode(QToolButton.InstantPopup)
        self.more_button.setMenu(QMenu(self.more_button))
        self.more_button.menu().aboutToShow.connect(self._fill_more)
        self.stage_button.clicked.connect(lambda: self._request("stage"))
        self.alias_button.clicked.connect(lambda: self._request("alias"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.stage_button)
        buttons.addWidget(self.alias_button)
        buttons.addWidget(self.more_button)
        buttons.addStretch(1)

        self.undo_label = QLabel(objectName="undoLabel", wordWrap=True)
        self.undo_button = QPushButton("Undo", objectName="undoButton")
        self.undo_button.clicked.connect(self.undoRequested)
        dismiss = QToolButton(text="×", objectName="undoDismiss")
        dismiss.clicked.connect(lambda: self.show_done("", False))
        ub = QHBoxLayout()
        ub.addWidget(self.undo_label, 1)
        ub.addWidget(self.undo_button)
        ub.addWidget(dismiss)
        self.undo_bar = QWidget(objectName="undoBar")
        self.undo_bar.setLayout(ub)
        self.undo_bar.hide()

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.count)
        tl.addLayout(head)
        tl.addWidget(self.read_only_bar)
        tl.addWidget(self.filter_edit)
        tl.addWidget(self.models, 1)
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.model_label)
        bl.addLayout(buttons)
        bl.addWidget(self.versions, 1)
        split = QSplitter(Qt.Vertical, objectName="registrySplit")
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split, 1)
        lay.addWidget(self.undo_bar)

        self.filter_edit.textChanged.connect(self.models_proxy.set_needle)
        self.models.selectionModel().currentRowChanged.connect(lambda *_: self._model_changed())
        self.versions.selectionModel().currentRowChanged.connect(lambda *_: self._update_enabled())
        self.versions.doubleClicked.connect(self._version_double_clicked)
        self.models.customContextMenuRequested.connect(self._model_menu)
        self.versions.customContextMenuRequested.connect(self._version_menu)
        self._keys()
        self._update_enabled()

    # -- what the controller gives ---------------------------------------------------------------
    def set_registry(self, models, versions) -> None:
        """Both frames as read (store.registered_models(), store.model_versions())."""
        self.set_listing(Listing(models, versions))

    def set_listing(self, listing: Listing) -> None:
        """The registry as read so far: the models, and the versions of ``listing.loaded``."""
        old, self._listing = self._listing, listing
        self._versions = listing.versions
        if old is not None and not old.complete and old.models is listing.models:
            # a server's versions coming in: the models list stands
            self._count(len(listing.models))
            if self._current and not old.has_versions(self._current) \
                    and listing.has_versions(self._current):
                self._fill_versions()
            return
        keep, keep_version = self._current, self.current_version()
        models = listing.models
        latest = listing.latest_text()
        self._descriptions = {r.name: _text(r.description) for r in models.itertuples(index=False)}
        rows = []
        for r in models.itertuples(index=False):
            aliases = r.aliases if isinstance(r.aliases, dict) else {}
            alias_text = ", ".join(f"@{a} v{v}" for a, v in sorted(aliases.items()))
            desc = _text(r.description)
            tags = _pairs(r.tags)
            rows.append([
                _cell(r.name, key=r.name, tip=desc),
                _cell(latest.get(r.name, "")),
                _cell(alias_text),
                _cell(tags, tip=tags),
                _cell(" ".join(desc.split())[:120], tip=desc),
                _cell(_time(r.last_updated_timestamp), _num(r.last_updated_timestamp)),
            ])
        self.models_model.set_rows(rows)
        self._count(len(rows))
        if not self._sized and rows:  # fit the columns once, to what the first rows show
            self._sized = True
            for c in range(len(MODEL_COLUMNS) - 1):
                self.models.resizeColumnToContents(c)
        if keep and self.select_model(keep, keep_version):
            return
        self._current = ""
        if self.models_proxy.rowCount():
            self.models.setCurrentIndex(self.models_proxy.index(0, 0))
        else:
            self._model_changed()

    def _count(self, n: int) -> None:
        reading = self._listing is not None and not self._listing.complete
        self.count.setText(f"{n} model{'s' if n != 1 else ''}" + (" (reading…)"
                                                                  if reading else ""))

    def set_writable(self, writable: bool, reason: str = "", upgradable: bool = False) -> None:
        self._writable, self._reason = writable, reason
        self.read_only.setText(reason)
        self.read_only_bar.setVisible(not writable)
        self.upgrade_button.setVisible(not writable and upgradable)
        self._update_enabled()

    def show_done(self, sentence: str, undoable: bool) -> None:
        """After a write: what was done, and Undo where MLflow can reverse it."""
        self.undo_label.setText(f"Done: {sentence}" if sentence else "")
        self.undo_button.setVisible(undoable)
        self.undo_bar.setVisible(bool(sentence))

    # -- selection -------------------------------------------------------------------------------
    def current_model(self) -> str:
        return self._current

    def current_version(self) -> int | None:
        idx = self.versions.currentIndex()
        if not idx.isValid():
            return None
        value = self.versions_proxy.index(idx.row(), 0).data(KEY_ROLE)
        return int(value) if value is not None else None

    def model_versions(self, model: str | None = None):
        """The model's versions, None while they are still being read."""
        v, model = self._versions, model or self._current
        if v is None or (self._listing is not None and not self._listing.has_versions(model)):
            return None
        return v[v["name"] == model]

    def select_model(self, name: str, version: int | None = None) -> bool:
        for row in range(self.models_proxy.rowCount()):
            idx = self.models_proxy.index(row, 0)
            if idx.data(KEY_ROLE) == name:
                fills = self._fills
                self.models.setCurrentIndex(idx)  # fills the versions if the row changed
                if self._fills == fills:
                    self._model_changed()
                if version is not None:
                    self.select_version(version)
                return True
        return False

    def select_version(self, version: int) -> bool:
        for row in range(self.versions_proxy.rowCount()):
            idx = self.versions_proxy.index(row, 0)
            if idx.data(KEY_ROLE) == int(version):
                self.versions.setCurrentIndex(idx)
                return True
        return False

    def _model_changed(self) -> None:
        idx = self.models.currentIndex()
        name = self.models_proxy.index(idx.row(), 0).data(KEY_ROLE) if idx.isValid() else ""
        self._current = name or ""
        self._fill_versions()
        self.modelChanged.emit(self._current)

    def _fill_versions(self) -> None:
        self._fills += 1
        keep = self.current_version()
        self.versions_model.set_rows([])
        v = self.model_versions()
        if self._current and v is None:
            self.model_label.setText(f"<b>{_esc(self._current)}</b> · reading its versions…")
            self._update_enabled()
            return
        if not self._current or v is None:
            self.model_label.setText("No registered model selected." if self._versions is not None
                                     and len(self._versions) else "")
            self._update_enabled()
            return
        rows = []
        for r in v.itertuples(index=False):
            aliases = list(r.aliases) if isinstance(r.aliases, (list, tuple)) else []
            run, source = _text(r.run_id), _text(r.source)
            desc, tags = _text(r.description), _pairs(r.tags)
            rows.append([
                _cell(f"v{int(r.version)}", int(r.version), key=int(r.version)),
                _cell(_text(r.current_stage) or "None"),
                _cell(", ".join(f"@{a}" for a in aliases)),
                _cell(_text(r.status)),
                _cell(run[:12] + ("…" if len(run) > 12 else ""), run, key=run,
                      tip=f"Go to run {run} (double-click)\n{source}" if run else source),
                _cell(_time(r.creation_timestamp), _num(r.creation_timestamp)),
                _cell(_text(r.user_id)),
                _cell(" ".join(desc.split())[:120], tip=desc),
                _cell(tags, tip=tags),
            ])
        self.versions_model.set_rows(rows)
        for c in range(len(VERSION_COLUMNS) - 1):
            self.versions.resizeColumnToContents(c)
        desc = self._descriptions.get(self._current, "")
        self.model_label.setText(f"<b>{_esc(self._current)}</b> · {len(v)} version"
                                 f"{'s' if len(v) != 1 else ''}"
                                 + (f"<br>{_esc(desc)}" if desc else ""))
        if keep is None or not self.select_version(keep):
            if self.versions_proxy.rowCount():
                self.versions.setCurrentIndex(self.versions_proxy.index(0, 0))
        self._update_enabled()

    # -- actions ---------------------------------------------------------------------------------
    def expect_model(self, name: str) -> None:
        """Keep ``name`` current through the next set_registry (a renamed model)."""
        self._current = name

    def _request(self, kind: str, version=None) -> None:
        if kind == "register":
            self.actionRequested.emit(kind, self._current, None)
            return
        if not self._current:
            return
        if kind == "open_run":
            run = self._current_run()
            if run:
                self.runActivated.emit(run)
            return
        needs_version = kind in dict(VERSION_ACTIONS) or kind.startswith("delete_alias:")
        if needs_version:
            version = version if version is not None else self.current_version()
            if version is None:
                return
        self.actionRequested.emit(kind, self._current, version if needs_version else None)

    def _current_run(self) -> str:
        idx = self.versions.currentIndex()
        if not idx.isValid():
            return ""
        return self.versions_proxy.index(idx.row(), RUN_COLUMN).data(KEY_ROLE) or ""

    def _version_double_clicked(self, idx) -> None:
        if idx.column() == RUN_COLUMN:
            self._request("open_run")
        elif self._writable:
            self._request("stage")

    def _actions(self, pairs, enabled: bool) -> list[QAction]:
        out = []
        for kind, text in pairs:
            act = QAction(text, self)
            act.setEnabled(enabled or kind == "open_run")
            if kind == "open_run":
                act.setEnabled(bool(self._current_run()))
            if not enabled and kind != "open_run":
                act.setToolTip(self._reason)
            act.triggered.connect(lambda _=False, k=kind: self._request(k))
            out.append(act)
        return out

    def _fill_more(self) -> None:
        menu = self.more_button.menu()
        menu.clear()
        has_version = self.current_version() is not None
        for act in self._actions(VERSION_ACTIONS[2:], self._writable and has_version):
            menu.addAction(act)
        menu.addSeparator()
        for act in self._actions(MODEL_ACTIONS, self._writable and bool(self._current)):
            menu.addAction(act)
        menu.addSeparator()
        menu.addActions(self._actions(self._alias_actions(), self._writable))
        menu.addSeparator()
        menu.addActions(self._actions([("register", "Register Model from Selected Run...")],
                                      self._writable))

    def _alias_actions(self) -> list[tuple[str, str]]:
        """One "Delete Alias" per alias of the current version."""
        idx = self.versions.currentIndex()
        if not idx.isValid():
            return []
        text = self.versions_proxy.index(idx.row(), 2).data() or ""
        names = [a.strip()[1:] for a in text.split(",") if a.strip().startswith("@")]
        return [(f"delete_alias:{a}", f"Delete Alias '{a}'...") for a in names]

    def _model_menu(self, pos) -> None:
        if not self.models.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.addActions(self._actions(MODEL_ACTIONS, self._writable))
        menu.exec(self.models.viewport().mapToGlobal(pos))

    def _version_menu(self, pos) -> None:
        if not self.versions.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.addActions(self._actions(VERSION_ACTIONS + self._alias_actions(), self._writable))
        menu.exec(self.versions.viewport().mapToGlobal(pos))

    def _keys(self) -> None:
        """Keyboard: F2 rename, Delete deletes (after a dialog), Ctrl+Z undoes the last write."""
        for keys, kind, where in ((QKeySequence(Qt.Key_F2), "rename", self.models),
                                  (QKeySequence(QKeySequence.Delete), "delete_model", self.models),
                                  (QKeySequence(QKeySequence.Delete), "delete_version", self.versions),
                                  (QKeySequence("Ctrl+Shift+S"), "stage", self.versions),
                                  (QKeySequence("Ctrl+Shift+A"), "alias", self.versions)):
            act = QAction(where)
            act.setShortcut(keys)
            act.setShortcutContext(Qt.WidgetShortcut)
            act.triggered.connect(lambda _=False, k=kind: self._writable and self._request(k))
            where.addAction(act)
        undo = QAction(self)
        undo.setShortcut(QKeySequence.Undo)
        undo.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        undo.triggered.connect(lambda: self.undo_button.isVisible() and self.undo_bar.isVisible()
                               and self.undoRequested.emit())
        self.addAction(undo)

    def _update_enabled(self) -> None:
        has_version = bool(self._current) and self.current_version() is not None
        for b in (self.stage_button, self.alias_button):
            b.setEnabled(self._writable and has_version)
            b.setToolTip(self._reason if not self._writable else "")
        self.more_button.setEnabled(bool(self._current))


def _esc(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
