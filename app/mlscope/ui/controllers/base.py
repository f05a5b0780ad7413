"""What every controller shares: the store it reads, the task runner, one task per kind."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from mlscope.core.errors import user_message

from ..tasks import Tasks


class Controller(QObject):
    """Holds the store and the task runner; runs core callables as tasks, one per kind.

    A new task of a kind cancels the older one, so a slow answer never overwrites a newer
    one. Failures reach the user as words through ``statusMessage``.
    """

    statusMessage = Signal(str)
    selectRunsRequested = Signal(list)  # make the runs table select these runs
    runActivated = Signal(str)  # jump to this run (a link)

    title = ""  # a feature's tab text
    placement = "workspace"  # or "left": beside Experiments
    view = None  # a feature's main widget

    def __init__(self, tasks: Tasks, store=None, parent: QObject | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.store = store
        self._handles: dict[str, object] = {}

    def set_store(self, store) -> None:
        """A new store (opened or reopened): nothing read from the old one is kept."""
        self.store = store

    # What the page tells every feature; a feature overrides what it needs.
    def set_frame(self, frame) -> None:
        """The runs table's frame (MLflow's search_runs frame plus run_name, user_id,
        lifecycle_stage)."""

    def set_runs(self, run_ids: list[str]) -> None:
        """The runs selected in the table, the current one first."""

    def set_colors(self, colors) -> None:
        """The page's RunColors."""

    def activate(self) -> None:
        """The feature's view was shown: build what was put off until needed."""

    def start(self, kind: str, fn, on_done=None, on_error=None, on_progress=None,
              on_cancel=None, on_partial=None):
        old = self._handles.get(kind)
        if old is not None:
            old.cancel()
        handle = self.tasks.start(kind, fn, on_done, on_error or self.failed, on_progress,
                                  on_cancel, on_partial)
        self._handles[kind] = handle
        return handle

    def running(self, *kinds: str) -> bool:
        return any(h is not None and h.running for k, h in self._handles.items()
                   if not kinds or k in kinds)

    def cancel(self, *kinds: str) -> None:
        for k, h in list(self._handles.items()):
            if h is not None and (not kinds or k in kinds):
                h.cancel()

    def failed(self, exc) -> None:
        self.statusMessage.emit(user_message(exc))
