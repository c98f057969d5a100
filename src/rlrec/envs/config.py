"""Schemas of the ``env/`` config group and the ``reward/`` group: one dataclass per choice, registered by rlrec.config."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING


@dataclass
class SyntheticEnvConfig:
    """Long-horizon multi-behaviour simulator over the synthetic world (rlrec.envs.synthetic: the equations)."""

    _target_: str = "rlrec.envs.synthetic.SyntheticRecEnv"
    name: str = MISSING
    num_envs: int = 64  # users simulated in parallel per training step
    slate_size: int = 5
    horizon: int = 30  # most steps per episode; users may leave earlier
    affinity_weight: float = 5.0  # w_a: click utility of user-topic affinity θ·x
    quality_weight: float = 0.2  # w_q: click utility of item quality (low: quality shows after the click)
    position_decay: float = 0.1  # d: click utility lost per slate position
    no_click_utility: float = 3.0  # u_0: utility of leaving the slate unclicked
    cart_bias: float = -3.0  # P(cart | click) = σ(cart_bias + cart_quality q + cart_affinity θ·x)
    cart_quality: float = 1.5
    cart_affinity: float = 2.0
    purchase_bias: float = -2.0  # P(purchase | cart) = σ(purchase_bias + purchase_quality q)
    purchase_quality: float = 2.0
    drift_rate: float = 0.05  # η: interests move this far towards each clicked item's topics
    boredom_weight: float = 1.5  # w_β: utility and experience lost per unit of boredom β·x
    boredom_decay: float = 0.9  # λ: boredom kept per step (a click adds the item's topics)
    satisfaction_decay: float = 0.8  # ρ: satisfaction kept per step (moving average of experience)
    no_click_penalty: float = 1.0  # n: experience of a step without a click
    leave_bias: float = -3.0  # P(leave) = σ(leave_bias − leave_sensitivity · satisfaction)
    leave_sensitivity: float = 2.0
    allow_duplicate_items: bool = False  # true: a slate may repeat an item (otherwise an error)
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
