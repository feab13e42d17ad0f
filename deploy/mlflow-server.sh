#!/usr/bin/env sh
# The MLflow tracking server: PostgreSQL backend store, artifacts proxied to object storage.
#   MLFLOW_BACKEND_STORE_URI   postgresql+psycopg2://user:password@host:5432/mlflow
#   MLFLOW_ARTIFACTS_DESTINATION  s3://bucket/mlflow (or gs://, wasbs://, file:///data/mlflow)
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / MLFLOW_S3_ENDPOINT_URL for S3-compatible stores
set -eu
exec mlflow server \
  --backend-store-uri "${MLFLOW_BACKEND_STORE_URI}" \
  --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION}" \
  --serve-artifacts \
  --host "${MLFLOW_HOST:-0.0.0.0}" \
  --port "${MLFLOW_PORT:-5000}" \
  --workers "${MLFLOW_WORKERS:-2}"
