"""Replay ring buffer and schedules."""

from __future__ import annotations

import pytest
import torch

from rlrec.agents.replay import ReplayBuffer
from rlrec.agents.schedules import LinearSchedule


def test_ring_keeps_the_newest_rows():
    buffer = ReplayBuffer(capacity=5)
    buffer.add({"x": torch.arange(3), "y": torch.arange(3).float()[:, None].repeat(1, 2)})
    buffer.add({"x": torch.arange(3, 7), "y": torch.zeros(4, 2)})
    assert len(buffer) == 5
    assert sorted(buffer.storage["x"].tolist()) == [2, 3, 4, 5, 6]
    batch = buffer.sample(64, generator=torch.Generator().manual_seed(0))
    assert batch["x"].shape == (64,) and batch["y"].shape == (64, 2)
    assert set(batch["x"].tolist()) <= {2, 3, 4, 5, 6}


def test_sampling_is_uniform_over_filled_rows_only():
    buffer = ReplayBuffer(capacity=100)
    buffer.add({"x": torch.arange(10)})
    counts = torch.bincount(buffer.sample(20_000, torch.Generator().manual_seed(1))["x"], minlength=10)
    assert counts.numel() == 10 and (counts > 1700).all()


def test_empty_and_invalid_buffers_fail():
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0)
    with pytest.raises(RuntimeError, match="empty"):
        ReplayBuffer(3).sample(1)


def test_linear_schedule():
    schedule = LinearSchedule(1.0, 0.1, duration=10)
    assert schedule(0) == 1.0 and schedule(10) == pytest.approx(0.1) and schedule(100) == pytest.approx(0.1)
    assert schedule(5) == pytest.approx(0.55)
    assert LinearSchedule(1.0, 0.2, duration=0)(0) == 0.2
