"""Every cleaning step, on small raw frames: what it removes, and that it reports it."""

from __future__ import annotations

import polars as pl
import pytest

from rlrec.data.preprocess import DatasetEmptiedError, clean
from rlrec.data.readers.raw import raw_frame

EVENT_MAP = {"click": "click", "buy": "purchase", "fav": None}
NOTHING = dict(
    dedupe="none",
    rating_threshold=None,
    session_gap=None,
    min_user_interactions=1,
    min_item_interactions=1,
    min_history=1,
    max_history=None,
)


def raw(rows: list[tuple]) -> pl.DataFrame:
    """rows of (user, item, timestamp, event, rating)."""
    frame = pl.DataFrame(rows, schema=["user_key", "item_key", "timestamp", "event", "rating"], orient="row")
    return raw_frame(frame)


def run(rows: list[tuple], **settings):
    cleaner = clean(raw(rows), EVENT_MAP, {**NOTHING, **settings})
    return cleaner.frame, {step["step"]: step for step in cleaner.report()}


def test_invalid_rows_are_dropped_and_counted_by_kind():
    rows = [
        ("a", "x", 1, "click", None),
        (None, "x", 2, "click", None),  # null user
        ("a", None, 3, "click", None),  # null item
        ("a", "y", None, "click", None),  # unparsable timestamp (null after parsing)
        ("a", "y", 4, "zap", None),  # unknown event
        ("b", "y", 5, None, None),  # no event at all
        ("b", "x", 6, "fav", None),  # mapped to null: ignored
        ("b", "y", 7, "buy", None),
    ]
    frame, steps = run(rows)
    assert frame.height == 2 and frame["event"].to_list() == ["click", "purchase"]
    assert steps["drop null ids"]["removed"] == 2
    assert steps["drop unparsable timestamps"]["removed"] == 1
    assert steps["drop unknown event types"]["removed"] == 2
    assert steps["drop unknown event types"]["detail"] == "null: 1, zap: 1"
    assert (
        steps["drop ignored event types"]["removed"] == 1
        and steps["drop ignored event types"]["detail"] == "fav: 1"
    )


def test_dedupe_exact_and_first():
    rows = [("a", "x", 1, "click", None), ("a", "x", 1, "click", None), ("a", "x", 5, "click", None)]
    assert run(rows, dedupe="exact")[1]["de-duplicate"]["removed"] == 1
    frame, steps = run(rows, dedupe="first")
    assert steps["de-duplicate"]["removed"] == 2 and frame["timestamp"].to_list() == [1]
    assert "de-duplicate" not in run(rows)[1], "dedupe=none runs no step"


def test_rating_threshold_keeps_positives_and_unrated_rows():
    rows = [("a", "x", 1, "click", 5.0), ("a", "y", 2, "click", 3.5), ("a", "z", 3, "click", None)]
    frame, steps = run(rows, rating_threshold=4.0)
    assert frame["item_key"].to_list() == ["x", "z"] and steps["rating threshold"]["removed"] == 1


def test_session_gap_makes_each_session_a_user():
    rows = [("a", "x", 0, "click", None), ("a", "y", 100, "click", None), ("a", "z", 5000, "click", None)]
    rows.append(("b", "x", 10, "click", None))
    frame, steps = run(rows, session_gap=1800)
    assert frame["user_key"].to_list() == ["a#0", "a#0", "a#1", "b#0"]
    assert steps["sessions"]["removed"] == 0 and "2 users -> 3 sessions" in steps["sessions"]["detail"]


def test_k_core_is_iterative():
    # D (1 item) goes first; then item z has only C, so it goes; then C has one item left and goes.
    rows = [("A", "x"), ("A", "y"), ("B", "x"), ("B", "y"), ("C", "y"), ("C", "z"), ("D", "z")]
    frame, steps = run(
        [(u, i, t, "click", None) for t, (u, i) in enumerate(rows)],
        min_user_interactions=2,
        min_item_interactions=2,
    )
    assert sorted(frame["user_key"].unique()) == ["A", "B"] and sorted(frame["item_key"].unique()) == [
        "x",
        "y",
    ]
    assert steps["k-core"]["removed"] == 3 and "4 rounds" in steps["k-core"]["detail"]
    for key, minimum in (("user_key", 2), ("item_key", 2)):
        assert frame.group_by(key).len()["len"].min() >= minimum


def test_min_and_max_history():
    rows = [("a", f"i{t}", t, "click", None) for t in range(6)] + [("b", "i0", 1, "click", None)]
    frame, steps = run(rows, min_history=2, max_history=4)
    assert steps["min history"]["removed"] == 1 and steps["max history"]["removed"] == 2
    assert frame["timestamp"].to_list() == [2, 3, 4, 5], "the newest max_history interactions are kept"


def test_time_order_sorts_users_and_keeps_file_order_for_ties():
    rows = [
        ("b", "x", 9, "click", None),
        ("a", "y", 5, "click", None),
        ("a", "x", 5, "buy", None),
        ("a", "z", 1, "click", None),
    ]
    frame, steps = run(rows)
    assert frame.select("user_key", "item_key").rows() == [("a", "z"), ("a", "y"), ("a", "x"), ("b", "x")]
    assert steps["time order"]["removed"] == 0


def test_a_filter_that_empties_the_dataset_is_named():
    with pytest.raises(DatasetEmptiedError, match=r"'k-core' \(preprocess.min_user_interactions"):
        run([("a", "x", 1, "click", None)], min_user_interactions=3)
    with pytest.raises(DatasetEmptiedError, match="'rating threshold' .preprocess.rating_threshold."):
        run([("a", "x", 1, "click", 2.0)], rating_threshold=4.0)


@pytest.mark.parametrize(
    ("settings", "event_map", "message"),
    [
        ({"dedupe": "sometimes"}, EVENT_MAP, "dataset.preprocess.dedupe"),
        ({"min_history": 0}, EVENT_MAP, "dataset.preprocess.min_history"),
        ({}, {"click": "like"}, "dataset.event_map"),
        ({}, {}, "dataset.event_map is empty"),
    ],
)
def test_bad_settings_fail_naming_the_key(settings, event_map, message):
    with pytest.raises(ValueError, match=message):
        clean(raw([("a", "x", 1, "click", None)]), event_map, {**NOTHING, **settings})


def test_a_rating_that_did_not_parse_does_not_pass_the_threshold():
    rows = [("a", "x", 1, "rate", 5.0), ("a", "y", 2, "rate", None), ("a", "z", 3, "click", None)]
    cleaner = clean(raw(rows), {"rate": "rate", "click": "click"}, {**NOTHING, "rating_threshold": 4.0})
    assert cleaner.frame["item_key"].to_list() == ["x", "z"]
    assert {s["step"]: s for s in cleaner.report()}["rating threshold"]["removed"] == 1
