"""User-state encoders f(state): map an observed history of item vectors to one state vector.

Every encoder reads the last ``history_length`` items (right-aligned, newest last, ``mask`` marks
real ones) and can add a profile-text vector (the history rendered as a sentence and read by the
language model, ``profile_text=true``) and the user's own features (``user_features``, where the
dataset has a user table: rlrec.encoders.user_features) before its output MLP.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from rlrec.encoders.profile import UserProfileText
from rlrec.encoders.user_features import UserFeatureEmbedding, user_feature_codes


class HistoryStateEncoder(nn.Module):
    """f(state) = MLP([summary(history vectors); profile vector; user features]); subclasses define
    ``summarise``."""

    def __init__(
        self,
        item_dim: int,
        out_dim: int,
        hidden_dim: int,
        history_length: int,
        summary_dim: int,
        item_encoder: nn.Module | None = None,
        item_titles: Sequence[str | None] | None = None,
        profile_text: bool = False,
        profile_items: int = 5,
        profile_template: str = "Recently watched: {titles}",
        hidden_layers: int = 1,
        user_features: Sequence[str] = (),
        user_table=None,
        n_users: int | None = None,
        dataset_name: str = "",
        name: str = "state",
    ) -> None:
        super().__init__()
        if hidden_layers < 1:
            raise ValueError(f"state_encoder.hidden_layers must be at least 1, got {hidden_layers}")
        self.name, self.last_n = name, history_length
        # hidden_layers ReLU layers of width hidden_dim, then a linear map to out_dim.
        layers: list[nn.Module] = []
        user_features = list(user_features or ())
        width = summary_dim + (hidden_dim if profile_text else 0) + (hidden_dim if user_features else 0)
        for _ in range(hidden_layers):
            layers += [nn.Linear(width, hidden_dim), nn.ReLU()]
            width = hidden_dim
        self.mlp = nn.Sequential(*layers, nn.Linear(width, out_dim))
        self.profile = None
        if profile_text:
            if item_encoder is None or item_titles is None:
                raise ValueError("state_encoder.profile_text=true needs the item encoder and the item titles")
            self.profile = UserProfileText(
                item_encoder, item_titles, hidden_dim, profile_items, profile_template
            )
        self.user_features = None
        if user_features:
            if n_users is None:
                raise ValueError("state_encoder.user_features needs the number of users of the dataset")
            codes = user_feature_codes(user_table, user_features, n_users, dataset_name)
            self.user_features = UserFeatureEmbedding(codes, hidden_dim)

    def summarise(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def needs_users(self) -> bool:
        return self.user_features is not None

    def forward(
        self,
        history_vectors: torch.Tensor,
        mask: torch.Tensor,
        history: torch.Tensor,
        users: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """history_vectors [B, H, d], mask [B, H] bool, history [B, H] item ids, users [B] (read with
        ``user_features``) -> state [B, out_dim]."""
        vectors, mask = history_vectors[:, -self.last_n :], mask[:, -self.last_n :]
        vectors = vectors.masked_fill(~mask[..., None], 0.0)  # an empty history reads zeros, not padding
        parts = [self.summarise(vectors, mask)]
        if self.profile is not None:
            parts.append(self.profile(history, mask))
        if self.user_features is not None:
            if users is None:
                raise ValueError(
                    "state_encoder.user_features is set but this algorithm's training batches carry no "
                    "user ids (its replay buffer keeps histories only); use it with the logged learners "
                    "(algorithm=supervised, sqn, reinforce with env=replay) or leave user_features empty"
                )
            parts.append(self.user_features(users))
        return self.mlp(torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0])


class MeanHistoryState(HistoryStateEncoder):
    """summary = mean of the last n item vectors."""

    def __init__(
        self, item_dim: int, out_dim: int, hidden_dim: int = 64, history_length: int = 10, **kwargs
    ) -> None:
        super().__init__(item_dim, out_dim, hidden_dim, history_length, summary_dim=item_dim, **kwargs)

    def summarise(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        weights = mask.unsqueeze(-1).float()  # [B, n, 1]
        return (vectors * weights).sum(1) / weights.sum(1).clamp(min=1.0)  # [B, d]


class GRUHistoryState(HistoryStateEncoder):
    """summary = last hidden state of a GRU run over the real items, oldest to newest (GRU4Rec-style,
    Hidasi et al. 2016)."""

    def __init__(
        self,
        item_dim: int,
        out_dim: int,
        hidden_dim: int = 64,
        history_length: int = 10,
        num_layers: int = 1,
        **kwargs,
    ) -> None:
        super().__init__(item_dim, out_dim, hidden_dim, history_length, summary_dim=hidden_dim, **kwargs)
        self.gru = nn.GRU(item_dim, hidden_dim, num_layers=num_layers, batch_first=True)

    def summarise(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # Real items first (stable: keeps their order), so packing skips the padding entirely.
        order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)  # [B, n]
        packed_input = vectors.gather(1, order.unsqueeze(-1).expand_as(vectors))
        lengths = mask.sum(1).clamp(min=1).cpu()  # an empty history reads one zero vector
        packed = nn.utils.rnn.pack_padded_sequence(
            packed_input, lengths, batch_first=True, enforce_sorted=False
        )
        _, last_hidden = self.gru(packed)  # [layers, B, hidden]
        return last_hidden[-1]


class SASRecHistoryState(HistoryStateEncoder):
    """summary = causal self-attention over the history with learned positions, read at the newest
    item (SASRec, Kang & McAuley 2018)."""

    def __init__(
        self,
        item_dim: int,
        out_dim: int,
        hidden_dim: int = 64,
        history_length: int = 10,
        num_layers: int = 2,
        num_heads: int = 2,
        dropout: float = 0.1,
        **kwargs,
    ) -> None:
        super().__init__(item_dim, out_dim, hidden_dim, history_length, summary_dim=hidden_dim, **kwargs)
        if hidden_dim % num_heads:
            raise ValueError(
                f"algorithm.hidden_dim={hidden_dim} must be divisible by state_encoder.num_heads"
            )
        self.input = nn.Linear(item_dim, hidden_dim)
        self.positions = nn.Embedding(history_length, hidden_dim)
        layer = nn.TransformerEncoderLayer(
            hidden_dim, num_heads, 2 * hidden_dim, dropout, batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden_dim)

    def summarise(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n = vectors.shape[1]
        x = self.input(vectors) + self.positions.weight[-n:]  # [B, n, hidden]; newest at the last slot
        causal = torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1)  # [n, n] True = hidden
        padding = ~mask
        padding[:, -1] = False  # the newest slot always attends to itself: no all-masked rows (NaN)
        x = self.blocks(x, mask=causal, src_key_padding_mask=padding, is_causal=True)
        return self.norm(x[:, -1])  # [B, hidden]
