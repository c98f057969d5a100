"""A user response model fitted on logged data: one logistic head per behaviour over a shared
matrix factorisation (Koren et al., IEEE Computer 2009), the user model of ``env=fitted``.

    q_i = e_i + c_cat(i)                              item vector (+ its category's, if any)
    logit_b(u, i) = Σ_d p_ud · w_bd · q_id + β_b,i + β_b

``click`` is fitted as logged (user, item) pairs against uniformly sampled items (implicit feedback,
negative sampling as in BPR, Rendle et al. UAI 2009, with a logistic loss); the funnel behaviours
(``cart``, ``purchase``, and ``rating`` = "rated at least the threshold") are fitted on the logged
pairs only, as P(behaviour | the user took the item). Validation AUC: ``click`` ranks held-out
pairs against sampled items; funnel heads rank held-out pairs with the behaviour against held-out
pairs without it.
"""

from __future__ import annotations

import logging

import polars as pl
import torch
import torch.nn.functional as F
from torch import nn

from rlrec.runtime.threads import torch_threads

log = logging.getLogger(__name__)

FUNNEL = ("cart", "purchase", "rating")
ALL_BEHAVIOURS = ("click", *FUNNEL)


class ResponseModel(nn.Module):
    def __init__(
        self, n_users: int, n_items: int, behaviours: tuple[str, ...], dim: int, item_category: torch.Tensor
    ) -> None:
        super().__init__()
        self.behaviours = behaviours
        n_categories = int(item_category.max()) + 1 if len(item_category) and item_category.max() >= 0 else 0
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.category = nn.Embedding(max(n_categories, 1), dim)
        for table in (self.user, self.item, self.category):
            nn.init.normal_(table.weight, std=0.1)
        self.head = nn.Parameter(torch.ones(len(behaviours), dim))  # w_b
        self.item_bias = nn.Parameter(torch.zeros(len(behaviours), n_items))  # β_b,i
        self.bias = nn.Parameter(torch.zeros(len(behaviours)))  # β_b
        self.register_buffer("item_category", item_category.clone())  # [n_items] long, -1 = none

    def item_vectors(self, items: torch.Tensor) -> torch.Tensor:
        category = self.item_category[items]
        with_category = (category >= 0).unsqueeze(-1).float()
        return self.item(items) + with_category * self.category(category.clamp(min=0))

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """users [B], items [B, K] -> logits [n_behaviours, B, K]."""
        user = self.user(users)  # [B, d]
        item = self.item_vectors(items)  # [B, K, d]
        interaction = torch.einsum("bd,nd,bkd->nbk", user, self.head, item)
        return interaction + self.item_bias[:, items] + self.bias[:, None, None]

    def all_items(self, users: torch.Tensor, behaviour: str) -> torch.Tensor:
        """[B, n_items] logits of one behaviour for every item."""
        b = self.behaviours.index(behaviour)
        items = self.item_vectors(torch.arange(self.item.num_embeddings))  # [n_items, d]
        return (self.user(users) * self.head[b]) @ items.T + self.item_bias[b] + self.bias[b]


def logged_pairs(frame: pl.DataFrame, rating_threshold: float) -> pl.DataFrame:
    """One row per logged (user, item) pair with its funnel labels (rating: null where unrated)."""
    event = pl.col("event").cast(pl.String)
    return (
        frame.group_by("user_id", "item_id", maintain_order=True)
        .agg(
            (event == "cart").any().alias("cart"),
            (event == "purchase").any().alias("purchase"),
            (pl.col("rating").drop_nulls().last() >= rating_threshold).alias("rating"),
        )
        .sort("user_id", "item_id")
    )


def behaviours_of(frame: pl.DataFrame) -> tuple[str, ...]:
    """The behaviours a log lets us fit, in ALL_BEHAVIOURS order."""
    events = set(frame["event"].cast(pl.String).unique().to_list())
    has = {"click": True, "cart": "cart" in events, "purchase": "purchase" in events}
    has["rating"] = frame["rating"].null_count() < frame.height
    return tuple(b for b in ALL_BEHAVIOURS if has[b])


