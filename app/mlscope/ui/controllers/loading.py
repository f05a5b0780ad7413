"""Opening a store and reading what the page shows: experiments, the runs of the selected
experiments under the filter (streamed while a long read goes on), and run counts.

A tracking server's saved copy (core.server_cache) is shown at once while it connects, then
brought up to date by a few small searches (core.server_refresh: runs started, ended or
running since), then replaced by a full read, which alone sees deletions and edits of
finished runs; the bar above the table says which of these the table is. When the server
fails, what the table shows stays, marked offline, until Reconnect or F5.

A large mlruns folder keeps a copy the same way: reopened, its last table shows at once while
every run folder is checked (a stat per file: seconds at 100,000 runs), then the checked
table replaces it. Small folders, read in under FOLDER_COPY_AFTER_S, keep none."""

from __future__ import annotations

import time

import pandas as pd
from PySide6.QtCore import QTimer, Signal

from mlscope.core import credentials, server_cache, server_refresh
from mlscope.core.errors import AuthError, FilterError, ServerError, user_message
from mlscope.core.experiments import initial_experiments
from mlscope.core.secrets import redact

from .base import Controller

SAVE_EVERY_S = 30.0  # a server's copy is written at most this often (Watch re-reads every few s)
# Watch on a server: what changed comes from the small searches (core.server_refresh), and
# every run is read again only this often (deletions and edits of finished runs; a full read
# of 100,000 runs takes minutes, longer than the few seconds between looks).
FULL_READ_EVERY_S = 300.0
FOLDER_COPY_AFTER_S = 2.0  # an mlruns folder read at least this long keeps a copy of its table


def empty_runs() -> pd.DataFrame:
    return pd.DataFrame(columns=["run_id", "experiment_id", "status", "start_time", "end_time"])


