"""Artifact timings, offscreen: one ``name: value unit`` per line.

    python benchmarks/bench_artifacts.py [--quick] [--no-server] [--only list,csv,png,side,server]

- the top level of a run with 10,000 artifact files listed (target <= 0.3 s), beside
  MLflow's client ``list_artifacts`` on the same run, and listed and shown in the tree;
- the first rows of a 1 GB CSV shown (target <= 1 s; ``--quick``: 50 MB), and the row count;
- a 20-megapixel PNG decoded and shown (target <= 1 s), RGB and RGBA: the worker's part
  (decode, display format, the fit view's copy) and the GUI thread's (pixmap, fit, paint);
- 12 runs' ``confusion_matrix.png`` side by side (target <= 1 s);
- from a local ``mlflow server --serve-artifacts``: the same 12 side by side, first (cache
  empty) and again, beside MLflow's client ``list_artifacts`` + ``download_artifacts``.

Timings are of the work after ``import mlflow`` (a one-off 2-3 s the app pays on a worker).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def report(name: str, value: float, unit: str = "s") -> None:
    print(f"{name}: {value:.3f} {unit}" if unit == "s" else f"{name}: {value:g} {unit}",
          flush=True)


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def make_csv(path: Path, size: int) -> None:
    rng = np.random.default_rng(0)
    rows = "\n".join(",".join(f"{v:.6f}" for v in rng.random(8)) + f",label{i % 7}"
                     for i in range(10_000)) + "\n"
    block = rows.encode()
    with open(path, "wb") as fh:
        fh.write(b"a,b,c,d,e,f,g,h,label\n")
        written = 0
        while written < size:
            fh.write(block)
            written += len(block)


def make_png(path: Path, width: int = 5472, height: int = 3648, alpha: bool = False) -> None:
    y, x = np.mgrid[0:height, 0:width]
    planes = [(x * 255 // width), (y * 255 // height), ((x ^ y) & 0xFF)]
    if alpha:  # matplotlib's figures are RGBA
        planes.append(255 - (x * 127 // width))
    rgb = np.ascontiguousarray(np.stack(planes, axis=-1).astype(np.uint8))
    fmt = QImage.Format_RGBA8888 if alpha else QImage.Format_RGB888
    img = QImage(rgb.data, width, height, width * len(planes), fmt)
    img.save(str(path), "PNG", 20)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-server", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated parts: list,csv,png,side,server")
    args = ap.parse_args()
    q = "_quick" if args.quick else ""
    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="mlscope-bench-art-"))
    os.environ.setdefault("MLSCOPE_CACHE_DIR", str(tmp / "cache"))
    try:
        run(args, q, app, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, q, app, tmp: Path) -> None:
    only = {p.strip() for p in args.only.split(",") if p.strip()}

    def want(part: str) -> bool:
        return not only or part in only

    import mlflow  # noqa: F401 - the one-off import, outside the timings
    from mlflow.tracking import MlflowClient

    from artifact_stores import confusion_png
    from mlscope.core import open_store
    from mlscope.core.artifacts import Source
    from mlscope.core.previews import TableReader
    from mlscope.ui.controllers.artifacts import compare_cells
    from mlscope.ui.views.artifacts import ArtifactView, CompareGrid
    from mlscope.ui.views.viewers import ImageViewer, TableViewer, decode_for_view

    root = tmp / "mlruns"
    uri = root.as_uri()
    client = MlflowClient(uri)
    exp = client.create_experiment("bench")

    # 1. 10,000 files at the top level of one run.
    if want("list"):
        n_files = 2_000 if args.quick else 10_000
        many = tmp / "many"
        many.mkdir()
        for i in range(n_files):
            (many / f"file_{i:05d}.txt").write_bytes(b"x" * (i % 97))
        big_run = client.create_run(exp).info.run_id
        client.log_artifacts(big_run, str(many))
        store = open_store(root, cache=False)
        store.runs()

        def ours_list():
            Source.for_run(store, big_run).list("")

        report(f"list_top_level_{n_files}_files{q}", best(ours_list))
        report(f"list_top_level_{n_files}_files_mlflow_client{q}",
               best(lambda: client.list_artifacts(big_run)))
        tree_view = ArtifactView()
        tree_view.resize(1200, 800)
        tree_view.show()

        def listed_and_shown():
            tree_view.show_tree("bench", Source.for_run(store, big_run).list(""))
            app.processEvents()

        report(f"list_top_level_{n_files}_files_shown_in_tree{q}", best(listed_and_shown))

    # 2. The first rows of a big CSV.
    if want("csv"):
        size = (50 if args.quick else 1024) * 1024 * 1024
        csv = tmp / "big.csv"
        make_csv(csv, size)
        viewer = TableViewer()
        viewer.resize(1000, 700)
        viewer.show()

        def first_rows():
            reader = TableReader(csv)
            frame = reader.first()
            viewer.set_frame(frame, reader.done, reader.total)
            app.processEvents()
            reader.close()

        label = "50MB" if args.quick else "1GB"
        report(f"csv_{label}_first_rows_shown{q}", best(first_rows))
        reader = TableReader(csv)
        reader.first()
        t = time.perf_counter()
        total = reader.count()
        report(f"csv_{label}_row_count{q}", time.perf_counter() - t)
        report(f"csv_{label}_rows", total, "rows")
        reader.close()
        csv.unlink()

    # 3. A 20-megapixel PNG, as the view does it: decoded on a worker (with the fit view's
    # copy), then the GUI thread makes the pixmap, fits and paints.
    if want("png"):
        image_view = ImageViewer()
        image_view.resize(1200, 800)
        image_view.show()
        for kind in ("rgb", "rgba"):
            png = tmp / f"photo_{kind}.png"
            make_png(png, alpha=kind == "rgba")
            parts = {"worker": [], "gui": []}

            def show_png(png=png, parts=parts):
                t0 = time.perf_counter()
                full, small = decode_for_view(png)
                t1 = time.perf_counter()
                image_view.set_image(full, "photo.png", small)
                app.processEvents()
                parts["worker"].append(t1 - t0)
                parts["gui"].append(time.perf_counter() - t1)

            tag = "" if kind == "rgb" else "_rgba"
            report(f"png_20mp{tag}_shown{q}", best(show_png))
            report(f"png_20mp{tag}_worker_decode{q}", min(parts["worker"]))
            report(f"png_20mp{tag}_gui_thread{q}", min(parts["gui"]))
            png.unlink()

    if not (want("side") or want("server")):
        return
    # 4. 12 runs' confusion matrices side by side.
    runs = []
    for i in range(12):
        rid = client.create_run(exp).info.run_id
        client.log_artifact(rid, str(confusion_png(tmp / "confusion_matrix.png", i,
                                                   size=(640, 480))))
        runs.append(rid)
    store = open_store(root, cache=False)
    store.runs()
    grid = CompareGrid()
    grid.resize(1400, 900)
    grid.show()

    def side_by_side(st, keep: dict | None = None):
        """What the view does: run locations from the runs frame, logged models read once,
        each file fetched (downloaded on a server) and decoded to its cell, the grid shown."""
        if keep is None or not keep:
            frame = st.runs()
            models = st.logged_models(view="all")
            rows = frame.set_index("run_id")
            sources = [(r, Source.for_run(st, r, "", {
                "artifact_uri": rows.at[r, "artifact_uri"],
                "experiment_id": rows.at[r, "experiment_id"]}, models)) for r in runs]
            if keep is not None:
                keep["sources"] = sources
        else:
            sources = keep["sources"]
        grid.set_cells("confusion_matrix.png", compare_cells(sources, "confusion_matrix.png"))
        app.processEvents()

    if want("side"):
        report(f"side_by_side_12_png_local{q}", best(lambda: side_by_side(store)))

    if args.no_server or not want("server"):
        return
    # 5. The same through a local tracking server serving artifacts.
    from mlflow_stores import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp / 'server.db'}", "--serve-artifacts",
         "--artifacts-destination", str(tmp / "mlartifacts"), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        import requests

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        sclient = MlflowClient(url)
        sexp = sclient.create_experiment("bench")
        sruns = []
        for i in range(12):
            rid = sclient.create_run(sexp).info.run_id
            sclient.log_artifact(rid, str(confusion_png(tmp / "confusion_matrix.png", i,
                                                        size=(640, 480))))
            sruns.append(rid)
        sstore = open_store(url)
        sstore.runs()
        runs[:] = sruns
        kept: dict = {}
        t = time.perf_counter()
        side_by_side(sstore, kept)
        report(f"side_by_side_12_png_server_first{q}", time.perf_counter() - t)
        report(f"side_by_side_12_png_server_again{q}", best(lambda: side_by_side(sstore, kept)))

        def mlflow_client():
            dst = Path(tempfile.mkdtemp(dir=tmp))
            for r in sruns:
                names = [f.path for f in sclient.list_artifacts(r)]
                sclient.download_artifacts(r, names[0], str(dst))

        report(f"side_by_side_12_png_server_mlflow_client_list_download{q}",
               best(mlflow_client))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


if __name__ == "__main__":
    main()
