"""Has the store changed since the last look? What Watch asks every few seconds, cheaply,
on a worker: ``Store.change_token`` (a few stat() calls, one query or one small request)."""

from __future__ import annotations

from pathlib import Path


def signature(store, experiment_ids) -> object | None:
    """The store's change token for these experiments (None: no way to tell)."""
    return store.change_token([str(e) for e in experiment_ids])


def file_signature(location, experiment_ids) -> tuple | None:
    """Modification times that change when MLflow writes: the database (and its WAL), or
    the mlruns root and the selected experiment folders. None where there is no file."""
    path = getattr(location, "path", None)
    if path is None:
        return None
    path = Path(path)
    if location.kind == "sql":
        files = [path, path.with_name(path.name + "-wal")]
    else:
        files = [path] + [path / e for e in experiment_ids]
    sig = []
    for f in files:
        try:
            st = f.stat()
            sig.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            sig.append((str(f), None, None))
    return tuple(sig)
