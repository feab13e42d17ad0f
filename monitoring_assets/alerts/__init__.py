"""Alerting: a durable alert book, routing, messages and delivery channels (no Dagster here)."""
