"""What an artifact is, without reading it: its kind by name (and first bytes), the tree's
entries, sizes in words. Views use these; core/artifacts.py does the reading."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import NamedTuple

from .errors import StoreError

MODELS = "@models"  # where a run's logged models appear in its tree


class ArtifactError(StoreError):
    """An artifact could not be listed, fetched or shown; the message names it."""


# -- kinds ---------------------------------------------------------------------------------
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".svg", ".ico", ".tif", ".tiff"}
TABLE_EXT = {".csv", ".tsv", ".parquet", ".pq"}
TEXT_EXT = {
    ".txt", ".log", ".py", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".conf", ".sh", ".bat",
    ".r", ".sql", ".js", ".ts", ".java", ".c", ".h", ".cpp", ".hpp", ".rs", ".go", ".xml",
    ".rst", ".tex", ".env", ".properties", ".gitignore", ".dockerfile", ".csv~", ".out", ".err",
}
TEXT_NAMES = {"mlmodel", "mlproject", "requirements.txt", "conda.yaml", "python_env.yaml",
              "dockerfile", "license", "readme", "makefile", "meta.yaml"}
KINDS = ("folder", "model", "image", "table", "json", "markdown", "html", "text", "binary")
MAGIC = ((b"\x89PNG\r\n\x1a\n", "image"), (b"\xff\xd8\xff", "image"), (b"GIF8", "image"),
         (b"BM", "image"), (b"PAR1", "table"))


def kind_of(name: str, is_dir: bool = False, head: bytes | None = None) -> str:
    """The viewer a file needs, by its name (and its first bytes when the name says nothing)."""
    if is_dir:
        return "folder"
    low = name.lower()
    ext = PurePosixPath(low).suffix
    if ext in IMAGE_EXT:
        return "image"
    if ext in TABLE_EXT:
        return "table"
    if ext in (".json", ".ipynb", ".jsonl"):
        return "json" if ext != ".jsonl" else "text"
    if ext in (".md", ".markdown"):
        return "markdown"
    if ext in (".html", ".htm"):
        return "html"
    if ext in TEXT_EXT or low in TEXT_NAMES:
        return "text"
    if head is not None:
        for magic, kind in MAGIC:
            if head.startswith(magic):
                return kind
        if b"\x00" not in head[:4096]:
            try:
                head[:4096].decode("utf-8")
                return "text"
            except UnicodeDecodeError as exc:  # cut in the middle of a character at the end
                if exc.start >= len(head[:4096]) - 3:
                    return "text"
        return "binary"
    return "binary"


class Entry(NamedTuple):
    """One artifact: its path below the run's artifact root (posix), folder or file, size.
    A tuple: a folder of 10,000 files makes 10,000 of them."""

    path: str
    is_dir: bool
    size: int | None = None

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def kind(self) -> str:
        return kind_of(self.name, self.is_dir)


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
