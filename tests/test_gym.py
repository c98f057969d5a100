"""The gymnasium adapter: rlrec/Synthetic-v0 passes gymnasium's checker and runs a random agent."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlrec.envs.gym  # noqa: F401  (registers rlrec/Synthetic-v0 and rlrec/Fitted-v0)
import rlrec.experiment

SMALL = ["dataset.n_users=200", "dataset.n_items=60", "env.horizon=8"]


def test_synthetic_v0_passes_the_env_checker():
    env = gymnasium.make("rlrec/Synthetic-v0", overrides=SMALL)
    check_env(env.unwrapped, skip_render_check=True)
    assert isinstance(env.action_space, gymnasium.spaces.MultiDiscrete)
    assert env.observation_space["history"].shape == (20,)


def test_single_item_slates_use_a_discrete_action_space():
    env = gymnasium.make("rlrec/Synthetic-v0", overrides=[*SMALL, "env.slate_size=1"])
    assert env.action_space == gymnasium.spaces.Discrete(60)
    check_env(env.unwrapped, skip_render_check=True)


def test_random_agent_runs_episodes_that_end():
    env = gymnasium.make("rlrec/Synthetic-v0", overrides=SMALL)
    env.action_space.seed(0)
    obs, info = env.reset(seed=0)
    returns, episode_return, terminated_seen, truncated_seen, steps = [], 0.0, 0, 0, 0
    for _ in range(300):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        assert set(info["rewards"]) == {"click", "cart", "purchase"}
        episode_return += reward
        steps += 1
        assert steps <= 8, "episodes are truncated at env.horizon"
        if terminated or truncated:
            terminated_seen += terminated
            truncated_seen += truncated
            returns.append(episode_return)
            episode_return, steps = 0.0, 0
            obs, info = env.reset()
    assert len(returns) >= 300 / 8 and np.isfinite(returns).all()
    assert terminated_seen > 0, "some users leave (terminated)"
    assert truncated_seen > 0, "some reach the horizon (truncated)"


def test_reset_seed_reproduces_the_episode():
    env = gymnasium.make("rlrec/Synthetic-v0", overrides=SMALL)

    def episode(seed):
        obs, info = env.reset(seed=seed)
        action = np.arange(5)
        rewards = [env.step(action)[1] for _ in range(5)]
        return info["user"], rewards

    assert episode(3) == episode(3)


def test_make_from_config_rejects_an_unknown_env():
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException):
        rlrec.experiment.make_gym_env("no_such_env", "synthetic")


def test_fitted_v0_passes_the_env_checker_and_runs_a_random_agent(tmp_path, monkeypatch):
    from tests.test_fitted import _write_ratings

    monkeypatch.setenv("RLREC_CACHE", str(tmp_path / "cache"))
    folder = _write_ratings(tmp_path / "ml")
    overrides = [
        f"dataset.path={folder}",
        "dataset.preprocess.min_user_interactions=1",
        "dataset.preprocess.min_item_interactions=1",
        "env.horizon=6",
        "env.epochs=5",
    ]
    env = gymnasium.make("rlrec/Fitted-v0", overrides=overrides)
    check_env(env.unwrapped, skip_render_check=True)
    env.action_space.seed(0)
    obs, info = env.reset(seed=3)
    episodes, total = 0, 0.0
    for _ in range(200):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert np.isfinite(reward) and env.observation_space.contains(obs)
        total += reward
        if terminated or truncated:
            episodes += 1
            obs, info = env.reset()
    assert episodes >= 200 // 6 and set(info["rewards"]) == {"click", "rating"}
