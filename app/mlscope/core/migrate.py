"""Move an ``mlruns`` folder to SQLite with MLflow's own ``migrate-filestore``, then count both.

MLflow (>= 3.10) ships the migration (``mlflow.store.fs2db.migrate``); mlscope never copies
rows itself. It runs in a child process so that Cancel can stop it at once; it writes to a
hidden file beside the target which becomes the target only when MLflow has committed (so a
cancelled, failed or killed migration leaves nothing behind, and an existing file is never
overwritten). The source folder is only read: a folder git committed without its empty
``metrics/``/``params/``/``tags/``/``artifacts/`` folders (which MLflow's file store cannot read
in full) is repaired on a temporary copy of its metadata, and the report names those runs;
on that copy too, experiments old MLflow moved to ``.trash`` while their meta.yaml still says
active are marked deleted (as MLflow's file store lists them; its migration reads only meta.yaml).
Afterwards both stores are read by mlscope's store layer and counted side by side.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Cancelled, StoreError
from .locate import locate

RUN_FOLDERS = ("metrics", "params", "tags", "artifacts")
RESERVED = {"tags", "datasets", "traces", "models", ".trash"}  # not runs (MLflow's list)
_EXC = re.compile(r"^[\w.]+(?:Error|Exception|Exit): (.+)$")
_STEP = re.compile(r"^\[(\d+)/(\d+)\] Migrating (experiment|model) ")

# The child: MLflow's own migration, progress lines on stdout (one per experiment and model).
_CHILD = """\
import sys, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from mlflow.store.fs2db import migrate
migrate(Path(sys.argv[1]), sys.argv[2], progress=True)
"""


CHILD_FLAG = "--mlscope-migrate-child"  # `mlscope --mlscope-migrate-child SOURCE URI`


def child_main(args: list[str]) -> int:
    """The migration child inside a bundle (no ``python -c`` there): what ``_CHILD`` does."""
    import warnings

    warnings.simplefilter("ignore")
    from mlflow.store.fs2db import migrate

    migrate(Path(args[0]), args[1], progress=True)
    return 0


class MigrateError(StoreError):
    """The migration cannot start or did not finish; the message names the path."""


@dataclass
class Repair:
    """A run MLflow's file store cannot read in full: the folders git left out."""

    experiment_id: str
    run_id: str
    missing: list[str]


@dataclass
class Plan:
    source: Path  # the mlruns root
    target: Path  # the new SQLite file
    experiments: int  # experiment folders MLflow will visit (with .trash)
    models: int  # registered model folders
    repairs: list[Repair] = field(default_factory=list)
    # experiments old MLflow moved to .trash without marking them deleted: MLflow's file store
    # lists them as deleted, its migration would make them active again
    trashed_active: list[str] = field(default_factory=list)

    @property
    def needs_copy(self) -> bool:
        return bool(self.repairs or self.trashed_active)

    @property
    def target_uri(self) -> str:
        return f"sqlite:///{self.target}"


@dataclass
class Count:
    what: str
    source: int
    target: int

    @property
    def same(self) -> bool:
        return self.source == self.target


@dataclass
class Report:
    plan: Plan
    counts: list[Count]
    mlflow_summary: str = ""  # MLflow's own "Migration summary" table

    @property
    def differences(self) -> list[Count]:
        return [c for c in self.counts if not c.same]

    @property
    def ok(self) -> bool:
        return not self.differences


def default_target(mlruns: Path) -> Path:
    """``mlflow.db`` beside the folder (where ``mlscope PROJECT`` and MLflow look for it)."""
    return Path(mlruns).resolve().parent / "mlflow.db"


def mlruns_root(source) -> Path:
    """The mlruns root of ``source`` (a root, a project folder holding ``mlruns/``, or a path
    inside one); MigrateError naming the path when it is not a folder MLflow can migrate."""
    try:
        loc = locate(source, choice="file")
    except StoreError as exc:
        raise MigrateError(str(exc), str(source)) from exc
    if loc.kind != "file" or loc.path is None:
        raise MigrateError(f"{source} is not an mlruns folder: only a file store can be migrated "
                           "to SQLite.", str(source))
    return Path(loc.path).resolve()


