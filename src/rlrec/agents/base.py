"""What every agent shares: the act/experience contract, resumable experience, evaluation on held-out users.

Training batches come from the agent's collector (``self.collector``, agents/collect.py), drawn when
Lightning is about to train on one (``on_before_batch_transfer``), not inside the DataLoader:
Lightning fetches a DataLoader one batch ahead, so experience collected there would act with the
weights of the step before and a checkpoint would lose the batch fetched in advance. Drawn here,
the collector has made exactly ``global_step`` batches whenever a checkpoint is written.

A checkpoint stores the collector (its loop state, replay buffer and latest collection reward:
``Collector.state_dict``) with the training environment's episode and RNG (``RecEnv.state_dict``)
and torch's global RNG (exploration, replay sampling, dropout), so a resumed run continues with
the same batches as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytorch_lightning as pl
import torch

from rlrec.agents.collect import Collector
from rlrec.envs.base import Observation


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or inf: the run stops before the bad update reaches the weights."""


class RecAgent(pl.LightningModule):
    """A recommender policy trained by Lightning.

    Subclasses define ``act(obs, explore) -> slate [B, K]`` and, if they train, a collector
    (``self.collector``, agents/collect.py) whose batches ``experience(env)`` returns, drawn by
    ``on_before_batch_transfer``.
    """

    def __init__(self, n_items: int, slate_size: int, mask_consumed: bool = False) -> None:
        super().__init__()
        self.n_items = n_items
        self.slate_size = slate_size
        self.mask_consumed = mask_consumed
        self.collector: Collector | None = None  # where training batches come from (agents/collect.py)
        self._experience: Iterator[dict[str, torch.Tensor]] | None = None
        self._restored_experience: dict | None = None
        self.unseen_items: torch.Tensor | None = None  # [n_items] bool: items the training log never holds

    def note_training_catalogue(self, env) -> None:
        """Remember which items the environment's training log never holds (``env.trained_items``, the
        replay env's; cold items under split.method=cold_items), for ``training_logits``."""
        trained = getattr(env, "trained_items", None)
        self.unseen_items = None if trained is None or bool(trained.all()) else ~trained

    def training_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """``logits [N, n_items]`` of a training softmax without the never-trained items: an item absent
        from the training log is no negative either (at training time it does not exist), so neither
        its bias nor its text region is pushed down for being absent, and a cold item is ranked at
        evaluation by what it shares with the items that were trained."""
        if self.unseen_items is None:
            return logits
        return logits.masked_fill(self.unseen_items.to(logits.device), float("-inf"))

    def calibrates_cold(self, item_tower: torch.nn.Module, how: str) -> bool:
        """Whether ``cold_calibrated`` changes any score: standardize, untrained items, a text tower."""
        return how == "standardize" and self.unseen_items is not None and hasattr(item_tower, "encode_texts")

    def cold_calibrated(self, scores: torch.Tensor, item_tower: torch.nn.Module, how: str) -> torch.Tensor:
        """``scores [B, n_items]`` as ``algorithm.cold_scores`` says: ``raw`` as they are;
        ``standardize``: the never-trained items' scores on the trained items' scale
        (towers.standardize_untrained), when the item tower places items by text (an id tower's
        untrained rows are their random initial draw: nothing to calibrate, the scores stay raw)."""
        if not self.calibrates_cold(item_tower, how):
            return scores
        from rlrec.agents.towers import standardize_untrained

        return standardize_untrained(scores, self.unseen_items)

    def consumed(self, obs: Observation) -> torch.Tensor:
        """[B, n_items] bool: the items each user interacted with before this step. That is the whole
        earlier sequence where the environment provides it (``obs["consumed"]``: the replay protocol's
        evaluation), else the items of the observed history window."""
        if "consumed" in obs:
            return obs["consumed"]
        history, mask = obs["history"], obs["history_mask"]
        counts = torch.zeros(len(history), self.n_items, device=history.device)
        return counts.scatter_add_(1, history, mask.float()) > 0  # padding slots add 0

    def excluded(self, obs: Observation) -> torch.Tensor | None:
        """[B, n_items] bool of items the slate must not hold, or None: the environment's protocol
        (``obs["exclude"]``, e.g. the replay env's ``mask_history``) or, with ``mask_consumed``, the
        agent's own choice to skip what the user already consumed (``consumed``)."""
        if "exclude" in obs:
            return obs["exclude"]
        return self.consumed(obs) if self.mask_consumed else None

    def slate_from_scores(self, scores: torch.Tensor, obs: Observation) -> torch.Tensor:
        """The top-K items of ``scores [B, n_items]``, never an ``excluded`` one."""
        excluded = self.excluded(obs)
        if excluded is not None:
            scores = scores.masked_fill(excluded, float("-inf"))
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
        """The training batches: the collector's (agents/collect.py)."""
        if self.collector is None:
            raise NotImplementedError(f"{type(self).__name__} has no collector: it does not train")
        return self.collector.batches(env)

    @property
    def collection(self) -> dict:
        """The collector's loop state between batches (``Collector.state``)."""
        return self.collector.state if self.collector is not None else {}

    @collection.setter
    def collection(self, state: dict) -> None:
        self.collector.state = state

    @property
    def collect_reward(self) -> float:
        """The mean reward of the latest collection step (logged as train/collect_reward)."""
        return self.collector.collect_reward if self.collector is not None else 0.0

    # -- resumable experience (see the module docstring) ----------------------------------------------
    def on_before_batch_transfer(self, batch, dataloader_idx: int):
        """In training, the DataLoader yields only step tokens: the batch is drawn here."""
        if not self.trainer.training:
            return batch
        if self._experience is None:
            env = self.trainer.datamodule.train_env
            if self._restored_experience is not None:
                self._restore_experience(env, self._restored_experience)
            self._experience = iter(self.experience(env))
        return next(self._experience)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        if self._experience is None:  # nothing collected yet: a resumed run starts the loop afresh
            return
        state = {
            "collector": self.collector.state_dict(),
            "env": self.trainer.datamodule.train_env.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
        }
        every_rank = [state]
        if self.trainer.world_size > 1:  # each rank has its own users, env, buffer and RNG
            import torch.distributed as dist

            every_rank = [None] * self.trainer.world_size
            dist.all_gather_object(every_rank, state)
        checkpoint["experience"] = every_rank  # one state per rank

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        every_rank = checkpoint.get("experience")
        trainer = self._trainer  # None when loaded outside a fit
        if every_rank is None or trainer is None:
            return
        if len(every_rank) != trainer.world_size:
            import logging

            logging.getLogger(__name__).warning(
                f"the checkpoint was written by a run of {len(every_rank)} rank(s), this one has "
                f"{trainer.world_size}: the weights and optimiser resume, experience collection starts afresh"
            )
            return
        self._restored_experience = every_rank[trainer.global_rank]

    def _restore_experience(self, env, state: dict) -> None:
        env.load_state_dict(state["env"])
        self.collector.load_state_dict(state["collector"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])

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
        if self.trainer.world_size > 1:  # each rank judged its own users: the means over all of them
            from rlrec.metrics.torchmetrics import UserWeightedMeans

            over_ranks = UserWeightedMeans(sorted(metrics)).to(self.device)
            over_ranks.update(metrics, len(users))
            metrics = over_ranks.compute()
        self.log_dict({f"eval/{name}": value for name, value in metrics.items()}, batch_size=len(users))
