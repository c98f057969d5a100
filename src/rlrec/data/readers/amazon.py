"""Amazon reviews (McAuley et al.) as JSON lines: one review per line, optionally gzipped.

Each review is one ``rate`` event (raw name ``review``) with ``overall`` as its rating and the
review text (``summary. reviewText``) as its text. The optional metadata file (JSON lines with
``asin``, ``title``, ``description``, ``category``/``categories``, ``brand``) gives item columns.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import polars as pl

from rlrec.data.readers.raw import RawData, glob_files, raw_frame, require_columns, text_bytes

log = logging.getLogger(__name__)

REVIEW_FIELDS = ("reviewerID", "asin", "overall", "unixReviewTime")


def read_amazon_reviews(path: str | Path, reviews_file: str, metadata_file: str | None = None) -> RawData:
    folder = Path(path).expanduser()
    meta_files = glob_files("amazon_reviews", folder, metadata_file, "metadata_file") if metadata_file else []
    # The reviews glob may match the metadata file too (e.g. "*.json*"): that one is metadata.
    files = [
        f for f in glob_files("amazon_reviews", folder, reviews_file, "reviews_file") if f not in meta_files
    ]
    if not files:
        raise FileNotFoundError(
            f"dataset.format=amazon_reviews: dataset.reviews_file={reviews_file!r} matches only the metadata "
            f"file in {folder}"
        )
    reviews = pl.concat([_read_reviews(file) for file in files])
    interactions = reviews.select(
        pl.col("reviewerID").alias("user_key"),
        pl.col("asin").alias("item_key"),
        pl.col("unixReviewTime").cast(pl.Int64, strict=False).alias("timestamp"),
        pl.lit("review").alias("event"),
        pl.col("overall").cast(pl.Float32, strict=False).alias("rating"),
        pl.concat_str([pl.col("summary"), pl.col("reviewText")], separator=". ", ignore_nulls=True).alias(
            "text"
        ),
    )
    items = interactions.select(pl.col("item_key").unique().sort()).with_columns(
        pl.col("item_key").alias("title"), pl.lit(None, pl.String).alias("category")
    )
    if meta_files:
        metadata = pl.concat([_read_metadata(file) for file in meta_files]).unique("item_key", keep="first")
        items = (
            items.select("item_key")
            .join(metadata, on="item_key", how="left")
            .with_columns(pl.coalesce(pl.col("title"), pl.col("item_key")).alias("title"))
        )
        files += meta_files
    return RawData(raw_frame(interactions), items, None, files)


def _json_rows(file: Path) -> list[dict]:
    """Every JSON object of ``file``: JSON lines, or (as some mirrors of the 2018 5-core files are
    written) pretty-printed objects one after another, or one array of objects."""
    data = text_bytes(file).getvalue()
    lines = [(number, line) for number, line in enumerate(data.splitlines(), start=1) if line.strip()]
    try:
        return [_json_line(file, number, line) for number, line in lines]
    except ValueError as by_line:
        text = data.decode("utf-8", errors="replace")
        decoder, position, rows = json.JSONDecoder(), 0, []
        while True:
            while position < len(text) and text[position] in " \t\r\n,":
                position += 1
            if position >= len(text):
                break
            try:
                value, position = decoder.raw_decode(text, position)
            except json.JSONDecodeError:
                raise by_line from None  # neither layout: the line-by-line error names the line
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, dict) for v in values):
                raise by_line from None
            rows.extend(values)
        log.info(f"{file}: read {len(rows)} concatenated (pretty-printed) JSON objects")
        return rows


def _read_reviews(file: Path) -> pl.DataFrame:
    rows = _json_rows(file)
    if rows:
        require_columns(file, sorted(set().union(*(row.keys() for row in rows[:1000]))), REVIEW_FIELDS, None)
    columns = (*REVIEW_FIELDS, "reviewText", "summary")
    return pl.DataFrame(
        {column: [_as_text(row.get(column)) for row in rows] for column in columns},
        schema={column: pl.String for column in columns},
    )


def _read_metadata(file: Path) -> pl.DataFrame:
    rows = []
    for number, row in enumerate(_json_rows(file), start=1):
        if "asin" not in row:
            raise ValueError(f"{file}, object {number}: missing column 'asin'; found {sorted(row)}")
        category = row.get("category", row.get("categories"))
        while isinstance(category, list) and category and isinstance(category[0], list):
            category = category[0]  # 2014 files nest the category path in a list of lists
        rows.append(
            {
                "item_key": str(row["asin"]),
                "title": _as_text(row.get("title")),
                "description": _as_text(row.get("description")),
                "category": category[-1] if isinstance(category, list) and category else _as_text(category),
                "brand": _as_text(row.get("brand")),
            }
        )
    schema = {name: pl.String for name in ("item_key", "title", "description", "category", "brand")}
    return pl.DataFrame(rows, schema=schema)


def _json_line(file: Path, number: int, line: bytes) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{file}, line {number}: not JSON ({error.msg}); amazon_reviews reads JSON lines or "
            "concatenated JSON objects (the 2014 metadata files are Python literals: convert them to "
            "JSON first, e.g. json.dumps(ast.literal_eval(line)) per line)"
        ) from None
    if not isinstance(row, dict):
        raise ValueError(f"{file}, line {number}: expected a JSON object per line")
    return row


def _as_text(value) -> str | None:
    """Strings stay; lists (2018 descriptions) are joined; numbers become strings; None stays None."""
    if value is None:
        return None
    if isinstance(value, list):
        return " ".join(str(part) for part in value if part) or None
    return str(value)