def _run_dirs(root: Path):
    """(experiment_id, run folder) for every run MLflow's migration visits."""
    experiments = [(root, d) for d in _numeric(root)]
    if (root / ".trash").is_dir():
        experiments += [(root / ".trash", d) for d in _numeric(root / ".trash")]
    for parent, exp_id in experiments:
        exp = parent / exp_id
        for entry in sorted(os.scandir(exp), key=lambda e: e.name):
            if entry.is_dir() and entry.name not in RESERVED and os.path.isfile(
                    os.path.join(entry.path, "meta.yaml")):
                yield exp_id, Path(entry.path)


def _numeric(folder: Path) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(folder) if e.is_dir() and e.name.isdigit())
    except OSError:
        return []


def find_repairs(root: Path) -> list[Repair]:
    """Runs whose empty folders are missing (git keeps no empty folder)."""
    out = []
    for exp_id, run in _run_dirs(root):
        missing = [name for name in RUN_FOLDERS if not (run / name).is_dir()]
        if missing:
            out.append(Repair(exp_id, run.name, missing))
    return out


def plan(source, target=None) -> Plan:
    """Check everything that can be checked before MLflow starts. MigrateError names the path:
    not an mlruns folder, a target that exists (never overwritten), a folder that is missing
    or cannot be written."""
    root = mlruns_root(source)
    target = Path(target).expanduser() if target else default_target(root)
    target = target.parent.resolve() / target.name
    if target.exists():
        raise MigrateError(f"{target} already exists: choose another file (mlscope never "
                           "overwrites one).", str(target))
    if not target.parent.is_dir():
        raise MigrateError(f"The folder {target.parent} does not exist.", str(target.parent))
    if not os.access(target.parent, os.W_OK | os.X_OK) or not _can_write(target.parent):
        raise MigrateError(f"Cannot write to {target.parent}: permission denied.",
                           str(target.parent))
    if target.parent == root or root in target.parents:
        raise MigrateError(f"{target} is inside the folder being migrated: choose a file "
                           "outside it.", str(target))
    experiments = len(_numeric(root)) + len(_numeric(root / ".trash"))
    models_dir = root / "models"
    models = len([e for e in os.scandir(models_dir) if e.is_dir()]) if models_dir.is_dir() else 0
    return Plan(root, target, experiments, models, find_repairs(root), trashed_active(root))


def _can_write(folder: Path) -> bool:
    """os.access says yes to root everywhere; a real file says what the file system allows."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".mlscope-probe-"):
            return True
    except OSError:
        return False


def trashed_active(root: Path) -> list[str]:
    """Experiments in ``.trash`` whose meta.yaml still says active."""
    return [exp_id for exp_id in _numeric(root / ".trash")
            if _stage(root / ".trash" / exp_id / "meta.yaml") != "deleted"]


def _stage(meta: Path) -> str | None:
    try:
        for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("lifecycle_stage:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _mark_deleted(meta: Path) -> None:
    """On the copy: say what the folder's place says (deleted), as MLflow's file store reads it."""
    try:
        lines = meta.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    lines = [ln for ln in lines if not ln.startswith("lifecycle_stage:")]
    meta.write_text("\n".join(lines + ["lifecycle_stage: deleted"]) + "\n", encoding="utf-8")


def repaired_copy(root: Path, p: Plan, into: Path) -> Path:
    """A copy of the store's metadata (run artifacts left out: MLflow's migration does not
    read them) with the missing empty folders added. The source is only read."""

    def ignore(folder, names):
        # run-level artifacts: a folder with a meta.yaml whose parent has one (an experiment)
        if "artifacts" in names and "meta.yaml" in names and os.path.isfile(
                os.path.join(os.path.dirname(folder), "meta.yaml")):
            return ["artifacts"]
        return []

    copy = into / root.name
    shutil.copytree(root, copy, ignore=ignore, symlinks=True)
    for _exp_id, run in _run_dirs(copy):
        for name in RUN_FOLDERS:
            (run / name).mkdir(exist_ok=True)
    for exp_id in p.trashed_active:
        _mark_deleted(copy / ".trash" / exp_id / "meta.yaml")
    return copy


def _sidecars(path: Path) -> list[Path]:
    return [path] + [Path(str(path) + s) for s in ("-wal", "-shm", "-journal")]


def _remove(path: Path) -> None:
    for p in _sidecars(path):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def run_migration(p: Plan, progress=None, cancel=None) -> str:
    """MLflow's migration of ``p.source`` into ``p.target``; returns MLflow's summary text.

    ``progress(done, total)`` counts experiments and models; ``cancel()`` True kills the child
    and removes the partial file (then Cancelled is raised)."""
    total = max(p.experiments + p.models, 1)
    partial = p.target.parent / f".{p.target.name}.mlscope-partial-{os.getpid()}"
    _remove(partial)
    tmp = Path(tempfile.mkdtemp(prefix="mlscope-migrate-")) if p.needs_copy else None
    try:
        source = repaired_copy(p.source, p, tmp) if tmp else p.source
        lines = _run_child(source, f"sqlite:///{partial}", progress, cancel, total, p.experiments)
        _plain_journal(partial)
        try:
            os.link(partial, p.target)  # fails if the target appeared meanwhile: never overwrite
        except FileExistsError as exc:
            raise MigrateError(f"{p.target} appeared during the migration: it was left as it "
                               "is.", str(p.target)) from exc
        except OSError:  # a file system without hard links
            if p.target.exists():
                raise MigrateError(f"{p.target} appeared during the migration: it was left as "
                                   "it is.", str(p.target)) from None
            os.replace(partial, p.target)
        return _summary(lines).replace(str(partial), str(p.target)).replace(
            str(source), str(p.source))
    finally:
        _remove(partial)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _plain_journal(db: Path) -> None:
    """MLflow's migration leaves the file in WAL mode: back to the default rollback journal,
    so the new file is one self-contained file like any ``sqlite:///`` store MLflow creates."""
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA journal_mode=DELETE")
    finally:
        con.close()


