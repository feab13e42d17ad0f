"""Health per model: the rules in `status` (plain Python), the reads from the Dagster
instance in `history`."""
