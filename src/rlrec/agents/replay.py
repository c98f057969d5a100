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

    def sample(self, n: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty replay buffer")
        index = torch.randint(self.size, (n,), generator=generator)
        return {key: value[index] for key, value in self.storage.items()}
