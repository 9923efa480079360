"""The engine's ledger of one second: the first ids of its answered requests by the millisecond they were
answered in, merged into runs of consecutive ids (``[first id, count, answered at]``) when handed over."""

from __future__ import annotations

__all__ = ["note", "merge_runs", "BUCKET_S"]

BUCKET_S = 0.001  # the ledger keeps when each run of ids was answered, to the millisecond (RPO is exact)


def note(by_bucket: dict[int, list[int]], bucket: int, first: int) -> None:
    firsts = by_bucket.get(bucket)
    if firsts is None:
        firsts = by_bucket[bucket] = []
    firsts.append(first)


def merge_runs(by_bucket: dict[int, list[int]], batch: int) -> list[list[float]]:
    """Runs of consecutive requests (``batch`` ids each) answered in the same time bucket, in time order:
    [first id, count, answered at (epoch s)]. Sorting plain ints per bucket: a fifth of the cost of sorting a
    second's tuples."""
    out: list[list[float]] = []
    for bucket in sorted(by_bucket):
        firsts, at = sorted(by_bucket[bucket]), round(bucket * BUCKET_S, 3)
        start = prev = firsts[0]
        for f in firsts[1:]:
            if f != prev + batch:
                out.append([start, prev - start + batch, at])
                start = f
            prev = f
        out.append([start, prev - start + batch, at])
    return out
