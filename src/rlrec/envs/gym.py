"""Gymnasium adapters: one user of any batched rlrec environment as a ``gymnasium.Env``
(``SingleUserEnv``), or the whole batch as a ``gymnasium.vector.VectorEnv`` (``RecVectorEnv``).

    import gymnasium, rlrec.envs.gym
    env = gymnasium.make("rlrec/Synthetic-v0", overrides=["env.slate_size=3"])
    env = gymnasium.make("rlrec/Fitted-v0", overrides=["dataset.path=data/ml-latest-small"])
    envs = gymnasium.make_vec("rlrec/Synthetic-v0", num_envs=256)  # one RecVectorEnv of 256 users

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


class RecVectorEnv(gymnasium.vector.VectorEnv):
    """A batched environment as one ``gymnasium.vector.VectorEnv`` of ``env.num_envs`` users, stepped
    in one call of the native batch (no per-user Python), for CleanRL- or TorchRL-style loops.

    Spaces are the single-user ones of ``SingleUserEnv``, batched. Autoreset is ``SAME_STEP``: when a
    user leaves (``terminated``) or reaches the horizon (``truncated``), the same ``step`` call
    starts a new training user in that slot (``RecEnv.restart``) and returns its first observation;
    the finished episode's last observation is in ``infos["final_obs"]`` where ``infos["_final_obs"]``
    is true. Needs an environment that can restart single rows (``env=synthetic``).
    """

    metadata = {"render_modes": [], "autoreset_mode": gymnasium.vector.AutoresetMode.SAME_STEP}

    def __init__(self, env: RecEnv, allow_duplicate_items: bool = True) -> None:
        if not hasattr(env, "restart"):
            raise ValueError(
                f"env={env.name} cannot restart single users, which a vector env needs when one "
                "finishes; use env=synthetic (or rlrec.envs.gym.SingleUserEnv with B = 1)"
            )
        self.env = env
        if allow_duplicate_items:
            env.allow_duplicate_items = True
        self.num_envs = env.num_envs
        single = SingleUserEnv(env, allow_duplicate_items)
        self.single_action_space, self.single_observation_space = (
            single.action_space,
            single.observation_space,
        )
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.observation_space = gymnasium.vector.utils.batch_space(
            self.single_observation_space, self.num_envs
        )

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Seed the environment (if ``seed``), draw ``num_envs`` training users, start their episodes."""
        if seed is not None:
            self.env.seed(seed)
        users = self.env.sample_users(self.num_envs)
        return self._observation(self.env.reset(users)), {"user": users.numpy()}

    def step(self, actions):
        slate = torch.as_tensor(
            np.asarray(actions, dtype=np.int64).reshape(self.num_envs, self.env.slate_size)
        )
        obs, rewards, done, info = self.env.step(slate)
        terminated = info["left"] if "left" in info else done
        truncated = done & ~terminated
        infos: dict = {"clicked_position": info["clicked_position"].numpy()}
        if bool(done.any()):
            infos["final_obs"] = self._observation(obs)
            infos["_final_obs"] = done.numpy()
            obs = self.env.restart(done, self.env.sample_users(int(done.sum())))
        return (
            self._observation(obs),
            rewards["total"].numpy().astype(np.float64),
            terminated.numpy(),
            truncated.numpy(),
            infos,
        )

    @staticmethod
    def _observation(obs) -> dict[str, np.ndarray]:
        return {
            "history": obs["history"].numpy().astype(np.int64),
            "history_mask": obs["history_mask"].numpy().astype(np.int8),
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
                vector_entry_point="rlrec.experiment:make_gym_vector_env" if env == "synthetic" else None,
                kwargs={"env": env, "dataset": dataset},
                disable_env_checker=False,
            )


register()
