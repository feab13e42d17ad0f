"""The end-to-end demo: a churn model in production that drifts from day 21."""
