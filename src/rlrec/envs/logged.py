"""Per-user logged sequences as flat tensors, shared by the environments built on real logs.

Every user's interactions sit in one flat, user-major, time-ordered array (CSR layout: ``start`` and
``length`` per user), so a batch of users at a batch of positions is one gather, never a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import torch

from rlrec.data.schema import EVENTS, SPLITS

# What each logged event counts as when the recommended slate held its item.
EVENT_BEHAVIOUR = {"view": "click", "click": "click", "rate": "click", "cart": "cart", "purchase": "purchase"}


def _long(series: pl.Series) -> torch.Tensor:
    return torch.from_numpy(series.cast(pl.Int64).to_numpy().copy())


@dataclass
class UserSequences:
    """Each user's interactions in time order: row ``start[u] + p`` is user u's p-th interaction."""

    item: torch.Tensor  # [N] long
    event: torch.Tensor  # [N] long, index into rlrec.data.schema.EVENTS
    rating: torch.Tensor  # [N] float, NaN where the interaction has none
    split: torch.Tensor  # [N] long, index into rlrec.data.schema.SPLITS
    text: list[str | None] | None  # [N] feedback texts, None when the log has none at all
    start: torch.Tensor  # [n_users] long, first row of each user
    length: torch.Tensor  # [n_users] long, 0 for a user without rows

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, n_users: int) -> UserSequences:
        """``frame``: interactions (RecDataset schema, with or without ``split``) of any subset of users."""
        frame = frame.sort(["user_id", "timestamp"], maintain_order=True)  # stable: ties keep log order
        users = _long(frame["user_id"])
        length = torch.bincount(users, minlength=n_users)
        start = length.cumsum(0) - length
        split = (
            _long(frame["split"].to_physical())
            if "split" in frame.columns
            else torch.zeros(frame.height, dtype=torch.long)
        )
        texts = frame["text"]
        return cls(
            item=_long(frame["item_id"]),
            event=_long(frame["event"].to_physical()),
            rating=torch.from_numpy(
                frame["rating"].cast(pl.Float32).fill_null(float("nan")).to_numpy().copy()
            ),
            split=split,
            text=texts.to_list() if texts.null_count() < frame.height else None,
            start=start,
            length=length,
        )

    def rows(self, users: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        """Flat row of each user's interaction at ``position`` (clamped into the user's range)."""
        last = (self.length[users] - 1).clamp(min=0)
        return self.start[users] + torch.minimum(position.clamp(min=0), last)

    def window(
        self, users: torch.Tensor, position: torch.Tensor, size: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``size`` items before ``position`` (exclusive), right-aligned: ids [B, size], mask [B, size]."""
        offset = position[:, None] - size + torch.arange(size)  # [B, size] positions in each sequence
        mask = offset >= 0
        rows = self.start[users][:, None] + offset.clamp(min=0)
        items = self.item[rows.clamp(max=len(self.item) - 1)]  # masked slots read any row, then 0
        return torch.where(mask, items, torch.zeros_like(items)), mask

    def earlier_items(self, users: torch.Tensor, position: torch.Tensor, n_items: int) -> torch.Tensor:
        """[B, n_items] bool: every item of each user's sequence before ``position`` (exclusive), however
        far back. One scatter over exactly Σ position rows, no [B, max length] padding."""
        counts = position.clamp(min=0)
        counts = torch.minimum(counts, self.length[users])
        owner = torch.repeat_interleave(torch.arange(len(users)), counts)  # [Σ counts] row of the batch
        first = torch.repeat_interleave(counts.cumsum(0) - counts, counts)
        offset = torch.arange(len(owner)) - first  # position within the user's sequence
        items = self.item[self.start[users][owner] + offset]
        consumed = torch.zeros(len(users), n_items, dtype=torch.bool)
        consumed[owner, items] = True
        return consumed

    def behaviour_codes(self, tasks: tuple[str, ...]) -> torch.Tensor:
        """[len(EVENTS)] long: for each event code, the index in ``tasks`` of the behaviour it counts as
        (-1 for an event whose behaviour is not among ``tasks``)."""
        return torch.tensor(
            [tasks.index(b) if (b := EVENT_BEHAVIOUR[event]) in tasks else -1 for event in EVENTS]
        )

    def texts(self, rows: torch.Tensor, keep: torch.Tensor) -> list[str | None] | None:
        """The feedback text of each row where ``keep`` [B] holds, else None; None if the log has no text."""
        if self.text is None:
            return None
        return [
            self.text[row] if kept else None for row, kept in zip(rows.tolist(), keep.tolist(), strict=True)
        ]


def behaviours_in(frame: pl.DataFrame) -> tuple[str, ...]:
    """The replay behaviours a log produces, in the order click, cart, purchase (click always)."""
    events = set(frame["event"].cast(pl.String).unique().to_list())
    return ("click", *(task for task in ("cart", "purchase") if task in events))


def split_code(name: str) -> int:
    return SPLITS.index(name)
