"""The diff logic of Compare, on stores written by MLflow's own client (no Qt)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlscope.core import compare as cmp
from mlscope.core import open_store
from mlscope.core.errors import StoreError

T0 = 1_700_000_000_000
CONFIG_A = {"model": {"depth": 6, "heads": [8, 8]}, "optimizer": "adam", "lr": 0.001}
CONFIG_B = {"model": {"depth": 8, "heads": [8, 8]}, "optimizer": "adam", "warmup": 100}
LONG_A = "x" * 2999 + "A" + "y" * 3000  # 6,000 characters: MLflow's limit for a param
LONG_B = "x" * 2999 + "B" + "y" * 3000


def _log_runs(uri: str, prefix: str = "") -> dict:
    """Three runs made by MLflow's client, with every case the diff has to tell apart."""
    import mlflow
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp = client.create_experiment(f"{prefix}compare")
    ids = {}

    def run(name, start, params, metrics, tags=None, status="FINISHED", minutes=2):
        r = client.create_run(exp, start_time=start, run_name=name,
                              tags={"mlflow.source.name": "train.py",
                                    "mlflow.source.git.commit": "abc123", **(tags or {})})
        rid = r.info.run_id
        client.log_batch(rid, params=[Param(k, v) for k, v in params.items()],
                         metrics=[Metric(k, v, start + 10, 0) for k, v in metrics.items()])
        client.set_terminated(rid, status, end_time=start + minutes * 60_000)
        ids[name] = rid
        return rid

    run("base", T0, {"lr": "0.1", "opt": "adam", "note": "", "seed": "1",
                     "cmd": LONG_A},
        {"val_loss": 0.50, "accuracy": 0.80, "nan_metric": math.nan, "inf_metric": math.inf},
        {"team": "vision"})
    run("tweak", T0 + 60_000, {"lr": "0.10", "opt": "adam ", "seed": "1", "cmd": LONG_B},
        {"val_loss": 0.40, "accuracy": 0.85, "nan_metric": math.nan, "inf_metric": 1.0},
        {"team": "vision"}, status="FAILED", minutes=5)
    third = run("third", T0 + 120_000, {"lr": "0.2", "opt": "sgd", "seed": "1", "cmd": LONG_A},
                {"val_loss": 0.60, "accuracy": 0.70}, {"team": "vision"})
    for step, v in enumerate([0.9, 0.3, math.nan, 0.6]):
        client.log_metric(third, "val_loss", v, timestamp=T0 + 200_000 + step, step=step)
    # A config logged as a dict, the way users do it with the fluent API.
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(experiment_id=exp, run_name="config-a") as r:
        mlflow.log_params({"config": CONFIG_A, "json": '{"a": 1, "b": [1, 2]}'})
        ids["config-a"] = r.info.run_id
    with mlflow.start_run(experiment_id=exp, run_name="config-b") as r:
        mlflow.log_params({"config": CONFIG_B, "json": '{"b": [1, 3], "a": 1}'})
        ids["config-b"] = r.info.run_id
    ids["exp"] = exp
    return ids


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    base = tmp_path_factory.mktemp("compare")
    db = base / "mlflow.db"
    sql_ids = _log_runs(f"sqlite:///{db}")
    mlruns = base / "mlruns"
    file_ids = _log_runs(mlruns.as_uri(), prefix="laptop-")
    return {"sqlite": db, "sql_ids": sql_ids, "file": mlruns, "file_ids": file_ids}


@pytest.fixture(scope="module")
def store(stores):
    with open_store(stores["sqlite"]) as s:
        yield s


def _compare(store, ids, names, **kw):
    src, missing = cmp.gather(store, [ids[n] for n in names], label="db")
    return cmp.compare([src], missing_runs=missing, **kw)


def _cell(comp, section, key, j):
    i = comp.row_index(section, key)
    return comp.text[i, j], comp.cells[i, j], comp.status[i]


def test_numbers_equal_as_numbers_different_as_text(store, stores):
    comp = _compare(store, stores["sql_ids"], ["base", "tweak"])
    text, cell, status = _cell(comp, "params", "lr", 1)
    assert (comp.text[comp.row_index("params", "lr"), 0], text) == ("0.1", "0.10")
    assert status == cmp.NUMBERS and cell == cmp.C_NUMBERS
    assert cmp.STATUS_WORDS[status] == "equal as numbers, different as text"
    assert comp.differs()[comp.row_index("params", "lr")]  # still shown among differences
    # 0.1 vs 0.2 differs; no delta for equal numbers
    comp3 = _compare(store, stores["sql_ids"], ["base", "third"])
    i = comp3.row_index("params", "lr")
    assert comp3.status[i] == cmp.DIFFERS
    assert comp3.delta_text(i, 1) == "+0.1 (+100%)"
    assert comp.delta_text(comp.row_index("params", "lr"), 1) == ""


