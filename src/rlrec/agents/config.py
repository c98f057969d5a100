"""Schemas of the ``algorithm/`` config group: one dataclass per choice, registered by rlrec.config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class DQNConfig:
    """DQN over a two-tower Q(s, a) = f(state) · g(item) + b(item) (Mnih et al. 2015)."""

    _target_: str = "rlrec.agents.dqn.DQNAgent"
    name: str = MISSING
    lr: float = 3e-4  # the agent hands it to the optimizer
    optimizer: dict[str, Any] = field(
        default_factory=lambda: {"_target_": "torch.optim.Adam", "_partial_": True}
    )
    gamma: float = 0.9
    batch_size: int = 256  # transitions per gradient step
    replay_capacity: int = 50_000  # environment transitions kept in the ring buffer
    warmup_steps: int = 20  # vectorised env steps of uniform-random play before learning
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 1000  # env steps over which epsilon decays linearly
    target_update_every: int = 100  # gradient steps between hard target-network copies
    hidden_dim: int = 64
    history_length: int = 10  # last n consumed items the state encoder reads
    huber_delta: float = 1.0
    mask_consumed: bool = False  # never recommend an item already in the observed history
    # The reward key learned from: total (the reward/ group's weighted sum) or one behaviour.
    task: str = "total"


ALGORITHM_SCHEMAS: dict[str, type] = {"dqn": DQNConfig}
