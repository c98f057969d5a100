"""One experiment assembly: the config composed, then dataset, reward, environments, encoders and
agent built from it. Every command that needs a piece of an experiment builds it here: ``rlrec
train`` and its DDP ranks, ``rlrec eval``, ``rlrec recommend``, ``rlrec encode`` and the gymnasium
adapters (``rlrec.envs.gym``), so a setting means the same thing in each of them."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """The config ``rlrec train <overrides>`` would run, composed outside a Hydra app (a bad override
    raises Hydra's ConfigCompositionException; commands use ``runtime.compose.compose_or_exit``)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from rlrec.config import config_dir, register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra_compose("config", overrides=list(overrides))


def build_environments(cfg: DictConfig):
    """The dataset, and a factory of environments over it with the config's reward: ``make_env(seed)``.
    Returns (dataset, make_env)."""
    from hydra.utils import instantiate

    log.info(f"Instantiating dataset <{cfg.dataset._target_}>")
    dataset = instantiate(cfg.dataset)
    log.info(f"Instantiating reward <{cfg.reward._target_}>")
    reward = instantiate(cfg.reward)
    log.info(f"Instantiating environment <{cfg.env._target_}>")
    # Built objects are passed to a partial, not merged into the config as instantiate(**kwargs) would.
    make_env = instantiate(cfg.env, _partial_=True)
    return dataset, functools.partial(make_env, dataset=dataset, reward=reward)


def train_env_seed(cfg: DictConfig, rank: int = 0) -> int:
    """The training environment's seed: derived from the run's ``seed`` (0 when unset), offset by rank."""
    from rlrec.runtime.seeding import derive_seed

    return derive_seed(cfg.seed if cfg.seed is not None else 0, "train_env") + rank


@dataclass
class Experiment:
    """Everything one run is made of, built from its config (``rlrec train`` and ``rlrec eval``)."""

    dataset: Any
    train_env: Any
    eval_env: Any
    agent: Any
    eval_seed: int
    cache_keys: dict[str, str]


def build_experiment(cfg: DictConfig, rank: int = 0, world_size: int = 1) -> Experiment:
    """Dataset, reward, environments (train and evaluation, own seeds), encoders and agent.

    In a distributed run each rank simulates its own share of the train and evaluation users
    (``RecEnv.shard``) with environment seeds and a torch RNG offset by its rank (``seed + rank``)."""
    import torch
    from hydra.utils import get_class, instantiate

    from rlrec.runtime.seeding import derive_seed

    dataset, make_env = build_environments(cfg)
    cache_keys = {"data": dataset.cache_key}
    eval_seed = derive_seed(cfg.seed, "eval") + rank
    train_env = make_env(seed=derive_seed(cfg.seed, "train_env") + rank)
    eval_env = make_env(seed=eval_seed)
    if world_size > 1:
        train_env.shard(rank, world_size)
        eval_env.shard(rank, world_size)
    item_encoder = build_item_encoder(cfg, dataset)
    if getattr(item_encoder, "cache_key", None) is not None:
        cache_keys["embeddings"] = item_encoder.cache_key
    log.info(f"Instantiating state encoder <{cfg.state_encoder._target_}>")
    state_encoder = functools.partial(
        instantiate(cfg.state_encoder, _partial_=True),
        item_titles=dataset.items["title"].to_list(),
        user_table=dataset.users,
        n_users=dataset.n_users,
        dataset_name=dataset.name,
    )
    log.info(f"Instantiating agent <{cfg.algorithm._target_}>")
    # Agents with a vector per user (algorithm=bpr) declare it, and get the number of users.
    needs_users = getattr(get_class(cfg.algorithm._target_), "needs_users", False)
    users = {"n_users": dataset.n_users} if needs_users else {}
    agent = instantiate(cfg.algorithm, _partial_=True)(
        item_encoder=item_encoder,
        state_encoder=state_encoder,
        n_items=dataset.n_items,
        slate_size=train_env.slate_size,
        **users,
    )
    # the items the training log holds are known to rlrec eval and recommend too, not only to training
    if hasattr(agent, "note_training_catalogue"):
        agent.note_training_catalogue(train_env)
    if world_size > 1:  # the same initial weights on every rank, then each rank its own exploration
        torch.manual_seed(derive_seed(cfg.seed + rank, "rank"))
    return Experiment(dataset, train_env, eval_env, agent, eval_seed, cache_keys)


def build_item_encoder(cfg: DictConfig, dataset):
    """The item tower g(item); encoders that read text (an ``item_texts`` argument) also get the item
    texts and the embedding cache folder, and those with a ``trained_items`` argument (encoder=hybrid)
    the [n_items] bool mask of items with a train-split interaction, passed to a partial so neither
    is merged into the config."""
    import inspect

    from hydra.utils import get_class, instantiate

    from rlrec.encoders.hybrid import train_split_items

    log.info(f"Instantiating encoder <{cfg.encoder._target_}>")
    make_encoder = instantiate(cfg.encoder, _partial_=True)
    parameters = inspect.signature(get_class(cfg.encoder._target_)).parameters
    inputs: dict[str, Any] = {"n_items": dataset.n_items}
    if "item_texts" in parameters:
        inputs.update(item_texts=dataset.items["text"].to_list(), cache_dir=cfg.paths.cache_dir)
    if "trained_items" in parameters:
        inputs["trained_items"] = train_split_items(dataset)
    return make_encoder(**inputs)


def evaluation_protocol(cfg: DictConfig, eval_env, agent) -> dict[str, Any]:
    """How the run's figures were made (summary.json ``protocol``): the environment's evaluation, the
    dataset's split and cleaning, and whether the agent itself skips consumed items."""
    protocol = dict(eval_env.protocol())
    protocol["agent_masks_consumed"] = bool(agent.mask_consumed)
    if "cold_scores" in getattr(agent, "hparams", {}):  # what the slates of never-trained items were made of
        tower = agent.q.item_tower
        protocol["cold_scores"] = (
            "standardize" if agent.calibrates_cold(tower, agent.hparams.cold_scores) else "raw"
        )
    dataset = {"name": cfg.dataset.name}
    for key in ("split", "preprocess"):
        if key in cfg.dataset:
            dataset[key] = OmegaConf.to_container(cfg.dataset[key], resolve=True)
    protocol["dataset"] = dataset
    return protocol


def make_gym_env(env: str, dataset: str, overrides: Sequence[str] = (), seed: int | None = None):
    """``gymnasium.make("rlrec/Synthetic-v0")``'s entry point: compose ``env=<env> dataset=<dataset>
    <overrides>``, build dataset, reward and environment as ``rlrec train`` does (its training
    environment's seed, from the config's ``seed`` or ``seed``), and wrap one user of it."""
    from rlrec.envs.gym import SingleUserEnv

    return SingleUserEnv(_batched_env(env, dataset, overrides, seed))


def make_gym_vector_env(
    env: str,
    dataset: str,
    num_envs: int | None = None,
    overrides: Sequence[str] = (),
    seed: int | None = None,
):
    """``gymnasium.make_vec("rlrec/Synthetic-v0", num_envs=...)``'s entry point: the batched
    environment as one ``gymnasium.vector.VectorEnv`` of ``num_envs`` users (default ``env.num_envs``)."""
    from rlrec.envs.gym import RecVectorEnv

    users = [] if num_envs is None else [f"env.num_envs={num_envs}"]
    return RecVectorEnv(_batched_env(env, dataset, [*overrides, *users], seed))


def make_sb3_vec_env(
    num_envs: int,
    env: str = "synthetic",
    dataset: str = "synthetic",
    overrides: Sequence[str] = (),
    seed: int | None = None,
):
    """``num_envs`` simulated users as one Stable-Baselines3 VecEnv (rlrec.envs.sb3)."""
    from rlrec.envs.sb3 import SB3VecEnv

    return SB3VecEnv(make_gym_vector_env(env, dataset, num_envs=num_envs, overrides=overrides, seed=seed))


def _batched_env(env: str, dataset: str, overrides: Sequence[str], seed: int | None):
    cfg = compose([f"env={env}", f"dataset={dataset}", *overrides])
    if seed is not None:
        cfg.seed = seed
    _, make_env = build_environments(cfg)
    return make_env(seed=train_env_seed(cfg))
