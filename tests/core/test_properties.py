"""Property-based checks of the two hand-written parsers against the code MLflow runs."""

import math

import numpy as np
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow.store.tracking.file_store import FileStore as MlflowFileStore

from mlscope.core.mlruns import latest_metric, latest_point, parse_meta, parse_metric_lines

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False), st.text(max_size=40),
    st.sampled_from(["", "0", "007", "1e3", "yes", "No", "null", "~", "2021-01-01", "a: b", "#x",
                     "it's", "file:///C:/x y/%20", "- item", "[]", "{}", "0x1F", "1_000", ".inf"]),
)
keys = st.sampled_from(["run_id", "run_name", "status", "start_time", "end_time", "user_id",
                        "artifact_uri", "experiment_id", "lifecycle_stage", "tags", "name"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, scalars, max_size=11))
def test_parse_meta_equals_pyyaml(meta):
    text = yaml.safe_dump(meta, default_flow_style=False)
    expected = yaml.safe_load(text)
    got = parse_meta(text.encode("utf-8"))
    assert got == expected or (got is None and expected is None) or _nan_equal(got, expected)


def _nan_equal(a, b):
    if not (isinstance(a, dict) and isinstance(b, dict)) or a.keys() != b.keys():
        return False
    return all(x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)) for x, y in
               zip(a.values(), b.values(), strict=True))


points = st.tuples(  # small ranges too, so that steps and timestamps tie
    st.one_of(st.integers(0, 2**53), st.integers(0, 3)),
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.5, 1.0, 2.0])),
    st.one_of(st.integers(-(2**40), 2**40), st.integers(-2, 2)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(points, min_size=1, max_size=30), st.booleans())
def test_latest_metric_equals_mlflows(points, two_fields):
    lines = [f"{t} {v!r} {s}" if not two_fields else f"{t} {v!r}" for t, v, s in points]
    data = ("\n".join(lines) + "\n").encode()
    ts, values, steps, bad = parse_metric_lines(data)
    assert bad == 0
    metrics = [MlflowFileStore._get_metric_from_line("r", "k", ln, "0") for ln in lines]
    ref = max(metrics, key=lambda m: (m.step, m.timestamp, m.value))
    value, step, t = latest_point(ts, values, steps)
    assert (int(step), int(t)) == (ref.step, ref.timestamp)
    assert value == ref.value or (np.isnan(value) and math.isnan(ref.value))
    (value, step, t), bad = latest_metric(data)  # the run table's shortcut agrees
    assert (step, t, bad) == (ref.step, ref.timestamp, 0)
    assert value == ref.value or (math.isnan(value) and math.isnan(ref.value))
    assert [m.value for m in metrics] == values.tolist() or all(
        a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip([m.value for m in metrics], values, strict=True))


def test_the_lean_signature_is_the_surveys_signature(built):
    """Reopening compares run_signature() with what survey_run() recorded: they must agree."""
    from mlscope.core.mlruns import run_signature, survey_run

    run_dirs = [m.parent for m in built["file"].rglob("meta.yaml") if "run_id" in m.read_text()]
    run_dirs += [m.parent for m in built["git"].rglob("meta.yaml") if "run_id" in m.read_text()]
    assert len(run_dirs) > 15
    for d in run_dirs:
        assert run_signature(str(d)) == survey_run(str(d))[0] is not None


def test_the_one_pass_reader_equals_the_careful_one(built):
    """_read_plain() takes the usual run folder in one pass; survey_run() + read_run() are the
    careful path it leaves the rest to. Where it answers, they must agree, signature and all."""
    from mlscope.core.mlruns import _read_plain, read_run, survey_run

    answered = 0
    for kind in ("file", "git"):
        for meta in built[kind].rglob("meta.yaml"):
            d = meta.parent
            if "run_id" not in meta.read_text():
                continue
            exp_id = d.parent.name
            plain = _read_plain(str(d), exp_id)
            if plain is None:
                continue
            answered += 1
            survey = survey_run(str(d))
            assert repr(plain) == repr((survey[0], read_run(str(d), exp_id, survey))), d
    assert answered > 10


def test_reading_from_the_disk_with_threads_changes_nothing(built, monkeypatch):
    """Run folders that come slowly (from the disk) are read by threads: same answers, same
    order, as one after another."""
    from mlscope.core import mlruns

    jobs = [(str(m.parent), m.parent.parent.name) for m in built["file"].rglob("meta.yaml")
            if "run_id" in m.read_text()]
    dirs = [d for d, _ in jobs]
    one_by_one = mlruns.read_runs(jobs), mlruns.run_signatures(dirs)
    monkeypatch.setattr(mlruns, "COLD_READ_S", -1.0)  # every run looks cold
    monkeypatch.setattr(mlruns, "COLD_SIGNATURE_S", -1.0)
    monkeypatch.setattr(mlruns, "COLD_AHEAD", 3)
    threaded = mlruns.read_runs(jobs), mlruns.run_signatures(dirs)
    assert mlruns._THREADS, "the threads were not used"
    assert len(jobs) > 10
    assert repr(threaded) == repr(one_by_one)  # repr: NaN metrics are equal there


fields = st.sampled_from(["1700000000000", "0", "12", "-3", "0.5", "nan", "-inf", "1e-05", "x", ""])
odd_lines = st.lists(fields, min_size=1, max_size=5).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(odd_lines, min_size=1, max_size=8), st.sampled_from(["\n", "\r\n"]))
def test_odd_metric_files_read_line_by_line_as_mlflow(lines, newline):
    """Lines of 1-5 fields, empty fields, junk: each line counts as MLflow's parser takes it
    (a point, or one malformed line), whatever the fast paths decide."""
    data = (newline.join(lines) + newline).encode()
    good = []
    for line in lines:
        try:
            m = MlflowFileStore._get_metric_from_line("r", "k", line, "0")
            good.append((m.timestamp, m.value, m.step))
        except Exception:  # noqa: BLE001 - MLflow rejects the line: a malformed line to us
            continue
    good = [g for g in good if -(2**63) <= g[0] < 2**63 and -(2**63) <= g[2] < 2**63]
    ts, values, steps, bad = parse_metric_lines(data)
    got = list(zip(ts.tolist(), values.tolist(), steps.tolist(), strict=True))
    assert repr(got) == repr(good) and bad == len(lines) - len(good)
    point, bad_too = latest_metric(data)
    assert bad_too == bad
    if good:
        ref = max(good, key=lambda g: (g[2], g[0], g[1]))
        assert repr(point) == repr((ref[1], ref[2], ref[0]))
    else:
        assert point is None
