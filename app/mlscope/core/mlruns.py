"""MLflow's file-store format (``mlruns`` folders): parse meta.yaml and metric files, survey
and read one run folder, and read many run folders in worker processes.

Imports neither pandas nor the rest of mlscope, so the reader processes stay small and start
fast; :mod:`mlscope.core.filestore` turns what they return into tables.
"""

from __future__ import annotations

import hashlib
import multiprocessing.context as _contexts
import os
import re
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

import numpy as np
import yaml

from .errors import Cancelled

RUN_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
TRASH = ".trash"
NOT_EXPERIMENTS = {TRASH, "models"}
NOT_RUNS = {"tags", "datasets", "traces", "models"}

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


_PLAIN_KEYS: dict[str, bool] = {}  # the few keys MLflow writes, checked once


def _plain_key(key: str) -> bool:
    ok = _PLAIN_KEYS.get(key)
    if ok is None:
        ok = bool(key) and key[0] not in _SPECIAL_START and key[0] != " " and key[-1] != " " \
            and _plain_is_string(key)
        if len(_PLAIN_KEYS) < 256:
            _PLAIN_KEYS[key] = ok
    return ok


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
                return load_yaml(text)
        if not _plain_key(key):
            return load_yaml(text)
        if not value:
            out[key] = None
        elif value[0] == "'":
            if len(value) < 2 or value[-1] != "'" or "'" in value[1:-1].replace("''", ""):
                return load_yaml(text)
            out[key] = value[1:-1].replace("''", "'")
        elif _INT.match(value):  # a decimal integer is an int to PyYAML too
            out[key] = int(value)
        elif value == "[]":
            out[key] = []
        elif value[0] in _SPECIAL_START or " #" in value or ": " in value or value[-1] in " :":
            return load_yaml(text)
        elif _plain_is_string(value):
            out[key] = value
        else:
            return load_yaml(text)
    return out or load_yaml(text)


def load_yaml(data: bytes | str):
    """A YAML file of a store as PyYAML's safe loader reads it (what parse_meta's fast path
    leaves, dataset and input records)."""
    return yaml.load(data, Loader=_Loader)  # noqa: S506 - a safe loader


_O_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 16


def read_bytes(path: str) -> bytes:
    """A whole file, through the OS calls directly: twice as fast as ``open().read()`` on the
    tiny files an mlruns folder is made of, and there are 23 of them per run."""
    fd = os.open(path, _O_READ)
    try:
        data = os.read(fd, _CHUNK)
        if len(data) < _CHUNK:
            return data
        parts = [data]
        while more := os.read(fd, 1 << 20):
            parts.append(more)
        return b"".join(parts)
    finally:
        os.close(fd)


def _stat_sig(st) -> tuple:
    return (st.st_mtime_ns, st.st_size)


# -- metric files ---------------------------------------------------------------------------
_NOT_SEPARATORS = bytes(b for b in range(256) if b not in b" \t\n\r\x0b\x0c")


def _lines_of_three(data: bytes, tokens: list) -> bool:
    """Whether every line of ``data`` is three fields split by single spaces, each line
    ended by a newline, as MLflow writes them (``tokens`` is ``data.split()``). Checked on
    the separators alone, in C: anything else is left to the line-by-line parser."""
    n = len(tokens) // 3
    if not n or len(tokens) != 3 * n:
        return False
    separators = data.translate(None, _NOT_SEPARATORS)
    return separators == b"  \n" * n or separators == b"  \r\n" * n


