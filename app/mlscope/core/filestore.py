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
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .errors import StoreNotFound, StorePermission
from .frame_codec import pack_table, unpack_table
from .locate import Location
from .mlruns import (
    NOT_EXPERIMENTS,
    NOT_RUNS,
    TRASH,
    RunRecord,
    load_yaml,
    parse_meta,
    parse_metric_lines,
    read_bytes,
    read_runs,
    read_text,
    run_parallel,
    run_signatures,
    walk_files,
)
from .paths import cache_dir
from .store import (
    EXPERIMENT_COLUMNS,
    LOGGED_MODEL_COLUMNS,
    LOGGED_MODEL_STATUS,
    Store,
    empty_history,
    history_frame,
)
from .table import RunTable, fill_run_names, info_frame

CACHE_VERSION = 3  # 3: tables packed by frame_codec
CACHE_KEEP = 24  # run caches of this many stores are kept; the least recently written go


def _evict(folder: Path, keep: int) -> None:
    files = sorted(folder.glob("*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


# -- the store ----------------------------------------------------------------------------------
class FileStore(Store):
    """A read-only mlruns folder. Runs are read once, in parallel, and cached in the user's
    cache folder keyed by each run's file signatures, so reopening reads only what changed."""

    kind = "file"
    streams_partial = True

    def __init__(self, root, cache: bool = True, location: Location | None = None):
        root = Path(root).resolve()
        super().__init__(root.as_uri(), location or Location("file", root.as_uri(), root))
        self.root = root
        if not self.root.is_dir():
            raise StoreNotFound(f"{self.root} is not a folder.", str(self.root))
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise StorePermission(f"Permission denied: {self.root}", str(self.root))
        self.use_cache = cache
        self._exp_dirs: dict[str, Path] | None = None
        self._exps: pd.DataFrame | None = None
        self._tables: dict[str, RunTable] = {}
        self._run_dirs: dict[str, str] = {}
        self._offsets: dict[str, int] = {}  # metric_tail(): bytes of each metric file read

    @property
    def write_uri(self) -> str:
        """The folder's file URI (MLflow 3.13+ writes there only with MLFLOW_ALLOW_FILE_STORE)."""
        return self.uri

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
            exp_dirs: dict[str, Path] = {}  # published whole at the end: readers never see half
            for exp_id, (folder, trashed) in self._experiment_dirs().items():
                meta_path = folder / "meta.yaml"
                try:
                    meta = parse_meta(read_bytes(str(meta_path)))
                except FileNotFoundError:
                    continue  # not an experiment (an artifact folder, say)
                except OSError as exc:
                    self.problem(meta_path, f"cannot read: {exc.strerror or exc}")
                    continue
                except (ValueError, yaml.YAMLError) as exc:
                    self.problem(meta_path, f"malformed experiment metadata: {str(exc).splitlines()[0]}")
                    continue
                if not isinstance(meta, dict) or "name" not in meta and "experiment_id" not in meta:
                    self.problem(meta_path, "not an experiment's meta.yaml")
                    continue
                if str(meta.get("experiment_id", exp_id)) != exp_id:
                    self.problem(meta_path, f"says experiment {meta.get('experiment_id')} but sits in "
                                            f"folder {exp_id}; MLflow ignores it too")
                    continue
                exp_dirs[exp_id] = folder
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
                for key, path in walk_files(str(folder / "tags"), "", None, problems):
                    row["tags." + key] = read_text(path, problems)
                for where, msg in problems:
                    self.problem(where, msg)
                rows.append(row)
            frame = pd.DataFrame(rows, columns=None if rows else EXPERIMENT_COLUMNS)
            for col in ("creation_time", "last_update_time"):
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
            self._exp_dirs = exp_dirs
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

    def _run_table(self, experiment_ids, progress=None, cancel=None, partial=None) -> RunTable:
        self._experiments_all()
        wanted = list(self._exp_dirs) if experiment_ids is None else [
            e for e in experiment_ids if e in self._exp_dirs]
        with self._lock:  # one reader at a time: a watch tick and a load may overlap
            return self._run_table_locked(wanted, progress, cancel, partial)

    def _run_table_locked(self, wanted, progress, cancel, partial) -> RunTable:
        missing = [e for e in wanted if e not in self._tables]
        if missing:
            ready = RunTable.concat([self._tables[e] for e in wanted if e in self._tables])
            self._load(missing, progress, cancel, partial and (lambda t: partial(RunTable.concat([ready, t]))))
        return RunTable.concat([self._tables[e] for e in wanted])

    def _cache_file(self) -> Path:
        digest = hashlib.sha1(str(self.root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        return cache_dir() / "runs" / f"{digest}.pkl"

    def _cache_file_exists(self) -> bool:
        return self.use_cache and self._cache_file().is_file()

    def _load_cache(self) -> dict:
        """experiment id -> {"sigs": {run_dir: digest}, "table": RunTable,
        "problems": {run_dir: [...]}, "run_ids": {run_dir: run_id}}."""
        if not self.use_cache:
            return {}
        try:
            with open(self._cache_file(), "rb") as fh:
                data = pickle.load(fh)
            if data.get("version") == CACHE_VERSION and data.get("root") == str(self.root):
                return {e: {**entry, "table": unpack_table(entry["table"])}
                        for e, entry in data["experiments"].items()}
        except Exception:  # a missing, old or damaged cache is just a cold start
            pass
        return {}

    def _save_cache(self, experiments: dict) -> None:
        path = self._cache_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                packed = {e: {**entry, "table": pack_table(entry["table"])}
                          for e, entry in experiments.items()}
                pickle.dump({"version": CACHE_VERSION, "root": str(self.root), "experiments": packed},
                            fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
            _evict(path.parent, keep=CACHE_KEEP)
        except OSError:
            pass  # a cache we cannot write only costs speed

    def _load(self, exp_ids: list[str], progress=None, cancel=None, partial=None) -> None:
        """Read these experiments' runs: cached tables where no run folder changed, the changed
        and new runs from disk (in parallel when there are many). ``partial(table)`` gets the
        runs read so far, about once a second, while a long read goes on."""
        jobs = {e: self._run_jobs(e) for e in exp_ids}
        total = sum(len(j) for j in jobs.values())
        # 1. Which cached runs are unchanged: one stat pass over every run folder, while the
        # cache is loaded here (the warm path). Without a cache there is nothing to compare.
        cache: dict = {}
        dirs = [d for e in exp_ids for d, _ in jobs[e]] if self._cache_file_exists() else []
        sigs = run_parallel(run_signatures, dirs, self._progress(progress, total, 0.5), cancel, self.root,
                             meanwhile=lambda: cache.update(self._load_cache()))
        now = dict(zip(dirs, sigs, strict=True))
        known = [d for e in exp_ids if e in cache for d, _ in jobs[e] if d in cache[e]["sigs"]]
        unchanged = {d for d in known if now.get(d) is not None}
        fresh = []
        for e in exp_ids:
            sigs = cache.get(e, {}).get("sigs", {})
            for d, _ in jobs[e]:
                if not (d in unchanged and now[d] == sigs.get(d)):
                    unchanged.discard(d)
                    fresh.append((d, e))
        # 2. Read what changed.
        done = len(known) // 2
        results = run_parallel(read_runs, fresh, self._progress(progress, total, 1.0, done), cancel,
                               self.root, self._streamer(partial, cache, jobs, unchanged))
        read_sigs, read = {}, {}  # run folder -> signature, RunRecord (None: not a run)
        for (d, _e), (sig, rec) in zip(fresh, results, strict=True):
            read_sigs[d], read[d] = sig, rec
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
                records = [(d, read[d]) for d in mine if read[d] is not None]
                new, seen, copies = [], set(base.info["run_id"]), set()
                for d, rec in records:  # a copied run folder (run_backup/) holds the same run id
                    if rec.info is None:
                        continue
                    if rec.run_id in seen:
                        rec.problems.append((d, f"run {rec.run_id} is also in another folder of this "
                                                "experiment; shown once"))
                        copies.add(d)
                        continue
                    seen.add(rec.run_id)
                    new.append(rec)
                table = RunTable.concat([base, _table(new, self._datasets(e, new))])
                entry = {
                    "sigs": {**{d: entry["sigs"][d] for d in keep},
                             **{d: read_sigs[d] for d in mine if read_sigs[d] is not None}},
                    "table": table,
                    "problems": {**{d: entry["problems"].get(d, []) for d in keep},
                                 **{d: rec.problems for d, rec in records}},
                    "run_ids": {**{d: entry["run_ids"][d] for d in keep if d in entry["run_ids"]},
                                **{d: rec.run_id for d, rec in records if rec.info is not None and d not in copies}},
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
    def _streamer(partial, cache, jobs, unchanged, every_s: float = 1.0):
        """An on_batch callback handing ``partial`` the cached unchanged runs plus the runs
        read so far, at most once every ``every_s`` seconds (each call builds a table)."""
        if partial is None:
            return None
        bases = [entry["table"].subset([entry["run_ids"][d] for d, _ in jobs.get(e, [])
                                        if d in unchanged and d in entry["run_ids"]])
                 for e, entry in cache.items() if e in jobs]
        last = [time.monotonic()]

        def on_batch(results):
            if time.monotonic() - last[0] < every_s:
                return
            new = [rec for _sig, rec in results if rec is not None and rec.info is not None]
            partial(RunTable.concat([*bases, _table(new, None)]))
            last[0] = time.monotonic()

        return on_batch

    @staticmethod
    def _progress(progress, total, share, start=0):
        if progress is None:
            return None
        return lambda n: progress(min(total, start + int(n * share)), total)

    def _datasets(self, exp_id: str, records: list) -> pd.DataFrame | None:
        """The datasets these runs used, from the experiment's datasets/ folder."""
        uses = [(rec.run_id, ds_id, ctx) for rec in records for ds_id, ctx in rec.inputs]
        if not uses:
            return None
        known = {}
        for ds_id in {u[1] for u in uses}:
            path = self._exp_dirs[exp_id] / "datasets" / ds_id / "meta.yaml"
            try:
                record = load_yaml(read_bytes(str(path))) or {}
                if not isinstance(record, dict):
                    raise yaml.YAMLError("it is not a key: value map")
                known[ds_id] = record
            except (OSError, yaml.YAMLError) as exc:
                self.problem(path, f"unreadable dataset record: {exc}")
        rows = [(run_id, known[d].get("name"), known[d].get("digest"), ctx, known[d].get("source_type"),
                 known[d].get("source")) for run_id, d, ctx in uses if d in known]
        return pd.DataFrame(rows, columns=["run_id", "name", "digest", "context", "source_type", "source"])

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
        return self.metric_history(run_ids, keys, _tail=self._offsets)

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
                files = walk_files(os.path.join(run_dir, "metrics"), "", None, problems)
            for key, path in files:
                try:
                    data = read_bytes(path) if _tail is None else _read_tail(path, _tail)
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
                    m = parse_meta(read_bytes(path)) or {}
                    if not isinstance(m, dict):
                        raise ValueError("it is not a key: value map")
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
        from .registry import files

        return files.registered_models(self.root / "models", self.problem)

    def model_versions(self, name: str | None = None) -> pd.DataFrame:
        from .registry import files

        return files.model_versions(self.root / "models", self.problem, name)


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


def _table(records: list[RunRecord], datasets: pd.DataFrame | None) -> RunTable:
    if not records:
        return RunTable(datasets=datasets)
    info = info_frame(r.info for r in records)

    def long(field: str, cols: list[str]):
        run_col, rows = [], []
        for r in records:
            items = getattr(r, field)
            if items:
                run_col.extend([r.run_id] * len(items))
                rows.extend(items)
        frame = pd.DataFrame(rows, columns=cols[1:]) if rows else pd.DataFrame(columns=cols[1:])
        frame.insert(0, "run_id", pd.Series(run_col, dtype=object))
        return frame

    metrics = long("metrics", ["run_id", "key", "value", "step", "timestamp"])
    metrics = metrics.astype({"key": object, "value": "float64", "step": "int64", "timestamp": "int64"})
    params = long("params", ["run_id", "key", "value"]).astype(object)
    tags = long("tags", ["run_id", "key", "value"]).astype(object)
    fill_run_names(info, tags)
    return RunTable(info, metrics, params, tags, datasets)


__all__ = ["FileStore"]
