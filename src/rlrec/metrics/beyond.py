"""Beyond-accuracy metrics of recommended slates ``[B, k]`` (item ids)."""

from __future__ import annotations

import torch
from torch import Tensor


def item_coverage_at_k(slates: Tensor, n_items: int) -> Tensor:
    """Share of the catalogue recommended to at least one user: distinct items / n_items (a scalar;
    "catalog coverage", Ge et al., RecSys 2010)."""
    if n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {n_items}")
    return torch.tensor(slates.reshape(-1).unique().numel() / n_items, dtype=torch.float32)


def novelty(slates: Tensor, item_popularity: Tensor) -> Tensor:
    """Mean self-information ``-log2 p(item)`` of each slate's items, with ``p`` the popularity
    normalised to sum to 1 (Zhou et al., PNAS 2010, eq. 3). Rarely consumed items are novel. ``-> [B]``

    ``item_popularity  # [n_items]`` holds counts or probabilities; a recommended item with zero
    popularity has infinite self-information, so it is an error, not a silent inf.
    """
    popularity = item_popularity.double()
    if (popularity < 0).any() or popularity.sum() <= 0:
        raise ValueError("item_popularity must be non-negative with a positive sum")
    p = (popularity / popularity.sum())[slates.long()]  # [B, k]
    if (p == 0).any():
        raise ValueError("a recommended item has zero popularity: its novelty -log2 p is infinite")
    return (-torch.log2(p)).mean(dim=1).float()


def intra_list_diversity(slates: Tensor, item_vectors: Tensor) -> Tensor:
    """1 − mean pairwise cosine similarity of the items within each slate (Ziegler et al., WWW 2005).
    A slate with fewer than two items has no pairs and diversity 0. ``-> [B]``"""
    k = slates.shape[1]
    if k < 2:
        return torch.zeros(slates.shape[0])
    vectors = torch.nn.functional.normalize(item_vectors.float()[slates.long()], dim=-1)  # [B, k, d]
    cosine = vectors @ vectors.transpose(1, 2)  # [B, k, k]
    off_diagonal = cosine.sum(dim=(1, 2)) - cosine.diagonal(dim1=1, dim2=2).sum(dim=1)
    return 1.0 - off_diagonal / (k * (k - 1))
