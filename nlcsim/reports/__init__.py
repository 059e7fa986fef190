"""Reporting: plots, validation and comparison reports built on run results."""
