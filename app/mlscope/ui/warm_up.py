"""The store layer's imports, paid while the window paints and the user chooses a store.

Opening the first store of a session imports ADBC, pyarrow's compute code, the readers and,
for a database server, SQLAlchemy (about 0.4 s on two cores). Nothing on the way to the
first paint needs them, so they are imported on a daemon thread once the window is on
screen; the first open then finds them ready. Never MLflow (seconds of imports the first paint must not wait for; the search
parser has its own warm-up after the first open). A window closed before the thread is done
stops it between two modules; a daemon thread never holds the process open.
"""

from __future__ import annotations

import importlib
import threading

STORE_MODULES = (
    "mlscope.core.opening",
    "mlscope.core.sqlstore",  # pandas' Arrow arrays
    "sqlalchemy",  # database servers' URLs (SQLite files are read without it)
    "adbc_driver_sqlite.dbapi",  # the SQLite reader's driver
    "mlscope.core.filestore",  # mlruns folders: the readers and their YAML
)


class WarmUp:
    """Imports ``modules`` once, in order, on a daemon thread; ``cancel()`` stops it."""

    def __init__(self, modules: tuple[str, ...] = STORE_MODULES):
        self.modules = modules
        self.imported: list[str] = []
        self.done = threading.Event()
        self._cancelled = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is None and not self._cancelled.is_set():
            self._thread = threading.Thread(target=self._run, name="mlscope-warm-up-store",
                                            daemon=True)
            self._thread.start()

    def cancel(self) -> None:
        self._cancelled.set()

    def _run(self) -> None:
        try:
            for name in self.modules:
                if self._cancelled.is_set():
                    return
                try:
                    importlib.import_module(name)
                except Exception:  # noqa: BLE001 - the open that needs it says what is wrong
                    continue
                self.imported.append(name)
        finally:
            self.done.set()
