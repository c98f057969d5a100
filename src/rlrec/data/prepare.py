"""Raw files → cleaned, split dataset with dense ids, cached as parquet (the command: rlrec.prepare)."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
from omegaconf import Container, OmegaConf

from rlrec.data.cache import cache_key, entry_path, read_entry, write_entry
from rlrec.data.item_text import template_expr
from rlrec.data.preprocess import clean, dense_ids
from rlrec.data.readers import reader_for
from rlrec.data.schema import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, SPLIT_DTYPE, RecDataset
from rlrec.data.split import SEEDED_METHODS, assign_splits
from rlrec.data.stats import dataset_stats

log = logging.getLogger(__name__)


def prepare_dataset(
    name: str,
    format: str,
    path: str,
    event_map: dict[str, str | None],
    preprocess: dict[str, Any],
    split: dict[str, Any],
    cache_dir: str,
    text_template: str = "{title}",
    **reader_options: Any,
) -> RecDataset:
    """Read ``path`` with the ``format`` reader, clean, give dense ids, split, cache; or read the cache."""
    event_map, preprocess, split, reader_options = (
        _plain(value) for value in (event_map, preprocess, split, reader_options)
    )
    read = reader_for(format)
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(read).parameters.items()
        if name != "path" and parameter.default is not inspect.Parameter.empty
    }
    reader_options = {**defaults, **reader_options}  # the same key whether options come from a config or not
    folder = Path(path).expanduser()
    files = _raw_files(folder)
    config = {
        "format": format,
        "reader": reader_options,
        "event_map": event_map,
        "text_template": text_template,
        "preprocess": preprocess,
        # Only the seeded splits depend on the seed; the others are the same for every run seed.
        "split": split
        if split["method"] in SEEDED_METHODS
        else {k: v for k, v in split.items() if k != "seed"},
    }
    key = cache_key(files, config) if files is not None else None
    entry = entry_path(cache_dir, name, key) if key is not None else None
    cached = read_entry(entry) if entry is not None else None
    if cached is not None:
        log.info(f"dataset {name}: read from cache {entry}")
        return _to_dataset(name, cached, key, entry, from_cache=True)

    log.info(f"dataset {name}: reading {format} files in {folder}")
    raw = read(folder, **reader_options)
    key = key or cache_key(raw.files, config)
    entry = entry_path(cache_dir, name, key)
    if raw.interactions.height == 0:
        names = ", ".join(str(file) for file in raw.files)
        raise ValueError(f"dataset.format={format}: no interactions in {names} (a header and no rows?)")
    cleaner = clean(raw.interactions, event_map, preprocess)
    frame = cleaner.frame

    # Dense ids in raw-key order; the maps keep the raw keys (as strings) for going back.
    frame = dense_ids(frame)
    user_map = _id_map(frame, "user")
    item_map = _id_map(frame, "item")
    n_users = user_map.height
    frame = assign_splits(frame, split, n_users)  # already sorted by user, timestamp, file order
    interactions = frame.select(*INTERACTIONS_SCHEMA, "split")
    items = _items(frame, raw.items, text_template)
    users = None
    if raw.users is not None:
        users = user_map.join(
            raw.users.with_columns(pl.col("user_key").cast(pl.String)),
            left_on="key",
            right_on="user_key",
            how="inner",
        ).sort("user_id")

    stats = dataset_stats(name, interactions, n_users, items.height, cleaner.report())
    stats["source"] = str(folder)
    tables = {
        "interactions": interactions,
        "items": items,
        "user_map": user_map,
        "item_map": item_map,
        "users": users,
    }
    write_entry(entry, tables, stats, config)
    log.info(f"dataset {name}: cached in {entry}")
    return _to_dataset(name, {**tables, "stats": stats}, key, entry, from_cache=False)


def _plain(value: Any) -> Any:
    """Config nodes (at any depth) as plain dicts and lists, for hashing and for the readers."""
    if isinstance(value, Container):
        return OmegaConf.to_container(value, resolve=True)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _raw_files(folder: Path) -> list[Path] | None:
    """Every file under the dataset folder: the cache key fingerprints them all, so it cannot miss a
    file some reader reads (editing any file there prepares anew, which only costs time)."""
    if not folder.is_dir():
        return None  # the reader raises the error naming the format
    files = [f for f in folder.rglob("*") if f.is_file() and not f.name.startswith(".")]
    return files or None


def _keys(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """``<kind>_id`` and ``<kind>_key`` of each id, in id order, from its first row (O(rows))."""
    ids = frame[f"{kind}_id"].to_numpy()
    first_row = np.empty(int(ids.max()) + 1 if len(ids) else 0, dtype=np.int64)
    first_row[ids[::-1]] = np.arange(len(ids) - 1, -1, -1)  # the last write per id is its first row
    return frame.select(f"{kind}_id", f"{kind}_key")[first_row]


def _id_map(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Dense id -> raw key (as a string), the table that maps results back to the raw data."""
    return _keys(frame, kind).select(f"{kind}_id", pl.col(f"{kind}_key").cast(pl.String).alias("key"))


