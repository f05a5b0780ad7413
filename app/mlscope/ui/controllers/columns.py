"""Which columns the runs table shows, remembered per store and experiment selection."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..models import columns as C


class ColumnsController(QObject):
    columnsChanged = Signal(list)  # visible keys in order

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.store_uri = ""
        self.experiment_ids: list[str] = []
        self.view = "active"
        self.available: list[str] = []

    def _key(self) -> str:
        return f"{self.store_uri}|{','.join(sorted(self.experiment_ids))}"

    def columns_for(self, frame) -> list[str]:
        """The saved layout applied to this frame's columns (new columns find a place)."""
        self.available = list(C.ATTRIBUTES) + C.data_columns(frame.columns)
        return C.apply_layout(self.available, self.settings.column_layout(self._key()),
                              multi_experiment=len(self.experiment_ids) > 1, view=self.view)

    def edited(self, visible: list[str]) -> None:
        self.settings.set_column_layout(self._key(), C.make_layout(visible, self.available))
        self.columnsChanged.emit(list(visible))

    def reset(self, frame) -> None:
        self.settings.set_column_layout(self._key(), None)
        if frame is not None:
            self.columnsChanged.emit(self.columns_for(frame))
