"""Vectorised click simulator over a synthetic world.

Each step every simulated user sees a slate of K items and clicks at most one, by a multinomial
logit with a no-click option (McFadden 1974; as in SlateQ, Ie et al. 2019):

    u_k = w_a · affinity(user, item_k) + w_q · quality(item_k) − d · k,     u_0 = no-click utility
    P(click k) = exp(u_k) / (exp(u_0) + Σ_j exp(u_j))

A click appends the item to the user's history, which is what the agent observes.
"""

from __future__ import annotations

import polars as pl
import torch

from rlrec.data.schema import RecDataset
from rlrec.envs.base import Observation, RecEnv
from rlrec.envs.rewards import WeightedReward
from rlrec.runtime.checks import require_positive


class SyntheticRecEnv(RecEnv):
    """``reset(users) -> obs`` and ``step(slate) -> obs, rewards{task: [B]}, done [B], info``."""

    tasks = ("click",)

    def __init__(
        self,
        dataset: RecDataset,
        reward: WeightedReward | None = None,
        name: str = "synthetic",
        num_envs: int = 64,
        slate_size: int = 5,
        horizon: int = 10,
        affinity_weight: float = 5.0,
        quality_weight: float = 0.5,
        position_decay: float = 0.1,
        no_click_utility: float = 3.0,
        eval_episodes_users: int = 256,
        history_window: int = 20,
        seed: int = 0,
    ) -> None:
        if dataset.world is None:
            raise ValueError(
                f"env=synthetic simulates a generated world, but dataset {dataset.name!r} has none; "
                "use dataset=synthetic"
            )
        require_positive(
            "env",
            num_envs=num_envs,
            horizon=horizon,
            eval_episodes_users=eval_episodes_users,
            history_window=history_window,
        )
        if not 1 <= slate_size <= dataset.n_items:
            raise ValueError(f"env.slate_size must be in [1, n_items={dataset.n_items}], got {slate_size}")
        self.name = name
        self.reward = reward if reward is not None else WeightedReward(weights={"click": 1.0})
        self.reward.check_tasks(self.tasks, name)
        self.dataset = dataset  # offline algorithms learn from its logged interactions
        self.world = dataset.world
        self.n_items = dataset.n_items
        self.num_envs = num_envs
        self.slate_size = slate_size
        self.horizon = horizon
        self.affinity_weight = affinity_weight
        self.quality_weight = quality_weight
        self.position_decay = position_decay
        self.no_click_utility = no_click_utility
        self.history_window = history_window
        self.train_users = dataset.train_users
        self.eval_users = dataset.eval_users[:eval_episodes_users]
        self.logged_history, self.logged_mask = _last_items(dataset, history_window)  # [U, H]
        self.generator = torch.Generator().manual_seed(seed)
        self._users = self._history = self._mask = None
        self._t = 0

    def reset(self, users: torch.Tensor) -> Observation:
        self._users = users
        self._history = self.logged_history[users].clone()
        self._mask = self.logged_mask[users].clone()
        self._t = 0
        return self._observation()

    def step(self, slate: torch.Tensor) -> tuple[Observation, dict[str, torch.Tensor], torch.Tensor, dict]:
        """slate [B, K] item ids -> next obs, rewards {"click": [B]}, done [B], info."""
        if self._users is None:
            raise RuntimeError("call reset(users) before step(slate)")
        batch = len(self._users)
        self.check_slate(slate, batch)
        k = self.slate_size
        positions = torch.arange(k, dtype=torch.float32)
        utility = (
            self.affinity_weight * self.world.affinity(self._users, slate)
            + self.quality_weight * self.world.item_quality[slate]
            - self.position_decay * positions
        )  # [B, K]
        no_click = torch.full((batch, 1), self.no_click_utility)
        choice = torch.multinomial(torch.cat([no_click, utility], 1).softmax(1), 1, generator=self.generator)
        clicked_position = choice.squeeze(1) - 1  # [B], -1 = no click
        clicked = clicked_position >= 0
        clicked_item = slate.gather(1, clicked_position.clamp(min=0)[:, None])  # [B, 1]

        shifted = torch.cat([self._history[:, 1:], clicked_item], 1)
        shifted_mask = torch.cat([self._mask[:, 1:], torch.ones(batch, 1, dtype=torch.bool)], 1)
        self._history = torch.where(clicked[:, None], shifted, self._history)
        self._mask = torch.where(clicked[:, None], shifted_mask, self._mask)
        self._t += 1
        done = torch.full((batch,), self._t >= self.horizon)
        rewards = self.reward({"click": clicked.float()})
        info = {"clicked_position": clicked_position, "active": torch.ones(batch, dtype=torch.bool)}
        return self._observation(), rewards, done, info

    def _observation(self) -> Observation:
        return {"user": self._users, "history": self._history.clone(), "history_mask": self._mask.clone()}


def _last_items(dataset: RecDataset, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each user's last ``window`` logged items, right-aligned: ids [U, window], mask [U, window]."""
    slots = (
        dataset.interactions.sort(["user_id", "timestamp"], maintain_order=True)
        .with_columns(slot=window - 1 - pl.int_range(pl.len()).reverse().over("user_id"))
        .filter(pl.col("slot") >= 0)
    )
    users = torch.from_numpy(slots["user_id"].cast(pl.Int64).to_numpy().copy())
    slot = torch.from_numpy(slots["slot"].cast(pl.Int64).to_numpy().copy())
    history = torch.zeros(dataset.n_users, window, dtype=torch.long)
    mask = torch.zeros(dataset.n_users, window, dtype=torch.bool)
    history[users, slot] = torch.from_numpy(slots["item_id"].cast(pl.Int64).to_numpy().copy())
    mask[users, slot] = True
    return history, mask
