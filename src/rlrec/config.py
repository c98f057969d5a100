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
    # algorithm name -> its max_steps, over max_steps: a grid over algorithms (experiment=paper_movielens)
    # gives each the step budget chosen for it on the validation split. A trainer.max_steps given on
    # the command line (or swept by -m) wins over it.
    max_steps_by_algorithm: dict[str, int] = field(default_factory=dict)
    eval_every: int = 500  # training steps between evaluations; there is always one at the end
    # checkpoints/last.ckpt is rewritten every this many training steps (null: every eval_every), so
    # a run killed without warning (SIGKILL, a lost node) resumes from at most this far back
    checkpoint_every: Optional[int] = None
    log_every_n_steps: int = 50
    gradient_clip_val: Optional[float] = None
    enable_progress_bar: bool = True
    deterministic: Any = (
        True  # torch.use_deterministic_algorithms: same seed, same metrics ("warn": warn only)
    )


@dataclass
class RLRecConfig:
    """The top level. Groups are typed ``Any`` here; each group's own schema types its fields."""

    seed: Optional[int] = 0
    ckpt_path: Optional[str] = None  # resume training from this checkpoint (e.g. <run>/checkpoints/last.ckpt)
    optimized_metric: str = "eval/return"  # the summary metric a run returns to a sweeper (Optuna)
    dataset: Any = MISSING
    encoder: Any = MISSING
    state_encoder: Any = MISSING
    env: Any = MISSING
    reward: Any = MISSING
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
    from rlrec.agents.config import ALGORITHM_SCHEMAS
    from rlrec.data.config import DATASET_SCHEMAS
    from rlrec.encoders.config import ENCODER_SCHEMAS, STATE_ENCODER_SCHEMAS
    from rlrec.envs.config import ENV_SCHEMAS, REWARD_SCHEMAS

    for name, node in DATASET_SCHEMAS.items():
        store.store(group="schema/dataset", name=name, node=node)
    for name, node in ENCODER_SCHEMAS.items():
        store.store(group="schema/encoder", name=name, node=node)
    for name, node in STATE_ENCODER_SCHEMAS.items():
        store.store(group="schema/state_encoder", name=name, node=node)
    for name, node in ENV_SCHEMAS.items():
        store.store(group="schema/env", name=name, node=node)
    for name, node in REWARD_SCHEMAS.items():
        store.store(group="schema/reward", name=name, node=node)
    for name, node in ALGORITHM_SCHEMAS.items():
        store.store(group="schema/algorithm", name=name, node=node)
    store.store(group="schema/trainer", name="trainer", node=TrainerConfig)
