"""User-state encoders f(state): map an observed history of item vectors to one state vector."""

from __future__ import annotations

import torch
from torch import nn


class MeanHistoryState(nn.Module):
    """f(state) = MLP(mean of the last n item vectors in the history)."""

    def __init__(self, item_dim: int, out_dim: int, hidden_dim: int = 64, last_n: int = 10) -> None:
        super().__init__()
        self.last_n = last_n
        self.mlp = nn.Sequential(nn.Linear(item_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, out_dim))

    def forward(self, history_vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """history_vectors [B, H, d], mask [B, H] (right-aligned, newest last) -> state [B, out_dim]."""
        vectors, mask = history_vectors[:, -self.last_n :], mask[:, -self.last_n :].unsqueeze(-1).float()
        mean = (vectors * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # [B, d]
        return self.mlp(mean)
