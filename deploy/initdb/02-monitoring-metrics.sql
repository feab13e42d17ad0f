-- The metrics store (report, exporter, Grafana); its table is created by the first write.
CREATE DATABASE monitoring_metrics;
