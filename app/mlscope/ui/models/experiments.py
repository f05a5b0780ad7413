"""Experiments as a small table: name, run count, last activity. Few rows, so a proxy sorts it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from mlscope.core.format import epoch_ms, format_relative, format_time

from .runs import SORT_ROLE

_ROOT = QModelIndex()  # the invalid index: the root of every model

EXP_ID_ROLE = Qt.UserRole + 10
COLUMNS = ("Name", "Runs", "Updated")


class ExperimentsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.frame = pd.DataFrame(columns=["experiment_id", "name", "lifecycle_stage"])
        self._ids: list[str] = []
        self._names: list[str] = []
        self._stage: list[str] = []
        self._updated = np.zeros(0)
        self.counts: dict[str, int] = {}
        self.counting = True  # counts are on their way ("…"); False: known only once read
        self.last_run: dict[str, float] = {}

    def set_frame(self, frame: pd.DataFrame) -> None:
        self.beginResetModel()
        self.frame = frame.reset_index(drop=True)
        self._ids = [str(x) for x in self.frame.get("experiment_id", [])]
        self._names = [str(x) if x is not None else "" for x in self.frame.get("name", [])]
        self._stage = list(self.frame.get("lifecycle_stage", ["active"] * len(self._ids)))
        upd = self.frame["last_update_time"] if "last_update_time" in self.frame else None
        cre = self.frame["creation_time"] if "creation_time" in self.frame else None
        self._updated = self._as_ms(upd, len(self._ids))
        created = self._as_ms(cre, len(self._ids))
        self._updated = np.where(np.isnan(self._updated), created, self._updated)
        self.endResetModel()

    @staticmethod
    def _as_ms(col, n: int) -> np.ndarray:
        if col is None:
            return np.full(n, np.nan)
        if pd.api.types.is_numeric_dtype(col):
            return col.to_numpy(dtype="float64", na_value=np.nan)
        return epoch_ms(col)

    def set_counts(self, counts: dict[str, int], last_run: dict[str, float] | None = None) -> None:
        """Run counts (and latest run start) arrive later than the experiments: fill them in."""
        self.counts = {str(k): int(v) for k, v in counts.items()}
        self.last_run = {str(k): float(v) for k, v in (last_run or {}).items()}
        if self._ids:
            self.dataChanged.emit(self.index(0, 1), self.index(len(self._ids) - 1, 2))

    def names(self) -> dict[str, str]:
        return dict(zip(self._ids, self._names, strict=False))

    def experiment_ids(self) -> list[str]:
        return list(self._ids)

    def row_of(self, exp_id: str) -> int:
        try:
            return self._ids.index(str(exp_id))
        except ValueError:
            return -1

    def activity(self, row: int) -> float:
        """The latest run's start when known (what "last activity" means to a user), else the
        experiment's own last update."""
        a = self.last_run.get(self._ids[row], np.nan)
        return float(a) if a == a else float(self._updated[row])

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Horizontal and role == Qt.ToolTipRole and section == 2:
            return "Last activity: the latest run start or update of the experiment"
        if orientation == Qt.Horizontal and role == Qt.TextAlignmentRole and section == 1:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        eid = self._ids[r]
        if role == Qt.DisplayRole:
            if c == 0:
                return self._names[r]
            if c == 1:
                n = self.counts.get(eid)
                return ("…" if self.counting else "") if n is None else f"{n:,}"
            return format_relative(self.activity(r))
        if role == SORT_ROLE:
            if c == 0:
                return self._names[r].casefold()
            if c == 1:
                return self.counts.get(eid, -1)
            a = self.activity(r)
            return -1.0 if a != a else a
        if role == EXP_ID_ROLE:
            return eid
        if role == Qt.ToolTipRole:
            if c == 2:
                return format_time(self.activity(r), seconds=True) or None
            return f"{self._names[r]}\nID {eid} · {self._stage[r]}"
        if role == Qt.ForegroundRole:
            if self._stage[r] == "deleted":
                return QColor("#b91c1c")
            if c > 0:
                return QColor("#64748b")
        if role == Qt.TextAlignmentRole and c == 1:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None
