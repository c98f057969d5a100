"""Lightning callbacks of every run: the final evaluation and preemption by a signal."""

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
    one endless epoch) and also calls any handler installed before it, which may exit at once. So
    outside SLURM both signals are taken here. Under SLURM, Lightning's own handlers stay: SIGUSR1
    saves an HPC checkpoint and requeues the job (``SLURMEnvironment(auto_requeue=True)``).
    """

    def __init__(self) -> None:
        self.received = False
        self._previous: dict[int, object] = {}  # the handlers to put back when fit ends

    def on_fit_start(self, trainer, pl_module) -> None:
        from lightning_fabric.plugins.environments import SLURMEnvironment

        if SLURMEnvironment.detect():
            return
        for name in ("SIGTERM", "SIGUSR1"):
            if hasattr(signal, name):
                signum = getattr(signal, name)
                self._previous[signum] = signal.signal(signum, self._on_signal)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _on_signal(self, signum, frame) -> None:
        log.warning(f"received signal {signum}: stopping after this training step")
        self.received = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.received_sigterm or self.received:
            self.received = True
            trainer.should_stop = True
