"""Workflows on a report, called by handlers."""
