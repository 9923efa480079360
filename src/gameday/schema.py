"""The base of every model of a file users write: unknown fields are errors, models are immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict"]


class Strict(BaseModel):
    """Base of every file model: unknown fields are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
