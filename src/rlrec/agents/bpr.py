"""BPR-MF: matrix factorisation trained by Bayesian personalised ranking (Rendle et al., UAI 2009).

A user u and an item i get vectors P_u, Q_i ∈ R^d and the score x_ui = P_u · Q_i. Every train-split
interaction (u, i) of ``env.dataset`` is a positive; each is paired with an item j that u never
interacted with in the train split, drawn uniformly, and the triple costs (the paper's BPR-OPT, eq. 4,
as a loss to minimise, averaged over a batch)

    L(u, i, j) = − ln σ(x_ui − x_uj) + λ · (‖P_u‖² + ‖Q_i‖² + ‖Q_j‖²)

The slate is the top-K of P_u · Qᵀ over the catalogue. Users with no train interaction (the held-out
users of ``dataset=synthetic``) never get a gradient, so their P_u stays at its random initialisation;
leave-one-out splits (``dataset=movielens``) evaluate users that are all in the train split.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from rlrec.agents.base import RecAgent
from rlrec.agents.collect import LoggedSampler
from rlrec.envs.base import Observation
from rlrec.runtime.checks import require_positive

NEGATIVE_DRAWS = 10  # rounds of redrawing a negative that turned out to be a positive


class TrainPairs:
    """The (user, item) pairs of a dataset's train split, for drawing BPR triples."""

    def __init__(self, dataset, n_items: int) -> None:
        train = dataset.split("train")
        if train.height == 0:
            raise ValueError(f"dataset {dataset.name!r} has no train interactions for algorithm=bpr")
        users = torch.from_numpy(train["user_id"].to_numpy().astype("int64"))
        items = torch.from_numpy(train["item_id"].to_numpy().astype("int64"))
        self.n_items = n_items
        self.keys = torch.unique(users * n_items + items)  # [N] sorted, one per distinct (user, item)
        self.users = self.keys // n_items  # [N]
        self.items = self.keys % n_items  # [N]

    def __len__(self) -> int:
        return len(self.keys)

    def interacted(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """[n] bool: whether each (user, item) is a train pair (membership in the sorted keys)."""
        keys = users * self.n_items + items
        at = torch.searchsorted(self.keys, keys).clamp(max=len(self.keys) - 1)
        return self.keys[at] == keys

    def sample(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """n triples: a uniform train pair (user, positive) and a uniform item the user did not
        interact with (negative), redrawn up to NEGATIVE_DRAWS times while it is a train pair; the
        rare triples still colliding after that are dropped, so a negative is never a positive."""
        pair = torch.randint(len(self), (n,), generator=generator)
        user, positive = self.users[pair], self.items[pair]
        negative = torch.randint(self.n_items, (n,), generator=generator)
        collide = self.interacted(user, negative)
        for _ in range(NEGATIVE_DRAWS):
            if not collide.any():
                break
            redraw = torch.randint(self.n_items, (int(collide.sum()),), generator=generator)
            negative[collide] = redraw
            collide[collide.clone()] = self.interacted(user[collide], redraw)
        keep = ~collide
        return {"user": user[keep], "positive": positive[keep], "negative": negative[keep]}


class BPRAgent(RecAgent):
    """User and item embeddings scored by a dot product, trained on BPR triples of the train split."""

    needs_users = True  # rlrec.experiment.build_experiment passes n_users = dataset.n_users

    def __init__(
        self,
        n_items: int,
        slate_size: int,
        n_users: int,
        *,
        optimizer: Callable[..., torch.optim.Optimizer],
        lr: float,
        batch_size: int,
        embedding_dim: int,
        reg_weight: float,
        mask_consumed: bool,
        name: str,
        **_unused,
    ) -> None:
        # The defaults live in rlrec.agents.config.BPRConfig. item_encoder and state_encoder arrive as
        # for every agent and are not used: BPR learns its own item vectors.
        super().__init__(n_items, slate_size, mask_consumed)
        require_positive("algorithm", batch_size=batch_size, embedding_dim=embedding_dim, n_users=n_users)
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder", "optimizer"])
        self.user_vectors = nn.Embedding(n_users, embedding_dim)  # P [n_users, d]
        self.item_vectors = nn.Embedding(n_items, embedding_dim)  # Q [n_items, d]
        nn.init.normal_(self.user_vectors.weight, std=0.1)
        nn.init.normal_(self.item_vectors.weight, std=0.1)
        self.optimizer_factory = optimizer
        self.collector = LoggedSampler(self.triples(batch_size, n_items))  # triples from the train split

    def scores(self, users: torch.Tensor) -> torch.Tensor:
        return self.user_vectors(users) @ self.item_vectors.weight.T  # [B, n_items]

    @torch.no_grad()
    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        return self.slate_from_scores(self.scores(obs["user"]), obs)  # [B, K]

    @staticmethod
    def triples(batch_size: int, n_items: int):
        """``make_draw`` of the LoggedSampler: BPR triples (user, positive, sampled negative)."""

        def make_draw(env):
            pairs = TrainPairs(env.dataset, n_items)
            return lambda generator: pairs.sample(batch_size, generator)

        return make_draw

    def bpr_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch means of − ln σ(x_ui − x_uj) and of ‖P_u‖² + ‖Q_i‖² + ‖Q_j‖²."""
        p_u = self.user_vectors(batch["user"])  # [N, d]
        q_i = self.item_vectors(batch["positive"])  # [N, d]
        q_j = self.item_vectors(batch["negative"])  # [N, d]
        x_uij = (p_u * q_i).sum(1) - (p_u * q_j).sum(1)  # [N]
        ranking = -F.logsigmoid(x_uij).mean()
        norms = (p_u.square().sum(1) + q_i.square().sum(1) + q_j.square().sum(1)).mean()
        return ranking, norms

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        ranking, norms = self.bpr_loss(batch)
        loss = ranking + self.hparams.reg_weight * norms
        n = len(batch["user"])
        self.log("train/loss", loss, batch_size=n)
        self.log("train/bpr", ranking, batch_size=n)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.optimizer_factory(params=self.parameters(), lr=self.hparams.lr)
