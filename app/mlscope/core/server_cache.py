"""A copy of each tracking server's last runs on disk, so that reopening shows them at once and
an unreachable server still opens (read-only, marked offline). Large mlruns folders keep one
too: checking 100,000 run folders takes seconds however fast the parsing is (one stat per
file), so the app shows the last table while it checks (``copy_key``).

One folder per server under ``cache_dir()/servers``, named by a hash of the URL without its
password: the runs frame and the experiments frame as Parquet (pandas' dtypes come back as
they were) and ``meta.json`` (when, which experiments, which view, mlscope's version). Only
what the table showed is kept: never headers, tokens or passwords. Every file is written to a
temporary name then renamed, and ``meta.json`` names the generation of Parquet files it goes
with, so a reader never pairs files of two saves. A save of what is already there (the same
frames, experiments and view, by a digest kept in ``meta.json``) writes only ``meta.json``'s
new time: at 100,000 runs the Parquet is the cost. Only the servers used last are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import ServerError, StoreError
from .locate import Location
from .paths import cache_dir
from .secrets import without_password
from .store import Store, check_view, empty_history, in_view

KEEP_SERVERS = 20  # the servers used last keep their copy; older ones are removed
META = "meta.json"
READ_GRACE_S = 60  # an older generation's files stay this long for a reader that began on it


def server_uri(target) -> str | None:
    """The tracking server URL ``target`` names (a URL or a rest Location), None otherwise."""
    if isinstance(target, Location):
        return target.uri if target.kind == "rest" else None
    text = str(target).strip()
    return text if text.lower().startswith(("http://", "https://")) else None


def copy_key(location: Location) -> str | None:
    """What a store's copy is kept under: a server's URL or an mlruns folder's path (reading
    every file of a large folder is what the copy saves); None for SQL stores, read at once."""
    return location.uri if location.kind in ("rest", "file") else None


def _normal(uri: str) -> str:
    return without_password(str(uri)).rstrip("/")


def root() -> Path:
    return cache_dir() / "servers"


def folder(uri: str) -> Path:
    """The server's folder: a hash of its URL with no password in it (nor in the name)."""
    return root() / hashlib.sha256(_normal(uri).encode()).hexdigest()[:32]


