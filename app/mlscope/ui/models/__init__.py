"""Qt item models over core frames: display text in DisplayRole, typed values in SORT_ROLE."""

from .experiments import ExperimentsModel
from .runs import BRANCH_ROLE, DEPTH_ROLE, RUN_ID_ROLE, SORT_ROLE, RunsModel

__all__ = ["BRANCH_ROLE", "DEPTH_ROLE", "ExperimentsModel", "RunsModel", "RUN_ID_ROLE", "SORT_ROLE"]
