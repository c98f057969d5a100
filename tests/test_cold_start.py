"""The cold-start protocol: split.method=cold_items keeps held-out items out of training, and the replay
env reports cold and warm targets apart."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import torch

from rlrec.config import with_defaults
from rlrec.data.split import assign_splits
from rlrec.envs.replay import ReplayEnv
from tests.test_replay_env import make_dataset

COLD = {"method": "cold_items", "valid_fraction": 0.1, "test_fraction": 0.1, "cold_fraction": 0.2, "seed": 0}


def item_log(n_users: int = 40, n_items: int = 30, seed: int = 0) -> pl.DataFrame:
    """Users with 3..20 interactions with random items at increasing times, sorted as preprocessing sorts."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 21, size=n_users)
    users = np.repeat(np.arange(n_users), lengths)
    items = rng.integers(0, n_items, size=len(users))
    items[:n_items] = np.arange(n_items)  # every item id occurs
    return pl.DataFrame(
        {
            "user_id": users.astype(np.uint32),
            "item_id": items.astype(np.uint32),
            "timestamp": np.arange(len(users), dtype=np.int64),
        }
    )


def test_cold_items_never_reach_train_and_warm_rows_are_leave_one_out():
    frame = assign_splits(item_log(), COLD, 40)
    per_item = frame.group_by("item_id").agg(pl.col("split").cast(pl.String).unique())
    cold = {item for item, splits in per_item.iter_rows() if "train" not in splits}
    n_cold = round(30 * 0.2)
    places = {item: set(splits) for item, splits in per_item.iter_rows()}
    # exactly the drawn items are cold, each wholly in valid or wholly in test, half of them each
    held = {item for item, splits in places.items() if splits in ({"valid"}, {"test"})}
    assert len(held) == n_cold and held <= cold
    assert sum(places[i] == {"valid"} for i in held) == n_cold // 2
    warm = frame.filter(~pl.col("item_id").is_in(sorted(held)))
    for (user,), rows in warm.group_by("user_id"):
        labels = rows["split"].cast(pl.String).to_list()
        expected = ["train"] * len(labels)
        if len(labels) >= 2:
            expected[-1] = "test"
        if len(labels) >= 3:
            expected[-2] = "valid"
        assert labels == expected, f"user {user}"


def test_cold_items_are_seeded():
    split = lambda seed: assign_splits(item_log(), {**COLD, "seed": seed}, 40)["split"]  # noqa: E731
    assert split(0).equals(split(0))
    assert not split(0).equals(split(1))


def test_cold_items_bad_settings_name_the_key():
    with pytest.raises(ValueError, match="dataset.split.cold_fraction=1.5"):
        assign_splits(item_log(), {**COLD, "cold_fraction": 1.5}, 40)
    with pytest.raises(ValueError, match="dataset.split.seed must be set for split.method=cold_items"):
        assign_splits(item_log(), {**COLD, "seed": None}, 40)


def test_replay_metrics_report_cold_and_warm_targets_apart():
    # item 4 is held out with no train interaction (cold); the other targets 2, 3 and 0 were trained
    env = with_defaults(ReplayEnv, make_dataset(), slate_size=3)
    assert env.trained_items.tolist() == [True, True, True, True, False, True]
    metrics = env.replay_metrics(
        lambda obs: torch.tensor([[4, 2, 0]]).expand(len(obs["user"]), 3), env.eval_users
    )
    assert metrics["hr@3_cold"] == 1.0 and metrics["ndcg@3_cold"] == 1.0  # user 0's 4, first in the slate
    # warm: user 1 hits 2 (second) and misses 3, user 2 hits 0 (third)
    assert metrics["hr@3_warm"] == pytest.approx((0.5 + 1) / 2)
    assert metrics["ndcg@3_warm"] == pytest.approx((0.5 / math.log2(3) + 1 / math.log2(4)) / 2)
    assert metrics["hr@3"] == pytest.approx((1 + 0.5 + 1) / 3)  # every target, as before


def test_no_cold_keys_when_every_target_was_trained():
    rows = [(0, 0, "click", None, None, "train"), (0, 1, "click", None, None, "train"),
            (0, 0, "click", None, None, "test"), (1, 1, "click", None, None, "train"),
            (1, 0, "click", None, None, "train"), (1, 1, "click", None, None, "test")]  # fmt: skip
    env = with_defaults(ReplayEnv, make_dataset(rows, n_items=2), slate_size=1, mask_history=False)
    metrics = env.replay_metrics(
        lambda obs: torch.zeros(len(obs["user"]), 1, dtype=torch.long), env.eval_users
    )
    assert metrics["hr@1"] == 0.5 and not any(name.endswith(("_cold", "_warm")) for name in metrics)


def test_items_the_training_log_never_holds_are_no_negatives_of_the_training_softmax():
    from types import SimpleNamespace

    from rlrec.agents.base import RecAgent

    agent = RecAgent(n_items=4, slate_size=1)
    logits = torch.zeros(2, 4, requires_grad=True)
    agent.note_training_catalogue(SimpleNamespace(trained_items=torch.tensor([True, True, False, True])))
    loss = torch.nn.functional.cross_entropy(agent.training_logits(logits), torch.tensor([0, 3]))
    loss.backward()
    assert logits.grad[:, 2].abs().sum() == 0 and logits.grad[:, 1].abs().sum() > 0  # 1 is pushed down
    assert loss.item() == pytest.approx(math.log(3))  # a softmax over the three trained items
    agent.note_training_catalogue(SimpleNamespace(trained_items=torch.ones(4, dtype=torch.bool)))
    assert agent.training_logits(logits) is logits  # nothing to leave out
    agent.note_training_catalogue(object())  # an environment without a training log: every item counts
    assert agent.unseen_items is None


