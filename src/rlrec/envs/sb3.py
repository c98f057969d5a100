"""Stable-Baselines3 adapter: a RecVectorEnv (the native batch of users) as one SB3 ``VecEnv``.

    from rlrec.experiment import make_sb3_vec_env
    from stable_baselines3 import PPO
    PPO("MultiInputPolicy", make_sb3_vec_env(num_envs=256)).learn(100_000)

SB3 steps its ``VecEnv`` with one batched call per step, so a whole batch of simulated users costs
one native environment step, where a ``DummyVecEnv`` of single-user envs steps each in Python. SB3's
autoreset convention: a finished user's last observation is ``infos[i]["terminal_observation"]``,
``infos[i]["TimeLimit.truncated"]`` is true when the horizon ended it, and the returned observation is
the new user's first (RecVectorEnv restarts that row in the same step). Needs
``pip install 'rlrec[bench]'`` (stable-baselines3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from rlrec.envs.gym import RecVectorEnv


class SB3VecEnv(VecEnv):
    def __init__(self, envs: RecVectorEnv) -> None:
        self.envs = envs
        super().__init__(envs.num_envs, envs.single_observation_space, envs.single_action_space)
        self._actions: np.ndarray | None = None

    def reset(self):
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
        self._reset_seeds()
        obs, _ = self.envs.reset(seed=seed)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        obs, reward, terminated, truncated, infos = self.envs.step(self._actions)
        done = terminated | truncated
        details = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(done):
            details[i]["terminal_observation"] = {key: value[i] for key, value in infos["final_obs"].items()}
            details[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, reward.astype(np.float32), done, details

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices=None) -> list:
        return [getattr(self.envs, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value, indices=None) -> None:
        setattr(self.envs, attr_name, value)

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list:
        return [getattr(self.envs, method_name)(*args, **kwargs)] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def _indices(self, indices) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else indices
