"""The image viewer on real PNG files: a big image is drawn from a fit-size copy made on the
worker until a zoom needs its pixels; alpha images arrive in the format QPixmap takes as
is; bad images (half written, a 30,000 x 30,000 bomb, missing) side by side are cells
that say so."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage

from mlscope.core.artifacts import Source
from mlscope.ui.controllers.artifacts import compare_cells
from mlscope.ui.views.artifacts import CompareGrid
from mlscope.ui.views.viewers import ImageViewer, decode_for_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from artifact_stores import bad_files, confusion_png  # noqa: E402


def _png(path: Path, w: int, h: int, alpha: bool = False) -> Path:
    img = QImage(w, h, QImage.Format_ARGB32 if alpha else QImage.Format_RGB32)
    img.fill(QColor(10, 120, 200, 128 if alpha else 255))
    img.setPixelColor(w - 1, h - 1, QColor("red"))
    assert img.save(str(path), "PNG")
    return path


def test_big_image_fit_copy_then_full_on_zoom(qtbot, tmp_path):
    png = _png(tmp_path / "big.png", 3000, 2000)
    full, small = decode_for_view(png, fit=QSize(1500, 1000))
    assert (full.width(), full.height()) == (3000, 2000)
    assert (small.width(), small.height()) == (1500, 1000)
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(900, 700)
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.set_image(full, "big.png", small)
    assert viewer.item.pixmap().width() == 1500  # the fit view draws the small copy
    assert viewer.item.sceneBoundingRect().width() == 3000  # in the full image's place
    assert "3000 x 2000" in viewer.bar.label.text()
    viewer.zoom_by(1.25)  # still fewer screen pixels than the copy has
    assert viewer.item.pixmap().width() == 1500
    viewer.zoom_to(1.0)  # 100%: the real pixels
    assert viewer.item.pixmap().width() == 3000 and viewer.item.scale() == 1.0
    assert viewer.item.sceneBoundingRect().width() == 3000
    viewer.fit()
    assert viewer.item.pixmap().width() == 3000  # kept once made


def test_small_image_has_no_copy_and_alpha_is_premultiplied(tmp_path):
    full, small = decode_for_view(_png(tmp_path / "a.png", 300, 200, alpha=True))
    assert small is None
    assert full.format() == QImage.Format_ARGB32_Premultiplied
    full, _ = decode_for_view(_png(tmp_path / "b.png", 300, 200))
    assert full.format() == QImage.Format_RGB32


def test_bad_images_side_by_side_are_cells_that_say_so(qtbot, tmp_path):
    bad = bad_files(tmp_path / "bad")
    sources = []
    for name, make in (("good", lambda p: confusion_png(p, 1)),
                       ("half", lambda p: shutil.copy(bad["half.png"], p)),
                       ("bomb", lambda p: shutil.copy(bad["bomb.png"], p)),
                       ("missing", None)):
        folder = tmp_path / name
        folder.mkdir()
        if make is not None:
            make(folder / "confusion_matrix.png")
        sources.append((name, Source.for_folder(folder)))
    cells = {c["run_id"]: c for c in compare_cells(sources, "confusion_matrix.png")}
    assert cells["good"]["image"].width() > 0
    assert "could not be decoded" in cells["half"]["error"]
    assert "megapixels" in cells["bomb"]["error"]
    assert cells["missing"]["error"] == "Not in this run."
    grid = CompareGrid()
    qtbot.addWidget(grid)
    grid.set_cells("confusion_matrix.png", list(cells.values()))
    assert len(grid.cells) == 4
