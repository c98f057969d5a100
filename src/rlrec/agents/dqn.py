"""DQN for slates over a two-tower Q-function (Mnih et al. 2015, Nature 518), with the usual options.

Q(s, a) = f(s) · g(a) + b(a): one matrix product scores the whole catalogue. Each slate position is
an action with its own reward: position k of the slate shown at step t gives the transition
(s_t, a_k, r_k, s_{t+n}) with r_k the step's reward if the user acted on position k, else 0. Its
target, with n-step returns (Sutton & Barto 2018, §7.1) truncated at the end of the episode,

    y_k = r_k + Σ_{i=1}^{m−1} γ^i R_{t+i} + γ^m (1 − done) Q_target(s_{t+m}, a*)       m = min(n, steps left)

where R is the whole step's reward and a* = argmax_a' Q_target(s_{t+m}, a') (DQN) or
argmax_a' Q_online(s_{t+m}, a') (``double``: van Hasselt et al. 2016, AAAI, eq. 4). Options:
``dueling`` (Wang et al. 2016: Q = V + A − mean A, see TwoTowerQ), ``target_update`` hard (a copy
every ``target_update_every`` gradient steps) or soft (Polyak: θ' ← τθ + (1 − τ)θ' every step),
ε-greedy per user with a linear or exponential ε schedule over gradient steps, uniform or
``prioritized`` replay (Schaul et al. 2016; see PrioritizedReplayBuffer), and
``env_steps_per_update``: user-environment steps collected per gradient step (null: one gradient
step per vectorised environment step).

The episode's time limit is treated as its end (``done``) although the observation does not carry
the step number, so near the horizon the state is only partly observed; with γ = 0.9 and short
episodes the effect is small, and the long-horizon environments make leaving part of the state.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from rlrec.agents.base import RecAgent
from rlrec.agents.collect import OnlineCollector
from rlrec.agents.replay import PrioritizedReplayBuffer, ReplayBuffer
from rlrec.agents.schedules import LinearSchedule, make_schedule
from rlrec.agents.towers import TwoTowerQ
from rlrec.envs.base import Observation
from rlrec.runtime.checks import require_positive


def n_step_transition(window: list[dict[str, torch.Tensor]], gamma: float) -> dict[str, torch.Tensor]:
    """The n-step transition that starts at ``window[0]``, from consecutive steps ``window`` (oldest
    first, n = len(window)), truncated per user at its first ``done``.

    Each step holds history/history_mask [B, H], slate [B, K], reward [B, K] (per slate position),
    step_reward [B], next_history/next_history_mask [B, H], done [B] bool. Returns the first step's
    state and slate, reward [B, K] = r_k + Σ_i γ^i R_{t+i}, the bootstrap state s_{t+m} and
    ``discount`` [B] = γ^m (1 − done) that multiplies its value.
    """
    first = window[0]
    reward = first["reward"].clone()
    done = first["done"].clone()
    next_history, next_mask = first["next_history"].clone(), first["next_history_mask"].clone()
    steps = torch.ones(len(done))
    for i, later in enumerate(window[1:], start=1):
        live = ~done  # users whose episode had not ended before this step
        reward += (gamma**i * later["step_reward"] * live)[:, None]
        next_history[live], next_mask[live] = later["next_history"][live], later["next_history_mask"][live]
        steps += live.float()
        done = done | (live & later["done"])
    return {
        "history": first["history"],
        "history_mask": first["history_mask"],
        "slate": first["slate"],
        "reward": reward,  # [B, K]
        "next_history": next_history,
        "next_history_mask": next_mask,
        "discount": gamma**steps * (~done).float(),  # [B]
    }


def td_target(
    reward: torch.Tensor,
    discount: torch.Tensor,
    next_q_target: torch.Tensor,
    next_q_online: torch.Tensor | None = None,
) -> torch.Tensor:
    """y = reward [N, K] + discount [N] · Q_target(s', a*) with a* from the online net when given
    (Double DQN) and from the target net otherwise (DQN). next_q_* are [N, n_items]."""
    if next_q_online is None:
        next_value = next_q_target.max(dim=1).values  # [N]
    else:
        best = next_q_online.argmax(dim=1, keepdim=True)  # [N, 1]
        next_value = next_q_target.gather(1, best).squeeze(1)
    return reward + discount[:, None] * next_value[:, None]


@torch.no_grad()
def polyak_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """θ' ← τ θ + (1 − τ) θ' for every trained parameter (frozen ones are equal in both nets)."""
    pairs = [(t, o) for t, o in zip(target.parameters(), online.parameters(), strict=True) if o.requires_grad]
    if pairs:
        torch._foreach_lerp_([t for t, _ in pairs], [o for _, o in pairs], tau)


class DQNAgent(RecAgent):
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
        batch_size: int,
        replay_capacity: int,
        warmup_steps: int,
        epsilon_start: float,
        epsilon_end: float,
        epsilon_decay_steps: int,
        epsilon_schedule: str,
        target_update: str,
        target_update_every: int,
        tau: float,
        double: bool,
        dueling: bool,
        n_step: int,
        prioritized: bool,
        per_alpha: float,
        per_beta_start: float,
        per_beta_anneal_steps: int,
        per_epsilon: float,
        env_steps_per_update: int | None,
        hidden_dim: int,
        history_length: int,
        huber_delta: float,
        task: str,
        mask_consumed: bool,
        name: str,
    ) -> None:
        super().__init__(n_items, slate_size, mask_consumed)
        require_positive(
            "algorithm",
            batch_size=batch_size,
            replay_capacity=replay_capacity,
            target_update_every=target_update_every,
            history_length=history_length,
            hidden_dim=hidden_dim,
            n_step=n_step,
            **({} if env_steps_per_update is None else {"env_steps_per_update": env_steps_per_update}),
        )
        if target_update not in ("hard", "soft"):
            raise ValueError(f"algorithm.target_update must be 'hard' or 'soft', got {target_update!r}")
        if not 0.0 < tau <= 1.0:
            raise ValueError(f"algorithm.tau must be in (0, 1], got {tau}")
        if not 0.0 <= per_beta_start <= 1.0:
            raise ValueError(f"algorithm.per_beta_start must be in [0, 1], got {per_beta_start}")
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder", "optimizer"])
        self.q = TwoTowerQ(item_encoder, state_encoder, n_items, hidden_dim, history_length, dueling=dueling)
        self.target_q = copy.deepcopy(self.q).requires_grad_(False)
        self.optimizer_factory = optimizer
        self.epsilon = make_schedule(epsilon_schedule, epsilon_start, epsilon_end, epsilon_decay_steps)
        self.per_beta = LinearSchedule(per_beta_start, 1.0, per_beta_anneal_steps)
        self.replay = (
            PrioritizedReplayBuffer(replay_capacity, per_alpha, per_epsilon)
            if prioritized
            else ReplayBuffer(replay_capacity)
        )
        # ε-greedy steps of the training env, n-step transitions of active users into the buffer, one
        # minibatch per env step or per env_steps_per_update user-steps (agents/collect.py)
        self.collector = OnlineCollector(
            lambda obs: {"slate": self.act(self.to_device(obs), explore=True).cpu()},
            self.transition,
            n_items=n_items,
            slate_size=slate_size,
            task=task,
            replay=self.replay,
            sample=self.sample_batch,
            warmup_steps=warmup_steps,
            n_step=n_step,
            combine=functools.partial(n_step_transition, gamma=gamma),
            env_steps_per_update=env_steps_per_update,
            history_length=history_length,
        )

    @torch.no_grad()
    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        scores = self.q(obs)  # [B, n_items]
        if explore:
            explore_rows = torch.rand(len(scores), device=scores.device) < self.epsilon(self.global_step)
            scores = torch.where(explore_rows[:, None], torch.rand_like(scores), scores)
        return self.slate_from_scores(scores, obs)  # [B, K]

    def sample_batch(self) -> dict[str, torch.Tensor]:
        if isinstance(self.replay, PrioritizedReplayBuffer):
            return self.replay.sample(self.hparams.batch_size, beta=self.per_beta(self.global_step))
        return self.replay.sample(self.hparams.batch_size)

    def transition(self, obs, acted, next_obs, rewards, done, info) -> dict[str, torch.Tensor]:
        """One env step's rows for n_step_transition: the step's reward sits at the slate position
        the user acted on (``reward`` [B, K]) and is also kept whole (``step_reward`` [B])."""
        clicked, reward = info["clicked_position"], rewards[self.hparams.task]
        slot_reward = F.one_hot(clicked.clamp(min=0), self.slate_size).float() * (clicked >= 0)[:, None]
        return {
            "history": obs["history"],
            "history_mask": obs["history_mask"],
            "slate": acted["slate"],
            "reward": slot_reward * reward[:, None],  # [B, K]
            "step_reward": reward,  # [B]
            "next_history": next_obs["history"],
            "next_history_mask": next_obs["history_mask"],
            "done": done.bool(),
        }

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        obs = {"history": batch["history"], "history_mask": batch["history_mask"]}
        next_obs = {"history": batch["next_history"], "history_mask": batch["next_history_mask"]}
        n = len(batch["slate"])
        items = self.q.item_tower()  # [n_items, d]
        next_online = None
        if self.hparams.double:  # s and s' share one pass of the online state tower ...
            both = {key: torch.cat([obs[key], next_obs[key]]) for key in obs}
            state = self.q.user_state(both, items)  # [2N, d]
            with torch.no_grad():  # ... and only s' is scored against the whole catalogue
                next_online = self.q.q_values(state[n:], items)  # [N, n_items]
            state = state[:n]
        else:
            state = self.q.user_state(obs, items)  # [N, d]
        q_slate = self.q.q_values_of(state, items, batch["slate"])  # [N, K]: only the shown items
        with torch.no_grad():
            target = td_target(batch["reward"], batch["discount"], self.target_q(next_obs), next_online)
        per_position = F.huber_loss(q_slate, target, delta=self.hparams.huber_delta, reduction="none")
        if "weight" in batch:  # prioritized: IS weights; a row's |δ| is the mean over its K positions
            loss = (batch["weight"] * per_position.mean(dim=1)).mean()
            self.replay.update_priorities(batch["index"], (target - q_slate).abs().mean(dim=1))
        else:
            loss = per_position.mean()
        if self.writes_logs_this_step():
            self.log("train/loss", loss, batch_size=n)
            self.log("train/q_mean", q_slate.mean(), batch_size=n)
            self.log("train/epsilon", self.epsilon(self.global_step), batch_size=n)
            self.log("train/collect_reward", self.collect_reward, batch_size=n)
        return loss

    def writes_logs_this_step(self) -> bool:
        """Whether Lightning writes this step's logged values (every ``trainer.log_every_n_steps``
        optimiser steps, and the last one). Each ``self.log`` costs about half a millisecond of
        Lightning bookkeeping, so values nobody will see are not logged at all."""
        trainer = self.trainer
        step = self.global_step + 1  # this step, once its optimiser step is done
        return step % trainer.log_every_n_steps == 0 or step >= trainer.max_steps

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        if self.hparams.target_update == "soft":
            polyak_update(self.target_q, self.q, self.hparams.tau)
        elif self.global_step % self.hparams.target_update_every == 0:
            self.target_q.load_state_dict(self.q.state_dict())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # Frozen language-model layers (requires_grad=False) stay out; fine-tuned ones are in.
        params = [p for p in self.q.parameters() if p.requires_grad]
        return self.optimizer_factory(params=params, lr=self.hparams.lr)
