"""The model registry: one schema, one read backend per store kind, and one door for writes.

``schema`` holds the columns and the prompt rule every backend follows; ``files``, ``sql``
and ``rest`` read mlruns folders, databases and servers (stores call them from
``registered_models()`` / ``model_versions()``, the public API). Every write goes through
``write``, the only module that talks to MLflow's ``MlflowClient``.
"""

from .schema import MODEL_COLUMNS, PROMPT_TAG, VERSION_COLUMNS, is_prompt  # noqa: F401


# The read functions by store kind, as they were named before the split (a store's own
# registered_models() / model_versions() is the public way to read).
def file_registered_models(store):
    return store.registered_models()


def file_model_versions(store, name=None):
    return store.model_versions(name)


sql_registered_models, sql_model_versions = file_registered_models, file_model_versions
