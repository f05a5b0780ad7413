"""The short wait inside a drag of remote artifacts: progress and Cancel while the files come
into the cache, the GUI live (this dialog's event loop runs; the download is on a worker).

Why download before the drag instead of handing Qt a lazy ``QMimeData.retrieveData``: the
data would then be produced on the GUI thread at a moment the platform picks. macOS asks
for every format as the drag begins, Windows' Explorer reads the file list on drag-enter
(over any window it passes), and X11/Wayland ask at the drop with a timeout: each would
block the window for the length of a download or fail the drop. A real file list, ready
before ``QDrag.exec``, is what every file manager accepts.
"""

from __future__ import annotations

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QProgressDialog

from mlscope.core.artifact_kinds import human_size

SHOW_AFTER_MS = 250  # a small file arrives before the dialog would flash up


class DragDownloadDialog(QProgressDialog):
    """Waits (in a nested event loop) until ``finish()``; ``wait()`` says whether the files
    arrived. Cancel emits ``canceled`` for the owner to stop the download."""

    def __init__(self, what: str, parent=None):
        super().__init__(f"Downloading {what} to drag it…", "Cancel", 0, 0, parent)
        self.setObjectName("dragDownloadDialog")
        self.setWindowTitle("Drag out")
        self.setWindowModality(Qt.WindowModal)
        self.setMinimumDuration(2**30)  # shown by our timer, not by Qt's time estimate
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.what = what
        self.ok: bool | None = None  # None: still waiting
        self.message = ""
        self._loop = QEventLoop(self)
        self.canceled.connect(lambda: self.finish(False, "Cancelled."))
        self._timer = QTimer(self, singleShot=True, interval=SHOW_AFTER_MS)
        self._timer.timeout.connect(self._appear)

    def _appear(self) -> None:
        if self.ok is None:
            self.show()

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.setMaximum(total)
            self.setValue(min(done, total))
            self.setLabelText(f"Downloading {self.what} to drag it… "
                              f"{human_size(done)} / {human_size(total)}")

    def finish(self, ok: bool, message: str = "") -> None:
        if self.ok is not None:
            return
        self.ok = ok
        self.message = message
        self._timer.stop()
        self._loop.quit()

    def wait(self) -> bool:
        """Until finished (at once if it already is); True when the files are local."""
        if self.ok is None:
            self._timer.start()
            self._loop.exec()
        self.hide()
        return bool(self.ok)
