"""Lightning callbacks of every run: the final evaluation, preemption by a signal, the DDP replica check."""

from __future__ import annotations

import logging
import signal

from pytorch_lightning.callbacks import Callback

log = logging.getLogger(__name__)


class EvaluateAtTheEnd(Callback):
    """Stop at max_steps through ``should_stop``, which makes Lightning run the evaluation there too
    (inside fit, so the best-checkpoint callback sees it) when max_steps % eval_every != 0."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step >= trainer.max_steps:
            trainer.should_stop = True


class Preemption(Callback):
    """SIGTERM or SIGUSR1 -> finish the current step, checkpoint, exit cleanly (outside SLURM).

    Lightning notices SIGTERM itself but acts on it only at an epoch's end (our experience stream is
    one endless epoch), and under DDP its handler broadcasts from inside the signal handler, out of
    step with the other ranks' collectives. So outside SLURM both signals are taken here, once
    training starts (after Lightning has installed its handlers), and under DDP a signal to any rank
    stops every rank after the same step. Under SLURM, Lightning's own handlers stay: SIGUSR1 saves an
    HPC checkpoint and requeues the job (``SLURMEnvironment(auto_requeue=True)``).
    """

    def __init__(self) -> None:
        self.received = False
        self._previous: dict[int, object] = {}  # the handlers to put back when fit ends

    def on_train_start(self, trainer, pl_module) -> None:
        from lightning_fabric.plugins.environments import SLURMEnvironment

        if SLURMEnvironment.detect():
            return
        for name in ("SIGTERM", "SIGUSR1"):
            if hasattr(signal, name):
                signum = getattr(signal, name)
                self._previous[signum] = signal.signal(signum, self._on_signal)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        for signum, handler in self._previous.items():
            if signal.getsignal(signum) == self._on_signal:  # unless Lightning has restored its own first
                signal.signal(signum, handler)
        self._previous.clear()

    def _on_signal(self, signum, frame) -> None:
        log.warning(f"received signal {signum}: stopping after this training step")
        self.received = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        stop = trainer.received_sigterm or self.received
        if trainer.world_size > 1:  # a signal to any rank stops them all at the same step
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop:
            self.received = True
            trainer.should_stop = True


class ReplicaCheck(Callback):
    """At the end of a distributed fit: the largest difference between any rank's parameters and
    rank 0's (DDP keeps them equal; summary.json reports it under ``distributed``)."""

    def __init__(self) -> None:
        self.max_difference: float | None = None

    def on_train_end(self, trainer, pl_module) -> None:
        import torch

        if trainer.world_size < 2:
            return
        flat = torch.cat([p.detach().float().flatten() for p in pl_module.parameters()])
        every_rank = pl_module.all_gather(flat)  # [world_size, n]
        self.max_difference = float((every_rank - every_rank[0]).abs().max())
