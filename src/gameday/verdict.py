"""One verdict vocabulary for drills, load gates and chaos experiments, and the exit code of each.

    pass (0) · fail (1) · inconclusive (3) · aborted (4)      (2 is invalid input: no verdict at all)
"""

from __future__ import annotations

from enum import StrEnum

from gameday.errors import EXIT_ABORTED, EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_PASS

__all__ = ["Verdict", "exit_code"]


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ABORTED = "aborted"

    @property
    def exit_code(self) -> int:
        return _EXIT[self]

    @classmethod
    def of(cls, value: str) -> Verdict:
        """Parse a verdict written by any run (older gate summaries wrote it in capitals)."""
        try:
            return cls(str(value).lower())
        except ValueError:
            return cls.INCONCLUSIVE  # a verdict nobody can read promises nothing


_EXIT = {Verdict.PASS: EXIT_PASS, Verdict.FAIL: EXIT_FAIL, Verdict.INCONCLUSIVE: EXIT_INCONCLUSIVE,
         Verdict.ABORTED: EXIT_ABORTED}


def exit_code(verdict: str) -> int:
    """The process exit code for a verdict string (unknown: inconclusive, 3)."""
    return Verdict.of(verdict).exit_code
