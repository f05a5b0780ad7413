"""Run colours survive a restart: remembered in the settings file, distinct on screen."""

from __future__ import annotations


def test_colours_stay_the_same_across_a_restart(qtbot, tmp_path):
    from mlscope.ui.colors import RunColors
    from mlscope.ui.settings import Settings

    path = tmp_path / "settings.json"
    first = RunColors(settings=Settings(path))
    ids = [f"{i:032x}" for i in range(12)]
    before = [first.hex(r) for r in ids]
    assert len(set(before)) == 12
    qtbot.waitUntil(lambda: path.exists() and "run_colors" in path.read_text(), timeout=5000)

    relaunched = RunColors(settings=Settings(path))  # a new process reads the same file
    assert [relaunched.hex(r) for r in reversed(ids)] == list(reversed(before))
    # A run first seen now gets a colour no run on screen has yet.
    assert relaunched.hex("new" * 10) not in before