def _items(frame: pl.DataFrame, raw_items: pl.DataFrame | None, template: str) -> pl.DataFrame:
    """One row per item id: the reader's item columns (title falls back to the raw key) and the text."""
    keys = _keys(frame, "item")
    if raw_items is not None:
        raw_items = raw_items.with_columns(pl.col("item_key").cast(keys.schema["item_key"], strict=False))
        keys = keys.join(
            raw_items.unique("item_key", keep="first", maintain_order=True), on="item_key", how="left"
        )
        keys = keys.sort("item_id")
    for column in ("title", "category"):
        if column not in keys.columns:
            keys = keys.with_columns(pl.lit(None, pl.String).alias(column))
    keys = keys.with_columns(
        pl.coalesce(pl.col("title").cast(pl.String), pl.col("item_key").cast(pl.String)).alias("title")
    )
    extra = [column for column in keys.columns if column not in (*ITEMS_SCHEMA, "item_key")]
    keys = keys.with_columns(template_expr(template, [*ITEMS_SCHEMA, *extra]).alias("text"))
    return keys.select(*ITEMS_SCHEMA, *extra).cast(ITEMS_SCHEMA)


def _to_dataset(name: str, tables: dict[str, Any], key: str, entry: Path, from_cache: bool) -> RecDataset:
    interactions = tables["interactions"].cast({**INTERACTIONS_SCHEMA, "split": SPLIT_DTYPE})
    stats = tables["stats"]
    users_in = {
        split: torch.tensor(
            interactions.filter(pl.col("split") == split)["user_id"].unique().sort().to_list(),
            dtype=torch.long,
        )
        for split in ("train", "test")
    }
    dataset = RecDataset(
        name=name,
        interactions=interactions,
        items=tables["items"].cast(ITEMS_SCHEMA),
        n_users=stats["users"],
        train_users=users_in["train"],
        eval_users=users_in["test"],
        cache_key=key,
        stats=stats,
        users=tables.get("users"),
        cache_entry=entry,
        from_cache=from_cache,
    )
    dataset.validate()
    return dataset


SAMPLE_TEXTS = 3  # item texts `rlrec data prepare` shows: what the language model will read


def format_sample_texts(items, n: int = SAMPLE_TEXTS) -> str:
    """The first, middle and last item's text (``dataset.text_template`` rendered), one per line."""
    texts = items["text"].to_list()
    picks = sorted({round(k * (len(texts) - 1) / max(n - 1, 1)) for k in range(n)}) if texts else []
    lines = [f"  item {i}: {texts[i]!r}" for i in picks]
    return "\n".join([f"item texts the language model reads ({len(picks)} of {len(texts):,}):", *lines])
