-- MLflow keeps its own database next to Dagster's.
CREATE DATABASE mlflow;
