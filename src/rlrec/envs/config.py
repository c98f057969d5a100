"""Schemas of the ``env/`` config group and the ``reward/`` group: one dataclass per choice, registered by rlrec.config."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING


@dataclass
class SyntheticEnvConfig:
    """Vectorised click simulator over the synthetic world (multinomial logit with a no-click option)."""

    _target_: str = "rlrec.envs.synthetic.SyntheticRecEnv"
    name: str = MISSING
    num_envs: int = 64  # users simulated in parallel per step
    slate_size: int = 5
    horizon: int = 10  # steps per episode
    affinity_weight: float = 5.0  # utility weight of user-topic affinity
    quality_weight: float = 0.5  # utility weight of item quality
    position_decay: float = 0.1  # utility lost per slate position
    no_click_utility: float = 3.0  # utility of leaving the slate unclicked
    eval_episodes_users: int = 256  # held-out users per evaluation
    history_window: int = 20  # items of history in each observation


@dataclass
class WeightedRewardConfig:
    """total = Σ weight[behaviour] · outcome, plus an optional rating term (rlrec.envs.rewards)."""

    _target_: str = "rlrec.envs.rewards.WeightedReward"
    name: str = MISSING
    weights: dict[str, float] = field(
        default_factory=lambda: {"click": 0.2, "cart": 0.5, "purchase": 1.0, "rating": 1.0}
    )
    rating_mode: str = "none"  # none | threshold | scaled
    rating_threshold: float = 4.0
    rating_min: float = 0.5
    rating_max: float = 5.0


ENV_SCHEMAS: dict[str, type] = {"synthetic": SyntheticEnvConfig}
REWARD_SCHEMAS: dict[str, type] = {"weighted": WeightedRewardConfig}
