"""The trip-ingest wire format: what POST /v1/trips accepts (shared by the lab and the load generator)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["TripEvent", "TripBatch", "parse_batch", "BatchError", "MAX_BATCH"]

MAX_BATCH = 5000


class TripEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(min_length=1, max_length=128)
    trip_id: str = Field(min_length=1, max_length=128)
    kind: Literal["start", "update", "end"]
    ts: float = Field(ge=0)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class TripBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    events: list[TripEvent] = Field(min_length=1, max_length=MAX_BATCH)


class BatchError(ValueError):
    """A request body that is not a valid batch; the message says where and why."""


def parse_batch(body: bytes) -> TripBatch:
    """Validate a request body; raise BatchError naming the first offending field."""
    try:
        return TripBatch.model_validate_json(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        if err["type"] == "json_invalid":
            raise BatchError(f"malformed JSON: {err['msg']}") from None
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        raise BatchError(f"{loc or 'body'}: {err['msg']}") from None