@dataclass
class Cached:
    """What was saved for one server."""

    uri: str  # without password
    runs: pd.DataFrame
    experiments: pd.DataFrame
    experiment_ids: list[str]
    view: str
    saved_at: float  # epoch seconds
    version: str = ""
    extra: dict = field(default_factory=dict)

    def age_words(self, now: float | None = None) -> str:
        """"3 minutes old", for the bar above the table."""
        s = max(0.0, (now or time.time()) - self.saved_at)
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if s >= size:
                n = int(s // size)
                return f"{n} {unit}{'' if n == 1 else 's'} old"
        return "less than a minute old"

    def saved_words(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _objects(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c, t in frame.dtypes.items() if pd.api.types.is_object_dtype(t)]


def _read(path: Path, objects) -> pd.DataFrame:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    frame = table.to_pandas()
    for c in objects:  # None stays None (pandas' string dtype would make it NaN)
        if c in frame.columns and frame[c].dtype != object:
            frame[c] = pd.Series(table.column(c).to_numpy(zero_copy_only=False), dtype=object,
                                 index=frame.index)
    return frame


def digest(runs: pd.DataFrame, experiments: pd.DataFrame, experiment_ids, view: str) -> str | None:
    """What a save holds, in 32 hex digits (columns, dtypes, every value), None if a value
    cannot be hashed (then the copy is always written)."""
    h = hashlib.sha256(json.dumps([[str(e) for e in experiment_ids], view]).encode())
    try:
        for frame in (runs, experiments):
            h.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
            h.update(pd.util.hash_pandas_object(frame, index=True, categorize=False).to_numpy().tobytes())
    except (TypeError, ValueError):
        return None
    return h.hexdigest()[:32]


def save(uri: str, runs: pd.DataFrame, experiments: pd.DataFrame, experiment_ids, view: str) -> Path:
    """Keep this server's runs (the frame the table shows) and experiments; returns the folder.
    Unchanged since the last save: only its time moves (the copy was checked live now)."""
    from mlscope import __version__

    where = folder(uri)
    where.mkdir(parents=True, exist_ok=True)
    key = digest(runs, experiments, experiment_ids, view)
    old = _meta(where)
    if key is not None and old.get("digest") == key and all(
            (where / name).is_file() for name in old.get("files", {}).values()):
        _write_atomic(where / META, lambda p: p.write_text(json.dumps({**old, "saved_at": time.time()},
                                                                      indent=1)))
        _prune()
        return where
    gen = uuid.uuid4().hex[:12]
    names = {"runs": f"runs-{gen}.parquet", "experiments": f"experiments-{gen}.parquet"}
    for frame, name in ((runs, names["runs"]), (experiments, names["experiments"])):
        _write_atomic(where / name, lambda p, f=frame: f.to_parquet(p, index=True))
    meta = {"uri": _normal(uri), "saved_at": time.time(), "experiment_ids": [str(e) for e in experiment_ids],
            "view": view, "mlscope": __version__, "files": names, "digest": key,
            # pandas reads text back as its string dtype; these columns were object
            "object_columns": {"runs": _objects(runs), "experiments": _objects(experiments)}}
    _write_atomic(where / META, lambda p: p.write_text(json.dumps(meta, indent=1)))
    named = set(names.values()) | set(_meta(where).get("files", {}).values())  # another page's
    for old_file in where.iterdir():  # generations no meta.json names, once no reader can be on them
        if old_file.suffix == ".parquet" and old_file.name not in named:
            with contextlib.suppress(OSError):  # another save may have removed it first
                if old_file.stat().st_mtime < time.time() - READ_GRACE_S:
                    old_file.unlink()
    _prune()
    return where


def _meta(where: Path) -> dict:
    try:
        meta = json.loads((where / META).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _prune() -> None:
    try:
        folders = sorted((p for p in root().iterdir() if (p / META).exists()),
                         key=lambda p: (p / META).stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in folders[KEEP_SERVERS:]:
        shutil.rmtree(old, ignore_errors=True)


def load(uri: str, problem=None) -> Cached | None:
    """The server's saved copy, None if there is none. A copy that cannot be read is
    removed and treated as absent; ``problem(where, message)`` hears why."""
    where = folder(uri)
    meta_path = where / META
    for attempt in range(3):
        try:
            text = meta_path.read_text()
        except FileNotFoundError:
            return None
        try:
            return _load(where, json.loads(text))
        except Exception as exc:  # noqa: BLE001 - any damage: the copy is dropped, the app goes on
            if attempt < 2 and _changed(meta_path, text):
                continue  # a save replaced the copy while it was read: read the new one
            if problem is not None:
                problem(str(where), f"The cached copy of {_normal(uri)} could not be read and "
                                    f"was removed ({type(exc).__name__}: {exc}).")
            shutil.rmtree(where, ignore_errors=True)
            return None
    return None


def _changed(meta_path: Path, text: str) -> bool:
    try:
        return meta_path.read_text() != text
    except OSError:
        return False


def _load(where: Path, meta: dict) -> Cached:
    files, objects = meta["files"], meta.get("object_columns", {})
    return Cached(uri=meta["uri"], runs=_read(where / files["runs"], objects.get("runs", [])),
                  experiments=_read(where / files["experiments"], objects.get("experiments", [])),
                  experiment_ids=[str(e) for e in meta["experiment_ids"]],
                  view=check_view(meta.get("view", "active")), saved_at=float(meta["saved_at"]),
                  version=str(meta.get("mlscope", "")))


def clear() -> int:
    """Remove every server's copy; returns how many there were."""
    base = root()
    n = sum(1 for p in base.iterdir() if p.is_dir()) if base.is_dir() else 0
    shutil.rmtree(base, ignore_errors=True)
    return n


class CachedStore(Store):
    """A server's saved copy, read-only, as a Store: the table, experiments and each run's
    latest values work; what was never saved (metric histories, artifacts, filters that need
    the server) says it is offline."""

    kind = "cached"  # not "rest": nothing may take it for a server to call
    cheap_counts = False

    def __init__(self, cached: Cached, reason: str = ""):
        super().__init__(cached.uri, Location("rest", cached.uri))
        self.cached = cached
        self.offline = bool(reason)
        self.reason = reason
        self.read_only_note = ""

    def _offline(self, what: str) -> ServerError:
        return ServerError(f"{what} needs the server; showing the copy of {self.cached.saved_words()}.",
                           self.uri)

    def _experiments_all(self) -> pd.DataFrame:
        return self.cached.experiments

    def _search_runs(self, experiment_ids, filter_string, order_by, view, attributes, progress,
                     cancel, partial) -> pd.DataFrame:
        if filter_string or order_by:
            raise self._offline("Searching or sorting by the server")
        frame = self.cached.runs
        if "lifecycle_stage" in frame:
            frame = in_view(frame, view)
        if experiment_ids is not None:
            frame = frame[frame["experiment_id"].astype(str).isin(experiment_ids)]
        return frame.reset_index(drop=True)

    def run(self, run_id: str) -> dict:
        rows = self.cached.runs[self.cached.runs["run_id"] == run_id]
        if rows.empty:
            raise StoreError(f"Run {run_id} is not in the cached copy of {self.uri}.", self.uri)
        row = rows.iloc[0]

        def part(prefix):
            return {c[len(prefix):]: row[c] for c in rows.columns
                    if c.startswith(prefix) and row[c] is not None and row[c] == row[c]}

        info = {c: row[c] for c in rows.columns if "." not in c}
        for col in ("start_time", "end_time"):  # the frame's datetimes -> epoch ms, as stores give
            v = info.get(col)
            info[col] = v.value // 1_000_000 if isinstance(v, pd.Timestamp) else float("nan")
        return {"info": info, "params": part("params."),
                "metrics": {k: {"value": v, "step": None, "timestamp": None}  # not kept
                            for k, v in part("metrics.").items()},
                "tags": part("tags."), "inputs": [], "logged_models": []}

    def metric_history(self, run_ids, keys=None) -> pd.DataFrame:
        """Nothing (the copy holds each run's latest values only), said once in Problems: the
        run detail still shows its values, charts are empty until the server answers."""
        self.problem(self.uri, str(self._offline("Metric history")))
        return empty_history()

    def change_token(self, experiment_ids):
        return None
