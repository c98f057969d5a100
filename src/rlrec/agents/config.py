"""Schemas of the ``algorithm/`` config group: one dataclass per choice, registered by rlrec.config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING


@dataclass
class DQNConfig:
    """DQN over a two-tower Q(s, a) = f(state) · g(item) + b(item) (Mnih et al. 2015)."""

    _target_: str = "rlrec.agents.dqn.DQNAgent"
    name: str = MISSING
    lr: float = 3e-4  # the agent hands it to the optimizer
    optimizer: dict[str, Any] = field(
        default_factory=lambda: {"_target_": "torch.optim.Adam", "_partial_": True}
    )
    gamma: float = 0.9
    batch_size: int = 256  # transitions per gradient step
    replay_capacity: int = 50_000  # environment transitions kept in the ring buffer
    warmup_steps: int = 20  # vectorised env steps of uniform-random play before learning
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 1000  # gradient steps over which epsilon decays (= env steps by default)
    epsilon_schedule: str = "linear"  # linear | exponential (99% of the way to epsilon_end at decay_steps)
    target_update: str = "hard"  # hard: copy every target_update_every steps | soft: Polyak with tau
    target_update_every: int = 100  # gradient steps between hard target-network copies
    tau: float = 0.005  # soft target update: θ' ← τθ + (1 − τ)θ' after every gradient step
    double: bool = True  # Double DQN (van Hasselt 2016): online argmax, target-network value
    dueling: bool = False  # Dueling head (Wang 2016): Q = V(s) + A(s, a) − mean_a A(s, a)
    n_step: int = 1  # n-step returns, truncated at the end of the episode
    prioritized: bool = False  # proportional prioritized replay (Schaul 2016), sum tree
    per_alpha: float = 0.6  # priority exponent: P(i) ∝ (|δ_i| + per_epsilon)^alpha
    per_beta_start: float = 0.4  # importance-sampling exponent, annealed linearly to 1 ...
    per_beta_anneal_steps: int = 3000  # ... over this many gradient steps
    per_epsilon: float = 1e-6  # keeps every priority positive
    # User-environment steps per gradient step (100 users stepping once = 100); null: one gradient
    # step per vectorised environment step. EasyRL4Rec's DQN is 8.
    env_steps_per_update: Optional[int] = None
    hidden_dim: int = 64
    history_length: int = 10  # last n consumed items the state encoder reads
    huber_delta: float = 1.0
    mask_consumed: bool = False  # never recommend an item already in the observed history
    # The reward key learned from: total (the reward/ group's weighted sum) or one behaviour.
    task: str = "total"


ALGORITHM_SCHEMAS: dict[str, type] = {"dqn": DQNConfig}


def _adam() -> dict[str, Any]:
    return {"_target_": "torch.optim.Adam", "_partial_": True}


@dataclass
class ReinforceConfig:
    """REINFORCE over a softmax slate policy, optionally off-policy with the top-K correction
    (Williams 1992; Chen et al. 2019)."""

    _target_: str = "rlrec.agents.reinforce.ReinforceAgent"
    name: str = MISSING
    lr: float = 3e-4
    optimizer: dict[str, Any] = field(default_factory=_adam)
    gamma: float = 0.9
    entropy_coef: float = 0.01  # weight of the policy-entropy bonus
    baseline: str = "learned"  # none | running_mean | learned (value head, MSE to the return)
    baseline_decay: float = 0.99  # EMA decay of the running_mean baseline
    credit: str = (
        "clicked"  # on-policy: slate (every shown item gets the return) | clicked (the clicked item)
    )
    normalize_advantage: bool = True  # rescale G_t − b(s_t) to mean 0, std 1 over each batch
    # true: learn off-policy from the dataset's train-split log with λ_K · min(π/β, c) (Chen et al. 2019)
    topk_correction: bool = False
    weight_cap: float = 10.0  # c, the cap on π/β (topk_correction only)
    batch_size: int = 256  # logged transitions per gradient step (topk_correction only; else one episode)
    hidden_dim: int = 64
    history_length: int = 10
    task: str = "total"  # reward key learned from
    mask_consumed: bool = False


@dataclass
class MultiTaskConfig:
    """Multi-task DQN: shared encoder, one Q head per env task, fixed/uncertainty/GradNorm weighting."""

    _target_: str = "rlrec.agents.multitask.MultiTaskAgent"
    name: str = MISSING
    lr: float = 3e-4
    optimizer: dict[str, Any] = field(default_factory=_adam)
    gamma: float = 0.9
    batch_size: int = 256
    replay_capacity: int = 50_000
    warmup_steps: int = 20
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 1000
    target_update_every: int = 100
    hidden_dim: int = 64
    history_length: int = 10
    huber_delta: float = 1.0
    weighting: str = "fixed"  # fixed | uncertainty (Kendall et al. 2018) | gradnorm (Chen et al. 2018)
    # {task: weight} maps, typed Any so that `algorithm.task_weights={click: 1, purchase: 2}` replaces the
    # null default (a typed dict node in struct mode takes no new keys); the agent checks them.
    task_weights: Any = None  # fixed loss weights (gradnorm: the initial ones); null: 1 each
    score_weights: Any = None  # ranking weights of the task Q values; null: the reward/ weights
    gradnorm_alpha: float = 1.5  # GradNorm asymmetry α
    gradnorm_lr: float = 0.025  # step size of the GradNorm weight update
    mask_consumed: bool = False


@dataclass
class SQNConfig:
    """SQN: supervised next-item head + double-Q head on a shared sequential encoder (Xin et al. 2020).
    lr and batch_size chosen on the MovieLens validation users at the plain defaults (docs/results.md)."""

    _target_: str = "rlrec.agents.sqn.SQNAgent"
    name: str = MISSING
    lr: float = 3e-3
    optimizer: dict[str, Any] = field(default_factory=_adam)
    gamma: float = 0.5  # the paper's discount
    q_weight: float = 1.0  # L = L_CE + q_weight · L_Q
    negatives: int = 0  # unrewarded items per transition in L_Q (SNQN, Xin et al. 2022); 0 = plain SQN
    batch_size: int = 1024  # logged transitions per gradient step
    hidden_dim: int = 64
    history_length: int = 10
    task: str = "total"  # logged reward key the Q heads learn
    mask_consumed: bool = False
    # items the training log never holds (cold items) at evaluation: raw | standardize (their scores
    # put on the trained items' per-user scale, for text and hybrid towers; rlrec.agents.towers)
    cold_scores: str = "standardize"


@dataclass
class SupervisedConfig:
    """Supervised next-item baseline: full-catalogue cross-entropy on the logged transitions. With
    state_encoder=sasrec this is SASRec (Kang & McAuley 2018). lr and batch_size chosen on the
    MovieLens validation users at the plain defaults (docs/results.md)."""

    _target_: str = "rlrec.agents.supervised.SupervisedAgent"
    name: str = MISSING
    lr: float = 3e-3
    optimizer: dict[str, Any] = field(default_factory=_adam)
    batch_size: int = 1024  # logged transitions per gradient step
    hidden_dim: int = 64
    history_length: int = 10
    mask_consumed: bool = False
    # items the training log never holds (cold items) at evaluation: raw | standardize (their scores
    # put on the trained items' per-user scale, for text and hybrid towers; rlrec.agents.towers)
    cold_scores: str = "standardize"


ALGORITHM_SCHEMAS.update(
    {
        "reinforce": ReinforceConfig,
        "multitask": MultiTaskConfig,
        "sqn": SQNConfig,
        "supervised": SupervisedConfig,
    }
)


@dataclass
class RandomConfig:
    """Uniformly random slates: the floor every learner must clear (rlrec.agents.baselines)."""

    _target_: str = "rlrec.agents.baselines.RandomAgent"
    name: str = MISSING
    mask_consumed: bool = False  # never recommend an item already in the observed history


@dataclass
class PopularityConfig:
    """The most-interacted train-split items for everyone (rlrec.agents.baselines)."""

    _target_: str = "rlrec.agents.baselines.PopularityAgent"
    name: str = MISSING
    mask_consumed: bool = False  # skip each user's consumed items (the next most popular instead)


ALGORITHM_SCHEMAS.update({"random": RandomConfig, "popularity": PopularityConfig})


@dataclass
class QLearningConfig:
    """Tabular Q-learning over a discretised state (rlrec.agents.qlearning; Watkins & Dayan 1992)."""

    _target_: str = "rlrec.agents.qlearning.QLearningAgent"
    name: str = MISSING
    alpha: float = 0.1  # step size of Q(s,a) ← Q(s,a) + α[r + γ max Q(s',·) − Q(s,a)]
    gamma: float = 0.9
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 1000  # environment steps (= updates) over which epsilon decays
    epsilon_schedule: str = "linear"  # linear | exponential
    state: str = "last_category"  # last_category | user_cluster | last_category_x_cluster
    actions: str = "items"  # items (each slate position an action) | categories (a category's top-K slate)
    n_clusters: int = 16  # with user_cluster states: k of the k-means over history mean item vectors
    kmeans_iterations: int = 25
    history_length: int = 10  # last n items averaged for the user's cluster
    seed: Optional[int] = "${seed}"  # type: ignore[assignment]  # seeds the k-means initialisation
    task: str = "total"  # the reward key learned from
    mask_consumed: bool = False  # never recommend an item already in the observed history


ALGORITHM_SCHEMAS.update({"qlearning": QLearningConfig})


@dataclass
class BPRConfig:
    """BPR-MF: user and item embeddings trained on (user, positive, negative) triples of the train
    split (rlrec.agents.bpr; Rendle et al. 2009). Embedding size and batch as RecBole's BPR; lr and
    reg_weight chosen on the MovieLens validation users (the trials: docs/results.md)."""

    _target_: str = "rlrec.agents.bpr.BPRAgent"
    name: str = MISSING
    lr: float = 3e-3
    optimizer: dict[str, Any] = field(default_factory=_adam)
    batch_size: int = 2048  # (user, positive, negative) triples per gradient step
    embedding_dim: int = 64  # d of P_u and Q_i
    reg_weight: float = 1e-2  # λ of λ · (‖P_u‖² + ‖Q_i‖² + ‖Q_j‖²)
    mask_consumed: bool = False


@dataclass
class EASEConfig:
    """EASE: closed-form item-to-item weights from the train split (rlrec.agents.neighbours; Steck 2019).
    λ chosen on the MovieLens validation users (docs/results.md); Steck's few hundred were for the far
    larger Gram matrix of ML-20M."""

    _target_: str = "rlrec.agents.neighbours.EASEAgent"
    name: str = MISSING
    reg_weight: float = 50.0  # λ of G = XᵀX + λI
    mask_consumed: bool = False


@dataclass
class ItemKNNConfig:
    """Item-based kNN over cosine similarity with shrinkage (rlrec.agents.neighbours; Sarwar et al. 2001).
    k and shrink chosen on the MovieLens validation users (docs/results.md; RecBole's defaults are 100
    and 10)."""

    _target_: str = "rlrec.agents.neighbours.ItemKNNAgent"
    name: str = MISSING
    k: int = 5  # neighbours kept per item
    shrink: float = 0.0  # added to ‖x_i‖‖x_j‖, damping similarities resting on few users
    mask_consumed: bool = False


ALGORITHM_SCHEMAS.update({"bpr": BPRConfig, "ease": EASEConfig, "itemknn": ItemKNNConfig})


@dataclass
class LMZeroShotConfig:
    """No training: score(u, i) = cos(LM(profile text of u's history), LM(text of i)) with the run's
    text item encoder's language model (rlrec.agents.zero_shot)."""

    _target_: str = "rlrec.agents.zero_shot.LMZeroShotAgent"
    name: str = MISSING
    profile_items: int = 5  # the most recent history items whose texts make the profile
    profile_template: str = "{titles}"  # {titles} = their item texts, oldest first, joined by "; "
    mask_consumed: bool = False


ALGORITHM_SCHEMAS.update({"lm_zero_shot": LMZeroShotConfig})
