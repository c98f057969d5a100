"""Train / valid / test splits over a cleaned, time-ordered log with dense ids.

- ``leave_one_out``: per user, the last interaction → test, the second last → valid (users with
  two interactions give one to test, users with one keep it in train). Ties in time keep the file's
  order, so no test interaction precedes a train interaction of the same user.
- ``chronological``: one global cut in time: the earliest (1 − valid − test) share of rows trains,
  then valid, then test; rows sharing the cut's timestamp go to the later split.
- ``random_users``: users are shuffled with ``seed`` and divided (default 80/10/10).
- ``cold_items``: a seeded ``cold_fraction`` of the items is held out with every interaction it has:
  half of those items (rounded down) go to valid, the rest to test, so training never sees them;
  the other (warm) interactions are divided leave-one-out as above. Evaluation then ranks the whole
  catalogue for both kinds of target, and the replay env reports the cold ones apart
  (``eval/ndcg@10_cold``, ``_warm``): the cold-start protocol of text-aware recommenders.
- ``cold_users``: a seeded ``cold_fraction`` of the users is held out of training: each one's first
  ``cold_history`` interactions become ``history`` (context the evaluation reads as the user's past,
  never trained on, never a target), the rest are targets, in valid for the first half of the drawn
  users (rounded down) and in test for the others; every other user is divided leave-one-out. The
  replay env reports the held-out users apart (``eval/ndcg@10_cold_users``, ``_warm_users``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from rlrec.data.schema import SPLIT_DTYPE

SPLIT_METHODS = ("leave_one_out", "chronological", "random_users", "cold_items", "cold_users")
SEEDED_METHODS = ("random_users", "cold_items", "cold_users")  # the splits that draw with split.seed


def assign_splits(frame: pl.DataFrame, split: dict[str, Any], n_users: int) -> pl.DataFrame:
    """Add the ``split`` column to ``frame`` (sorted by user_id, timestamp, row)."""
    method, valid, test = split["method"], split["valid_fraction"], split["test_fraction"]
    if method not in SPLIT_METHODS:
        raise ValueError(f"dataset.split.method must be one of {SPLIT_METHODS}, got {method!r}")
    if not (0.0 <= valid < 1.0 and 0.0 <= test < 1.0 and valid + test < 1.0):
        raise ValueError(
            f"dataset.split.valid_fraction={valid} and test_fraction={test} must be in [0, 1) with a sum below 1"
        )
    if method == "leave_one_out":
        label = _leave_one_out(frame["user_id"].to_numpy(), n_users)
    elif method == "cold_items":
        label = _cold_items(frame, split, n_users)
    elif method == "cold_users":
        label = _cold_users(frame, split, n_users)
    elif method == "chronological":
        times = frame["timestamp"].sort()
        cut_valid = times[min(int(len(times) * (1.0 - valid - test)), len(times) - 1)]
        cut_test = times[min(int(len(times) * (1.0 - test)), len(times) - 1)]
        label = (
            pl.when(pl.col("timestamp") < cut_valid)
            .then(pl.lit("train"))
            .when(((pl.col("timestamp") < cut_test) | (test == 0.0)) & (valid > 0.0))
            .then(pl.lit("valid"))
            .when(test == 0.0)
            .then(pl.lit("train"))
            .otherwise(pl.lit("test"))
        )
    else:
        if split["seed"] is None:
            raise ValueError("dataset.split.seed must be set for split.method=random_users")
        order = np.random.default_rng(split["seed"]).permutation(n_users)
        n_test, n_valid = int(round(n_users * test)), int(round(n_users * valid))
        user_split = np.full(n_users, "train", dtype=object)
        user_split[order[:n_test]] = "test"
        user_split[order[n_test : n_test + n_valid]] = "valid"
        label = pl.col("user_id").replace_strict(
            list(range(n_users)), user_split.tolist(), return_dtype=pl.String
        )
    return frame.with_columns(label.cast(SPLIT_DTYPE).alias("split"))


def _leave_one_out(users: np.ndarray, n_users: int) -> pl.Expr:
    """Per user (rows grouped by user in time order): last → test, second last → valid."""
    if len(users) and (np.diff(users.astype(np.int64)) < 0).any():
        raise ValueError("leave_one_out needs interactions sorted by user_id, timestamp")
    counts = np.bincount(users, minlength=n_users)
    starts = np.cumsum(counts) - counts  # first row of each user
    from_end = pl.lit(pl.Series(counts[users] - 1 - (np.arange(len(users)) - starts[users])))
    length = pl.lit(pl.Series(counts[users]))  # 0 in from_end = the user's last interaction
    return (
        pl.when((from_end == 0) & (length >= 2))
        .then(pl.lit("test"))
        .when((from_end == 1) & (length >= 3))
        .then(pl.lit("valid"))
        .otherwise(pl.lit("train"))
    )


def _cold_items(frame: pl.DataFrame, split: dict[str, Any], n_users: int) -> pl.Expr:
    """Cold items' rows → valid (the first half of the drawn items) or test; warm rows leave-one-out."""
    fraction, seed = split.get("cold_fraction", 0.1), split["seed"]
    if seed is None:
        raise ValueError("dataset.split.seed must be set for split.method=cold_items")
    if not 0.0 < fraction < 1.0:
        raise ValueError(
            f"dataset.split.cold_fraction={fraction} must be in (0, 1) for split.method=cold_items"
        )
    items = frame["item_id"].to_numpy().astype(np.int64)
    n_items = int(items.max()) + 1 if len(items) else 0
    order = np.random.default_rng(seed).permutation(n_items)
    n_cold = max(int(round(n_items * fraction)), 2 if n_items >= 2 else 0)
    place = np.full(n_items, "", dtype=object)  # "" = warm
    place[order[: n_cold // 2]] = "valid"
    place[order[n_cold // 2 : n_cold]] = "test"
    cold_place = place[items]
    warm = cold_place == ""
    warm_label = np.full(len(items), "", dtype=object)
    if warm.any():
        users = frame["user_id"].to_numpy()[warm]
        warm_label[warm] = pl.select(_leave_one_out(users, n_users)).to_series().to_numpy()
    return pl.lit(pl.Series(np.where(warm, warm_label, cold_place).tolist(), dtype=pl.String))


def _cold_users(frame: pl.DataFrame, split: dict[str, Any], n_users: int) -> pl.Expr:
    """Held-out users: first ``cold_history`` rows → history, the rest → valid (first half of the drawn
    users) or test; the other users' rows leave-one-out."""
    fraction, seed, k = split.get("cold_fraction", 0.1), split["seed"], split.get("cold_history", 5)
    if seed is None:
        raise ValueError("dataset.split.seed must be set for split.method=cold_users")
    if not 0.0 < fraction < 1.0:
        raise ValueError(
            f"dataset.split.cold_fraction={fraction} must be in (0, 1) for split.method=cold_users"
        )
    if k < 1:
        raise ValueError(f"dataset.split.cold_history={k} must be at least 1 for split.method=cold_users")
    users = frame["user_id"].to_numpy().astype(np.int64)
    if len(users) and (np.diff(users) < 0).any():
        raise ValueError("cold_users needs interactions sorted by user_id, timestamp")
    order = np.random.default_rng(seed).permutation(n_users)
    n_cold = max(int(round(n_users * fraction)), 2 if n_users >= 2 else 0)
    place = np.full(n_users, "", dtype=object)  # "" = warm
    place[order[: n_cold // 2]] = "valid"
    place[order[n_cold // 2 : n_cold]] = "test"
    counts = np.bincount(users, minlength=n_users)
    position = np.arange(len(users)) - (np.cumsum(counts) - counts)[users]  # index in the user's sequence
    cold_place = place[users]
    cold = cold_place != ""
    label = np.where(cold & (position < k), "history", cold_place).astype(object)
    warm = ~cold
    if warm.any():
        label[warm] = pl.select(_leave_one_out(users[warm], n_users)).to_series().to_numpy()
    return pl.lit(pl.Series(label.tolist(), dtype=pl.String))
