"""torchmetrics wrappers: per-user values are summed and counted (``dist_reduce_fx="sum"``), so the
mean over all users is exact across batches and across DDP ranks."""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

from rlrec.metrics.ranking import RANKING_METRICS


class RankingMetrics(Metric):
    """Mean HR, NDCG, MRR, precision and recall at K over every user seen: ``compute()`` returns
    ``{"hr@10": ..., "ndcg@10": ..., "mrr@10": ..., "precision@10": ..., "recall@10": ...}``."""

    full_state_update = False

    def __init__(self, k: int = 10, **kwargs) -> None:
        super().__init__(**kwargs)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k
        for name in RANKING_METRICS:
            self.add_state(
                f"sum_{name}", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum"
            )
        self.add_state("users", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, scores: Tensor, targets: Tensor, seen: Tensor | None = None) -> None:
        """``scores  # [B, n_items]``, ``targets  # [B]``, ``seen  # [B, n_items]`` (optional)."""
        for name, metric in RANKING_METRICS.items():
            state = getattr(self, f"sum_{name}")
            setattr(self, f"sum_{name}", state + metric(scores, targets, self.k, seen).double().sum())
        self.users = self.users + scores.shape[0]

    def compute(self) -> dict[str, Tensor]:
        users = self.users.clamp(min=1).double()
        return {
            f"{name}@{self.k}": (getattr(self, f"sum_{name}") / users).float() for name in RANKING_METRICS
        }


class ItemCoverage(Metric):
    """Distinct items recommended over all slates / n_items; the per-item counts are summed across
    ranks, so an item shown on any rank counts once."""

    full_state_update = False

    def __init__(self, n_items: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.n_items = n_items
        self.add_state("shown", default=torch.zeros(n_items, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, slates: Tensor) -> None:
        """``slates  # [B, k]`` item ids."""
        flat = slates.reshape(-1).long()
        self.shown = self.shown.index_add(0, flat, torch.ones_like(flat))

    def compute(self) -> Tensor:
        return (self.shown > 0).float().mean()


class UserWeightedMeans(Metric):
    """Named means over users, exact across DDP ranks: each rank adds mean · its number of users,
    and ``compute()`` divides the sums over every rank by all the users (``{name: float}``)."""

    full_state_update = False

    def __init__(self, names: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.names = list(names)
        self.add_state(
            "sums", default=torch.zeros(len(self.names), dtype=torch.float64), dist_reduce_fx="sum"
        )
        self.add_state("users", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, means: dict[str, float], users: int) -> None:
        if sorted(means) != sorted(self.names):
            raise ValueError(f"expected the metrics {self.names}, got {sorted(means)}")
        values = torch.tensor(
            [means[name] for name in self.names], dtype=torch.float64, device=self.sums.device
        )
        self.sums = self.sums + values * users
        self.users = self.users + users

    def compute(self) -> dict[str, float]:
        means = self.sums / self.users.clamp(min=1)
        return {name: float(value) for name, value in zip(self.names, means, strict=True)}
