"""MovieLens in its three real layouts, told apart by the files in ``dataset.path``.

- 100K: ``u.data`` (tab-separated user, item, rating, timestamp), ``u.item`` (``|``-separated,
  Latin-1, 19 genre flags), ``u.user``, ``u.genre``.
- 1M / 10M: ``ratings.dat``, ``movies.dat`` (``::``-separated; 1M is Latin-1), ``users.dat`` (1M),
  ``tags.dat`` (10M).
- latest: ``ratings.csv``, ``movies.csv`` (titles with quoted commas), ``tags.csv``.

Every rating is one ``rate`` event (raw event name ``rating``) with its rating; item columns for the
text template are ``title``, ``genres`` ("Adventure, Comedy") and ``tags``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from rlrec.data.readers.raw import (
    RawData,
    raw_frame,
    read_double_colon,
    read_headerless,
    require_files,
    scan_csv_checked,
    text_bytes,
)

GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


def read_movielens(path: str | Path) -> RawData:
    folder = Path(path).expanduser()
    if (folder / "ratings.csv").is_file():
        return _read_latest(folder)
    if (folder / "ratings.dat").is_file():
        return _read_dat(folder)
    if (folder / "u.data").is_file():
        return _read_100k(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset.format=movielens: dataset.path {folder} is not a folder")
    raise FileNotFoundError(
        f"dataset.format=movielens: {folder} holds none of the MovieLens layouts; expected "
        "ratings.csv + movies.csv (latest), ratings.dat + movies.dat (1M/10M) or u.data + u.item (100K)"
    )


def _read_latest(folder: Path) -> RawData:
    ratings_file, movies_file = require_files("movielens", folder, ("ratings.csv", "movies.csv"), "latest")
    ids_and_time = ("userId", "movieId", "timestamp")
    required = ("userId", "movieId", "rating", "timestamp")
    ratings = scan_csv_checked(ratings_file, required, integers=ids_and_time)
    interactions = ratings.select(
        pl.col("userId").cast(pl.Int64, strict=False).alias("user_key"),
        pl.col("movieId").cast(pl.Int64, strict=False).alias("item_key"),
        pl.col("timestamp").cast(pl.Int64, strict=False),
        pl.lit("rating").alias("event"),
        pl.col("rating").cast(pl.Float32, strict=False),
    ).collect()
    movies = scan_csv_checked(movies_file, ("movieId", "title", "genres")).collect()
    items = movies.select(
        pl.col("movieId").cast(pl.Int64, strict=False).alias("item_key"),
        "title",
        _genres(pl.col("genres"), "|"),
    )
    files = [ratings_file, movies_file]
    tags_file = folder / "tags.csv"
    if tags_file.is_file():
        tags = scan_csv_checked(tags_file, ("movieId", "tag")).select(
            pl.col("movieId").cast(pl.Int64, strict=False).alias("item_key"), "tag"
        )
        items = _with_tags(items, tags.collect())
        files.append(tags_file)
    return RawData(raw_frame(interactions), _finish_items(items), None, files)


def _read_dat(folder: Path) -> RawData:
    ratings_file, movies_file = require_files("movielens", folder, ("ratings.dat", "movies.dat"), "1M/10M")
    ratings = read_double_colon(ratings_file, ("user_key", "item_key", "rating", "timestamp"))
    interactions = ratings.with_columns(
        pl.col("user_key").cast(pl.Int64, strict=False),
        pl.col("item_key").cast(pl.Int64, strict=False),
        pl.col("timestamp").cast(pl.Int64, strict=False),
        pl.col("rating").cast(pl.Float32, strict=False),
        pl.lit("rating").alias("event"),
    )
    movies = read_double_colon(movies_file, ("item_key", "title", "genres"))
    items = movies.select(
        pl.col("item_key").cast(pl.Int64, strict=False), "title", _genres(pl.col("genres"), "|")
    )
    files, users = [ratings_file, movies_file], None
    if (folder / "tags.dat").is_file():  # 10M
        tags = read_double_colon(folder / "tags.dat", ("user_key", "item_key", "tag", "timestamp"))
        items = _with_tags(items, tags.select(pl.col("item_key").cast(pl.Int64, strict=False), "tag"))
        files.append(folder / "tags.dat")
    if (folder / "users.dat").is_file():  # 1M
        users = read_double_colon(folder / "users.dat", ("user_key", "gender", "age", "occupation", "zip"))
        users = users.with_columns(pl.col("user_key").cast(pl.Int64, strict=False))
        files.append(folder / "users.dat")
    return RawData(raw_frame(interactions), _finish_items(items), users, files)


def _read_100k(folder: Path) -> RawData:
    data_file, item_file = require_files("movielens", folder, ("u.data", "u.item"), "100K")
    interactions = read_headerless(
        data_file, ("user_key", "item_key", "rating", "timestamp"), "\t", infer_schema=False
    ).with_columns(
        pl.col("user_key").cast(pl.Int64, strict=False),
        pl.col("item_key").cast(pl.Int64, strict=False),
        pl.col("timestamp").cast(pl.Int64, strict=False),
        pl.col("rating").cast(pl.Float32, strict=False),
        pl.lit("rating").alias("event"),
    )
    genre_names = GENRES_100K
    files = [data_file, item_file]
    if (folder / "u.genre").is_file():  # "name|index" per line
        genre_file = folder / "u.genre"
        table = pl.read_csv(text_bytes(genre_file), separator="|", has_header=False, quote_char=None)
        genre_names = tuple(table.filter(pl.col(table.columns[0]).is_not_null())[:, 0].to_list())
        files.append(genre_file)
    columns = ("item_key", "title", "release_date", "video_release_date", "imdb_url", *genre_names)
    movies = pl.read_csv(
        text_bytes(item_file), separator="|", has_header=False, quote_char=None, infer_schema=False
    )
    if movies.width != len(columns):
        raise ValueError(
            f"{item_file}: expected {len(columns)} '|'-separated fields (id, title, dates, url and "
            f"{len(genre_names)} genre flags), found {movies.width}"
        )
    movies = movies.rename(dict(zip(movies.columns, columns, strict=True)))
    flags = [pl.when(pl.col(name) == "1").then(pl.lit(name)) for name in genre_names]
    items = movies.select(
        pl.col("item_key").cast(pl.Int64, strict=False),
        "title",
        pl.concat_list(flags).list.drop_nulls().list.join(", ").alias("genres"),
    )
    users = None
    if (folder / "u.user").is_file():
        users = read_headerless(
            folder / "u.user", ("user_key", "age", "gender", "occupation", "zip"), "|", infer_schema=False
        ).with_columns(pl.col("user_key").cast(pl.Int64, strict=False))
        files.append(folder / "u.user")
    return RawData(raw_frame(interactions), _finish_items(items), users, files)


def _genres(column: pl.Expr, separator: str) -> pl.Expr:
    """ "Adventure|Comedy" -> "Adventure, Comedy"; "(no genres listed)" -> ""."""
    return (
        column.str.replace("(no genres listed)", "", literal=True)
        .str.split(separator)
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.join(", ")
        .alias("genres")
    )


def _with_tags(items: pl.DataFrame, tags: pl.DataFrame) -> pl.DataFrame:
    """Each movie's distinct tags, lower-cased and sorted, as one "a, b, c" column."""
    per_item = tags.group_by("item_key").agg(
        pl.col("tag")
        .cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .unique()
        .sort()
        .str.join(", ")
        .alias("tags")
    )
    return items.join(
        per_item.with_columns(pl.col("item_key").cast(items.schema["item_key"])), on="item_key", how="left"
    )


def _finish_items(items: pl.DataFrame) -> pl.DataFrame:
    """category = the first genre; tags present (possibly empty) in every layout."""
    if "tags" not in items.columns:
        items = items.with_columns(pl.lit(None, pl.String).alias("tags"))
    return items.with_columns(
        pl.col("genres").str.split(", ").list.first().alias("category"),
        pl.col("tags").fill_null(""),
    )
