"""Structured configs: the schema every composed config is checked against.

Each yaml in ``conf/<group>/`` names its schema in its defaults list
(``- /schema/algorithm/dqn@_here_``), so a misspelt key or a value of the wrong type fails at
composition, with Hydra's message, before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


def config_dir() -> Path:
    """The config tree: shipped inside the wheel as ``rlrec/conf``, else the checkout's ``conf/``."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "conf", package.parents[1] / "conf"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        f"rlrec's config tree was not found: looked for config.yaml in {package / 'conf'} (installed "
        f"package) and {package.parents[1] / 'conf'} (source checkout). Reinstall rlrec."
    )


@dataclass
class PathsConfig:
    output_dir: str = "${hydra:runtime.output_dir}"
    # Prepared datasets and text embeddings, shared by all runs (a leading ~ is expanded).
    cache_dir: str = "${oc.env:RLREC_CACHE,'~/.cache/rlrec'}"


@dataclass
class TrainerConfig:
    name: str = MISSING
    accelerator: str = "cpu"
    devices: Any = 1
    strategy: str = "auto"
    num_nodes: int = 1
    precision: str = "32-true"
    max_steps: int = 3000
    eval_every: int = 500  # training steps between evaluations; there is always one at the end
    log_every_n_steps: int = 50
    gradient_clip_val: Optional[float] = None
    enable_progress_bar: bool = True
    deterministic: bool = True  # torch.use_deterministic_algorithms: same seed, same metrics


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
    epsilon_decay_steps: int = 1000  # env steps over which epsilon decays linearly
    target_update_every: int = 100  # gradient steps between hard target-network copies
    hidden_dim: int = 64
    history_length: int = 10  # last n consumed items the state encoder reads
    huber_delta: float = 1.0


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
class RLRecConfig:
    """The top level. Groups are typed ``Any`` here; each group's own schema types its fields."""

    seed: Optional[int] = 0
    optimized_metric: str = "eval/return"  # the summary metric a run returns to a sweeper (Optuna)
    dataset: Any = MISSING
    encoder: Any = MISSING
    state_encoder: Any = MISSING
    env: Any = MISSING
    algorithm: Any = MISSING
    trainer: TrainerConfig = MISSING
    logger: Any = field(default_factory=dict)
    paths: PathsConfig = field(default_factory=PathsConfig)


def register_configs() -> None:
    """Put the schemas in Hydra's ConfigStore (idempotent)."""
    store = ConfigStore.instance()
    store.store(name="rlrec_schema", node=RLRecConfig)
    # Under schema/<group>/, so `--help` does not offer them as choices; each yaml names its schema
    # as `- /schema/<group>/<name>@_here_` in its defaults list.
    from rlrec.data.config import DATASET_SCHEMAS
    from rlrec.encoders.config import ENCODER_SCHEMAS, STATE_ENCODER_SCHEMAS

    for name, node in DATASET_SCHEMAS.items():
        store.store(group="schema/dataset", name=name, node=node)
    for name, node in ENCODER_SCHEMAS.items():
        store.store(group="schema/encoder", name=name, node=node)
    for name, node in STATE_ENCODER_SCHEMAS.items():
        store.store(group="schema/state_encoder", name=name, node=node)
    store.store(group="schema/env", name="synthetic", node=SyntheticEnvConfig)
    store.store(group="schema/trainer", name="trainer", node=TrainerConfig)
    store.store(group="schema/algorithm", name="dqn", node=DQNConfig)
