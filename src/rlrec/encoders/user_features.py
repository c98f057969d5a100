"""Users' own features as an input of the state encoders (``state_encoder.user_features``).

Where a dataset has a user table (MovieLens 100K and 1M: gender, age bucket, occupation, zip), each
named column is read as categorical: its distinct values get codes 1..C in sorted order, 0 for a
user the table lacks or a missing value. A state encoder adds Σ_f E_f[code_f(user)] (one learned
embedding table of width ``algorithm.hidden_dim`` per feature) to the inputs of its output MLP, so
f(state) = MLP([summary(history); profile; Σ_f E_f[code_f(u)]]). The codes are fixed at
construction (a buffer saved with the checkpoint).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import torch
from torch import nn


def user_feature_codes(
    users: pl.DataFrame | None, columns: Sequence[str], n_users: int, dataset: str
) -> torch.Tensor:
    """[n_users, len(columns)] long codes of each user's value of each column (0 = unknown)."""
    if users is None:
        raise ValueError(
            f"state_encoder.user_features={list(columns)}: dataset {dataset!r} has no user table "
            "(MovieLens 100K and 1M have one: gender, age, occupation, zip)"
        )
    missing = [c for c in columns if c not in users.columns or c == "user_id"]
    if missing:
        available = [c for c in users.columns if c not in ("user_id", "key", "user_key")]
        raise ValueError(
            f"state_encoder.user_features names {missing}, not columns of dataset {dataset!r}'s user "
            f"table; it has {available}"
        )
    codes = torch.zeros(n_users, len(columns), dtype=torch.long)
    ids = torch.from_numpy(users["user_id"].cast(pl.Int64).to_numpy().copy())
    for j, column in enumerate(columns):
        values = users[column].cast(pl.String)
        names = values.drop_nulls().unique().sort()
        code = values.replace_strict(names, range(1, len(names) + 1), default=0, return_dtype=pl.Int64)
        codes[ids, j] = torch.from_numpy(code.fill_null(0).to_numpy().copy())
    return codes


class UserFeatureEmbedding(nn.Module):
    """users [B] -> Σ_f E_f[code_f(user)] [B, dim]."""

    def __init__(self, codes: torch.Tensor, dim: int) -> None:
        super().__init__()
        self.register_buffer("codes", codes)  # [n_users, F]
        sizes = (codes.max(0).values + 1).tolist() if codes.numel() else []
        self.tables = nn.ModuleList(nn.Embedding(int(size), dim) for size in sizes)

    def forward(self, users: torch.Tensor) -> torch.Tensor:
        codes = self.codes[users]  # [B, F]
        return torch.stack([table(codes[:, j]) for j, table in enumerate(self.tables)]).sum(0)
