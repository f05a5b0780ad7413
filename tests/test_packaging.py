"""The desktop files: the committed association files are current and parse, the desktop
entry validates, and ``mlscope --install-desktop`` into a temporary XDG home makes an MLflow
``mlflow.db`` open in mlscope without claiming other SQLite files."""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

XDG_TOOLS = ("desktop-file-validate", "update-desktop-database", "update-mime-database",
             "xdg-mime", "mimetype")


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip("needs " + ", ".join(missing) + " (Debian: desktop-file-utils xdg-utils "
                    "shared-mime-info libfile-mimeinfo-perl; .ci/run installs them)")


def test_committed_association_files_are_current():
    """`python packaging/associations.py` writes them; nobody edits one by hand and forgets."""
    import associations

    for path, data in associations.files().items():
        assert path.read_bytes() == data, f"{path} is stale: run python packaging/associations.py"


def test_desktop_entry_validates():
    need("desktop-file-validate")
    entry = PACKAGING / "linux" / "mlscope.desktop"
    r = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert r.returncode == 0 and "error" not in r.stdout, r.stdout
    text = entry.read_text()
    assert "Exec=mlscope %F" in text
    mimes = re.search(r"^MimeType=(.*)$", text, re.M).group(1).split(";")
    assert {"application/x-mlflow-database", "inode/directory"} <= set(mimes)


def test_mime_definition_claims_mlflow_db_by_name_only():
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(PACKAGING / "linux" / "mlscope-mime.xml").getroot()
    (t,) = root.findall("m:mime-type", ns)
    assert t.get("type") == "application/x-mlflow-database"
    assert t.find("m:sub-class-of", ns).get("type") == "application/vnd.sqlite3"
    assert [g.get("pattern") for g in t.findall("m:glob", ns)] == ["mlflow.db"]
    assert t.find("m:magic", ns) is None  # a magic rule would take every SQLite file


def test_info_plist_declares_folders_and_databases():
    plist = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    types = plist["CFBundleDocumentTypes"]
    contents = {c for t in types for c in t["LSItemContentTypes"]}
    assert "public.folder" in contents
    (uti,) = plist["UTImportedTypeDeclarations"]
    assert uti["UTTypeIdentifier"] in contents
    assert set(uti["UTTypeTagSpecification"]["public.filename-extension"]) >= {"db", "sqlite"}
    assert all(t["CFBundleTypeRole"] == "Viewer" and t["LSHandlerRank"] == "Alternate"
               for t in types)
    assert plist["CFBundleExecutable"] == "mlscope" and plist["NSHighResolutionCapable"]


def parse_reg(data: bytes) -> dict[str, dict[str, str]]:
    """A .reg file as regedit reads it: UTF-16LE with a BOM, [key] sections, "name"=value."""
    assert data[:2] == b"\xff\xfe", "regedit wants UTF-16LE with a BOM"
    lines = data[2:].decode("utf-16-le").split("\r\n")
    assert lines[0] == "Windows Registry Editor Version 5.00"
    keys: dict[str, dict[str, str]] = {}
    current = None
    for line in lines[1:]:
        if not line:
            continue
        if m := re.fullmatch(r"\[(HKEY_CURRENT_USER\\[^\]]+)\]", line):
            current = keys.setdefault(m.group(1), {})
            continue
        m = re.fullmatch(r'(@|"(?:[^"\\]|\\.)*")=("(?:[^"\\]|\\.)*"|hex\(2\):([0-9a-f,]+))', line)
        assert m and current is not None, f"not a .reg line: {line!r}"
        name = m.group(1) if m.group(1) == "@" else m.group(1)[1:-1]
        if m.group(3):  # REG_EXPAND_SZ: UTF-16LE bytes ending in NUL
            raw = bytes(int(b, 16) for b in m.group(3).split(","))
            value = raw.decode("utf-16-le")
            assert value.endswith("\0")
            value = value[:-1]
        else:
            value = re.sub(r"\\(.)", r"\1", m.group(2)[1:-1])
        current[name] = value
    return keys


