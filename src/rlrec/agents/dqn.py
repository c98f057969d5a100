"""DQN for slates over a two-tower Q-function (Mnih et al. 2015, Nature 518).

Q(s, a) = f(s) · g(a) + b(a): one matrix product scores the whole catalogue. Each slate position is
a transition (s, a_k, r_k, s') with r_k = 1 if item a_k was clicked, and the target is

    y_k = r_k + γ (1 − done) max_a' Q_target(s', a')

with a target network copied from the online one every ``target_update_every`` gradient steps.
Exploration is ε-greedy per user with ε decaying linearly over training steps.

The episode's time limit is treated as its end (``done``) although the observation does not carry
the step number, so near the horizon the state is only partly observed; with γ = 0.9 and short
episodes the effect is small, and the long-horizon environments make leaving part of the state.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from rlrec.agents.base import RecAgent
from rlrec.agents.replay import ReplayBuffer
from rlrec.agents.schedules import LinearSchedule
from rlrec.agents.towers import TwoTowerQ
from rlrec.envs.base import Observation
from rlrec.envs.rollout import random_slates
from rlrec.runtime.checks import require_positive


class DQNAgent(RecAgent):
    def __init__(
        self,
        item_encoder: nn.Module,
        state_encoder: Callable[..., nn.Module],
        n_items: int,
        slate_size: int,
        optimizer: Callable[..., torch.optim.Optimizer],
        lr: float = 3e-4,
        gamma: float = 0.9,
        batch_size: int = 256,
        replay_capacity: int = 50_000,
        warmup_steps: int = 20,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.05,
        epsilon_decay_steps: int = 1000,
        target_update_every: int = 100,
        hidden_dim: int = 64,
        history_length: int = 10,
        huber_delta: float = 1.0,
        task: str = "total",
        mask_consumed: bool = False,
        name: str = "dqn",
    ) -> None:
        super().__init__(n_items, slate_size, mask_consumed)
        require_positive(
            "algorithm",
            batch_size=batch_size,
            replay_capacity=replay_capacity,
            target_update_every=target_update_every,
            history_length=history_length,
            hidden_dim=hidden_dim,
        )
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder", "optimizer"])
        self.q = TwoTowerQ(item_encoder, state_encoder, n_items, hidden_dim, history_length)
        self.target_q = copy.deepcopy(self.q).requires_grad_(False)
        self.optimizer_factory = optimizer
        self.epsilon = LinearSchedule(epsilon_start, epsilon_end, epsilon_decay_steps)
        self.replay = ReplayBuffer(replay_capacity)
        self.collect_reward = 0.0  # mean click rate of the latest collection step

    @torch.no_grad()
    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        scores = self.q(obs)  # [B, n_items]
        if explore:
            explore_rows = torch.rand(len(scores), device=scores.device) < self.epsilon(self.global_step)
            scores = torch.where(explore_rows[:, None], torch.rand_like(scores), scores)
        return self.slate_from_scores(scores, obs)  # [B, K]

    def experience(self, env) -> Iterator[dict[str, torch.Tensor]]:
        """Step the env with the ε-greedy policy, store transitions, yield replay minibatches."""
        obs = env.reset(env.sample_users(env.num_envs))
        if obs["history"].shape[1] < self.hparams.history_length:
            raise ValueError(
                f"algorithm.history_length={self.hparams.history_length} exceeds the "
                f"{obs['history'].shape[1]} items of history the environment observes (env.history_window)"
            )
        for step in itertools.count():
            if step < self.hparams.warmup_steps:  # uniform-random slates fill the buffer first
                slate = random_slates(len(obs["user"]), self.n_items, self.slate_size)
            else:
                slate = self.act(self.to_device(obs), explore=True).cpu()
            next_obs, rewards, done, info = env.step(slate)
            if self.hparams.task not in rewards:
                raise ValueError(
                    f"algorithm.task={self.hparams.task!r} is not a reward of env={env.name}; "
                    f"it has {sorted(rewards)}"
                )
            clicked = info["clicked_position"]
            # The step's reward sits at the slate position the user acted on.
            slot_reward = F.one_hot(clicked.clamp(min=0), self.slate_size).float() * (clicked >= 0)[:, None]
            slot_reward = slot_reward * rewards[self.hparams.task][:, None]
            active = info["active"]
            rows = {
                "history": obs["history"],
                "history_mask": obs["history_mask"],
                "slate": slate,
                "reward": slot_reward,  # [B, K]
                "next_history": next_obs["history"],
                "next_history_mask": next_obs["history_mask"],
                "done": done.float(),
            }
            if active.any():
                self.replay.add({key: value[active] for key, value in rows.items()})
            self.collect_reward = rewards[self.hparams.task].mean().item()
            obs = env.reset(env.sample_users(env.num_envs)) if done.all() else next_obs
            if step >= self.hparams.warmup_steps:
                yield self.replay.sample(self.hparams.batch_size)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        obs = {"history": batch["history"], "history_mask": batch["history_mask"]}
        next_obs = {"history": batch["next_history"], "history_mask": batch["next_history_mask"]}
        q_slate = self.q(obs).gather(1, batch["slate"])  # [N, K]
        with torch.no_grad():
            next_value = self.target_q(next_obs).max(dim=1).values  # [N]
            target = batch["reward"] + self.hparams.gamma * (1 - batch["done"])[:, None] * next_value[:, None]
        loss = F.huber_loss(q_slate, target, delta=self.hparams.huber_delta)
        n = len(q_slate)
        self.log("train/loss", loss, batch_size=n)
        self.log("train/q_mean", q_slate.mean(), batch_size=n)
        self.log("train/epsilon", self.epsilon(self.global_step), batch_size=n)
        self.log("train/collect_reward", self.collect_reward, batch_size=n)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        if self.global_step % self.hparams.target_update_every == 0:
            self.target_q.load_state_dict(self.q.state_dict())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # Frozen language-model layers (requires_grad=False) stay out; fine-tuned ones are in.
        params = [p for p in self.q.parameters() if p.requires_grad]
        return self.optimizer_factory(params=params, lr=self.hparams.lr)
