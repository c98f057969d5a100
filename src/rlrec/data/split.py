"""Train / valid / test splits over a cleaned, time-ordered log with dense ids.

- ``leave_one_out``: per user, the last interaction → test, the second last → valid (users with
  two interactions give one to test, users with one keep it in train). Ties in time keep the file's
  order, so no test interaction precedes a train interaction of the same user.
- ``chronological``: one global cut in time: the earliest (1 − valid − test) share of rows trains,
  then valid, then test; rows sharing the cut's timestamp go to the later split.
- ``random_users``: users are shuffled with ``seed`` and divided (default 80/10/10).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from rlrec.data.schema import SPLIT_DTYPE

SPLIT_METHODS = ("leave_one_out", "chronological", "random_users")


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
        users = frame["user_id"].to_numpy()
        if len(users) and (np.diff(users.astype(np.int64)) < 0).any():
            raise ValueError("leave_one_out needs interactions sorted by user_id, timestamp")
        counts = np.bincount(users, minlength=n_users)
        starts = np.cumsum(counts) - counts  # first row of each user
        from_end = pl.lit(pl.Series(counts[users] - 1 - (np.arange(len(users)) - starts[users])))
        length = pl.lit(pl.Series(counts[users]))  # 0 in from_end = the user's last interaction
        label = (
            pl.when((from_end == 0) & (length >= 2))
            .then(pl.lit("test"))
            .when((from_end == 1) & (length >= 3))
            .then(pl.lit("valid"))
            .otherwise(pl.lit("train"))
        )
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
