"""Sensors: new files in the landing zones start runs; check failures become alerts."""
