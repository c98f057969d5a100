"""Episode rollouts of a policy over a vectorised environment, for evaluation."""

from __future__ import annotations

import torch

from rlrec.envs.base import Observation, Policy

__all__ = ["Observation", "Policy", "episode_returns", "random_slates", "uniform_random_policy"]


@torch.no_grad()
def episode_returns(
    env, policy: Policy, users: torch.Tensor, seed: int, steps: dict | None = None
) -> dict[str, torch.Tensor]:
    """Run one episode per user with the env re-seeded to ``seed``.

    Returns per-user tensors [B]: ``return`` (of ``rewards["total"]``), ``return_<task>`` for every
    other reward key, and ``episode_length`` (steps while the user was active).

    Re-seeding makes every policy evaluated with the same seed face the same users and the same
    random draws of the user model (common random numbers), so their returns compare directly.

    ``steps``, if given, receives what the ranking and beyond-accuracy metrics need: ``slates``, the
    list of the active users' slates of every step, and per-user sums [B] over active steps of
    ``hits`` (the user acted on the slate), ``dcg`` (1 / log2(p + 1) of the clicked 1-based position
    p), ``rr`` (1 / p), and ``hits_<task>`` / ``dcg_<task>`` / ``rr_<task>`` for the funnel tasks
    (cart, purchase: the clicked item went on to that behaviour).
    """
    env.seed(seed)
    obs = env.reset(users)
    totals: dict[str, torch.Tensor] = {}
    length = torch.zeros(len(users))
    alive = torch.ones(len(users), dtype=torch.bool)
    while alive.any():
        slate = policy(obs)
        obs, rewards, done, info = env.step(slate)
        for task, reward in rewards.items():
            key = "return" if task == "total" else f"return_{task}"
            totals[key] = totals.get(key, torch.zeros(len(users))) + reward * alive
        if steps is not None:
            _record_step(steps, slate, rewards, info["clicked_position"], alive)
        length += alive.float()
        alive &= ~done
    return {**totals, "episode_length": length}


def _record_step(steps: dict, slate, rewards, clicked_position, alive) -> None:
    steps.setdefault("slates", []).append(slate[alive].cpu())
    position = clicked_position.float() + 1  # 1-based, 0 = no click
    hit = (clicked_position >= 0) & alive
    clicked = {
        "hits": hit.float(),
        "dcg": torch.where(hit, 1.0 / torch.log2(position + 1), 0.0),
        "rr": torch.where(hit, 1.0 / position.clamp(min=1), 0.0),
    }
    credit = dict(clicked)
    for task in ("cart", "purchase"):
        if task in rewards:
            done_it = hit & (rewards[task] > 0)
            credit |= {f"{name}_{task}": value * done_it for name, value in clicked.items()}
    for name, value in credit.items():
        steps[name] = steps.get(name, torch.zeros(len(alive))) + value


def random_slates(batch: int, n_items: int, slate_size: int, generator: torch.Generator | None = None):
    """[batch, slate_size] slates of distinct items drawn uniformly from the catalogue."""
    noise = torch.rand(batch, n_items, generator=generator)  # [B, n_items]
    return noise.topk(slate_size, dim=1).indices


def uniform_random_policy(n_items: int, slate_size: int, seed: int) -> Policy:
    """The uniform-random baseline policy, with its own seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    return lambda obs: random_slates(len(obs["user"]), n_items, slate_size, generator)