class LoadingController(Controller):
    """Holds what is asked (target, experiments, filter, view) and reads it on workers.

    The page routes the answers to the views; nothing here touches a widget."""

    opened = Signal(object)  # the store
    openFailed = Signal(str)  # words for the user
    experimentsLoaded = Signal(object, list)  # frame, ids to select
    loadingChanged = Signal(bool, str)  # on, what is loading
    progress = Signal(int, int)
    runsStreamed = Signal(object)  # the frame of the runs read so far
    runsLoaded = Signal(object, bool)  # frame, keep the selection
    filterFailed = Signal(str)  # MLflow's parser message
    countsLoaded = Signal(object, object)  # runs per experiment, last activity per experiment
    problemsChanged = Signal(object)  # list of Problem
    cacheState = Signal(str, bool)  # a server's saved copy is shown: words ("" once live), offline

    def __init__(self, tasks, target, settings, experiment: str | None = None, parent=None):
        super().__init__(tasks, None, parent)
        self.target = target
        self.settings = settings
        self.wanted_experiment = experiment
        self.experiment_ids: list[str] = []
        self.filter = ""
        self.view = "active"
        self.frame: pd.DataFrame | None = None
        self.loaded_once = False
        self.last_error: BaseException | None = None
        self.exps: pd.DataFrame | None = None  # the experiments listed (kept with a server's runs)
        self.cache_shown = False  # the table shows a server's saved copy, not a live read
        self.bar_text = ""  # what the bar above the table says ("" once live)
        self._copy = None  # the server_cache.Cached last shown
        self._copy_scope = None  # (experiment ids, view) the copy shown holds all the runs of
        self._live_at: float | None = None  # when a server's live read last filled the table
        self._runs_after_copy = False  # the server answered first: runs wait for the copy's read
        self._full_read = None  # (ids, view, monotonic time) of a server's last read of every run
        self._pending_save = None  # the copy to write once SAVE_EVERY_S has passed
        self._last_save = float("-inf")
        self._keeps_copy = False  # a folder's copy was shown or kept: it is kept up to date
        self._save_timer = QTimer(self, singleShot=True)
        self._save_timer.timeout.connect(self._save_pending)

    # -- opening -----------------------------------------------------------------------------
    def open(self) -> None:
        """Open the store and list its experiments, in a worker (locating touches the disk)."""
        from mlscope.core import open_store

        target, view = self.target, self.view
        server = server_cache.server_uri(target)
        first = self._live_at is None  # F5 on a live table: no older copy in between
        keep_live = self._live_shown()  # unreachable: the live table stays, not an older copy
        self._runs_after_copy = False
        self._full_read = None
        self.loadingChanged.emit(True, "Opening store…")
        self.statusMessage.emit(f"Opening {redact(target)}…")

        def work(progress, cancel):
            auth = credentials.auth_for(target)  # the connect dialog's, or None (keyring read here)
            try:
                store = open_store(target, auth=auth)
            except ServerError as exc:  # unreachable (not refused: that asks for credentials)
                cached = (None if server is None or keep_live or isinstance(exc, AuthError)
                          else server_cache.load(server))
                if cached is None:
                    raise
                return server_cache.CachedStore(cached, reason=user_message(exc)), None, None
            exps = store.experiments(view)
            credentials.accepted(target, auth)  # a secret the user chose to keep -> keyring
            key = server_cache.copy_key(store.location)
            copy = (server_cache.load(key, store.problem)  # a folder's last table, if one was kept
                    if first and server is None and key is not None else None)
            return store, exps, copy

        self.start("open", work, self._opened, self._open_failed,
                   on_cancel=lambda: self.loadingChanged.emit(False, ""))
        if server is not None and self.store is None:  # the saved copy at once, while it connects
            self.start("cache", lambda progress, cancel: server_cache.load(server),
                       self._cache_read, lambda exc: self._cache_read(None))

    def _cache_read(self, cached) -> None:
        waiting, self._runs_after_copy = self._runs_after_copy, False
        if cached is not None and self.store is None and self.running("open"):
            self._show_cached(server_cache.CachedStore(cached))
        elif cached is not None and (waiting or self.running("runs")):
            # The server answered the open before the disk gave the copy: the copy shows while
            # the runs are read (the live store stays), brought up to date first when the runs
            # waited for it.
            self._show_copy_beside(cached, scoped=waiting)
        if waiting:
            self.load_runs()

    def _show_copy_beside(self, cached, scoped: bool) -> None:
        """The saved copy in the table while the opened store's runs are read, if it holds
        what is asked (no filter, its experiments, its view) and nothing live is shown yet."""
        if (self._live_at is not None or self.cache_shown or self.filter
                or isinstance(self.store, server_cache.CachedStore)
                or cached.view not in (self.view, "all")
                or not set(self.experiment_ids) <= set(cached.experiment_ids)):
            return
        self._copy = cached
        self._copy_scope = (tuple(self.experiment_ids), self.view) if scoped else None
        self._keeps_copy = True
        self.frame = server_cache.CachedStore(cached).runs(self.experiment_ids, view=self.view,
                                                           attributes=True)
        self.cache_shown = True
        if server_cache.server_uri(self.target) is not None:
            self._bar(f"Cached, {cached.age_words()} — refreshing…", False)
        else:
            self._bar(f"The table as last read, {cached.age_words()} — checking every run "
                      "folder for changes…", False)
        self.runsLoaded.emit(self.frame, True)

    def _show_cached(self, store) -> None:
        """A server's saved copy in the table: at once while connecting, or offline."""
        cached = store.cached
        self._set_store(store)
        known = set(cached.experiments["experiment_id"].astype(str))
        self.experiment_ids = [e for e in self.experiment_ids or cached.experiment_ids if e in known]
        self._copy = cached
        self._copy_scope = ((tuple(self.experiment_ids), self.view)
                            if cached.view in (self.view, "all")
                            and set(self.experiment_ids) <= set(cached.experiment_ids) else None)
        self.exps = store.experiments(self.view)
        if store.offline:  # while connecting, the store is not opened yet (a login may fail)
            self.opened.emit(store)
        self.experimentsLoaded.emit(self.exps, self.experiment_ids)
        self.frame = store.runs(self.experiment_ids, view=self.view, attributes=True)
        self.cache_shown = True
        self.loaded_once = store.offline  # offline, this is the table until Reconnect
        self.runsLoaded.emit(self.frame, True)
        if store.offline:
            self.loadingChanged.emit(False, "")
            text = f"Offline: showing the copy of {cached.saved_words()} (read-only). {store.reason}"
            self.statusMessage.emit(f"Offline: {store.reason}")
        else:
            text = f"Cached, {cached.age_words()} — refreshing…"
        self._bar(text, store.offline)

    def _bar(self, text: str, offline: bool) -> None:
        self.bar_text = text
        self.cacheState.emit(text, offline)

    def _live_shown(self) -> bool:
        """A server's live runs are in the table (a failure then keeps them, marked offline)."""
        return (self._live_at is not None and server_cache.server_uri(self.target) is not None
                and not isinstance(self.store, server_cache.CachedStore))

    def _keep_live(self, reason: str) -> None:
        """The server failed while its live runs are shown: they stay, said to be offline."""
        self.loadingChanged.emit(False, "")
        when = time.strftime("%H:%M", time.localtime(self._live_at))
        self._bar(f"Offline: {_sentence(reason)} The table shows the runs read at {when}.", True)
        self.statusMessage.emit(f"Offline: {reason}")

    def _set_store(self, store) -> None:
        old = self.store
        self.set_store(store)
        if old is not None and old is not store:
            try:
                old.close()
            except Exception:  # noqa: BLE001 - closing the old store must not stop the new one
                pass

    def _opened(self, result) -> None:
        store, exps, copy = result
        if isinstance(store, server_cache.CachedStore):
            if store.offline and self._live_shown():
                self._keep_live(store.reason)
            else:
                self._show_cached(store)
            return
        self._set_store(store)
        self.exps = exps
        loc = store.location
        keep = self.experiment_ids or initial_experiments(
            exps, self.wanted_experiment or loc.experiment_id,
            self.settings.last_experiment(redact(store.uri)))
        self.experiment_ids = keep
        self.opened.emit(store)
        self.statusMessage.emit(loc.note or f"Opened {redact(store.uri)}")
        self.experimentsLoaded.emit(exps, keep)
        self.loaded_once = False
        if self.running("cache"):  # the copy is a moment away: shown first, then brought up to date
            self._runs_after_copy = True
        else:
            self.load_runs()
            if copy is not None and self.running("runs"):  # a large folder: its last table first
                self._show_copy_beside(copy, scoped=False)
        self._problems()

    def _open_failed(self, exc) -> None:
        self.last_error = exc  # the connect dialog offers to re-enter a refused password
        if (isinstance(exc, ServerError) and not isinstance(exc, AuthError)
                and self._live_shown()):
            self._keep_live(user_message(exc))
            return
        self.loadingChanged.emit(False, "")
        if self.cache_shown:  # a copy shown while connecting goes with the error page
            self.cache_shown = False
            self._bar("", False)
        msg = user_message(exc)
        self.statusMessage.emit(msg)
        self.openFailed.emit(msg)

    def reload(self, reopen: bool = True) -> None:
        """F5 (``reopen``): a new Store, so no stale cache is kept. Otherwise (the view
        changed) the experiments again, then their runs."""
        if reopen or self.store is None:
            self.open()
            return
        store, view = self.store, self.view

        def done(exps):
            self.exps = exps
            self.experimentsLoaded.emit(exps, self.experiment_ids)
            self.loaded_once = False
            self.load_runs()

        self.start("experiments", lambda progress, cancel: store.experiments(view), done)

    # -- what is asked -----------------------------------------------------------------------
    def set_view(self, view: str) -> None:
        self.view = view
        self.reload(reopen=False)

    def select_experiments(self, ids: list[str]) -> None:
        ids = [str(i) for i in ids]
        if ids == self.experiment_ids:
            return
        self.experiment_ids = ids
        if self.store is not None and ids:
            self.settings.set_last_experiment(redact(self.store.uri), ids)
        self.filter = ""
        self.load_runs(keep_selection=False)

    def set_filter(self, text: str) -> None:
        self.filter = text
        self.load_runs()

    # -- runs --------------------------------------------------------------------------------
    def load_runs(self, keep_selection: bool = True, quiet: bool = False,
                  refresh: bool = False) -> None:
        """(Re)read the runs of the selected experiments with the current filter.

        ``quiet``: no loading bar (Watch); ``refresh``: forget what the store cached first."""
        store = self.store
        if store is None:
            return
        ids, filt, view = list(self.experiment_ids), self.filter, self.view
        if not ids:
            self.frame = empty_runs()
            self.runsLoaded.emit(self.frame, False)
            return
        if not quiet:
            self.loadingChanged.emit(True, "Loading runs…")
            self.statusMessage.emit("Loading runs…")
        t0 = time.perf_counter()
        live = not filt and not isinstance(store, server_cache.CachedStore)
        base = self.frame if (live and self.cache_shown and self._copy_scope == (tuple(ids), view)) else None
        full = self._full_read
        # Watch on a server: the small searches alone while the last full read is recent
        small = (self.frame if (live and quiet and not self.cache_shown and full is not None
                                and full[:2] == (tuple(ids), view)
                                and time.monotonic() - full[2] < FULL_READ_EVERY_S) else None)

        def work(progress, cancel, partial):
            if refresh:
                store.refresh()
            if small is not None:
                delta = server_refresh.refresh(store, small, ids, view, cancel)
                if delta is not None:
                    return delta.frame, time.perf_counter() - t0, delta
            if base is not None:  # the copy on screen, brought up to date first (small searches)
                delta = server_refresh.refresh(store, base, ids, view, cancel)
                if delta is not None:
                    partial(("merged", delta))
            frame = store.runs(ids, filt, None, view, attributes=True, progress=progress,
                               cancel=cancel, partial=lambda f: partial(("streamed", f)))
            return frame, time.perf_counter() - t0, None

        self.start("runs", work, lambda res: self._runs_loaded(res, filt, keep_selection),
                   self._runs_failed, self.progress.emit, self._runs_cancelled,
                   self._streamed)

    def _streamed(self, item) -> None:
        kind, value = item
        if kind == "merged":
            if self.cache_shown:  # still the copy: now with what changed since, said so
                self._show_merged(value)
        elif not self.cache_shown:  # a saved copy stays whole until the live read is complete
            self.runsStreamed.emit(value)

    def _show_merged(self, delta) -> None:
        age = f"Cached, {self._copy.age_words()}" if self._copy is not None else "Cached"
        changed = (f"{delta.changed:,} run{'' if delta.changed == 1 else 's'} updated since"
                   if delta.changed or delta.gone else "no run started or ended since")
        self.frame = delta.frame
        self.runsLoaded.emit(delta.frame, True)
        self._bar(f"{age}, {changed} — checking every run for deletions and edits…", False)
        self.statusMessage.emit(f"Copy updated: {changed}; reading every run…")

    def _runs_loaded(self, result, filt: str, keep_selection: bool) -> None:
        frame, seconds, delta = result
        self.frame = frame
        if not isinstance(self.store, server_cache.CachedStore):
            self._live_at = time.time()
            if delta is None and not filt and server_cache.server_uri(self.target) is not None:
                self._full_read = (tuple(self.experiment_ids), self.view, time.monotonic())
            self.cache_shown = False  # what listeners hear next is the live table
            if self.bar_text:
                self._bar("", False)
        self.loadingChanged.emit(False, "")
        self.runsLoaded.emit(frame, keep_selection)
        what = f"{len(frame):,} run{'' if len(frame) == 1 else 's'}"
        if delta is not None:
            self.statusMessage.emit(f"{what} · {delta.changed:,} changed since the last look, "
                                    f"read in {seconds:.2f} s")
        else:
            self.statusMessage.emit(f"{what}{f' matching {filt}' if filt else ''} · read in {seconds:.2f} s")
        self._problems()
        self._keep_copy(frame, filt, seconds)
        if not self.store.cheap_counts and not filt:
            # Servers: counting would page through every run; the runs just read are counted.
            read = frame["experiment_id"].astype(str).value_counts().to_dict()
            self.countsLoaded.emit({e: int(read.get(e, 0)) for e in self.experiment_ids}, {})
        if not self.loaded_once:
            self.loaded_once = True
            self.load_counts()

    def _keep_copy(self, frame, filt: str, seconds: float) -> None:
        """Live runs replace the saved copy on disk (on a worker): a server's always, an mlruns
        folder's once reading it took FOLDER_COPY_AFTER_S (or a copy of it was kept)."""
        store = self.store
        if isinstance(store, server_cache.CachedStore):
            return
        uri, exps = server_cache.copy_key(store.location), self.exps
        if uri is None or filt or exps is None:
            return
        if store.location.kind == "file":
            if seconds < FOLDER_COPY_AFTER_S and not self._keeps_copy:
                return
            self._keeps_copy = True
        self._pending_save = (uri, frame, exps, list(self.experiment_ids), self.view)
        wait = self._last_save + SAVE_EVERY_S - time.monotonic()
        if wait > 0 or self.running("cache-save"):  # Watch: at most one write per SAVE_EVERY_S
            if not self._save_timer.isActive():
                self._save_timer.start(int(max(wait, 1.0) * 1000))
            return
        self._save_pending()

    def _save_pending(self) -> None:
        """Write the latest copy waiting (on a worker; unchanged data writes only its time)."""
        if self._pending_save is None:
            return
        if self.running("cache-save"):
            self._save_timer.start(1000)
            return
        uri, frame, exps, ids, view = self._pending_save
        self._pending_save = None
        self._last_save = time.monotonic()
        self.start("cache-save", lambda progress, cancel: server_cache.save(uri, frame, exps, ids, view),
                   lambda _where: None, lambda exc: self.statusMessage.emit(
                       f"Could not keep a copy of the runs: {user_message(exc)}"))

    def _runs_failed(self, exc) -> None:
        self.loadingChanged.emit(False, "")
        if self.cache_shown and not isinstance(exc, FilterError):
            self._bar(f"Showing the cached copy: the refresh failed. {_sentence(user_message(exc))}",
                      True)
        elif (isinstance(exc, ServerError) and not isinstance(exc, (FilterError, AuthError))
              and server_cache.server_uri(self.target) is not None
              and not isinstance(self.store, server_cache.CachedStore)):
            self._bar(f"Could not refresh the runs: {_sentence(user_message(exc))} The table keeps "
                      "what was read before.", True)
        if isinstance(exc, FilterError):
            self.filterFailed.emit(str(exc))
            self.statusMessage.emit("The filter is not valid MLflow search syntax.")
        else:
            self.statusMessage.emit(f"Could not read runs: {user_message(exc)}")
        self._problems()

    def _runs_cancelled(self) -> None:
        self.loadingChanged.emit(False, "")
        self.statusMessage.emit("Loading cancelled.")
        if self.cache_shown and self._copy is not None:
            self._bar(f"Showing the table as read {self._copy.saved_words()}: loading was "
                      "cancelled. F5 reads the store again.", False)

    def cancel_loading(self) -> None:
        self.cancel("open", "runs")

    def is_loading(self) -> bool:
        return self.running("open", "runs")

    def load_counts(self) -> None:
        """Run counts and last activity per experiment, after the table is up (it may read
        every run). Skipped where counting is not cheap (servers page through every run)."""
        store, view = self.store, self.view
        if store is None or not store.cheap_counts:
            return

        def work(progress, cancel):
            stats = store.experiment_stats(view)
            counts = dict(zip(stats["experiment_id"], stats["runs"].tolist(), strict=True))
            last = {e: v for e, v in zip(stats["experiment_id"], stats["last_activity"],
                                         strict=True) if v == v}
            return counts, last

        self.start("counts", work, lambda res: self.countsLoaded.emit(*res), lambda exc: None)

    def _problems(self) -> None:
        self.problemsChanged.emit(list(getattr(self.store, "problems", []) or []))


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."
