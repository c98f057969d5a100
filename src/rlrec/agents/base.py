"""What every agent shares: the act/experience contract and evaluation on held-out users."""

from __future__ import annotations

from collections.abc import Iterator

import pytorch_lightning as pl
import torch

from rlrec.envs.rollout import episode_returns, uniform_random_policy
from rlrec.envs.synthetic import Observation


class RecAgent(pl.LightningModule):
    """A recommender policy trained by Lightning.

    Subclasses define ``act(obs, explore) -> slate [B, K]`` and ``experience(env)``, a generator of
    training batches gathered from the environment (fed to Lightning through ``ExperienceStream``).
    """

    def __init__(self, n_items: int, slate_size: int) -> None:
        super().__init__()
        self.n_items = n_items
        self.slate_size = slate_size

    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        raise NotImplementedError

    def experience(self, env) -> Iterator[dict[str, torch.Tensor]]:
        raise NotImplementedError

    def to_device(self, obs: Observation) -> Observation:
        return {key: value.to(self.device) for key, value in obs.items()}

    def greedy_policy(self, obs: Observation) -> torch.Tensor:
        return self.act(self.to_device(obs), explore=False).cpu()

    def validation_step(self, users: torch.Tensor, batch_idx: int) -> None:
        """Greedy and uniform-random policies on the same held-out users and environment seed."""
        datamodule = self.trainer.datamodule
        env, seed, users = datamodule.eval_env, datamodule.eval_seed, users.cpu()
        greedy = episode_returns(env, self.greedy_policy, users, seed)
        random = episode_returns(env, uniform_random_policy(self.n_items, self.slate_size, seed), users, seed)
        self.log_dict(
            {
                "eval/return": greedy["return"].mean(),
                "eval/return_random": random["return"].mean(),
                "eval/episode_length": greedy["episode_length"].mean(),
            },
            batch_size=len(users),
        )