def test_missing_is_not_an_empty_string(store, stores):
    comp = _compare(store, stores["sql_ids"], ["base", "tweak"])
    i = comp.row_index("params", "note")
    assert comp.text[i, 0] == "" and comp.text[i, 1] is None
    assert comp.status[i] == cmp.MISSING
    assert comp.cells[i, 1] == cmp.C_MISSING
    assert comp.display(i, 0) == '""' and comp.display(i, 1) == "—"
    csv_line = next(ln for ln in comp.to_csv().splitlines() if '"note"' in ln)
    assert csv_line.endswith('"",')  # empty string quoted, missing an empty field
    text_line = next(ln for ln in comp.to_text().splitlines() if ln.startswith("params\tnote"))
    assert text_line.split("\t")[-2:] == ['""', "—"]
    comp.set_baseline(1)
    assert comp.cells[i, 0] == cmp.C_ADDED


def test_whitespace_only_difference(store, stores):
    comp = _compare(store, stores["sql_ids"], ["base", "tweak", "third"])
    i = comp.row_index("params", "opt")
    assert comp.status[i] == cmp.DIFFERS  # sgd differs for real
    assert comp.cells[i, 1] == cmp.C_SPACES and comp.cells[i, 2] == cmp.C_DIFF
    two = _compare(store, stores["sql_ids"], ["base", "tweak"])
    assert two.status[two.row_index("params", "opt")] == cmp.SPACES


def test_identical_rows_collapse_into_counts(store, stores):
    comp = _compare(store, stores["sql_ids"], ["base", "tweak"])
    shown = comp.order(only_differences=True)
    keys = {(comp.section[i], comp.key[i]) for i in shown}
    assert ("params", "seed") not in keys and ("tags", "team") not in keys
    assert ("params", "lr") in keys and ("metrics", "val_loss") in keys
    assert comp.same_note("params") == "1 param the same"
    assert comp.same_note("tags") == "1 tag the same"
    assert len(comp.order(only_differences=False)) == len(comp)
    # differing first puts a differing row before a "numbers" one within a section
    first = [comp.key[i] for i in comp.order(True, differing_first=True)
             if comp.section[i] == "params"]
    assert first.index("cmd") < first.index("lr")


def test_attributes(store, stores):
    comp = _compare(store, stores["sql_ids"], ["base", "tweak"])
    assert comp.labels() == ["base", "tweak"]
    assert _cell(comp, "attributes", "status", 1)[:1] == ("FAILED",)
    i = comp.row_index("attributes", "duration")
    assert comp.number[i].tolist() == [120.0, 300.0]
    assert comp.delta_text(i, 1) == "+3m 0s"
    assert comp.text[comp.row_index("attributes", "source"), 0] == "train.py"
    assert comp.text[comp.row_index("attributes", "git commit"), 1] == "abc123"
    assert comp.status[comp.row_index("attributes", "git commit")] == cmp.SAME
    i = comp.row_index("attributes", "start")
    assert comp.delta_text(i, 1) == "+1m 0s"
    assert not any(k.startswith("mlflow.source") for k in comp.key[comp.section == "tags"])


def test_deltas_directions_and_baseline(store, stores):
    comp = _compare(store, stores["sql_ids"], ["base", "tweak", "third"])
    loss, acc = comp.row_index("metrics", "val_loss"), comp.row_index("metrics", "accuracy")
    assert comp.direction[loss] == "min" and comp.direction[acc] == "max"
    assert comp.better[loss].tolist() == [0, 1, -1]  # lower loss is better
    assert comp.better[acc].tolist() == [0, 1, -1]
    assert comp.delta[loss, 1] == pytest.approx(-0.1)
    assert comp.pct[loss, 1] == pytest.approx(-20.0)
    comp.set_direction("val_loss", "max")
    assert comp.better[loss].tolist() == [0, -1, 1]
    comp.set_direction("val_loss", "")
    assert comp.better[loss].tolist() == [0, 0, 0]
    comp.set_direction("val_loss", "min")
    comp.set_baseline(1)  # one click: the tweak run is the baseline
    assert comp.better[loss].tolist() == [-1, 0, -1]
    assert comp.delta[loss, 0] == pytest.approx(0.1)
    with pytest.raises(ValueError):
        comp.set_direction("val_loss", "lower")


@pytest.mark.parametrize("key, direction", [
    ("val_loss", "min"), ("train/loss", "min"), ("logloss", "min"), ("rmse", "min"),
    ("eval_mae", "min"), ("error_rate", "min"), ("perplexity", "min"), ("accuracy", "max"),
    ("f1", "max"), ("auc", "max"), ("r2", "max"), ("val/mse", "min"),
])
def test_metric_direction(key, direction):
    assert cmp.metric_direction(key) == direction


