"""Has the store changed since the last look? What Watch asks every few seconds, cheaply,
on a worker: a few stat() calls for folders and SQLite files."""

from __future__ import annotations

from pathlib import Path


def signature(store, experiment_ids) -> tuple | None:
    """Modification times that change when MLflow writes: the database (and its WAL), or
    the mlruns root and the selected experiment folders. None where no file tells (servers,
    database URLs): the caller must read again to know."""
    loc = getattr(store, "location", None)
    path = getattr(loc, "path", None)
    if path is None:
        return None
    path = Path(path)
    if getattr(loc, "kind", "") == "sql":
        files = [path, path.with_name(path.name + "-wal")]
    else:
        files = [path] + [path / str(e) for e in experiment_ids]
    sig = []
    for f in files:
        try:
            st = f.stat()
            sig.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            sig.append((str(f), None, None))
    return tuple(sig)
