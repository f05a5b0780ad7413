"""How mlscope writes durations, times and numbers: one place for the table, the run
detail, the charts' axes and every later view, so the same value reads the same everywhere."""

from __future__ import annotations

import math
import time
from datetime import datetime

import numpy as np
import pandas as pd


def epoch_ms(series: pd.Series) -> np.ndarray:
    """Datetimes (tz-aware, naive, or None) -> epoch milliseconds as float, NaN when missing."""
    if series is None or len(series) == 0:
        return np.zeros(0, dtype="float64")
    values = pd.to_datetime(series, utc=True, errors="coerce")
    delta = (values - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(milliseconds=1)
    return pd.Series(delta).to_numpy(dtype="float64", na_value=np.nan)


def format_duration(seconds: float, compact: bool = False) -> str:
    """A run's length ("850ms", "4.2s", "3m 5s", "2h 4m", "1d 3h"); empty when unknown.

    ``compact=True`` is for axis labels, which may be negative and must line up:
    ``3725`` -> ``1h02m05s``."""
    if compact:
        return _compact(seconds)
    if seconds != seconds or seconds < 0:  # NaN, or clocks that disagree
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    if m < 60:
        return f"{m}m {s}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"


def _compact(seconds: float) -> str:
    if not math.isfinite(seconds):
        return str(seconds)
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.3g}s"
    minutes, secs = divmod(int(round(s)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{sign}{days}d{hours:02d}h{minutes:02d}m"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m{secs:02d}s"
    return f"{sign}{minutes}m{secs:02d}s"


def format_time(ms: float, seconds: bool = False) -> str:
    """Epoch milliseconds as local time, to the minute (or the second); empty when unknown."""
    if ms != ms:
        return ""
    try:
        return datetime.fromtimestamp(ms / 1000.0).strftime(
            "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return ""


def format_relative(ms: float, now_ms: float | None = None) -> str:
    """"5m ago", "3h ago", "yesterday", "12d ago", else the date: what a glance needs."""
    if ms != ms:
        return ""
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    s = (now_ms - ms) / 1000
    if s < 0:
        return format_time(ms)
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{int(s // 60)}m ago"
    if s < 86400:
        return f"{int(s // 3600)}h ago"
    if s < 2 * 86400:
        return "yesterday"
    if s < 30 * 86400:
        return f"{int(s // 86400)}d ago"
    return format_time(ms)[:10]


def format_number(v) -> str:
    """Integers without a point, others to 6 significant digits, NaN as NaN."""
    if v is None:
        return ""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f != f:
        return "NaN"
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return f"{f:.6g}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 run``, ``3 runs``, ``1,204 runs``: counts that read right."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
