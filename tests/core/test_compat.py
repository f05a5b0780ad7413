"""mlscope's answers equal MLflow's own client on stores MLflow built, every backend."""

import shutil

import mlflow
import pandas as pd
import pytest
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from mlflow_stores import (
    EDGE_VALUES,
    FILTERS,
    ORDERS,
    restore_run_dirs,
    same_experiments,
    trashed_saying_active,
)
from mlscope.core import FilterError, open_store

VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}


def reference_runs(uri, experiment_ids=None, filter_string="", order_by=None, view="all"):
    mlflow.set_tracking_uri(uri)
    if experiment_ids is None:
        experiment_ids = [e.experiment_id for e in MlflowClient(uri).search_experiments(view_type=ViewType.ALL)]
    return mlflow.search_runs(experiment_ids, filter_string, VIEWS[view], order_by=order_by)


def assert_same_frame(ours: pd.DataFrame, ref: pd.DataFrame):
    assert set(ours.columns) == set(ref.columns)
    assert list(ours["run_id"]) == list(ref["run_id"]), "same runs in the same order"
    cols = sorted(ref.columns)
    pd.testing.assert_frame_equal(ours[cols].reset_index(drop=True), ref[cols].reset_index(drop=True),
                                  check_exact=True)


@pytest.fixture(scope="module")
def uris(built, tmp_path_factory):
    """(mlscope target, MLflow reference URI) per backend. MLflow reads copies."""
    ref = tmp_path_factory.mktemp("ref")
    file_copy = ref / "file" / "mlruns"
    shutil.copytree(built["file"], file_copy)
    git_copy = ref / "git" / "mlruns"
    shutil.copytree(built["git"], git_copy)
    db_copy = ref / "mlflow.db"
    shutil.copy(built["sqlite"], db_copy)
    return {
        "file": (built["file"], str(file_copy)),
        "git": (built["git"], str(git_copy)),
        "sqlite": (built["sqlite"], f"sqlite:///{db_copy}"),
    }


@pytest.mark.parametrize("backend", ["file", "git", "sqlite"])
@pytest.mark.parametrize("view", ["active", "deleted", "all"])
def test_all_runs_equal_mlflow(uris, backend, view):
    target, ref_uri = uris[backend]
    ours = open_store(target, cache=False).runs(view=view)
    assert_same_frame(ours, reference_runs(ref_uri, view=view))


@pytest.mark.parametrize("backend", ["file", "git", "sqlite"])
@pytest.mark.parametrize("filter_string", FILTERS)
def test_filters_equal_mlflow(uris, backend, filter_string):
    target, ref_uri = uris[backend]
    ours = open_store(target, cache=False).runs(filter_string=filter_string, view="all")
    assert_same_frame(ours, reference_runs(ref_uri, filter_string=filter_string, view="all"))


@pytest.mark.parametrize("backend", ["file", "sqlite"])
@pytest.mark.parametrize("order_by", ORDERS, ids=str)
def test_order_by_equals_mlflow(uris, backend, order_by):
    target, ref_uri = uris[backend]
    ours = open_store(target, cache=False).runs(order_by=order_by, view="all")
    assert_same_frame(ours, reference_runs(ref_uri, order_by=order_by, view="all"))


@pytest.mark.parametrize("backend", ["file", "sqlite"])
def test_one_experiment_and_views(uris, built, backend):
    target, ref_uri = uris[backend]
    ids = built["ids"] if backend == "file" else built["sql_ids"]
    store = open_store(target, cache=False)
    for view in ("active", "deleted"):
        ours = store.runs([ids["alpha"]], view=view)
        assert_same_frame(ours, reference_runs(ref_uri, [ids["alpha"]], view=view))


@pytest.mark.parametrize("backend", ["file", "git", "sqlite"])
def test_experiments_equal_mlflow(uris, built, backend):
    target, ref_uri = uris[backend]
    # The git-like copy moved gamma to .trash, its meta.yaml still saying active.
    differ = trashed_saying_active(MlflowClient(ref_uri))
    assert list(differ) == ([built["ids"]["gamma"]] if backend == "git" else [])
    store = open_store(target, cache=False)
    client = MlflowClient(ref_uri)
    for view in ("active", "deleted", "all"):
        ours = store.experiments(view)
        ref = client.search_experiments(view_type=VIEWS[view])
        same_experiments(ours, ref, differ)


@pytest.mark.parametrize("backend", ["file", "git", "sqlite"])
def test_edge_values_byte_for_byte(uris, built, backend):
    """Whitespace around values, unicode, empty strings, 6,000-character params and 8,000-
    character tags: the runs frame and the run detail hand over MLflow's bytes, unchanged."""
    target, ref_uri = uris[backend]
    run_id = (built["sql_ids"] if backend == "sqlite" else built["ids"])["values"]
    if backend == "git":
        ref_uri = str(uris["file"][1])  # the same run; git dropped only empty folders
    ref = MlflowClient(ref_uri).get_run(run_id).data
    assert {k: ref.params[k] for k in EDGE_VALUES} == EDGE_VALUES  # MLflow kept them as written
    store = open_store(target, cache=False)
    row = store.runs(view="all").set_index("run_id").loc[run_id]
    detail = store.run(run_id)
    for key, value in EDGE_VALUES.items():
        assert row[f"params.{key}"].encode() == value.encode(), key
        assert row[f"tags.tag_{key}"].encode() == ref.tags[f"tag_{key}"].encode(), key
        assert detail["params"][key].encode() == value.encode(), key
    assert detail["params"] == ref.params
    assert {k: v for k, v in detail["tags"].items()} == ref.tags
    assert len(detail["tags"]["tag_longest"]) == 8000 and len(detail["params"]["longest"]) == 6000
    assert detail["info"]["run_name"] == "  padded name  "


