"""The README's system-package line names every Debian package Qt's xcb platform plugin needs,
so the first command on a fresh Debian opens a window (the list cannot drift from PySide6).

``ldd`` lists every library the installed plugin loads; each one outside PySide6 must come
from a package the README names, or from one that apt installs with them (their Depends).
Libraries that are not installed here are named by Debian's library-package rule
(libxcb-icccm.so.4 -> libxcb-icccm4) and must be named in the README themselves.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    shutil.which("dpkg") is None or shutil.which("dpkg-query") is None,
    reason="needs dpkg: the README's package line is for Debian/Ubuntu, checked there only")


def readme_packages() -> list[str]:
    """The packages of the README's ``apt-get install`` line."""
    lines = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
             if "apt-get install" in line]
    assert len(lines) == 1, f"one apt-get install line expected in README.md, found {lines}"
    words = lines[0].split("apt-get install", 1)[1].replace("`", " ").split()
    return [w for w in words if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", w)]


def debian_name(soname: str) -> str:
    """Debian's name for the package of a shared library: libxcb-icccm.so.4 -> libxcb-icccm4,
    libxkbcommon-x11.so.0 -> libxkbcommon-x11-0 (a hyphen when the name ends in a digit)."""
    name, _, version = soname.partition(".so.")
    name = name.lower()
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def plugin() -> Path:
    import PySide6

    path = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    assert path.is_file(), f"{path} is missing from the installed PySide6"
    return path


def libraries(path: Path) -> list[tuple[str, str | None]]:
    """(soname, resolved path or None when not found) of what ``ldd`` lists outside PySide6."""
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=True).stdout
    qt = path.parents[3]  # .../site-packages/PySide6
    libs = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(not found|\S+)", line)
        if not m:
            continue  # linux-vdso, the dynamic loader
        soname, where = m.groups()
        if where == "not found":
            libs.setdefault(soname, None)
        elif not Path(where).resolve().is_relative_to(qt):
            libs[soname] = str(Path(where).resolve())
    return sorted(libs.items())


def owner(path: str) -> str:
    for candidate in (path, path.replace("/usr/lib/", "/lib/", 1), path.replace("/lib/", "/usr/lib/", 1)):
        done = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.split(":", 1)[0].split(",")[0].strip()
    raise AssertionError(f"{path} belongs to no Debian package (dpkg -S)")


def installed_closure(packages: list[str]) -> set[str]:
    """The named packages and everything apt installs with them (Depends, Pre-Depends)."""
    seen, todo = set(), list(packages)
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        done = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", pkg],
                              capture_output=True, text=True)
        if done.returncode != 0:
            continue  # not installed here
        for dep in re.split(r"[,|]", done.stdout):
            name = re.sub(r"\(.*?\)", "", dep).strip().split(":")[0]
            if name:
                todo.append(name)
    return seen


def test_debian_names():
    assert debian_name("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_name("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_name("libxcb-render-util.so.0") == "libxcb-render-util0"


def test_readme_line_works_as_root_and_with_sudo():
    line = next(line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
                if "apt-get install" in line)
    assert "$(command -v sudo)" in line, "root has no sudo on a fresh container"
    assert "apt-get update" in line, "a fresh container has no package lists"


def test_readme_names_every_package_of_the_xcb_plugin():
    named = readme_packages()
    covered = installed_closure(named)
    missing = []
    for soname, path in libraries(plugin()):
        if path is None:  # not installed here: it must be named itself
            pkg = debian_name(soname)
            if pkg not in named:
                missing.append(f"{soname} (not installed here; package {pkg})")
            continue
        pkg = owner(path)
        if pkg not in covered:
            missing.append(f"{soname} (package {pkg})")
    assert not missing, "README.md's apt-get line lacks: " + ", ".join(missing)
    # Qt's own error message names these: each must be in the line as written.
    for pkg in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0"):
        assert pkg in named
