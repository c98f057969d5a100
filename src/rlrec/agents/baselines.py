"""Non-learning baselines, judged by exactly the evaluation every agent gets (``trains = False``:
``rlrec train`` evaluates them without a training loop, summary.json as for any run, train/steps 0).

- ``random``: a uniformly random slate of distinct items per user and step.
- ``popularity``: the K items with the most train-split interactions in ``env.dataset``, the same
  slate for everyone (minus each user's consumed items with ``mask_consumed``).
"""

from __future__ import annotations

import torch

from rlrec.agents.base import RecAgent
from rlrec.envs.base import Observation


class BaselineAgent(RecAgent):
    """A fixed policy: nothing to train, so ``train`` only evaluates it."""

    trains = False

    def __init__(self, n_items: int, slate_size: int, mask_consumed: bool, **_unused) -> None:
        # item_encoder and state_encoder arrive as for every agent and are not used.
        super().__init__(n_items, slate_size, mask_consumed)
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder"])

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None:
            self.prepare(datamodule.train_env)

    def prepare(self, env) -> None:
        """Read what the policy needs from the training environment (its dataset)."""

    def scores(self, obs: Observation) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        return self.slate_from_scores(self.scores(obs), obs)  # [B, K]

    def training_step(self, batch, batch_idx: int):
        raise RuntimeError(f"algorithm={self.hparams.name} does not train; rlrec.train.train evaluates it")

    def configure_optimizers(self):
        return None


class RandomAgent(BaselineAgent):
    """Uniform random slates: every catalogue item equally likely at every position."""

    def scores(self, obs: Observation) -> torch.Tensor:
        return torch.rand(len(obs["history"]), self.n_items, device=obs["history"].device)  # [B, n_items]


class PopularityAgent(BaselineAgent):
    """The most-interacted items of the training split (every event counts once)."""

    def __init__(self, n_items: int, slate_size: int, mask_consumed: bool, **unused) -> None:
        super().__init__(n_items, slate_size, mask_consumed, **unused)
        self.register_buffer("counts", torch.zeros(n_items))  # [n_items] train interactions per item

    def prepare(self, env) -> None:
        self.counts.copy_(train_item_counts(env.dataset, self.n_items))

    def scores(self, obs: Observation) -> torch.Tensor:
        return self.counts.expand(len(obs["history"]), -1)  # [B, n_items]


def train_item_counts(dataset, n_items: int) -> torch.Tensor:
    """[n_items] float: interactions per item in ``dataset.split("train")``."""
    item_ids = dataset.split("train")["item_id"].to_numpy().astype("int64")
    return torch.bincount(torch.from_numpy(item_ids), minlength=n_items)[:n_items].float()
