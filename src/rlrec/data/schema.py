"""The normalised dataset every loader produces (see DESIGN.md, Contracts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import torch

    from rlrec.data.synthetic import SyntheticWorld

EVENTS = ("view", "click", "cart", "purchase", "rate")
EVENT_DTYPE = pl.Enum(list(EVENTS))
SPLITS = ("train", "valid", "test", "history")  # history: a held-out user's context rows (cold_users)
SPLIT_DTYPE = pl.Enum(list(SPLITS))

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
    """Interactions and items with dense ids, their split, and (for simulators) the true world."""

    name: str
    interactions: pl.DataFrame  # INTERACTIONS_SCHEMA + split (SPLIT_DTYPE), time-ordered per user
    items: pl.DataFrame  # ITEMS_SCHEMA first (more columns may follow); row i is item i
    n_users: int  # user ids are 0..n_users-1
    train_users: torch.Tensor  # [n_train] long: users whose episodes train the agent
    eval_users: torch.Tensor  # [n_eval] long: users held out for evaluation
    cache_key: str  # hash of everything that determines the data
    world: SyntheticWorld | None = None  # ground truth, only where the data is simulated
    stats: dict = field(default_factory=dict)  # what `rlrec data prepare` prints
    users: pl.DataFrame | None = None  # user_id and the format's user features, where it has them
    cache_entry: Path | None = None  # the prepared-dataset cache folder, where there is one
    from_cache: bool = False  # True when this load read cache_entry instead of the raw files

    @property
    def n_items(self) -> int:
        return self.items.height

    def split(self, name: str) -> pl.DataFrame:
        """The interactions of one split (``train``, ``valid`` or ``test``), time-ordered per user."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {SPLITS}")
        return self.interactions.filter(pl.col("split") == name).drop("split")

    def validate(self) -> None:
        """Fail loudly if a loader broke the contract: wrong columns or dtypes, or ids out of range."""
        expected = {"interactions": {**INTERACTIONS_SCHEMA, "split": SPLIT_DTYPE}, "items": ITEMS_SCHEMA}
        for frame_name, frame in (("interactions", self.interactions), ("items", self.items)):
            got = {column: dtype for column, dtype in frame.schema.items() if column in expected[frame_name]}
            if got != expected[frame_name] or list(frame.columns[: len(got)]) != list(expected[frame_name]):
                raise ValueError(
                    f"dataset {self.name!r}: {frame_name} schema is {dict(frame.schema)}, "
                    f"expected {expected[frame_name]} first"
                )
        if not self.items["item_id"].equals(pl.Series("item_id", range(self.n_items), dtype=pl.UInt32)):
            raise ValueError(f"dataset {self.name!r}: items must be rows 0..n_items-1 in item_id order")
        if self.interactions.height:
            if int(self.interactions["item_id"].max()) >= self.n_items:
                raise ValueError(f"dataset {self.name!r}: an interaction names an item id >= n_items")
            if int(self.interactions["user_id"].max()) >= self.n_users:
                raise ValueError(f"dataset {self.name!r}: an interaction names a user id >= n_users")
