"""E-commerce event logs: RetailRocket, Taobao UserBehavior, REES46.

Raw event names are kept (``addtocart``, ``pv``, ``remove_from_cart`` ...); the dataset's
``event_map`` turns them into view / click / cart / purchase. Items have no text of their own, so
their ``title`` is built from what the log knows (id, category, brand) for the text template.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from rlrec.data.readers.raw import (
    RawData,
    glob_files,
    raw_frame,
    read_headerless,
    require_files,
    scan_csv_checked,
)


def read_retailrocket(path: str | Path, events_file: str = "events.csv") -> RawData:
    """events.csv: timestamp (ms), visitorid, event, itemid, transactionid; categories from
    item_properties_part*.csv (property ``categoryid``, latest value per item) when present."""
    folder = Path(path).expanduser()
    (file,) = require_files("retailrocket", folder, (events_file,))
    ids_and_time = ("timestamp", "visitorid", "itemid")
    events = scan_csv_checked(file, (*ids_and_time, "event"), integers=ids_and_time, categories=("event",))
    interactions = events.select(
        pl.col("visitorid").alias("user_key"),
        pl.col("itemid").alias("item_key"),
        (pl.col("timestamp") // 1000).alias("timestamp"),  # ms -> s
        pl.col("event"),
    ).collect()
    files = [file]
    items = interactions.select(pl.col("item_key").unique().sort()).with_columns(
        pl.lit(None, pl.String).alias("category")
    )
    properties = sorted(folder.glob("item_properties_part*.csv"))
    if properties:
        scans = [scan_csv_checked(p, ("timestamp", "itemid", "property", "value")) for p in properties]
        category = (
            pl.concat(scans)
            .filter(pl.col("property") == "categoryid")
            .select(
                pl.col("itemid").cast(pl.Int64, strict=False).alias("item_key"),
                pl.col("timestamp").cast(pl.Int64, strict=False),
                pl.col("value").alias("category"),
            )
            .sort("item_key", "timestamp")
            .group_by("item_key")
            .agg(pl.col("category").last())
            .collect()
        )
        items = items.drop("category").join(category, on="item_key", how="left")
        files += properties
    items = items.with_columns(pl.format("Item {}", pl.col("item_key")).alias("title"))
    return RawData(raw_frame(interactions), items, None, files)


def read_taobao(path: str | Path, events_file: str = "UserBehavior.csv") -> RawData:
    """UserBehavior.csv without a header: user, item, category, behavior (pv/cart/fav/buy), unix ts."""
    folder = Path(path).expanduser()
    (file,) = require_files("taobao", folder, (events_file,))
    log = read_headerless(
        file, ("user_key", "item_key", "category", "event", "timestamp"), ",", infer_schema=False
    ).with_columns(
        pl.col("user_key").cast(pl.Int64, strict=False),
        pl.col("item_key").cast(pl.Int64, strict=False),
        pl.col("timestamp").cast(pl.Int64, strict=False),
    )
    items = (
        log.group_by("item_key")
        .agg(pl.col("category").drop_nulls().min())  # an item's category, deterministic if it varies
        .sort("item_key")
        .with_columns(pl.format("Item {}", pl.col("item_key")).alias("title"))
    )
    return RawData(raw_frame(log), items, None, [file])


def read_rees46(path: str | Path, files: str = "*.csv") -> RawData:
    """REES46 monthly CSVs: event_time ("2019-10-01 00:00:04 UTC"), event_type, product_id,
    category_id, category_code, brand, price, user_id, user_session. Item columns for the template:
    title (brand + category), category, brand, price (the latest seen)."""
    folder = Path(path).expanduser()
    paths = glob_files("rees46", folder, files, "files")
    required = (
        "event_time",
        "event_type",
        "product_id",
        "category_id",
        "category_code",
        "brand",
        "price",
        "user_id",
    )
    log = (
        pl.concat([scan_csv_checked(p, required) for p in paths])
        .select(
            pl.col("user_id").cast(pl.Int64, strict=False).alias("user_key"),
            pl.col("product_id").cast(pl.Int64, strict=False).alias("item_key"),
            pl.col("event_time")
            .str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M:%S %Z", strict=False)
            .dt.epoch("s")
            .alias("timestamp"),
            pl.col("event_type").alias("event"),
            pl.coalesce(pl.col("category_code"), pl.col("category_id")).alias("category"),
            pl.col("category_code"),
            pl.col("brand"),
            pl.col("price"),
        )
        .collect()
    )
    # An item's latest known category, brand and price; its title is "<brand> <category words>".
    title = pl.concat_str(
        [pl.col("brand"), pl.col("category_code").str.replace_all(".", " ", literal=True)],
        separator=" ",
        ignore_nulls=True,
    )
    items = (
        log.sort("timestamp", nulls_last=False)
        .group_by("item_key")
        .agg(pl.col("category", "category_code", "brand", "price").drop_nulls().last())
        .sort("item_key")
        .with_columns(
            pl.when(title.fill_null("") == "")
            .then(pl.format("Product {}", pl.col("item_key")))
            .otherwise(title)
            .alias("title")
        )
        .drop("category_code")
    )
    return RawData(raw_frame(log), items, None, paths)