@pytest.mark.parametrize("backend", ["file", "git", "sqlite"])
def test_metric_history_equals_mlflow(uris, backend, tmp_path):
    target, ref_uri = uris[backend]
    if backend == "git":  # MLflow's get_run needs the folders git dropped: recreate them on a copy
        repaired = tmp_path / "mlruns"
        shutil.copytree(ref_uri, repaired)
        restore_run_dirs(repaired)
        ref_uri = str(repaired)
    store = open_store(target, cache=False)
    runs = store.runs(view="all")
    client = MlflowClient(ref_uri)
    keys = sorted({c[len("metrics."):] for c in runs.columns if c.startswith("metrics.")})
    ours = store.metric_history(list(runs["run_id"]), keys)
    assert list(ours.columns) == ["run_id", "key", "step", "timestamp", "value"]
    assert str(ours["step"].dtype) == "int64" and str(ours["timestamp"].dtype) == "int64"
    assert str(ours["value"].dtype) == "float64"
    expected = []
    for run_id in runs["run_id"]:
        for key in keys:
            for m in client.get_metric_history(run_id, key):
                expected.append((run_id, key, m.step, m.timestamp, m.value))
    ref = pd.DataFrame(expected, columns=["run_id", "key", "step", "timestamp", "value"])
    order = ["run_id", "key", "step", "timestamp", "value"]
    got = ours.sort_values(order).reset_index(drop=True)
    # The history frame's declared dtypes, written out rather than copied from ours.
    ref = ref.sort_values(order).reset_index(drop=True).astype(
        {"run_id": object, "key": object, "step": "int64", "timestamp": "int64", "value": "float64"})
    assert len(got) > 1000
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


@pytest.mark.parametrize("bad", ["params.model = lasso", "metrics.rmse <<< 1", "foo.bar = 1",
                                 "metrics.rmse < 1 or params.a = 'b'", "attributes.status IN ('A')"])
def test_bad_filter_is_a_store_error_with_mlflows_message(uris, bad):
    from mlflow.exceptions import MlflowException

    target, ref_uri = uris["file"]
    with pytest.raises(FilterError) as err:
        open_store(target, cache=False).runs(filter_string=bad)
    with pytest.raises(MlflowException) as ref:
        reference_runs(ref_uri, filter_string=bad)
    assert str(err.value) == ref.value.message


def test_run_detail_reads_runs_git_emptied(built):
    """MLflow's get_run says 'Run not found' when git dropped empty folders; we read them."""
    store = open_store(built["git"], cache=False)
    detail = store.run(built["ids"]["empty"])
    assert detail["info"]["run_name"] == "0042"
    assert detail["params"] == {} and detail["metrics"] == {}
    with_ds = store.run(built["ids"]["dataset_run"])
    assert with_ds["inputs"][0]["name"] == "taxi" and with_ds["inputs"][0]["context"] == "train"


def test_trashed_experiment_saying_active_is_deleted(built):
    store = open_store(built["git"], cache=False)
    deleted = store.experiments("deleted")
    assert built["ids"]["gamma"] in set(deleted["experiment_id"])
    assert set(deleted["lifecycle_stage"]) == {"deleted"}


def test_old_two_field_metric_lines_read_as_step_zero(built):
    store = open_store(built["git"], cache=False)
    hist = store.metric_history([built["ids"]["running"]], ["old_metric"])
    assert hist["step"].tolist() == [0, 0]
    assert hist["value"].tolist() == [0.5, 0.25]


@pytest.mark.parametrize("backend", ["file", "sqlite"])
def test_experiment_stats_count_what_runs_returns(uris, backend):
    target, _ = uris[backend]
    store = open_store(target, cache=False)
    for view in ("active", "deleted", "all"):
        stats = store.experiment_stats(view).set_index("experiment_id")
        runs = store.runs(view=view)
        assert stats["runs"].to_dict() == runs.groupby("experiment_id").size().to_dict()
        last = runs.groupby("experiment_id")[["start_time", "end_time"]].max().max(axis=1)
        for exp_id, when in last.items():
            assert stats.loc[exp_id, "last_activity"] == when.value // 10**6 * 1.0 or pd.isna(when)


def test_sqlite_reads_the_same_with_and_without_adbc(built):
    """ADBC (Arrow) is only a faster road to the same rows as the DB-API path."""
    fast = open_store(built["sqlite"])
    assert fast._adbc_uri is not None
    slow = open_store(built["sqlite"])
    slow._adbc_uri = None
    for view in ("active", "all"):
        a, b = fast.runs(view=view), slow.runs(view=view)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
