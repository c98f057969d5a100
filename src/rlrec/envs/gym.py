"""Gymnasium adapter: one user of any batched rlrec environment as a ``gymnasium.Env``.

    import gymnasium, rlrec.envs.gym
    env = gymnasium.make("rlrec/Synthetic-v0", overrides=["env.slate_size=3"])
    env = gymnasium.make("rlrec/Fitted-v0", overrides=["dataset.path=data/ml-latest-small"])

Both ids go through ``rlrec.experiment.make_gym_env``, which composes rlrec's Hydra config and builds
dataset, reward and environment exactly as ``rlrec train`` does. Observation: ``history`` (the last H item
ids, 0 where padded) and ``history_mask`` (1 where a slot holds an item); action: an item id
(``env.slate_size=1``) or a slate of K ids; reward: ``rewards["total"]``, with every behaviour's
reward in ``info["rewards"]``. ``terminated`` when the user leaves, ``truncated`` at the horizon.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

from rlrec.envs.base import RecEnv


class SingleUserEnv(gymnasium.Env):
    """One simulated user at a time (B = 1) of a batched environment.

    A MultiDiscrete action space cannot forbid repeated ids, so by default (``allow_duplicate_items``)
    the wrapper lets the environment score a slate that repeats an item instead of raising; pass
    ``allow_duplicate_items=False`` to keep the environment's own check.
    """

    metadata = {"render_modes": []}

    def __init__(self, env: RecEnv, allow_duplicate_items: bool = True) -> None:
        self.env = env
        if allow_duplicate_items:
            env.allow_duplicate_items = True
        k, n = env.slate_size, env.n_items
        self.action_space = spaces.Discrete(n) if k == 1 else spaces.MultiDiscrete([n] * k)
        window = env.reset(env.train_users[:1])["history"].shape[1]
        self.observation_space = spaces.Dict(
            {"history": spaces.MultiDiscrete([n] * window), "history_mask": spaces.MultiBinary(window)}
        )
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Seed the underlying environment (if ``seed``), draw one training user, start its episode."""
        super().reset(seed=seed)
        if seed is not None:
            self.env.seed(seed)
        user = self.env.sample_users(1)
        self._t = 0
        return self._observation(self.env.reset(user)), {"user": int(user[0])}

    def step(self, action):
        slate = torch.as_tensor(np.asarray(action, dtype=np.int64).reshape(1, self.env.slate_size))
        obs, rewards, done, info = self.env.step(slate)
        self._t += 1
        at_horizon = self._t >= self.env.horizon
        left = bool(info["left"][0]) if "left" in info else bool(done[0]) and not at_horizon
        terminated = left
        truncated = bool(done[0]) and not left
        details = {
            "rewards": {task: float(value[0]) for task, value in rewards.items() if task != "total"},
            "clicked_position": int(info["clicked_position"][0]),
        }
        return self._observation(obs), float(rewards["total"][0]), terminated, truncated, details

    @staticmethod
    def _observation(obs) -> dict[str, np.ndarray]:
        return {
            "history": obs["history"][0].numpy().astype(np.int64),
            "history_mask": obs["history_mask"][0].numpy().astype(np.int8),
        }


def register() -> None:
    """Register ``rlrec/Synthetic-v0`` and ``rlrec/Fitted-v0`` (idempotent)."""
    for env_id, env, dataset in [
        ("rlrec/Synthetic-v0", "synthetic", "synthetic"),
        ("rlrec/Fitted-v0", "fitted", "movielens"),
    ]:
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id,
                entry_point="rlrec.experiment:make_gym_env",
                kwargs={"env": env, "dataset": dataset},
                disable_env_checker=False,
            )


register()
