"""The normalised dataset every loader produces (see DESIGN.md, Contracts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import torch

    from rlrec.data.synthetic import SyntheticWorld

EVENTS = ("view", "click", "cart", "purchase", "rate")
EVENT_DTYPE = pl.Enum(list(EVENTS))

INTERACTIONS_SCHEMA = {
    "user_id": pl.UInt32,
    "item_id": pl.UInt32,
    "timestamp": pl.Int64,
    "event": EVENT_DTYPE,
    "rating": pl.Float32,
    "text": pl.String,
}
ITEMS_SCHEMA = {"item_id": pl.UInt32, "title": pl.String, "text": pl.String, "category": pl.String}


@dataclass
class RecDataset:
    """Interactions and items with dense ids, the user split, and (for simulators) the true world."""

    name: str
    interactions: pl.DataFrame  # INTERACTIONS_SCHEMA, time-ordered per user
    items: pl.DataFrame  # ITEMS_SCHEMA, row i is item i
    train_users: torch.Tensor  # [n_train] long
    eval_users: torch.Tensor  # [n_eval] long
    cache_key: str  # hash of everything that determines the data
    world: SyntheticWorld | None = None  # ground truth, only where the data is simulated

    @property
    def n_users(self) -> int:
        return int(self.train_users.numel() + self.eval_users.numel())

    @property
    def n_items(self) -> int:
        return self.items.height

    def validate(self) -> None:
        """Fail loudly if a loader broke the contract: wrong columns or dtypes, or ids out of range."""
        for frame_name, frame, schema in (
            ("interactions", self.interactions, INTERACTIONS_SCHEMA),
            ("items", self.items, ITEMS_SCHEMA),
        ):
            got = dict(frame.schema)
            if got != schema:
                raise ValueError(f"dataset {self.name!r}: {frame_name} schema is {got}, expected {schema}")
        if self.interactions.height and int(self.interactions["item_id"].max()) >= self.n_items:
            raise ValueError(f"dataset {self.name!r}: an interaction names an item id >= n_items")
