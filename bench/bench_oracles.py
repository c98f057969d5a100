"""Reference-policy returns on the default synthetic settings: uniform random, the myopic oracle
(greedy on the true click utility) and the long-horizon oracle (rlrec.envs.synthetic).

Default world (dataset=synthetic: 1000 users, 500 items), default env=synthetic and reward=weighted;
metric ``return`` (total reward per episode) over the held-out users, mean ± std over seeds, each
seed generating its own world and evaluated with RecEnv.evaluate's protocol:

    python bench/bench_oracles.py [--seeds 0 1 2 3 4]
"""

from __future__ import annotations

import argparse

import torch

from rlrec.config import with_defaults
from rlrec.data.synthetic import generate_synthetic
from rlrec.envs.rewards import WeightedReward
from rlrec.envs.rollout import episode_returns, uniform_random_policy
from rlrec.envs.synthetic import SyntheticRecEnv

POLICIES = ("random", "oracle", "oracle_longterm")


def oracle_returns(seeds=(0, 1, 2)) -> dict[str, torch.Tensor]:
    """Mean episode return per seed [len(seeds)] of each policy in POLICIES."""
    returns: dict[str, list[float]] = {name: [] for name in POLICIES}
    for seed in seeds:
        dataset = generate_synthetic(seed=seed)
        env = with_defaults(SyntheticRecEnv, dataset, reward=with_defaults(WeightedReward), seed=seed)
        policies = {
            "random": uniform_random_policy(env.n_items, env.slate_size, seed),
            **env.reference_policies(),
        }
        for name in POLICIES:
            returns[name].append(
                episode_returns(env, policies[name], env.eval_users, seed)["return"].mean().item()
            )
    return {name: torch.tensor(values) for name, values in returns.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    returns = oracle_returns(tuple(args.seeds))
    for name in POLICIES:
        values = returns[name]
        print(
            f"{name:16s} return {values.mean():7.3f} ± {values.std():.3f}   per seed {[round(v, 3) for v in values.tolist()]}"
        )
    mean = {name: values.mean() for name, values in returns.items()}
    print(f"oracle_longterm / oracle : {mean['oracle_longterm'] / mean['oracle']:.2f}  (required ≥ 1.2)")
    print(f"oracle / random          : {mean['oracle'] / mean['random']:.2f}  (required ≥ 2)")


if __name__ == "__main__":
    main()
