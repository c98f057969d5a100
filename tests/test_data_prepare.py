"""Splits, the parquet cache, bad input, and `rlrec data prepare`."""

from __future__ import annotations

import json
import os

import numpy as np
import polars as pl
import pytest
from hydra.errors import InstantiationException
from hydra.utils import instantiate

from rlrec.config import with_defaults
from rlrec.data.split import SEEDED_METHODS, assign_splits
from tests import data_files
from tests.conftest import compose_config, run_rlrec
from tests.test_data_formats import NO_CORE, load


def random_log(n_users: int = 60, seed: int = 0) -> pl.DataFrame:
    """Users with 1..15 interactions at random times, with ties; sorted as the preprocessing sorts."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 16, size=n_users)
    users = np.repeat(np.arange(n_users), lengths)
    frame = pl.DataFrame(
        {
            "user_id": users.astype(np.uint32),
            "timestamp": rng.integers(0, 50, size=len(users)).astype(np.int64),
        }
    )
    return frame.with_row_index("row").sort("user_id", "timestamp", "row")


SPLIT = {"method": "leave_one_out", "valid_fraction": 0.1, "test_fraction": 0.1, "seed": 0}


def test_leave_one_out_takes_the_last_two_and_never_leaks():
    frame = assign_splits(random_log(), SPLIT, 60)
    for (user,), rows in frame.group_by("user_id"):
        labels = rows["split"].to_list()
        n = len(labels)
        expected = ["train"] * n
        if n >= 2:
            expected[-1] = "test"
        if n >= 3:
            expected[-2] = "valid"
        assert labels == expected, f"user {user}"
        train_times = rows.filter(pl.col("split") == "train")["timestamp"]
        for later in ("valid", "test"):
            times = rows.filter(pl.col("split") == later)["timestamp"]
            if len(times) and len(train_times):
                assert times.min() >= train_times.max(), f"user {user}: a {later} interaction precedes train"


def test_chronological_cut_is_one_global_time():
    frame = assign_splits(random_log(), {**SPLIT, "method": "chronological"}, 60)
    by_split = {
        name: frame.filter(pl.col("split") == name)["timestamp"] for name in ("train", "valid", "test")
    }
    assert (
        by_split["train"].max() < by_split["valid"].min() <= by_split["valid"].max() < by_split["test"].min()
    )
    assert 0.6 < len(by_split["train"]) / frame.height < 0.85


def test_random_user_split_is_seeded_and_disjoint():
    split = {**SPLIT, "method": "random_users"}
    frame = assign_splits(random_log(n_users=100), split, 100)
    users = {
        name: set(frame.filter(pl.col("split") == name)["user_id"]) for name in ("train", "valid", "test")
    }
    assert [len(users[name]) for name in ("train", "valid", "test")] == [80, 10, 10]
    assert not (
        users["train"] & users["valid"] or users["train"] & users["test"] or users["valid"] & users["test"]
    )
    assert frame.equals(assign_splits(random_log(n_users=100), split, 100)), "same seed, same split"
    other = assign_splits(random_log(n_users=100), {**split, "seed": 1}, 100)
    assert not frame["split"].equals(other["split"])


def test_split_settings_are_checked():
    with pytest.raises(ValueError, match="dataset.split.method"):
        assign_splits(random_log(), {**SPLIT, "method": "sideways"}, 60)
    with pytest.raises(ValueError, match="valid_fraction=0.6 and test_fraction=0.5"):
        assign_splits(random_log(), {**SPLIT, "valid_fraction": 0.6, "test_fraction": 0.5}, 60)


def test_dataset_splits_flow_from_the_config(tmp_path):
    folder = data_files.write_movielens_latest(tmp_path / "ml")
    loo = load("movielens", folder)
    assert loo.split("test").height == 3 and loo.split("valid").height == 3, "users 1-3 have >= 3 ratings"
    assert loo.eval_users.tolist() == [0, 1, 2] and loo.train_users.tolist() == [0, 1, 2, 3]
    chrono = load(
        "movielens", folder, "dataset.split.method=chronological", "dataset.split.test_fraction=0.25"
    )
    assert chrono.split("test")["timestamp"].min() > chrono.split("train")["timestamp"].max()


def cache_entries(root) -> list[str]:
    datasets = root / "datasets"
    return sorted(os.listdir(datasets)) if datasets.exists() else []


def test_second_load_reads_the_cache_without_reading_raw_files(tmp_path, monkeypatch):
    folder = data_files.write_movielens_latest(tmp_path / "ml")
    first = load("movielens", folder)
    assert not first.from_cache and (first.cache_entry / "stats.json").is_file()

    import rlrec.data.readers.movielens as movielens

    def no_reading(*args, **kwargs):
        raise AssertionError("the raw files were read on a cache hit")

    monkeypatch.setattr(movielens, "read_movielens", no_reading)
    second = load("movielens", folder)
    assert second.from_cache and second.cache_key == first.cache_key
    assert second.interactions.equals(first.interactions) and second.items.equals(first.items)
    assert second.stats == json.loads((first.cache_entry / "stats.json").read_text())


def test_cache_key_follows_the_files_and_the_config(tmp_path):
    folder = data_files.write_movielens_latest(tmp_path / "ml")
    base = load("movielens", folder).cache_key
    assert load("movielens", folder, "seed=5").cache_key == base, "leave-one-out does not depend on the seed"
    assert load("movielens", folder, "dataset.preprocess.rating_threshold=3").cache_key != base
    assert load("movielens", folder, "dataset.text_template='{title}'").cache_key != base
    for method in SEEDED_METHODS:  # cold_items and cold_users once shared one cache entry over seeds
        keys = [
            load("movielens", folder, f"dataset.split.method={method}", f"seed={s}").cache_key for s in (0, 1)
        ]
        assert keys[0] != keys[1], f"a {method} split depends on the seed"
    ratings = folder / "ratings.csv"
    ratings.write_text(ratings.read_text() + "4,40,3.0,5000\n")
    changed = load("movielens", folder)
    assert changed.cache_key != base and not changed.from_cache and changed.interactions.height == 13


def error_of(dataset: str, path, *overrides: str) -> str:
    with pytest.raises(InstantiationException) as failure:
        load(dataset, path, *overrides)
    return str(failure.value.__cause__)


def test_missing_files_name_the_format_and_what_it_expected(tmp_path):
    (tmp_path / "empty").mkdir()
    message = error_of("movielens", tmp_path / "empty")
    assert (
        "dataset.format=movielens" in message
        and "ratings.csv + movies.csv" in message
        and "u.data + u.item" in message
    )
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,2,3,4\n")
    message = error_of("movielens", tmp_path / "half")
    assert "missing movies.csv" in message and "latest layout" in message
    message = error_of("retailrocket", tmp_path / "empty")
    assert "dataset.format=retailrocket" in message and "events.csv" in message
    assert "is not a folder" in error_of("taobao", tmp_path / "nowhere")
    assert "no file matches dataset.files='*.csv'" in error_of("rees46", tmp_path / "empty")
    assert cache_entries(tmp_path / "rlrec-cache") == [], "nothing is cached for a failed load"


def test_wrong_delimiter_and_missing_columns_name_the_file(tmp_path):
    folder = data_files.write_movielens_latest(tmp_path / "ml")
    ratings = folder / "ratings.csv"
    ratings.write_text(ratings.read_text().replace(",", ";"))
    message = error_of("movielens", folder)
    assert (
        str(ratings) in message and "missing columns ['userId', 'movieId', 'rating', 'timestamp']" in message
    )
    assert "separator ','" in message
    rr = data_files.write_retailrocket(tmp_path / "rr")
    events = rr / "events.csv"
    events.write_text(events.read_text().replace("itemid", "item"))
    message = error_of("retailrocket", rr)
    assert str(events) in message and "missing columns ['itemid']" in message
    taobao = data_files.write_taobao(tmp_path / "tb")
    (taobao / "UserBehavior.csv").write_text((taobao / "UserBehavior.csv").read_text().replace(",", "\t"))
    assert "expected 5 columns" in error_of("taobao", taobao)
    assert cache_entries(tmp_path / "rlrec-cache") == []


def test_a_filter_that_empties_the_dataset_fails_naming_it_and_caches_nothing(tmp_path):
    folder = data_files.write_movielens_latest(tmp_path / "ml")
    message = error_of("movielens", folder, "dataset.preprocess.rating_threshold=9")
    assert "'rating threshold' (preprocess.rating_threshold)" in message
    message = error_of("movielens", folder, "dataset.preprocess.min_item_interactions=10")
    assert "'k-core'" in message
    assert cache_entries(tmp_path / "rlrec-cache") == []


def test_bad_json_and_bad_template_are_explained(tmp_path):
    folder = tmp_path / "amazon"
    folder.mkdir()
    (folder / "reviews.json").write_text("{'reviewerID': 'A'}\n")
    assert "line 1: not JSON" in error_of("amazon_reviews", folder)
    ml = data_files.write_movielens_latest(tmp_path / "ml")
    message = error_of("movielens", ml, "dataset.text_template='{title} by {director}'")
    assert "names {director}" in message and "'genres'" in message


def test_data_prepare_prints_statistics_then_reads_the_cache(tmp_path):
    folder = data_files.write_movielens_latest(tmp_path / "ml")
    args = ("data", "prepare", "dataset=movielens", f"dataset.path={folder}", *NO_CORE)
    first = run_rlrec(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    for line in (
        "users",
        "items",
        "interactions",
        "density",
        "events: rate",
        "history length median",
        "k-core",
    ):
        assert line in out, f"{line!r} missing from:\n{out}"
    assert "prepared and written to the cache" in out
    samples = [line for line in out.splitlines() if line.startswith("  item ")]
    assert "item texts the language model reads (3 of 5)" in out and len(samples) == 3, out
    assert "Good, the Bad and the Ugly, The (1966). Genres: Action, Western" in out  # the template, rendered
    assert [
        line.split()[-1] for line in out.splitlines() if line.strip().startswith(("users", "items "))
    ] == ["4", "5"]
    (entry,) = (tmp_path / "rlrec-cache" / "datasets").iterdir()
    stats = json.loads((entry / "stats.json").read_text())
    assert stats["users"] == 4 and stats["interactions"] == 12 and stats["history_length"]["max"] == 4
    assert [s["step"] for s in stats["preprocessing"]][:3] == [
        "drop null ids",
        "drop unparsable timestamps",
        "drop unknown event types",
    ]
    second = run_rlrec(*args, cwd=tmp_path)
    assert (
        second.returncode == 0
        and "read from the cache" in second.stdout
        and "read from cache" in second.stderr
    )


def test_data_prepare_reports_bad_input_in_one_line(tmp_path):
    failed = run_rlrec(
        "data", "prepare", "dataset=movielens", f"dataset.path={tmp_path / 'none'}", cwd=tmp_path
    )
    assert failed.returncode == 2 and "is not a folder" in failed.stderr and "Traceback" not in failed.stderr
    typo = run_rlrec("data", "prepare", "dataset=movielens", "dataset.pth=x", cwd=tmp_path)
    assert typo.returncode == 2 and "Key 'pth' not in" in typo.stderr
    usage = run_rlrec("data", "cook", cwd=tmp_path)
    assert usage.returncode == 2 and "rlrec data prepare" in usage.stderr


def test_training_on_a_logged_dataset_with_the_synthetic_env_fails_clearly(tmp_path):
    folder = data_files.write_movielens_latest(tmp_path / "ml")
    cfg = compose_config("dataset=movielens", f"dataset.path={folder}", *NO_CORE, tiny=False)
    dataset = instantiate(cfg.dataset)
    from rlrec.envs.synthetic import SyntheticRecEnv

    with pytest.raises(ValueError, match="use dataset=synthetic"):
        with_defaults(SyntheticRecEnv, dataset)


def test_a_file_without_rows_fails_naming_it(tmp_path):
    folder = data_files.write_custom_csv(tmp_path / "mine", [])
    message = error_of(
        "csv",
        folder,
        "dataset.interactions_file=log.csv",
        "dataset.columns={user_id: uid, item_id: iid, timestamp: ts}",
    )
    assert "dataset.format=csv: no interactions in" in message and "log.csv" in message
    assert cache_entries(tmp_path / "rlrec-cache") == []


def test_chronological_without_valid_or_test_share_keeps_rows_in_train():
    only_test = assign_splits(random_log(), {**SPLIT, "method": "chronological", "valid_fraction": 0.0}, 60)
    assert set(only_test["split"].unique()) == {"train", "test"}
    neither = {**SPLIT, "method": "chronological", "valid_fraction": 0.0, "test_fraction": 0.0}
    assert set(assign_splits(random_log(), neither, 60)["split"].unique()) == {"train"}
