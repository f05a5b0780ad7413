"""The layers hold: views, models and dialogs import no controller and do no store I/O;
controllers import no other controller (they talk through signals the page routes)."""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[1] / "app" / "mlscope" / "ui"
# Core modules that touch the disk or the network (views may use core's data types,
# formatters and pure helpers, never these).
CORE_IO = ("store", "opening", "filestore", "sqlstore", "reststore", "mlruns", "locate",
           "registry.write", "registry.reads", "registry.files", "registry.sql", "registry.rest",
           "artifacts")


def imports(path: Path) -> list[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    package = "mlscope.ui." + ".".join(path.relative_to(UI).parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.rstrip(".").split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            out += [base] + [f"{base}.{a.name}" for a in node.names]
    return out


def test_views_models_and_dialogs_import_no_controller_and_no_store_io():
    offenders = []
    for folder in ("views", "models", "dialogs"):
        for path in (UI / folder).glob("*.py"):
            for name in imports(path):
                core = name[len("mlscope.core."):] if name.startswith("mlscope.core.") else None
                if name.startswith("mlscope.ui.controllers") or (core is not None and any(
                        core == m or core.startswith(m + ".") for m in CORE_IO)):
                    offenders.append(f"{folder}/{path.name}: {name}")
    assert offenders == []


def test_controllers_import_no_other_controller():
    offenders = []
    for path in (UI / "controllers").glob("*.py"):
        for name in imports(path):
            if name.startswith("mlscope.ui.controllers.") and name.split(".")[3] not in ("base",):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_the_check_sees_a_violation(tmp_path):
    """The resolver is not vacuous: a relative import of a controller from a view is seen."""
    fake = UI / "views" / "charts.py"
    assert "mlscope.ui.controllers.charts" not in imports(fake)
    assert any(n.startswith("mlscope.core.") for n in imports(fake))
    assert "mlscope.ui.controllers.base" in imports(UI / "controllers" / "loading.py")
