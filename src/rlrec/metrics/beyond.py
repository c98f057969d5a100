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


def exposure_gini(slates: Tensor, n_items: int) -> Tensor:
    """Gini coefficient of exposure: how unequally the recommendations of all slates are spread over
    the catalogue (0: every item shown equally often; near 1: a few items get everything). With c the
    per-item counts sorted ascending, G = 2 Σ_i i·c_(i) / (n Σ c) − (n + 1) / n, i = 1..n (a scalar;
    the popularity-bias figure of Abdollahpouri et al., 2019)."""
    if n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {n_items}")
    counts = torch.bincount(slates.reshape(-1).long(), minlength=n_items)[:n_items].double().sort().values
    if counts.sum() == 0:
        return torch.tensor(0.0)
    i = torch.arange(1, n_items + 1, dtype=torch.float64)
    gini = 2 * (i * counts).sum() / (n_items * counts.sum()) - (n_items + 1) / n_items
    return gini.float()


def slate_metrics(
    slates: Tensor, k: int, n_items: int, item_popularity: Tensor, item_vectors: Tensor
) -> dict[str, float]:
    """Beyond-accuracy figures of every slate an evaluation showed (``slates  # [N, k]``):
    ``coverage@k`` (catalogue share shown), ``novelty@k`` (mean self-information, popularity with add-one
    smoothing so an item nobody consumed in training is finite), ``ild@k`` (intra-list diversity under
    ``item_vectors``) and ``popularity_gini@k`` (exposure Gini)."""
    smoothed = item_popularity.double() + 1.0  # an item unseen in training: count 1, not infinite
    return {
        f"coverage@{k}": item_coverage_at_k(slates, n_items).item(),
        f"novelty@{k}": novelty(slates, smoothed).mean().item(),
        f"ild@{k}": intra_list_diversity(slates, item_vectors).mean().item(),
        f"popularity_gini@{k}": exposure_gini(slates, n_items).item(),
    }


def co_consumption_vectors(
    users: Tensor, items: Tensor, n_users: int, n_items: int, max_dense: int = 25_000_000, rank: int = 64
) -> Tensor:
    """``[n_items, d]`` item vectors whose cosine is the cosine of the items' user columns in the
    binary user × item matrix of (``users``, ``items``) pairs: a model-independent item similarity, so
    intra-list diversity compares across algorithms. Exact (d = n_users) while n_items × n_users ≤
    ``max_dense``; beyond, the top-``rank`` singular subspace (``torch.svd_lowrank``, seeded)."""
    pairs = torch.unique(users.long() * n_items + items.long())
    rows, columns = pairs % n_items, pairs // n_items  # item, user
    if n_items * n_users <= max_dense:
        matrix = torch.zeros(n_items, n_users)
        matrix[rows, columns] = 1.0
        return matrix
    sparse = torch.sparse_coo_tensor(
        torch.stack([rows, columns]), torch.ones(len(pairs)), (n_items, n_users), check_invariants=False
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        u, s, _ = torch.svd_lowrank(sparse.coalesce(), q=min(rank, n_items, n_users), niter=4)
    return u * s  # [n_items, rank]: X ≈ U S Vᵀ, so rows of U S keep the item-item inner products
