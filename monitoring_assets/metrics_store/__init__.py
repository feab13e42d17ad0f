"""The metrics store: one row per (model, version, partition, kind, name), upserted by each
partition's run, read by the HTML report, the Prometheus exporter and Grafana."""
