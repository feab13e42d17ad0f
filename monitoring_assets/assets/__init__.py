"""Dagster assets and checks of each monitored model, built by one factory (`factory`).

The package itself imports nothing, so its `names` can be read by the resources without
loading every asset module."""
