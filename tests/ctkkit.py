"""Test-side tools for chaos verdicts: a Chaos Toolkit journal (journal.json) as chaoslib writes it."""

from __future__ import annotations


def ctk_journal(*, rollback_ok: bool, after_met: bool, probe: str = "ingest-healthy",
                title: str = "Losing zone b keeps ingest up") -> dict:
    """One experiment: an ``ingest_slo_met`` probe met before the method and ``after_met`` after it, the method
    'kill-zone-b', the rollback 'restore-zone-b' succeeded or failed."""
    activity = {"activity": {"name": probe, "tolerance": True, "provider": {"type": "python", "func": "ingest_slo_met"}},
                "tolerance_met": after_met, "output": after_met}
    return {"experiment": {"title": title}, "status": "completed", "deviated": not after_met,
            "steady_states": {"before": {"steady_state_met": True, "probes": [{**activity, "tolerance_met": True}]},
                              "after": {"steady_state_met": after_met, "probes": [activity]}, "during": []},
            "run": [{"activity": {"name": "kill-zone-b", "type": "action"}, "status": "succeeded"}],
            "rollbacks": [{"activity": {"name": "restore-zone-b", "type": "action"},
                           "status": "succeeded" if rollback_ok else "failed"}]}
