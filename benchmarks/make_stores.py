"""Build MLflow tracking stores for the benchmarks, quickly, in MLflow's own on-disk formats.

Two stores hold the same generated data (same seed): an ``mlruns`` folder laid out exactly
as MLflow 3's FileStore writes it, and an ``mlflow.db`` whose empty, current-schema database
MLflow itself creates and whose rows are then inserted with sqlite3 as MLflow would write
them. ``validate()`` reads a store back with MLflow's own client.

    python benchmarks/make_stores.py [OUTDIR] [--quick]

Without OUTDIR the stores go to the cache, ``benchmarks/_stores/<params-hash>/``, which
``ensure_stores()`` reuses.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np
import yaml

try:
    from yaml import CSafeDumper as SafeDumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper

GENERATOR_VERSION = 1
STORES_DIR = Path(__file__).resolve().parent / "_stores"
QUICK_RUNS = 300
DONE_MARKER = "built.json"

# MLflow's RunStatus enum, as stored in the FileStore's meta.yaml.
STATUS_CODE = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}
SOURCE_TYPE_LOCAL = 4
SQL_MAX_FLOAT = 1.7976931348623157e308  # what MLflow's SQL store writes for +-inf

METRIC_KEYS = ["train_loss", "val_loss", "rmse", "accuracy", "f1", "mae", "auc", "lr"]
EXPERIMENT_NAMES = ["resnet-sweep", "xgboost-baseline", "llm-finetune", "churn-model"]
USERS = ["alice", "bob", "carol", "dave"]
CUSTOM_TAGS = {
    "team": ["vision", "nlp", "tabular"],
    "dataset": ["imagenet-1k", "cifar10", "wiki-2024", "churn-v3"],
    "purpose": ["sweep", "baseline", "ablation"],
    "priority": ["low", "high"],
}
ADJECTIVES = ["bright", "calm", "eager", "gentle", "brave", "clever", "quiet", "shiny", "rare"]
ANIMALS = ["owl", "fox", "yak", "eel", "cat", "bee", "ram", "ant", "doe", "gnu", "hen", "elk"]


@dataclass(frozen=True)
class Spec:
    """The size and seed of a generated store."""

    n_runs: int = 10_000
    n_metrics: int = 3
    n_steps: int = 100
    n_params: int = 12
    n_tags: int = 7
    n_experiments: int = 3
    seed: int = 0

    def key(self) -> str:
        """A short hash naming this spec (and generator/MLflow version) in the cache."""
        text = json.dumps([asdict(self), GENERATOR_VERSION, version("mlflow")], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Run:
    run_id: str
    exp: int  # index into Data.experiment_names
    name: str
    user: str
    status: str
    lifecycle_stage: str
    start_time: int
    end_time: int | None
    deleted_time: int | None
    params: dict[str, str]
    tags: dict[str, str]


@dataclass
class Data:
    """Everything a store holds; metric arrays are indexed [run, metric, step]."""

    spec: Spec
    experiment_names: list[str]
    experiment_times: list[int]
    runs: list[Run]
    metric_keys: list[str]
    timestamps: np.ndarray  # int64 [run, step]: every metric of a step shares its timestamp
    values: np.ndarray  # float64 [run, metric, step]
    special: dict[str, int] = field(default_factory=dict)  # nan_run, inf_run, parent

    def exp_runs(self, exp: int) -> list[int]:
        return [i for i, r in enumerate(self.runs) if r.exp == exp]


def _param_values(rnd: random.Random, n_params: int) -> dict[str, str]:
    choices = {
        "learning_rate": lambda: str(rnd.choice([1e-4, 3e-4, 0.001, 0.003, 0.01])),
        "batch_size": lambda: str(rnd.choice([16, 32, 64, 128, 256])),
        "epochs": lambda: str(rnd.choice([10, 20, 50, 100])),
        "optimizer": lambda: rnd.choice(["adam", "adamw", "sgd", "rmsprop"]),
        "model_type": lambda: rnd.choice(["resnet18", "resnet50", "vit-b16", "mlp", "lasso"]),
        "dropout": lambda: str(rnd.choice([0.0, 0.1, 0.2, 0.3, 0.5])),
        "weight_decay": lambda: str(rnd.choice([0.0, 1e-5, 1e-4, 0.01])),
        "seed": lambda: str(rnd.randrange(10_000)),
        "hidden_size": lambda: str(rnd.choice([128, 256, 512, 1024])),
        "num_layers": lambda: str(rnd.randrange(2, 13)),
        "scheduler": lambda: rnd.choice(["cosine", "linear", "step", "none"]),
        "warmup_steps": lambda: str(rnd.choice([0, 100, 500, 1000])),
    }
    names = list(choices)[:n_params] + [f"param_{j}" for j in range(len(choices), n_params)]
    return {k: choices[k]() if k in choices else str(rnd.randrange(1000)) for k in names}


def generate(spec: Spec) -> Data:
    """Generate the runs of a store, deterministically from spec.seed."""
    rnd = random.Random(spec.seed)
    rng = np.random.default_rng(spec.seed)
    n, n_exp = spec.n_runs, spec.n_experiments
    exp_names = [
        EXPERIMENT_NAMES[j] if j < len(EXPERIMENT_NAMES) else f"experiment-{j}"
        for j in range(n_exp)
    ]
    t0 = 1_700_000_000_000  # 2023-11-14, ms
    exp_times = [t0 - (n_exp - j) * 3_600_000 for j in range(n_exp)]
    metric_keys = METRIC_KEYS[: spec.n_metrics] + [
        f"metric_{j}" for j in range(len(METRIC_KEYS), spec.n_metrics)
    ]

    # A few runs of each special kind (disjoint), at least two of each.
    order = list(range(n))
    rnd.shuffle(order)
    k = max(2, n // 1000)
    running, failed, deleted = set(order[:k]), set(order[k : 2 * k]), set(order[2 * k : 3 * k])
    parent_of: dict[int, int] = {}
    for p in [i for i in order[3 * k :] if i + 3 * n_exp < n][: max(1, k // 2)]:
        for c in (p + n_exp, p + 2 * n_exp, p + 3 * n_exp):  # same experiment as p
            if c not in parent_of and p not in parent_of:
                parent_of[c] = p

    starts = t0 + np.arange(n, dtype=np.int64) * 60_000 + rng.integers(0, 30_000, n)
    step_ms = rng.integers(200, 5_000, n)
    steps = np.arange(spec.n_steps, dtype=np.int64)
    timestamps = starts[:, None] + 1_000 + step_ms[:, None] * steps[None, :]
    base = rng.uniform(0.3, 3.0, (n, spec.n_metrics, 1))
    rate = rng.uniform(0.005, 0.08, (n, spec.n_metrics, 1))
    noise = np.abs(rng.normal(0.0, 0.02, (n, spec.n_metrics, spec.n_steps)))
    values = base * np.exp(-rate * steps) + noise

    run_ids = [f"{rnd.getrandbits(128):032x}" for _ in range(n)]
    runs = []
    for i in range(n):
        status = "RUNNING" if i in running else "FAILED" if i in failed else "FINISHED"
        name = f"{rnd.choice(ADJECTIVES)}-{rnd.choice(ANIMALS)}-{rnd.randrange(1000)}"
        user = rnd.choice(USERS)
        end = None if status == "RUNNING" else int(timestamps[i, -1]) + 1_000
        tags = {
            "mlflow.runName": name,
            "mlflow.user": user,
            "mlflow.source.name": "train.py",
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": f"{rnd.getrandbits(160):040x}",
        }
        tags = dict(list(tags.items())[: spec.n_tags])
        for j in range(spec.n_tags - len(tags)):
            key = list(CUSTOM_TAGS)[j] if j < len(CUSTOM_TAGS) else f"tag_{j}"
            tags[key] = rnd.choice(CUSTOM_TAGS.get(key, ["a", "b", "c"]))
        if i in parent_of:
            tags["mlflow.parentRunId"] = run_ids[parent_of[i]]
        runs.append(
            Run(
                run_id=run_ids[i],
                exp=i % n_exp,
                name=name,
                user=user,
                status=status,
                lifecycle_stage="deleted" if i in deleted else "active",
                start_time=int(starts[i]),
                end_time=end,
                deleted_time=(end or int(starts[i])) + 60_000 if i in deleted else None,
                params=_param_values(rnd, spec.n_params),
                tags=tags,
            )
        )

    # One NaN (the last value of a run's metric, so its latest metric is NaN too) and one
    # inf (mid-history), both in plain finished runs of the first experiment.
    plain = [
        i
        for i in range(0, n, n_exp)
        if runs[i].status == "FINISHED" and runs[i].lifecycle_stage == "active"
    ]
    special = {"nan_run": plain[0], "inf_run": plain[1]}
    if parent_of:
        special["parent"] = min(parent_of.values())
    val = metric_keys.index("val_loss") if "val_loss" in metric_keys else 0
    values[special["nan_run"], val, -1] = math.nan
    values[special["inf_run"], 0, spec.n_steps // 2] = math.inf
    return Data(spec, exp_names, exp_times, runs, metric_keys, timestamps, values, special)


def _yaml(data: dict) -> str:
    """Dump like mlflow.utils.yaml_utils.write_yaml."""
    return yaml.dump(
        data, default_flow_style=False, allow_unicode=True, sort_keys=True, Dumper=SafeDumper
    )


def _file_experiment_ids(data: Data) -> list[str]:
    """18-digit experiment ids, like MLflow's FileStore generates (seeded here)."""
    rnd = random.Random(f"experiment-ids-{data.spec.seed}")
    return [str(rnd.randrange(10**17, 10**18)) for _ in data.experiment_names]


