"""Reader of MLflow's file store (``mlruns`` folders), direct, tolerant and read-only.

MLflow's own FileStore refuses these folders from 3.13 on, parses every meta.yaml with
PyYAML and every metric line in Python, and its ``get_run`` rejects the run folders that git
emptied. This reader opens every file read-only, never creates anything in the store,
parses MLflow's meta.yaml with a fast path (PyYAML only for what the fast path does not
know), and turns anything it cannot read into an entry of ``store.problems``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .errors import Cancelled, StoreCorrupt, StoreError, StoreNotFound, StorePermission
from .paths import cache_dir
from .store import (
    EXPERIMENT_COLUMNS,
    LOGGED_MODEL_COLUMNS,
    LOGGED_MODEL_STATUS,
    Store,
    empty_history,
    history_frame,
)
from .table import RUN_STATUSES, RunTable

TRASH = ".trash"
NOT_EXPERIMENTS = {TRASH, "models"}
NOT_RUNS = {"tags", "datasets", "traces", "models"}
CACHE_VERSION = 2

# -- meta.yaml ---------------------------------------------------------------------------------
_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_SPECIAL_START = set("[]{}&*!|>%@`\"#,?:-'")
try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader
# PyYAML's own rules for what a plain scalar means (int, float, bool, null, timestamp...),
# by first character: a value none of them matches is a string.
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers


def _plain_is_string(value: str) -> bool:
    return not any(regexp.match(value) for _tag, regexp in _RESOLVERS.get(value[0], ()))


def parse_meta(data: bytes) -> dict | None:
    """Parse a meta.yaml as PyYAML's safe loader would, fast for what MLflow writes.

    MLflow dumps flat ``key: value`` maps with plain or single-quoted scalars; a plain
    value is typed by PyYAML's own resolver table, and anything else (double quotes,
    nesting, flow collections, anchors) goes to PyYAML itself, so the result is always
    what ``yaml.safe_load`` gives.
    """
    text = data.decode("utf-8")
    out: dict = {}
    for line in text.splitlines():
        if not line:
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":") and not line.startswith((" ", "-", "#")):
                key, value = line[:-1], ""
            else:
                return _slow(text)
        if not key or key[0] in _SPECIAL_START or key[0] == " " or key[-1] == " " or not _plain_is_string(key):
            return _slow(text)
        if not value:
            out[key] = None
        elif value[0] == "'":
            if len(value) < 2 or value[-1] != "'" or "'" in value[1:-1].replace("''", ""):
                return _slow(text)
            out[key] = value[1:-1].replace("''", "'")
        elif value == "[]":
            out[key] = []
        elif value[0] in _SPECIAL_START or " #" in value or ": " in value or value[-1] in " :":
            return _slow(text)
        elif _plain_is_string(value):
            out[key] = value
        elif _INT.match(value):
            out[key] = int(value)
        else:
            return _slow(text)
    return out or _slow(text)


def _slow(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _stat_sig(st) -> tuple:
    return (st.st_mtime_ns, st.st_size)


# -- metric files ---------------------------------------------------------------------------
def parse_metric_lines(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(timestamps, values, steps, bad lines) of a metric file in MLflow's format.

    Lines are ``timestamp value [step]`` (2 or 3 fields; 5 with a dataset name and digest).
    MLflow fails the whole search on one malformed line; we skip it and count it.
    """
    tokens = data.split()
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if n_lines and len(tokens) == 3 * n_lines and b"  " not in data:
        try:
            ts = np.array(tokens[0::3], dtype=np.int64)
            steps = np.array(tokens[2::3], dtype=np.int64)
            values = np.array(tokens[1::3], dtype=np.float64)
            return ts, values, steps, 0
        except (ValueError, OverflowError):
            pass
    ts_l, val_l, step_l, bad = [], [], [], 0
    for line in data.splitlines():
        parts = line.strip().split(b" ")
        if len(parts) not in (2, 3, 5):
            bad += 1
            continue
        try:
            t, v = int(parts[0]), float(parts[1])
            s = int(parts[2]) if len(parts) == 3 else 0
        except (ValueError, OverflowError):
            bad += 1
            continue
        ts_l.append(t)
        val_l.append(v)
        step_l.append(s)
    return (np.array(ts_l, dtype=np.int64), np.array(val_l, dtype=np.float64),
            np.array(step_l, dtype=np.int64), bad)


