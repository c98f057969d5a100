"""Schemas of the ``env/`` config group and the ``reward/`` group: one dataclass per choice, registered by rlrec.config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

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


# --- logged-data environments (env=replay, env=fitted) and reward=text_feedback ---
@dataclass
class ReplayEnvConfig:
    """Logged replay over any dataset: reward the real next interaction when the slate holds it."""

    _target_: str = "rlrec.envs.replay.ReplayEnv"
    name: str = MISSING
    num_envs: int = 64  # training users replayed in parallel per step
    slate_size: int = 10  # K of HR@K / NDCG@K / MRR@K
    horizon: int = 20  # steps per training episode (fewer where a user's sequence ends first)
    history_window: int = 20  # items of history in each observation
    eval_split: str = "test"  # valid | test: the held-out interactions evaluation walks
    eval_episodes_users: int = 1024  # held-out users per evaluation


ENV_SCHEMAS["replay"] = ReplayEnvConfig


@dataclass
class FittedEnvConfig:
    """A response model fitted on the dataset's train split, simulated as a slate click model."""

    _target_: str = "rlrec.envs.fitted.FittedRecEnv"
    name: str = MISSING
    num_envs: int = 64  # users simulated in parallel per step
    slate_size: int = 10
    horizon: int = 20  # max_turns: steps per episode unless the user leaves first
    history_window: int = 20  # items of history in each observation
    eval_episodes_users: int = 256  # held-out users per evaluation
    behaviours: Optional[list[str]] = None  # subset of click, cart, purchase, rating; null: all the data has
    no_click_utility: float = 1.0  # utility of leaving the slate unclicked (the logits' scale)
    leave_window: int = 5  # the last N items clicked in the episode ...
    leave_threshold: Optional[int] = 3  # ... of which more than this many share a category: the user leaves
    rating_threshold: float = 4.0  # behaviour `rating`: rated at least this
    embedding_dim: int = 32
    epochs: int = 10
    batch_size: int = 1024
    lr: float = 0.01
    weight_decay: float = 1e-4  # L2 on the batch's user and item vectors
    negatives: int = 4  # sampled items per logged pair when fitting click
    auc_split: Optional[str] = None  # held-out split for the AUC; null: valid if it has rows, else test
    auc_negatives: int = 20  # sampled items per held-out pair for the click AUC
    fit_seed: int = 0  # the fit's seed (one model for the train and eval environments)
    cache_dir: Optional[str] = "${paths.cache_dir}"  # fitted weights under <cache_dir>/fitted/; null: none


ENV_SCHEMAS["fitted"] = FittedEnvConfig


@dataclass
class TextFeedbackRewardConfig(WeightedRewardConfig):
    """The weighted reward plus a classifier's reading of the interaction's feedback text (weights.text)."""

    _target_: str = "rlrec.envs.text_reward.TextFeedbackReward"
    weights: dict[str, float] = field(
        default_factory=lambda: {"click": 0.2, "cart": 0.5, "purchase": 1.0, "rating": 1.0, "text": 1.0}
    )
    model: str = MISSING  # AutoModelForSequenceClassification: a local folder or a hub name
    revision: Optional[str] = None
    label_rewards: dict[str, float] = field(
        default_factory=lambda: {"negative": -1.0, "positive": 1.0}
    )  # label name or index -> reward; unmapped labels are worth 0
    scoring: str = "expected"  # expected (Σ P(label)·reward) | argmax (reward of the likeliest label)
    batch_size: int = 32
    max_length: int = 256
    device: str = "cpu"  # cpu | cuda | auto


REWARD_SCHEMAS["text_feedback"] = TextFeedbackRewardConfig
