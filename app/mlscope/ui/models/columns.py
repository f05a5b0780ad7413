"""Which columns the runs table offers, what they are called, and how a saved layout applies.

Data columns keep MLflow's own names (``metrics.rmse``, ``params.alpha``, ``tags.team``) so
what a user sees is what they type into the filter box.
"""

from __future__ import annotations

# Attribute columns first, in this order; each has a title and is derived from the frame.
ATTRIBUTES: dict[str, str] = {
    "run_name": "Run Name",
    "status": "Status",
    "start_time": "Created",
    "duration": "Duration",
    "user_id": "User",
    "source": "Source",
    "git_commit": "Git Commit",
    "experiment": "Experiment",
    "run_id": "Run ID",
    "end_time": "Ended",
    "lifecycle_stage": "Lifecycle",
    "artifact_uri": "Artifact URI",
}
# Shown unless the user asked otherwise (the rest wait in the column chooser).
HIDDEN_BY_DEFAULT = {"run_id", "end_time", "lifecycle_stage", "artifact_uri", "experiment"}
# MLflow's own bookkeeping tags: the UI already shows what matters in them as attributes.
SYSTEM_TAG_PREFIX = "tags.mlflow."


def title(key: str) -> str:
    return ATTRIBUTES.get(key, key)


def data_columns(frame_columns) -> list[str]:
    """metrics.*, params.*, tags.* of a frame, grouped in that order, each group by name."""
    groups = {"metrics.": [], "params.": [], "tags.": []}
    for col in frame_columns:
        for prefix, items in groups.items():
            if col.startswith(prefix):
                items.append(col)
                break
    return [c for items in groups.values() for c in sorted(items, key=str.lower)]


def default_visible(key: str, multi_experiment: bool = False, view: str = "active") -> bool:
    if key == "experiment":
        return multi_experiment
    if key == "lifecycle_stage":
        return view != "active"
    if key in HIDDEN_BY_DEFAULT:
        return False
    return not key.startswith(SYSTEM_TAG_PREFIX)


def is_attribute(key: str) -> bool:
    """An attribute column other than the run's name: the ones a user can collapse."""
    return key in ATTRIBUTES and key != "run_name"


def default_order(available: list[str]) -> list[str]:
    """The name, then what users compare runs by (metrics, then params), then the attribute
    columns, then tags: the metrics are in view without scrolling past six attributes."""

    def rank(key: str) -> int:
        if key == "run_name":
            return 0
        if key.startswith("metrics."):
            return 1
        if key.startswith("params."):
            return 2
        if key in ATTRIBUTES:
            return 3
        return 4

    return sorted(available, key=rank)  # stable: each group keeps its own order


def apply_layout(available: list[str], layout: dict | None, *, multi_experiment: bool = False,
                 view: str = "active") -> list[str]:
    """Visible columns in order. ``layout``: {"order": [...visible...], "hidden": [...]}.

    Keys the layout names come first in its order; columns it has never seen (a new metric)
    follow in their default place, unless the user hid them before.
    """
    avail = set(available)
    if not layout:
        return [k for k in default_order(available) if default_visible(k, multi_experiment, view)]
    order = [k for k in layout.get("order", []) if k in avail]
    hidden = set(layout.get("hidden", []))
    known = set(order) | hidden
    rest = [k for k in available if k not in known and default_visible(k, multi_experiment, view)]
    return order + rest


def make_layout(visible: list[str], available: list[str]) -> dict:
    vis = set(visible)
    return {"order": list(visible), "hidden": [k for k in available if k not in vis]}