def test_nan_and_inf_metrics(store, stores):
    ids = stores["sql_ids"]
    comp = _compare(store, ids, ["base", "tweak"])
    i = comp.row_index("metrics", "nan_metric")
    assert comp.status[i] == cmp.SAME  # NaN in both, as stored
    assert comp.display(i, 0) == "NaN"
    j = comp.row_index("metrics", "inf_metric")
    # MLflow's SQL store keeps inf as the largest float; its file store keeps inf
    assert comp.status[j] == cmp.DIFFERS and comp.display(j, 0) == "1.79769e+308"
    with open_store(stores["file"]) as folder:
        fcomp = _compare(folder, stores["file_ids"], ["base", "tweak"])
    j = fcomp.row_index("metrics", "inf_metric")
    assert fcomp.status[j] == cmp.DIFFERS and fcomp.display(j, 0) == "inf"
    assert fcomp.delta_text(j, 1) == ""  # 1 - inf has no meaningful delta
    assert not np.isfinite(fcomp.delta[j, 1])
    assert fcomp.status[fcomp.row_index("metrics", "nan_metric")] == cmp.SAME
    # min and max with their steps, on request, from the metric history
    hist = store.metric_history([ids["third"], ids["base"]], ["val_loss"])
    ext = cmp.metric_extremes(hist)
    row = ext[ext["run_id"] == ids["third"]].iloc[0]
    assert (row["min"], row["min_step"], row["max"], row["max_step"]) == (0.3, 1, 0.9, 0)
    comp = _compare(store, ids, ["base", "third"], extremes=ext)
    k = comp.row_index("metrics", "val_loss (min)")
    assert comp.text[k, 1] == "0.3 @ step 1"
    assert comp.direction[k] == "min"
    # an all-NaN series has no extremes, and says so
    nan_hist = store.metric_history([ids["base"]], ["nan_metric"])
    nan_ext = cmp.metric_extremes(nan_hist)
    assert math.isnan(nan_ext["min"].iloc[0]) and nan_ext["min_step"].iloc[0] == -1


def test_json_configs_key_by_key(store, stores):
    comp = _compare(store, stores["sql_ids"], ["config-a", "config-b"])
    i = comp.row_index("params", "config")
    left, right = comp.text[i]
    assert cmp.parse_structured(left) == CONFIG_A  # a dict logged by MLflow: str(dict)
    diff = {d.path: d for d in cmp.json_diff(left, right)}
    assert diff["model.depth"].status == "changed"
    assert (diff["model.depth"].left, diff["model.depth"].right) == (6, 8)
    assert diff["model.heads[1]"].status == "same"
    assert diff["lr"].status == "removed" and diff["warmup"].status == "added"
    assert diff["optimizer"].status == "same"
    j = comp.row_index("params", "json")
    jd = {d.path: d.status for d in cmp.json_diff(*comp.text[j])}
    assert jd == {"a": "same", "b[0]": "same", "b[1]": "changed"}  # key order does not matter
    assert cmp.json_diff("not json", "{}") is None
    # side by side: configs pretty-printed with keys sorted, the changed line marked
    lines = cmp.side_by_side(left, right)
    changed = [ln for ln in lines if ln.tag != "equal"]
    assert any(ln.tag == "replace" and "6" in ln.left and "8" in ln.right for ln in changed)
    assert {ln.left.strip() for ln in lines if ln.tag == "equal" and ln.left} >= {'"optimizer": "adam"'}


def test_long_values(store, stores):
    comp = _compare(store, stores["sql_ids"], ["base", "tweak"])
    i = comp.row_index("params", "cmd")
    assert len(comp.text[i, 0]) == 6000 and comp.is_long(i)
    assert len(comp.display(i, 0)) == cmp.LONG_VALUE
    assert comp.display(i, 0, full=True) == LONG_A
    lines = cmp.side_by_side(comp.text[i, 0], comp.text[i, 1])
    assert [ln.tag for ln in lines] == ["replace"]
    assert lines[0].left_spans == ((2999, 3000),) and lines[0].right_spans == ((2999, 3000),)
    cmd = "python train.py --lr 0.1 --epochs 10 --data /data/train.parquet --out /tmp/model"
    lines = cmp.side_by_side(cmd + " --x 1", cmd.replace("0.1", "0.2") + " --x 1")
    assert [ln.tag for ln in lines].count("replace") == 1
    assert next(ln for ln in lines if ln.tag == "replace").left == "--lr 0.1"


