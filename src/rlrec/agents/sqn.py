"""SQN: self-supervised Q-learning for sequential recommendation (Xin et al. 2020, SIGIR,
"Self-Supervised Reinforcement Learning for Recommender Systems").

One sequential state encoder f (any ``state_encoder``: mean, GRU, SASRec) over the logged history
feeds two heads:

    supervised head  logits(s, a) = f(s) · g(a) + b(a)                 L_CE = − log softmax(logits)[a_t]
    Q heads j = 1,2  Q_j(s, a)    = w_j(a) · f(s) + c_j(a)

trained on logged transitions (agents/logged.py) with the logged behaviour's reward
(``env.reward``: click 0.2, purchase 1.0 by default). Double Q-learning as in the paper: each step one
Q head is drawn at random (p = 1/2) as the main head, the other evaluates the main head's choice:

    y = r_t + γ (1 − done_t) Q_other(s_{t+1}, argmax_a Q_main(s_{t+1}, a))     (no gradient through y)
    L_Q = (Q_main(s_t, a_t) − y)²,     L = L_CE + q_weight · L_Q

With ``negatives: n > 0`` the Q loss also covers n items drawn uniformly per transition (never the
logged one), as SNQN does (Xin et al. 2022, WSDM, "Supervised Advantage Actor-Critic for Recommender
Systems"): an item the user did not engage with earns no reward and leaves the state as it was,

    y⁻ = 0 + γ Q_other(s_t, argmax_a Q_main(s_t, a)),     L_Q += Σ_{a⁻} (Q_main(s_t, a⁻) − y⁻)²

Without them the Q heads only ever see logged actions; when every logged event earns the same reward
(MovieLens: each rating is one click worth 0.2) the target is then the same for every transition and
tells the encoder nothing about which item comes next.

Recommendations use the supervised head, as the paper does for SQN; the Q heads shape the encoder.
The paper keeps two whole networks (encoder included) and updates the drawn one; here the two Q heads
share one encoder, which the CE and the Q losses train at every step.

Each Q head is its own fully connected layer over the catalogue (w_j [n_items, d], c_j [n_items]), as
the paper's Q head is: the Q loss shapes the shared encoder f but not the item vectors g that the
supervised head scores with, and the two heads' item weights are independent, so the double-Q target
does not pick and evaluate the next action with the same item vectors. (With Q_j built on the
shared g, the max over the catalogue in the target overestimated: on MovieLens mean Q of the logged
actions reached 40 where r / (1 − γ) = 0.4, and validation HR@10 fell to half the supervised one.)
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


class SQNAgent(RecAgent):
    def __init__(
        self,
        item_encoder: nn.Module,
        state_encoder: Callable[..., nn.Module],
        n_items: int,
        slate_size: int,
        *,
        optimizer: Callable[..., torch.optim.Optimizer],
        lr: float,
        gamma: float,
        q_weight: float,
        negatives: int,
        batch_size: int,
        hidden_dim: int,
        history_length: int,
        task: str,
        mask_consumed: bool,
        cold_scores: str,
        name: str,
    ) -> None:
        super().__init__(n_items, slate_size, mask_consumed)
        require_cold_scores(cold_scores)
        require_positive(
            "algorithm", batch_size=batch_size, hidden_dim=hidden_dim, history_length=history_length
        )
        if not 0 <= negatives < n_items:
            raise ValueError(
                f"algorithm.negatives must be between 0 and n_items - 1 = {n_items - 1}, got {negatives}"
            )
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder", "optimizer"])
        self.q = TwoTowerQ(
            item_encoder, state_encoder, n_items, hidden_dim, history_length
        )  # encoder + CE head
        self.q_heads = nn.ModuleList([nn.Linear(item_encoder.dim, n_items) for _ in range(2)])  # w_j, c_j
        self.optimizer_factory = optimizer
        self.collector = LoggedSampler(
            logged_minibatches(history_length, batch_size)
        )  # the train split's log

    def encode(
        self, history: torch.Tensor, mask: torch.Tensor, users: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """state f(s) [N, d] and the item vectors g [n_items, d] (``users`` [N] for user features)."""
        items = self.q.item_tower()
        return self.q.state_tower(items[history], mask, history, users), items

    def supervised_logits(self, state: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return state @ items.T + self.q.item_bias  # [N, n_items]

    def q_values(self, head: int, state: torch.Tensor) -> torch.Tensor:
        return self.q_heads[head](state)  # [N, n_items]

    @torch.no_grad()
    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        state, items = self.encode(obs["history"], obs["history_mask"], obs.get("user"))
        scores = self.supervised_logits(state, items)  # [B, n_items]
        scores = self.cold_calibrated(scores, self.q.item_tower, self.hparams.cold_scores)
        return self.slate_from_scores(scores, obs)  # [B, K]

    def experience(self, env) -> Iterator[dict[str, torch.Tensor]]:
        self.note_training_catalogue(env)
        return self.collector.batches(env)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        key = f"reward_{self.hparams.task}"
        if key not in batch:
            rewards = sorted(k.removeprefix("reward_") for k in batch if k.startswith("reward_"))
            raise ValueError(
                f"algorithm.task={self.hparams.task!r} is not a logged reward; there are {rewards}"
            )
        state, items = self.encode(batch["history"], batch["history_mask"], batch.get("user"))
        ce = F.cross_entropy(self.training_logits(self.supervised_logits(state, items)), batch["action"])

        main = int(torch.rand(()) < 0.5)  # double Q-learning: the heads swap roles at random
        other = 1 - main
        q = self.q_values(main, state)  # [N, n_items]
        q_taken = q.gather(1, batch["action"][:, None]).squeeze(1)  # [N]
        with torch.no_grad():
            next_state, _ = self.encode(batch["next_history"], batch["next_history_mask"], batch.get("user"))
            next_action = self.training_logits(self.q_values(main, next_state)).argmax(1, keepdim=True)
            next_value = self.q_values(other, next_state).gather(1, next_action).squeeze(1)
            target = batch[key] + self.hparams.gamma * (1 - batch["done"]) * next_value
        q_loss = F.mse_loss(q_taken, target)
        if self.hparams.negatives:
            negative = self.negative_items(batch["action"])  # [N, n]
            with torch.no_grad():  # no reward, and the state does not move
                stay_action = q.argmax(1, keepdim=True)  # [N, 1]
                stay_value = self.q_values(other, state).gather(1, stay_action)  # [N, 1]
                negative_target = self.hparams.gamma * stay_value
            q_negative = q.gather(1, negative)  # [N, n]
            q_loss = q_loss + (q_negative - negative_target).pow(2).sum(1).mean()
            self.log("train/q_negative_mean", q_negative.mean(), batch_size=len(q_taken))
        loss = ce + self.hparams.q_weight * q_loss
        n = len(q_taken)
        self.log("train/loss", loss, batch_size=n)
        self.log("train/ce", ce, batch_size=n)
        self.log("train/q_loss", q_loss, batch_size=n)
        self.log("train/q_mean", q_taken.mean(), batch_size=n)
        return loss

    def negative_items(self, action: torch.Tensor) -> torch.Tensor:
        """``negatives`` items per row [N, n], uniform over the catalogue without the logged action."""
        offset = torch.randint(1, self.n_items, (len(action), self.hparams.negatives), device=action.device)
        return (action[:, None] + offset) % self.n_items

    def configure_optimizers(self) -> torch.optim.Optimizer:
        params = [p for p in self.parameters() if p.requires_grad]
        return self.optimizer_factory(params=params, lr=self.hparams.lr)
