"""How experience reaches Lightning: an IterableDataset over the agent's own collection loop."""

from __future__ import annotations

import itertools

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, IterableDataset


class StepTokens(IterableDataset):
    """Endless step numbers: the agent draws each training batch from its own experience loop when
    Lightning is about to train on it (``RecAgent.on_before_batch_transfer``), because Lightning
    fetches a DataLoader one batch ahead."""

    def __iter__(self):
        return iter(itertools.count())


class SimulatorDataModule(pl.LightningDataModule):
    """A training environment to learn in, and an evaluation environment over held-out users."""

    def __init__(self, train_env, eval_env, eval_seed: int) -> None:
        super().__init__()
        self.train_env = train_env
        self.eval_env = eval_env
        self.eval_seed = eval_seed

    def train_dataloader(self) -> DataLoader:
        # batch_size=None: one token per step; num_workers=0: the env steps with the live policy, so
        # it must run in this process.
        # generator=: a DataLoader iterator otherwise draws its base seed from torch's global RNG,
        # which the agent's exploration and replay sampling also use.
        return DataLoader(StepTokens(), batch_size=None, generator=torch.Generator())

    def val_dataloader(self) -> DataLoader:
        users: torch.Tensor = self.eval_env.eval_users
        # one batch: every evaluation user at once; own generator, so evaluating never moves the global RNG
        return DataLoader([users], batch_size=None, generator=torch.Generator())
