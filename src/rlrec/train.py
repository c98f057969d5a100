"""``rlrec train``: compose → build the experiment (rlrec.experiment) → fit → a complete run folder."""

from __future__ import annotations

import logging
import os
import shlex
import sys
import warnings
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


def train(cfg: DictConfig, overrides: list[str] | None = None, command: str | None = None) -> dict[str, Any]:
    """Run one experiment into ``cfg.paths.output_dir``; return its summary (also summary.json)."""
    from hydra.utils import instantiate
    from pytorch_lightning.loggers import WandbLogger  # wandb itself is imported only if it is used
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from rlrec.agents.base import NonFiniteLossError
    from rlrec.agents.experience import SimulatorDataModule
    from rlrec.experiment import build_experiment, evaluation_protocol
    from rlrec.runtime.callbacks import Preemption, ReplicaCheck
    from rlrec.runtime.checks import require_positive
    from rlrec.runtime.distributed import LocalRanks, process_rank, start_local_ranks
    from rlrec.runtime.manifest import now, start_manifest, write_json
    from rlrec.runtime.metrics_logger import ParquetMetricsLogger
    from rlrec.runtime.seeding import fresh_seed, seed_everything

    run_dir = Path(cfg.paths.output_dir)
    overrides = list(overrides or [])
    if cfg.seed is None:
        cfg.seed = fresh_seed()  # `${seed}` interpolations (dataset.seed) then read the recorded seed
    seed = cfg.seed
    budget = cfg.trainer.max_steps_by_algorithm.get(cfg.algorithm.name)
    if budget is not None and not _sets(overrides, "trainer.max_steps"):
        cfg.trainer.max_steps = budget  # this algorithm's own step budget; a command-line max_steps wins
    # Only rank 0 writes the run folder's files (summary, manifest, metrics, checkpoints, W&B).
    writes = process_rank() == 0
    manifest = start_manifest(run_dir, command, overrides, seed, cfg.trainer.accelerator) if writes else {}
    summary: dict[str, Any] = {"status": "failed", "seed": seed, "overrides": overrides, "metrics": {}}
    metrics_logger = ParquetMetricsLogger(run_dir)
    loggers: list[Any] = []
    ranks = LocalRanks()
    try:
        require_positive(
            "trainer",
            max_steps=cfg.trainer.max_steps,
            eval_every=cfg.trainer.eval_every,
            checkpoint_every=cfg.trainer.checkpoint_every or cfg.trainer.eval_every,
            log_every_n_steps=cfg.trainer.log_every_n_steps,
        )
        ranks = start_local_ranks(cfg, run_dir)  # the other ranks of a one-machine DDP run, if any
        seed_everything(seed)
        loggers = [instantiate(conf) for conf in cfg.logger.values()]
        for logger in loggers:
            log.info(f"Logging to <{type(logger).__name__}>")
            logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
        preemption, replicas = Preemption(), ReplicaCheck()
        trainer = _build_trainer(cfg.trainer, run_dir, [*loggers, metrics_logger], [preemption, replicas])
        metrics_logger.trainer = trainer

        rank, world_size = trainer.global_rank, trainer.world_size
        experiment = build_experiment(cfg, rank, world_size)
        if writes:
            manifest["cache_keys"].update(experiment.cache_keys)
        agent, train_env, eval_env = experiment.agent, experiment.train_env, experiment.eval_env
        datamodule = SimulatorDataModule(train_env, eval_env, eval_seed=experiment.eval_seed)
        try:
            if getattr(agent, "trains", True):
                trainer.fit(agent, datamodule=datamodule, ckpt_path=_resume_path(cfg.ckpt_path, agent))
            else:  # a fixed policy (agents/baselines.py): the same evaluation, no training loop
                log.info(f"algorithm={cfg.algorithm.name} does not train: evaluating it")
                trainer.validate(agent, datamodule=datamodule, verbose=False)
        except SIGTERMException:  # Lightning ends the epoch that a SIGTERM stopped this way
            preemption.received = True
        except NonFiniteLossError as error:
            # The guard fires before backward, so the weights are still those of the last good step.
            trainer.save_checkpoint(run_dir / "checkpoints" / "last.ckpt", weights_only=False)
            summary["error"] = str(error)
            log.error(
                f"{error}; summary.json marks the run failed, checkpoints/last.ckpt holds the last good state"
            )
            raise
        # the periodic checkpoint may be up to checkpoint_every steps old: write the final state here
        trainer.save_checkpoint(run_dir / "checkpoints" / "last.ckpt", weights_only=False)  # resumable

        summary["metrics"] = {**metrics_logger.last_values(), "train/steps": trainer.global_step}
        summary["protocol"] = evaluation_protocol(cfg, eval_env, agent)
        if world_size > 1:  # rank 0 logged them: every rank returns them (e.g. to a sweeper)
            import torch.distributed as dist

            shared = [summary["metrics"]]
            dist.broadcast_object_list(shared, src=0)
            summary["metrics"] = shared[0]
            summary["distributed"] = {
                "world_size": world_size,
                "max_parameter_difference_across_ranks": replicas.max_difference,
            }
        if preemption.received:
            summary["status"] = "interrupted"
            log.warning(
                f"stopped by a signal at step {trainer.global_step}; resume with "
                f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}"
            )
            return summary
        summary["status"] = "completed"
        shown = {k: v for k, v in summary["metrics"].items() if k.startswith("eval/") and "@" not in k}
        if writes:
            log.info(", ".join(f"{k} {v:.3f}" for k, v in sorted(shown.items())) + f"; run folder: {run_dir}")
        return summary
    except BaseException as error:  # recorded in summary.json, then raised as it was
        summary.setdefault("error", f"{type(error).__name__}: {error}")
        raise
    finally:
        if summary["status"] == "failed":
            ranks.stop()
            if ranks.failure is not None:  # the cause, rather than what it did to rank 0
                summary["error"] = ranks.failure
        else:
            ranks.wait()
        _leave_process_group()
        if writes:
            metrics_logger.save()
            write_json(run_dir / "summary.json", summary)
            write_json(
                run_dir / "manifest.json", {**manifest, "ended_at": now(), "status": summary["status"]}
            )
            if any(isinstance(logger, WandbLogger) for logger in loggers):
                import wandb

                wandb.finish(exit_code=0 if summary["status"] == "completed" else 1)


