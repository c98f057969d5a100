"""Each raw format, read from small files in its real layout, through its shipped config."""

from __future__ import annotations

import polars as pl
import pytest
from hydra.utils import instantiate

from rlrec.data.schema import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, SPLIT_DTYPE
from tests import data_files
from tests.conftest import compose_config

NO_CORE = ("dataset.preprocess.min_user_interactions=1", "dataset.preprocess.min_item_interactions=1")


def load(dataset: str, path, *overrides: str):
    """The dataset exactly as `rlrec train dataset=<dataset> dataset.path=<path>` builds it."""
    cfg = compose_config(f"dataset={dataset}", f"dataset.path={path}", *NO_CORE, *overrides, tiny=False)
    return instantiate(cfg.dataset)


def assert_contract(dataset, users: int, items: int, interactions: int) -> None:
    assert dict(dataset.interactions.schema) == {**INTERACTIONS_SCHEMA, "split": SPLIT_DTYPE}
    assert {c: dataset.items.schema[c] for c in ITEMS_SCHEMA} == ITEMS_SCHEMA
    assert (dataset.n_users, dataset.n_items, dataset.interactions.height) == (users, items, interactions)
    assert dataset.interactions["user_id"].unique().sort().to_list() == list(range(users))
    assert dataset.interactions["item_id"].unique().sort().to_list() == list(range(items))
    ordered = dataset.interactions.sort("user_id", "timestamp", maintain_order=True)
    assert dataset.interactions.equals(ordered), "interactions are time-ordered per user"
    id_maps = {
        kind: pl.read_parquet(dataset.cache_entry / f"{kind}_map.parquet") for kind in ("user", "item")
    }
    assert id_maps["user"].height == users and id_maps["item"].height == items


def texts(dataset) -> dict[str, str]:
    return dict(zip(dataset.items["title"], dataset.items["text"], strict=True))


def test_movielens_latest_reads_quoted_commas_genres_and_tags(tmp_path):
    dataset = load("movielens", data_files.write_movielens_latest(tmp_path / "ml"))
    assert_contract(dataset, data_files.N_USERS, data_files.N_ITEMS, data_files.N_RATINGS)
    by_title = texts(dataset)
    assert (
        by_title["American President, The (1995)"]
        == "American President, The (1995). Genres: Comedy, Drama, Romance. Tags: politics, romance"
    )
    assert by_title["Good, the Bad and the Ugly, The (1966)"].endswith("Genres: Action, Western")
    assert by_title["Unknown Film (2001)"] == "Unknown Film (2001)", "no empty Genres/Tags parts"
    assert dataset.interactions["event"].unique().to_list() == ["rate"]
    first_user = dataset.interactions.filter(pl.col("user_id") == 0)
    assert first_user["rating"].to_list() == [4.0, 3.5, 5.0, 2.0]
    assert first_user["timestamp"].to_list() == [1000, 1100, 1200, 1300]
    item_map = pl.read_parquet(dataset.cache_entry / "item_map.parquet")
    assert item_map["key"].to_list() == ["10", "20", "30", "40", "50"]


def test_movielens_1m_reads_double_colons_and_latin1(tmp_path):
    dataset = load("movielens", data_files.write_movielens_1m(tmp_path / "ml-1m"))
    assert_contract(dataset, data_files.N_USERS, data_files.N_ITEMS, data_files.N_RATINGS)
    titles = dataset.items["title"].to_list()
    assert "Misérables, Les (1995)" in titles and "Cité des enfants perdus, La (1995)" in titles
    assert "Star Wars: Episode IV - A New Hope (1977)" in titles, "a ':' inside a title is not a separator"
    assert dataset.users is not None and dataset.users.height == 4 and "occupation" in dataset.users.columns


def test_movielens_100k_reads_tabs_pipes_latin1_and_genre_flags(tmp_path):
    dataset = load("movielens", data_files.write_movielens_100k(tmp_path / "ml-100k"))
    assert_contract(dataset, data_files.N_USERS, data_files.N_ITEMS, data_files.N_RATINGS)
    by_title = texts(dataset)
    assert by_title["Café au lait (1993)"] == "Café au lait (1993). Genres: Comedy"
    assert by_title["Toy Story (1995)"] == "Toy Story (1995). Genres: Animation, Children's, Comedy"
    assert "Señorita (1999)" in by_title
    assert dataset.users.height == 4 and dataset.users["age"].to_list() == ["21", "22", "23", "24"]


def test_retailrocket_maps_events_converts_milliseconds_and_reads_categories(tmp_path):
    dataset = load("retailrocket", data_files.write_retailrocket(tmp_path / "rr"))
    assert_contract(dataset, users=3, items=3, interactions=9)
    steps = {s["step"]: s for s in dataset.stats["preprocessing"]}
    assert (
        steps["drop unknown event types"]["removed"] == 1
        and "bogus: 1" in steps["drop unknown event types"]["detail"]
    )
    assert dataset.stats["events"] == {"view": 6, "cart": 2, "purchase": 1}
    assert dataset.interactions["timestamp"].min() == 1000, "milliseconds become seconds"
    assert texts(dataset) == {
        "Item 100": "Item 100 in category 7",
        "Item 200": "Item 200",
        "Item 300": "Item 300",
    }


def test_taobao_reads_headerless_behaviour_log_and_counts_ignored_favourites(tmp_path):
    dataset = load("taobao", data_files.write_taobao(tmp_path / "tb"))
    assert_contract(dataset, users=3, items=3, interactions=9)
    steps = {s["step"]: s for s in dataset.stats["preprocessing"]}
    assert (
        steps["drop ignored event types"]["removed"] == 1
        and steps["drop ignored event types"]["detail"] == "fav: 1"
    )
    assert dataset.items["category"].to_list() == ["7", "8", "9"]


