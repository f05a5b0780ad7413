"""mlscope: a fast desktop browser for MLflow tracking stores."""

__version__ = "0.1.0"