def _leave_process_group() -> None:
    """A DDP run's process group ends with the run (a sweep may run the next job in this process)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _resume_path(ckpt_path: str | None, agent) -> str | None:
    """The checkpoint to resume from, checked first: a missing, truncated or other model's file is a
    CheckpointError naming it (Lightning would fail deep inside ``fit``)."""
    from rlrec.runtime.errors import read_checkpoint, require_fit

    if ckpt_path is None:
        return None
    path = Path(ckpt_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={ckpt_path}: no such checkpoint file")
    require_fit(agent, read_checkpoint(path, "ckpt_path"), ckpt_path, "ckpt_path")
    return str(path)


def _build_trainer(trainer_cfg: DictConfig, run_dir: Path, loggers: list[Any], callbacks: list[Any]):
    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.callbacks import ModelCheckpoint

    from rlrec.runtime.callbacks import EvaluateAtTheEnd

    # The env steps with the live policy, so experience cannot come from worker processes.
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    # A fine-tuned language model runs in eval mode on purpose (no dropout; see ItemTextEncoder).
    warnings.filterwarnings("ignore", ".*module\\(s\\) in eval mode at the start of training.*")
    # Training batches are drawn by the agent's on_before_batch_transfer on purpose (agents/base.py).
    warnings.filterwarnings("ignore", ".*overridden `on_before_batch_transfer` in `LightningModule`.*")
    # A resumed run writes its checkpoints into its own new run folder, not the one it resumed from.
    warnings.filterwarnings("ignore", ".*The dirpath has changed from.*")
    # Evaluation metrics are reduced over the ranks by the agent itself (RecAgent.validation_step).
    warnings.filterwarnings("ignore", ".*sync_dist=True.*when logging on epoch level in distributed.*")
    best = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best-step={step}",
        auto_insert_metric_name=False,
        monitor="eval/return",
        mode="max",
        save_top_k=1,
    )
    # last.ckpt (the full training state, collector included) on a fixed schedule, whether or not the
    # evaluation improved: the resume point after a kill that gives no signal to checkpoint on
    periodic = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        every_n_train_steps=trainer_cfg.checkpoint_every or trainer_cfg.eval_every,
        save_top_k=0,
        save_last=True,
    )
    accelerator, precision = trainer_cfg.accelerator, str(trainer_cfg.precision)
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"trainer.accelerator={accelerator}: no CUDA GPU is visible to torch "
            f"(torch {torch.__version__}, cuda {torch.version.cuda}); use trainer=cpu"
        )
    if precision.startswith("bf16") and torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
        precision = precision.replace("bf16", "16")
        log.warning(f"trainer.precision={trainer_cfg.precision}: this GPU has no bfloat16; using {precision}")
    return pl.Trainer(
        accelerator=accelerator,
        devices=trainer_cfg.devices,
        strategy=trainer_cfg.strategy,
        num_nodes=trainer_cfg.num_nodes,
        precision=precision,
        max_steps=trainer_cfg.max_steps,
        max_epochs=-1,
        val_check_interval=trainer_cfg.eval_every,
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        log_every_n_steps=trainer_cfg.log_every_n_steps,
        gradient_clip_val=trainer_cfg.gradient_clip_val,
        enable_progress_bar=trainer_cfg.enable_progress_bar,
        deterministic=trainer_cfg.deterministic,
        default_root_dir=run_dir,
        logger=loggers,
        callbacks=[EvaluateAtTheEnd(), best, periodic, *callbacks],
    )


def hydra_task(cfg: DictConfig) -> float:
    """The Hydra entry point: one job of ``rlrec train`` (or of a ``-m`` sweep)."""
    from hydra.core.hydra_config import HydraConfig

    from rlrec.runtime.errors import EXIT_BAD_INPUT, debugging, known_cause, report

    command = shlex.join(["rlrec", "train", *sys.argv[1:]])  # Hydra read its overrides from argv
    try:
        summary = train(cfg, overrides=list(HydraConfig.get().overrides.task), command=command)
        metrics = summary["metrics"]
        if cfg.optimized_metric not in metrics:
            raise ValueError(
                f"optimized_metric={cfg.optimized_metric!r} is not a metric of this run; it has {sorted(metrics)}"
            )
    except Exception as error:  # a known error: one line and exit 2, not Hydra's traceback and footer
        cause = known_cause(error)
        if cause is None or debugging():
            raise
        report("train", cause)
        raise SystemExit(EXIT_BAD_INPUT) from None
    return metrics[cfg.optimized_metric]


def _sets(overrides: list[str], key: str) -> bool:
    """Whether the command-line ``overrides`` assign ``key`` (``key=``, ``+key=``, ``++key=``)."""
    return any(o.split("=", 1)[0].lstrip("+") == key for o in overrides if "=" in o)


def _check_overrides(args: list[str]) -> None:
    """Compose the config from the plain overrides first, so an unknown key or group choice is one line
    and exit 2 (Hydra would print it with a footer and exit 1). Sweep values (``a=1,2``) and runs with
    Hydra flags other than -m are left to Hydra."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException, OverrideParseException

    from rlrec.runtime.compose import compose_or_exit

    if any(arg.startswith("-") and arg not in ("-m", "--multirun") for arg in args):
        return
    plain = [arg for arg in args if not arg.startswith("-")]
    try:
        parsed = OverridesParser.create().parse_overrides(plain)
    except OverrideParseException as error:
        print(f"rlrec train: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except HydraException:
        return
    keep = [arg for arg, override in zip(plain, parsed, strict=True) if not override.is_sweep_override()]
    # Hydra's own settings are Hydra's, except the config search path: it decides which choices exist
    keep = [
        arg for arg in keep if not arg.lstrip("+~").startswith("hydra.") or _sets([arg], "hydra.searchpath")
    ]
    compose_or_exit("train", keep)


def main(args: list[str]) -> int:
    """``rlrec train [overrides]``: Hydra reads the overrides (and -m, --cfg, --help) from sys.argv."""
    import hydra

    from rlrec.config import config_dir, register_configs

    register_configs()
    if os.environ.get("RLREC_DEBUG", "") not in ("", "0"):
        os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra then raises the error itself, traceback and all
    _check_overrides(args)
    sys.argv = [sys.argv[0], *args]
    hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")(hydra_task)()
    return 0
