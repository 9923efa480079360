"""Drills: execute and time a runbook under load after a fault; measure RTO and RPO in data terms."""
