"""While a model's versions are still being read (a server's registry comes page by page),
the view says so and no dialog opens for it: a confirmation sentence ("with its 3
versions") must never come from half a read."""

from __future__ import annotations

import pytest

from mlscope.core import open_store
from mlscope.core.registry import listing as L
from mlscope.ui.controllers.registry import RegistryController
from mlscope.ui.tasks import Tasks
from registry_helpers import build_registry

TIMEOUT = 60_000


@pytest.fixture
def ctl(qtbot, tmp_path):
    build_registry(f"sqlite:///{tmp_path / 'mlflow.db'}")
    tasks = Tasks()
    c = RegistryController(tasks, open_store(tmp_path / "mlflow.db"))
    qtbot.addWidget(c.view)
    c.view.show()
    qtbot.waitUntil(lambda: c.versions is not None and not c.running(), timeout=TIMEOUT)
    yield c
    tasks.shutdown()


def test_no_dialog_from_half_a_read_and_the_model_read_alone_fills_in(qtbot, ctl):
    full = ctl.listing
    # What a server's read has shown after its models page: only fraud-model's versions in.
    fraud = full.versions[full.versions["name"] == "fraud-model"]
    ctl._partial(ctl.store, L.Listing(full.models, fraud, frozenset({"fraud-model"})))
    messages = []
    ctl.statusMessage.connect(messages.append)
    assert ctl.view.select_model("fraud-model")
    assert ctl.view.model_versions() is not None  # loaded: shown
    ctl.cancel("registry-model")
    ctl.view.select_model("credit-model")
    assert ctl.view.model_versions() is None
    assert "reading its versions" in ctl.view.model_label.text()
    assert "(reading…)" in ctl.view.count.text()
    assert not ctl.view.stage_button.isEnabled()
    assert not ctl.listing.has_versions("credit-model")  # its read answers via the event loop
    ctl.view._request("delete_model")
    assert ctl.dialog is None and "still being read" in messages[-1]
    # Opening it started its own read: its versions come in, the others stay "reading".
    qtbot.waitUntil(lambda: ctl.view.model_versions() is not None, timeout=TIMEOUT)
    got = ctl.view.model_versions()
    want = full.versions[full.versions["name"] == "credit-model"]
    assert got.to_dict("records") == want.to_dict("records")
    assert not ctl.listing.complete and not ctl.listing.has_versions("it's-quoted")
    ctl.view._request("delete_model")
    assert ctl.dialog is not None and "its 3 versions" in ctl.dialog.sentence.text()
