"""The gymnasium adapter: rlrec/Synthetic-v0 passes gymnasium's checker and runs a random agent."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch
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


def test_restart_starts_rows_as_reset_would_and_leaves_the_others_alone():
    from hydra.utils import instantiate

    from tests.conftest import compose_config

    cfg = compose_config(*SMALL)
    dataset = instantiate(cfg.dataset)
    env = instantiate(cfg.env, _partial_=True)(dataset=dataset, reward=instantiate(cfg.reward), seed=0)
    users = env.sample_users(6)
    env.reset(users)
    for _ in range(3):
        env.step(torch.arange(5).repeat(6, 1))
    before = {
        name: getattr(env, name).clone() for name in ("_history", "interests", "boredom", "satisfaction")
    }
    rows = torch.tensor([True, False, False, True, False, False])
    new_users = env.train_users[:2]
    obs = env.restart(rows, new_users)
    fresh = instantiate(cfg.env, _partial_=True)(dataset=dataset, reward=instantiate(cfg.reward), seed=0)
    start = fresh.reset(new_users)
    assert torch.equal(obs["user"][rows], new_users)
    assert torch.equal(obs["history"][rows], start["history"]) and torch.equal(
        obs["history_mask"][rows], start["history_mask"]
    )
    assert torch.equal(env.interests[rows], fresh.interests) and not env.boredom[rows].any()
    assert not env.satisfaction[rows].any() and env.active[rows].all()
    for name, value in before.items():  # the other users' episodes go on untouched
        assert torch.equal(getattr(env, name)[~rows], value[~rows]), name
    # a restarted user gets its own horizon: done after 8 more steps, the others after 5
    lengths = torch.zeros(6, dtype=torch.long)
    for step in range(1, 9):
        _, _, done, _ = env.step(torch.arange(5).repeat(6, 1))
        lengths = torch.where((lengths == 0) & done, step, lengths)
    assert (lengths[~rows] <= 5).all() and (lengths[~rows] > 0).all()
    assert (lengths[rows] > 0).all() and ((lengths[rows] == 8) | ~env.active[rows]).all()


def test_vector_env_steps_the_batch_and_restarts_finished_users_in_the_same_step():
    envs = gymnasium.make_vec("rlrec/Synthetic-v0", num_envs=16, overrides=SMALL)
    assert isinstance(envs, rlrec.envs.gym.RecVectorEnv) and envs.num_envs == 16
    assert envs.single_action_space == gymnasium.spaces.MultiDiscrete([60] * 5)
    envs.action_space.seed(0)
    obs, info = envs.reset(seed=0)
    assert envs.observation_space.contains(obs)
    lengths, current, terminated_seen, truncated_seen = [], np.zeros(16, dtype=int), 0, 0
    for _ in range(40):
        obs, reward, terminated, truncated, infos = envs.step(envs.action_space.sample())
        assert envs.observation_space.contains(obs) and reward.shape == (16,)
        current += 1
        finished = terminated | truncated
        if finished.any():
            assert (infos["_final_obs"] == finished).all()
            assert infos["final_obs"]["history"].shape == (16, 20)
            lengths += current[finished].tolist()
            current[finished] = 0
        terminated_seen += int(terminated.sum())
        truncated_seen += int(truncated.sum())
    assert max(lengths) <= 8, "every user's episode ends at env.horizon at the latest"
    assert terminated_seen > 0 and truncated_seen > 0
    assert len(lengths) >= 16 * 40 / 8  # finished slots were refilled at once, not left idle


def test_vector_env_needs_an_environment_that_restarts_single_users():
    from hydra.utils import instantiate

    from tests.conftest import compose_config

    cfg = compose_config("env=replay", "env.num_envs=4")
    dataset = instantiate(cfg.dataset)
    env = instantiate(cfg.env, _partial_=True)(dataset=dataset, reward=instantiate(cfg.reward), seed=0)
    with pytest.raises(ValueError, match="env=replay cannot restart single users"):
        rlrec.envs.gym.RecVectorEnv(env)


def test_stable_baselines3_trains_ppo_on_the_batched_users():
    from stable_baselines3 import PPO

    from rlrec.experiment import make_sb3_vec_env

    venv = make_sb3_vec_env(16, overrides=SMALL, seed=0)
    obs = venv.reset()
    assert {key: value.shape for key, value in obs.items()} == {"history": (16, 20), "history_mask": (16, 20)}
    finished = 0
    for _ in range(10):
        obs, reward, done, infos = venv.step(np.stack([venv.action_space.sample() for _ in range(16)]))
        for i in np.flatnonzero(done):  # SB3's autoreset convention
            assert infos[i]["terminal_observation"]["history"].shape == (20,)
            assert isinstance(infos[i]["TimeLimit.truncated"], bool)
        finished += int(done.sum())
    assert finished > 0
    model = PPO("MultiInputPolicy", venv, n_steps=16, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=512)
    assert model.num_timesteps >= 512
