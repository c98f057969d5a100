"""Episode rollouts of a policy over a vectorised environment, for evaluation."""

from __future__ import annotations

from collections.abc import Callable

import torch

from rlrec.envs.synthetic import Observation

Policy = Callable[[Observation], torch.Tensor]  # obs -> slate [B, K]


@torch.no_grad()
def episode_returns(
    env, policy: Policy, users: torch.Tensor, seed: int, task: str = "click"
) -> dict[str, torch.Tensor]:
    """Run one episode per user with the env re-seeded to ``seed``: return [B] and length [B].

    Re-seeding makes every policy evaluated with the same seed face the same users and the same
    random draws of the user model (common random numbers), so their returns compare directly.
    """
    env.seed(seed)
    obs = env.reset(users)
    total = torch.zeros(len(users))
    length = torch.zeros(len(users))
    alive = torch.ones(len(users), dtype=torch.bool)
    while alive.any():
        obs, rewards, done, _ = env.step(policy(obs))
        total += rewards[task] * alive
        length += alive.float()
        alive &= ~done
    return {"return": total, "episode_length": length}


def random_slates(batch: int, n_items: int, slate_size: int, generator: torch.Generator | None = None):
    """[batch, slate_size] slates of distinct items drawn uniformly from the catalogue."""
    noise = torch.rand(batch, n_items, generator=generator)  # [B, n_items]
    return noise.topk(slate_size, dim=1).indices


def uniform_random_policy(n_items: int, slate_size: int, seed: int) -> Policy:
    """The uniform-random baseline policy, with its own seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    return lambda obs: random_slates(len(obs["user"]), n_items, slate_size, generator)
