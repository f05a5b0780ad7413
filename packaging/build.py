"""Build the mlscope bundle: ``python packaging/build.py`` (needs ``pip install -e ".[packaging]"``).

Makes dist/mlscope/ (PyInstaller one-folder: the ``mlscope`` program and ``_internal/``)
and dist/mlscope-VERSION-PLATFORM.tar.gz: that folder with the desktop files under share/
(desktop entry, MIME type, hicolor icons). Prints what it measured as ``name: value unit``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "app"))


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def render_icons(work: Path) -> dict[str, Path]:
    """App icons drawn from resources/icons/app.svg by Qt: hicolor PNGs, .ico and .icns."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from mlscope import desktop

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - image plugins
    work.mkdir(parents=True, exist_ok=True)
    out = {}
    for n in desktop.ICON_SIZES:
        p = work / "icons" / f"{n}x{n}" / "apps" / "mlscope.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        desktop.render_icon(n).save(str(p), "PNG")
        out[f"png{n}"] = p
    # Windows takes one .ico with every size it shows (Qt's writer stores one image);
    # macOS an .icns, which Qt's icns plugin writes with its own set of sizes.
    out["ico"], out["icns"] = work / "mlscope.ico", work / "mlscope.icns"
    out["ico"].write_bytes(ico({n: out[f"png{n}"].read_bytes() for n in ICO_SIZES}))
    desktop.render_icon(512).save(str(out["icns"]), "ICNS")
    return out


ICO_SIZES = (16, 24, 32, 48, 64, 256)


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows icon holding one PNG per size (the format since Windows Vista)."""
    import struct

    head = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, data in sorted(pngs.items()):
        dim = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return head + entries + blobs


def tarball(dist: Path, icons: dict[str, Path], name: str) -> Path:
    """The bundle plus share/ (what --install-desktop installs, for packagers)."""
    import associations

    from mlscope import desktop

    target = dist / f"{name}.tar.gz"
    files = associations.files()
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(dist / "mlscope", arcname=name)

        def add_bytes(arc: str, data: bytes) -> None:
            import io

            info = tarfile.TarInfo(f"{name}/{arc}")
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))

        add_bytes("share/applications/mlscope.desktop",
                  files[HERE / "linux" / "mlscope.desktop"])
        add_bytes("share/mime/packages/mlscope.xml", files[HERE / "linux" / "mlscope-mime.xml"])
        add_bytes("share/icons/hicolor/scalable/apps/mlscope.svg",
                  (ROOT / "resources" / "icons" / "app.svg").read_bytes())
        for n in desktop.ICON_SIZES:
            tar.add(icons[f"png{n}"], arcname=f"{name}/share/icons/hicolor/{n}x{n}/apps/mlscope.png")
    return target


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (dist/)")
    p.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller",
                   help="PyInstaller's work folder (build/pyinstaller)")
    p.add_argument("--no-tarball", action="store_true")
    args = p.parse_args(argv)

    from mlscope import __version__

    t0 = time.monotonic()
    icons = render_icons(HERE / "build")
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(args.dist), "--workpath", str(args.work), str(HERE / "mlscope.spec")]
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    build_s = time.monotonic() - t0
    bundle = args.dist / "mlscope"
    print(f"bundle: {bundle}")
    print(f"build_time: {build_s:.1f} s")
    print(f"bundle_size: {du(bundle) / 1e6:.1f} MB")
    if not args.no_tarball:
        arch = platform.machine().lower() or "unknown"
        tar = tarball(args.dist, icons, f"mlscope-{__version__}-{sys.platform}-{arch}")
        print(f"tarball: {tar}")
        print(f"tarball_size: {tar.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
