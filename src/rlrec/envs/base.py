"""The batched environment contract every environment implements (``env/`` config group).

    env.reset(users [B]) -> obs
    env.step(slate [B, K]) -> obs, rewards {task: [B], "total": [B]}, done [B], info

``obs`` is ``{"user": [B], "history": [B, H] item ids, "history_mask": [B, H] bool}`` (environments
may add keys, e.g. user features). ``rewards`` holds one float tensor per behaviour the environment
produces (``env.tasks``: ``click``, ``cart``, ``purchase``, ``rating``, ...) plus ``"total"``, the
reward function's weighted sum (``reward/`` config group); single-task agents read one key
(``algorithm.task``, default ``total``), multi-task agents read them all. ``info`` always holds
``clicked_position`` ([B] long, the slate position the user acted on, -1 for none) and ``active``
([B] bool, the users still in their episode when this step began; inactive rows earn nothing and
their transitions should not be learned from). Once ``done`` a user stays done until ``reset``.

Evaluation is the environment's own protocol: ``evaluate(policy, users, seed)`` returns metric
names without the split prefix (``return``, ``return_random``, ``hr@10``, ...), so an agent never
needs to know whether it is judged by a simulator or by replaying logged data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

Observation = dict[str, torch.Tensor]
Policy = Callable[[Observation], torch.Tensor]  # obs -> slate [B, K]


def below_autograd() -> contextlib.AbstractContextManager:
    """A block whose ops skip PyTorch's autograd dispatch layer, for simulator code no gradient flows
    through: a step is ~90 ops on a few thousand numbers each, where that layer's share of the time is
    measurable (docs/results.md, "Settings moved here from config comments").
    Unlike ``torch.inference_mode``, the tensors made inside are ordinary ones, so an agent may still
    train on the observations and rewards (an inference tensor cannot be saved for backward). Torch's
    own ``torch.library`` autograd wrappers use the same guard; without it, a plain block."""
    guard = getattr(torch._C, "_AutoDispatchBelowAutograd", None)
    return guard() if guard is not None else contextlib.nullcontext()


class RecEnv:
    """Shared behaviour: seeding, user sampling, slate validation, rollout evaluation."""

    name: str
    n_items: int
    num_envs: int
    slate_size: int
    horizon: int
    tasks: tuple[str, ...]
    train_users: torch.Tensor
    eval_users: torch.Tensor
    allow_duplicate_items: bool = False
    generator: torch.Generator
    # The attributes that change during an episode (set by reset and step): with the generator's
    # state they are what a checkpoint must hold to continue the episode in flight (state_dict).
    episode_state: tuple[str, ...] = ()
    # What evaluation metrics read of the dataset, computed on first use (item_popularity, ...).
    _item_popularity: torch.Tensor | None = None
    _item_vectors: torch.Tensor | None = None

    def _init_shared(
        self,
        dataset,
        reward,
        name: str,
        tasks: tuple[str, ...],
        num_envs: int,
        slate_size: int,
        horizon: int,
        history_window: int,
        eval_episodes_users: int,
        seed: int,
    ) -> None:
        """Check and store the settings every environment has (``tasks`` before the reward checks them)."""
        from rlrec.config import with_defaults
        from rlrec.envs.rewards import WeightedReward
        from rlrec.runtime.checks import require_positive

        require_positive(
            "env",
            num_envs=num_envs,
            horizon=horizon,
            history_window=history_window,
            eval_episodes_users=eval_episodes_users,
        )
        if not 1 <= slate_size <= dataset.n_items:
            raise ValueError(f"env.slate_size must be in [1, n_items={dataset.n_items}], got {slate_size}")
        self.name, self.dataset, self.tasks = name, dataset, tuple(tasks)
        self.reward = reward if reward is not None else with_defaults(WeightedReward)
        self.reward.check_tasks(self.tasks, name)
        self.n_items = dataset.n_items
        self.num_envs, self.slate_size, self.horizon = num_envs, slate_size, horizon
        self.history_window = history_window
        self.generator = torch.Generator().manual_seed(seed)

    def seed(self, seed: int) -> None:
        self.generator.manual_seed(seed)

    def shard(self, rank: int, world_size: int) -> RecEnv:
        """Keep only rank ``rank``'s share of the train and eval users (every ``world_size``-th one,
        from ``rank``), so the ranks of a distributed run simulate disjoint users. Returns self."""
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"{self.name}: shard rank must be in [0, world_size={world_size}), got {rank}")
        for split in ("train_users", "eval_users"):
            users = getattr(self, split)
            if len(users) < world_size:
                raise ValueError(
                    f"{self.name}: {len(users)} {split.replace('_', ' ')} cannot be split over "
                    f"{world_size} ranks (at least one each)"
                )
            setattr(self, split, users[rank::world_size])
        return self

    def state_dict(self) -> dict:
        """The RNG and the episode in flight (``episode_state``), for a checkpoint to resume from."""
        in_episode = getattr(self, "_users", None) is not None  # reset has run (logged learners never do)
        return {
            "generator": self.generator.get_state(),
            "episode": {name: getattr(self, name) for name in self.episode_state} if in_episode else {},
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue exactly where ``state_dict`` was taken: a reset of the same users rebuilds what
        reset derives from them, then the episode's own state and the RNG are put back."""
        episode = state["episode"]
        if episode and set(episode) != set(self.episode_state):
            raise ValueError(
                f"env={self.name}: the checkpoint's environment state has {sorted(episode)}, "
                f"this environment keeps {sorted(self.episode_state)} (a different env?)"
            )
        if episode:
            self.reset(episode["_users"])
        for name, value in episode.items():
            setattr(self, name, value)
        self.generator.set_state(state["generator"])

    def sample_users(self, n: int) -> torch.Tensor:
        """n training users drawn uniformly with replacement (the environment's own RNG)."""
        index = torch.randint(len(self.train_users), (n,), generator=self.generator)
        return self.train_users[index]

    def reset(self, users: torch.Tensor) -> Observation:
        raise NotImplementedError

    def step(self, slate: torch.Tensor) -> tuple[Observation, dict[str, torch.Tensor], torch.Tensor, dict]:
        raise NotImplementedError

    def check_slate(self, slate: torch.Tensor, batch: int) -> None:
        """Raise ValueError for a slate of the wrong shape or dtype, out-of-range or repeated items."""
        self.check_slate_shape(slate, batch)
        self.check_slate_items(slate, slate.T)

    def check_slate_shape(self, slate: torch.Tensor, batch: int) -> None:
        """The first half of ``check_slate``: shape [B, K] and an integer dtype."""
        expected = (batch, self.slate_size)
        if slate.dim() != 2 or tuple(slate.shape) != expected:
            raise ValueError(
                f"{self.name}: a slate must have shape [B={batch}, K={self.slate_size}] "
                f"(env.slate_size), got {tuple(slate.shape)}"
            )
        if slate.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8, torch.int8):
            raise ValueError(f"{self.name}: slate item ids must be integers, got {slate.dtype}")

    def check_slate_items(self, slate: torch.Tensor, columns: torch.Tensor) -> None:
        """The second half of ``check_slate``: ids in range, no item twice in a row (unless
        ``allow_duplicate_items``). ``columns`` is the same slate position-major, ``slate.T`` [K, B]
        (an env stepping in that layout passes its contiguous copy: the checks run faster on it)."""
        self.check_slate_ids(slate, columns)
        self.check_slate_repeats(slate, columns)

    def check_slate_ids(self, slate: torch.Tensor, columns: torch.Tensor) -> None:
        """Item ids in [0, n_items) (``check_slate_items``' arguments)."""
        if slate.numel() == 0:
            return
        low, high = (int(value) for value in columns.aminmax())  # the ids are only listed on error
        if low < 0 or high >= self.n_items:
            bad = (slate < 0) | (slate >= self.n_items)
            raise ValueError(
                f"{self.name}: slate item ids must be in [0, {self.n_items - 1}], got "
                f"{sorted(set(slate[bad].tolist()))[:10]}"
            )

    def check_slate_repeats(
        self, slate: torch.Tensor, columns: torch.Tensor, wrapped: torch.Tensor | None = None
    ) -> None:
        """No item twice in a row, unless ``allow_duplicate_items`` (``check_slate_items``' arguments).
        ``wrapped`` [K + ⌊K/2⌋, B], optional: ``columns`` followed by its first ⌊K/2⌋ rows again (an
        env that reorders the slate anyway gets it in the same op)."""
        if slate.numel() and not self.allow_duplicate_items and self.slate_size > 1:
            # Position k against positions k + 1 … k + ⌊K/2⌋ round the circle (mod K) meets every pair
            # of positions: one comparison of [⌊K/2⌋, K, B] contiguous rows of users, no sort.
            k, batch = columns.shape
            half = k // 2
            if wrapped is None:
                wrapped = torch.cat((columns, columns[:half]))
            row, column = wrapped.stride()
            ahead = wrapped.as_strided((half, k, batch), (row, row, column), wrapped.storage_offset() + row)
            repeated = torch.eq(ahead, columns)  # [⌊K/2⌋, K, B]: position (k + d) mod K == position k
            if repeated.view(torch.uint8).amax():  # any(), several times faster on CPU
                first = int(repeated.reshape(-1, batch).any(0).nonzero()[0, 0])
                raise ValueError(
                    f"{self.name}: slate row {first} repeats an item ({slate[first].tolist()}); set "
                    "env.allow_duplicate_items=true to allow it"
                )

    def item_popularity(self) -> torch.Tensor:
        """[n_items] float: train-split interactions per item (novelty's popularity)."""
        if self._item_popularity is None:
            from rlrec.agents.baselines import train_item_counts

            self._item_popularity = train_item_counts(self.dataset, self.n_items)
        return self._item_popularity

    def item_reference_vectors(self) -> torch.Tensor:
        """[n_items, d]: the fixed item representation intra-list diversity is measured in, the same for
        every algorithm (an agent's own item tower would make ILD incomparable across models, and the
        baselines have none): the world's topic vectors where the data is simulated, else the items'
        co-consumption in the train split (rlrec.metrics.beyond.co_consumption_vectors)."""
        if self._item_vectors is None:
            world = getattr(self.dataset, "world", None)
            if world is not None:
                self._item_vectors = world.item_topics.float()
            else:
                from rlrec.metrics.beyond import co_consumption_vectors

                train = self.dataset.split("train")
                self._item_vectors = co_consumption_vectors(
                    torch.from_numpy(train["user_id"].to_numpy().astype("int64")),
                    torch.from_numpy(train["item_id"].to_numpy().astype("int64")),
                    self.dataset.n_users,
                    self.n_items,
                )
        return self._item_vectors

    def slate_metrics(self, slates: torch.Tensor) -> dict[str, float]:
        """coverage, novelty, ILD and exposure Gini @K of every slate one evaluation showed [N, K]."""
        from rlrec.metrics.beyond import slate_metrics

        return slate_metrics(
            slates, self.slate_size, self.n_items, self.item_popularity(), self.item_reference_vectors()
        )

    def protocol(self) -> dict:
        """How this environment judges a policy, recorded in summary.json so two tables can be told apart."""
        return {
            "env": self.name,
            "evaluation": "simulated episodes of held-out users",
            "horizon": self.horizon,
        }

    def reference_policies(self) -> dict[str, Policy]:
        """Extra policies evaluated beside the agent (``return_<name>``), e.g. oracles. None by default."""
        return {}

    @torch.no_grad()
    def evaluate(self, policy: Policy, users: torch.Tensor, seed: int) -> dict[str, float]:
        """The agent's episode returns per task, and those of uniform-random and reference policies."""
        from rlrec.envs.rollout import episode_returns, uniform_random_policy

        steps: dict = {}
        episodes = episode_returns(self, policy, users, seed, steps)
        slates = torch.cat(steps.pop("slates"))
        metrics = episode_metrics(episodes)
        metrics |= slate_step_metrics(steps, episodes["episode_length"], self.slate_size)
        metrics |= self.slate_metrics(slates)
        random = episode_returns(
            self, uniform_random_policy(self.n_items, self.slate_size, seed), users, seed
        )
        metrics["return_random"] = random["return"].mean().item()
        for name, reference in self.reference_policies().items():
            metrics[f"return_{name}"] = episode_returns(self, reference, users, seed)["return"].mean().item()
        return metrics


