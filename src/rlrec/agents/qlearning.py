"""Tabular Q-learning over a discretised user state (Watkins & Dayan 1992; Sutton & Barto 2018, eq. 6.8):

    Q(s, a) ← Q(s, a) + α [ r + γ (1 − done) max_a' Q(s', a') − Q(s, a) ]

The state is one cell of a small table, chosen by ``algorithm.state``:

- ``last_category``: the category of the newest item in the observed history (+1 cell: no history);
- ``user_cluster``: the nearest of ``n_clusters`` centroids to the mean item vector of the last
  ``history_length`` items, item vectors g(items) from the item encoder, centroids from seeded
  k-means over the training users' logged (train-split) histories (+1 cell: no history);
- ``last_category_x_cluster``: the pair of both.

Actions (``algorithm.actions``) are ``items`` — the slate is the K highest-valued items and each slate
position is an action with its own reward, as in DQN (r_k = the step's reward at the position the
user acted on, 0 elsewhere) — or ``categories`` — one category per step, whose slate is its K most
popular train items (topped up with the most popular others if it has fewer), learning from the
step's whole reward. Exploration is ε-greedy per user with a decaying ε.

Learning is online: every environment step yields its transitions (active users only) and they are
applied at once; several updates of the same (s, a) in one step are averaged. The table is a
registered buffer (it is saved in checkpoints); Lightning runs with manual optimisation and a
parameter-free no-op optimizer whose ``step()`` is what advances ``global_step`` (so
``trainer.max_steps`` counts environment steps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn

from rlrec.agents.base import RecAgent
from rlrec.agents.baselines import train_item_counts
from rlrec.agents.collect import OnlineCollector
from rlrec.agents.schedules import make_schedule
from rlrec.envs.base import Observation

STATES = ("last_category", "user_cluster", "last_category_x_cluster")
ACTIONS = ("items", "categories")


def q_learning_update(
    q_table: torch.Tensor,
    state: torch.Tensor,
    action: torch.Tensor,
    reward: torch.Tensor,
    next_state: torch.Tensor,
    done: torch.Tensor,
    alpha: float,
    gamma: float,
) -> torch.Tensor:
    """One batched Q-learning step on ``q_table`` [S, A] in place; returns the TD errors.

    state, next_state, done: [N]; action, reward: [N, K] (K actions taken in the same state). The
    targets all read the table before the update; repeated (s, a) pairs get their mean TD error.
    """
    n_actions = q_table.shape[1]
    next_value = q_table[next_state].max(dim=1).values  # [N]
    target = reward + (gamma * (1.0 - done.float()) * next_value)[:, None]  # [N, K]
    cell = (state[:, None] * n_actions + action).reshape(-1)  # [N·K] flat (s, a)
    td_error = target.reshape(-1) - q_table.view(-1)[cell]
    total = torch.zeros(q_table.numel(), dtype=q_table.dtype, device=q_table.device).index_add_(
        0, cell, td_error
    )
    count = torch.zeros_like(total).index_add_(0, cell, torch.ones_like(td_error))
    q_table.view(-1).add_(alpha * total / count.clamp(min=1.0))
    return td_error.view_as(target)


def kmeans(points: torch.Tensor, k: int, iterations: int, seed: int) -> torch.Tensor:
    """Lloyd's k-means from k distinct seeded random points; returns centroids [k, d]."""
    generator = torch.Generator().manual_seed(seed)
    start = torch.randperm(len(points), generator=generator)[:k]
    centroids = points[start].clone()
    for _ in range(iterations):
        assignment = torch.cdist(points, centroids).argmin(dim=1)  # [n]
        sums = torch.zeros_like(centroids).index_add_(0, assignment, points)
        counts = torch.bincount(assignment, minlength=k).float()[:, None]
        centroids = torch.where(counts > 0, sums / counts.clamp(min=1.0), centroids)  # empty: stays
    return centroids


