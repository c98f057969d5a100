"""Structured configs of the `dataset/` group: one dataclass per choice, registered as schema/dataset/<name>.

Every real format shares the preprocessing (``dataset.preprocess``) and split (``dataset.split``)
schemas; a format adds only where its files are and how they read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING


def _simulator_user_model() -> dict[str, Any]:
    from dataclasses import asdict

    from rlrec.data.synthetic import USER_MODEL

    return {name: f"${{oc.select:env.{name},{value}}}" for name, value in asdict(USER_MODEL).items()}


@dataclass
class SyntheticDatasetConfig:
    """A generated world: users with topic interests, items with topics and text descriptions."""

    _target_: str = "rlrec.data.synthetic.generate_synthetic"
    name: str = MISSING
    n_users: int = 1000
    n_items: int = 500
    n_topics: int = 12  # at most the size of the built-in topic vocabulary
    interest_concentration: float = 0.3  # Dirichlet alpha of user interests: small = focused users
    history_length: int = 20  # logged clicks per user before the simulation starts
    eval_fraction: float = 0.1  # users held out for evaluation (half valid, half test)
    logging_temperature: float = 0.5  # softmax temperature of the recommender that made the logged histories
    # The users' choice model and dynamics the logged histories are made with (rlrec.data.synthetic.
    # UserModel): the simulator's own values (env.<name>) when env=synthetic, UserModel's defaults otherwise.
    user_model: dict[str, Any] = field(default_factory=_simulator_user_model)
    seed: Optional[int] = "${seed}"  # type: ignore[assignment]  # the world changes with the run's seed


@dataclass
class PreprocessConfig:
    """Cleaning steps, applied in this order; each one reports the rows it removed."""

    dedupe: str = (
        "exact"  # none | exact (same user, item, event, timestamp) | first (first per user, item, event)
    )
    rating_threshold: Optional[float] = None  # keep rated rows with rating >= this (implicit positives)
    session_gap: Optional[int] = (
        None  # seconds of inactivity that start a new session; each session is a user
    )
    min_user_interactions: int = 5  # iterative k-core: users with fewer interactions are dropped ...
    min_item_interactions: int = 5  # ... and items with fewer, until both hold
    min_history: int = 1  # users with fewer interactions (after the k-core) are dropped
    max_history: Optional[int] = None  # users keep only their most recent max_history interactions


@dataclass
class SplitConfig:
    """How interactions are divided into train / valid / test (seeded where random)."""

    method: str = "leave_one_out"  # leave_one_out | chronological | random_users | cold_items | cold_users
    valid_fraction: float = 0.1  # chronological: share of time-ordered rows; random_users: share of users
    test_fraction: float = 0.1
    cold_fraction: float = (
        0.1  # cold_items: share of items held out with all their rows; cold_users: of users
    )
    cold_history: int = 5  # cold_users: each held-out user's first interactions, read as history only
    seed: Optional[int] = "${seed}"  # type: ignore[assignment]  # random_users, cold_items, cold_users use it


@dataclass
class LoggedDatasetConfig:
    """What every real format shares: raw files under ``path`` → cleaned, split, cached parquet."""

    _target_: str = "rlrec.data.prepare.prepare_dataset"
    name: str = MISSING
    format: str = MISSING  # the reader: movielens | retailrocket | taobao | rees46 | amazon_reviews | csv
    path: str = MISSING  # the folder holding the raw files
    event_map: dict[str, Optional[str]] = field(
        default_factory=dict
    )  # raw event -> view|click|cart|purchase|rate; null drops it
    text_template: str = "{title}"  # item text from item columns, e.g. "{title}. Genres: {genres}"
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    cache_dir: str = "${paths.cache_dir}"


@dataclass
class MovieLensConfig(LoggedDatasetConfig):
    """MovieLens 100K (u.data), 1M/10M (ratings.dat) or latest (ratings.csv), told apart by the files."""


@dataclass
class RetailRocketConfig(LoggedDatasetConfig):
    """RetailRocket events.csv (+ item_properties_part*.csv for categories when present)."""

    events_file: str = "events.csv"


@dataclass
class TaobaoConfig(LoggedDatasetConfig):
    """Taobao UserBehavior.csv: user, item, category, behavior, timestamp; no header."""

    events_file: str = "UserBehavior.csv"


@dataclass
class Rees46Config(LoggedDatasetConfig):
    """REES46 multi-category store: one or more monthly CSVs (event_time, event_type, product_id, ...)."""

    files: str = "*.csv"  # glob under path


@dataclass
class AmazonReviewsConfig(LoggedDatasetConfig):
    """Amazon reviews as JSON lines (reviewerID, asin, overall, reviewText, summary, unixReviewTime)."""

    reviews_file: str = MISSING  # file name (or glob) under path, .json / .jsonl, optionally .gz
    metadata_file: Optional[str] = None  # JSON lines with asin, title, description, category


@dataclass
class CsvColumns:
    """Schema field -> the column of your interactions file that holds it (null: your file has none)."""

    user_id: str = MISSING
    item_id: str = MISSING
    timestamp: Optional[str] = None  # without one, the file's row order is the time order
    event: Optional[str] = None  # without one, every row is dataset.default_event
    rating: Optional[str] = None
    text: Optional[str] = None


@dataclass
class CsvItemColumns:
    """Item field -> the column of your items file; ``extra`` columns keep their names for the template."""

    item_id: str = "item_id"
    title: Optional[str] = None
    category: Optional[str] = None
    extra: list[str] = field(default_factory=list)


@dataclass
class CsvDatasetConfig(LoggedDatasetConfig):
    """Bring your own log: any CSV or parquet, mapped onto the schema by column names."""

    interactions_file: str = MISSING  # under path; .csv, .tsv or .parquet
    items_file: Optional[str] = None  # optional item table under path
    separator: str = ","
    columns: CsvColumns = field(default_factory=CsvColumns)
    item_columns: CsvItemColumns = field(default_factory=CsvItemColumns)
    default_event: str = "click"  # the event of every row when there is no event column
    timestamp_unit: str = "s"  # s | ms | us | datetime (a date-time string parsed by polars)


DATASET_SCHEMAS: dict[str, Any] = {
    "synthetic": SyntheticDatasetConfig,
    "movielens": MovieLensConfig,
    "retailrocket": RetailRocketConfig,
    "taobao": TaobaoConfig,
    "rees46": Rees46Config,
    "amazon_reviews": AmazonReviewsConfig,
    "csv": CsvDatasetConfig,
}
