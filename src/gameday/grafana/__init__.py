"""Grafana: dashboards push and run annotations, with grafana-client."""
