"""mlscope on the desktop: one instance per user, files handed over by the OS, and the Linux
desktop entry, icons and MIME type installed for the current user.

A second launch (a second double-click) hands its paths to the running mlscope over a
QLocalSocket and exits; the running one opens each in a tab and raises its window. If nobody
answers within a second a new instance starts and takes the socket over, so the socket file a
crashed mlscope leaves behind never blocks the next start.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication

from mlscope.core.paths import config_dir

APP_ID = "mlscope"
DESKTOP_FILE = f"{APP_ID}.desktop"
# MLflow's SQLite store. Matched by name only: MLflow's schema sits ~85 KB into the file
# (after its migrations), too far for a magic rule, and every SQLite file starts alike.
MLFLOW_DB_MIME = "application/x-mlflow-database"
# Listed in the desktop entry so mlscope shows under "Open With" for folders and any SQLite
# file; only MLFLOW_DB_MIME is made the default (never folders: that is the file manager's).
MIME_TYPES = (MLFLOW_DB_MIME, "application/vnd.sqlite3", "inode/directory")
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
HANDOFF_TIMEOUT_MS = 1000
MAX_MESSAGE = 1 << 20


# -- one instance ------------------------------------------------------------------------------
def server_name(config: Path | None = None) -> str:
    """The socket of this user's mlscope (one per config folder, so tests keep to theirs).

    On Unix it is a full path in the user's private runtime folder when there is one, so no
    other user can take the name first; elsewhere Qt's per-user temp folder or a named pipe.
    """
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (containers): the uid still separates users
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    key = f"{user}\0{(config or config_dir()).resolve()}".encode()
    name = f"{APP_ID}-{hashlib.sha1(key).hexdigest()[:16]}"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.name == "posix" and runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        return os.path.join(runtime, name)
    return name


def absolute_targets(targets, cwd: str | None = None) -> list[str]:
    """Paths made absolute against the launching process's folder; URLs as they are."""
    cwd = cwd or os.getcwd()
    out = []
    for t in targets:
        t = str(t)
        out.append(t if "://" in t else os.path.abspath(os.path.join(cwd, os.path.expanduser(t))))
    return out


def hand_off(request: dict, name: str | None = None,
             timeout_ms: int = HANDOFF_TIMEOUT_MS) -> bool:
    """Give ``request`` to the running mlscope. True once it acknowledged; False when nobody
    answered within ``timeout_ms`` (no instance, a stale socket, or a hung one)."""
    deadline = time.monotonic() + timeout_ms / 1000

    def left() -> int:
        return max(0, int((deadline - time.monotonic()) * 1000))

    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    try:
        if not sock.waitForConnected(left()):
            return False
        sock.write(json.dumps(request).encode() + b"\n")
        if not sock.waitForBytesWritten(left()):
            return False
        reply = b""
        while not reply.endswith(b"\n") and left() > 0:
            if not sock.bytesAvailable() and not sock.waitForReadyRead(left()):
                break
            reply += bytes(sock.readAll())
        return reply.strip() == b"ok"
    finally:
        sock.abort()


def _valid(request) -> dict | None:
    if not isinstance(request, dict):
        return None
    targets = request.get("targets", [])
    experiment = request.get("experiment")
    if not (isinstance(targets, list) and all(isinstance(t, str) for t in targets)):
        return None
    if experiment is not None and not isinstance(experiment, str):
        return None
    return {"targets": targets, "experiment": experiment, "demo": bool(request.get("demo"))}


