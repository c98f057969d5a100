"""Vectorised simulator throughput against a per-user Python loop implementing the same dynamics.

Both run the default synthetic simulator (rlrec.envs.synthetic) on the same users, the same random
slates and the same random draws, in this process: the vectorised env steps all B users at once
with torch; the baseline (rlrec.envs.synthetic_reference) steps one user, one step at a time in
plain Python/numpy, as a paper's pseudocode would. Prints user-steps per second for both, their
median ratio over alternating rounds, and how many of the per-step outcomes agree (the same
dynamics give ~100%):

    python bench/bench_env_step.py [--users 4096] [--steps 30] [--items 500] [--threads 1]
                                   [--rounds 5] [--leaving]
"""

from __future__ import annotations

import argparse
import time

import torch

from rlrec.config import with_defaults
from rlrec.data.synthetic import generate_synthetic
from rlrec.envs.rollout import random_slates
from rlrec.envs.synthetic import SyntheticRecEnv
from rlrec.envs.synthetic_reference import PerUserSimulator


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=30, help="steps per episode (env.horizon)")
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds (median reported)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the loop uses one core)")
    parser.add_argument(
        "--leaving",
        action="store_true",
        help="keep env.leave_bias's default: users then leave early and "
        "the loop skips them, so most of the B x T user-steps cost it nothing",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    dataset = generate_synthetic(n_users=args.users, n_items=args.items, seed=args.seed)
    # By default nobody leaves (leave_bias=-30: P(leave) < 1e-13), so both do every user-step.
    env = with_defaults(
        SyntheticRecEnv,
        dataset,
        horizon=args.steps,
        seed=args.seed,
        **({} if args.leaving else {"leave_bias": -30.0}),
    )
    users = torch.arange(args.users)
    # A fixed, reasonable policy keeps users in their session (random slates lose most within ~8
    # steps, and a user who left costs the loop nothing): each step, 5 random items out of the user's
    # 20 best by initial click utility.
    generator = torch.Generator().manual_seed(args.seed)
    env.reset(users)
    candidates = env.catalog_utility().topk(20, dim=1).indices  # [B, 20]
    slates = torch.stack(
        [
            candidates.gather(1, random_slates(args.users, 20, env.slate_size, generator))
            for _ in range(args.steps)
        ]
    )  # [T, B, K]
    # The env draws one [B, 4] uniform tensor per step from its generator: replay them in the loop.
    draw_generator = torch.Generator().manual_seed(args.seed)
    draws = torch.stack([torch.rand(args.users, 4, generator=draw_generator) for _ in range(args.steps)])

    def vectorised() -> torch.Tensor:
        env.seed(args.seed)
        env.reset(users)
        clicks, active = [], 0
        for t in range(args.steps):
            _, _, _, info = env.step(slates[t])
            clicks.append(info["clicked_position"])
            active += int(info["active"].sum())
        vectorised.active_steps = active
        return torch.stack(clicks, 1)  # [B, T]

    simulator = PerUserSimulator(env)
    slate_lists, draw_lists = slates.tolist(), draws.tolist()

    def per_user_loop() -> list[list[int]]:
        clicks = []
        for b in range(args.users):
            state = simulator.reset(b)
            clicks.append(
                [
                    simulator.step(state, slate_lists[t][b], draw_lists[t][b]).clicked_position
                    for t in range(args.steps)
                ]
            )
        return clicks

    vectorised()  # warm-up
    # Rounds alternate the two, so a slowdown of the (shared) machine hits both alike: each round's
    # ratio compares the loop with the vectorised env timed right beside it (best of 3, as one
    # vectorised run is short); the median round is reported, with the range.
    rounds = []
    for _ in range(args.rounds):
        fast = min(_timed(vectorised) for _ in range(3))
        rounds.append((fast, _timed(per_user_loop)))
    fast, slow = sorted(rounds, key=lambda pair: pair[1] / pair[0])[len(rounds) // 2]
    ratios = [loop / vec for vec, loop in rounds]
    agree = (vectorised() == torch.tensor(per_user_loop())).float().mean().item()

    user_steps = vectorised.active_steps  # steps of users still in their session, the same in both
    print(
        f"settings     : {args.users} users x {args.steps} steps, {args.items} items, slate {env.slate_size}, "
        f"{torch.get_num_threads()} torch threads; {user_steps / (args.users * args.steps):.0%} of "
        "user-steps active"
    )
    print(f"vectorised   : {user_steps / fast:12,.0f} active user-steps/s")
    print(f"per-user loop: {user_steps / slow:12,.0f} active user-steps/s")
    print(
        f"ratio        : {slow / fast:12.1f} x faster vectorised (median of {len(rounds)} rounds; "
        f"range {min(ratios):.1f} - {max(ratios):.1f})"
    )
    print(f"agreement    : {agree:12.2%} of (user, step) click outcomes identical")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