class QLearningAgent(RecAgent):
    def __init__(
        self,
        item_encoder: nn.Module,
        state_encoder: Callable[..., nn.Module],
        n_items: int,
        slate_size: int,
        *,
        alpha: float,
        gamma: float,
        epsilon_start: float,
        epsilon_end: float,
        epsilon_decay_steps: int,
        epsilon_schedule: str,
        state: str,
        actions: str,
        n_clusters: int,
        kmeans_iterations: int,
        history_length: int,
        seed: int,
        task: str,
        mask_consumed: bool,
        name: str,
    ) -> None:
        # state_encoder is not used: the state is a table cell, not a learned vector.
        super().__init__(n_items, slate_size, mask_consumed)
        if state not in STATES:
            raise ValueError(f"algorithm.state must be one of {STATES}, got {state!r}")
        if actions not in ACTIONS:
            raise ValueError(f"algorithm.actions must be one of {ACTIONS}, got {actions!r}")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"algorithm.alpha must be in (0, 1], got {alpha}")
        if n_clusters < 1 or history_length < 1:
            raise ValueError("algorithm.n_clusters and algorithm.history_length must be at least 1")
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder"])
        self.automatic_optimization = False
        self.epsilon = make_schedule(epsilon_schedule, epsilon_start, epsilon_end, epsilon_decay_steps)
        self.uses_clusters = state != "last_category"
        self.uses_categories = state != "user_cluster" or actions == "categories"
        # Sized by prepare(env) once the categories are known; all saved in the checkpoint.
        self.register_buffer("q_table", torch.zeros(0, 0))  # [n_states, n_actions]
        self.register_buffer("item_category", torch.zeros(n_items, dtype=torch.long))  # [n_items]
        self.register_buffer("category_scores", torch.zeros(0, n_items))  # [C, n_items] slate order
        self.register_buffer("centroids", torch.zeros(0, 0))  # [n_clusters, d]
        self.register_buffer("item_vectors", torch.zeros(0, 0))  # [n_items, d] g(items), frozen
        if self.uses_clusters:
            with torch.no_grad():
                self.item_vectors = item_encoder().detach().float().cpu().clone()
        self.n_categories = 0
        # ε-greedy steps of the training env; each step's transitions of active users are the batch
        self.collector = OnlineCollector(
            self.explore, self.transition, n_items=n_items, slate_size=slate_size, task=task
        )

    # ----- the table's shape, from the training environment's dataset -------------------------
    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None:
            self.prepare(datamodule.train_env)

    def prepare(self, env) -> None:
        """Categories, category slates, k-means centroids and an all-zero table of the right size."""
        hp = self.hparams
        if self.uses_categories:
            names = env.dataset.items["category"].fill_null("(none)").cast(str).to_list()
            vocabulary = sorted(set(names))
            code = {category: i for i, category in enumerate(vocabulary)}
            self.n_categories = len(vocabulary)
            self.item_category = torch.tensor([code[c] for c in names], dtype=torch.long)
            popularity = train_item_counts(env.dataset, self.n_items)
            in_category = self.item_category[None, :] == torch.arange(self.n_categories)[:, None]  # [C, n]
            # The category's items by popularity first, then every other item by popularity.
            scale = popularity.max() + 1.0
            self.category_scores = popularity[None, :] + scale * in_category.float()  # [C, n_items]
        if self.uses_clusters:
            self.centroids = kmeans(
                self.train_history_means(env.dataset), hp.n_clusters, hp.kmeans_iterations, hp.seed
            )
        n_states = {
            "last_category": self.n_categories + 1,
            "user_cluster": hp.n_clusters + 1,
            "last_category_x_cluster": (self.n_categories + 1) * (hp.n_clusters + 1),
        }[hp.state]
        n_actions = self.n_items if hp.actions == "items" else self.n_categories
        if tuple(self.q_table.shape) != (n_states, n_actions):
            self.q_table = torch.zeros(n_states, n_actions, device=self.device)
        for name in ("item_category", "category_scores", "centroids", "item_vectors"):
            setattr(self, name, getattr(self, name).to(self.device))

    def train_history_means(self, dataset) -> torch.Tensor:
        """[n_users with train rows, d]: mean item vector of each user's last history_length train items."""
        import polars as pl

        last = (
            dataset.split("train")
            .sort(["user_id", "timestamp"], maintain_order=True)
            .group_by("user_id", maintain_order=True)
            .tail(self.hparams.history_length)
        )
        users = torch.from_numpy(last["user_id"].cast(pl.Int64).to_numpy().copy())
        items = torch.from_numpy(last["item_id"].cast(pl.Int64).to_numpy().copy())
        _, row = torch.unique(users, return_inverse=True)
        sums = torch.zeros(int(row.max()) + 1, self.item_vectors.shape[1]).index_add_(
            0, row, self.item_vectors[items]
        )
        return sums / torch.bincount(row).float()[:, None]

    # ----- state and policy -------------------------------------------------------------------
    def discretise(self, obs: Observation) -> torch.Tensor:
        """[B] table row of each user's observed state."""
        history, mask = (
            obs["history"][:, -self.hparams.history_length :],
            obs["history_mask"][:, -self.hparams.history_length :],
        )
        has_history = mask.any(dim=1)
        category = cluster = None
        if self.uses_categories:
            slot = torch.arange(1, mask.shape[1] + 1, device=mask.device)
            newest = history.gather(1, (mask * slot).argmax(dim=1, keepdim=True)).squeeze(1)  # [B]
            category = torch.where(has_history, self.item_category[newest], self.n_categories)
        if self.uses_clusters:
            weights = mask.float()[..., None]  # [B, H, 1]
            mean = (self.item_vectors[history] * weights).sum(1) / weights.sum(1).clamp(min=1.0)  # [B, d]
            nearest = torch.cdist(mean, self.centroids).argmin(dim=1)
            cluster = torch.where(has_history, nearest, self.hparams.n_clusters)
        if self.hparams.state == "last_category":
            return category
        if self.hparams.state == "user_cluster":
            return cluster
        return category * (self.hparams.n_clusters + 1) + cluster

    def choose(self, state: torch.Tensor, explore: bool) -> torch.Tensor:
        """Per-user action values [B, n_actions], ε-greedy noise replacing them on exploring rows."""
        values = self.q_table[state]
        if explore:
            rows = torch.rand(len(values), device=values.device) < self.epsilon(self.global_step)
            values = torch.where(rows[:, None], torch.rand_like(values), values)
        return values

    def slate_of(self, values: torch.Tensor, obs: Observation) -> tuple[torch.Tensor, torch.Tensor]:
        """(slate [B, K], actions [B, K] for items or [B, 1] for categories) from action values."""
        if self.hparams.actions == "items":
            slate = self.slate_from_scores(values, obs)
            return slate, slate
        category = values.argmax(dim=1, keepdim=True)  # [B, 1]
        return self.slate_from_scores(self.category_scores[category.squeeze(1)], obs), category

    @torch.no_grad()
    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        return self.slate_of(self.choose(self.discretise(obs), explore), obs)[0]

    # ----- learning ----------------------------------------------------------------------------
    def experience(self, env) -> Iterator[dict[str, torch.Tensor]]:
        if self.q_table.numel() == 0:
            self.prepare(env)
        return self.collector.batches(env)

    @torch.no_grad()
    def explore(self, obs: Observation) -> dict[str, torch.Tensor]:
        """The ε-greedy slate, with the table cell and the action it took."""
        device_obs = self.to_device(obs)
        state = self.discretise(device_obs)
        slate, action = self.slate_of(self.choose(state, explore=True), device_obs)
        return {"slate": slate.cpu(), "state": state.cpu(), "action": action.cpu()}

    def transition(self, obs, acted, next_obs, rewards, done, info) -> dict[str, torch.Tensor]:
        """One env step's table transitions; with ``actions: items`` the reward sits at the slate
        position acted on [B, K], with ``categories`` it is the slate's [B, 1]."""
        reward = rewards[self.hparams.task]
        if self.hparams.actions == "items":
            clicked = info["clicked_position"]
            position = torch.arange(self.slate_size)[None, :] == clicked[:, None]  # [B, K]
            reward = position.float() * reward[:, None]
        else:
            reward = reward[:, None]  # [B, 1]
        return {
            "state": acted["state"],
            "action": acted["action"],
            "reward": reward,
            "next_state": self.discretise(self.to_device(next_obs)).cpu(),
            "done": done,
        }

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        td_error = q_learning_update(
            self.q_table,
            batch["state"],
            batch["action"],
            batch["reward"].to(self.q_table.dtype),
            batch["next_state"],
            batch["done"],
            self.hparams.alpha,
            self.hparams.gamma,
        )
        self.optimizers().step()  # no-op: counts the update in global_step (trainer.max_steps)
        n = max(len(batch["state"]), 1)
        self.log("train/td_error", td_error.abs().mean() if td_error.numel() else 0.0, batch_size=n)
        self.log("train/epsilon", self.epsilon(self.global_step), batch_size=n)
        self.log("train/collect_reward", self.collect_reward, batch_size=n)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # The table is updated by the rule above; this optimizer holds one gradient-free tensor
        # outside the module, so step() changes nothing and only advances Lightning's step count.
        return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)
