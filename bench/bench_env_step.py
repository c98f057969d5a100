"""Vectorised simulator throughput against a per-user loop over the same click model.

Prints user-steps per second for both and their ratio, measured in this process:
    python bench/bench_env_step.py [--users 256] [--items 2000] [--steps 50]
"""

from __future__ import annotations

import argparse
import time

import torch

from rlrec.data.synthetic import generate_synthetic
from rlrec.envs.synthetic import SyntheticRecEnv


def timed(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=256)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()

    dataset = generate_synthetic(n_users=max(args.users * 2, 100), n_items=args.items, seed=0)
    env = SyntheticRecEnv(dataset, slate_size=10, horizon=args.steps, seed=0)
    users = env.sample_users(args.users)
    slates = torch.rand(args.steps, args.users, args.items).topk(10, dim=2).indices  # [T, B, K]

    def vectorised() -> None:
        env.reset(users)
        for t in range(args.steps):
            env.step(slates[t])

    def per_user_loop() -> None:  # the baseline: one user at a time, same model and tensors
        for b in range(args.users):
            env.reset(users[b : b + 1])
            for t in range(args.steps):
                env.step(slates[t, b : b + 1])

    user_steps = args.users * args.steps
    fast, slow = timed(vectorised), timed(per_user_loop, repeats=1)
    print(
        f"vectorised   : {user_steps / fast:12,.0f} user-steps/s  ({args.users} users x {args.steps} steps)"
    )
    print(f"per-user loop: {user_steps / slow:12,.0f} user-steps/s")
    print(f"ratio        : {slow / fast:12.1f} x faster vectorised")


if __name__ == "__main__":
    main()
