"""Model performance by task, compared with baselines under MetricThreshold semantics."""
