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