def test_rees46_reads_monthly_files_with_utc_times(tmp_path):
    dataset = load("rees46", data_files.write_rees46(tmp_path / "rees"))
    assert_contract(dataset, users=3, items=3, interactions=9)
    assert dataset.interactions["timestamp"].sort().to_list()[0] == 1000
    by_title = texts(dataset)
    assert by_title["acme electronics smartphone"] == "acme electronics smartphone, price 10.00"
    assert "Product 300" in by_title, "an item without brand or category code gets a title"


def test_amazon_reviews_reads_gzipped_json_lines_with_metadata(tmp_path):
    folder = data_files.write_amazon(tmp_path / "amazon")
    dataset = load("amazon_reviews", folder, "dataset.metadata_file=meta_Books.json")
    assert_contract(dataset, data_files.N_USERS, data_files.N_ITEMS, data_files.N_RATINGS)
    assert dataset.interactions["text"][0] == "Great. Review of 10 by 1"
    by_title = texts(dataset)
    assert by_title["A Tale of Two Cities"] == "A Tale of Two Cities. A novel. Classic.. Category: Classics"
    assert by_title["Dune"] == "Dune. Desert planet.. Category: Science Fiction"
    assert by_title["B0030"] == "B0030", "items without metadata are titled by their asin"


def test_custom_csv_maps_columns_events_and_an_item_table(tmp_path):
    rows = [(1, 5, 100, "buy", 5), (1, 6, 50, "look", None), (2, 5, 70, "look", 3)]
    folder = data_files.write_custom_csv(tmp_path / "mine", rows)
    dataset = load(
        "csv",
        folder,
        "dataset.interactions_file=log.csv",
        "dataset.items_file=items.csv",
        "dataset.columns={user_id: uid, item_id: iid, timestamp: ts, event: action, rating: stars}",
        "dataset.item_columns={item_id: iid, title: name, category: kind}",
        "+dataset.event_map.buy=purchase",
        "+dataset.event_map.look=view",
    )
    assert_contract(dataset, users=2, items=2, interactions=3)
    assert dataset.split("train")["event"].to_list() + dataset.split("test")["event"].to_list() in (
        ["view", "purchase", "view"],
        ["view", "view", "purchase"],
    )
    assert dataset.items.select("title", "category").rows() == [("Thing 5", "kind1"), ("Thing 6", "kind0")]
    user0 = dataset.interactions.filter(pl.col("user_id") == 0)
    assert user0["timestamp"].to_list() == [50, 100] and user0["rating"].to_list() == [None, 5.0]


def test_custom_parquet_without_timestamp_uses_the_file_order(tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    pl.DataFrame({"u": ["a", "a", "b", "a"], "i": ["x", "y", "x", "z"]}).write_parquet(folder / "log.parquet")
    dataset = load(
        "csv",
        folder,
        "dataset.interactions_file=log.parquet",
        "dataset.columns={user_id: u, item_id: i, timestamp: null}",
    )
    assert_contract(dataset, users=2, items=3, interactions=4)
    user_a = dataset.interactions.filter(pl.col("user_id") == 0)
    assert user_a["item_id"].to_list() == [0, 1, 2] and user_a["event"].unique().to_list() == ["click"]


def test_synthetic_goes_through_the_same_interface(tmp_path):
    dataset = instantiate(compose_config("dataset.n_users=50", "dataset.n_items=30", tiny=False).dataset)
    assert dict(dataset.interactions.schema) == {**INTERACTIONS_SCHEMA, "split": SPLIT_DTYPE}
    assert dataset.stats["users"] == 50 and set(dataset.stats["splits"]) == {"train", "valid", "test"}


@pytest.mark.parametrize("name", ["movielens", "retailrocket", "taobao", "rees46", "amazon_reviews", "csv"])
def test_every_real_format_requires_a_path(name):
    cfg = compose_config(f"dataset={name}", tiny=False)
    with pytest.raises(Exception, match="path"):
        instantiate(cfg.dataset)


def test_amazon_5core_reviews_alone_pretty_printed_prepare_with_the_default_config(tmp_path):
    """The shape of an Amazon 2018 5-core reviews file as some mirrors ship it: one review object over
    many lines, objects one after another, and no metadata file beside it."""
    import json

    folder = tmp_path / "amazon-5core"
    folder.mkdir()
    reviews = [
        {"overall": r, "verified": True, "reviewTime": "01 1, 2018", "reviewerID": f"U{u}", "asin": f"B00{i}",
         "style": {"Format:": " Paperback"}, "reviewerName": "Reader", "reviewText": f"Review of {i} by {u}",
         "summary": "Great" if r >= 4 else "Meh", "unixReviewTime": t}
        for u, i, r, t in data_files.RATINGS
    ]  # fmt: skip
    (folder / "Books_5.json").write_text("\n".join(json.dumps(review, indent=2) for review in reviews) + "\n")
    dataset = load("amazon_reviews", folder)  # the default text_template names {description}
    assert_contract(dataset, data_files.N_USERS, data_files.N_ITEMS, data_files.N_RATINGS)
    assert dataset.interactions["text"][0] == "Great. Review of 10 by 1"
    assert set(texts(dataset).values()) == {f"B00{i}" for i in {i for _, i, _, _ in data_files.RATINGS}}

    (folder / "Books_5.json").write_text('{"reviewerID": "U1", "asin": "B0010"\n')  # cut short
    with pytest.raises(Exception, match="line 1: not JSON") as failure:
        load("amazon_reviews", folder)
    assert "concatenated JSON objects" in str(failure.value.__cause__ or failure.value)
