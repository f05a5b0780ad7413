"""What the viewers show, read from a local file: text (coloured by Pygments), JSON, tables
(first rows at once, more on request, the total when known), HTML without scripts, and a
logged model's ``MLmodel`` summary. Qt-free: runs on a worker, tested without a screen.

Model folders are summarised from their ``MLmodel`` (YAML, read safely), requirements and
input example: nothing is unpickled, imported or executed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .artifacts import ArtifactError, sniff

TEXT_LIMIT = 2_000_000  # characters shown of a text file
HIGHLIGHT_LIMIT = 300_000  # coloured above this? no: plain text, at once
JSON_LIMIT = 50_000_000
PAGE_ROWS = 500


@dataclass
class Preview:
    """What one viewer shows. ``kind`` picks the viewer; the other fields depend on it."""

    kind: str  # text, json, markdown, html, table, image, model, info, error
    path: Path | None = None
    name: str = ""
    size: int | None = None
    text: str = ""  # text/markdown/html source, or the error/info message
    html: str = ""  # coloured text
    data: object = None  # json: the parsed value; model: the summary dict
    table: TableReader | None = None
    truncated: bool = False
    note: str = ""
    extra: dict = field(default_factory=dict)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def read_text(path: Path, limit: int = TEXT_LIMIT) -> tuple[str, bool]:
    """The text of a file (UTF-8, with replacement), cut at ``limit`` characters."""
    with open(path, "rb") as fh:
        raw = fh.read(limit * 4 + 4)
    text = raw.decode("utf-8", errors="replace")
    truncated = len(text) > limit or _size(path) not in (None, len(raw))
    return text[:limit], truncated


def highlight(text: str, name: str) -> str:
    """HTML of ``text`` coloured by Pygments' lexer for ``name`` ('' when nothing fits)."""
    if len(text) > HIGHLIGHT_LIMIT:
        return ""
    from pygments import highlight as _highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import YamlLexer, get_lexer_for_filename
    from pygments.util import ClassNotFound

    low = name.lower()
    if low in ("mlmodel", "mlproject", "meta.yaml"):
        lexer = YamlLexer()
    else:
        try:
            lexer = get_lexer_for_filename(name, stripnl=False)
        except ClassNotFound:
            return ""
    if lexer.name == "Text only":
        return ""
    fmt = HtmlFormatter(noclasses=True, nowrap=False, style="default",
                        prestyles="font-family: monospace; white-space: pre-wrap;")
    return _highlight(text, lexer, fmt)


_SCRIPT = re.compile(r"<\s*(script|iframe|object|embed|applet|noscript)\b.*?<\s*/\s*\1\s*>",
                     re.I | re.S)
