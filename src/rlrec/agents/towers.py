"""The two-tower scorer every agent shares: f(state) · g(item) scores the whole catalogue at once."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from rlrec.envs.base import Observation


class TwoTowerQ(nn.Module):
    """scores(obs) = f(history) · g(items)ᵀ + b  ->  [B, n_items].

    ``state_encoder`` is a partial (conf/state_encoder/) finished here with the item tower's width.
    ``dueling=True`` (Wang et al. 2016, ICML, eq. 9) reads the two-tower scores as advantages and adds
    a state-value head: Q(s, a) = V(s) + A(s, a) − mean_a' A(s, a'), with A = f(s) · g(a) + b(a).
    """

    def __init__(
        self,
        item_encoder: nn.Module,
        state_encoder: Callable[..., nn.Module],
        n_items: int,
        hidden_dim: int,
        history_length: int,
        dueling: bool = False,
    ) -> None:
        super().__init__()
        self.item_tower = item_encoder  # g: [n_items, d]
        self.state_tower = state_encoder(
            item_dim=item_encoder.dim,
            out_dim=item_encoder.dim,
            hidden_dim=hidden_dim,
            history_length=history_length,
            item_encoder=item_encoder,
        )
        self.item_bias = nn.Parameter(torch.zeros(n_items))
        self.value_head = nn.Linear(item_encoder.dim, 1) if dueling else None  # V(s) from f(s)

    def forward(self, obs: Observation) -> torch.Tensor:
        items = self.item_tower()  # [n_items, d]
        state = self.state_tower(items[obs["history"]], obs["history_mask"], obs["history"])  # [B, d]
        scores = state @ items.T + self.item_bias  # [B, n_items]
        if self.value_head is None:
            return scores
        return self.value_head(state) + scores - scores.mean(dim=1, keepdim=True)  # V + A − mean A
