"""Episode rollouts of a policy over a vectorised environment, for evaluation."""

from __future__ import annotations

import torch

from rlrec.envs.base import Observation, Policy

__all__ = ["Observation", "Policy", "episode_returns", "random_slates", "uniform_random_policy"]


@torch.no_grad()
def episode_returns(env, policy: Policy, users: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    """Run one episode per user with the env re-seeded to ``seed``.

    Returns per-user tensors [B]: ``return`` (of ``rewards["total"]``), ``return_<task>`` for every
    other reward key, and ``episode_length`` (steps while the user was active).

    Re-seeding makes every policy evaluated with the same seed face the same users and the same
    random draws of the user model (common random numbers), so their returns compare directly.
    """
    env.seed(seed)
    obs = env.reset(users)
    totals: dict[str, torch.Tensor] = {}
    length = torch.zeros(len(users))
    alive = torch.ones(len(users), dtype=torch.bool)
    while alive.any():
        obs, rewards, done, _ = env.step(policy(obs))
        for task, reward in rewards.items():
            key = "return" if task == "total" else f"return_{task}"
            totals[key] = totals.get(key, torch.zeros(len(users))) + reward * alive
        length += alive.float()
        alive &= ~done
    return {**totals, "episode_length": length}


def random_slates(batch: int, n_items: int, slate_size: int, generator: torch.Generator | None = None):
    """[batch, slate_size] slates of distinct items drawn uniformly from the catalogue."""
    noise = torch.rand(batch, n_items, generator=generator)  # [B, n_items]
    return noise.topk(slate_size, dim=1).indices


def uniform_random_policy(n_items: int, slate_size: int, seed: int) -> Policy:
    """The uniform-random baseline policy, with its own seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    return lambda obs: random_slates(len(obs["user"]), n_items, slate_size, generator)