def _experiment_meta(exp_id: str, name: str, location: str, created: int) -> str:
    return _yaml(
        {
            "artifact_location": location,
            "creation_time": created,
            "effective_trace_archival_retention": None,
            "experiment_id": exp_id,
            "last_update_time": created,
            "lifecycle_stage": "active",
            "name": name,
            "trace_location": None,
            "workspace": "default",
        }
    )


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def build_mlruns(root: Path, **params) -> Path:
    """Write an mlruns folder as MLflow 3's FileStore writes it; params are Spec's fields."""
    data = generate(Spec(**params))
    root = Path(root).resolve()
    root.mkdir(parents=True)
    (root / ".trash").mkdir()
    base_uri = root.as_uri()
    (root / "0").mkdir()
    created = data.experiment_times[0] - 3_600_000
    _write(
        str(root / "0" / "meta.yaml"), _experiment_meta("0", "Default", f"{base_uri}/0", created)
    )

    exp_ids = _file_experiment_ids(data)
    for exp_id, name, created in zip(
        exp_ids, data.experiment_names, data.experiment_times, strict=True
    ):
        (root / exp_id).mkdir()
        meta = _experiment_meta(exp_id, name, f"{base_uri}/{exp_id}", created)
        _write(str(root / exp_id / "meta.yaml"), meta)

    steps = list(range(data.spec.n_steps))
    for i, run in enumerate(data.runs):
        exp_id = exp_ids[run.exp]
        run_dir = os.path.join(root, exp_id, run.run_id)
        os.mkdir(run_dir)
        for sub in ("metrics", "params", "artifacts", "tags"):
            os.mkdir(os.path.join(run_dir, sub))
        meta = {
            "artifact_uri": f"{base_uri}/{exp_id}/{run.run_id}/artifacts",
            "end_time": run.end_time,
            "entry_point_name": "",
            "experiment_id": exp_id,
            "lifecycle_stage": run.lifecycle_stage,
            "run_id": run.run_id,
            "run_name": run.name,
            "source_name": "",
            "source_type": SOURCE_TYPE_LOCAL,
            "source_version": "",
            "start_time": run.start_time,
            "status": STATUS_CODE[run.status],
            "tags": [],
            "user_id": run.user,
        }
        # create_run writes deleted_time: null; set_terminated rewrites meta without it;
        # delete_run writes the time.
        if run.status == "RUNNING" or run.deleted_time is not None:
            meta["deleted_time"] = run.deleted_time
        _write(os.path.join(run_dir, "meta.yaml"), _yaml(meta))
        ts = data.timestamps[i].tolist()
        for m, key in enumerate(data.metric_keys):
            lines = [
                f"{t} {v} {s}\n"
                for t, v, s in zip(ts, data.values[i, m].tolist(), steps, strict=True)
            ]
            _write(os.path.join(run_dir, "metrics", key), "".join(lines))
        for key, value in run.params.items():
            _write(os.path.join(run_dir, "params", key), value)
        for key, value in run.tags.items():
            _write(os.path.join(run_dir, "tags", key), value)
    return root


