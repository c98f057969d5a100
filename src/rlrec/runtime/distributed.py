"""Distributed runs: which rank this process is, and starting the ranks of a one-machine DDP run.

Lightning starts the other ranks of a DDP run itself by re-running the command line; under Hydra it
rebuilds that command from ``hydra.run.dir``, which in a ``-m`` sweep is not the job's folder, and
reruns the sweep arguments, so each rank makes its own output folders (Lightning issue #11300 and
its Hydra notes). rlrec starts them itself instead, the way ``torchrun`` does: rank 0 is this
process; ranks 1..n-1 run ``python -m rlrec.rank_worker <config>`` with the fully resolved
config of this run (so the same run folder, nothing re-composed) and the standard variables
``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE``, ``NODE_RANK``, ``LOCAL_RANK``. Lightning then sees
processes that were launched for it and joins them (its ``LightningEnvironment``).

Under SLURM (one task per device, ``conf/hydra/launcher/slurm_ddp.yaml``) or ``torchrun`` the
cluster has already started every rank and nothing is launched here.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


def process_rank() -> int:
    """This process's global rank, known before any Trainer exists (from RANK, SLURM_PROCID or
    LOCAL_RANK, as Lightning reads it at import): 0 outside distributed runs."""
    from lightning_fabric.utilities.rank_zero import rank_zero_only

    return int(getattr(rank_zero_only, "rank", 0))


def device_count(trainer_cfg: DictConfig) -> int:
    """How many processes one machine runs for ``trainer.devices`` (an int, a list of device ids,
    or ``auto`` / -1 for every GPU)."""
    devices = trainer_cfg.devices
    if isinstance(devices, str) and devices != "auto":
        devices = [d for d in devices.split(",") if d.strip()] if "," in devices else int(devices)
    if devices == "auto" or devices == -1:
        import torch

        on_gpu = trainer_cfg.accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available()
        return torch.cuda.device_count() if on_gpu else 1
    if not isinstance(devices, int):
        return len(devices)
    if devices < 1:
        raise ValueError(f"trainer.devices must be a positive number, a list or 'auto', got {devices}")
    return devices


def _launched_by_a_cluster() -> bool:
    """SLURM (batch tasks), torchrun, or an earlier launcher already started every rank."""
    from lightning_fabric.plugins.environments import SLURMEnvironment, TorchElasticEnvironment

    return "LOCAL_RANK" in os.environ or SLURMEnvironment.detect() or TorchElasticEnvironment.detect()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalRanks:
    """Ranks 1..n-1 of a one-machine DDP run, started by ``start_local_ranks``."""

    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    config_file: Path | None = None
    saved_environment: dict[str, str | None] = field(default_factory=dict)  # rank 0's variables before
    watching: bool = False  # the watcher thread runs while rank 0 trains
    failure: str | None = None  # what the watcher saw: a rank that ended while rank 0 trained
    ended: bool = False

    def _ranks(self):
        """(rank, process, its log) for ranks 1..n-1."""
        return zip(range(1, len(self.processes) + 1), self.processes, self.logs, strict=True)

    def _end(self) -> None:
        """Remove the config file and give this process its environment back: the next job of a
        sweep run in this process must not believe it is a rank of this run."""
        self.ended = True
        if self.config_file is not None:
            self.config_file.unlink(missing_ok=True)
        for name, value in self.saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.saved_environment.clear()

    def watch(self) -> None:
        """If a rank dies while rank 0 trains, rank 0 would wait for it in a collective until the
        process group's timeout (30 minutes): a watcher thread interrupts rank 0 instead, naming the
        rank's log, and ends the process if it is still stuck a minute later."""
        import _thread
        import threading
        import time

        def watch() -> None:
            while self.watching:
                for rank, process, log_path in self._ranks():
                    code = process.poll()
                    if code not in (None, 0) and self.watching:
                        self.failure = f"DDP rank {rank} ended with {code} (its log: {log_path})"
                        log.error(f"{self.failure}; stopping rank 0")
                        _thread.interrupt_main()
                        time.sleep(60)
                        if not self.ended:  # stuck in a collective that waits for the dead rank
                            os._exit(1)
                        return
                time.sleep(1.0)

        self.watching = True
        threading.Thread(target=watch, name="rlrec-ddp-ranks", daemon=True).start()

    def wait(self, timeout: float = 600) -> None:
        """Wait for every rank; a rank that failed is an error naming its log."""
        self.watching = False
        failed = []
        for rank, process, log_path in self._ranks():
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                code = "timeout"
            if code != 0:
                failed.append(f"rank {rank} ended with {code} (its log: {log_path})")
        self._end()
        if failed:
            raise RuntimeError("; ".join(failed))

    def stop(self) -> None:
        """Rank 0 failed: note a rank that had already ended badly (often the cause), end the rest."""
        self.watching = False
        for rank, process, log_path in self._ranks():
            code = process.poll()
            if code not in (None, 0) and self.failure is None:
                self.failure = f"DDP rank {rank} ended with {code} (its log: {log_path})"
            if code is None:
                process.kill()
        self._end()


def start_local_ranks(cfg: DictConfig, run_dir: Path) -> LocalRanks:
    """For ``trainer.strategy=ddp*`` with several devices on this machine, started by nobody else:
    start ranks 1..n-1 (their logs: ``<run>/rank_<r>.log``) and make this process rank 0."""
    trainer_cfg = cfg.trainer
    ranks = LocalRanks()
    if not str(trainer_cfg.strategy).startswith("ddp") or _launched_by_a_cluster():
        return ranks
    if trainer_cfg.num_nodes > 1:
        raise ValueError(
            f"trainer.num_nodes={trainer_cfg.num_nodes}: a multi-node run needs its processes started by "
            "the cluster: submit it with hydra/launcher=slurm_ddp (docs/cluster.md) or start it with torchrun"
        )
    n = device_count(trainer_cfg)
    if n < 2:
        return ranks
    if trainer_cfg.strategy != "ddp":
        raise ValueError(
            f"trainer.strategy={trainer_cfg.strategy!r}: rlrec starts the ranks of a one-machine run "
            "itself, so use strategy=ddp (trainer=ddp)"
        )
    variables = {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
        "WORLD_SIZE": str(n),
        "NODE_RANK": "0",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="rlrec-ranks-", delete=False) as file:
        file.write(OmegaConf.to_yaml(cfg, resolve=True))  # the run's own folder, seed, everything
    ranks.config_file = Path(file.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    for rank in range(1, n):
        log_path = run_dir / f"rank_{rank}.log"
        env = {**os.environ, **variables, "LOCAL_RANK": str(rank)}
        with log_path.open("w") as out:
            command = [sys.executable, "-m", "rlrec.rank_worker", str(ranks.config_file)]
            ranks.processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
        ranks.logs.append(log_path)
    ranks.watch()
    mine = {**variables, "LOCAL_RANK": "0"}  # Lightning in this process: rank 0 of n
    ranks.saved_environment = {name: os.environ.get(name) for name in mine}
    os.environ.update(mine)
    log.info(f"DDP on this machine: started ranks 1..{n - 1} (logs: {run_dir}/rank_<r>.log)")
    return ranks
