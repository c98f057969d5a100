"""Stable-Baselines3 PPO on the synthetic simulator: the batched vector env against single-user envs.

    python bench/bench_vector_env.py [--users 256] [--steps 16384] [--threads 1]

Two ways to give SB3 many simulated users, both training the same PPO (MultiInputPolicy, SB3's
defaults but ``n_steps``): a ``DummyVecEnv`` of 8 ``SingleUserEnv`` copies (each steps one user per
call, in Python), and one ``SB3VecEnv`` over ``RecVectorEnv`` (``--users`` users stepped in one call
of the native batch). Printed per setting, in env-steps per second (one user acting once = 1):

- collection: ``model.collect_rollouts`` alone (policy forward + env step + rollout buffer), what the
  environment side costs;
- PPO: ``model.learn`` end to end, collection and the gradient epochs (SB3's default 10 epochs of
  minibatches of 64 over each rollout), so its ratio is bounded by PPO's own per-sample update cost.

Needs stable-baselines3 (``make bench`` installs the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import time

import torch

SMALL = ["dataset.n_users=2000", "dataset.n_items=100"]


def single_user_envs(n: int):
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rlrec.experiment import make_gym_env

    return DummyVecEnv([lambda i=i: make_gym_env("synthetic", "synthetic", SMALL, seed=i) for i in range(n)])


def vector_env(users: int):
    from rlrec.experiment import make_sb3_vec_env

    return make_sb3_vec_env(users, overrides=SMALL, seed=0)


def rates(venv, steps: int) -> tuple[float, float]:
    """(collection, PPO) env-steps per second with ``venv``: ``n_steps`` chosen so a rollout holds
    about 2,048 user-steps (SB3's default rollout size for one env)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.utils import configure_logger

    n_steps = max(2048 // venv.num_envs, 8)
    model = PPO("MultiInputPolicy", venv, n_steps=n_steps, batch_size=64, seed=0, verbose=0, device="cpu")
    model._setup_learn(total_timesteps=steps)
    model.set_logger(configure_logger(0, None, "", False))
    callback = CallbackList([])
    callback.init_callback(model)
    collected, start = 0, time.perf_counter()
    while collected < steps:
        model.collect_rollouts(venv, callback, model.rollout_buffer, n_rollout_steps=n_steps)
        collected += n_steps * venv.num_envs
    collection = collected / (time.perf_counter() - start)
    model = PPO("MultiInputPolicy", venv, n_steps=n_steps, batch_size=64, seed=0, verbose=0, device="cpu")
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return collection, model.num_timesteps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=256, help="users of the vector env")
    parser.add_argument("--copies", type=int, default=8, help="single-user envs under DummyVecEnv")
    parser.add_argument("--steps", type=int, default=16_384, help="user-steps per measurement")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    single = rates(single_user_envs(args.copies), args.steps)
    batched = rates(vector_env(args.users), args.steps)
    print(
        f"SB3 PPO (MultiInputPolicy, batch 64, 10 epochs), synthetic env, {SMALL}, torch threads {args.threads}"
    )
    for label, (collection, ppo) in [
        (f"DummyVecEnv of {args.copies} SingleUserEnv", single),
        (f"SB3VecEnv over RecVectorEnv, {args.users} users", batched),
    ]:
        print(f"{label:<44}: collection {collection:10,.0f} env-steps/s | PPO {ppo:8,.0f} env-steps/s")
    print(
        f"{'ratio (vector / single-user)':<44}: collection {batched[0] / single[0]:10.1f} x | PPO {batched[1] / single[1]:8.1f} x"
    )


if __name__ == "__main__":
    main()