def episode_metrics(episodes: dict[str, torch.Tensor]) -> dict[str, float]:
    """Mean over users of each per-user episode quantity (``return``, ``return_<task>``, ...)."""
    return {name: values.float().mean().item() for name, values in episodes.items()}


def slate_step_metrics(steps: dict[str, torch.Tensor], length: torch.Tensor, k: int) -> dict[str, float]:
    """Ranking metrics of a simulated evaluation, per recommendation step: the item the user acted on
    is that step's one relevant item. ``hr@K`` is the share of steps with a click in the slate,
    ``ndcg@K`` and ``mrr@K`` credit the clicked position p (1/log2(p + 1), 1/p), ``precision@K`` =
    hits / K and ``recall@K`` = hits (one relevant item per step); the same per funnel task
    (``hr@K_purchase``: steps whose clicked item was bought). Each is the mean over a user's active
    steps (``length`` [B]), then over users; ``steps`` holds the per-user sums (rollout.episode_returns)."""
    per_step = length.clamp(min=1)
    metrics = {}
    for key, total in steps.items():
        stat, _, task = key.partition("_")  # hits | dcg | rr, and the task, if any
        suffix = f"_{task}" if task else ""
        mean = (total / per_step).mean().item()
        if stat == "hits":
            metrics |= {
                f"hr@{k}{suffix}": mean,
                f"precision@{k}{suffix}": mean / k,
                f"recall@{k}{suffix}": mean,
            }
        elif stat == "dcg":
            metrics[f"ndcg@{k}{suffix}"] = mean
        else:
            metrics[f"mrr@{k}{suffix}"] = mean
    return metrics
