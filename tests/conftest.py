"""Shared test setup: offscreen Qt, and mlscope's own folders in a temp dir per session."""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# MLflow's client is the reference in tests; 3.13+ needs this to read mlruns folders.
# mlscope itself never needs it (tests/core/test_core_is_qt_free.py::
# test_opening_an_mlruns_folder_needs_no_mlflow_env_var proves that).
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
# MLflow's telemetry thread sets and unsets an environment variable while other threads read
# os.environ (a KeyError in urllib's proxy lookup), and would call out to the network.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
_tmp = Path(tempfile.mkdtemp(prefix="mlscope-tests-"))
for name in ("CONFIG", "CACHE", "DATA"):
    os.environ[f"MLSCOPE_{name}_DIR"] = str(_tmp / name.lower())

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "app"))
CORPUS = ROOT.parent / "shared" / "corpus"

import pytest  # noqa: E402


@pytest.fixture
def settings(tmp_path):
    """The app's settings in this test's own folder."""
    from mlscope.ui.settings import Settings

    return Settings(tmp_path / "config" / "settings.json")


@pytest.fixture
def window(qtbot, settings):
    """A shown main window with its own settings; its pages shut down after the test."""
    from mlscope.ui.main_window import MainWindow

    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.resize(1300, 800)
    w.show()
    yield w
    for page in w.pages():
        page.shutdown()


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """A cache folder (the servers' saved copies) shared by one test file's tests alone."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLSCOPE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Edge-case stores built by MLflow's client: a file store, its git-like copy, an SQLite file.

    Returns dict(file=Path, git=Path, sqlite=Path, ids=dict). Tests must not write to them.
    """
    from mlflow_stores import build, make_git_like_variant

    base = tmp_path_factory.mktemp("built")
    file_root = base / "mlruns"
    ids = build(str(file_root))
    db = base / "sql" / "mlflow.db"
    db.parent.mkdir()
    sql_ids = build(f"sqlite:///{db}")
    git = base / "git" / "mlruns"
    git.parent.mkdir()
    make_git_like_variant(file_root, git, ids)
    return {"file": file_root, "git": git, "sqlite": db, "ids": ids, "sql_ids": sql_ids}


@pytest.fixture(autouse=True)
def _mlflow_environment():
    """MLflow keeps state in os.environ (mlflow.set_tracking_uri sets MLFLOW_TRACKING_URI;
    the registry's write door sets its retries): each test starts from the session's."""
    before = {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}
    yield
    for k in [k for k in os.environ if k.startswith("MLFLOW_") and k not in before]:
        del os.environ[k]
    os.environ.update(before)
    # ...and in module globals (mlflow.set_tracking_uri / set_registry_uri), where a later
    # test's MlflowClient() would pick them up.
    for name, attr in (("mlflow.tracking._tracking_service.utils", "_tracking_uri"),
                       ("mlflow.tracking._model_registry.utils", "_registry_uri")):
        module = sys.modules.get(name)
        if module is not None and getattr(module, attr, None) is not None:
            setattr(module, attr, None)


STRICT = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skip is a failure: CI installs every server, tool and store the tests
    need, so a test that still cannot have one shows a broken install, not a pass."""
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where it must run: {reason}"


def pytest_collection_modifyitems(config, items):
    """The bundle build (minutes, one process) first: with two tests at a time (-n 2
    --dist loadfile) it then runs beside the rest of the suite instead of after it."""
    items.sort(key=lambda item: 0 if item.nodeid.startswith("tests/test_packaging.py") else 1)
