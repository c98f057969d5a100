"""Experience collectors: where an agent's training batches come from, apart from what it learns.

    OnlineCollector   steps the training env with the agent's exploring policy after a warm-up of
                      uniform-random slates; n-step transitions into a replay buffer, minibatches
                      out (DQN, multi-task DQN), or each step's transitions as they are (Q-learning)
    EpisodeCollector  one on-policy episode of ``env.num_envs`` users per batch, with each step's
                      discounted return (REINFORCE, actor-critics)
    LoggedSampler     minibatches drawn from the training split's log with a seeded generator
                      (SQN, supervised, BPR, top-K off-policy REINFORCE, offline learners)

An agent makes its collector in ``__init__`` (``self.collector``); ``RecAgent.experience(env)``
returns ``collector.batches(env)``, drawn by ``on_before_batch_transfer`` (agents/base.py says why
there). A generator's frame cannot be saved, so a collector keeps everything that lives from one
batch to the next in ``self.state`` (a dict of tensors and numbers: the current observation, an
n-step window, counters, a sampler's RNG state) and continues from whatever it holds when
``batches`` starts; ``state_dict`` / ``load_state_dict`` carry it, the replay buffer and the latest
collection reward through a checkpoint, so a resumed run draws the same batches as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

from rlrec.envs.base import Observation
from rlrec.envs.rollout import random_slates

Batch = dict[str, torch.Tensor]


class Collector:
    """The state a checkpoint keeps (``state``, ``collect_reward``) and the batches."""

    replay: Any = None

    def __init__(self) -> None:
        self.state: dict = {}  # what lives from one batch to the next (see the module docstring)
        self.collect_reward = 0.0  # mean reward of the latest collection step (logged by some agents)

    def batches(self, env) -> Iterator[Batch]:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {
            "state": self.state,
            "collect_reward": self.collect_reward,
            "replay": None if self.replay is None else self.replay.state_dict(),
        }

    def load_state_dict(self, saved: dict) -> None:
        self.state = saved["state"]  # freshly loaded: the loop may change it in place
        self.collect_reward = saved["collect_reward"]
        if saved["replay"] is not None:
            self.replay.load_state_dict(saved["replay"])


def require_task(task: str, rewards: dict[str, torch.Tensor], env) -> None:
    if task not in rewards:
        raise ValueError(
            f"algorithm.task={task!r} is not a reward of env={env.name}; it has {sorted(rewards)}"
        )


class OnlineCollector(Collector):
    """Interaction with the training environment, one vectorised step at a time.

    ``policy(obs) -> {"slate": [B, K], ...}`` explores (ε-greedy, ...); for the first
    ``warmup_steps`` env steps the slates are uniform-random instead. ``transition(obs, acted, next_obs,
    rewards, done, info)`` turns one step into the algorithm's rows ([B, ...] each), and
    ``combine(window)`` the last ``n_step`` steps' rows (oldest first) into the rows stored for the
    oldest one (n-step returns; a window is flushed with truncated returns when the episode ends).
    Only users active when the step began are stored (``info["active"]``).

    With a ``replay`` buffer: rows go into it and each batch is ``sample()``, one per env step, or one
    per ``env_steps_per_update`` user-steps of active users once the buffer holds rows; without one,
    each step's rows are the batch (tabular Q-learning).
    """

    def __init__(
        self,
        policy: Callable[[Observation], dict[str, torch.Tensor]],
        transition: Callable[..., Batch],
        *,
        n_items: int,
        slate_size: int,
        task: str,
        replay: Any = None,
        sample: Callable[[], Batch] | None = None,
        warmup_steps: int = 0,
        n_step: int = 1,
        combine: Callable[[list[Batch]], Batch] | None = None,
        env_steps_per_update: int | None = None,
        history_length: int | None = None,
    ) -> None:
        super().__init__()
        self.policy, self.transition = policy, transition
        self.n_items, self.slate_size, self.task = n_items, slate_size, task
        self.replay, self.sample = replay, sample
        self.warmup_steps, self.n_step = warmup_steps, n_step
        self.combine = combine or _first_step
        self.env_steps_per_update = env_steps_per_update
        self.history_length = history_length

    def batches(self, env) -> Iterator[Batch]:
        loop = self.state
        if not loop:
            obs = env.reset(env.sample_users(env.num_envs))
            if self.history_length is not None and obs["history"].shape[1] < self.history_length:
                raise ValueError(
                    f"algorithm.history_length={self.history_length} exceeds the {obs['history'].shape[1]} "
                    "items of history the environment observes (env.history_window)"
                )
            # window: the last n steps' rows, oldest first; credit: user-steps collected and not yet
            # paid for by a gradient step
            loop.update(obs=obs, window=[], step=0, credit=0)
        per_update = self.env_steps_per_update or 1
        while True:
            while loop["credit"] >= per_update:  # first the batches already paid for (a resumed loop)
                loop["credit"] -= per_update
                yield self.sample()
            obs, window, step = loop["obs"], loop["window"], loop["step"]
            if step < self.warmup_steps:  # uniform-random slates fill the buffer first
                acted = {"slate": random_slates(len(obs["user"]), self.n_items, self.slate_size)}
            else:
                acted = self.policy(obs)
            next_obs, rewards, done, info = env.step(acted["slate"])
            require_task(self.task, rewards, env)
            rows = self.transition(obs, acted, next_obs, rewards, done, info)
            active = info["active"]
            episode_over = bool(done.all())
            if self.replay is not None:  # stored before the reset below reuses the env's buffers
                window.append({**rows, "active": active})
                while window and (len(window) == self.n_step or episode_over):  # at the end: truncated
                    first_active = window[0]["active"]
                    if first_active.any():
                        stored = self.combine(window)
                        self.replay.add({key: value[first_active] for key, value in stored.items()})
                    window.pop(0)
            self.collect_reward = rewards[self.task].mean().item()
            loop["obs"] = env.reset(env.sample_users(env.num_envs)) if episode_over else next_obs
            loop["step"] = step + 1
            if self.replay is None:
                yield {key: value[active] for key, value in rows.items()}
                continue
            if step < self.warmup_steps or len(self.replay) == 0:
                continue
            # one batch per env step, or one per env_steps_per_update user-steps of active users
            loop["credit"] += per_update if self.env_steps_per_update is None else int(active.sum())


def _first_step(window: list[Batch]) -> Batch:
    """One-step transitions: the oldest step's rows as they are."""
    return {key: value for key, value in window[0].items() if key != "active"}


