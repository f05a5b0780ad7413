"""The model registry: one schema, one read backend per store kind, and one door for writes.

Reads live in ``reads`` (split per store kind as the package grows); every write goes
through ``write``, the only module that talks to MLflow's ``MlflowClient``.
"""

from .reads import (  # noqa: F401
    MODEL_COLUMNS,
    PROMPT_TAG,
    VERSION_COLUMNS,
    file_model_versions,
    file_registered_models,
    sql_model_versions,
    sql_registered_models,
)