class Instance(QObject):
    """The running mlscope's end: acknowledges each request, then emits ``requested``."""

    requested = Signal(dict)  # {"targets": [...], "experiment": str|None, "demo": bool}

    def __init__(self, name: str | None = None, parent=None):
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Take the name; a socket left by a crashed mlscope is removed first."""
        if self.server.listen(self.name):
            return True
        if self.server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
            QLocalServer.removeServer(self.name)
            return self.server.listen(self.name)
        return False

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            buffer = bytearray()
            sock.readyRead.connect(lambda s=sock, b=buffer: self._read(s, b))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock, buffer: bytearray) -> None:
        """One JSON line a connection; anything else (or too much) is refused."""
        buffer += bytes(sock.readAll())
        if b"\n" not in buffer:
            if len(buffer) > MAX_MESSAGE:
                sock.abort()
            return
        try:
            request = _valid(json.loads(bytes(buffer).split(b"\n", 1)[0]))
        except ValueError:
            request = None
        buffer.clear()
        sock.write(b"ok\n" if request is not None else b"bad\n")
        sock.flush()
        sock.disconnectFromServer()
        if request is not None:
            QTimer.singleShot(0, lambda r=request: self.requested.emit(r))


def present(window, request: dict) -> None:
    """Open what another launch (or the OS) asked for, each in a tab, and raise the window."""
    if request.get("demo"):
        window.open_demo(request.get("experiment"))
    for target in request.get("targets", []):
        window.open_target(target, request.get("experiment"))
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


class Application(QApplication):
    """mlscope's QApplication: macOS sends a document double-clicked in Finder or dropped on
    the Dock (also the one that launched the app, instead of argv) as a QFileOpenEvent to
    the application object; it comes out as ``fileOpened``. (Overriding ``event`` here costs
    nothing elsewhere, unlike a filter on the application, which sees every event.)"""

    fileOpened = Signal(str)

    def event(self, e) -> bool:
        if e.type() == QEvent.Type.FileOpen:
            target = e.file() or e.url().toString()
            if target:
                self.fileOpened.emit(target)
                return True
        return super().event(e)


def open_files_in(app, window) -> None:
    """Open what the OS sends (``Application.fileOpened``) in ``window``, each in a tab."""
    if isinstance(app, Application):
        app.fileOpened.connect(lambda target: present(window, {"targets": [target]}))


# -- Linux desktop integration -----------------------------------------------------------------
def _quote_exec(arg: str) -> str:
    """One Exec= argument, quoted as the Desktop Entry spec asks when it needs to be."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`%'):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return '"' + escaped.replace("%", "%%") + '"'


def desktop_entry(command: list[str] | None = None) -> str:
    """The desktop entry; ``command`` is how to start mlscope (default: ``mlscope`` on PATH)."""
    exec_line = " ".join(_quote_exec(a) for a in (command or ["mlscope"])) + " %F"
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=mlscope",
        "GenericName=MLflow Browser",
        "Comment=Browse MLflow tracking stores: mlruns folders, mlflow.db files and servers",
        f"Exec={exec_line}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "StartupNotify=true",
        f"StartupWMClass={APP_ID}",
        "Categories=Science;DataVisualization;Qt;",
        "Keywords=MLflow;mlruns;experiments;runs;metrics;machine learning;",
        "MimeType=" + "".join(m + ";" for m in MIME_TYPES),
        "",
    ])


def mime_xml() -> str:
    """shared-mime-info: ``mlflow.db`` is an MLflow store (a kind of SQLite database)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MLFLOW_DB_MIME}">
    <comment>MLflow tracking store</comment>
    <sub-class-of type="application/vnd.sqlite3"/>
    <generic-icon name="application-x-sqlite3"/>
    <glob pattern="mlflow.db" weight="90"/>
  </mime-type>
</mime-info>
"""


