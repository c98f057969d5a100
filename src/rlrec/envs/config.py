"""Schemas of the ``env/`` config group and the ``reward/`` group: one dataclass per choice, registered by rlrec.config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import MISSING

from rlrec.data.synthetic import USER_MODEL  # the synthetic users' choice model and dynamics


@dataclass
class SyntheticEnvConfig:
    """Long-horizon multi-behaviour simulator over the synthetic world (rlrec.envs.synthetic: the equations)."""

    _target_: str = "rlrec.envs.synthetic.SyntheticRecEnv"
    name: str = MISSING
    num_envs: int = 64  # users simulated in parallel per training step
    slate_size: int = 5
    horizon: int = 30  # most steps per episode; users may leave earlier
    affinity_weight: float = USER_MODEL.affinity_weight  # w_a: click utility of user-topic affinity θ·x
    quality_weight: float = (
        USER_MODEL.quality_weight
    )  # w_q: click utility of item quality (low: quality shows after the click)
    position_decay: float = USER_MODEL.position_decay  # d: click utility lost per slate position
    no_click_utility: float = USER_MODEL.no_click_utility  # u_0: utility of leaving the slate unclicked
    cart_bias: float = -3.0  # P(cart | click) = σ(cart_bias + cart_quality q + cart_affinity θ·x)
    cart_quality: float = 1.5
    cart_affinity: float = 2.0
    purchase_bias: float = -2.0  # P(purchase | cart) = σ(purchase_bias + purchase_quality q)
    purchase_quality: float = 2.0
    drift_rate: float = USER_MODEL.drift_rate  # η: interests move this far towards each clicked item's topics
    boredom_weight: float = (
        USER_MODEL.boredom_weight
    )  # w_β: utility and experience lost per unit of boredom β·x
    boredom_decay: float = (
        USER_MODEL.boredom_decay
    )  # λ: boredom kept per step (a click adds the item's topics)
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
    # The full-ranking protocol: never recommend any item the user interacted with before the
    # evaluated position (all of it, not only history_window); false for repeat-consumption logs.
    mask_history: bool = True


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
class LMUserEnvConfig(FittedEnvConfig):
    """The fitted simulator plus a causal LM that writes feedback on each clicked item (rlrec.envs.lm_user);
    needs reward=text_feedback to score the text."""

    _target_: str = "rlrec.envs.lm_user.LMUserEnv"
    user_model: str = MISSING  # AutoModelForCausalLM: a local folder or a hub name (remote code never run)
    revision: Optional[str] = None
    prompt_template: str = (
        "A viewer who recently watched {history} was recommended {item}. Their one-line review:"
    )
    profile_items: int = 5  # the most recent history titles in {history}
    max_new_tokens: int = 24
    do_sample: bool = False  # greedy by default; true: seeded sampling (generation_seed)
    temperature: float = 1.0
    top_p: float = 1.0
    generation_batch_size: int = 32  # prompts per generate call
    max_prompt_tokens: int = 128  # longer prompts are truncated
    generation_seed: int = 0
    generation_device: str = "cpu"  # cpu | cuda | auto
    # fitted weights and generated texts (<cache_dir>/lm_user/) live under cache_dir


ENV_SCHEMAS["lm_user"] = LMUserEnvConfig


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