def parse_metric_lines(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(timestamps, values, steps, bad lines) of a metric file in MLflow's format.

    Lines are ``timestamp value [step]`` (2 or 3 fields; 5 with a dataset name and digest).
    MLflow fails the whole search on one malformed line; we skip it and count it.
    """
    tokens = data.split()
    if _lines_of_three(data, tokens):
        try:
            # One conversion for the whole file; timestamps and steps are exact as float64 up
            # to 2**53 and must be whole numbers, else the line-by-line path decides.
            grid = np.array(tokens, dtype=np.float64).reshape(-1, 3)
            ints = grid[:, 0::2]
            if np.all(np.abs(ints) < 2.0**53) and np.all(ints == np.trunc(ints)):
                return (grid[:, 0].astype(np.int64), grid[:, 1].copy(), grid[:, 2].astype(np.int64), 0)
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


_DIGITS = b"0123456789"
# Digits go; what a usual metric file holds besides them stays ("+" as "-"); the rest is "x".
_PUNCTUATION = bytes(b if b in b"0123456789.-e \r\n" else ord("-") if b == ord("+") else ord("x")
                     for b in range(256))


def _plain_values(data: bytes, tokens: list) -> bool:
    """Whether ``data`` holds only plain numbers and every value (the middle field) is one
    ``float()`` reads, checked at C speed on the punctuation alone: at most one dot and at
    least one digit a field, a sign only where a field starts. Values with exponents are
    left to ``float()`` itself. Timestamps and steps are checked by the caller."""
    rest = data.translate(_PUNCTUATION, _DIGITS)
    if b"x" in rest or b".." in rest:
        return False
    values = tokens[1::3]
    if b"e" in rest:
        try:
            deque(map(float, values), maxlen=0)
        except ValueError:
            return False
        return True
    if b"." in values:  # a dot alone
        return False
    if b"-" not in rest:  # no signs: the usual file
        return True
    return (rest.count(b"-") == data.count(b" -") + data.count(b" +")
            and not {b"-", b"+", b"-.", b"+."}.intersection(values))


def latest_metric(data: bytes) -> tuple[tuple[float, int, int] | None, int]:
    """(latest point as (value, step, timestamp), or None when no line is readable; number
    of malformed lines) of a metric file, as MLflow picks it.

    The run table needs only this point, so a usual file (plain numbers, three fields a
    line, whole timestamps) is settled by its steps alone and only the lines at the top step
    are converted to numbers: three times faster than parsing every value. The other values
    are checked by their shape (:func:`_plain_values`), so a malformed one below the top step
    is counted here too, as the history would count it. Anything else takes
    :func:`parse_metric_lines`.
    """
    tokens = data.split()
    if (_lines_of_three(data, tokens) and _plain_values(data, tokens)
            and b"".join(tokens[0::3]).isdigit()):
        try:
            steps = list(map(int, tokens[2::3]))
            top = max(steps)
            if steps[-1] == top and steps.count(top) == 1:
                i = len(steps) - 1
            else:  # max by (step, timestamp, value), ties in file order, as MLflow's max()
                tied = [i for i, s in enumerate(steps) if s == top]
                i = max(tied, key=lambda i: (int(tokens[3 * i]), float(tokens[3 * i + 1])))
            t = int(tokens[3 * i])
            if t < 2**63 and -(2**63) <= top < 2**63:
                return (float(tokens[3 * i + 1]), top, t), 0
        except ValueError:
            pass
    ts, values, steps, bad = parse_metric_lines(data)
    if len(values) == 0:
        return None, bad
    value, step, t = latest_point(ts, values, steps)
    return (float(value), int(step), int(t)), bad


# -- one run ------------------------------------------------------------------------------------
class RunRecord(NamedTuple):
    """What one run folder holds, as the reader processes hand it back (a tuple: it crosses
    processes by pickle, and there are 10,000 of them).

    ``info``: the run-info tuple (``table.INFO_COLUMNS + EXTRA_COLUMNS`` order), None when
    the run cannot be read (the reason is in ``problems``); ``metrics``: (key, value, step,
    timestamp) of the latest point per key; ``params``, ``tags``: (key, text);
    ``inputs``: (dataset id, context); ``problems``: (path, message).
    """

    info: tuple | None
    metrics: list
    params: list
    tags: list
    inputs: list
    problems: list

    @property
    def run_id(self) -> str | None:
        return self.info[0] if self.info is not None else None


def _unreadable(problems: list) -> RunRecord:
    return RunRecord(None, [], [], [], [], problems)


# -- one run's files ---------------------------------------------------------------------------
def clean_name(name: str, path: str, problems: list) -> str:
    """A file name as text: names that are not UTF-8 are shown with replacement characters."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        problems.append((path, "name is not UTF-8; shown with replacement characters"))
        return os.fsencode(name).decode("utf-8", errors="replace")


def walk_files(folder: str, prefix: str, sig: list | None, problems: list) -> list[tuple[str, str]]:
    """(key, path) of every file under folder; nested folders make keys with '/'. Each file's
    name, mtime and size go to ``sig`` unless it is None."""
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
                out.extend(walk_files(entry.path, prefix + name + "/", sig, problems))
            else:
                out.append((prefix + name, entry.path))
                if sig is not None:
                    sig.append((entry.name, *_stat_sig(entry.stat())))
        except OSError as exc:
            problems.append((entry.path, f"cannot read: {exc.strerror or exc}"))
    return out


def read_text(path: str, problems: list) -> str | None:
    try:
        data = read_bytes(path)
    except OSError as exc:
        problems.append((path, f"cannot read: {exc.strerror or exc}"))
        return None
    return _decode(data, path, problems)


def _decode(data: bytes, path: str, problems: list) -> str:
    """A value file's text; bytes that are not UTF-8 are shown with replacement characters."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append((path, "not UTF-8; shown with replacement characters"))
        return data.decode("utf-8", errors="replace")


def survey_run(run_dir: str):
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
    except OSError:
        return None, files, problems
    for sub in ("metrics", "tags", "inputs"):  # their listings and file stats are the signature
        sig.append(sub)
        files[sub] = walk_files(os.path.join(run_dir, sub), "", sig, problems)
    params = os.path.join(run_dir, "params")  # written once: the folder's mtime shows new ones
    try:
        sig.append(("params", _stat_sig(os.stat(params))))
        files["params"] = walk_files(params, "", None, problems)
    except FileNotFoundError:
        files["params"] = []  # git drops empty folders: a run without params/ is still a run
    except OSError as exc:
        problems.append((params, f"cannot read: {exc.strerror or exc}"))
        files["params"] = []
    if problems:
        return None, files, problems
    return _digest(sig), files, problems


def read_run(run_dir: str, experiment_id: str, survey=None) -> RunRecord | None:
    """Everything about one run folder, as a :class:`RunRecord`.

    Returns None for a folder without meta.yaml (an artifact folder, not a run), and a
    record with ``info=None`` and the reason in ``problems`` for a run that cannot be read.
    """
    _sig, files, problems = survey or survey_run(run_dir)
    problems = list(problems)
    meta_path = os.path.join(run_dir, "meta.yaml")
    try:
        data = read_bytes(meta_path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _unreadable([(meta_path, f"cannot read: {exc.strerror or exc}")])

    def contents(kind):
        out = []
        for key, path in files.get(kind, []):
            try:
                out.append((key, read_bytes(path)))
            except OSError as exc:
                problems.append((path, f"cannot read: {exc.strerror or exc}"))
        return out

    record = _record(run_dir, experiment_id, data, contents("metrics"), contents("params"),
                     contents("tags"), problems)
    if record.info is None:
        return record
    for key, path in files.get("inputs", []):
        if key.endswith("meta.yaml"):
            try:
                m = load_yaml(read_bytes(path)) or {}
                if "dataset" in str(m.get("source_type", "")).lower() or m.get("source_type") == 1:
                    record.inputs.append((str(m.get("source_id")),
                                      (m.get("tags") or {}).get("mlflow.data.context")))
            except (OSError, yaml.YAMLError, AttributeError) as exc:
                problems.append((path, f"unreadable input record: {exc}"))
    return record


def _record(run_dir: str, experiment_id: str, meta_data: bytes, metrics: list, params: list,
            tags: list, problems: list):
    """A run's record from the bytes of its files: MLflow's reading of them, in one place.

    ``metrics``, ``params`` and ``tags`` are (key, file contents) pairs."""
    meta_path = os.path.join(run_dir, "meta.yaml")
    try:
        meta = parse_meta(meta_data)
        if not isinstance(meta, dict):
            raise ValueError("it is empty" if not meta_data.strip() else "it is not a key: value map")
    except (ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _unreadable([(meta_path, f"malformed run metadata: {msg}")])
    run_id = meta.get("run_id") or meta.get("run_uuid")
    if not run_id:
        return _unreadable([(meta_path, "run metadata has no run_id")])
    run_id = str(run_id)
    meta_exp = meta.get("experiment_id")
    if meta_exp is not None and str(meta_exp) != experiment_id:
        problems.append((run_dir, f"meta.yaml says experiment {meta_exp}, but the run is in "
                                  f"experiment {experiment_id}'s folder; MLflow ignores it too"))
        return _unreadable(problems)
    status = meta.get("status", 1)
    status = RUN_STATUSES.get(status, str(status)) if isinstance(status, int) else str(status)

    def _ms(v):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan

    run_name = meta.get("run_name")
    info = (run_id, experiment_id, status, meta.get("artifact_uri"), _ms(meta.get("start_time")),
            _ms(meta.get("end_time")), run_name if run_name not in ("", None) else None,
            meta.get("user_id"), meta.get("lifecycle_stage") or "active")

    latest = []
    for key, data in metrics:
        point, bad = latest_metric(data)
        if bad:
            problems.append((os.path.join(run_dir, "metrics", key), f"{bad} malformed line(s) skipped"))
        if point is not None:
            latest.append((key, *point))
        elif not bad:
            problems.append((os.path.join(run_dir, "metrics", key), "metric file is empty"))
    return RunRecord(info, latest, _texts(run_dir, "params", params, problems),
                     _texts(run_dir, "tags", tags, problems), [], problems)


def _texts(run_dir: str, kind: str, items: list, problems: list) -> list[tuple[str, str]]:
    return [(key, _decode(data, os.path.join(run_dir, kind, key), problems)) for key, data in items]


# -- the fast path: one pass over a plain run folder ----------------------------------------------
_O_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
_HAS_DIR_FD = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd


class _NotPlain(Exception):
    """The run folder has something the fast path leaves to survey_run() and read_run()."""


def _read_at(name: str, dir_fd: int, stat: bool = True) -> tuple[bytes, os.stat_result | None]:
    """A file in an open folder, and its stat taken before reading: a file that grows while
    it is read gets a signature older than what was read, so it is read again next time.
    Without ``stat``, a folder is still refused: reading it fails."""
    fd = os.open(name, _O_READ, dir_fd=dir_fd)
    try:
        st = os.fstat(fd) if stat else None
        if st is not None and st.st_mode & 0o170000 != 0o100000:  # a folder (nested key)...
            raise _NotPlain
        data = os.read(fd, _CHUNK)
        if len(data) == _CHUNK:
            raise _NotPlain
        return data, st
    finally:
        os.close(fd)


def _folder_at(name: str, dir_fd: int, sig: list | None) -> list[tuple[str, bytes]]:
    """(name, contents) of every file in a sub-folder of a run; stats go to ``sig``."""
    try:
        fd = os.open(name, _O_DIR, dir_fd=dir_fd)
    except FileNotFoundError:
        return []
    try:
        out = []
        for entry in os.listdir(fd):
            if not entry.isascii():
                raise _NotPlain
            data, st = _read_at(entry, fd, sig is not None)
            if st is not None:
                sig.append((entry, st.st_mtime_ns, st.st_size))
            out.append((entry, data))
        return out
    finally:
        os.close(fd)


def _read_plain(run_dir: str, experiment_id: str):
    """(signature, record) of a run folder in one pass, each file opened once relative to
    its folder, or None when the folder needs the careful path (nested keys, non-ASCII names,
    inputs, big files, anything unreadable). Same results as survey_run() + read_run()."""
    try:
        rfd = os.open(run_dir, _O_DIR)
    except OSError:
        return None
    try:
        meta, st = _read_at("meta.yaml", rfd)
        sig: list = [_stat_sig(st)]
        parts = {}
        for sub in ("metrics", "tags"):
            sig.append(sub)
            parts[sub] = _folder_at(sub, rfd, sig)
        sig.append("inputs")
        try:
            os.stat("inputs", dir_fd=rfd)
            return None
        except FileNotFoundError:
            pass
        try:
            sig.append(("params", _stat_sig(os.stat("params", dir_fd=rfd))))
            params = _folder_at("params", rfd, None)
        except FileNotFoundError:
            params = []
    except (OSError, _NotPlain):
        return None
    finally:
        os.close(rfd)
    problems: list = []
    record = _record(run_dir, experiment_id, meta, parts["metrics"], params, parts["tags"], problems)
    return _digest(sig), record


def _digest(sig: list) -> bytes:
    return hashlib.blake2b(repr(sig).encode("utf-8", "surrogateescape"), digest_size=16).digest()


def run_signature(run_dir: str) -> bytes | None:
    """survey_run()'s signature alone, by a lean walk: reopening a store takes one of these
    per run, so it skips everything the signature does not need (keys, paths, name checks)."""
    if not _HAS_DIR_FD:
        return _run_signature_by_path(run_dir)
    try:
        rfd = os.open(run_dir, _O_DIR)
    except OSError:
        return None
    try:
        sig: list = [_stat_sig(os.stat("meta.yaml", dir_fd=rfd))]
        for sub in ("metrics", "tags", "inputs"):
            sig.append(sub)
            try:
                fd = os.open(sub, _O_DIR, dir_fd=rfd)
            except FileNotFoundError:
                continue
            try:
                for name in os.listdir(fd):
                    st = os.stat(name, dir_fd=fd)
                    if st.st_mode & 0o170000 == 0o040000:  # nested keys: the careful walk
                        return _run_signature_by_path(run_dir)
                    sig.append((name, st.st_mtime_ns, st.st_size))
            finally:
                os.close(fd)
        try:
            sig.append(("params", _stat_sig(os.stat("params", dir_fd=rfd))))
        except FileNotFoundError:
            pass
    except OSError:
        return None
    finally:
        os.close(rfd)
    return _digest(sig)


def _run_signature_by_path(run_dir: str) -> bytes | None:
    try:
        sig: list = [_stat_sig(os.stat(os.path.join(run_dir, "meta.yaml")))]
        for sub in ("metrics", "tags", "inputs"):
            sig.append(sub)
            _sig_walk(os.path.join(run_dir, sub), sig)
        try:
            sig.append(("params", _stat_sig(os.stat(os.path.join(run_dir, "params")))))
        except FileNotFoundError:
            pass
    except OSError:
        return None
    return _digest(sig)


def _sig_walk(folder: str, sig: list) -> None:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir():
            _sig_walk(entry.path, sig)
        else:
            st = entry.stat()
            sig.append((entry.name, st.st_mtime_ns, st.st_size))


def _read_one(job: tuple[str, str]):
    """(signature, record) of a (run folder, experiment id); the signature is taken first, so
    a run that changes while it is read looks changed next time."""
    run_dir, experiment_id = job
    done = _read_plain(run_dir, experiment_id) if _HAS_DIR_FD else None
    if done is None:
        survey = survey_run(run_dir)
        done = (survey[0], read_run(run_dir, experiment_id, survey))
    return done


# A run folder whose reading or signature takes longer than this (~5x the time from the page
# cache) is coming from the disk...
COLD_READ_S, COLD_SIGNATURE_S = 0.001, 0.0002
COLD_AHEAD = 32  # ...and the next this many go to threads, then the disk is asked again
_THREADS: list = []


def _disk_aware_map(fn, items: list, cold_s: float) -> list:
    """[fn(item) for item in items], with threads where the items come from the disk.

    From the page cache, one run folder after another is fastest. From the disk, each of a
    run's 23 tiny files costs a round trip: there, threads take several runs at once (they
    wait on the disk, not on each other), which halves a cold first open or reopen.
    """
    out = []
    i = 0
    while i < len(items):
        started = time.perf_counter()
        out.append(fn(items[i]))
        i += 1
        if time.perf_counter() - started > cold_s and i < len(items):
            ahead = items[i:i + COLD_AHEAD]
            out.extend(_threads().map(fn, ahead))
            i += len(ahead)
    return out


def _threads() -> ThreadPoolExecutor:
    with _POOL_LOCK:  # two stores loading at once share one set of threads
        if not _THREADS:
            _THREADS.append(ThreadPoolExecutor(8, thread_name_prefix="mlscope-read"))
        return _THREADS[0]


def read_runs(jobs: list[tuple[str, str]]):
    """(signature, record) per (run folder, experiment id), in order."""
    return _disk_aware_map(_read_one, jobs, COLD_READ_S)


def run_signatures(run_dirs: list[str]):
    return _disk_aware_map(run_signature, run_dirs, COLD_SIGNATURE_S)


# -- parallel reading -------------------------------------------------------------------------------
PARALLEL_MIN = 1500  # below this, starting worker processes costs more than it saves
BATCH = 250
_POOL: list = []
_POOL_LOCK = threading.Lock()


def _pool() -> ProcessPoolExecutor | None:
    """One pool of reader processes for the whole session (forkserver: safe beside Qt threads)."""
    workers = min(os.cpu_count() or 1, 4)
    if workers < 2:
        return None
    with _POOL_LOCK:  # two stores loading at once must not start two pools
        return _POOL[0] if _POOL else _new_pool(workers)


READER_NAME = "mlscope-reader-"


class _Reader:
    """A reader process, named so that it starts without the caller's ``__main__``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.name = READER_NAME + self.name