def render_icon(size: int, svg: Path | None = None):
    """The app icon as a ``size`` x ``size`` QImage, drawn from the SVG by Qt."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from mlscope.ui.theme import resource_dir

    svg = svg or (resource_dir() / "icons" / "app.svg")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    return image


def launch_command() -> list[str]:
    """How the desktop should start this mlscope: the frozen program, the launcher installed
    next to this Python, else this Python with ``-m mlscope``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    exe = Path(sys.executable)
    for name in ("mlscope", "mlscope.exe"):
        if (exe.parent / name).is_file():
            return [str(exe.parent / name)]
    return [str(exe), "-m", "mlscope"]


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def _installed_files(data: Path) -> list[Path]:
    icons = data / "icons" / "hicolor"
    return ([data / "applications" / DESKTOP_FILE, data / "mime" / "packages" / f"{APP_ID}.xml",
             icons / "scalable" / "apps" / f"{APP_ID}.svg"]
            + [icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png" for n in ICON_SIZES])


def _run(cmd: list[str], say) -> bool:
    if shutil.which(cmd[0]) is None:
        say(f"skipped: {cmd[0]} not found (Debian: desktop-file-utils, xdg-utils, "
            "shared-mime-info)")
        return False
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        say(f"failed: {' '.join(cmd)}: {(r.stderr or r.stdout).strip()}")
        return False
    say(f"ran: {' '.join(cmd)}")
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def install_desktop(command: list[str] | None = None, say=print) -> int:
    """Desktop entry, icons and MIME type for the current user only (never system-wide);
    mlscope becomes the default for ``mlflow.db`` and is offered for folders."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    from mlscope.ui.theme import resource_dir

    data = _data_home()
    files = _installed_files(data)
    entry, mime, svg = files[:3]
    _atomic_write(entry, desktop_entry(command or launch_command()).encode())
    _atomic_write(mime, mime_xml().encode())
    _atomic_write(svg, (resource_dir() / "icons" / "app.svg").read_bytes())
    for n, path in zip(ICON_SIZES, files[3:], strict=True):
        buf = QByteArray()
        dev = QBuffer(buf)
        dev.open(QIODevice.OpenModeFlag.WriteOnly)
        render_icon(n).save(dev, "PNG")
        _atomic_write(path, bytes(buf.data()))
    say(f"wrote: {entry}")
    say(f"wrote: {mime}")
    say(f"wrote: {svg.parent.parent.parent} (app icon, scalable and {len(ICON_SIZES)} sizes)")
    _run(["update-mime-database", str(data / "mime")], say)
    _run(["update-desktop-database", str(data / "applications")], say)
    _run(["xdg-mime", "default", DESKTOP_FILE, MLFLOW_DB_MIME], say)
    say("mlscope now opens mlflow.db files and is offered under Open With for folders and "
        "SQLite files.")
    return 0


def _drop_from_mimeapps(path: Path) -> bool:
    """Remove mlscope from a mimeapps.list (xdg-mime can set a default but not unset one)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    out, changed = [], False
    for line in lines:
        key, eq, value = line.partition("=")
        if eq and not line.startswith(("[", "#")) and DESKTOP_FILE in value.split(";"):
            apps = [a for a in value.split(";") if a and a != DESKTOP_FILE]
            changed = True
            if not apps:
                continue
            line = f"{key}={';'.join(apps)};"
        out.append(line)
    if changed:
        _atomic_write(path, ("\n".join(out) + "\n").encode())
    return changed


def uninstall_desktop(say=print) -> int:
    """Undo :func:`install_desktop`: only the files it wrote and mlscope's associations."""
    data = _data_home()
    for path in _installed_files(data):
        if path.exists():
            path.unlink()
            say(f"removed: {path}")
    for mimeapps in (_config_home() / "mimeapps.list",
                     data / "applications" / "mimeapps.list"):
        if _drop_from_mimeapps(mimeapps):
            say(f"removed mlscope from: {mimeapps}")
    if (data / "mime").is_dir():
        _run(["update-mime-database", str(data / "mime")], say)
    if (data / "applications").is_dir():
        _run(["update-desktop-database", str(data / "applications")], say)
    return 0


def desktop_cli(uninstall: bool) -> int:
    """``mlscope --install-desktop`` / ``--uninstall-desktop``."""
    if sys.platform == "win32" or sys.platform == "darwin":
        print("--install-desktop is for Linux and other freedesktop systems; on Windows and "
              "macOS the associations come with the bundle (see packaging/).", file=sys.stderr)
        return 2
    try:
        return uninstall_desktop() if uninstall else install_desktop()
    except OSError as exc:
        print(f"mlscope: could not {'un' if uninstall else ''}install the desktop files: "
              f"{exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 1
