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
from omegaconf import MISSING, OmegaConf


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


def schema_registries() -> dict[str, dict[str, type]]:
    """Each config group's structured configs, by choice name."""
    from rlrec.agents.config import ALGORITHM_SCHEMAS
    from rlrec.data.config import DATASET_SCHEMAS
    from rlrec.encoders.config import ENCODER_SCHEMAS, STATE_ENCODER_SCHEMAS
    from rlrec.envs.config import ENV_SCHEMAS, REWARD_SCHEMAS

    return {
        "dataset": DATASET_SCHEMAS,
        "encoder": ENCODER_SCHEMAS,
        "state_encoder": STATE_ENCODER_SCHEMAS,
        "env": ENV_SCHEMAS,
        "reward": REWARD_SCHEMAS,
        "algorithm": ALGORITHM_SCHEMAS,
    }


def with_defaults(cls: type, *args: Any, choice: str | None = None, **kwargs: Any) -> Any:
    """``cls(*args, **kwargs)``, every argument the call leaves out that ``cls``'s structured config
    sets taken from there: the one home of the defaults, for building an agent (or any configured
    class) in Python as a composed config would. ``choice`` names the config when several share
    ``cls`` (``encoder=bert`` and ``minilm`` are both ItemTextEncoder). Values the config
    interpolates (``${seed}``) are not filled: pass them. A subclass of a configured class takes its
    base's config."""
    import inspect

    from hydra.utils import instantiate

    registered = [
        (name, schema) for schemas in schema_registries().values() for name, schema in schemas.items()
    ]
    found: list = []
    for klass in cls.__mro__:  # a subclass of a configured class takes its base's config
        target = f"{klass.__module__}.{klass.__qualname__}"
        found = [
            (name, schema)
            for name, schema in registered
            if getattr(schema, "_target_", None) == target and choice in (None, name)
        ]
        if found:
            break
    if len(found) != 1:
        target = f"{cls.__module__}.{cls.__qualname__}"
        if not found:
            raise ValueError(f"{target}: no structured config (nor one of a base class) has it as _target_")
        names = [name for name, _ in found]
        raise ValueError(f"{target}: {len(found)} structured configs ({names}) target it; pass choice=")
    name, schema = found[0]
    defaults = OmegaConf.to_container(OmegaConf.structured(schema), resolve=False)
    defaults["name"] = name if defaults.get("name") == MISSING else defaults["name"]
    parameters = inspect.signature(cls).parameters
    given = set(kwargs) | set(list(parameters)[: len(args)])
    filled = {}
    for key, value in defaults.items():
        if key not in parameters or key in given or value == MISSING:
            continue
        if isinstance(value, str) and "${" in value:
            continue
        filled[key] = instantiate(value) if isinstance(value, dict) and "_target_" in value else value
    return cls(*args, **filled, **kwargs)
