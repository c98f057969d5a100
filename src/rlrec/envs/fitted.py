"""A simulator fitted to a real dataset (``env=fitted``): a response model learnt from the train split.

At construction a ResponseModel (rlrec.envs.response_model) is fitted, seeded, on the dataset's
``train`` interactions and scored by AUC on a held-out split. Each step a simulated user sees the
slate and clicks at most one item by a multinomial logit over the fitted click logits with a no-click
option (McFadden 1974; as in SlateQ, Ie et al. 2019):

    P(click k) = exp(s_k) / (exp(u_0) + Σ_j exp(s_j)),   s_k = logit_click(u, slate_k)

then, for the clicked item, each funnel behaviour (cart, purchase, rating ≥ threshold) happens with
probability σ(logit_b(u, item)). A clicked item joins the history. The user leaves after
``horizon`` steps, or when, among the last ``leave_window`` items they clicked this episode, more
than ``leave_threshold`` share the category of the item just clicked (the boredom rule of KuaiEnv in
EasyRL4Rec, Yu et al. 2024; an item without a category counts as its own category).

Bias caveat: the model learns from what the logging policy showed, so it inherits that policy's
exposure and popularity bias and cannot judge items it (almost) never saw interacted with.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

import polars as pl
import torch

from rlrec.data.schema import RecDataset
from rlrec.envs.base import Observation, Policy, RecEnv
from rlrec.envs.logged import UserSequences
from rlrec.envs.response_model import (
    ResponseModel,
    behaviours_of,
    fit_response_model,
    validation_auc,
)
from rlrec.envs.rewards import WeightedReward
from rlrec.runtime.checks import require_positive

log = logging.getLogger(__name__)

CACHE_VERSION = "fitted-v1"


class FittedRecEnv(RecEnv):
    """``reset(users) -> obs``; ``step(slate)`` samples the fitted user model's response."""

    episode_state = ("_users", "_history", "_mask", "_recent", "_done", "_t")

    def __init__(
        self,
        dataset: RecDataset,
        reward: WeightedReward | None = None,
        *,
        name: str,
        num_envs: int,
        slate_size: int,
        horizon: int,
        history_window: int,
        eval_episodes_users: int,
        behaviours: list[str] | None,
        no_click_utility: float,
        leave_window: int,
        leave_threshold: int | None,
        rating_threshold: float,
        embedding_dim: int,
        epochs: int,
        batch_size: int,
        lr: float,
        weight_decay: float,
        negatives: int,
        auc_split: str | None,
        auc_negatives: int,
        fit_seed: int,
        cache_dir: str | None,
        seed: int = 0,
    ) -> None:
        require_positive(
            "env",
            leave_window=leave_window,
            embedding_dim=embedding_dim,
            epochs=epochs,
            batch_size=batch_size,
            negatives=negatives,
            auc_negatives=auc_negatives,
        )
        train = dataset.split("train")
        if train.height == 0:
            raise ValueError(f"env={name}: dataset {dataset.name!r} has no train-split interactions to fit")
        available = behaviours_of(train)
        wanted = tuple(behaviours) if behaviours is not None else available
        missing = [b for b in wanted if b not in available]
        if missing:
            raise ValueError(
                f"env.behaviours asks for {missing}, which dataset {dataset.name!r} does not have in its "
                f"train split; it has {list(available)}"
            )
        if "click" not in wanted:
            raise ValueError(f"env.behaviours must include click (the choice model), got {list(wanted)}")
        tasks = tuple(b for b in available if b in wanted)  # click first
        self._init_shared(
            dataset, reward, name, tasks, num_envs, slate_size, horizon, history_window,
            eval_episodes_users, seed,
        )  # fmt: skip
        self.no_click_utility = no_click_utility
        self.leave_window, self.leave_threshold = leave_window, leave_threshold

        names = dataset.items["category"].drop_nulls().unique().sort()
        codes = dataset.items["category"].replace_strict(
            names, range(len(names)), default=-1, return_dtype=pl.Int64
        )
        self.item_category = torch.from_numpy(codes.fill_null(-1).to_numpy().copy())  # [n_items], -1 = none
        n_categories = int(self.item_category.max()) + 1
        # For the leaving rule an item without a category is its own category.
        self.leave_category = torch.where(
            self.item_category >= 0, self.item_category, n_categories + torch.arange(self.n_items)
        )

        self.train_log = UserSequences.from_frame(train, dataset.n_users)
        known = self.train_log.length > 0  # [n_users] users the model is fitted on
        fit = dict(
            behaviours=self.tasks,
            dim=embedding_dim,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            negatives=negatives,
            rating_threshold=rating_threshold,
            seed=fit_seed,
        )
        split = auc_split if auc_split is not None else ("valid" if _has_rows(dataset, "valid") else "test")
        if not _has_rows(dataset, split):
            raise ValueError(
                f"env.auc_split={split!r}: dataset {dataset.name!r} has no interactions in that split"
            )
        self.model, self.auc = self._fitted_model(dataset, train, known, fit, split, auc_negatives, cache_dir)
        self.train_users = dataset.train_users[known[dataset.train_users]]
        eval_users = dataset.eval_users[known[dataset.eval_users]]
        if len(eval_users) == 0:
            log.warning(
                f"env={name}: no evaluation user of dataset {dataset.name!r} has train interactions the "
                "response model could learn from; evaluating on simulated training users instead"
            )
            eval_users = self.train_users
        self.eval_users = eval_users[:eval_episodes_users]
        self._users = self._history = self._mask = self._recent = self._done = None
        self._t = 0

    # --- the response model --------------------------------------------------------------------
    def _fitted_model(self, dataset, train, known, fit, split, auc_negatives, cache_dir):
        key_source = json.dumps([CACHE_VERSION, dataset.cache_key, fit, split, auc_negatives], sort_keys=True)
        key = hashlib.sha256(key_source.encode()).hexdigest()[:16]
        path = Path(cache_dir).expanduser() / "fitted" / f"{key}.safetensors" if cache_dir else None
        if path is not None and path.is_file():
            from safetensors.torch import load_file, safe_open

            with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten: no RNG use
                model = ResponseModel(
                    dataset.n_users, self.n_items, self.tasks, fit["dim"], self.item_category
                )
            model.load_state_dict(load_file(path))
            with safe_open(path, framework="pt") as stored:
                auc = json.loads(stored.metadata()["auc"])
            log.info(f"Loaded the fitted response model from {path}; validation AUC {_shown(auc)}")
            return model.eval().requires_grad_(False), auc
        started = time.perf_counter()
        model = fit_response_model(
            train,
            dataset.n_users,
            self.item_category,
            self.tasks,
            fit["dim"],
            fit["epochs"],
            fit["batch_size"],
            fit["lr"],
            fit["weight_decay"],
            fit["negatives"],
            fit["rating_threshold"],
            fit["seed"],
        )
        held_out = dataset.split(split)
        auc = validation_auc(model, held_out, known, fit["rating_threshold"], auc_negatives, fit["seed"])
        log.info(
            f"Fitted the response model on {train.height} train interactions in "
            f"{time.perf_counter() - started:.1f}s; {split} AUC {_shown(auc)}"
        )
        if path is not None:
            from safetensors.torch import save_file

            path.parent.mkdir(parents=True, exist_ok=True)
            state = {k: v.contiguous() for k, v in model.state_dict().items()}
            save_file(state, path, metadata={"auc": json.dumps(auc), "key": key_source})
        return model, auc

    # --- simulation ----------------------------------------------------------------------------
    def reset(self, users: torch.Tensor) -> Observation:
        self._users = users
        self._history, self._mask = self.train_log.window(
            users, self.train_log.length[users], self.history_window
        )
        self._recent = torch.full((len(users), self.leave_window), -1, dtype=torch.long)  # categories clicked
        self._done = torch.zeros(len(users), dtype=torch.bool)
        self._t = 0
        return self._observation()

    @torch.no_grad()
    def step(self, slate: torch.Tensor) -> tuple[Observation, dict[str, torch.Tensor], torch.Tensor, dict]:
        """slate [B, K] -> next obs, rewards {behaviour: [B], "total": [B]}, done [B], info."""
        if self._users is None:
            raise RuntimeError("call reset(users) before step(slate)")
        batch = len(self._users)
        self.check_slate(slate, batch)
        active = ~self._done
        logits = self.model(self._users, slate)  # [n_behaviours, B, K]
        no_click = torch.full((batch, 1), self.no_click_utility)
        choice = torch.multinomial(
            torch.cat([no_click, logits[0]], 1).softmax(1), 1, generator=self.generator
        )
        clicked_position = torch.where(active, choice.squeeze(1) - 1, -1)  # [B], -1 = no click
        clicked = clicked_position >= 0
        at = clicked_position.clamp(min=0)[:, None]
        clicked_item = slate.gather(1, at)  # [B, 1]
        outcomes = {"click": clicked.float()}
        for j, behaviour in enumerate(self.tasks[1:], start=1):
            chance = logits[j].gather(1, at).squeeze(1).sigmoid()
            outcomes[behaviour] = (clicked & (torch.rand(batch, generator=self.generator) < chance)).float()

        rewards = self.rewards(outcomes, clicked, clicked_item.squeeze(1))  # before the history moves on
        shifted = torch.cat([self._history[:, 1:], clicked_item], 1)
        shifted_mask = torch.cat([self._mask[:, 1:], torch.ones(batch, 1, dtype=torch.bool)], 1)
        self._history = torch.where(clicked[:, None], shifted, self._history)
        self._mask = torch.where(clicked[:, None], shifted_mask, self._mask)
        category = self.leave_category[clicked_item.squeeze(1)]  # [B]
        recent = torch.cat([self._recent[:, 1:], category[:, None]], 1)
        self._recent = torch.where(clicked[:, None], recent, self._recent)
        self._t += 1
        leaves = torch.zeros(batch, dtype=torch.bool)
        if self.leave_threshold is not None:
            leaves = clicked & ((self._recent == category[:, None]).sum(1) > self.leave_threshold)
        self._done = self._done | leaves | (self._t >= self.horizon)
        info = {"clicked_position": clicked_position, "active": active}
        return self._observation(), rewards, self._done.clone(), info

    def rewards(
        self, outcomes: dict[str, torch.Tensor], clicked: torch.Tensor, clicked_item: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """The reward of this step's outcomes; ``clicked`` [B] bool and ``clicked_item`` [B] (any
        value where nothing was clicked) are for subclasses that read more than the outcomes (env=lm_user
        writes a feedback text), called before the clicked item joins the history."""
        return self.reward(outcomes)

    def _observation(self) -> Observation:
        return {"user": self._users, "history": self._history.clone(), "history_mask": self._mask.clone()}

    def reference_policies(self) -> dict[str, Policy]:
        """``oracle``: the top-K items by the fitted click logit (greedy for the simulated user)."""
        return {
            "oracle": lambda obs: self.model.all_items(obs["user"], "click").topk(self.slate_size).indices
        }

    @torch.no_grad()
    def evaluate(self, policy: Policy, users: torch.Tensor, seed: int) -> dict[str, float]:
        """Simulated returns (agent, uniform-random, oracle) and the response model's validation AUC."""
        metrics = super().evaluate(policy, users, seed)
        return metrics | {f"fitted_auc_{behaviour}": value for behaviour, value in self.auc.items()}


def _has_rows(dataset: RecDataset, split: str) -> bool:
    return dataset.interactions.filter(pl.col("split") == split).height > 0


def _shown(auc: dict[str, float]) -> str:
    return ", ".join(f"{behaviour} {value:.3f}" for behaviour, value in auc.items())
