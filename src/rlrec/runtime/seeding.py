"""The one place where randomness is seeded."""

from __future__ import annotations

import hashlib
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


def derive_seed(seed: int, stream: str) -> int:
    """An independent seed for one named random stream of a run (``train_env``, ``eval``, ...).

    Derived by hashing, so run ``seed=s`` never shares a stream with run ``seed=s+1``.
    """
    digest = hashlib.sha256(f"{seed}/{stream}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def fresh_seed() -> int:
    """A seed for ``seed=null`` runs; it is recorded in the run folder so the run can be repeated."""
    return random.SystemRandom().randrange(2**31)