def _tensors(pairs: pl.DataFrame) -> dict[str, torch.Tensor]:
    out = {c: torch.from_numpy(pairs[c].cast(pl.Int64).to_numpy().copy()) for c in ("user_id", "item_id")}
    for b in FUNNEL:  # 1 / 0 / -1 (unknown: an unrated pair has no rating label)
        out[b] = torch.from_numpy(pairs[b].cast(pl.Int8).fill_null(-1).cast(pl.Int64).to_numpy().copy())
    return out


def fit_response_model(
    train: pl.DataFrame,
    n_users: int,
    item_category: torch.Tensor,
    behaviours: tuple[str, ...],
    dim: int,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    negatives: int,
    rating_threshold: float,
    seed: int,
) -> ResponseModel:
    """Fit on the ``train`` interactions, seeded; the global torch RNG is left untouched.

    The model is small, so one intra-op thread is faster than several (and far faster on a busy
    machine, where threads wait on each other); the thread count is restored afterwards.
    """
    pairs = _tensors(logged_pairs(train, rating_threshold))
    n_items = len(item_category)
    with torch_threads(1), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ResponseModel(n_users, n_items, behaviours, dim, item_category)
        generator = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        n = len(pairs["user_id"])
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, batch_size):
                rows = order[start : start + batch_size]
                users, items = pairs["user_id"][rows], pairs["item_id"][rows]
                sampled = torch.randint(n_items, (len(rows), negatives), generator=generator)
                logits = model(users, torch.cat([items[:, None], sampled], 1))  # [n_b, B, 1 + negatives]
                labels = torch.zeros(len(rows), 1 + negatives)
                labels[:, 0] = 1.0
                loss = F.binary_cross_entropy_with_logits(logits[0], labels)
                for j, behaviour in enumerate(behaviours[1:], start=1):
                    known = pairs[behaviour][rows] >= 0
                    if known.any():
                        target = pairs[behaviour][rows][known].float()
                        loss = loss + F.binary_cross_entropy_with_logits(logits[j, known, 0], target)
                embeddings = model.user(users).pow(2).sum() + model.item_vectors(items).pow(2).sum()
                loss = loss + weight_decay * embeddings / len(rows)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    return model.eval().requires_grad_(False)


def auc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """Rank-based AUC (Mann-Whitney U / n₊n₋; Hanley & McNeil 1982) with tied scores given their mean rank."""
    if len(positive) == 0 or len(negative) == 0:
        return float("nan")
    scores = torch.cat([positive, negative]).double()
    values, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    first_rank = counts.cumsum(0) - counts + 1  # 1-based rank of the first of each tied group
    mean_rank = first_rank.double() + (counts.double() - 1) / 2  # [n_unique]
    ranks = mean_rank[inverse]
    n_pos, n_neg = len(positive), len(negative)
    return ((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


@torch.no_grad()
def validation_auc(
    model: ResponseModel,
    held_out: pl.DataFrame,
    known_users: torch.Tensor,
    rating_threshold: float,
    negatives: int,
    seed: int,
) -> dict[str, float]:
    """AUC per behaviour on held-out interactions of users the model was fitted on ([n_users] bool)."""
    pairs = _tensors(logged_pairs(held_out, rating_threshold))
    keep = known_users[pairs["user_id"]]
    pairs = {key: value[keep] for key, value in pairs.items()}
    users, items = pairs["user_id"], pairs["item_id"]
    generator = torch.Generator().manual_seed(seed)
    sampled = torch.randint(model.item.num_embeddings, (len(users), negatives), generator=generator)
    logits = model(users, torch.cat([items[:, None], sampled], 1))  # [n_b, P, 1 + negatives]
    result = {"click": auc(logits[0, :, 0], logits[0, :, 1:].reshape(-1))}
    for j, behaviour in enumerate(model.behaviours[1:], start=1):
        label = pairs[behaviour]
        result[behaviour] = auc(logits[j, label == 1, 0], logits[j, label == 0, 0])
    for behaviour, value in result.items():
        if value != value:  # NaN
            log.warning(
                f"fitted response model: no held-out positives and negatives for {behaviour!r}; AUC is NaN"
            )
    return result
