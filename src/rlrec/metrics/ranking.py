"""Top-K ranking metrics over full-catalogue scores, one value per user.

Inputs: ``scores  # [B, n_items]``, the held-out ``targets  # [B]`` (or, for precision and recall, a
multi-hot ``relevant  # [B, n_items]``), and an optional ``seen  # [B, n_items]`` bool mask of items
the user already interacted with. Seen items can never be recommended (their score becomes -inf),
except the target / relevant items themselves, which are never masked.

Ties are broken pessimistically: an item's rank is the number of items scoring at least as high as
it, itself included, so ``rank = 1 + #{j != i : s_j >= s_i}``. A model that scores every item the
same therefore ranks each target last, never first; optimistic tie-breaking inflates such models
(Sun et al., "Are We Evaluating Rigorously?", RecSys 2020, §4.3). The rule is deterministic and
does not depend on item ids. K larger than the catalogue is clamped to ``n_items``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _relevance(targets: Tensor, n_items: int) -> Tensor:
    """A bool ``[B, n_items]`` relevance mask from targets ``[B]`` (ids) or ``[B, n_items]`` (multi-hot)."""
    if targets.dim() == 1:
        relevant = torch.zeros(targets.shape[0], n_items, dtype=torch.bool, device=targets.device)
        return relevant.scatter_(1, targets.long().unsqueeze(1), True)
    if targets.dim() == 2 and targets.shape[1] == n_items:
        return targets.bool()
    raise ValueError(
        f"targets must be item ids [B] or multi-hot [B, {n_items}], got shape {tuple(targets.shape)}"
    )


def _masked(scores: Tensor, relevant: Tensor, seen: Tensor | None) -> Tensor:
    """Scores with seen, non-relevant items set to -inf so they are never recommended."""
    if seen is None:
        return scores
    if seen.shape != scores.shape:
        raise ValueError(f"seen mask shape {tuple(seen.shape)} != scores shape {tuple(scores.shape)}")
    return scores.masked_fill(seen.bool() & ~relevant, float("-inf"))


def _clamp_k(k: int, n_items: int) -> int:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return min(k, n_items)


def pessimistic_ranks(scores: Tensor) -> Tensor:
    """The pessimistic 1-based rank of every item: how many items score >= it. ``[B, n] -> [B, n]``."""
    ascending = scores.sort(dim=1).values
    n_items = scores.shape[1]
    return n_items - torch.searchsorted(ascending.contiguous(), scores.contiguous(), side="left")


def target_ranks(scores: Tensor, targets: Tensor, seen: Tensor | None = None) -> Tensor:
    """The pessimistic rank of each user's target item after masking. ``-> LongTensor[B]``."""
    relevant = _relevance(targets, scores.shape[1])
    masked = _masked(scores, relevant, seen)
    target_scores = masked.gather(1, targets.long().unsqueeze(1))  # [B, 1]
    return (masked >= target_scores).sum(dim=1)


def hit_rate_at_k(scores: Tensor, targets: Tensor, k: int, seen: Tensor | None = None) -> Tensor:
    """1 if the target is among the top K, else 0. ``-> [B]``"""
    k = _clamp_k(k, scores.shape[1])
    return (target_ranks(scores, targets, seen) <= k).float()


def ndcg_at_k(scores: Tensor, targets: Tensor, k: int, seen: Tensor | None = None) -> Tensor:
    """NDCG@K with one relevant item: ``1 / log2(rank + 1)`` if rank <= K, else 0 (the ideal DCG is 1;
    Järvelin & Kekäläinen, ACM TOIS 2002). ``-> [B]``"""
    k = _clamp_k(k, scores.shape[1])
    rank = target_ranks(scores, targets, seen).float()
    return torch.where(rank <= k, 1.0 / torch.log2(rank + 1.0), torch.zeros_like(rank))


def mrr_at_k(scores: Tensor, targets: Tensor, k: int, seen: Tensor | None = None) -> Tensor:
    """Reciprocal rank of the target, 0 beyond K. ``-> [B]``"""
    k = _clamp_k(k, scores.shape[1])
    rank = target_ranks(scores, targets, seen).float()
    return torch.where(rank <= k, 1.0 / rank, torch.zeros_like(rank))


def _hits(scores: Tensor, targets: Tensor, k: int, seen: Tensor | None) -> tuple[Tensor, Tensor]:
    """(relevant items ranked within the top K, number of relevant items), both ``[B]``."""
    relevant = _relevance(targets, scores.shape[1])
    ranks = pessimistic_ranks(_masked(scores, relevant, seen))
    hits = (relevant & (ranks <= k)).sum(dim=1).float()
    return hits, relevant.sum(dim=1).float()


def precision_at_k(scores: Tensor, targets: Tensor, k: int, seen: Tensor | None = None) -> Tensor:
    """Relevant items in the top K, divided by K (K clamped to n_items). ``-> [B]``"""
    k = _clamp_k(k, scores.shape[1])
    hits, _ = _hits(scores, targets, k, seen)
    return hits / k


def recall_at_k(scores: Tensor, targets: Tensor, k: int, seen: Tensor | None = None) -> Tensor:
    """Relevant items in the top K, divided by the number of relevant items (0 for a user with none).
    ``-> [B]``"""
    k = _clamp_k(k, scores.shape[1])
    hits, n_relevant = _hits(scores, targets, k, seen)
    return torch.where(n_relevant > 0, hits / n_relevant.clamp(min=1), torch.zeros_like(hits))


# name -> function, in the order tables list them
RANKING_METRICS = {
    "hr": hit_rate_at_k,
    "ndcg": ndcg_at_k,
    "mrr": mrr_at_k,
    "precision": precision_at_k,
    "recall": recall_at_k,
}

__all__ = [
    "RANKING_METRICS",
    "hit_rate_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "pessimistic_ranks",
    "precision_at_k",
    "recall_at_k",
    "target_ranks",
]
