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
        return self.q_values(self.user_state(obs, items), items)  # [B, n_items]

    def user_state(self, obs: Observation, items: torch.Tensor) -> torch.Tensor:
        """f(history) [B, d], given the item vectors ``items`` [n_items, d] = g(all items)."""
        return self.state_tower(items[obs["history"]], obs["history_mask"], obs["history"], obs.get("user"))

    def q_values(self, state: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores of the whole catalogue for states [B, d] -> [B, n_items]."""
        scores = torch.addmm(self.item_bias, state, items.T)  # state @ items.T + b: [B, n_items]
        if self.value_head is None:
            return scores
        return self.value_head(state) + scores - scores.mean(dim=1, keepdim=True)  # V + A − mean A

    def q_values_of(self, state: torch.Tensor, items: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Q(s, a) for the items ``actions`` [B, K] only -> [B, K]: the same values as
        ``q_values(state, items).gather(1, actions)`` in O(B·K·d) instead of O(B·n_items·d), forward
        and backward (a training step needs only the taken actions with gradients). The dueling
        mean is linear: mean_a (f(s)·g(a) + b(a)) = f(s)·mean_a g(a) + mean_a b(a)."""
        chosen = torch.einsum("bd,bkd->bk", state, items[actions]) + self.item_bias[actions]  # [B, K]
        if self.value_head is None:
            return chosen
        mean_advantage = state @ items.mean(dim=0) + self.item_bias.mean()  # [B]
        return self.value_head(state) + chosen - mean_advantage[:, None]


COLD_SCORES = ("raw", "standardize")


def require_cold_scores(how: str) -> None:
    """``algorithm.cold_scores`` must name one of COLD_SCORES (the agents that rank cold items)."""
    if how not in COLD_SCORES:
        raise ValueError(f"algorithm.cold_scores must be one of {list(COLD_SCORES)}, got {how!r}")


def standardize_untrained(scores: torch.Tensor, untrained: torch.Tensor) -> torch.Tensor:
    """``scores [B, n_items]`` with the never-trained items' columns (``untrained [n_items]`` bool) put
    on the trained items' scale, per user:

        s'(u, c) = mean_w s(u, w) + std_w s(u, w) · (s(u, c) − mean_c s(u, c)) / std_c s(u, c)

    over trained items w and untrained items c. A text tower places a cold item by W · e alone, and a
    hybrid one without its id offset, so cold scores come out on a narrower scale than the trained
    items' (whose id parts and biases carry what training learned about each): the top of the
    catalogue is then all trained items (docs/results.md, "Cold items' scores on the trained
    items' scale"). Standardising keeps each user's order among cold items and among trained items
    and only says that the best cold items are as good a guess as the best trained ones. One
    untrained item is put at the trained mean."""
    if not bool(untrained.any()) or bool(untrained.all()):
        return scores
    untrained = untrained.to(scores.device)
    warm, cold = scores[:, ~untrained], scores[:, untrained]  # [B, n_warm], [B, n_cold]
    if cold.shape[1] > 1:
        z = (cold - cold.mean(1, keepdim=True)) / cold.std(1, keepdim=True).clamp_min(1e-12)
    else:
        z = torch.zeros_like(cold)
    scale = warm.std(1, keepdim=True) if warm.shape[1] > 1 else torch.zeros_like(warm[:, :1])
    calibrated = scores.clone()
    calibrated[:, untrained] = warm.mean(1, keepdim=True) + scale * z
    return calibrated
