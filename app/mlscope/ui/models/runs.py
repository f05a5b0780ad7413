"""The runs table: a flattened tree over ``store.runs(...)``'s frame, as a flat table.

Everything per column is computed once, vectorised, on the frame (numpy arrays for raw
values and sort keys); ``data()`` only indexes into them. Sorting is an ``argsort`` of one
key array with missing values last in both directions (not QSortFilterProxyModel comparing
row by row). Child runs (tag ``mlflow.parentRunId``) hang under their parent when it is in
the frame; otherwise they stand at the top level.

Why a table and not a QAbstractItemModel tree: QTreeView lays out every top-level row on
each reset or sort, calling index(), flags() and hasChildren() per row: about 4 s of Python
calls at 100,000 runs. Here the view asks only for what it paints; the tree is two arrays
(frame row and depth per displayed row) that expanding or sorting recomputes with numpy.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import PurePath

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from mlscope.core.format import epoch_ms, format_duration, format_number, format_time
from mlscope.core.records import last_row

from .. import theme
from . import columns as C

_ROOT = QModelIndex()  # the invalid index: the root of every model

SORT_ROLE = Qt.UserRole + 1
RUN_ID_ROLE = Qt.UserRole + 2
KEY_ROLE = Qt.UserRole + 3  # on the header: the column's key
DEPTH_ROLE = Qt.UserRole + 4  # 0 for top-level runs
BRANCH_ROLE = Qt.UserRole + 5  # 0: no children, 1: collapsed parent, 2: expanded parent
COUNT_ROLE = Qt.UserRole + 6  # on a parent's name: how many child runs it has
_FLAGS = Qt.ItemIsEnabled | Qt.ItemIsSelectable
PARENT_TAG = "tags.mlflow.parentRunId"
NUMERIC_KINDS = ("float", "time", "duration")
STALE_COLOR = "#a3acb9"


class _Column:
    """One column's raw values, display kind and (lazily) sort key, aligned with frame rows.

    A column may start as the frame's own pandas column (``source``): its object array (one
    Python object a row: 100,000 x 25 columns is ~150 MB) is made only when something needs
    it (the view paints the column, a text sort, an export)."""

    __slots__ = ("key", "kind", "source", "_values", "_sort", "_rank")

    def __init__(self, key: str, kind: str, values):
        self.key, self.kind, self._sort, self._rank = key, kind, None, None
        if isinstance(values, pd.Series):
            self.source, self._values = values, None
        else:
            self.source, self._values = None, values

    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            self._values = self.source.to_numpy(dtype=object)
        return self._values

    def series(self) -> pd.Series:
        """The column as a pandas Series, without making its object array."""
        return self.source if self._values is None else pd.Series(self._values, dtype=object)

    def rank(self) -> np.ndarray:
        """Float keys in the column's sort order, NaN where missing: numbers as numbers (and
        parameters that are all numbers), text by the rank of its casefolded value. Worked
        out on the distinct values (a column of 100,000 runs has few), so a sort is one
        argsort of floats in either direction, ties in the store's order, as ``sort_key``'s
        order."""
        if self._rank is None:
            if self.kind in NUMERIC_KINDS:
                self._rank = self.values.astype("float64")
            else:
                codes, uniques = pd.factorize(self.series(), use_na_sentinel=True)
                uniq = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
                # names and ids fail on their first values: no parse of 100,000 of them
                maybe = len(uniq) and pd.to_numeric(uniq[:64], errors="coerce").notna().all()
                numeric = pd.to_numeric(uniq, errors="coerce") if maybe else None
                if numeric is not None and numeric.notna().all():
                    keys = numeric.to_numpy(dtype="float64")
                else:
                    folded = uniq.map(lambda x: x.casefold() if isinstance(x, str) else x)
                    keys = pd.factorize(folded.astype(str), sort=True)[0].astype("float64")
                keys = np.append(keys, np.nan)  # code -1 (missing) picks the NaN
                self._rank = keys[codes]
        return self._rank

    def sort_key(self) -> tuple[str, np.ndarray]:
        """("num", float array) or ("text", object array); parameters that are all numbers
        sort as numbers (alpha 0.01 < 0.1 < 1), like a user expects."""
        if self._sort is None:
            if self.kind in NUMERIC_KINDS:
                self._sort = ("num", self.values.astype("float64"))
            else:
                series = pd.Series(self.values, dtype=object)
                present = series.notna()
                numeric = pd.to_numeric(series, errors="coerce")
                if present.any() and numeric[present].notna().all():
                    self._sort = ("num", numeric.to_numpy(dtype="float64", na_value=np.nan))
                else:
                    text = series.where(present, None)
                    self._sort = ("text", text.map(
                        lambda x: x.casefold() if isinstance(x, str) else x).to_numpy(dtype=object))
        return self._sort


class _RowIndex:
    """Run id -> frame row through a pandas Index (a hash table in C), not a dict of one
    Python entry a run. A repeated id answers its last row, as the dict did."""

    def __init__(self, run_ids: np.ndarray):
        self._index = pd.Index(run_ids, dtype=object)

    def get(self, run_id, default: int = -1) -> int:
        row = last_row(self._index, run_id)
        return default if row is None else row

    def __contains__(self, run_id) -> bool:
        return self.get(run_id) >= 0

    def __getitem__(self, run_id) -> int:
        row = self.get(run_id)
        if row < 0:
            raise KeyError(run_id)
        return row

    def __len__(self) -> int:
        return len(self._index)

    def get_indexer(self, values) -> np.ndarray:
        """Rows of many ids at once (-1 where absent)."""
        values = np.asarray(values, dtype=object)
        if self._index.is_unique:
            return self._index.get_indexer(values).astype("int64")
        return np.array([self.get(v) if isinstance(v, str) else -1 for v in values],
                        dtype="int64")


class RunsModel(QAbstractTableModel):
    """Runs as rows (children under expanded parents, with a depth), chosen columns as columns."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.frame = pd.DataFrame()
        self.experiment_names: dict[str, str] = {}
        self.colors = None  # the page's ColorBook: charted runs get their swatch
        self._cols: dict[str, _Column] = {}
        self._visible: list[str] = []
        self._available: list[str] = []
        self._order = np.zeros(0, dtype="int64")  # frame rows, sorted
        self._mask: np.ndarray | None = None  # quick-search result
        self._haystack: np.ndarray | None = None
        self._quick = ""
        self._tree = True
        self._sort_key: str | None = None
        self._sort_order = Qt.AscendingOrder
        self._run_ids = np.zeros(0, dtype=object)
        self._row_of = _RowIndex(np.zeros(0, dtype=object))
        # tree structure
        self._parent = np.zeros(0, dtype="int64")  # frame row of parent, -1 for top level
        self._top = np.zeros(0, dtype="int64")
        self._children: dict[int, np.ndarray] = {}
        self._expanded_ids: set[str] = set()  # by run id: survives reloads and sorts
        self._rows = np.zeros(0, dtype="int64")  # displayed row -> frame row
        self._depth = np.zeros(0, dtype="int64")  # displayed row -> depth
        self._display_row = np.zeros(0, dtype="int64")  # frame row -> displayed row or -1
        self._raw_parent = np.zeros(0, dtype="int64")
        self._bold = QFont()
        self._bold.setBold(True)
        self._now_ms = time.time() * 1000
        self._stale = False  # rows of the last valid filter while the new one does not parse

    # -- feeding ---------------------------------------------------------------------------
    def set_frame(self, frame: pd.DataFrame, experiment_names: dict[str, str] | None = None) -> None:
        self.beginResetModel()
        self.frame = frame.reset_index(drop=True) if frame is not None else pd.DataFrame()
        if experiment_names is not None:
            self.experiment_names = dict(experiment_names)
        self._now_ms = time.time() * 1000
        self._build_columns()
        self._haystack = None
        self._mask = self._quick_mask(self._quick)
        self._sort_rows()
        self._build_tree()
        self.endResetModel()

    def _get(self, name: str) -> np.ndarray | None:
        return self.frame[name].to_numpy(dtype=object) if name in self.frame.columns else None

    def _build_columns(self) -> None:
        """Column arrays, not row objects: frame columns stay as they are until shown
        (``_Column.source``); run ids index through a pandas Index."""
        f = self.frame
        n = len(f)
        none = np.full(n, None, dtype=object)

        def first(*names):  # the frame's column itself (a Series), unconverted
            for name in names:
                if name in f.columns:
                    return f[name]
            return none

        cols: dict[str, _Column] = {}
        self._run_ids = self._get("run_id") if "run_id" in f else none
        self._row_of = _RowIndex(self._run_ids)
        start = epoch_ms(f["start_time"]) if "start_time" in f else np.full(n, np.nan)
        end = epoch_ms(f["end_time"]) if "end_time" in f else np.full(n, np.nan)
        status = first("status")
        running = pd.Series(status, dtype=object).eq("RUNNING").to_numpy(dtype=bool)
        duration = np.where(running & np.isnan(end), self._now_ms - start, end - start)
        run_name = first("run_name", "tags.mlflow.runName")
        if "run_name" in f and "tags.mlflow.runName" in f:  # fill gaps from the tag
            name_col = f["run_name"]
            if name_col.isna().any():
                run_name = np.where(name_col.isna().to_numpy(), self._get("tags.mlflow.runName"),
                                    name_col.to_numpy(dtype=object))
        user = first("user_id", "tags.mlflow.user")
        source = first("tags.mlflow.source.name")
        exp = first("experiment_id")
        names = self.experiment_names
        # one name per distinct experiment, then spread by code (-1, missing: None)
        codes, uniques = pd.factorize(pd.Series(exp, dtype=object), use_na_sentinel=True)
        exp_names = np.array([names.get(str(e), str(e)) for e in uniques] + [None],
                             dtype=object)[codes]
        derived = {
            "status": ("text", status),
            "run_name": ("text", run_name),
            "start_time": ("time", start),
            "duration": ("duration", duration),
            "user_id": ("text", user),
            "source": ("source", source),
            "git_commit": ("commit", first("tags.mlflow.source.git.commit")),
            "experiment": ("text", exp_names),
            "run_id": ("id", self._run_ids),
            "end_time": ("time", end),
            "lifecycle_stage": ("text", first("lifecycle_stage")),
            "artifact_uri": ("text", first("artifact_uri")),
        }
        for key, (kind, values) in derived.items():
            cols[key] = _Column(key, kind, values)
        for key in C.data_columns(f.columns):
            if key.startswith("metrics."):
                cols[key] = _Column(key, "float", f[key].to_numpy(dtype="float64", na_value=np.nan))
            else:
                cols[key] = _Column(key, "text", f[key])
        self._cols = cols
        self._available = list(C.ATTRIBUTES) + C.data_columns(f.columns)
        if not self._visible:
            self._visible = C.apply_layout(self._available, None)
        else:
            self._visible = [k for k in self._visible if k in cols]
        parent_rows = np.full(n, -1, dtype="int64")
        if PARENT_TAG in f:
            parents = f[PARENT_TAG]
            has = parents.notna().to_numpy()
            if has.any():
                parent_rows[has] = self._row_of.get_indexer(parents[has].to_numpy(dtype=object))
        self._raw_parent = self._break_cycles(parent_rows)

    @staticmethod
    def _break_cycles(parent: np.ndarray) -> np.ndarray:
        """A run that names itself (or a loop of runs) as parent stands at the top level."""
        n = len(parent)
        if n == 0:
            return parent
        parent = parent.copy()
        parent[parent == np.arange(n)] = -1
        anc = parent.copy()
        for _ in range(64):
            live = anc >= 0
            if not live.any():
                return parent
            anc[live] = parent[anc[live]]
        parent[anc >= 0] = -1  # still climbing after 64 levels: a cycle
        return parent

    # -- columns ---------------------------------------------------------------------------
    def available_columns(self) -> list[str]:
        return list(self._available)

    def visible_columns(self) -> list[str]:
        return list(self._visible)

    def set_columns(self, keys: list[str]) -> None:
        keys = [k for k in keys if k in self._cols] or ["run_name"]
        if keys == self._visible:
            return
        self.beginResetModel()
        self._visible = keys
        self.endResetModel()

    def column_key(self, column: int) -> str | None:
        return self._visible[column] if 0 <= column < len(self._visible) else None

    # -- tree / flat, quick search, sort -----------------------------------------------------
    def set_tree(self, tree: bool) -> None:
        if tree == self._tree:
            return
        self.beginResetModel()
        self._tree = tree
        self._build_tree()
        self.endResetModel()

    def is_tree(self) -> bool:
        return self._tree

    def set_quick_filter(self, text: str) -> None:
        text = (text or "").strip()
        if text == self._quick:
            return
        self.beginResetModel()
        self._quick = text
        self._mask = self._quick_mask(text)
        self._build_tree()
        self.endResetModel()

    def _quick_mask(self, text: str) -> np.ndarray | None:
        """Every word must appear in the run's name, id, params or tags (case-insensitive)."""
        if not text or self.frame.empty:
            return None
        if self._haystack is None:
            self._haystack = self._build_haystack()
        import pyarrow.compute as pc

        mask = np.ones(len(self.frame), dtype=bool)
        for word in text.casefold().split():
            found = pc.match_substring(self._haystack, word)
            mask &= found.to_numpy(zero_copy_only=False).astype(bool)
        return mask

    def _build_haystack(self):
        """Each run's searchable text, casefolded, as one Arrow string array: joined in Arrow's
        C++ (a Python string per cell and per join took 1.4 s at 100,000 runs)."""
        import pyarrow as pa  # here, not at import: the window paints first
        import pyarrow.compute as pc

        def text(key: str) -> pa.Array:
            col = self._cols[key].series()
            try:
                arr = pa.array(col, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all strings: as str() shows them
                arr = pa.array(col.map(lambda v: None if v is None or v != v else str(v)))
            return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())

        parts = [pc.fill_null(text(k), "")
                 for k in ("run_id", "run_name", "user_id", "source", "status")]
        for key in self._available:
            if key.startswith(("params.", "tags.")) and not key.startswith("tags.mlflow."):
                arr = text(key)
                joined = pc.binary_join_element_wise(key.split(".", 1)[1] + "=", arr, "")
                parts.append(pc.if_else(pc.is_valid(arr), joined, ""))
        hay = pc.binary_join_element_wise(*parts, "\x1f")
        if pc.all(pc.string_is_ascii(hay)).as_py() is not False:  # casefold is lower here
            return pc.ascii_lower(hay)
        folded = pd.Series(hay.to_numpy(zero_copy_only=False), dtype=object).str.casefold()
        return pa.array(folded, type=pa.string())

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        key = self.column_key(column)
        if key is None:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        frame_rows = [int(self._rows[i.row()]) if 0 <= i.row() < len(self._rows) else -1 for i in old]
        self._sort_key, self._sort_order = key, order
        self._sort_rows()
        self._build_tree()
        new = [self._index_for_row(r, i.column()) for r, i in zip(frame_rows, old, strict=False)]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def sort_state(self) -> tuple[str | None, Qt.SortOrder]:
        return self._sort_key, self._sort_order

    def set_sort_state(self, key: str | None, order) -> None:
        """Remember a sort to apply on the next ``set_frame`` (and now, if there is data)."""
        self._sort_key, self._sort_order = key, order
        if key in self._visible and len(self.frame):
            self.sort(self._visible.index(key), order)

    def _sort_rows(self) -> None:
        n = len(self.frame)
        col = self._cols.get(self._sort_key) if self._sort_key else None
        if col is None or n == 0:
            self._order = np.arange(n, dtype="int64")  # the store's order: newest first
            return
        asc = self._sort_order == Qt.AscendingOrder
        values = col.rank()
        # argsort puts NaN last; negating keeps it last when descending.
        self._order = np.argsort(values if asc else -values, kind="stable").astype("int64")

    def _build_tree(self) -> None:
        n = len(self.frame)
        order = self._order
        if self._mask is not None:
            order = order[self._mask[order]]
        parent = self._raw_parent if self._tree else np.full(n, -1, dtype="int64")
        if self._mask is not None and self._tree:
            parent = np.where((parent >= 0) & self._mask[np.maximum(parent, 0)], parent, -1)
        self._parent = parent
        par_in_order = parent[order]
        top = order[par_in_order < 0]
        children: dict[int, np.ndarray] = {}
        kids = order[par_in_order >= 0]
        if len(kids):
            grouping = np.argsort(parent[kids], kind="stable")
            kids = kids[grouping]
            keys = parent[kids]
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            for a, b in zip(starts, np.r_[starts[1:], len(kids)], strict=False):
                children[int(keys[a])] = kids[a:b]
        self._top, self._children = top, children
        self._flatten()

    def _flatten(self) -> None:
        """Displayed rows: the top level in order, each expanded parent followed by its
        (visible) descendants. Without expanded parents this is just ``top``."""
        n = len(self.frame)
        expanded = [self._row_of[r] for r in self._expanded_ids if r in self._row_of]
        expanded = {r for r in expanded if r in self._children}
        if not expanded:
            rows, depth = self._top, np.zeros(len(self._top), dtype="int64")
        else:
            out_rows: list[np.ndarray] = []
            out_depth: list[np.ndarray] = []

            def emit(block: np.ndarray, level: int) -> None:
                start = 0
                hits = np.flatnonzero(np.isin(block, list(expanded)))
                for h in hits:
                    out_rows.append(block[start:h + 1])
                    out_depth.append(np.full(h + 1 - start, level, dtype="int64"))
                    emit(self._children[int(block[h])], level + 1)
                    start = h + 1
                out_rows.append(block[start:])
                out_depth.append(np.full(len(block) - start, level, dtype="int64"))

            emit(self._top, 0)
            rows = np.concatenate(out_rows).astype("int64")
            depth = np.concatenate(out_depth)
        self._rows, self._depth = rows, depth
        disp = np.full(n, -1, dtype="int64")
        disp[rows] = np.arange(len(rows))
        self._display_row = disp

    # -- expanding -----------------------------------------------------------------------------
    def is_expanded(self, run_id: str) -> bool:
        return run_id in self._expanded_ids

    def set_expanded(self, run_id: str, on: bool) -> None:
        """Open or close one parent: rows are inserted or removed below it, so selection and
        scroll position stay where they are."""
        row = self._row_of.get(run_id, -1)
        if (run_id in self._expanded_ids) == on:
            return
        if row < 0 or row not in self._children:  # nothing to show now; remembered for later
            (self._expanded_ids.add if on else self._expanded_ids.discard)(run_id)
            return
        shown = int(self._display_row[row])
        old_count = len(self._rows)
        if shown < 0:  # not visible itself: just remember
            (self._expanded_ids.add if on else self._expanded_ids.discard)(run_id)
            self._flatten()
            return
        if on:
            self._expanded_ids.add(run_id)
            new_rows, new_depth, new_disp = self._peek_flatten()
            k = len(new_rows) - old_count
            if k > 0:
                self.beginInsertRows(QModelIndex(), shown + 1, shown + k)
            self._rows, self._depth, self._display_row = new_rows, new_depth, new_disp
            if k > 0:
                self.endInsertRows()
        else:
            self._expanded_ids.discard(run_id)
            new_rows, new_depth, new_disp = self._peek_flatten()
            k = old_count - len(new_rows)
            if k > 0:
                self.beginRemoveRows(QModelIndex(), shown + 1, shown + k)
            self._rows, self._depth, self._display_row = new_rows, new_depth, new_disp
            if k > 0:
                self.endRemoveRows()
        i = self.index(shown, 0)
        self.dataChanged.emit(i, self.index(shown, self.columnCount() - 1))

    def _peek_flatten(self):
        rows, depth, disp = self._rows, self._depth, self._display_row
        self._flatten()
        out = self._rows, self._depth, self._display_row
        self._rows, self._depth, self._display_row = rows, depth, disp
        return out

    def toggle(self, run_id: str) -> None:
        self.set_expanded(run_id, not self.is_expanded(run_id))

    def set_all_expanded(self, on: bool) -> None:
        self.beginResetModel()
        if on:
            self._expanded_ids |= {self._run_ids[r] for r in self._children}
        else:
            self._expanded_ids.clear()
        self._flatten()
        self.endResetModel()

    def reveal(self, run_id: str) -> None:
        """Expand every ancestor of a run so that it is shown."""
        row = self._row_of.get(run_id, -1)
        chain = []
        p = int(self._parent[row]) if row >= 0 else -1
        while p >= 0 and len(chain) < 64:
            chain.append(self._run_ids[p])
            p = int(self._parent[p])
        for rid in reversed(chain):
            self.set_expanded(rid, True)

    def depth_of(self, run_id: str) -> int:
        row = self._row_of.get(run_id, -1)
        d = int(self._display_row[row]) if row >= 0 else -1
        return int(self._depth[d]) if d >= 0 else -1

    # -- stale rows ---------------------------------------------------------------------------
    def set_stale(self, stale: bool) -> None:
        """Dim every row: they answer the last valid filter, not the text in the box."""
        if stale == self._stale:
            return
        self._stale = stale
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1),
                                  [Qt.ForegroundRole, Qt.DecorationRole])

    def is_stale(self) -> bool:
        return self._stale

    # -- lookups ---------------------------------------------------------------------------
    def total_runs(self) -> int:
        return len(self.frame)

    def shown_runs(self) -> int:
        return int(self._mask.sum()) if self._mask is not None else len(self.frame)

    def run_id(self, index: QModelIndex) -> str | None:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        return self._run_ids[self._rows[index.row()]]

    def frame_row(self, index: QModelIndex) -> int:
        return int(self._rows[index.row()]) if index.isValid() else -1

    def _index_for_row(self, row: int, column: int = 0) -> QModelIndex:
        if row < 0 or row >= len(self._display_row):
            return QModelIndex()
        d = int(self._display_row[row])
        return self.createIndex(d, column) if d >= 0 else QModelIndex()

    def contains(self, run_id: str) -> bool:
        """In the table (perhaps under a closed parent), not filtered out by the search."""
        row = self._row_of.get(run_id, -1)
        return row >= 0 and (self._mask is None or bool(self._mask[row]))

    def index_of(self, run_id: str, column: int = 0) -> QModelIndex:
        """The displayed index of a run (invalid if filtered out or under a closed parent)."""
        return self._index_for_row(self._row_of.get(run_id, -1), column)

    def children_of(self, run_id: str) -> list[str]:
        row = self._row_of.get(run_id, -1)
        return [self._run_ids[r] for r in self._raw_parent_children(row)]

    def _raw_parent_children(self, row: int) -> np.ndarray:
        if row < 0:
            return np.zeros(0, dtype="int64")
        return np.flatnonzero(self._raw_parent == row)

    def has_children_rows(self) -> bool:
        return bool(self._children)

    def parents_with_children(self) -> list[str]:
        return [self._run_ids[r] for r in self._children]

    def value(self, run_id: str, key: str):
        row = self._row_of.get(run_id, -1)
        col = self._cols.get(key)
        return None if row < 0 or col is None else col.values[row]

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = _ROOT) -> int:
        return len(self._visible)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):
        if orientation != Qt.Horizontal or not 0 <= section < len(self._visible):
            return None
        key = self._visible[section]
        if role == Qt.DisplayRole:
            return C.title(key)
        if role == Qt.ToolTipRole:
            return key if key.startswith(("metrics.", "params.", "tags.")) else None
        if role == KEY_ROLE:
            return key
        return None

    def flags(self, index: QModelIndex):
        return _FLAGS

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = int(self._rows[index.row()])
        key = self._visible[index.column()]
        col = self._cols[key]
        v = col.values[row]
        kind = col.kind
        if role == Qt.DisplayRole:
            return self._display(kind, key, v, row)
        if role == SORT_ROLE:
            k, arr = col.sort_key()
            x = arr[row]
            return None if (x is None or (k == "num" and x != x)) else x
        if role == RUN_ID_ROLE:
            return self._run_ids[row]
        if role == DEPTH_ROLE:
            return int(self._depth[index.row()])
        if role == COUNT_ROLE:
            return len(self._children[row]) if key == "run_name" and row in self._children else 0
        if role == BRANCH_ROLE:
            if row not in self._children:
                return 0
            return 2 if self._run_ids[row] in self._expanded_ids else 1
        if role == Qt.ToolTipRole:
            return self._tooltip(kind, key, v, row)
        if role == Qt.DecorationRole and key == "status":
            return theme.status_icon(v)
        if role == Qt.DecorationRole and key == "run_name":
            color = self.colors.peek(self._run_ids[row]) if self.colors else None  # as in the charts
            return theme.swatch(color) if color else None
        if role == Qt.ForegroundRole:
            if self._stale:
                return QColor(STALE_COLOR)
            if key == "status":
                return QColor(theme.STATUS_COLORS.get(v, "#475569"))
            if kind in ("commit", "id") or (v is None or (kind != "text" and v != v)):
                return QColor("#64748b")
            if key in ("lifecycle_stage",) and v == "deleted":
                return QColor("#b91c1c")
        if role == Qt.FontRole:
            if kind in ("commit", "id"):
                return theme.mono_font()
            if key == "run_name" and row in self._children:
                return self._bold
        if role == Qt.TextAlignmentRole and kind in ("float", "duration"):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def _display(self, kind: str, key: str, v, row: int) -> str:
        if kind == "float":
            return "" if v != v else format_number(v)
        if kind == "time":
            return format_time(v)
        if kind == "duration":
            return format_duration(v / 1000)
        if v is None or (isinstance(v, float) and v != v):
            return "" if key != "run_name" else self._run_ids[row][:8]
        if kind == "commit":
            return str(v)[:7]
        if kind == "source":
            return PurePath(str(v)).name or str(v)
        if key == "status":
            return str(v).capitalize()
        if key == "run_name" and row in self._children:
            return f"{v}  ({len(self._children[row])})"
        return str(v)

    def _tooltip(self, kind: str, key: str, v, row: int) -> str | None:
        if kind == "time":
            return format_time(v, seconds=True) or None
        if kind == "float":
            return None if v != v else repr(float(v))
        if key == "duration" and self._cols["status"].values[row] == "RUNNING":
            return "Still running"
        if v is None or kind in ("duration",):
            return None
        text = str(v)
        return text if (len(text) > 30 or kind in ("source", "commit", "id")) else None

    # -- export ------------------------------------------------------------------------------
    def to_csv(self, run_ids: list[str] | None = None, keys: list[str] | None = None) -> str:
        """The chosen runs (all shown, by default) and columns as CSV, with raw values."""
        keys = keys or ["run_id"] + [k for k in self._visible if k != "run_id"]
        if run_ids is None:
            rows = self._order if self._mask is None else self._order[self._mask[self._order]]
        else:
            rows = [self._row_of[r] for r in run_ids if r in self._row_of]
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(keys)
        for r in rows:
            rec = []
            for k in keys:
                col = self._cols[k]
                v = col.values[r]
                if col.kind in ("time",):
                    rec.append(format_time(v, seconds=True))
                elif col.kind in ("float", "duration"):
                    rec.append("" if v != v else repr(float(v)) if col.kind == "float" else int(v))
                else:
                    rec.append("" if v is None else v)
            w.writerow(rec)
        return out.getvalue()
