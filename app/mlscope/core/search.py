"""Filter and order runs with MLflow's own search code.

MLflow's ``SearchUtils`` parses the filter string and decides, clause by clause, whether a
run matches; it only needs objects shaped like ``Run`` (``.info``, ``.data``, ``.inputs``).
We hand it light stand-ins built from the :class:`RunTable`, so every comparison, LIKE
pattern and NULL rule is MLflow's, not a re-implementation. ``mlflow`` is imported only
when a filter or an order is asked for: it costs seconds, and the first window must not wait.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from .errors import FilterError
from .table import RunTable


def _search_utils():
    from mlflow.utils.search_utils import SearchUtils

    return SearchUtils


def _mlflow_message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


def parse_filter(filter_string: str) -> list[dict]:
    """MLflow's parse of a filter string; a bad one raises :class:`FilterError` with MLflow's words."""
    if not filter_string or not filter_string.strip():
        return []
    try:
        return _search_utils().parse_search_filter(filter_string)
    except Exception as exc:  # MlflowException, or sqlparse's own errors
        raise FilterError(_mlflow_message(exc), filter_string) from exc


def _grouped(long: pd.DataFrame, run_ids: set[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    if long is None or long.empty:
        return out
    mine = long[long["run_id"].isin(run_ids)]
    for run_id, key, value in zip(mine["run_id"], mine["key"], mine["value"], strict=False):
        out.setdefault(run_id, {})[key] = value
    return out


def _int_or_none(value):
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else int(value)


def stand_in_runs(table: RunTable) -> list[SimpleNamespace]:
    """Objects shaped like ``mlflow.entities.Run`` for SearchUtils' filter and sort."""
    ids = set(table.info["run_id"])
    metrics = _grouped(table.metrics, ids)
    params = _grouped(table.params, ids)
    tags = _grouped(table.tags, ids)
    datasets: dict[str, list] = {}
    if table.datasets is not None and not table.datasets.empty:
        for row in table.datasets.itertuples(index=False):
            ds = SimpleNamespace(name=row.name, digest=row.digest)
            ctx = [SimpleNamespace(key="mlflow.data.context", value=row.context)] if row.context else []
            datasets.setdefault(row.run_id, []).append(SimpleNamespace(dataset=ds, tags=ctx))
    runs = []
    info = table.info
    for rec in info.itertuples(index=False):
        run_id = rec.run_id
        run_tags = tags.get(run_id, {})
        run_info = SimpleNamespace(
            run_id=run_id,
            run_uuid=run_id,
            experiment_id=rec.experiment_id,
            run_name=rec.run_name if rec.run_name is not None else run_tags.get("mlflow.runName"),
            status=rec.status,
            artifact_uri=rec.artifact_uri,
            user_id=rec.user_id,
            start_time=_int_or_none(rec.start_time),
            end_time=_int_or_none(rec.end_time),
            lifecycle_stage=rec.lifecycle_stage,
        )
        runs.append(
            SimpleNamespace(
                info=run_info,
                data=SimpleNamespace(
                    metrics=metrics.get(run_id, {}), params=params.get(run_id, {}), tags=run_tags
                ),
                inputs=SimpleNamespace(dataset_inputs=datasets.get(run_id, [])),
            )
        )
    return runs


def default_order(info: pd.DataFrame) -> list[str]:
    """MLflow's natural order: start_time descending, then run_id (missing start_time as 0)."""
    if info.empty:
        return []
    start = np.nan_to_num(info["start_time"].to_numpy(dtype="float64"), nan=0.0)
    run_ids = info["run_id"].to_numpy(dtype=object)
    order = np.lexsort((run_ids.astype(str), -start))
    return run_ids[order].tolist()


def select(table: RunTable, filter_string: str = "", order_by: list[str] | None = None) -> list[str]:
    """Run ids of ``table`` that match ``filter_string``, in MLflow's order for ``order_by``."""
    if not (filter_string and filter_string.strip()) and not order_by:
        return default_order(table.info)
    SearchUtils = _search_utils()
    parsed = parse_filter(filter_string)
    runs = stand_in_runs(table)
    try:
        if parsed:
            runs = [r for r in runs if all(SearchUtils._does_run_match_clause(r, c) for c in parsed)]
        rank = {run_id: i for i, run_id in enumerate(default_order(table.info))}
        runs.sort(key=lambda r: rank[r.info.run_id])  # then MLflow's sorts, stable, on top
        for clause in reversed(order_by or []):
            key_type, key, ascending = SearchUtils.parse_order_by_for_search_runs(clause)
            runs.sort(
                key=lambda r: SearchUtils._get_value_for_sort(r, key_type, key, ascending),
                reverse=not ascending,
            )
    except Exception as exc:
        raise FilterError(_mlflow_message(exc), filter_string or ", ".join(order_by or [])) from exc
    return [r.info.run_id for r in runs]
