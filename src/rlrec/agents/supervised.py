"""The supervised next-item baseline (SASRec-style with ``state_encoder=sasrec``; Kang & McAuley 2018).

On the logged transitions of the train split (agents/logged.py) the two-tower scorer is trained as a
classifier over the full catalogue:

    L_CE = − log softmax_a(f(s_t) · g(a) + b(a))[a_t]

and recommends the top-K scores. It never sees a reward: the yardstick the RL agents must beat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from rlrec.agents.base import RecAgent
from rlrec.agents.collect import LoggedSampler
from rlrec.agents.logged import logged_minibatches
from rlrec.agents.towers import TwoTowerQ, require_cold_scores
from rlrec.envs.base import Observation
from rlrec.runtime.checks import require_positive


class SupervisedAgent(RecAgent):
    def __init__(
        self,
        item_encoder: nn.Module,
        state_encoder: Callable[..., nn.Module],
        n_items: int,
        slate_size: int,
        *,
        optimizer: Callable[..., torch.optim.Optimizer],
        lr: float,
        batch_size: int,
        hidden_dim: int,
        history_length: int,
        mask_consumed: bool,
        cold_scores: str,
        name: str,
    ) -> None:
        super().__init__(n_items, slate_size, mask_consumed)
        require_cold_scores(cold_scores)
        require_positive(
            "algorithm", batch_size=batch_size, hidden_dim=hidden_dim, history_length=history_length
        )
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder", "optimizer"])
        self.q = TwoTowerQ(item_encoder, state_encoder, n_items, hidden_dim, history_length)
        self.optimizer_factory = optimizer
        self.collector = LoggedSampler(
            logged_minibatches(history_length, batch_size)
        )  # the train split's log

    @torch.no_grad()
    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        scores = self.cold_calibrated(self.q(obs), self.q.item_tower, self.hparams.cold_scores)
        return self.slate_from_scores(scores, obs)  # [B, K]; nothing to explore offline

    def experience(self, env) -> Iterator[dict[str, torch.Tensor]]:
        self.note_training_catalogue(env)
        return self.collector.batches(env)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        obs = {"history": batch["history"], "history_mask": batch["history_mask"], "user": batch["user"]}
        logits = self.q(obs)  # [N, n_items]
        loss = F.cross_entropy(self.training_logits(logits), batch["action"])
        n = len(logits)
        self.log("train/loss", loss, batch_size=n)
        self.log("train/ce", loss, batch_size=n)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        params = [p for p in self.q.parameters() if p.requires_grad]
        return self.optimizer_factory(params=params, lr=self.hparams.lr)
