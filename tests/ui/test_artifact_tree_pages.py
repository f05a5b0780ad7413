"""A folder of thousands of artifacts in the tree: a page of rows at once, more as the list is
scrolled to its end, and any file reachable by path (selection, --artifact) at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.ui.controllers.artifacts import ArtifactsController
from mlscope.ui.tasks import Tasks
from mlscope.ui.views.artifacts import PAGE


@pytest.fixture
def many(tmp_path):
    folder = tmp_path / "run_artifacts"
    (folder / "plots").mkdir(parents=True)
    (folder / "plots" / "roc.txt").write_text("roc")
    for i in range(4 * PAGE + 500):
        (folder / f"file_{i:05d}.txt").write_text(f"line {i}\n")
    return folder


def test_rows_come_a_page_at_a_time(qtbot, settings, many):
    tasks = Tasks()
    c = ArtifactsController(tasks, settings=settings)
    qtbot.addWidget(c.view)
    c.view.resize(1000, 700)
    c.view.show()
    try:
        with qtbot.waitSignal(c.treeShown, timeout=30_000):
            c.open_paths([many])
        m, tree = c.view.model, c.view.tree
        # A page (Qt may ask for a second while it first lays the view out), not all.
        qtbot.wait(200)
        shown = m.rowCount()
        assert shown in (PAGE, 2 * PAGE) and m.canFetchMore(m.index(-1, -1))
        assert m.entry(m.index(0, 0)).path == "plots"  # folders first, then by name
        # A file beyond the rows shown, by its path: shown and previewed.
        assert m.entry(m.index(shown - 1, 0)).path < "file_04400.txt"
        with qtbot.waitSignal(c.previewShown, timeout=20_000) as blocker:
            c.select("file_04400.txt")
        assert blocker.args == ["text"]
        assert c.view.viewers.text.text().startswith("line 4400")
        assert c.view.current_entry().path == "file_04400.txt"
        total = 4 * PAGE + 501  # the files and the folder
        assert m.rowCount() > 4401
        tree.scrollToBottom()  # the rest as the list reaches its end
        qtbot.waitUntil(lambda: m.rowCount() == total, timeout=5_000)
        assert not m.canFetchMore(m.index(-1, -1))
        mime = m.mimeData([m.index_of("file_04499.txt")])
        assert Path(mime.urls()[0].toLocalFile()).read_text() == "line 4499\n"
        # A folder opened: its children listed as before.
        tree.expand(m.index_of("plots"))
        qtbot.waitUntil(lambda: m.index_of("plots/roc.txt").isValid(), timeout=10_000)
        assert m.rowCount(m.index_of("plots")) == 1
    finally:
        tasks.shutdown()
