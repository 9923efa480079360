"""Drill history: every run's figures from its journal, grouped into series, with regressions flagged."""
