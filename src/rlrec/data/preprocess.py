"""Cleaning a raw log, one counted step at a time.

Every step records the rows it removed (``Step``) and logs it; a step that empties the dataset
fails naming itself and its config key. Order: invalid rows (null ids, unparsable timestamps,
unknown or ignored events) → de-duplication → rating threshold → sessions → iterative k-core →
min/max history → time order.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from rlrec.data.schema import EVENT_DTYPE, EVENTS

log = logging.getLogger(__name__)

DEDUPE_MODES = ("none", "exact", "first")


@dataclass
class Step:
    """One preprocessing step's account: what it did and how many rows it took out."""

    step: str
    removed: int
    remaining: int
    detail: str = ""


class DatasetEmptiedError(ValueError):
    """A filter removed every row."""


class Cleaner:
    """Applies steps to a frame and keeps their account (``steps``)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.steps: list[Step] = []

    def apply(self, step: str, frame: pl.DataFrame, key: str | None = None, detail: str = "") -> None:
        removed = self.frame.height - frame.height
        self.steps.append(Step(step, removed, frame.height, detail))
        log.info(
            f"{step}: removed {removed:,} rows, {frame.height:,} left" + (f" ({detail})" if detail else "")
        )
        if frame.height == 0 and self.frame.height > 0:
            setting = f" ({key})" if key else ""
            raise DatasetEmptiedError(
                f"preprocessing step '{step}'{setting} removed every remaining row ({removed:,}); "
                "loosen it in the dataset config"
            )
        self.frame = frame

    def report(self) -> list[dict[str, Any]]:
        return [asdict(step) for step in self.steps]


def clean(raw: pl.DataFrame, event_map: dict[str, str | None], preprocess: dict[str, Any]) -> Cleaner:
    """Run every configured step over a raw frame (RAW_COLUMNS); the result is in ``.frame``."""
    _check_settings(event_map, preprocess)
    cleaner = Cleaner(raw.with_row_index("row"))  # the file order breaks timestamp ties
    frame = cleaner.frame

    cleaner.apply(
        "drop null ids", frame.filter(pl.col("user_key").is_not_null() & pl.col("item_key").is_not_null())
    )
    cleaner.apply("drop unparsable timestamps", cleaner.frame.filter(pl.col("timestamp").is_not_null()))
    _map_events(cleaner, event_map)

    # Dense integer codes in raw-key order: the steps below count and sort integers, not raw keys.
    # Sorted once here; every later step filters, which keeps the order.
    ordered = cleaner.frame.sort("user_key", "timestamp", "row").with_columns(_code("item_key"))
    cleaner.apply("time order", _with_user_code(ordered), detail="sorted by user, timestamp, file order")

    dedupe = preprocess["dedupe"]
    if dedupe == "exact":
        cleaner.apply("de-duplicate", _drop_exact_duplicates(cleaner.frame), "preprocess.dedupe")
    elif dedupe == "first":
        keys = ["user_code", "item_code", "event"]
        first = cleaner.frame.unique(keys, keep="first", maintain_order=True)  # time-ordered: first in time
        cleaner.apply("de-duplicate", first, "preprocess.dedupe", "first per user, item, event")

    threshold = preprocess["rating_threshold"]
    if threshold is not None:
        # Unrated events (views, clicks) pass; a rating event whose rating did not parse cannot.
        unrated = pl.col("rating").is_null() & (pl.col("event") != "rate")
        kept = cleaner.frame.filter(unrated | (pl.col("rating") >= threshold))
        cleaner.apply("rating threshold", kept, "preprocess.rating_threshold", f"rating >= {threshold}")

    if preprocess["session_gap"] is not None:
        _split_sessions(cleaner, preprocess["session_gap"])

    _k_core(cleaner, preprocess["min_user_interactions"], preprocess["min_item_interactions"])

    users = cleaner.frame["user_code"].to_numpy()
    long_enough = np.bincount(users)[users] >= preprocess["min_history"]
    cleaner.apply(
        "min history",
        cleaner.frame.filter(pl.Series(long_enough)),
        "preprocess.min_history",
        f">= {preprocess['min_history']} interactions per user",
    )
    if preprocess["max_history"] is not None:
        newest_first = pl.int_range(pl.len()).reverse().over("user_code")
        cleaner.apply(
            "max history",
            cleaner.frame.filter(newest_first < preprocess["max_history"]),
            "preprocess.max_history",
            f"keep the newest {preprocess['max_history']} per user",
        )
    return cleaner


def dense_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """``user_id`` and ``item_id`` 0..n-1 in raw-key order, from the codes of the rows that are left."""
    columns = []
    for kind in ("user", "item"):
        codes = frame[f"{kind}_code"].to_numpy()
        present = np.bincount(codes) > 0
        new_id = np.cumsum(present, dtype=np.int64) - 1  # code -> rank among the codes still present
        columns.append(pl.Series(f"{kind}_id", new_id[codes], dtype=pl.UInt32))
    return frame.with_columns(columns)


def _with_user_code(frame: pl.DataFrame) -> pl.DataFrame:
    """user_code from a frame sorted by user_key: a running count of key changes, O(n)."""
    changed = (pl.col("user_key") != pl.col("user_key").shift(1)).fill_null(False)
    return frame.with_columns(changed.cum_sum().cast(pl.UInt32).alias("user_code"))


def _code(key: str) -> pl.Expr:
    return (pl.col(key).rank("dense") - 1).cast(pl.UInt32).alias(key.replace("_key", "_code"))


def _drop_exact_duplicates(frame: pl.DataFrame) -> pl.DataFrame:
    """Keep the first (in file order) of rows with the same user, item, event and timestamp.

    In a time-ordered frame duplicates share a (user, timestamp) run, so only rows in runs longer
    than one are compared, exactly; the rest pass untouched."""
    same_as_previous = (pl.col("user_code") == pl.col("user_code").shift(1)) & (
        pl.col("timestamp") == pl.col("timestamp").shift(1)
    )
    in_run = same_as_previous.fill_null(False) | same_as_previous.shift(-1).fill_null(False)
    runs = frame.filter(in_run)
    duplicates = runs.filter(~pl.struct("user_code", "item_code", "event", "timestamp").is_first_distinct())
    return frame.filter(~pl.col("row").is_in(duplicates["row"].implode())) if duplicates.height else frame


def _check_settings(event_map: dict[str, str | None], preprocess: dict[str, Any]) -> None:
    bad = {raw: event for raw, event in event_map.items() if event is not None and event not in EVENTS}
    if bad:
        raise ValueError(f"dataset.event_map maps {bad} to unknown events; expected one of {EVENTS} or null")
    if not event_map:
        raise ValueError(
            "dataset.event_map is empty: map the raw event names to view|click|cart|purchase|rate"
        )
    if preprocess["dedupe"] not in DEDUPE_MODES:
        raise ValueError(
            f"dataset.preprocess.dedupe must be one of {DEDUPE_MODES}, got {preprocess['dedupe']!r}"
        )
    for key in (
        "min_user_interactions",
        "min_item_interactions",
        "min_history",
        "max_history",
        "session_gap",
    ):
        value = preprocess[key]
        if value is not None and value < (0 if key == "session_gap" else 1):
            raise ValueError(f"dataset.preprocess.{key} must be positive, got {value}")


def _map_events(cleaner: Cleaner, event_map: dict[str, str | None]) -> None:
    """Unknown raw events and events mapped to null are dropped, each counted by name."""
    frame = cleaner.frame
    counts = dict(frame.group_by("event").len().iter_rows())
    unknown = {event: n for event, n in counts.items() if event not in event_map}
    ignored = {event: n for event, n in counts.items() if event in event_map and event_map[event] is None}
    cleaner.apply(
        "drop unknown event types",
        frame.filter(pl.col("event").is_in(list(event_map))),  # a null event is unknown too
        "dataset.event_map",
        ", ".join(
            f"{event if event is not None else 'null'}: {n:,}"
            for event, n in sorted(unknown.items(), key=lambda kv: str(kv[0]))
        ),
    )
    kept = [event for event, mapped in event_map.items() if mapped is not None]
    cleaner.apply(
        "drop ignored event types",
        cleaner.frame.filter(pl.col("event").is_in(kept)),
        "dataset.event_map",
        ", ".join(f"{event}: {n:,}" for event, n in sorted(ignored.items())),
    )
    mapping = {raw: mapped for raw, mapped in event_map.items() if mapped is not None}
    cleaner.frame = cleaner.frame.with_columns(
        pl.col("event").replace_strict(mapping, return_dtype=EVENT_DTYPE)
    )


def _split_sessions(cleaner: Cleaner, gap: int) -> None:
    """A pause longer than ``gap`` seconds starts a new session; each session becomes a user
    (raw key ``"<user>#<n>"``), as session-based logs such as RetailRocket are used in SQN."""
    frame = cleaner.frame
    new_session = (pl.col("timestamp").diff().over("user_code") > gap).fill_null(False)
    frame = frame.with_columns(
        pl.format("{}#{}", pl.col("user_key"), new_session.cum_sum().over("user_code")).alias("user_key")
    )
    frame = _with_user_code(frame.sort("user_key", "timestamp", "row"))  # "<user>#<n>" keys sort anew
    users_before = cleaner.frame["user_key"].n_unique()
    cleaner.apply(
        "sessions",
        frame,
        "preprocess.session_gap",
        f"{users_before:,} users -> {frame['user_key'].n_unique():,} sessions (gap {gap} s)",
    )


def _k_core(cleaner: Cleaner, min_user: int, min_item: int) -> None:
    """Iterative k-core: drop users and items below their minimum until both minima hold."""
    users, items = cleaner.frame["user_code"].to_numpy(), cleaner.frame["item_code"].to_numpy()
    keep, rounds = np.ones(len(users), dtype=bool), 0
    while True:
        rounds += 1
        user_count = np.bincount(users[keep], minlength=len(users) and int(users.max()) + 1)
        item_count = np.bincount(items[keep], minlength=len(items) and int(items.max()) + 1)
        kept = keep & (user_count[users] >= min_user) & (item_count[items] >= min_item)
        if kept.sum() == keep.sum():
            break
        keep = kept
    cleaner.apply(
        "k-core",
        cleaner.frame.filter(pl.Series(keep)),
        "preprocess.min_user_interactions / min_item_interactions",
        f"users >= {min_user}, items >= {min_item}, {rounds} rounds",
    )