# --- split.method=cold_users -----------------------------------------------------------------------
COLD_USERS = {**COLD, "method": "cold_users", "cold_fraction": 0.25, "cold_history": 2}


def test_cold_users_keep_their_first_rows_as_history_and_never_reach_train():
    frame = assign_splits(item_log(), COLD_USERS, 40)
    labels = {user: rows["split"].cast(pl.String).to_list() for (user,), rows in frame.group_by("user_id")}
    cold = {user for user, splits in labels.items() if "train" not in splits}
    assert len(cold) == 10  # 25 % of 40 users
    for user in cold:  # two history rows, then every later row a target of one split
        assert labels[user][:2] == ["history", "history"]
        assert set(labels[user][2:]) in ({"valid"}, {"test"}), labels[user]
    assert sum(set(labels[u][2:]) == {"valid"} for u in cold) == 5
    for user in set(labels) - cold:  # the others leave-one-out
        assert (
            labels[user][-1] == "test" and labels[user][-2] == "valid" and set(labels[user][:-2]) == {"train"}
        )
    split = lambda seed: assign_splits(item_log(), {**COLD_USERS, "seed": seed}, 40)["split"]  # noqa: E731
    assert split(0).equals(split(0)) and not split(0).equals(split(1))
    with pytest.raises(ValueError, match="dataset.split.cold_history=0"):
        assign_splits(item_log(), {**COLD_USERS, "cold_history": 0}, 40)
    with pytest.raises(ValueError, match="dataset.split.seed must be set for split.method=cold_users"):
        assign_splits(item_log(), {**COLD_USERS, "seed": None}, 40)


def test_a_cold_users_history_rows_are_read_as_history_but_never_judged():
    rows = [(0, 0, "click", None, None, "train"), (0, 1, "click", None, None, "train"),
            (0, 2, "click", None, None, "test"),
            (1, 3, "click", None, None, "history"), (1, 4, "click", None, None, "history"),
            (1, 5, "click", None, None, "test"), (1, 0, "click", None, None, "test")]  # fmt: skip
    env = with_defaults(ReplayEnv, make_dataset(rows, n_items=6), slate_size=1, history_window=3)
    assert env.train_users.tolist() == [0]  # the held-out user is never walked in training
    seen = []

    def policy(obs):
        seen.append((obs["user"].tolist(), obs["history"][obs["history_mask"]].tolist()))
        return torch.tensor([[5] if user == 1 else [2] for user in obs["user"].tolist()])

    metrics = env.replay_metrics(policy, env.eval_users)
    # user 1 is judged on 5 (hit, with its history rows 3, 4 as history) and on 0 (miss): hr 0.5
    assert ([0, 1], [0, 1, 3, 4]) in seen and ([1], [3, 4, 5]) in seen
    assert metrics["hr@1_cold_users"] == 0.5 and metrics["hr@1_warm_users"] == 1.0
    assert metrics["hr@1"] == pytest.approx((1.0 + 0.5) / 2)


# --- algorithm.cold_scores: cold items' scores on the trained items' scale ---------------------------
def test_standardize_untrained_gives_cold_columns_the_trained_columns_mean_and_std():
    from rlrec.agents.towers import standardize_untrained

    scores = torch.tensor([[1.0, 2.0, 3.0, 0.1, 0.3], [0.0, 4.0, 8.0, 0.5, 0.5]])
    untrained = torch.tensor([False, False, False, True, True])
    out = standardize_untrained(scores, untrained)
    assert torch.equal(out[:, :3], scores[:, :3])  # trained items keep their scores
    # row 0: trained mean 2, std 1 (n-1); cold 0.1, 0.3 -> z = -/+ 1/sqrt(2)
    assert out[0, 3:].tolist() == pytest.approx([2 - 2**-0.5, 2 + 2**-0.5])
    # row 1: both cold scores equal (std 0) -> both at the trained mean 4
    assert out[1, 3:].tolist() == pytest.approx([4.0, 4.0])
    one = standardize_untrained(scores, torch.tensor([False, False, False, False, True]))
    assert one[0, 4].item() == pytest.approx(scores[0, :4].mean().item())  # one cold item: the mean
    assert standardize_untrained(scores, torch.zeros(5, dtype=torch.bool)) is scores


def test_cold_scores_calibrate_a_text_tower_and_leave_an_id_tower_raw():
    from types import SimpleNamespace

    from rlrec.agents.base import RecAgent
    from rlrec.agents.towers import standardize_untrained

    agent = RecAgent(n_items=5, slate_size=1)
    scores = torch.tensor([[1.0, 2.0, 3.0, 0.1, 0.3]])
    text_tower, id_tower = SimpleNamespace(encode_texts=None), SimpleNamespace()
    assert agent.cold_calibrated(scores, text_tower, "standardize") is scores  # no catalogue noted yet
    agent.note_training_catalogue(SimpleNamespace(trained_items=torch.tensor([1, 1, 1, 0, 0]).bool()))
    calibrated = agent.cold_calibrated(scores, text_tower, "standardize")
    assert torch.equal(calibrated, standardize_untrained(scores, agent.unseen_items))
    assert scores[0].argsort(descending=True).tolist() == [2, 1, 0, 4, 3]  # raw: cold items last
    assert calibrated[0].argsort(descending=True).tolist() == [2, 4, 1, 3, 0]  # 3, 2.71, 2, 1.29, 1
    assert agent.cold_calibrated(scores, text_tower, "raw") is scores
    assert agent.cold_calibrated(scores, id_tower, "standardize") is scores  # untrained ids: nothing to place
