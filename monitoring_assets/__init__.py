"""Dagster assets that monitor MLflow-registered models in production."""

__version__ = "0.1.0"
