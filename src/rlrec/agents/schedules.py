"""Schedules over training steps."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LinearSchedule:
    """start -> end linearly over ``duration`` steps, then constant at end."""

    start: float
    end: float
    duration: int

    def __call__(self, step: int) -> float:
        if self.duration <= 0:
            return self.end
        fraction = min(max(step, 0) / self.duration, 1.0)
        return self.start + fraction * (self.end - self.start)


@dataclass(frozen=True)
class ExponentialSchedule:
    """end + (start − end) · exp(−step / duration · ln(100)): 99% of the way to ``end`` after
    ``duration`` steps (ε-greedy decay as in many DQN codebases), then approaching it."""

    start: float
    end: float
    duration: int

    def __call__(self, step: int) -> float:
        if self.duration <= 0:
            return self.end
        return self.end + (self.start - self.end) * math.exp(-math.log(100.0) * max(step, 0) / self.duration)


def make_schedule(
    kind: str, start: float, end: float, duration: int, key: str = "algorithm.epsilon_schedule"
):
    """A ``linear`` or ``exponential`` schedule from start to end over ``duration`` steps."""
    schedules = {"linear": LinearSchedule, "exponential": ExponentialSchedule}
    if kind not in schedules:
        raise ValueError(f"{key} must be one of {sorted(schedules)}, got {kind!r}")
    return schedules[kind](start, end, duration)
