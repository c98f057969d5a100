"""What every agent shares: the act/experience contract and evaluation on held-out users."""

from __future__ import annotations

from collections.abc import Iterator

import pytorch_lightning as pl
import torch

from rlrec.envs.base import Observation


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or inf: the run stops before the bad update reaches the weights."""


class RecAgent(pl.LightningModule):
    """A recommender policy trained by Lightning.

    Subclasses define ``act(obs, explore) -> slate [B, K]`` and ``experience(env)``, a generator of
    training batches gathered from the environment (fed to Lightning through ``ExperienceStream``).
    """

    def __init__(self, n_items: int, slate_size: int, mask_consumed: bool = False) -> None:
        super().__init__()
        self.n_items = n_items
        self.slate_size = slate_size
        self.mask_consumed = mask_consumed

    def consumed(self, obs: Observation) -> torch.Tensor:
        """[B, n_items] bool: the items in each user's observed history."""
        history, mask = obs["history"], obs["history_mask"]
        counts = torch.zeros(len(history), self.n_items, device=history.device)
        return counts.scatter_add_(1, history, mask.float()) > 0  # padding slots add 0

    def slate_from_scores(self, scores: torch.Tensor, obs: Observation) -> torch.Tensor:
        """The top-K items of ``scores [B, n_items]``, skipping consumed ones if ``mask_consumed``."""
        if self.mask_consumed:
            scores = scores.masked_fill(self.consumed(obs), float("-inf"))
        return scores.topk(self.slate_size, dim=1).indices  # [B, K]

    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        raise NotImplementedError

    def log(self, name: str, value, *args, **kwargs) -> None:
        """Lightning's ``log``, refusing a NaN or inf ``train/loss*`` term (the NaN guard, by name)."""
        if name.startswith("train/loss"):
            self._check_finite(name, value)
        super().log(name, value, *args, **kwargs)

    def on_before_backward(self, loss: torch.Tensor) -> None:
        """The total loss, whatever its terms were logged as, before it reaches the gradients."""
        self._check_finite("the training loss returned by training_step", loss)

    def _check_finite(self, term: str, value) -> None:
        value = torch.as_tensor(value).detach()
        if not torch.isfinite(value).all():
            raise NonFiniteLossError(
                f"non-finite loss at training step {self.global_step}: {term} = {value.float().mean().item()}; "
                "the run stops here and its checkpoints keep the last good weights (try a lower "
                "algorithm.lr or trainer.gradient_clip_val)"
            )

    def experience(self, env) -> Iterator[dict[str, torch.Tensor]]:
        raise NotImplementedError

    def to_device(self, obs: Observation) -> Observation:
        return {key: value.to(self.device) for key, value in obs.items()}

    def greedy_policy(self, obs: Observation) -> torch.Tensor:
        return self.act(self.to_device(obs), explore=False).cpu()

    def validation_step(self, users: torch.Tensor, batch_idx: int) -> None:
        """The evaluation environment's own protocol (simulated returns beside uniform-random and
        reference policies, or logged replay), on held-out users with a fixed environment seed."""
        datamodule = self.trainer.datamodule
        env, seed = datamodule.eval_env, datamodule.eval_seed
        metrics = env.evaluate(self.greedy_policy, users.cpu(), seed)
        self.log_dict({f"eval/{name}": value for name, value in metrics.items()}, batch_size=len(users))
