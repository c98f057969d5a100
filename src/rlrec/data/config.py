"""Structured configs of the `dataset/` group: one dataclass per choice, registered as schema/dataset/<name>."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from omegaconf import MISSING


@dataclass
class SyntheticDatasetConfig:
    """A generated world: users with topic interests, items with topics and text descriptions."""

    _target_: str = "rlrec.data.synthetic.generate_synthetic"
    name: str = MISSING
    n_users: int = 1000
    n_items: int = 500
    n_topics: int = 12  # at most the size of the built-in topic vocabulary
    interest_concentration: float = 0.3  # Dirichlet alpha of user interests: small = focused users
    history_length: int = 20  # logged clicks per user before the simulation starts
    eval_fraction: float = 0.1  # users held out for evaluation
    seed: Optional[int] = "${seed}"  # type: ignore[assignment]  # the world changes with the run's seed


DATASET_SCHEMAS: dict[str, Any] = {"synthetic": SyntheticDatasetConfig}