def test_windows_registry_file_parses_and_opens_folders_and_db():
    keys = parse_reg((PACKAGING / "windows" / "mlscope.reg").read_bytes())
    classes = "HKEY_CURRENT_USER\\Software\\Classes\\"
    exe = r"%LOCALAPPDATA%\Programs\mlscope\mlscope.exe"
    command = f'"{exe}" "%1"'
    assert keys[classes + r"Directory\shell\mlscope"]["@"] == "Open with mlscope"
    assert keys[classes + r"Directory\shell\mlscope\command"]["@"] == command
    assert keys[classes + r"mlscope.store\shell\open\command"]["@"] == command
    assert keys[classes + r".db\OpenWithProgids"] == {"mlscope.store": ""}
    # only "Open with": the .db key's own default (the default program) is left alone
    assert classes + ".db" not in keys


@pytest.fixture
def xdg_home(tmp_path):
    """A temporary XDG home, and an environment where xdg-mime uses its generic backend."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "KDE_FULL_SESSION",
                        "GNOME_DESKTOP_SESSION_ID", "XDG_SESSION_DESKTOP")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(ROOT / "app"))
    return env


def xdg(env, *args) -> str:
    r = subprocess.run(["xdg-mime", "query", *args], env=env, capture_output=True, text=True)
    return r.stdout.strip()


def test_install_desktop_makes_mlflow_db_open_in_mlscope(tmp_path, xdg_home, built):
    need(*XDG_TOOLS)
    env = xdg_home
    mlflow_db = tmp_path / "project" / "mlflow.db"  # written by MLflow's client
    mlflow_db.parent.mkdir()
    shutil.copy(built["sqlite"], mlflow_db)
    plain = tmp_path / "plain" / "data.db"  # an ordinary SQLite file
    plain.parent.mkdir()
    with sqlite3.connect(plain) as c:
        c.execute("CREATE TABLE t (x)")
    before = xdg(env, "filetype", str(mlflow_db))
    assert before == "application/vnd.sqlite3"

    r = subprocess.run([sys.executable, "-m", "mlscope", "--install-desktop"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    data = Path(env["XDG_DATA_HOME"])
    entry = data / "applications" / "mlscope.desktop"
    assert f"wrote: {entry}" in r.stdout
    assert "ran: xdg-mime default mlscope.desktop application/x-mlflow-database" in r.stdout
    assert subprocess.run(["desktop-file-validate", str(entry)]).returncode == 0
    exec_line = re.search(r"^Exec=(.*)$", entry.read_text(), re.M).group(1)
    assert exec_line.endswith(" %F") and os.path.isabs(exec_line.split()[0].strip('"'))
    png = data / "icons" / "hicolor" / "48x48" / "apps" / "mlscope.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert xdg(env, "filetype", str(mlflow_db)) == "application/x-mlflow-database"
    assert xdg(env, "default", "application/x-mlflow-database") == "mlscope.desktop"
    assert xdg(env, "filetype", str(plain)) == "application/vnd.sqlite3"  # not claimed
    mimeapps = (Path(env["XDG_CONFIG_HOME"]) / "mimeapps.list").read_text()
    assert "inode/directory" not in mimeapps and "vnd.sqlite3" not in mimeapps  # offered only

    r = subprocess.run([sys.executable, "-m", "mlscope", "--uninstall-desktop"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"removed: {entry}" in r.stdout
    assert not entry.exists() and not png.exists()
    assert xdg(env, "filetype", str(mlflow_db)) == "application/vnd.sqlite3"
    assert "mlscope" not in (Path(env["XDG_CONFIG_HOME"]) / "mimeapps.list").read_text()


# -- the bundle -------------------------------------------------------------------------------
def _mlflow_store(root: Path) -> Path:
    """Three finished runs (loss 0.9, 0.5, 0.3) written by MLflow's client."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=root.as_uri())
    exp = client.create_experiment("bundle-check")
    for name, loss in (("slow-run", 0.9), ("mid-run", 0.5), ("fast-run", 0.3)):
        run = client.create_run(exp, run_name=name)
        client.log_param(run.info.run_id, "lr", str(loss / 10))
        for step in range(5):
            client.log_metric(run.info.run_id, "loss", loss + 0.1 * (4 - step), step=step)
        client.set_terminated(run.info.run_id)
    return root