def _sql_value(v: float) -> tuple[float, int]:
    """(value, is_nan) as MLflow's SqlAlchemyStore.sanitize_metric_value stores it."""
    if math.isnan(v):
        return 0.0, 1
    if math.isinf(v):
        return (SQL_MAX_FLOAT if v > 0 else -SQL_MAX_FLOAT), 0
    return v, 0


def build_sqlite(db_path: Path, **params) -> Path:
    """Write an mlflow.db: MLflow creates the schema, sqlite3 inserts the rows."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    data = generate(Spec(**params))
    db_path = Path(db_path).resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    artifact_root = str(db_path.parent / "artifacts")
    store = SqlAlchemyStore(f"sqlite:///{db_path}", artifact_root)  # tables + Default exp
    store.engine.dispose()

    exp_rows = [
        (j + 1, name, f"{artifact_root}/{j + 1}", "active", t, t, "default")
        for j, (name, t) in enumerate(
            zip(data.experiment_names, data.experiment_times, strict=True)
        )
    ]
    run_rows, param_rows, tag_rows = [], [], []
    for run in data.runs:
        exp_id = run.exp + 1
        run_rows.append(
            (
                run.run_id,
                run.name,
                "UNKNOWN",  # what SqlAlchemyStore.create_run writes
                "",
                "",
                run.user,
                run.status,
                run.start_time,
                run.end_time,
                "",
                run.lifecycle_stage,
                f"{artifact_root}/{exp_id}/{run.run_id}/artifacts",
                exp_id,
                run.deleted_time,
            )
        )
        param_rows += [(k, v, run.run_id) for k, v in run.params.items()]
        tag_rows += [(k, v, run.run_id) for k, v in run.tags.items()]

    def metric_rows():
        for i, run in enumerate(data.runs):
            ts = data.timestamps[i].tolist()
            for m, key in enumerate(data.metric_keys):
                for s, (t, v) in enumerate(zip(ts, data.values[i, m].tolist(), strict=True)):
                    yield (key, *_sql_value(v), t, run.run_id, s)

    def latest_rows():
        # max by (step, timestamp, value): steps are unique here, so the last step wins
        for i, run in enumerate(data.runs):
            t = int(data.timestamps[i, -1])
            for m, key in enumerate(data.metric_keys):
                value, is_nan = _sql_value(float(data.values[i, m, -1]))
                yield (key, value, t, data.spec.n_steps - 1, is_nan, run.run_id)

    con = sqlite3.connect(db_path)
    try:
        con.execute("PRAGMA synchronous=OFF")
        with con:
            con.executemany(
                "INSERT INTO experiments (experiment_id, name, artifact_location,"
                " lifecycle_stage, creation_time, last_update_time, workspace)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                exp_rows,
            )
            con.executemany(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
                " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                " artifact_uri, experiment_id, deleted_time)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                run_rows,
            )
            con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tag_rows)
            con.executemany(
                "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", param_rows
            )
            con.executemany(
                "INSERT INTO metrics (key, value, is_nan, timestamp, run_uuid, step)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                metric_rows(),
            )
            con.executemany(
                "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                latest_rows(),
            )
    finally:
        con.close()
    return db_path


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def validate(uri: str, **params) -> None:
    """Read a generated store back with MlflowClient; raise AssertionError on a difference."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    data = generate(Spec(**params))
    is_sql = uri.startswith("sqlite:")
    client = MlflowClient(uri)

    exps = {e.name: e.experiment_id for e in client.search_experiments(ViewType.ALL)}
    assert set(exps) == {"Default", *data.experiment_names}, f"experiments: {sorted(exps)}"

    # Every run of the first experiment, paginated.
    expected = {data.runs[i].run_id: i for i in data.exp_runs(0)}
    found, token = [], None
    while True:
        page = client.search_runs(
            [exps[data.experiment_names[0]]],
            run_view_type=ViewType.ALL,
            max_results=min(len(expected), 50_000),
            page_token=token,
        )
        found += page
        token = page.token
        if not token:
            break
    assert len(found) == len(expected), f"{len(found)} runs, expected {len(expected)}"
    assert {r.info.run_id for r in found} == set(expected), "run ids differ"

    def expected_value(v: float) -> float:
        v = float(v)
        return _sql_value(v)[0] if is_sql and math.isinf(v) else v

    checked = 0
    for run in found:
        i = expected[run.info.run_id]
        if checked >= 50 and i not in data.special.values():
            continue
        checked += 1
        want = data.runs[i]
        info = run.info
        assert (info.status, info.lifecycle_stage) == (want.status, want.lifecycle_stage), i
        assert (info.start_time, info.end_time) == (want.start_time, want.end_time), i
        assert info.run_name == want.name, i
        assert run.data.params == want.params, i
        assert run.data.tags == want.tags, (i, run.data.tags, want.tags)
        for m, key in enumerate(data.metric_keys):
            got = run.data.metrics[key]
            assert _same(got, expected_value(data.values[i, m, -1])), (i, key, got)

    for name, i in [*data.special.items(), ("last", len(data.runs) - 1)]:
        run_id = data.runs[i].run_id
        for m, key in enumerate(data.metric_keys):
            hist = client.get_metric_history(run_id, key)
            assert len(hist) == data.spec.n_steps, (name, key, len(hist))
            hist.sort(key=lambda x: x.step)
            for s, point in enumerate(hist):
                assert point.step == s and point.timestamp == data.timestamps[i, s], (name, s)
                assert _same(point.value, expected_value(data.values[i, m, s])), (name, key, s)