class EpisodeCollector(Collector):
    """One batch per episode of ``env.num_envs`` users, run for ``env.horizon`` steps or until every
    user is done: every active step's history, slate, user, the discounted return from that step

        G_t = r_t + γ G_{t+1}      (r = rewards[task], 0 once the user is done)

    and the algorithm's own per-step columns ``columns(slate, info, live) -> {name: [B, ...]}``."""

    def __init__(
        self,
        policy: Callable[[Observation], torch.Tensor],
        *,
        task: str,
        gamma: float,
        columns: Callable[[torch.Tensor, dict, torch.Tensor], Batch] | None = None,
    ) -> None:
        super().__init__()
        self.policy, self.task, self.gamma = policy, task, gamma
        self.columns = columns or (lambda slate, info, live: {})

    def batches(self, env) -> Iterator[Batch]:
        while True:
            obs = env.reset(env.sample_users(env.num_envs))
            steps: list[Batch] = []
            alive = torch.ones(len(obs["user"]), dtype=torch.bool)
            for _ in range(env.horizon):
                slate = self.policy(obs)
                next_obs, rewards, done, info = env.step(slate)
                require_task(self.task, rewards, env)
                live = alive & info["active"]
                steps.append(
                    {
                        "history": obs["history"],
                        "history_mask": obs["history_mask"],
                        "slate": slate,
                        "reward": rewards[self.task] * live,
                        "live": live,
                        **self.columns(slate, info, live),
                    }
                )
                alive &= ~done
                obs = next_obs
                if not alive.any():
                    break
            returns, following = [], torch.zeros(len(alive))
            for step in reversed(steps):
                following = step["reward"] + self.gamma * following  # [B]
                returns.append(following)
            returns.reverse()
            stacked = {key: torch.stack([step[key] for step in steps]) for key in steps[0]}  # [T, B, ...]
            live = stacked.pop("live")
            self.collect_reward = stacked.pop("reward").sum(0).mean().item()
            stacked["return"] = torch.stack(returns)
            stacked["user"] = obs["user"].expand(len(steps), -1)  # the episode's users
            yield {key: value[live] for key, value in stacked.items()}  # [N, ...]


class LoggedSampler(Collector):
    """Endless minibatches from the training split's log: ``draw = make_draw(env)`` is built once
    (the log read, its rewards computed), then each batch is ``draw(generator)`` with a generator
    seeded from the training environment's own RNG, whose state is kept after each batch."""

    def __init__(self, make_draw: Callable[[Any], Callable[[torch.Generator], Batch]]) -> None:
        super().__init__()
        self.make_draw = make_draw

    def batches(self, env) -> Iterator[Batch]:
        draw = self.make_draw(env)
        generator = resumable_sampler(self.state, env)
        while True:
            batch = draw(generator)
            self.state["sampler"] = generator.get_state()
            yield batch


def resumable_sampler(state: dict, env) -> torch.Generator:
    """A generator for logged sampling, seeded from the training environment's own RNG, or in the
    state ``state["sampler"]`` a checkpoint left it in."""
    generator = torch.Generator()
    if "sampler" in state:
        return generator.set_state(state["sampler"])
    seed = int(torch.randint(2**62, (1,), generator=env.generator))
    return generator.manual_seed(seed)
