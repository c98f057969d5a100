"""Uniform replay as a tensor ring: preallocated on the first add, oldest rows overwritten."""

from __future__ import annotations

import torch


class ReplayBuffer:
    """Rows of named tensors (``{"slate": [N, K], "done": [N], ...}``), sampled uniformly."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"replay capacity must be positive, got {capacity}")
        self.capacity = capacity
        self.storage: dict[str, torch.Tensor] = {}
        self.cursor = 0  # next row to write
        self.size = 0  # rows filled

    def __len__(self) -> int:
        return self.size

    def add(self, rows: dict[str, torch.Tensor]) -> None:
        n = len(next(iter(rows.values())))
        if not self.storage:
            self.storage = {
                k: torch.empty((self.capacity, *v.shape[1:]), dtype=v.dtype) for k, v in rows.items()
            }
        index = (self.cursor + torch.arange(n)) % self.capacity
        for key, value in rows.items():
            self.storage[key][index] = value.detach().cpu()
        self.cursor = (self.cursor + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def state_dict(self) -> dict:
        """The filled rows and the write position (not the unfilled rest of the preallocation)."""
        return {
            "rows": {key: value[: self.size] for key, value in self.storage.items()},
            "cursor": self.cursor,
            "size": self.size,
        }

    def load_state_dict(self, state: dict) -> None:
        rows = state["rows"]
        if state["size"] > self.capacity:
            raise ValueError(
                f"the checkpoint's replay buffer holds {state['size']} rows, more than "
                f"algorithm.replay_capacity={self.capacity}"
            )
        self.storage, self.cursor, self.size = {}, 0, 0
        if state["size"]:
            self.add(rows)  # preallocates, writes rows [0, size)
        self.cursor, self.size = state["cursor"], state["size"]

    def sample(self, n: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty replay buffer")
        index = torch.randint(self.size, (n,), generator=generator)
        return {key: value[index] for key, value in self.storage.items()}


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay (Schaul et al. 2016, ICLR, §3.3 and Algorithm 1).

    Row i is drawn with P(i) = p_i^α / Σ_j p_j^α, with p_i = |δ_i| + ε from its latest TD error; a new
    row gets the largest priority seen so far, so it is replayed at least once. The loss of a sampled
    row is weighted by w_i = (N · P(i))^−β / max_j w_j (the max over the whole buffer, i.e. at its
    smallest probability, as in OpenAI Baselines), with β annealed to 1 by the caller.

    The p^α values live in a sum tree (a flat binary tree, leaves at [size, 2·size)), and every
    operation is vectorised over the batch: an update rewrites the leaves and recomputes the
    log2(capacity) levels of parents, a sample descends all draws level by level together. Sampling
    and updating are O(batch · log capacity) tensor work, not O(capacity).
    """

    def __init__(self, capacity: int, alpha: float = 0.6, epsilon: float = 1e-6) -> None:
        super().__init__(capacity)
        if alpha < 0:
            raise ValueError(f"algorithm.per_alpha must be non-negative, got {alpha}")
        self.alpha = alpha
        self.epsilon = epsilon
        self.leaves = 1 << max(capacity - 1, 0).bit_length()  # power of two >= capacity
        self.tree = torch.zeros(2 * self.leaves, dtype=torch.float64)  # node 1 = total; leaf i at leaves + i
        self.max_priority = 1.0  # p (before α) given to new rows

    def add(self, rows: dict[str, torch.Tensor]) -> None:
        n = len(next(iter(rows.values())))
        index = (self.cursor + torch.arange(n)) % self.capacity
        super().add(rows)
        self._set(index, torch.full((n,), self.max_priority**self.alpha, dtype=torch.float64))

    def state_dict(self) -> dict:
        return {**super().state_dict(), "tree": self.tree.clone(), "max_priority": self.max_priority}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.tree, self.max_priority = state["tree"].clone(), state["max_priority"]

    def _set(self, index: torch.Tensor, values: torch.Tensor) -> None:
        """tree[leaf] = values, then every ancestor = sum of its two children, one level at a time."""
        node = index.long() + self.leaves
        self.tree[node] = values.to(torch.float64)
        for _ in range(self.leaves.bit_length() - 1):
            node = torch.unique(node // 2)
            self.tree[node] = self.tree[2 * node] + self.tree[2 * node + 1]

    def probabilities(self, index: torch.Tensor) -> torch.Tensor:
        """P(i) = p_i^α / Σ_j p_j^α for rows ``index``."""
        return self.tree[index.long() + self.leaves] / self.tree[1]

    def sample(
        self, n: int, beta: float = 1.0, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """n rows drawn ∝ p^α (one uniform draw in each of n equal segments of the total, as in the
        paper), with ``index`` [n] and importance-sampling ``weight`` [n] added to the batch."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty replay buffer")
        total = self.tree[1]
        draws = torch.arange(n, dtype=torch.float64) + torch.rand(n, generator=generator, dtype=torch.float64)
        mass = draws * (total / n)  # [n] in [0, total)
        node = torch.ones(n, dtype=torch.long)
        while bool((node < self.leaves).any()):
            left = self.tree[2 * node]
            go_right = mass >= left
            mass = torch.where(go_right, mass - left, mass)
            node = 2 * node + go_right.long()
        index = (node - self.leaves).clamp(max=self.size - 1)  # float round-off can pass the last row
        probability = self.probabilities(index)
        smallest = self.tree[self.leaves : self.leaves + self.size].min() / total
        weight = (self.size * probability) ** (-beta) / (self.size * smallest) ** (-beta)
        batch = {key: value[index] for key, value in self.storage.items()}
        return {**batch, "index": index, "weight": weight.float()}

    def update_priorities(self, index: torch.Tensor, td_error: torch.Tensor) -> None:
        """p_i = |δ_i| + ε for the rows just learned from."""
        priority = td_error.detach().abs().double().cpu() + self.epsilon
        self.max_priority = max(self.max_priority, float(priority.max()))
        self._set(index.cpu(), priority**self.alpha)