def test_runs_from_two_stores(stores):
    with open_store(stores["sqlite"]) as db, open_store(stores["file"]) as folder:
        a, _ = cmp.gather(db, [stores["sql_ids"]["base"]], label="server")
        b, _ = cmp.gather(folder, [stores["file_ids"]["tweak"], stores["file_ids"]["base"]],
                          [stores["file_ids"]["exp"]], label="laptop")
        comp = cmp.compare([a, b])
    assert comp.labels() == ["base [server]", "tweak [laptop]", "base [laptop]"]
    assert [c.store for c in comp.columns] == ["server", "laptop", "laptop"]
    assert len({c.uid for c in comp.columns}) == 3
    i = comp.row_index("attributes", "store")
    assert comp.text[i].tolist() == ["server", "laptop", "laptop"]
    # the same content in both stores compares equal across them
    lr = comp.row_index("params", "lr")
    assert comp.cells[lr].tolist() == [cmp.C_SAME, cmp.C_NUMBERS, cmp.C_SAME]
    assert comp.cells[comp.row_index("attributes", "experiment"), 1] == cmp.C_DIFF


def test_deleted_and_unknown_runs(stores, tmp_path):
    import shutil

    from mlflow.tracking import MlflowClient

    db = tmp_path / "mlflow.db"
    shutil.copy(stores["sqlite"], db)
    ids = stores["sql_ids"]
    MlflowClient(f"sqlite:///{db}").delete_run(ids["third"])
    with open_store(db) as s:
        src, missing = cmp.gather(s, [ids["base"], ids["third"], "0" * 32], [ids["exp"]])
        comp = cmp.compare([src], missing_runs=missing)
    assert missing == ["0" * 32]
    assert comp.missing_runs == ["0" * 32]
    assert comp.text[comp.row_index("attributes", "lifecycle")].tolist() == ["active", "deleted"]
    with pytest.raises(StoreError):
        cmp.check_runs([])
    assert cmp.check_runs(["a", "a", "b"]) == ["a", "b"]


def test_thousands_of_params(tmp_path):
    from mlflow.entities import Param
    from mlflow.tracking import MlflowClient

    db = tmp_path / "mlflow.db"
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.create_experiment("wide")
    ids = []
    for r in range(2):
        rid = client.create_run(exp).info.run_id
        params = [Param(f"p{k:04d}", str(k if k % 500 or r == 0 else k + 1)) for k in range(2000)]
        for start in range(0, len(params), 100):  # MLflow's limit per batch
            client.log_batch(rid, params=params[start:start + 100])
        ids.append(rid)
    with open_store(db) as s:
        src, _ = cmp.gather(s, ids)
        comp = cmp.compare([src])
    assert comp.counts()["params"] == (4, 1996)
    assert comp.same_note("params") == "1996 params the same"
    shown = [comp.key[i] for i in comp.order(True) if comp.section[i] == "params"]
    assert shown == ["p0000", "p0500", "p1000", "p1500"]


def test_axes_and_brushing(store, stores):
    comp = _compare(store, stores["sql_ids"], ["base", "tweak", "third"])
    lr = comp.axis(comp.row_index("params", "lr"))
    opt = comp.axis(comp.row_index("params", "opt"))
    note = comp.axis(comp.row_index("params", "note"))
    assert not lr.categorical and lr.values.tolist() == [0.1, 0.1, 0.2]
    assert opt.categorical and opt.categories == ["adam", "adam ", "sgd"]
    assert note.categories == ['""'] and np.isnan(note.values[1])
    axes = [lr, opt]
    assert cmp.brush(axes, {0: (0.15, 0.25)}).tolist() == [False, False, True]
    assert cmp.brush(axes, {0: (0.25, 0.05), 1: (-0.5, 0.5)}).tolist() == [True, False, False]
    assert cmp.brush(axes, {}).tolist() == [True, True, True]
    assert cmp.brush([note], {0: (-1, 1)}).tolist() == [True, False, False]
    norm = lr.normalized()
    assert norm.tolist() == [0.0, 0.0, 1.0]
    assert opt.tick(2) == "sgd" and lr.tick(0.1) == "0.1"
    start = cmp.time_value(comp, "start time")
    assert np.diff(start.values).tolist() == [60.0, 60.0]


def test_transposed_export(store, stores):
    comp = _compare(store, stores["sql_ids"], ["base", "tweak"])
    rows = comp.order(True)
    recs = comp.to_records(rows, transpose=True)
    assert recs[0][0] == "run" and recs[1][0] == "base" and recs[2][0] == "tweak"
    assert len(recs[0]) == len(rows) + 1
    assert "params.lr" in recs[0]
    assert comp.to_csv(rows, transpose=True).splitlines()[1].startswith('"base"')
