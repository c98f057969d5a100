"""Schedules over training steps."""

from __future__ import annotations

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
