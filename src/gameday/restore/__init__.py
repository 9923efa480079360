"""Restore drills (issue 24), the parts every Target shares: the data faults' statement, the restore-point
choice, the ledger comparison (the PITR price against a backup defect) and the models the drivers return."""