def _run_child(source: Path, uri: str, progress, cancel, total: int, experiments: int) -> list:
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    # A bundle's executable is mlscope itself, which runs the same child on a flag of its own.
    child = [CHILD_FLAG] if getattr(sys, "frozen", False) else ["-c", _CHILD]
    proc = subprocess.Popen([sys.executable, *child, str(source), uri],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, text=True, encoding="utf-8", errors="replace")
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, name="mlscope-migrate-output", daemon=True).start()
    out: list[str] = []
    done = 0
    if progress:
        progress(0, total)
    try:
        while True:
            if cancel and cancel():
                raise Cancelled(f"Migrating {source} was cancelled.")
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            out.append(line)
            m = _STEP.match(line)
            if m:
                done = int(m.group(1)) + (experiments if m.group(3) == "model" else 0)
                if progress:
                    progress(min(done, total), total)
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if code != 0:
        raise MigrateError(f"MLflow could not migrate {source}: {_last_error(out)}", str(source))
    if progress:
        progress(total, total)
    return out


def _last_error(lines: list[str]) -> str:
    """The exception line of the child's traceback (MLflow's or SQLAlchemy's own words)."""
    for line in reversed(lines):
        m = _EXC.match(line.strip())
        if m:
            return m.group(1)[:400]
    return next((ln.strip() for ln in reversed(lines) if ln.strip()), "it stopped without a word.")


def _summary(lines: list[str]) -> str:
    for i, line in enumerate(lines):
        if line.startswith("Migration summary"):
            return "\n".join(lines[max(i - 1, 0):])
    return ""


def count(target) -> dict[str, int]:
    """What a user would check was carried over, read by mlscope's store layer."""
    from .opening import open_store

    with open_store(target, cache=False) as store:
        experiments = store.experiments(view="all")
        table = store.run_table(view="all")
        run_ids = list(table.info["run_id"])
        points = len(store.metric_history(run_ids)) if run_ids else 0
        exp_tags = int(experiments.filter(like="tags.", axis=1).notna().to_numpy().sum())
        return {
            "experiments": len(experiments),
            "deleted experiments": int((experiments["lifecycle_stage"] == "deleted").sum()),
            "experiment tags": exp_tags,
            "runs": len(table.info),
            "deleted runs": int((table.info["lifecycle_stage"] == "deleted").sum()),
            "params": len(table.params),
            "tags": len(table.tags),
            "metrics (latest values)": len(table.metrics),
            "metric points": points,
            "registered models": len(store.registered_models()),
            "model versions": len(store.model_versions()),
        }


def verify(p: Plan) -> list[Count]:
    """Counts of the source folder and the new database, side by side."""
    before, after = count(p.source), count(p.target)
    return [Count(k, before[k], after.get(k, 0)) for k in before]


def migrate(source, target=None, progress=None, cancel=None) -> Report:
    """Plan, migrate with MLflow, count both sides. Raises MigrateError or Cancelled."""
    p = plan(source, target)
    summary = run_migration(p, progress, cancel)
    return Report(p, verify(p), summary)
