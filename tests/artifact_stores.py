"""Runs with artifacts, logged by MLflow's own client (and sklearn autologging where it is
installed), and the bad files a viewer must survive. Shared by the artifact tests."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def png_bomb(path: Path, width: int = 30_000, height: int = 30_000) -> Path:
    """A real, valid PNG of width x height black pixels (1 bit): ~100 KB on disk, 900
    megapixels decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row * 1000) for _ in range(height // 1000)]
    parts.append(comp.compress(row * (height % 1000)))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts))
                     + chunk(b"IEND", b""))
    return path


def confusion_png(path: Path, seed: int, size=(320, 240)) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(size[0] / 80, size[1] / 80), dpi=80)
    ax.imshow(rng.integers(0, 50, (3, 3)), cmap="Blues")
    ax.set_title(f"run {seed}")
    fig.savefig(path)
    plt.close(fig)
    return path


def bad_files(folder: Path, bomb: bool = True) -> dict[str, Path]:
    """A half-written PNG, a CSV with a broken quote, a 0-byte parquet, an image bomb."""
    folder.mkdir(parents=True, exist_ok=True)
    good = confusion_png(folder / "good.png", 0)
    data = good.read_bytes()
    half = folder / "half.png"
    half.write_bytes(data[: len(data) // 2])
    broken = folder / "broken.csv"
    broken.write_text('a,b\n1,"unclosed\n2,3\n4,5\n')
    empty = folder / "empty.parquet"
    empty.write_bytes(b"")
    out = {"half.png": half, "broken.csv": broken, "empty.parquet": empty}
    if bomb:
        out["bomb.png"] = png_bomb(folder / "bomb.png")
    good.unlink()
    return out


def build_artifact_runs(uri: str, work: Path, n_compare: int = 3, autolog: bool = True,
                        bad: bool = True) -> dict:
    """Log runs with artifacts of every kind to ``uri``; returns ids by role."""
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.tracking import MlflowClient

    work.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(uri)
    mlflow.set_tracking_uri(uri)
    exp = client.create_experiment("artifacts")
    ids: dict = {"experiment": exp, "compare": []}

    with mlflow.start_run(experiment_id=exp, run_name="kinds") as run:
        rid = run.info.run_id
        ids["kinds"] = rid
        frame = pd.DataFrame({"x": np.arange(1000), "y": np.arange(1000) * 0.5,
                              "label": ["a", "b"] * 500})
        frame.to_csv(work / "predictions.csv", index=False)
        frame.to_csv(work / "predictions.tsv", index=False, sep="\t")
        frame.to_parquet(work / "predictions.parquet")
        client.log_artifact(rid, str(work / "predictions.csv"), "tables")
        client.log_artifact(rid, str(work / "predictions.tsv"), "tables")
        client.log_artifact(rid, str(work / "predictions.parquet"), "tables")
        mlflow.log_table(frame.head(20), "tables/logged_table.json")
        mlflow.log_dict({"accuracy": 0.93, "classes": ["a", "b"], "nested": {"k": [1, 2, 3]}},
                        "report.json")
        mlflow.log_image(np.full((40, 60, 3), 200, dtype=np.uint8), "images/flat.png")
        mlflow.log_text("# Notes\n\nA *markdown* report with a [link](http://example.com).",
                        "notes.md")
        mlflow.log_text("import os\nprint('hello')\n", "code/train.py")
        mlflow.log_text("<html><body><h1>Report</h1><script>document.title='x'</script>"
                        "<img src='http://127.0.0.1:9/pixel.png'><p onclick='alert(1)'>"
                        "ok</p></body></html>", "report.html")
        mlflow.log_text("\x00\x01\x02binary", "weights.bin")
        if autolog:
            from sklearn.datasets import load_iris
            from sklearn.linear_model import LogisticRegression

            mlflow.sklearn.autolog(log_input_examples=True, log_model_signatures=True,
                                   silent=True)
            X, y = load_iris(return_X_y=True, as_frame=True)
            model = LogisticRegression(max_iter=300).fit(X, y)
            mlflow.sklearn.autolog(disable=True)
            # An MLmodel folder in the run's own artifacts, as MLflow 1 and 2 logged them.
            folder = work / "model"
            mlflow.sklearn.save_model(model, str(folder), input_example=X.head(3),
                                      serialization_format="cloudpickle")
            client.log_artifacts(rid, str(folder), "model")
    if bad:
        with mlflow.start_run(experiment_id=exp, run_name="bad-files") as run:
            ids["bad"] = run.info.run_id
            for name, path in bad_files(work / "bad").items():
                client.log_artifact(run.info.run_id, str(path), "bad")
                ids[f"bad/{name}"] = path
    for i in range(n_compare):
        with mlflow.start_run(experiment_id=exp, run_name=f"compare-{i}") as run:
            png = confusion_png(work / "confusion_matrix.png", i + 1)
            client.log_artifact(run.info.run_id, str(png))
            mlflow.log_text(f"accuracy: 0.9{i}\nloss: 0.{i}\nsame line\n", "metrics.txt")
            ids["compare"].append(run.info.run_id)
    return ids
