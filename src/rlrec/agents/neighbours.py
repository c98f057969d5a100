"""Item-to-item baselines fitted in closed form on the train split (``trains = False``).

Both read the binary user × item matrix X of ``env.dataset``'s train split (X_ui = 1 when u interacted
with i at least once) and score the whole catalogue from everything the user consumed before the
evaluated step, c_u = ``consumed(obs)`` (the full earlier sequence under the replay protocol):

    score_u = c_u · W        W [n_items, n_items], W_jj = 0

- ``ease``: W = B of EASE (Steck, WWW 2019, eq. 8): with P = (XᵀX + λI)⁻¹, B_ij = −P_ij / P_jj.
- ``itemknn``: W = S, the cosine similarity of item columns with shrinkage (Sarwar et al. 2001),
  each item's column keeping its k nearest neighbours (as RecBole's ItemKNN).

W is a dense buffer, so it is in every checkpoint; catalogues over MAX_DENSE_ITEMS are refused. The
defaults of λ, k and shrink live in rlrec.agents.config (EASEConfig, ItemKNNConfig).
"""

from __future__ import annotations

import warnings

import torch

from rlrec.agents.baselines import BaselineAgent
from rlrec.envs.base import Observation

MAX_DENSE_ITEMS = 30_000  # a dense float32 n_items² matrix of 30k items is 3.6 GB


class ItemToItemAgent(BaselineAgent):
    """score_u = consumed_u · W for an item-to-item matrix W fitted by ``item_weights``."""

    def __init__(self, n_items: int, slate_size: int, mask_consumed: bool, **unused) -> None:
        name = unused.get("name", type(self).__name__)
        if n_items > MAX_DENSE_ITEMS:
            gigabytes = 4 * n_items**2 / 1e9
            raise ValueError(
                f"algorithm={name} keeps a dense n_items × n_items matrix: {n_items} items would need "
                f"{gigabytes:.1f} GB (float32); this is refused above {MAX_DENSE_ITEMS} items (raise "
                "dataset.preprocess.min_item_interactions to shrink the catalogue)"
            )
        super().__init__(n_items, slate_size, mask_consumed, **unused)
        self.register_buffer("weights", torch.zeros(n_items, n_items))  # W [n_items, n_items]

    def prepare(self, env) -> None:
        self.weights.copy_(self.item_weights(train_gram(env.dataset, self.n_items)).float())

    def item_weights(self, gram: torch.Tensor) -> torch.Tensor:
        """W [n_items, n_items] from XᵀX [n_items, n_items] (float64) of the binary train matrix X."""
        raise NotImplementedError

    def scores(self, obs: Observation) -> torch.Tensor:
        return self.consumed(obs).float() @ self.weights  # [B, n_items]


class EASEAgent(ItemToItemAgent):
    """EASE: a linear item-to-item model with a zero diagonal, ridge-regularised by λ (Steck 2019)."""

    def __init__(
        self, n_items: int, slate_size: int, reg_weight: float, mask_consumed: bool, **unused
    ) -> None:
        if reg_weight <= 0:
            raise ValueError(f"algorithm.reg_weight (EASE's λ) must be positive, got {reg_weight}")
        super().__init__(n_items, slate_size, mask_consumed, **unused)

    def item_weights(self, gram: torch.Tensor) -> torch.Tensor:
        g = gram + self.hparams.reg_weight * torch.eye(self.n_items, dtype=gram.dtype)  # G = XᵀX + λI
        p = torch.linalg.inv(g)  # P = G⁻¹, symmetric positive definite
        b = -p / p.diagonal()[None, :]  # B_ij = −P_ij / P_jj
        return b.fill_diagonal_(0.0)


class ItemKNNAgent(ItemToItemAgent):
    """Item-based kNN: sim_ij = x_i·x_j / (‖x_i‖‖x_j‖ + shrink), the top k per item (Sarwar et al. 2001)."""

    def __init__(
        self,
        n_items: int,
        slate_size: int,
        k: int,
        shrink: float,
        mask_consumed: bool,
        **unused,
    ) -> None:
        if k < 1 or shrink < 0:
            raise ValueError(
                f"algorithm.k must be at least 1 and algorithm.shrink at least 0, got {k}, {shrink}"
            )
        super().__init__(n_items, slate_size, mask_consumed, **unused)

    def item_weights(self, gram: torch.Tensor) -> torch.Tensor:
        norm = gram.diagonal().sqrt()  # [n_items] ‖x_i‖; gram_ij = x_i · x_j, the users who had both
        # an item nobody had in train has a zero column and overlap 0 with all: keep its similarity 0
        denominator = (norm[:, None] * norm[None, :] + self.hparams.shrink).clamp(min=1e-12)
        similarity = (gram / denominator).fill_diagonal_(0.0)
        # column j scores item j from its k nearest neighbours i (score_uj = Σ_i c_ui S_ij)
        k = min(self.hparams.k, self.n_items)
        nearest, rows = similarity.topk(k, dim=0)  # [k, n_items]
        return torch.zeros_like(similarity).scatter_(0, rows, nearest)


def train_gram(dataset, n_items: int) -> torch.Tensor:
    """XᵀX [n_items, n_items] float64 of the binary train matrix X [n_users, n_items] (X_ui = 1 where u
    interacted with i in the train split), X kept sparse so memory grows with n_items², not n_users."""
    train = dataset.split("train")
    users = torch.from_numpy(train["user_id"].to_numpy().astype("int64"))
    items = torch.from_numpy(train["item_id"].to_numpy().astype("int64"))
    pairs = torch.unique(users * n_items + items)  # a repeated interaction still counts once
    index = torch.stack((pairs // n_items, pairs % n_items))  # [2, nnz], sorted and unique
    ones = torch.ones(len(pairs), dtype=torch.float64)
    x = torch.sparse_coo_tensor(
        index, ones, (dataset.n_users, n_items), is_coalesced=True, check_invariants=True
    )
    with warnings.catch_warnings():  # torch's sparse product goes through CSR, which warns it is "beta"
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta state")
        return torch.sparse.mm(x.t(), x).to_dense()
