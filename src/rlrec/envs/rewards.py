"""Reward functions (``reward/`` config group): per-behaviour outcomes -> one scalar reward.

An environment reports what each user did as 0/1 tensors per behaviour (``click``, ``cart``,
``purchase``) and, where the data has them, a rating and a text; the reward function turns them
into ``rewards["total"]``. The per-behaviour values stay in ``rewards`` for multi-task agents and
per-task metrics.
"""

from __future__ import annotations

import torch

RATING_MODES = ("none", "threshold", "scaled")
BEHAVIOURS = ("click", "cart", "purchase", "rating", "text")  # every reward key an environment may produce


class WeightedReward:
    """total = Σ_task weight[task] · outcome[task]  (+ weight["rating"] · rating term).

    Defaults follow SQN (Xin et al. 2020): click 0.2, purchase 1.0; cart sits between them (0.5,
    our choice). The rating term is 0 (``rating_mode: none``), 1 if the rating reaches
    ``rating_threshold`` (``threshold``), or the rating scaled to [0, 1] over
    [``rating_min``, ``rating_max``] (``scaled``).
    """

    def __init__(
        self,
        *,
        weights: dict[str, float],
        rating_mode: str,
        rating_threshold: float,
        rating_min: float,
        rating_max: float,
        name: str,
    ) -> None:
        if rating_mode not in RATING_MODES:
            raise ValueError(f"reward.rating_mode must be one of {RATING_MODES}, got {rating_mode!r}")
        if rating_max <= rating_min:
            raise ValueError(f"reward.rating_max ({rating_max}) must exceed reward.rating_min ({rating_min})")
        self.name = name
        self.weights = dict(weights)
        self.rating_mode = rating_mode
        self.rating_threshold = rating_threshold
        self.rating_min = rating_min
        self.rating_max = rating_max
        self._weights_key: tuple | None = None  # the weights _weight_values was built from

    def check_tasks(self, tasks: tuple[str, ...], env_name: str) -> None:
        """A misspelt behaviour, or weights none of which the environment produces, is a config error.

        A weight for a behaviour this environment lacks (``purchase`` on MovieLens) is allowed: the
        same reward config then serves every dataset.
        """
        unknown = sorted(set(self.weights) - set(BEHAVIOURS))
        if unknown:
            raise ValueError(f"reward.weights names {unknown}; the behaviours are {list(BEHAVIOURS)}")
        produced = set(tasks) | ({"rating"} if self.rating_mode != "none" else set())
        if not any(weight != 0 and task in produced for task, weight in self.weights.items()):
            raise ValueError(
                f"reward.weights {self.weights} give no weight to what env={env_name} produces "
                f"({sorted(produced)}), so every reward would be 0"
            )

    def rating_reward(self, rating: torch.Tensor) -> torch.Tensor:
        """[B] ratings (NaN where none) -> [B] rating reward (0 where none)."""
        if self.rating_mode == "threshold":
            value = (rating >= self.rating_threshold).float()
        elif self.rating_mode == "scaled":
            value = ((rating - self.rating_min) / (self.rating_max - self.rating_min)).clamp(0.0, 1.0)
        else:
            value = torch.zeros_like(rating)
        return torch.nan_to_num(value, nan=0.0)

    def __call__(
        self,
        outcomes: dict[str, torch.Tensor],
        rating: torch.Tensor | None = None,
        text: list[str | None] | None = None,
    ) -> dict[str, torch.Tensor]:
        """outcomes {task: [B]} -> the same with ``rating`` (if scored) and ``total`` added."""
        rewards = {
            task: value if value.dtype == torch.float32 else value.float() for task, value in outcomes.items()
        }
        if self.rating_mode != "none" and rating is not None:
            rewards["rating"] = self.rating_reward(rating.float())
        total = None
        for task, weight in self._weight_tensors().items():
            if task in rewards:
                # Σ w r in the order of ``weights``: w₁ r₁, then (… + r w) in one op each
                total = (
                    rewards[task] * weight if total is None else torch.addcmul(total, rewards[task], weight)
                )
        rewards["total"] = total if total is not None else torch.zeros(next(iter(rewards.values())).shape)
        return rewards

    def _weight_tensors(self) -> dict[str, torch.Tensor]:
        """``weights`` as 0-dim float32 tensors, rebuilt when ``weights`` changes: an op with a Python
        number wraps it in a new tensor each call (more time than the op on a batch of rewards);
        the products are the same, as the number is cast to float32 anyway."""
        key = tuple(self.weights.items())
        if self._weights_key != key:
            self._weights_key = key
            self._weight_values = {task: torch.tensor(weight, dtype=torch.float32) for task, weight in key}
        return self._weight_values
