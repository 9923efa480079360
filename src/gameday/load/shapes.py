"""Rate shapes: pure functions of elapsed seconds -> target arrival rate (events/s), or None when done.

Locust's LoadTestShape publishes user counts; these publish the arrival *rate* the open-model
scheduler follows, so a stall of the system under test never slows the offered load.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RateShape", "Steady", "Ramp", "Spike", "Step", "SHAPES"]


@dataclass(frozen=True)
class RateShape:
    rate: float  # the target (peak or plateau) rate, events/s
    duration: float  # seconds

    def rate_at(self, t: float) -> float | None:
        raise NotImplementedError

    def steady(self) -> tuple[float, float]:
        """(start, end) of the window where the rate is at its target: achieved rate is measured there."""
        return (0.0, self.duration)

    def stairs(self) -> list[tuple[float, float, float]]:
        """(start, end, rate) of each stair a step shape holds, judged one by one; [] for other shapes."""
        return []


@dataclass(frozen=True)
class Steady(RateShape):
    def rate_at(self, t: float) -> float | None:
        return self.rate if 0 <= t < self.duration else None


@dataclass(frozen=True)
class Ramp(RateShape):
    """Linear ramp to the target over ``ramp_share`` of the run, then hold."""

    ramp_share: float = 0.3

    def rate_at(self, t: float) -> float | None:
        if not 0 <= t < self.duration:
            return None
        ramp = self.duration * self.ramp_share
        return self.rate * min(1.0, max(t, 0.5) / ramp) if ramp > 0 else self.rate

    def steady(self) -> tuple[float, float]:
        return (self.duration * self.ramp_share, self.duration)


@dataclass(frozen=True)
class Spike(RateShape):
    """A base of ``base_share`` of the target, with the full target in the middle fifth of the run."""

    base_share: float = 0.2

    def rate_at(self, t: float) -> float | None:
        if not 0 <= t < self.duration:
            return None
        lo, hi = self.duration * 0.4, self.duration * 0.6
        return self.rate if lo <= t < hi else self.rate * self.base_share

    def steady(self) -> tuple[float, float]:
        return (self.duration * 0.4, self.duration * 0.6)


@dataclass(frozen=True)
class Step(RateShape):
    """``steps`` equal stairs up to the target; the last stair is the steady window."""

    steps: int = 4

    def rate_at(self, t: float) -> float | None:
        if not 0 <= t < self.duration:
            return None
        k = min(self.steps, int(t / (self.duration / self.steps)) + 1)
        return self.rate * k / self.steps

    def steady(self) -> tuple[float, float]:
        return (self.duration * (self.steps - 1) / self.steps, self.duration)

    def stairs(self) -> list[tuple[float, float, float]]:
        d, n = self.duration, self.steps
        return [(d * k / n, d if k == n - 1 else d * (k + 1) / n, self.rate * (k + 1) / n) for k in range(n)]


SHAPES: dict[str, type[RateShape]] = {"steady": Steady, "ramp": Ramp, "spike": Spike, "step": Step, "soak": Steady}

