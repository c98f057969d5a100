"""The one place where randomness is seeded."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int, rank: int = 0) -> int:
    """Seed python, numpy and torch with ``seed + rank``; environments take their own seeds from it."""
    seed = seed + rank
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return seed


def fresh_seed() -> int:
    """A seed for ``seed=null`` runs; it is recorded in the run folder so the run can be repeated."""
    return random.SystemRandom().randrange(2**31)
