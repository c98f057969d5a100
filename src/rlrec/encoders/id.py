"""Learned item-id embeddings: the baseline item tower."""

from __future__ import annotations

import torch
from torch import nn


class IdItemEncoder(nn.Module):
    """g(item) = E[item], a learned vector per item id (the baseline the text encoders must beat)."""

    def __init__(self, n_items: int, dim: int = 32, name: str = "id") -> None:
        super().__init__()
        self.name = name
        self.dim = dim
        self.embedding = nn.Embedding(n_items, dim)
        nn.init.normal_(self.embedding.weight, std=0.1)

    def forward(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """Vectors of ``items`` (any shape) -> [..., dim]; all items -> [n_items, dim]."""
        return self.embedding.weight if items is None else self.embedding(items)
