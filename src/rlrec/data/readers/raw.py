"""What a reader returns, and the file checks every reader shares."""

from __future__ import annotations

import glob
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

# Columns of RawData.interactions; ids are raw keys (any dtype), event is the raw event name.
RAW_COLUMNS = ("user_key", "item_key", "timestamp", "event", "rating", "text")


@dataclass
class RawData:
    """A raw log in one frame, plus whatever item and user tables the format has."""

    interactions: pl.DataFrame  # RAW_COLUMNS; timestamp in seconds, null where it did not parse
    items: pl.DataFrame | None  # item_key, title, category and any columns a text template may name
    users: pl.DataFrame | None = None  # user_key and the format's user features
    files: list[Path] = field(default_factory=list)  # every file read: the cache key fingerprints them


def raw_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Select RAW_COLUMNS with their types, adding the ones a format does not have as nulls."""
    defaults = {
        "timestamp": pl.lit(None, pl.Int64),
        "event": pl.lit(None, pl.String),
        "rating": pl.lit(None, pl.Float32),
        "text": pl.lit(None, pl.String),
    }
    columns = [pl.col(name) if name in frame.columns else defaults[name].alias(name) for name in RAW_COLUMNS]
    return frame.select(columns).with_columns(
        pl.col("timestamp").cast(pl.Int64),
        pl.col("event") if frame.schema.get("event") == pl.Categorical else pl.col("event").cast(pl.String),
        pl.col("rating").cast(pl.Float32),
        pl.col("text").cast(pl.String),
    )


def require_files(format_name: str, folder: Path, names: tuple[str, ...], layout: str = "") -> list[Path]:
    """The files ``names`` under ``folder``, or one error naming the format and every file it expected."""
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset.format={format_name}: dataset.path {folder} is not a folder")
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        what = f" ({layout} layout)" if layout else ""
        raise FileNotFoundError(
            f"dataset.format={format_name}{what}: missing {', '.join(missing)} in {folder}; "
            f"expected the files {', '.join(names)} there"
        )
    return [folder / name for name in names]


def glob_files(format_name: str, folder: Path, pattern: str, key: str) -> list[Path]:
    """Files matching ``pattern`` under ``folder`` (sorted), or an error naming the config key."""
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset.format={format_name}: dataset.path {folder} is not a folder")
    files = sorted(Path(p) for p in glob.glob(str(folder / pattern)) if Path(p).is_file())
    if not files:
        raise FileNotFoundError(
            f"dataset.format={format_name}: no file matches dataset.{key}={pattern!r} in {folder}"
        )
    return files


def require_columns(file: Path, found: list[str], required: tuple[str, ...], separator: str | None) -> None:
    """Fail naming the file and its missing columns (a wrong delimiter shows up as exactly this)."""
    missing = [column for column in required if column not in found]
    if missing:
        hint = f" (read with separator {separator!r}: is that the file's delimiter?)" if separator else ""
        raise ValueError(f"{file}: missing columns {missing}; found {found}{hint}")


def scan_csv_checked(
    file: Path,
    required: tuple[str, ...],
    separator: str = ",",
    integers: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    **options,
) -> pl.LazyFrame:
    """A lazy scan of a CSV with a header, after checking the header has the ``required`` columns.
    ``integers`` are parsed as Int64 (a value that does not parse becomes null, to be counted and
    dropped by the preprocessing); ``categories`` (few distinct values, e.g. event names) are read as
    polars Categoricals; every other column is a string until a reader casts it."""
    header = pl.scan_csv(file, separator=separator, infer_schema=False, n_rows=0).collect_schema().names()
    require_columns(file, header, required, separator)
    return pl.scan_csv(
        file,
        separator=separator,
        infer_schema=False,
        schema_overrides={**{c: pl.Int64 for c in integers}, **{c: pl.Categorical for c in categories}},
        ignore_errors=bool(integers),
        **options,
    )


def read_headerless(file: Path, columns: tuple[str, ...], separator: str, **options) -> pl.DataFrame:
    """A CSV without a header, whose rows must have exactly ``len(columns)`` fields."""
    frame = pl.scan_csv(file, separator=separator, has_header=False, **options)
    found = frame.collect_schema().names()
    if len(found) != len(columns):
        raise ValueError(
            f"{file}: expected {len(columns)} columns ({', '.join(columns)}) separated by {separator!r}, "
            f"found {len(found)}; is that the file's delimiter?"
        )
    return frame.rename(dict(zip(found, columns, strict=True))).collect()


def text_bytes(file: Path) -> io.BytesIO:
    """A text file as UTF-8 bytes, whatever it was written in (UTF-8, else Latin-1 as old MovieLens)."""
    raw = file.read_bytes()
    if file.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raw = raw.decode("latin-1").encode("utf-8")
    return io.BytesIO(raw)


def read_double_colon(file: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    """A MovieLens 1M/10M ``.dat`` file: fields separated by ``::`` (which polars cannot split on)."""
    text = text_bytes(file).getvalue().replace(b"::", b"\x1f")  # a byte no MovieLens field contains
    frame = pl.read_csv(
        io.BytesIO(text), separator="\x1f", has_header=False, quote_char=None, infer_schema=False
    )
    if frame.width != len(columns):
        raise ValueError(
            f"{file}: expected {len(columns)} fields ({', '.join(columns)}) separated by '::', "
            f"found {frame.width}"
        )
    return frame.rename(dict(zip(frame.columns, columns, strict=True)))