def latest_point(ts: np.ndarray, values: np.ndarray, steps: np.ndarray):
    """MLflow's latest metric: max by (step, timestamp, value), ties in file order."""
    if len(steps) == 1:
        return values[0], steps[0], ts[0]
    top = np.flatnonzero(steps == steps.max())
    if len(top) == 1:
        i = top[0]
        return values[i], steps[i], ts[i]
    best = max(top, key=lambda i: (int(steps[i]), int(ts[i]), float(values[i])))
    return values[best], steps[best], ts[best]


# -- one run ------------------------------------------------------------------------------------
def clean_name(name: str, path: str, problems: list) -> str:
    """A file name as text: names that are not UTF-8 are shown with replacement characters."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        problems.append((path, "name is not UTF-8; shown with replacement characters"))
        return os.fsencode(name).decode("utf-8", errors="replace")


def _walk_files(folder: str, prefix: str, sig: list, problems: list) -> list[tuple[str, str]]:
    """(key, path) of every file under folder; nested folders make keys with '/'."""
    out = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return out
    except OSError as exc:
        problems.append((folder, f"cannot list: {exc.strerror or exc}"))
        return out
    for entry in entries:
        try:
            name = clean_name(entry.name, entry.path, problems)
            if entry.is_dir():
                out.extend(_walk_files(entry.path, prefix + name + "/", sig, problems))
            else:
                out.append((prefix + name, entry.path))
                sig.append((entry.name, *_stat_sig(entry.stat())))
        except OSError as exc:
            problems.append((entry.path, f"cannot read: {exc.strerror or exc}"))
    return out


def _text(path: str, problems: list) -> str | None:
    try:
        data = _read_bytes(path)
    except OSError as exc:
        problems.append((path, f"cannot read: {exc.strerror or exc}"))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append((path, "not UTF-8; shown with replacement characters"))
        return data.decode("utf-8", errors="replace")


def survey_run(run_dir: str, list_params: bool = True):
    """(signature, files, problems) of a run folder, listed and stat'ed before anything is read.

    The signature is a digest of what can change: new metric/tag files change their folder's
    listing; appended metric files and tags rewritten in place change their own mtime and
    size; meta.yaml changes with the status; params are written once. It is None when the
    folder cannot be fully listed (such a run is never served from the cache). ``files`` maps
    metrics/params/tags/inputs to their (key, path) lists, nested folders making keys with '/'.
    """
    sig: list = []
    problems: list = []
    files: dict[str, list] = {}
    try:
        sig.append(_stat_sig(os.stat(os.path.join(run_dir, "meta.yaml"))))
        sig.append(_stat_sig(os.stat(run_dir)))
    except OSError:
        return None, files, problems
    for sub in ("metrics", "params", "tags", "inputs"):
        folder = os.path.join(run_dir, sub)
        try:
            sig.append((sub, _stat_sig(os.stat(folder))))
        except FileNotFoundError:
            files[sub] = []  # git drops empty folders: a run without metrics/ is still a run
            continue
        except OSError as exc:
            problems.append((folder, f"cannot read: {exc.strerror or exc}"))
            files[sub] = []
            continue
        if sub != "params":
            files[sub] = _walk_files(folder, "", sig, problems)
        elif list_params:
            files[sub] = _walk_files(folder, "", [], problems)
    if problems:
        return None, files, problems
    return hashlib.blake2b(repr(sig).encode("utf-8", "surrogateescape"), digest_size=16).digest(), files, problems


def read_run(run_dir: str, experiment_id: str, survey=None):
    """Everything about one run folder: (info, metrics, params, tags, inputs, problems).

    Returns None for a folder without meta.yaml (an artifact folder, not a run), and a
    record with ``info=None`` and the reason in ``problems`` for a run that cannot be read.
    """
    _sig, files, problems = survey or survey_run(run_dir)
    problems = list(problems)
    meta_path = os.path.join(run_dir, "meta.yaml")
    try:
        data = _read_bytes(meta_path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return (None, [], [], [], [], [(meta_path, f"cannot read: {exc.strerror or exc}")])
    try:
        meta = parse_meta(data)
        if not isinstance(meta, dict):
            raise ValueError("it is empty" if not data.strip() else "it is not a key: value map")
    except (ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return (None, [], [], [], [], [(meta_path, f"malformed run metadata: {msg}")])
    run_id = meta.get("run_id") or meta.get("run_uuid")
    if not run_id:
        return (None, [], [], [], [], [(meta_path, "run metadata has no run_id")])
    run_id = str(run_id)
    meta_exp = meta.get("experiment_id")
    if meta_exp is not None and str(meta_exp) != experiment_id:
        problems.append((run_dir, f"meta.yaml says experiment {meta_exp}, but the run is in "
                                  f"experiment {experiment_id}'s folder; MLflow ignores it too"))
        return (None, [], [], [], [], problems)
    status = meta.get("status", 1)
    status = RUN_STATUSES.get(status, str(status)) if isinstance(status, int) else str(status)

    def _ms(v):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan

    run_name = meta.get("run_name")
    info = (run_id, experiment_id, status, meta.get("artifact_uri"), _ms(meta.get("start_time")),
            _ms(meta.get("end_time")), run_name if run_name not in ("", None) else None,
            meta.get("user_id"), meta.get("lifecycle_stage") or "active")

    metrics = []
    for key, path in files.get("metrics", []):
        try:
            ts, values, steps, bad = parse_metric_lines(_read_bytes(path))
        except OSError as exc:
            problems.append((path, f"cannot read: {exc.strerror or exc}"))
            continue
        if bad:
            problems.append((path, f"{bad} malformed line(s) skipped"))
        if len(values) == 0:
            if not bad:
                problems.append((path, "metric file is empty"))
            continue
        value, step, t = latest_point(ts, values, steps)
        metrics.append((key, float(value), int(step), int(t)))
    params = []
    for key, path in files.get("params", []):
        text = _text(path, problems)
        if text is not None:
            params.append((key, text))
    tags = []
    for key, path in files.get("tags", []):
        text = _text(path, problems)
        if text is not None:
            tags.append((key, text))
    inputs = []
    for key, path in files.get("inputs", []):
        if key.endswith("meta.yaml"):
            try:
                m = yaml.load(_read_bytes(path), Loader=_Loader) or {}  # noqa: S506
                if "dataset" in str(m.get("source_type", "")).lower() or m.get("source_type") == 1:
                    inputs.append((str(m.get("source_id")), (m.get("tags") or {}).get("mlflow.data.context")))
            except (OSError, yaml.YAMLError, AttributeError) as exc:
                problems.append((path, f"unreadable input record: {exc}"))
    return (info, metrics, params, tags, inputs, problems)


def run_signature(run_dir: str) -> bytes | None:
    return survey_run(run_dir, list_params=False)[0]


def _read_many(jobs: list[tuple[str, str]]):
    """(signature, record) per (run folder, experiment id); the signature first, so a run
    that changes while it is read looks changed next time."""
    out = []
    for d, e in jobs:
        survey = survey_run(d)
        out.append((survey[0], read_run(d, e, survey)))
    return out


def _signatures(run_dirs: list[str]):
    return [run_signature(d) for d in run_dirs]


# -- parallel reading -------------------------------------------------------------------------------
PARALLEL_MIN = 1500  # below this, starting worker processes costs more than it saves
BATCH = 250
_POOL: list = []


def _pool() -> ProcessPoolExecutor | None:
    """One pool of reader processes for the whole session (forkserver: safe beside Qt threads)."""
    workers = min(os.cpu_count() or 1, 4)
    if workers < 2:
        return None
    if not _POOL:
        import multiprocessing

        if "forkserver" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([__name__])
        else:
            ctx = multiprocessing.get_context("spawn")
        _POOL.append(ProcessPoolExecutor(max_workers=workers, mp_context=ctx))
    return _POOL[0]


def _run_parallel(fn, items: list, progress, cancel, root) -> list:
    """fn over items in batches, in worker processes when there are many; in order."""
    if not items:
        return []
    batches = [items[i:i + BATCH] for i in range(0, len(items), BATCH)]
    pool = _pool() if len(items) >= PARALLEL_MIN else None
    results = pool.map(fn, batches) if pool is not None else map(fn, batches)
    out: list = []
    try:
        for batch_result in results:
            out.extend(batch_result)
            if progress:
                progress(len(out))
            if cancel and cancel():
                raise Cancelled(f"Loading {root} was cancelled.")
    except BrokenProcessPool:
        _POOL.clear()
        return [r for batch in batches for r in fn(batch)]
    return out


# -- the store ----------------------------------------------------------------------------------
class FileStore(Store):
    """A read-only mlruns folder. Runs are read once, in parallel, and cached in the user's
    cache folder keyed by each run's file signatures, so reopening reads only what changed."""

    kind = "file"

    def __init__(self, root, cache: bool = True):
        root = Path(root)
        super().__init__(root.resolve().as_uri())
        self.root = root.resolve()
        if not self.root.is_dir():
            raise StoreNotFound(f"{self.root} is not a folder.", str(self.root))
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise StorePermission(f"Permission denied: {self.root}", str(self.root))
        self.use_cache = cache
        self._exp_dirs: dict[str, Path] | None = None
        self._exps: pd.DataFrame | None = None
        self._tables: dict[str, RunTable] = {}
        self._run_dirs: dict[str, str] = {}

    # experiments
    def _experiment_dirs(self) -> dict[str, tuple[Path, bool]]:
        """experiment id -> (folder, in .trash)."""
        found: dict[str, tuple[Path, bool]] = {}
        for parent, trashed in ((self.root, False), (self.root / TRASH, True)):
            try:
                entries = sorted(os.scandir(parent), key=lambda e: e.name)
            except FileNotFoundError:
                continue
            except OSError as exc:
                self.problem(parent, f"cannot list: {exc.strerror or exc}")
                continue
            for entry in entries:
                if entry.name in NOT_EXPERIMENTS and not trashed:
                    continue
                if entry.is_dir() and entry.name not in found:
                    found[entry.name] = (Path(entry.path), trashed)
        return found

    def _experiments_all(self) -> pd.DataFrame:
        with self._lock:
            if self._exps is not None:
                return self._exps
            rows = []
            self._exp_dirs = {}
            for exp_id, (folder, trashed) in self._experiment_dirs().items():
                meta_path = folder / "meta.yaml"
                try:
                    meta = parse_meta(_read_bytes(str(meta_path)))
                except FileNotFoundError:
                    continue  # not an experiment (an artifact folder, say)
                except (OSError, ValueError, yaml.YAMLError) as exc:
                    self.problem(meta_path, f"malformed experiment metadata: {str(exc).splitlines()[0]}")
                    continue
                if not isinstance(meta, dict) or "name" not in meta and "experiment_id" not in meta:
                    self.problem(meta_path, "not an experiment's meta.yaml")
                    continue
                if str(meta.get("experiment_id", exp_id)) != exp_id:
                    self.problem(meta_path, f"says experiment {meta.get('experiment_id')} but sits in "
                                            f"folder {exp_id}; MLflow ignores it too")
                    continue
                self._exp_dirs[exp_id] = folder
                stage = "deleted" if trashed else (meta.get("lifecycle_stage") or "active")
                row = {
                    "experiment_id": exp_id,
                    "name": meta.get("name"),
                    "lifecycle_stage": stage,
                    "artifact_location": meta.get("artifact_location"),
                    "creation_time": meta.get("creation_time"),
                    "last_update_time": meta.get("last_update_time"),
                }
                problems: list = []
                for key, path in _walk_files(str(folder / "tags"), "", [], problems):
                    row["tags." + key] = _text(path, problems)
                for where, msg in problems:
                    self.problem(where, msg)
                rows.append(row)
            frame = pd.DataFrame(rows, columns=None if rows else EXPERIMENT_COLUMNS)
            for col in ("creation_time", "last_update_time"):
                frame[col] = pd.array(frame[col].tolist(), dtype="Int64") if len(frame) else frame[col]
            self._exps = frame
            return frame

    # runs
    def _run_jobs(self, exp_id: str) -> list[tuple[str, str]]:
        folder = self._exp_dirs[exp_id]
        try:
            return [(e.path, exp_id) for e in os.scandir(folder)
                    if e.name not in NOT_RUNS and e.is_dir()]
        except OSError as exc:
            self.problem(folder, f"cannot list: {exc.strerror or exc}")
            return []

    def _run_table(self, experiment_ids, progress=None, cancel=None) -> RunTable:
        self._experiments_all()
        wanted = list(self._exp_dirs) if experiment_ids is None else [
            e for e in experiment_ids if e in self._exp_dirs]
        missing = [e for e in wanted if e not in self._tables]
        if missing:
            self._load(missing, progress, cancel)
        return RunTable.concat([self._tables[e] for e in wanted])

    def _cache_file(self) -> Path:
        digest = hashlib.sha1(str(self.root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        return cache_dir() / "runs" / f"{digest}.pkl"

    def _load_cache(self) -> dict:
        """experiment id -> {"sigs": {run_dir: digest}, "table": RunTable,
        "problems": {run_dir: [...]}, "run_ids": {run_dir: run_id}}."""
        if not self.use_cache:
            return {}
        try:
            with open(self._cache_file(), "rb") as fh:
                data = pickle.load(fh)
            if data.get("version") == CACHE_VERSION and data.get("root") == str(self.root):
                return data["experiments"]
        except Exception:  # a missing, old or damaged cache is just a cold start
            pass
        return {}

    def _save_cache(self, experiments: dict) -> None:
        path = self._cache_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump({"version": CACHE_VERSION, "root": str(self.root), "experiments": experiments},
                            fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache we cannot write only costs speed

    def _load(self, exp_ids: list[str], progress=None, cancel=None) -> None:
        """Read these experiments' runs: cached tables where no run folder changed, the changed
        and new runs from disk (in parallel when there are many)."""
        jobs = {e: self._run_jobs(e) for e in exp_ids}
        total = sum(len(j) for j in jobs.values())
        cache = self._load_cache()
        # 1. Which cached runs are unchanged (one stat pass; the warm path).
        known = [d for e in exp_ids if e in cache for d, _ in jobs[e] if d in cache[e]["sigs"]]
        now = dict(zip(known, _run_parallel(_signatures, known, self._progress(progress, total, 0.5), cancel,
                                            self.root), strict=True))
        unchanged = {d for d in known if now[d] is not None}
        fresh = []
        for e in exp_ids:
            sigs = cache.get(e, {}).get("sigs", {})
            for d, _ in jobs[e]:
                if not (d in unchanged and now[d] == sigs.get(d)):
                    unchanged.discard(d)
                    fresh.append((d, e))
        # 2. Read what changed.
        done = len(known) // 2
        read = dict(zip([d for d, _ in fresh],
                        _run_parallel(_read_many, fresh, self._progress(progress, total, 1.0, done), cancel,
                                      self.root), strict=True))
        # 3. Tables: cached rows of unchanged runs + rows of the runs just read.
        changed = False
        for e in exp_ids:
            entry = cache.get(e) or {"sigs": {}, "table": RunTable(), "problems": {}, "run_ids": {}}
            dirs = [d for d, _ in jobs[e]]
            mine = [d for d in dirs if d in read]
            if not mine and set(dirs) == set(entry["sigs"]):
                table = entry["table"]
            else:
                changed = True
                keep = [d for d in dirs if d in unchanged]
                base = entry["table"].subset([entry["run_ids"][d] for d in keep if d in entry["run_ids"]])
                records = [(d, read[d][1]) for d in mine if read[d][1] is not None]
                new = [rec for _, rec in records if rec[0] is not None]
                table = RunTable.concat([base, _table(new, self._datasets(e, new))])
                entry = {
                    "sigs": {**{d: entry["sigs"][d] for d in keep},
                             **{d: read[d][0] for d in mine if read[d][0] is not None}},
                    "table": table,
                    "problems": {**{d: entry["problems"].get(d, []) for d in keep},
                                 **{d: rec[5] for d, rec in records}},
                    "run_ids": {**{d: entry["run_ids"][d] for d in keep if d in entry["run_ids"]},
                                **{d: rec[0][0] for d, rec in records if rec[0] is not None}},
                }
                # A run whose signature could not be taken is never served from the cache.
                entry["sigs"] = {d: sig for d, sig in entry["sigs"].items() if d in entry["run_ids"]}
                cache[e] = entry
            for d in dirs:
                for where, msg in entry["problems"].get(d, []):
                    self.problem(where, msg)
            self._run_dirs.update({run_id: d for d, run_id in entry["run_ids"].items()})
            self._tables[e] = table
        if changed and self.use_cache:
            self._save_cache(cache)
        if progress:
            progress(total, total)

    @staticmethod
    def _progress(progress, total, share, start=0):
        if progress is None:
            return None
        return lambda n: progress(min(total, start + int(n * share)), total)

    def _datasets(self, exp_id: str, records: list) -> pd.DataFrame | None:
        """The datasets these runs used, from the experiment's datasets/ folder."""
        uses = [(rec[0][0], ds_id, ctx) for rec in records for ds_id, ctx in rec[4]]
        if not uses:
            return None
        known = {}
        for ds_id in {u[1] for u in uses}:
            path = self._exp_dirs[exp_id] / "datasets" / ds_id / "meta.yaml"
            try:
                known[ds_id] = yaml.load(_read_bytes(str(path)), Loader=_Loader) or {}  # noqa: S506
            except (OSError, yaml.YAMLError) as exc:
                self.problem(path, f"unreadable dataset record: {exc}")
        rows = [(run_id, known[d].get("name"), known[d].get("digest"), ctx, known[d].get("source_type"),
                 known[d].get("source")) for run_id, d, ctx in uses if d in known]
        return pd.DataFrame(rows, columns=["run_id", "name", "digest", "context", "source_type", "source"])

    def run_inputs(self, run_id: str) -> list[dict]:
        table = self._run_table(None)
        if table.datasets is None:
            return []
        mine = table.datasets[table.datasets["run_id"] == run_id]
        return mine.drop(columns=["run_id"]).to_dict("records")

    def run_dir(self, run_id: str) -> Path | None:
        self._run_table(None)
        d = self._run_dirs.get(run_id)
        return Path(d) if d else None

    def _find_run_dirs(self, run_ids) -> dict[str, str]:
        """run id -> folder, without reading the runs (a history request needs no run table)."""
        self._experiments_all()
        found = {r: self._run_dirs[r] for r in run_ids if r in self._run_dirs}
        for run_id in run_ids:
            if run_id in found:
                continue
            for folder in self._exp_dirs.values():
                candidate = os.path.join(folder, run_id)
                if os.path.isfile(os.path.join(candidate, "meta.yaml")):
                    found[run_id] = candidate
                    break
        return found

    def _forget(self) -> None:
        self._exps = None
        self._tables.clear()

    def metric_tail(self, run_ids, keys=None) -> pd.DataFrame:
        """Only the bytes appended to each metric file since the last call (complete lines)."""
        return self.metric_history(run_ids, keys, _tail=self.__dict__.setdefault("_offsets", {}))

    def metric_history(self, run_ids, keys=None, _tail: dict | None = None) -> pd.DataFrame:
        run_ids = list(dict.fromkeys(run_ids))
        dirs = self._find_run_dirs(run_ids)
        parts_run, parts_key, parts_t, parts_v, parts_s = [], [], [], [], []
        wanted = None if keys is None else set(keys)
        for run_id in run_ids:
            run_dir = dirs.get(run_id)
            if run_dir is None:
                continue
            problems: list = []
            if wanted is not None:
                # One file per key (nested keys are nested paths): no need to list the folder.
                files = [(k, os.path.join(run_dir, "metrics", *k.split("/"))) for k in wanted]
            else:
                files = _walk_files(os.path.join(run_dir, "metrics"), "", [], problems)
            for key, path in files:
                try:
                    data = _read_bytes(path) if _tail is None else _read_tail(path, _tail)
                    ts, values, steps, _bad = parse_metric_lines(data)
                except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                    continue  # this run never logged that metric
                except OSError as exc:
                    problems.append((path, f"cannot read: {exc.strerror or exc}"))
                    continue
                n = len(values)
                parts_run.append(np.full(n, run_id, dtype=object))
                parts_key.append(np.full(n, key, dtype=object))
                parts_t.append(ts)
                parts_v.append(values)
                parts_s.append(steps)
            for where, msg in problems:
                self.problem(where, msg)
        if not parts_run:
            return empty_history()
        return history_frame(np.concatenate(parts_run), np.concatenate(parts_key),
                             np.concatenate(parts_s), np.concatenate(parts_t),
                             np.concatenate(parts_v))

    def _logged_models_all(self) -> pd.DataFrame:
        self._experiments_all()
        rows = []
        for exp_id, folder in self._exp_dirs.items():
            try:
                entries = [e for e in os.scandir(folder / "models") if e.is_dir()]
            except OSError:
                continue
            for entry in entries:
                path = os.path.join(entry.path, "meta.yaml")
                try:
                    m = parse_meta(_read_bytes(path)) or {}
                except FileNotFoundError:
                    continue
                except (OSError, ValueError, yaml.YAMLError) as exc:
                    self.problem(path, f"malformed logged model: {exc}")
                    continue
                status = m.get("status")
                rows.append([m.get("model_id", entry.name), str(m.get("experiment_id", exp_id)), m.get("name"),
                             m.get("source_run_id"), LOGGED_MODEL_STATUS.get(status, status),
                             m.get("model_type") or None, m.get("artifact_location"),
                             m.get("creation_timestamp"), m.get("last_updated_timestamp"),
                             m.get("lifecycle_stage") or "active"])
        return pd.DataFrame(rows, columns=LOGGED_MODEL_COLUMNS)

    def registered_models(self) -> pd.DataFrame:
        from .registry import file_registered_models

        return file_registered_models(self)

    def model_versions(self, name: str | None = None) -> pd.DataFrame:
        from .registry import file_model_versions

        return file_model_versions(self, name)


def _read_tail(path: str, offsets: dict) -> bytes:
    """The complete lines appended to ``path`` since ``offsets[path]``; a file that shrank
    (rewritten) is read again from the start."""
    with open(path, "rb") as fh:
        start = offsets.get(path, 0)
        if os.fstat(fh.fileno()).st_size < start:
            start = 0
        fh.seek(start)
        data = fh.read()
    end = data.rfind(b"\n") + 1  # a half-written last line waits for the next call
    offsets[path] = start + end
    return data[:end]


def _table(records: list, datasets: pd.DataFrame | None) -> RunTable:
    if not records:
        return RunTable(datasets=datasets)
    info = pd.DataFrame(
        [r[0] for r in records],
        columns=["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time",
                 "run_name", "user_id", "lifecycle_stage"],
    )
    info = info.astype({"start_time": "float64", "end_time": "float64"})
    for col in ("run_id", "experiment_id", "status", "artifact_uri", "run_name", "user_id",
                "lifecycle_stage"):
        info[col] = info[col].astype(object)

    def long(idx: int, cols: list[str]):
        run_col, rows = [], []
        for r in records:
            items = r[idx]
            if items:
                run_col.extend([r[0][0]] * len(items))
                rows.extend(items)
        frame = pd.DataFrame(rows, columns=cols[1:]) if rows else pd.DataFrame(columns=cols[1:])
        frame.insert(0, "run_id", pd.Series(run_col, dtype=object))
        return frame

    metrics = long(1, ["run_id", "key", "value", "step", "timestamp"])
    metrics = metrics.astype({"key": object, "value": "float64", "step": "int64", "timestamp": "int64"})
    params = long(2, ["run_id", "key", "value"]).astype(object)
    tags = long(3, ["run_id", "key", "value"]).astype(object)
    # The run name MLflow shows comes from meta.yaml, else from the mlflow.runName tag.
    names = dict(zip(tags.loc[tags["key"] == "mlflow.runName", "run_id"],
                     tags.loc[tags["key"] == "mlflow.runName", "value"], strict=False))
    missing = info["run_name"].isna()
    if missing.any():
        info.loc[missing, "run_name"] = info.loc[missing, "run_id"].map(names)
        info["run_name"] = info["run_name"].astype(object).where(info["run_name"].notna(), None)
    return RunTable(info, metrics, params, tags, datasets)


__all__ = ["FileStore", "parse_meta", "parse_metric_lines", "read_run", "StoreCorrupt", "StoreError"]