_VOID = re.compile(r"<\s*(script|iframe|object|embed|link|meta|base)\b[^>]*>", re.I)
_ON_ATTR = re.compile(r"\s+on[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.I)
_JS_URL = re.compile(r"(href|src)\s*=\s*([\"'])\s*javascript:[^\"']*\2", re.I)


def strip_scripts(html: str) -> str:
    """HTML with scripts, frames, plugins, event handlers and javascript: links removed
    (Qt's rich text runs none of them; removing them keeps their source off the page)."""
    html = _SCRIPT.sub("", html)
    html = _VOID.sub("", html)
    html = _ON_ATTR.sub("", html)
    return _JS_URL.sub(r'\1=\2#\2', html)


# -- tables ------------------------------------------------------------------------------------
class TableReader:
    """Rows of a csv/tsv/parquet/log_table file a page at a time. ``first()`` reads the first
    page only; ``more()`` the next; ``total`` is known at once for parquet and log_table,
    for text files after ``count()`` (a pass over the bytes, cancellable)."""

    def __init__(self, path: Path, fmt: str | None = None, page: int = PAGE_ROWS):
        self.path = Path(path)
        self.page = page
        self.fmt = fmt or _table_format(self.path)
        self.total: int | None = None
        self.columns: list[str] = []
        self.done = False
        self._iter = None
        self._frame = None  # log_table JSON: the whole frame
        self._offset = 0

    def first(self):
        import pandas as pd

        size = _size(self.path)
        if size == 0:
            raise ArtifactError(f"{self.path.name} is empty (0 bytes).")
        try:
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                pf = pq.ParquetFile(self.path)
                self.total = pf.metadata.num_rows
                self._iter = (b.to_pandas() for b in pf.iter_batches(batch_size=self.page))
            elif self.fmt == "log_table":
                self._frame = log_table_frame(json.loads(self.path.read_text("utf-8")))
                self.total = len(self._frame)
            else:
                sep = "\t" if self.fmt == "tsv" else ","
                self._iter = pd.read_csv(self.path, sep=sep, chunksize=self.page,
                                         low_memory=False, on_bad_lines="error")
        except ArtifactError:
            raise
        except Exception as exc:  # noqa: BLE001 - the parser's words, with the file
            raise ArtifactError(f"{self.path.name} could not be read as a table: "
                                f"{_first_line(exc)}") from exc
        frame = self.more()
        self.columns = [str(c) for c in frame.columns]
        return frame

    def more(self):
        """The next page (an empty frame at the end)."""
        import pandas as pd

        if self._frame is not None:
            part = self._frame.iloc[self._offset:self._offset + self.page]
            self._offset += len(part)
            self.done = self._offset >= len(self._frame)
            return part
        if self.done or self._iter is None:
            return pd.DataFrame(columns=self.columns)
        try:
            part = next(self._iter)
        except StopIteration:
            self.done = True
            self.total = self._offset if self.total is None else self.total
            return pd.DataFrame(columns=self.columns)
        except Exception as exc:  # noqa: BLE001
            self.done = True
            raise ArtifactError(f"{self.path.name}: reading stopped at row {self._offset}: "
                                f"{_first_line(exc)}") from exc
        self._offset += len(part)
        if (self.total is not None and self._offset >= self.total) or len(part) < self.page:
            self.done = True  # a short page is the last one
            self.total = self._offset if self.total is None else self.total
        return part

    def count(self, cancel=None) -> int:
        """Rows of a text table, by counting line ends (quoted newlines counted as rows:
        a bound, labelled as such where shown)."""
        if self.total is not None:
            return self.total
        n = 0
        last = b"\n"
        with open(self.path, "rb", buffering=0) as fh:
            while True:
                if cancel is not None and cancel():
                    from .errors import Cancelled

                    raise Cancelled()
                block = fh.read(8 << 20)
                if not block:
                    break
                n += block.count(b"\n")
                last = block[-1:]
        n += last != b"\n"
        self.total = max(n - 1, 0)  # the header line
        return self.total

    def close(self) -> None:
        it = self._iter
        self._iter = None
        close = getattr(it, "close", None)
        if close is not None:
            close()


def _table_format(path: Path) -> str:
    ext = path.suffix.lower()
    return {".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet", ".json": "log_table"}.get(
        ext, "csv")


def is_log_table(value) -> bool:
    """MLflow's ``log_table`` JSON: {"columns": [...], "data": [[...], ...]}."""
    return (isinstance(value, dict) and isinstance(value.get("columns"), list)
            and isinstance(value.get("data"), list)
            and set(value) <= {"columns", "data", "index"})


def log_table_frame(value):
    import pandas as pd

    if not is_log_table(value):
        raise ArtifactError("Not a table logged by mlflow.log_table (no columns and data).")
    return pd.DataFrame(value["data"], columns=[str(c) for c in value["columns"]])


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


# -- one file -> one preview --------------------------------------------------------------------
def preview(path: Path, name: str | None = None, limit: int | None = None,
            force: bool = False) -> Preview:
    """What the viewer for the local file or folder ``path`` shows. Files over ``limit``
    bytes get an info preview unless ``force``. Bad files give an 'error' preview in words."""
    path = Path(path)
    name = name or path.name
    try:
        return _preview(path, name, limit, force)
    except ArtifactError as exc:
        return Preview("error", path, name, _size(path), text=str(exc))
    except (OSError, ValueError, UnicodeError, MemoryError) as exc:
        return Preview("error", path, name, _size(path),
                       text=f"{name} could not be read: {_first_line(exc)}")


def _preview(path: Path, name: str, limit: int | None, force: bool) -> Preview:
    if not path.exists():
        return Preview("error", path, name, None, text=f"{name} is missing ({path}).")
    kind = sniff(path)
    if kind == "model":
        return Preview("model", path, name, None, data=model_summary(path))
    if kind == "folder":
        return Preview("info", path, name, None, text="A folder.", extra={"type": "folder"})
    size = _size(path)
    if limit is not None and size is not None and size > limit and not force \
            and kind not in ("table",):
        return Preview("info", path, name, size, extra={"type": kind, "big": True},
                       text=f"{name} is larger than the preview limit.")
    if kind == "image":
        return Preview("image", path, name, size)
    if kind == "table":
        reader = TableReader(path)
        frame = reader.first()
        return Preview("table", path, name, size, table=reader, data=frame)
    if kind == "json":
        text, truncated = read_text(path, JSON_LIMIT)
        try:
            value = json.loads(text)
        except ValueError as exc:
            pv = _text(path, name, size)
            pv.note = f"Not valid JSON ({_first_line(exc)}): shown as text."
            return pv
        if is_log_table(value):
            reader = TableReader(path, "log_table")
            return Preview("table", path, name, size, table=reader, data=reader.first())
        pretty = json.dumps(value, indent=2, ensure_ascii=False)[:TEXT_LIMIT]
        return Preview("json", path, name, size, text=pretty, data=value,
                       html=highlight(pretty, "x.json"))
    if kind == "markdown":
        text, truncated = read_text(path)
        return Preview("markdown", path, name, size, text=text, truncated=truncated)
    if kind == "html":
        from .estimator_html import estimator_page, estimator_summary

        text, truncated = read_text(path)
        pv = Preview("html", path, name, size, text=strip_scripts(text), truncated=truncated)
        summary = estimator_summary(text)
        if summary is not None:  # sklearn's diagram: its structure, readable in Qt
            pv.html = estimator_page(summary, name)
            pv.data = summary
        return pv
    if kind == "text":
        return _text(path, name, size)
    return Preview("info", path, name, size, extra={"type": _describe(path)},
                   text="No viewer for this type.")


def _text(path: Path, name: str, size) -> Preview:
    text, truncated = read_text(path)
    return Preview("text", path, name, size, text=text, html=highlight(text, name),
                   truncated=truncated)


def _describe(path: Path) -> str:
    ext = path.suffix.lower()
    known = {".pkl": "Python pickle (never loaded)", ".pickle": "Python pickle (never loaded)",
             ".joblib": "joblib pickle (never loaded)", ".pt": "PyTorch weights",
             ".pth": "PyTorch weights", ".onnx": "ONNX model", ".h5": "HDF5", ".pb": "protobuf",
             ".npy": "NumPy array", ".npz": "NumPy arrays", ".zip": "zip archive",
             ".ubj": "XGBoost model", ".cbm": "CatBoost model", ".safetensors": "safetensors"}
    return known.get(ext, f"{ext[1:].upper()} file" if ext else "file")


# -- logged models ---------------------------------------------------------------------------
def signature_rows(spec) -> list[dict]:
    """A signature's inputs/outputs (JSON text or list) as rows: name, type, shape, required."""
    if spec is None:
        return []
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            return [{"name": "", "type": spec, "shape": "", "required": ""}]
    rows = []
    for i, col in enumerate(spec if isinstance(spec, list) else []):
        if not isinstance(col, dict):
            continue
        tspec = col.get("tensor-spec") or {}
        typ = col.get("type", "")
        if typ == "tensor":
            typ = f"tensor {tspec.get('dtype', '')}".strip()
        elif typ in ("array", "object", "map"):
            typ = f"{typ} {json.dumps(col.get('items') or col.get('properties') or col.get('values') or '')}"
        rows.append({"name": col.get("name", f"[{i}]"), "type": typ,
                     "shape": str(tuple(tspec["shape"])) if "shape" in tspec else "",
                     "required": "no" if col.get("required") is False else "yes"})
    return rows


def model_summary(folder: Path, size: int | None = None,
                  files: list[tuple[str, int]] | None = None) -> dict:
    """A logged model folder summarised from its files, never loaded: flavors, signature,
    input example, requirements, files and size."""
    import yaml

    folder = Path(folder)
    mlmodel = folder / "MLmodel"
    try:
        meta = yaml.safe_load(mlmodel.read_text("utf-8", errors="replace")) or {}
    except yaml.YAMLError as exc:
        raise ArtifactError(f"{mlmodel} is not valid YAML: {_first_line(exc)}") from exc
    if not isinstance(meta, dict):
        raise ArtifactError(f"{mlmodel} does not describe a model.")
    flavors = {}
    for fname, conf in (meta.get("flavors") or {}).items():
        conf = conf if isinstance(conf, dict) else {}
        flavors[fname] = {k: v for k, v in conf.items() if isinstance(v, (str, int, float, bool))}
    sig = meta.get("signature") or {}
    signature = ([{"role": "input", **r} for r in signature_rows(sig.get("inputs"))]
                 + [{"role": "output", **r} for r in signature_rows(sig.get("outputs"))]
                 + [{"role": "param", **r} for r in signature_rows(sig.get("params"))])
    if files is None:
        files = []
        for dirpath, _dirs, names in os.walk(folder):
            for n in names:
                p = Path(dirpath) / n
                files.append((p.relative_to(folder).as_posix(), _size(p) or 0))
    files = sorted(files)
    total = sum(n for _p, n in files)
    summary = {
        "name": folder.name,
        "flavors": flavors,
        "signature": signature,
        "input_example": _input_example(folder, meta),
        "requirements": _requirements(folder),
        "files": files[:500],
        "size": size if size is not None else (total or meta.get("model_size_bytes")),
        "mlflow_version": meta.get("mlflow_version"),
        "created": meta.get("utc_time_created"),
        "run_id": meta.get("run_id"),
        "model_uuid": meta.get("model_uuid") or meta.get("model_id"),
    }
    return summary


def _input_example(folder: Path, meta: dict):
    info = meta.get("saved_input_example_info") or {}
    name = info.get("artifact_path") if isinstance(info, dict) else None
    path = folder / name if name else None
    if path is None or not path.is_file():
        return None
    if (_size(path) or 0) > 2_000_000:
        return {"text": f"{name}: {_size(path)} bytes, not shown."}
    text = path.read_text("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text[:20_000]}
    split = value.get("dataframe_split") if isinstance(value, dict) else None
    if isinstance(split, dict) and "columns" in split and "data" in split:
        value = split
    if isinstance(value, dict) and isinstance(value.get("data"), list) and "columns" in value:
        return {"columns": [str(c) for c in value["columns"]], "rows": value["data"][:100]}
    return {"text": json.dumps(value, indent=2)[:20_000]}


def _requirements(folder: Path) -> list[str]:
    for name in ("requirements.txt",):
        p = folder / name
        if p.is_file():
            return [ln.strip() for ln in p.read_text("utf-8", errors="replace").splitlines()
                    if ln.strip() and not ln.startswith("#")][:200]
    env = folder / "python_env.yaml"
    if env.is_file():
        return [ln.strip() for ln in env.read_text("utf-8", errors="replace").splitlines()
                if ln.strip()][:200]
    return []

