"""Bring your own log: any CSV/TSV/parquet, mapped onto the schema by ``dataset.columns``.

``columns`` maps schema fields to your column names (``user_id`` and ``item_id`` required;
``timestamp``, ``event``, ``rating``, ``text`` optional, null when your file has none). Without an
event column every row gets ``default_event``; without a timestamp column the file's row order is
the time order. ``item_columns`` does the same for an optional item table, whose ``extra`` columns
keep their names so the text template can use them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from rlrec.data.readers.raw import RawData, raw_frame, require_columns, require_files

INTERACTION_FIELDS = ("user_id", "item_id", "timestamp", "event", "rating", "text")
TIMESTAMP_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000}


def read_custom(
    path: str | Path,
    interactions_file: str,
    columns: dict[str, str | None],
    items_file: str | None = None,
    item_columns: dict | None = None,
    separator: str = ",",
    default_event: str = "click",
    timestamp_unit: str = "s",
) -> RawData:
    folder = Path(path).expanduser()
    columns = {field: column for field, column in columns.items() if column is not None}
    item_columns = dict(item_columns or {})
    if not {"user_id", "item_id"} <= set(columns):
        raise ValueError(f"dataset.columns must name your user_id and item_id columns; got {columns}")
    if timestamp_unit not in (*TIMESTAMP_UNITS, "datetime"):
        raise ValueError(f"dataset.timestamp_unit must be s, ms, us or datetime, got {timestamp_unit!r}")
    (file,) = require_files("csv", folder, (interactions_file,))
    log = _read_table(file, tuple(columns.values()), separator)
    timestamp = pl.int_range(pl.len(), dtype=pl.Int64)  # row order when the log has no time
    if "timestamp" in columns:
        raw_time = pl.col(columns["timestamp"]).cast(pl.String)
        if timestamp_unit == "datetime":
            timestamp = raw_time.str.to_datetime(strict=False, time_zone="UTC").dt.epoch("s")
        else:
            timestamp = raw_time.cast(pl.Float64, strict=False).floordiv(TIMESTAMP_UNITS[timestamp_unit])
    interactions = log.select(
        pl.col(columns["user_id"]).alias("user_key"),
        pl.col(columns["item_id"]).alias("item_key"),
        timestamp.cast(pl.Int64, strict=False).alias("timestamp"),
        (pl.col(columns["event"]).cast(pl.String) if "event" in columns else pl.lit(default_event)).alias(
            "event"
        ),
        *(
            [pl.col(columns["rating"]).cast(pl.Float32, strict=False).alias("rating")]
            if "rating" in columns
            else []
        ),
        *([pl.col(columns["text"]).cast(pl.String).alias("text")] if "text" in columns else []),
    )
    files, items = [file], None
    if items_file is not None:
        (item_path,) = require_files("csv", folder, (items_file,))
        extra = list(item_columns.pop("extra", None) or [])
        named = {field: column for field, column in item_columns.items() if column is not None}
        if "item_id" not in named:
            raise ValueError(f"dataset.item_columns.item_id must name the item id column of {item_path}")
        table = _read_table(item_path, (*named.values(), *extra), separator)
        items = table.select(
            pl.col(named.pop("item_id"))
            .cast(interactions.schema["item_key"], strict=False)
            .alias("item_key"),
            *[pl.col(column).cast(pl.String).alias(field) for field, column in named.items()],
            *[pl.col(column).cast(pl.String) for column in extra],
        )
        files.append(item_path)
    return RawData(raw_frame(interactions), items, None, files)


def _read_table(file: Path, required: tuple[str, ...], separator: str) -> pl.DataFrame:
    if file.suffix == ".parquet":
        frame = pl.read_parquet(file)
        require_columns(file, frame.columns, required, None)
        return frame
    frame = pl.read_csv(file, separator=separator, infer_schema_length=10_000)
    require_columns(file, frame.columns, required, separator)
    return frame
