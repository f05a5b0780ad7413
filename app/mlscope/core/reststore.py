"""Reader of an MLflow tracking server over its REST API (``/api/2.0/mlflow/...``).

Filters and ordering are the server's own (it runs MLflow's search), so only paging,
auth (the connect dialog's, else MLflow's sources: see .credentials) and turning failures
into words happen here.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

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
PAGE = 1000
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
    """Runs as the REST API returns them -> the columns of a RunTable."""

    def __init__(self):
        self.order: list[str] = []
        self.info, self.metrics, self.params, self.tags, self.datasets = [], [], [], [], []

    def add(self, run: dict) -> None:
        i, d = run.get("info", {}), run.get("data", {})
        run_id = i.get("run_id") or i.get("run_uuid")
        if run_id in self.order:
            return
        self.order.append(run_id)
        self.info.append((run_id, str(i.get("experiment_id")), i.get("status"), i.get("artifact_uri"),
                          _num(i.get("start_time")), _num(i.get("end_time")), i.get("run_name") or None,
                          i.get("user_id"), i.get("lifecycle_stage", "active")))
        self.metrics += [(run_id, m["key"], _num(m.get("value")), int(m.get("step", 0) or 0),
                          int(m.get("timestamp", 0) or 0)) for m in d.get("metrics", [])]
        self.params += [(run_id, p["key"], p.get("value", "")) for p in d.get("params", [])]
        self.tags += [(run_id, t["key"], t.get("value", "")) for t in d.get("tags", [])]
        self.datasets += [(run_id, *_dataset(di)) for di in (run.get("inputs") or {}).get("dataset_inputs", [])]

    def table(self) -> RunTable:
        info = info_frame(self.info)
        long = ["run_id", "key", "value"]
        return RunTable(
            info,
            pd.DataFrame(self.metrics, columns=[*long, "step", "timestamp"]) if self.metrics else empty_long(True),
            pd.DataFrame(self.params, columns=long).astype(object) if self.params else empty_long(),
            pd.DataFrame(self.tags, columns=long).astype(object) if self.tags else empty_long(),
            pd.DataFrame(self.datasets, columns=["run_id", *DATASET_COLUMNS]),
        )


DATASET_COLUMNS = ["name", "digest", "context", "source_type", "source"]


def _dataset(dataset_input: dict) -> tuple:
    ds = dataset_input.get("dataset", {})
    ctx = next((t.get("value") for t in dataset_input.get("tags", []) if t.get("key") == "mlflow.data.context"),
               None)
    return ds.get("name"), ds.get("digest"), ctx, ds.get("source_type"), ds.get("source")


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
    def _call(self, method: str, path: str, api: str = "api", **kwargs) -> dict:
        url = f"{self.uri}/{api}/2.0/mlflow/{path}"
        req = self._requests
        try:
            # verify per request: requests lets REQUESTS_CA_BUNDLE override a session's
            # verify (its issue 3829), which would drop the CA bundle or 'insecure' choice.
            resp = self.session.request(method, url, timeout=self.timeout,
                                        verify=self.session.verify, **kwargs)
        except req.exceptions.Timeout as exc:
            raise ServerError(f"{self.uri} did not answer within {self.timeout[1]:.0f} s.", self.uri) from exc
        except req.exceptions.SSLError as exc:
            raise ServerError(f"TLS error talking to {self.uri}: {exc}. Choose the server's CA "
                              "bundle in the connect dialog (or MLFLOW_TRACKING_SERVER_CERT_PATH).",
                              self.uri) from exc
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
        """The server's search, page by page; ``partial(table, order)`` gets the runs of the
        pages so far, at most once every PARTIAL_EVERY_S, while more pages come."""
        ids = experiment_ids if experiment_ids is not None else list(self._experiments_all()["experiment_id"])
        payload = {"experiment_ids": ids, "filter": filter_string or "", "max_results": PAGE,
                   "run_view_type": VIEW_TYPES[view], "order_by": list(order_by or [])}
        if not ids:
            return RunTable(), []
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
        back to one paged request per run and key where the server has no such route."""
        run_ids = list(dict.fromkeys(run_ids))
        if keys is None:
            table = self._run_table(None)
            m = table.metrics[table.metrics["run_id"].isin(set(run_ids))]
            by_key = m.groupby("key", sort=False)["run_id"].agg(list).to_dict()
        else:
            by_key = {k: run_ids for k in keys}
        jobs = [(k, ids[i:i + BULK_RUNS]) for k, ids in by_key.items() for i in range(0, len(ids), BULK_RUNS)]
        with ThreadPoolExecutor(HISTORY_WORKERS) as pool:
            results = list(pool.map(lambda job: self._history_chunk(*job), jobs))
        pts = [p for chunk in results for p in chunk]
        if not pts:
            return empty_history()
        return history_frame(np.array([p["run_id"] for p in pts], dtype=object),
                             np.array([p["key"] for p in pts], dtype=object),
                             [int(p.get("step", 0) or 0) for p in pts],
                             [int(p.get("timestamp", 0) or 0) for p in pts],
                             [_num(p.get("value")) for p in pts])

    def _history_chunk(self, key: str, run_ids: list[str]) -> list[dict]:
        """Every point of ``key`` for these runs. The bulk route silently stops at
        BULK_POINTS, so a full answer is split in halves until each part fits."""
        if self._bulk:
            params = [("run_id", r) for r in run_ids] + [("metric_key", key), ("max_results", BULK_POINTS)]
            try:
                pts = self._call("GET", "metrics/get-history-bulk", api="ajax-api", params=params)
                pts = pts.get("metrics", [])
            except ServerError as exc:
                if getattr(exc, "status", None) not in (404, 405):
                    raise
                self._bulk = False  # an older server or a proxy without the UI's routes
            else:
                if len(pts) < BULK_POINTS:
                    return [{**p, "key": key} for p in pts]
                if len(run_ids) > 1:
                    half = len(run_ids) // 2
                    return self._history_chunk(key, run_ids[:half]) + self._history_chunk(key, run_ids[half:])
        return [{**p, "run_id": r, "key": key} for r in run_ids for p in self.paged(
            "GET", "metrics/get-history", "metrics", {"run_id": r, "metric_key": key, "max_results": 25000})]

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
