"""Run Qt-free callables on a thread pool; their progress, result or error come back as signals.

The function is called as ``fn(progress, cancel)``: ``progress(done, total)`` may be called
from the worker at any rate (it is throttled here), ``cancel()`` returns True once the user
asked to stop. A task started with ``on_partial`` is called ``fn(progress, cancel, partial)``:
``partial(result_so_far)`` shows intermediate results (rows streaming into a table). Workers never see a widget: only this adapter crosses threads, and it does so
with queued signals delivered to a QObject living in the GUI thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from mlscope.core.errors import Cancelled  # raised by a task that noticed cancel(): not a failure


class _Signals(QObject):
    progress = Signal(int, int)
    partial = Signal(object)
    done = Signal(object)
    failed = Signal(object)


class Handle(QObject):
    """One running task, in the GUI thread. ``cancel()`` is immediate for the UI: a result that
    arrives afterwards is dropped, whether or not the function itself noticed."""

    progress = Signal(int, int)
    partial = Signal(object)  # an intermediate result
    finished = Signal(object)  # the result
    failed = Signal(object)  # the exception
    cancelled = Signal()

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._event = threading.Event()
        self.running = True

    def cancel(self) -> None:
        if self.running and not self._event.is_set():
            self._event.set()
            self.running = False
            self.cancelled.emit()

    def is_cancelled(self) -> bool:
        return self._event.is_set()

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self.running:
            self.progress.emit(done, total)

    @Slot(object)
    def _on_partial(self, result) -> None:
        if self.running:
            self.partial.emit(result)

    @Slot(object)
    def _on_done(self, result) -> None:
        if self.running:
            self.running = False
            self.finished.emit(result)

    @Slot(object)
    def _on_failed(self, exc) -> None:
        if self.running:
            self.running = False
            if isinstance(exc, Cancelled):
                self.cancelled.emit()
            else:
                self.failed.emit(exc)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable, handle: Handle, signals: _Signals, streams: bool = False):
        super().__init__()
        self.fn = fn
        self.streams = streams
        self.handle = handle
        self.signals = signals
        self._last = 0.0

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= 0.05 or done >= total:
            self._last = now
            self.signals.progress.emit(int(done), int(total))

    def run(self) -> None:
        try:
            args = (self._progress, self.handle.is_cancelled)
            result = self.fn(*args, self.signals.partial.emit) if self.streams else self.fn(*args)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back as a signal
            self._answer(self.signals.failed, exc)
        else:
            self._answer(self.signals.done, result)

    @staticmethod
    def _answer(signal, value) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the page (and its signals) went away while this ran: no one asks
            pass


class Tasks(QObject):
    """A small pool per store page, so closing a page can wait for its own workers only."""

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._live: set[Handle] = set()

    def start(
        self,
        name: str,
        fn: Callable,
        on_done: Callable | None = None,
        on_error: Callable | None = None,
        on_progress: Callable | None = None,
        on_cancel: Callable | None = None,
        on_partial: Callable | None = None,
    ) -> Handle:
        handle = Handle(name, self)
        signals = _Signals()  # created here: lives in the GUI thread
        signals.progress.connect(handle._on_progress)
        signals.partial.connect(handle._on_partial)
        signals.done.connect(handle._on_done)
        signals.failed.connect(handle._on_failed)
        for sig, cb in ((handle.finished, on_done), (handle.failed, on_error),
                        (handle.progress, on_progress), (handle.cancelled, on_cancel),
                        (handle.partial, on_partial)):
            if cb is not None:
                sig.connect(cb)
        self._live.add(handle)
        for sig in (handle.finished, handle.failed, handle.cancelled):
            sig.connect(lambda *_, h=handle: self._forget(h))
        runnable = _Runnable(fn, handle, signals, streams=on_partial is not None)
        runnable.setAutoDelete(True)
        handle._keep = (signals, runnable)  # keep the Python wrappers alive as long as the handle
        self.pool.start(runnable)
        return handle

    def _forget(self, handle: Handle) -> None:
        self._live.discard(handle)

    def cancel_all(self) -> None:
        for handle in list(self._live):
            handle.cancel()

    def busy(self) -> bool:
        return bool(self._live)

    def shutdown(self, wait_ms: int = 3000) -> None:
        self.cancel_all()
        self.pool.clear()
        self.pool.waitForDone(wait_ms)
