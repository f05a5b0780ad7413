"""The platforms' file associations, written from one place: the Linux desktop entry and
MIME type (from ``mlscope.desktop``), the Windows registry entries and the macOS Info.plist.

``python packaging/associations.py`` rewrites the committed files in packaging/; a test
checks they are current and that each parses."""

from __future__ import annotations

import plistlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "app"))

from mlscope import __version__, desktop  # noqa: E402

BUNDLE_ID = "io.github.mlscope"
PROG_ID = "mlscope.store"
# Where the Windows tarball is unpacked for the current user (no administrator rights).
WINDOWS_EXE = r"%LOCALAPPDATA%\Programs\mlscope\mlscope.exe"
DB_EXTENSIONS = ("db", "sqlite", "sqlite3")
SQLITE_UTI = "org.sqlite.sqlite3"


def info_plist_extra() -> dict:
    """What PyInstaller's BUNDLE adds to the app's Info.plist: folders and SQLite files."""
    return {
        "CFBundleName": "mlscope",
        "CFBundleDisplayName": "mlscope",
        "CFBundleShortVersionString": __version__,
        "CFBundleVersion": __version__,
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,  # follow the system's dark mode
        "LSMinimumSystemVersion": "11.0",
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": "MLflow tracking folder",
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Alternate",  # offered under Open With; Finder stays default
                "LSItemContentTypes": ["public.folder"],
            },
            {
                "CFBundleTypeName": "MLflow tracking database",
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Alternate",
                "LSItemContentTypes": [SQLITE_UTI],
            },
        ],
        # .db files have no system type: declare one so the document type can name it.
        "UTImportedTypeDeclarations": [
            {
                "UTTypeIdentifier": SQLITE_UTI,
                "UTTypeDescription": "SQLite database",
                "UTTypeConformsTo": ["public.database", "public.data"],
                "UTTypeTagSpecification": {"public.filename-extension": list(DB_EXTENSIONS)},
            },
        ],
    }


def info_plist() -> bytes:
    """A whole Info.plist (for reference and for bundles made without PyInstaller)."""
    plist = {
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleExecutable": "mlscope",
        "CFBundleIconFile": "mlscope.icns",
        "CFBundlePackageType": "APPL",
        "CFBundleInfoDictionaryVersion": "6.0",
        **info_plist_extra(),
    }
    return plistlib.dumps(plist, sort_keys=True)


def _reg_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reg_expand(value: str) -> str:
    """REG_EXPAND_SZ (so %LOCALAPPDATA% is expanded): hex(2), UTF-16LE with its NUL."""
    data = (value + "\0").encode("utf-16-le")
    return "hex(2):" + ",".join(f"{b:02x}" for b in data)


def registry() -> str:
    """``mlscope.reg``: "Open with mlscope" on folders and on .db/.sqlite files, for the
    current user (HKEY_CURRENT_USER: no administrator rights, nothing made default)."""
    classes = r"HKEY_CURRENT_USER\Software\Classes"
    command = f'"{WINDOWS_EXE}" "%1"'
    icon = f"{WINDOWS_EXE},0"
    out = ["Windows Registry Editor Version 5.00", ""]

    def key(path: str, values: dict[str, str]) -> None:
        out.append(f"[{classes}\\{path}]")
        for name, value in values.items():
            out.append(f"{'@' if name == '@' else _reg_str(name)}={value}")
        out.append("")

    key(PROG_ID, {"@": _reg_str("MLflow tracking store"), "FriendlyTypeName":
                  _reg_str("MLflow tracking store")})
    key(f"{PROG_ID}\\DefaultIcon", {"@": _reg_expand(icon)})
    key(f"{PROG_ID}\\shell\\open\\command", {"@": _reg_expand(command)})
    for ext in DB_EXTENSIONS:
        key(f".{ext}\\OpenWithProgids", {PROG_ID: _reg_str("")})
    key(r"Directory\shell\mlscope", {"@": _reg_str("Open with mlscope"),
                                     "Icon": _reg_expand(icon)})
    key(r"Directory\shell\mlscope\command", {"@": _reg_expand(command)})
    key(r"Applications\mlscope.exe", {"FriendlyAppName": _reg_str("mlscope")})
    key(r"Applications\mlscope.exe\SupportedTypes",
        {f".{ext}": _reg_str("") for ext in DB_EXTENSIONS})
    key(r"Applications\mlscope.exe\shell\open\command", {"@": _reg_expand(command)})
    return "\r\n".join(out)


def files() -> dict[Path, bytes]:
    """Every committed association file and its content."""
    return {
        HERE / "linux" / "mlscope.desktop": desktop.desktop_entry(["mlscope"]).encode(),
        HERE / "linux" / "mlscope-mime.xml": desktop.mime_xml().encode(),
        HERE / "macos" / "Info.plist": info_plist(),
        # regedit reads UTF-16 with a BOM (and plain ASCII); UTF-16 is what it writes itself.
        HERE / "windows" / "mlscope.reg": ("\ufeff" + registry()).encode("utf-16-le"),
    }


if __name__ == "__main__":
    for path, data in files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path.relative_to(HERE.parent)}")