def green_rows(png: Path) -> int:
    """Rows of the runs table with a FINISHED status: its green disc and word sit in one column,
    one band of green a row; the most bands of green found in any pixel column (the detail
    pane's green disc and word sit in other columns, one band each)."""
    from PySide6.QtGui import QColor, QImage

    img = QImage(str(png))
    best = 0
    for x in range(0, img.width(), 2):
        bands, last = 0, -99
        for y in range(img.height()):
            c = QColor(img.pixel(x, y))
            if c.green() > 130 and c.red() < 60 and c.blue() < 110:
                bands += y - last > 6  # a gap of a few pixels is the disc's white tick
                last = y
        best = max(best, bands)
    return best


def pixel_difference(a: Path, b: Path) -> float:
    from PySide6.QtGui import QImage

    ia, ib = QImage(str(a)), QImage(str(b))
    assert ia.size() == ib.size()
    diff = sum(ia.pixel(x, y) != ib.pixel(x, y)
               for y in range(0, ia.height(), 2) for x in range(0, ia.width(), 2))
    return diff / ((ia.height() // 2) * (ia.width() // 2))


def _bundle_env(tmp: Path) -> dict:
    """Nothing of the build's Python: an empty PATH, no PYTHON* or VIRTUAL_ENV, own HOME."""
    empty = tmp / "emptybin"
    empty.mkdir(parents=True, exist_ok=True)
    env = {"PATH": str(empty), "HOME": str(tmp / "home"), "LANG": "C.UTF-8",
           "QT_QPA_PLATFORM": "offscreen"}
    for name in ("CONFIG", "CACHE", "DATA"):
        env[f"MLSCOPE_{name}_DIR"] = str(tmp / name.lower())
    return env


def _run_watching_maps(cmd, env, forbidden: str, timeout=240) -> tuple[int, str, set[str]]:
    """Run ``cmd``; collect the files it maps from ``forbidden`` (e.g. the build's venv)."""
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen: set[str] = set()
    maps = Path(f"/proc/{p.pid}/maps")
    end = time.monotonic() + timeout
    while p.poll() is None and time.monotonic() < end:
        try:
            seen |= {line.split()[-1] for line in maps.read_text().splitlines()
                     if forbidden in line}
        except OSError:
            pass
        time.sleep(0.2)
    if p.poll() is None:
        p.kill()
    out = p.communicate()[0].decode(errors="replace")
    return p.returncode, out, seen


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """dist/mlscope built by packaging/build.py (or $MLSCOPE_BUNDLE, an existing build)."""
    prebuilt = os.environ.get("MLSCOPE_BUNDLE")
    if prebuilt:
        return Path(prebuilt), None, {}
    pytest.importorskip("PyInstaller", reason="pip install -e '.[packaging]' (.ci/run does)")
    out = tmp_path_factory.mktemp("bundle")
    r = subprocess.run([sys.executable, str(PACKAGING / "build.py"), "--dist", str(out / "dist"),
                        "--work", str(out / "work")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    figures = dict(re.findall(r"^(\w+): (.*)$", r.stdout, re.M))
    print("\n".join(f"{k}: {v}" for k, v in figures.items()))
    return out / "dist" / "mlscope" / "mlscope", Path(figures["tarball"]), figures


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the first test builds the bundle (its fixture): minutes
def test_bundle_renders_a_store_with_no_python_beside_it(bundle, tmp_path):
    program, tar_path, _ = bundle
    if tar_path is not None:
        import tarfile

        names = tarfile.open(tar_path).getnames()
        top = names[0].split("/")[0]
        for member in ("mlscope", "share/applications/mlscope.desktop",
                       "share/mime/packages/mlscope.xml",
                       "share/icons/hicolor/48x48/apps/mlscope.png"):
            assert f"{top}/{member}" in names
    store = _mlflow_store(tmp_path / "store" / "mlruns")
    venv = str(Path(sys.prefix).resolve())
    args = [str(store), "--filter", "metrics.loss < 0.6", "--size", "1200x760"]

    shot = tmp_path / "bundle.png"
    t0 = time.monotonic()
    rc, out, mapped = _run_watching_maps([str(program), *args, "--screenshot", str(shot)],
                                         _bundle_env(tmp_path / "b"), venv)
    took = time.monotonic() - t0
    assert rc == 0 and shot.is_file(), out
    assert not mapped, f"the bundle loaded files of the build's Python: {sorted(mapped)[:5]}"
    print(f"bundle_screenshot_time: {took:.1f} s")
    # MLflow's parser ran inside the bundle: two of the three runs are in the table.
    assert green_rows(shot) == 2

    ref = tmp_path / "python.png"
    env = dict(os.environ, **{k: v for k, v in _bundle_env(tmp_path / "p").items()
                              if k.startswith("MLSCOPE_")}, PYTHONPATH=str(ROOT / "app"))
    r = subprocess.run([sys.executable, "-m", "mlscope", *args, "--screenshot", str(ref)],
                       env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0 and green_rows(ref) == 2
    # The same window as mlscope run from source (what differs: timings in the status bar).
    assert pixel_difference(shot, ref) < 0.02


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_bundle_reads_big_folders_and_databases(bundle, tmp_path, big_mlruns_copy, built):
    """A big mlruns folder goes through the reader's worker processes (multiprocessing in a frozen
    program); an mlflow.db through SQLAlchemy (and ADBC) inside the bundle."""
    program = bundle[0]
    db = tmp_path / "sql" / "mlflow.db"
    db.parent.mkdir()
    shutil.copy(built["sqlite"], db)
    for i, target in enumerate((big_mlruns_copy, db)):
        counts = []
        for cmd, env in (([str(program)], _bundle_env(tmp_path / f"b{i}")),
                         ([sys.executable, "-m", "mlscope"],
                          dict(os.environ, PYTHONPATH=str(ROOT / "app"),
                               **{k: v for k, v in _bundle_env(tmp_path / f"p{i}").items()
                                  if k.startswith("MLSCOPE_")}))):
            r = subprocess.run([*cmd, str(target), "--bench"], env=env,
                               capture_output=True, text=True, timeout=300)
            loaded = re.findall(r"^mlscope-event loaded (\d+) ", r.stdout, re.M)
            assert r.returncode == 0 and loaded, r.stdout[-2000:] + r.stderr[-2000:]
            if cmd[0] == str(program):  # nothing missing from the bundle
                assert not re.search(r"ImportError|ModuleNotFoundError|No module named",
                                     r.stderr), r.stderr
            counts.append(int(loaded[0]))
        assert counts[0] == counts[1] > 0  # the bundle shows what mlscope from source shows
        if target == big_mlruns_copy:
            from mlscope.core.mlruns import PARALLEL_MIN

            assert counts[0] >= PARALLEL_MIN


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_bundle_runs_mlflows_migration_itself(bundle, tmp_path):
    """"Migrate to SQLite" inside the bundle: no Python beside it to run ``-c``, so the
    program runs MLflow's migration as its own child; MLflow's client reads the result."""
    from mlflow.tracking import MlflowClient

    program = bundle[0]
    store = _mlflow_store(tmp_path / "store" / "mlruns")
    db = tmp_path / "migrated.db"
    r = subprocess.run([str(program), "--mlscope-migrate-child", str(store), f"sqlite:///{db}"],
                       env=_bundle_env(tmp_path / "b"), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("bundle-check")
    runs = client.search_runs([exp.experiment_id])
    assert sorted(run.data.metrics["loss"] for run in runs) == [0.3, 0.5, 0.9]


@pytest.fixture
def big_mlruns_copy(tmp_path_factory):
    """More runs than the count from which the reader starts worker processes, in MLflow's
    folder format (the benchmark generator's)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from make_stores import build_mlruns

    root = tmp_path_factory.mktemp("bigb") / "mlruns"
    from mlscope.core.mlruns import PARALLEL_MIN

    build_mlruns(root, n_runs=PARALLEL_MIN + 100, n_metrics=2, n_steps=3, n_params=4, n_tags=2,
                 n_experiments=1, seed=1)
    return root


def test_build_draws_the_icons_every_platform_asks_for(tmp_path):
    """hicolor PNGs for Linux, a multi-size .ico for Windows, an .icns for macOS."""
    import struct

    import build
    from PySide6.QtGui import QImage

    icons = build.render_icons(tmp_path)
    for n in (16, 48, 256, 512):
        assert QImage(str(icons[f"png{n}"])).size().width() == n
    data = icons["ico"].read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, len(build.ICO_SIZES))
    sizes = []
    for i in range(count):
        w, _h, _c, _r, _p, _b, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        png = data[offset:offset + length]
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        sizes.append(QImage.fromData(png).width())
        assert sizes[-1] == (w or 256)
    assert sizes == list(build.ICO_SIZES)
    assert icons["icns"].read_bytes()[:4] == b"icns"
