"""Reader of an MLflow tracking server over its REST API (``/api/2.0/mlflow/...``).

Filters and ordering are the server's own (it runs MLflow's search), so only paging,
auth (the connect dialog's, else MLflow's sources: see .credentials) and turning failures
into words happen here.

Page tokens are offsets into one search, so one search pages one request after another. To
read faster, the listing in MLflow's default order is cut into searches that do not overlap
(by experiment, then by start_time ranges, learned as pages come back: see ``_Listing``), paged
side by side by a few threads, and put back in the server's order.
"""

from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np
import pandas as pd

from .credentials import ServerAuth, credentials, tls_verify
from .errors import AuthError, Cancelled, FilterError, ServerError
from .locate import Location
from .store import (
    EXPERIMENT_COLUMNS,
    LOGGED_MODEL_COLUMNS,
    Store,
    empty_history,
    history_frame,
)
from .table import RunTable, empty_long, info_frame, mlflow_frame

VIEW_TYPES = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}
PAGE = 500  # runs a request: a busy server still answers one well within READ_TIMEOUT_S
FIRST_PAGE = 100  # the first request of a listing: the newest runs, on screen at once
SEARCH_WORKERS = 3  # requests in flight while listing runs (a server has a few workers)
SPLIT_MAX = 16  # the most start_time ranges one full page is cut into
EXPERIMENT_SPLIT_MAX = 64  # more experiments than this: cut by start_time over all of them
WATCH_RUNS = 50  # the newest runs Watch looks at, in one request
PARTIAL_EVERY_S = 1.0  # a long search shows the runs it has about once a second
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = float(os.environ.get("MLSCOPE_HTTP_TIMEOUT", "30"))
HISTORY_WORKERS = 8
BULK_RUNS = 100  # the most run ids MLflow's get-history-bulk route takes
BULK_POINTS = 25000  # the most points it returns (and it truncates without saying so)


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


class _Rows:
    """Runs as the REST API returns them -> the columns of a RunTable.

    At 100,000 runs the rows are millions of cells: each key and text value is kept once
    (JSON gives a new string per occurrence), and rows turned into frames are let go."""

    def __init__(self):
        self.order: list[str] = []
        self.start: dict[str, int | None] = {}  # run_id -> start_time as the server said it
        self._frames: list[pd.DataFrame] | None = None  # table() so far
        self._texts: dict[str, str] = {}
        self.info, self.metrics, self.params, self.tags, self.datasets = [], [], [], [], []

    def _one(self, text):
        return self._texts.setdefault(text, text) if isinstance(text, str) else text

    def add(self, run: dict) -> None:
        i, d = run.get("info", {}), run.get("data", {})
        run_id = i.get("run_id") or i.get("run_uuid")
        if run_id in self.start:
            return
        one = self._one
        self.start[run_id] = _start(run)
        self.order.append(run_id)
        self.info.append((run_id, one(str(i.get("experiment_id"))), one(i.get("status")),
                          i.get("artifact_uri"), _num(i.get("start_time")), _num(i.get("end_time")),
                          i.get("run_name") or None, one(i.get("user_id")),
                          one(i.get("lifecycle_stage", "active"))))
        self.metrics += [(run_id, one(m["key"]), _num(m.get("value")), int(m.get("step", 0) or 0),
                          int(m.get("timestamp", 0) or 0)) for m in d.get("metrics", [])]
        self.params += [(run_id, one(p["key"]), one(p.get("value", ""))) for p in d.get("params", [])]
        self.tags += [(run_id, one(t["key"]), one(t.get("value", ""))) for t in d.get("tags", [])]
        self.datasets += [(run_id, *_dataset(di)) for di in (run.get("inputs") or {}).get("dataset_inputs", [])]

    def table(self) -> RunTable:
        """The runs so far. Rows become frames once: a long read asks every PARTIAL_EVERY_S,
        and converting 100,000 runs' values each time would cost more than the reading."""
        lists = [self.info, self.metrics, self.params, self.tags, self.datasets]
        if self._frames is None or any(lists):
            self._frames = [_joined(old, piece) for old, piece in zip(
                self._frames or [None] * 5, _frames(*lists), strict=True)]
            for rows in lists:
                rows.clear()
        return RunTable(*self._frames)