def build_stores(out: Path, spec: Spec, check: bool = True) -> tuple[Path, Path]:
    """Build (and validate) both stores of spec under out: out/mlruns and out/mlflow.db."""
    out = Path(out).resolve()
    params = asdict(spec)
    t = time.perf_counter()
    mlruns = build_mlruns(out / "mlruns", **params)
    print(f"built {mlruns} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    db = build_sqlite(out / "mlflow.db", **params)
    print(f"built {db} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if check:
        t = time.perf_counter()
        validate(mlruns.as_uri(), **params)
        validate(f"sqlite:///{db}", **params)
        print(f"validated both in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return mlruns, db


BUILT: list[Path] = []  # stores built by this process (ensure_*)


def restart_if_built() -> None:
    """Run this benchmark again in a new process if it has just built a store. A child forked
    from a process holding gigabytes reports them as its own peak memory (Linux counts the
    parent's memory at the fork in the child's ru_maxrss), so every peak measured after a
    build in the same process would be the build's."""
    if BUILT:
        print("store built: starting again in a new process, so that peaks are the children's own",
              file=sys.stderr, flush=True)
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, *sys.argv])


def ensure_stores(spec: Spec) -> tuple[Path, Path]:
    """The cached stores of spec, built and validated on first use."""
    out = STORES_DIR / spec.key()
    if not (out / DONE_MARKER).exists():
        shutil.rmtree(out, ignore_errors=True)
        build_stores(out, spec)
        (out / DONE_MARKER).write_text(json.dumps(asdict(spec), indent=1) + "\n")
        BUILT.append(out)
    return out / "mlruns", out / "mlflow.db"


def _ensure_one(out: Path, name: str, build, uri, spec: Spec) -> Path:
    """out/name, built by ``build(path, **spec)`` and validated with MLflow's client (at
    ``uri(path)``) on first use, then kept (marked done) for later runs."""
    if not (out / DONE_MARKER).exists():
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        path = build(out / name, **asdict(spec))
        print(f"built {path} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        t = time.perf_counter()
        validate(uri(path), **asdict(spec))
        print(f"validated in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        (out / DONE_MARKER).write_text(json.dumps(asdict(spec), indent=1) + "\n")
        BUILT.append(out)
    return out / name


def ensure_sqlite(spec: Spec) -> Path:
    """The cached mlflow.db of spec alone (no mlruns folder: at 100,000 runs that folder is
    millions of files), built and validated with MLflow's client on first use."""
    return _ensure_one(STORES_DIR / f"{spec.key()}-sqlite", "mlflow.db", build_sqlite,
                       lambda db: f"sqlite:///{db}", spec)


def ensure_mlruns(spec: Spec) -> Path:
    """The cached mlruns folder of spec alone (no mlflow.db), built and validated with
    MLflow's client on first use."""
    return _ensure_one(STORES_DIR / f"{spec.key()}-mlruns", "mlruns", build_mlruns,
                       lambda root: root.as_uri(), spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", type=Path, help="default: the benchmark cache")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs")
    parser.add_argument("--no-validate", action="store_true")
    args = parser.parse_args()
    spec = Spec(n_runs=QUICK_RUNS) if args.quick else Spec()
    if args.outdir is None:
        mlruns, db = ensure_stores(spec)
    else:
        if (args.outdir / "mlruns").exists() or (args.outdir / "mlflow.db").exists():
            sys.exit(f"{args.outdir} already holds mlruns/ or mlflow.db")
        mlruns, db = build_stores(args.outdir, spec, check=not args.no_validate)
    print(mlruns)
    print(db)


if __name__ == "__main__":
    main()
