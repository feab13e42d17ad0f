"""The promotion gate and remediation policy, as plain functions (no Dagster here)."""