def _frames(info, metrics, params, tags, datasets) -> list[pd.DataFrame]:
    long = ["run_id", "key", "value"]
    return [info_frame(info),
            pd.DataFrame(metrics, columns=[*long, "step", "timestamp"]) if metrics else empty_long(True),
            pd.DataFrame(params, columns=long).astype(object) if params else empty_long(),
            pd.DataFrame(tags, columns=long).astype(object) if tags else empty_long(),
            pd.DataFrame(datasets, columns=["run_id", *DATASET_COLUMNS])]


def _joined(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """``old`` then ``new``; an empty side left out (it would turn numbers into objects)."""
    if old is None or old.empty:
        return new
    return old if new.empty else pd.concat([old, new], ignore_index=True)


DATASET_COLUMNS = ["name", "digest", "context", "source_type", "source"]


def _dataset(dataset_input: dict) -> tuple:
    ds = dataset_input.get("dataset", {})
    ctx = next((t.get("value") for t in dataset_input.get("tags", []) if t.get("key") == "mlflow.data.context"),
               None)
    return ds.get("name"), ds.get("digest"), ctx, ds.get("source_type"), ds.get("source")


def _start(run: dict) -> int | None:
    value = run.get("info", {}).get("start_time")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _where(filter_string: str, lo: int | None, hi: int | None) -> str:
    """The user's filter AND ``lo <= start_time < hi`` (MLflow's grammar has only AND)."""
    clauses = [filter_string.strip()] if filter_string.strip() else []
    if lo is not None:
        clauses.append(f"attributes.start_time >= {lo}")
    if hi is not None:
        clauses.append(f"attributes.start_time < {hi}")
    return " and ".join(clauses)


class _Workers:
    """A few threads making requests, each with its own ``requests.Session`` (a copy of the
    store's: auth, headers, TLS choice; requests does not promise a Session is thread-safe).

    ``completed()`` yields (tag, result) as requests finish, checking ``cancel`` every 0.1 s.
    Leaving the ``with`` block drops what is queued; after an error it also waits for the
    requests in flight (no thread outlives the call); after a cancel it returns at once and
    those requests end on their own (each within the store's timeout), their answers unread.
    """

    def __init__(self, store: RestStore, count: int, cancel=None):
        self.store, self.cancel = store, cancel
        self.pool = ThreadPoolExecutor(count, thread_name_prefix="mlscope-rest")
        self.pending: dict = {}
        self.local = threading.local()
        self.sessions: list = []
        self.lock = threading.Lock()

    def submit(self, tag, fn, *args, rank: float = 0.0) -> None:
        """Run ``fn(*args)`` on a worker; of answers that come together, lower ranks first."""
        self.pending[self.pool.submit(fn, *args)] = (rank, tag)

    def call(self, method: str, path: str, **kwargs) -> dict:
        """The store's ``_call`` with this thread's session (call it on a worker thread)."""
        session = getattr(self.local, "session", None)
        if session is None:
            base = self.store.session
            session = self.store._requests.Session()
            session.auth, session.verify, session.cert = base.auth, base.verify, base.cert
            session.headers.update(base.headers)
            session.proxies.update(base.proxies)
            self.local.session = session
            with self.lock:
                self.sessions.append(session)
        return self.store._call(method, path, session=session, **kwargs)

    def completed(self):
        while self.pending:
            done, _ = wait(self.pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: self.pending[f][0]):
                self._check()
                yield self.pending.pop(fut)[1], fut.result()
            self._check()

    def _check(self) -> None:
        if self.cancel and self.cancel():
            raise Cancelled(f"Loading {self.store.uri} was cancelled.")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        for fut in self.pending:
            fut.cancel()
        cancelled = exc_type is not None and issubclass(exc_type, Cancelled)
        self.pool.shutdown(wait=not cancelled, cancel_futures=True)
        if not cancelled:
            for session in self.sessions:
                session.close()


class _Part:
    """One search of the listing: these experiments, ``lo <= start_time < hi`` (None: no
    bound). ``top`` bounds the start_time of its runs not read yet (-inf once done)."""

    def __init__(self, ids: list[str], lo: int | None, hi: int | None, split: bool = True):
        self.ids, self.lo, self.hi, self.split = ids, lo, hi, split
        self.top = math.inf if hi is None else hi - 1
        self.done = False
        self.rate = 0.0  # runs per millisecond on the page it was cut from


class _Listing:
    """Every run of a search in MLflow's default order (start_time DESC, then run_id), read
    by searches side by side that cover it without overlapping.

    The first request is the search itself (FIRST_PAGE runs): all there is on a small server,
    and the newest runs at once on a big one. Past its last start_time ``t``, what is left is
    cut by experiment (``start_time < t + 1``: the runs at ``t`` may go on past the page),
    and any search whose first page comes back full is cut again: its runs from the page's
    last start_time down to its lower bound (asked of the server, oldest first, where it has
    none) go to 2..SPLIT_MAX ranges sized by the page's runs per millisecond; a page all at
    one start_time gives that millisecond a search of its own, paged one page after another.
    Bounds are ``>= lo`` and ``< hi`` on integer milliseconds, so ranges meet without a gap;
    a run read twice counts once. Runs without a start_time (MLflow always gives one) would
    fall out of the ranges, so the first sight of one pages that search to its end instead.
    """

    def __init__(self, store: RestStore, ids, filter_string, view, progress, cancel, partial):
        self.store, self.filter, self.view = store, filter_string or "", VIEW_TYPES[view]
        self.progress, self.cancel, self.partial = progress, cancel, partial
        self.rows = _Rows()
        self.parts = [_Part(list(ids), None, None)]
        self.shown = 0
        self.last_shown = None

    def run(self) -> tuple[RunTable, list[str]]:
        with _Workers(self.store, SEARCH_WORKERS, self.cancel) as work:
            self.work = work
            self._page(self.parts[0], None, min(FIRST_PAGE, PAGE))
            for (kind, part, token), body in work.completed():
                if kind == "oldest":
                    self._cut(part, body)
                else:
                    self._paged(part, body, token)
                self._report()
        order = self._sorted(self.rows.order)
        if self.progress:
            self.progress(len(order), len(order))
        return self.rows.table(), order

    # -- requests ------------------------------------------------------------------------------
    def _search(self, part: _Part, size: int, token=None, oldest=False) -> dict:
        body = {"experiment_ids": part.ids, "filter": _where(self.filter, part.lo, part.hi),
                "max_results": size, "run_view_type": self.view,
                "order_by": ["attributes.start_time ASC"] if oldest else []}
        if token:
            body["page_token"] = token
        return self.work.call("POST", "runs/search", json=body)

    def _page(self, part: _Part, token, size=None) -> None:
        # Tags sort what finished together: the newest ranges first (their rows show first).
        self.work.submit(("page", part, token), self._search, part, size or PAGE, token,
                         rank=-part.top)

    # -- answers -------------------------------------------------------------------------------
    def _paged(self, part: _Part, body: dict, token) -> None:
        runs = body.get("runs", [])
        for run in runs:
            self.rows.add(run)
        nxt = body.get("next_page_token")
        if not nxt or not runs:
            part.done, part.top = True, -math.inf
            return
        starts = [_start(r) for r in runs]
        first, last = starts[0], starts[-1]
        if None in starts or not part.split or token is not None:
            part.split = False  # one page after another, to the end of this search
            if last is not None:
                part.top = min(part.top, last)
            self._page(part, nxt)
            return
        part.top = last
        if first == last:  # a whole page at one millisecond: that millisecond on its own
            self._add(_Part(part.ids, last, last + 1, split=False))
            if part.lo is None or part.lo < last:
                self._add(_Part(part.ids, part.lo, last))
            part.done = True
        elif len(part.ids) > 1 and len(part.ids) <= EXPERIMENT_SPLIT_MAX and part.lo is None:
            for exp in part.ids:
                self._add(_Part([exp], None, last + 1))
            part.done = True
        else:
            rest = _Part(part.ids, part.lo, last + 1)
            rest.rate = len(runs) / (first - last + 1)  # runs per millisecond on this page
            self.parts.append(rest)
            part.done = True
            if rest.lo is None:  # ask where it ends, then cut
                self.work.submit(("oldest", rest, None), self._search, rest, 1, None, True,
                                 rank=-rest.top)
            else:
                self._split(rest, rest.lo)

    def _cut(self, rest: _Part, body: dict) -> None:
        runs = body.get("runs", [])
        oldest = _start(runs[0]) if runs else None
        if oldest is None:  # nothing left (or no start time): page what there is
            rest.split = False
            self._page(rest, None)
        else:
            self._split(rest, oldest)

    def _split(self, rest: _Part, lo: int) -> None:
        """``rest`` as ranges from ``lo`` up (the lowest keeps ``rest``'s own lower bound)."""
        width = rest.hi - lo
        count = math.ceil(rest.rate * width / PAGE)
        k = max(1, min(SPLIT_MAX, max(2, count), width))
        cuts = [lo + width * i // k for i in range(k)] + [rest.hi]
        cuts[0] = rest.lo
        for i in reversed(range(k)):
            self._add(_Part(rest.ids, cuts[i], cuts[i + 1]))
        rest.done, rest.top = True, -math.inf

    def _add(self, part: _Part) -> None:
        self.parts.append(part)
        self._page(part, None)

    # -- streaming -----------------------------------------------------------------------------
    @staticmethod
    def _key(start: int | None, run_id: str):
        return (start is None, -(start or 0), run_id)

    def _sorted(self, run_ids) -> list[str]:
        start = self.rows.start
        return sorted(run_ids, key=lambda r: self._key(start[r], r))

    def _report(self) -> None:
        self.parts = [p for p in self.parts if not p.done]
        if self.progress:
            self.progress(len(self.rows.order), 0)
        if not self.partial or not self.parts:
            return
        now = time.monotonic()
        if self.last_shown is not None and now - self.last_shown < PARTIAL_EVERY_S:
            return
        # Shown: the runs no search still going can come before (a prefix of the answer).
        top = max(p.top for p in self.parts)
        start = self.rows.start
        ready = self._sorted([r for r, s in start.items() if s is not None and s > top])
        if len(ready) > self.shown:
            self.partial(self.rows.table(), ready)
            self.shown, self.last_shown = len(ready), time.monotonic()


class RestStore(Store):
    kind = "rest"
    streams_partial = True
    cheap_counts = False  # counting runs pages through every run of the server

    def __init__(self, uri: str, timeout: float | None = None, location: Location | None = None,
                 auth: ServerAuth | None = None):
        """``auth``: the connect dialog's credentials and TLS choice, ahead of MLflow's own
        sources (its environment variables and ~/.mlflow/credentials, in its order)."""
        super().__init__(uri.rstrip("/"), location or Location("rest", uri.rstrip("/")))
        import requests

        self._requests = requests
        self.timeout = (CONNECT_TIMEOUT_S, timeout or READ_TIMEOUT_S)
        self.session = requests.Session()
        self.credentials = credentials(auth)
        if self.credentials.user is not None:
            self.session.auth = (self.credentials.user, self.credentials.password)
        elif self.credentials.token:
            self.session.headers["Authorization"] = f"Bearer {self.credentials.token}"
        self.session.verify = tls_verify(auth, self.uri)
        self._exps: pd.DataFrame | None = None
        self._all: RunTable | None = None
        self._bulk = True  # the server has MLflow's get-history-bulk route, until it says 404
        self._experiments_all()  # fail now, with words, if the server is not there

    @property
    def write_uri(self) -> str:
        return self.uri

    # -- HTTP -----------------------------------------------------------------------------------
    def _call(self, method: str, path: str, api: str = "api", session=None, **kwargs) -> dict:
        """One request; ``session``: a worker thread's own (see _Workers), else the store's."""
        url = f"{self.uri}/{api}/2.0/mlflow/{path}"
        req = self._requests
        session = session or self.session
        try:
            # verify per request: requests lets REQUESTS_CA_BUNDLE override a session's
            # verify (its issue 3829), which would drop the CA bundle or 'insecure' choice.
            resp = session.request(method, url, timeout=self.timeout, verify=session.verify,
                                   **kwargs)
        except req.exceptions.Timeout as exc:
            raise ServerError(f"{self.uri} did not answer within {self.timeout[1]:.0f} s.", self.uri) from exc
        except req.exceptions.SSLError as exc:
            raise ServerError(f"TLS error talking to {self.uri}: {exc}. Choose the server's CA "
                              "bundle in the connect dialog (or MLFLOW_TRACKING_SERVER_CERT_PATH).",
                              self.uri) from exc
        except (req.exceptions.ChunkedEncodingError, req.exceptions.ContentDecodingError) as exc:
            raise ServerError(f"The answer from {self.uri} was cut off (the connection dropped "
                              "part way through it).", self.uri) from exc
        except req.exceptions.RequestException as exc:
            raise ServerError(f"Cannot reach the tracking server at {self.uri}: {type(exc).__name__}.",
                              self.uri) from exc
        if resp.status_code in (401, 403):
            raise AuthError(self.credentials.refused(self.uri, resp.status_code, path), self.uri)
        if resp.status_code >= 500 and self.credentials.token and self._basic_only():
            raise AuthError(self.credentials.token_not_taken(self.uri, resp.status_code), self.uri)
        try:
            body = resp.json() if resp.content else {}
        except ValueError:
            body = None
        if resp.status_code >= 400:
            message = (body or {}).get("message") if isinstance(body, dict) else None
            code = (body or {}).get("error_code") if isinstance(body, dict) else None
            if code == "INVALID_PARAMETER_VALUE" and path == "runs/search":
                raise FilterError(message or resp.text[:300], self.uri)
            err = ServerError(f"{self.uri} answered HTTP {resp.status_code}"
                              + (f": {message}" if message else "."), self.uri)
            err.status = resp.status_code
            raise err
        if not isinstance(body, dict):
            raise ServerError(f"{self.uri} did not answer like an MLflow tracking server "
                              f"(got {resp.headers.get('content-type', 'no content type')}).", self.uri)
        return body

    def _basic_only(self) -> bool:
        """Whether the server asks for a username and password (HTTP Basic), asked without
        credentials: MLflow's basic-auth app with its credential cache fails (HTTP 500) on a
        bearer token instead of refusing it."""
        try:
            resp = self._requests.get(f"{self.uri}/api/2.0/mlflow/experiments/search",
                                      timeout=self.timeout, verify=self.session.verify)
        except self._requests.exceptions.RequestException:
            return False
        return resp.status_code == 401 and "basic" in resp.headers.get("WWW-Authenticate", "").lower()

    def paged(self, method: str, path: str, key: str, args: dict):
        """Every item of a paged MLflow answer: POST sends ``args`` as JSON, GET as the query."""
        token = None
        while True:
            page = {**args, **({"page_token": token} if token else {})}
            body = self._call(method, path, **({"json": page} if method == "POST" else {"params": page}))
            yield from body.get(key, [])
            token = body.get("next_page_token")
            if not token:
                return

    # -- reads ----------------------------------------------------------------------------------
    def _experiments_all(self) -> pd.DataFrame:
        with self._lock:
            if self._exps is not None:
                return self._exps
            rows = []
            for e in self.paged("POST", "experiments/search", "experiments",
                                 {"max_results": PAGE, "view_type": "ALL"}):
                row = {
                    "experiment_id": str(e.get("experiment_id")),
                    "name": e.get("name"),
                    "lifecycle_stage": e.get("lifecycle_stage", "active"),
                    "artifact_location": e.get("artifact_location"),
                    "creation_time": e.get("creation_time"),
                    "last_update_time": e.get("last_update_time"),
                }
                for t in e.get("tags", []):
                    row["tags." + t["key"]] = t.get("value")
                rows.append(row)
            frame = pd.DataFrame(rows, columns=None if rows else EXPERIMENT_COLUMNS)
            for col in ("creation_time", "last_update_time"):
                frame[col] = pd.array([None if v is None or pd.isna(v) else int(v) for v in frame[col]],
                                      dtype="Int64")
            self._exps = frame
            return frame

    def _search(self, experiment_ids, filter_string="", order_by=None, view="all",
                progress=None, cancel=None, partial=None) -> tuple[RunTable, list[str]]:
        """The server's search: its runs and their order. ``partial(table, order)`` gets the
        first runs of the answer (in its order) at most once every PARTIAL_EVERY_S while more
        pages come, the first time as soon as the first page is in.

        In MLflow's default order (no ``order_by``: the whole listing and the table's
        searches) the search is read by several requests side by side (see _Listing);
        with an ``order_by`` the answer could not be put back together from ranges of
        start_time, so it is paged one request after another, as MLflow's client does."""
        ids = experiment_ids if experiment_ids is not None else list(self._experiments_all()["experiment_id"])
        if not ids:
            return RunTable(), []
        if not order_by:
            return _Listing(self, ids, filter_string, view, progress, cancel, partial).run()
        payload = {"experiment_ids": ids, "filter": filter_string or "", "max_results": PAGE,
                   "run_view_type": VIEW_TYPES[view], "order_by": list(order_by or [])}
        rows = _Rows()
        last = time.monotonic()
        for run in self.paged("POST", "runs/search", "runs", payload):
            rows.add(run)  # a run seen twice (pages shift while runs are logged) counts once
            if len(rows.order) % PAGE == 0:
                if progress:
                    progress(len(rows.order), 0)
                if cancel and cancel():
                    raise Cancelled(f"Loading {self.uri} was cancelled.")
                if partial and time.monotonic() - last >= PARTIAL_EVERY_S:
                    partial(rows.table(), list(rows.order))
                    last = time.monotonic()
        if progress:
            progress(len(rows.order), len(rows.order))
        return rows.table(), rows.order

    def _one_run(self, run_id: str) -> RunTable:
        """``runs/get`` for one run, not a search of the whole server."""
        if self._all is not None:
            return self._all.subset([run_id])
        rows = _Rows()
        rows.add(self._call("GET", "runs/get", params={"run_id": run_id}).get("run", {}))
        return rows.table()

    def _run_table(self, experiment_ids, progress=None, cancel=None, partial=None) -> RunTable:
        with self._lock:
            if self._all is None:
                self._all, _ = self._search(None, progress=progress, cancel=cancel,
                                            partial=partial and (lambda t, _order: partial(t)))
        if experiment_ids is None:
            return self._all
        return self._all.subset(self._all.info.loc[self._all.info["experiment_id"].isin(experiment_ids), "run_id"])

    def _search_runs(self, experiment_ids, filter_string, order_by, view, attributes, progress,
                     cancel, partial) -> pd.DataFrame:
        """The server searches (MLflow's own code, there); we only page and shape the frame."""
        table, order = self._search(experiment_ids, filter_string, order_by, view, progress, cancel,
                                    partial and (lambda t, o: partial(mlflow_frame(t, o, attributes))))
        return mlflow_frame(table, order, attributes)

    def _forget(self) -> None:
        self._exps = None
        self._all = None

    def metric_history(self, run_ids, keys=None) -> pd.DataFrame:
        """Through the server's bulk route (100 runs a request, as MLflow's UI asks), falling
        back to one paged request per run and key where the server has no such route.

        Every request, the halves of a bulk answer cut at BULK_POINTS and the paged reads of
        runs past it too, goes to HISTORY_WORKERS threads; the points come back in the
        order one request after another would give."""
        run_ids = list(dict.fromkeys(run_ids))
        if keys is None:
            table = self._run_table(None)
            m = table.metrics[table.metrics["run_id"].isin(set(run_ids))]
            by_key = m.groupby("key", sort=False)["run_id"].agg(list).to_dict()
        else:
            by_key = {k: run_ids for k in keys}
        chunks = [(k, ids[i:i + BULK_RUNS]) for k, ids in by_key.items() for i in range(0, len(ids), BULK_RUNS)]
        parts: dict[tuple, list[dict]] = {}  # where in the sequential order -> points
        with _Workers(self, HISTORY_WORKERS) as work:

            def runs_paged(where, key, ids):
                for j, r in enumerate(ids):
                    work.submit(("page", (*where, j, 0), key, r), self._history_page, work, key, r, None)

            for i, (key, ids) in enumerate(chunks):
                if self._bulk:
                    work.submit(("bulk", (i,), key, ids), self._history_bulk, work, key, ids)
                else:
                    runs_paged((i,), key, ids)
            for (kind, where, key, arg), body in work.completed():
                if kind == "page":
                    parts[where] = [{**p, "run_id": arg, "key": key} for p in body.get("metrics", [])]
                    if body.get("next_page_token"):
                        more = (*where[:-1], where[-1] + 1)
                        work.submit(("page", more, key, arg), self._history_page, work, key, arg,
                                    body["next_page_token"])
                elif body is None:  # no bulk route on this server
                    runs_paged(where, key, arg)
                elif len(body) < BULK_POINTS:
                    parts[where] = [{**p, "key": key} for p in body]
                elif len(arg) > 1:  # cut off at BULK_POINTS: ask for halves
                    half = len(arg) // 2
                    for n, ids in enumerate((arg[:half], arg[half:])):
                        work.submit(("bulk", (*where, n), key, ids), self._history_bulk, work, key, ids)
                else:
                    runs_paged(where, key, arg)
        pts = [p for where in sorted(parts) for p in parts[where]]
        if not pts:
            return empty_history()
        return history_frame(np.array([p["run_id"] for p in pts], dtype=object),
                             np.array([p["key"] for p in pts], dtype=object),
                             [int(p.get("step", 0) or 0) for p in pts],
                             [int(p.get("timestamp", 0) or 0) for p in pts],
                             [_num(p.get("value")) for p in pts])

    def _history_bulk(self, work: _Workers, key: str, run_ids: list[str]) -> list[dict] | None:
        """Up to BULK_POINTS points of ``key`` for these runs (the route stops there without
        saying so); None where the server has no bulk route."""
        if not self._bulk:
            return None
        params = [("run_id", r) for r in run_ids] + [("metric_key", key), ("max_results", BULK_POINTS)]
        try:
            return work.call("GET", "metrics/get-history-bulk", api="ajax-api", params=params).get("metrics", [])
        except ServerError as exc:
            if getattr(exc, "status", None) not in (404, 405):
                raise
            self._bulk = False  # an older server or a proxy without the UI's routes
            return None

    def _history_page(self, work: _Workers, key: str, run_id: str, token) -> dict:
        params = {"run_id": run_id, "metric_key": key, "max_results": 25000}
        return work.call("GET", "metrics/get-history", params={**params, **({"page_token": token} if token else {})})

    def _logged_models_all(self) -> pd.DataFrame:
        ids = list(self._experiments_all()["experiment_id"])
        rows = []
        try:
            models = list(self.paged("POST", "logged-models/search", "models",
                                      {"experiment_ids": ids, "max_results": 100})) if ids else []
        except ServerError as exc:  # servers before MLflow 3 have no logged models
            self.problem(self.uri, f"logged models unavailable: {exc}")
            models = []
        for m in models:
            i = m.get("info", {})
            rows.append([i.get("model_id"), str(i.get("experiment_id")), i.get("name"), i.get("source_run_id"),
                         i.get("status"), i.get("model_type") or None, i.get("artifact_uri"),
                         i.get("creation_timestamp_ms"), i.get("last_updated_timestamp_ms"), "active"])
        return pd.DataFrame(rows, columns=LOGGED_MODEL_COLUMNS)

    def registered_models(self) -> pd.DataFrame:
        from .registry import rest

        return rest.registered_models(self)

    def model_versions(self, name: str | None = None) -> pd.DataFrame:
        from .registry import rest

        return rest.model_versions(self, name)

    def change_token(self, experiment_ids) -> object | None:
        """One small request: the newest runs with their status, end and latest metric times.
        A new run, a run that ends and a RUNNING run that logs all move it."""
        ids = [str(e) for e in experiment_ids]
        if not ids:
            return ()
        body = self._call("POST", "runs/search", json={
            "experiment_ids": ids, "max_results": WATCH_RUNS, "run_view_type": "ALL",
            "order_by": ["attributes.start_time DESC"]})
        token = []
        for run in body.get("runs", []):
            info, data = run.get("info", {}), run.get("data", {})
            latest = max((int(m.get("timestamp", 0)) for m in data.get("metrics", [])), default=0)
            token.append((info.get("run_id"), info.get("status"), info.get("end_time"),
                          info.get("lifecycle_stage"), latest, len(data.get("tags", []))))
        return tuple(token)

    def close(self) -> None:
        self.session.close()
