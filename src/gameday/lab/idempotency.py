"""The lab ingest API's idempotency keys, kept in the cache (ElastiCache in the architecture documents).

A batch's key is its ``Idempotency-Key`` header (only batches sending one are keyed, unless the lab keys
every batch: ``lab.cache.idempotency_keys: every-batch``, then by its first event id). Before the commit the
key is claimed (``SET NX`` with a short lifetime); after it the answer is stored under the key. A batch sent
again is answered from the cache (``replayed``) without touching the database; one still in flight is
refused (409). The cache is on the write path: when it does not answer, the write is refused (503), fail
closed as an idempotency store must be (a write it cannot record could be applied twice). So a cache
failover is felt by the API's clients, for as long as the primary endpoint has no primary behind it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["IdempotencyKeys", "CacheUnavailable", "IN_FLIGHT"]

IN_FLIGHT = "in-flight"


class CacheUnavailable(Exception):
    pass


class IdempotencyKeys:
    def __init__(self, port: int, *, ttl_s: int = 600, claim_ttl_s: int = 30, timeout_s: float = 2.0) -> None:
        from valkey.asyncio import Valkey

        # a connection refused or dropped by the endpoint (a failover) fails this call; the next reconnects
        self.client = Valkey(host="127.0.0.1", port=port, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                             decode_responses=True, retry_on_timeout=False)
        self.ttl_s, self.claim_ttl_s = ttl_s, claim_ttl_s

    @staticmethod
    def key(header: str | None, first_event_id: str) -> str:
        return f"idem:{header or first_event_id}"

    async def claim(self, key: str) -> dict[str, Any] | str | None:
        """None: claimed, go ahead; ``IN_FLIGHT``: another request holds it; else the stored answer."""
        try:
            if await self.client.set(key, IN_FLIGHT, nx=True, ex=self.claim_ttl_s):
                return None
            prior = await self.client.get(key)
        except Exception as exc:  # noqa: BLE001 - any client error: the store did not answer
            raise CacheUnavailable(f"{type(exc).__name__}: {str(exc).strip()[:160]}") from None
        if prior is None or prior == IN_FLIGHT:
            return IN_FLIGHT
        return dict(json.loads(prior))

    async def settle(self, key: str, answer: dict[str, Any] | None) -> None:
        """After the commit: store the answer (None: the commit failed, release the key). Best effort: a key
        left claimed expires after ``claim_ttl_s``."""
        try:
            if answer is None:
                await self.client.delete(key)
            else:
                await self.client.set(key, json.dumps(answer), ex=self.ttl_s)
        except Exception:  # noqa: BLE001, S110 - the commit's answer stands; the claim expires by itself
            pass

    async def close(self) -> None:
        await self.client.aclose()
