"""A password given in a database URL is used, and never shown, logged or saved."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from test_postgres import postgres  # noqa: F401 - the throwaway PostgreSQL cluster

from mlscope.core.secrets import redact, without_password

SECRET = "Sup3rS3cretPassw0rd"


def test_redact_masks_the_password_and_nothing_else():
    assert redact(f"postgresql://mlflow:{SECRET}@127.0.0.1:5432/db") == \
        "postgresql://mlflow:***@127.0.0.1:5432/db"
    assert redact("http://u:p%40ss@host:5000/") == "http://u:***@host:5000/"
    assert without_password(f"mysql+pymysql://root:{SECRET}@h/db") == "mysql+pymysql://root@h/db"
    for plain in ("/data/a@b/mlruns", "sqlite:////tmp/x.db", "postgresql://u@h/db", "http://h:5000"):
        assert redact(plain) == plain == without_password(plain)


def _texts(window) -> list[str]:
    from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QTabBar, QTextEdit, QWidget

    out = [window.windowTitle()]
    for w in window.findChildren(QWidget):
        out += [w.toolTip(), w.windowTitle(), w.statusTip()]
        if isinstance(w, (QLabel, QAbstractButton, QLineEdit)):
            out.append(w.text())
        if isinstance(w, QTextEdit):
            out.append(w.toPlainText())
        if isinstance(w, QTabBar):
            for i in range(w.count()):
                out += [w.tabText(i), w.tabToolTip(i)]
        for a in w.actions():
            out += [a.text(), a.toolTip()]
    return out


def test_a_password_in_a_url_never_reaches_the_screen_or_a_file(postgres, qtbot, tmp_path,  # noqa: F811
                                                                 capfd):
    from mlscope.ui.main_window import MainWindow
    from mlscope.ui.settings import Settings

    _, ids, port = postgres
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/mlflow"  # the cluster trusts any password
    settings = Settings(tmp_path / "config" / "settings.json")
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    page = window.open_target(url, "alpha")
    qtbot.waitUntil(lambda: (page.loaded_once and not page.is_loading())
                    or page.stack.currentWidget() is page.error_page, timeout=60_000)
    assert page.stack.currentWidget() is page.split, page.error_page.message.text()
    assert page.runs.model.total_runs() > 0  # the password was used
    window._refresh_recent()
    texts = _texts(window)
    assert any("postgres:***@127.0.0.1" in t for t in texts)  # the URL is shown, masked
    assert not [t for t in texts if SECRET in t]
    page.shutdown()
    window.close()

    written = [settings.path]
    for var in ("MLSCOPE_CONFIG_DIR", "MLSCOPE_CACHE_DIR", "MLSCOPE_DATA_DIR"):
        written += [p for p in Path(os.environ[var]).rglob("*") if p.is_file()]
    assert settings.path.exists()
    assert stat.S_IMODE(settings.path.stat().st_mode) == 0o600
    leaks = [p for p in written if SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert f"postgresql://postgres@127.0.0.1:{port}/mlflow" in settings.recent()
    out, err = capfd.readouterr()
    assert SECRET not in out and SECRET not in err
