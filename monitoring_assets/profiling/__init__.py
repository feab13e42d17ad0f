"""Profiling inference batches into whylogs profiles."""