class _SpawnReader(_Reader, _contexts.SpawnProcess):
    pass


class _SpawnReaders(_contexts.SpawnContext):
    Process = _SpawnReader


if hasattr(_contexts, "ForkServerContext"):  # not on Windows

    class _ForkServerReader(_Reader, _contexts.ForkServerProcess):
        pass

    class _ForkServerReaders(_contexts.ForkServerContext):
        Process = _ForkServerReader


def _new_pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = _ForkServerReaders()
        context.set_forkserver_preload([__name__])  # numpy + yaml only: small workers
    else:
        context = _SpawnReaders()
    _leave_main_out_of_readers()
    _POOL.append(ProcessPoolExecutor(max_workers=workers, mp_context=context))
    return _POOL[0]


def _leave_main_out_of_readers() -> None:
    """Reader processes never import the caller's ``__main__``.

    multiprocessing starts each child by running the parent's main script again (as
    ``__mp_main__``): a script that calls mlscope without an ``if __name__ == "__main__":``
    guard would run its body again in every reader, and fail there. The readers need
    nothing from it (they run this module's functions on paths), so the start data of
    processes named READER_NAME... leaves the main module out; other processes are untouched.
    """
    from multiprocessing import spawn

    original = spawn.get_preparation_data
    if getattr(original, "mlscope_readers", False):
        return

    def get_preparation_data(name):
        data = original(name)
        if str(name).startswith(READER_NAME):
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    get_preparation_data.mlscope_readers = True
    spawn.get_preparation_data = get_preparation_data


def run_parallel(fn, items: list, progress, cancel, root, on_batch=None, meanwhile=None) -> list:
    """fn over items in batches, in worker processes when there are many; in order.

    ``meanwhile()`` runs here while the workers start on the batches; ``on_batch(results so
    far)`` is called after each batch (to show rows while reading)."""
    batches = [items[i:i + BATCH] for i in range(0, len(items), BATCH)]
    pool = _pool() if len(items) >= PARALLEL_MIN else None
    results = pool.map(fn, batches) if pool is not None else map(fn, batches)
    if meanwhile:
        meanwhile()
    out: list = []
    try:
        for batch_result in results:
            out.extend(batch_result)
            if progress:
                progress(len(out))
            if on_batch:
                on_batch(out)
            if cancel and cancel():
                raise Cancelled(f"Loading {root} was cancelled.")
    except BrokenProcessPool:
        with _POOL_LOCK:
            for broken in _POOL:
                broken.shutdown(wait=False, cancel_futures=True)
            _POOL.clear()
        return [r for batch in batches for r in fn(batch)]
    return out


