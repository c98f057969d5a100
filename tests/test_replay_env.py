"""env=replay: the logged walk, rewards by behaviour, ranking metrics by hand, eval_split, DQN training."""

from __future__ import annotations

import math

import polars as pl
import pytest
import torch

from rlrec.config import with_defaults
from rlrec.data.schema import EVENT_DTYPE, INTERACTIONS_SCHEMA, ITEMS_SCHEMA, SPLIT_DTYPE, RecDataset
from rlrec.envs.replay import ReplayEnv
from rlrec.envs.rewards import WeightedReward
from tests.conftest import compose_config

# (user, item, event, rating, text, split), in time order per user
ROWS = [
    (0, 0, "click", None, None, "train"), (0, 1, "click", None, None, "train"),
    (0, 2, "purchase", None, None, "train"), (0, 3, "cart", None, None, "train"),
    (0, 4, "click", None, None, "test"),
    (1, 5, "click", None, None, "train"), (1, 0, "view", None, None, "train"),
    (1, 1, "purchase", None, None, "valid"), (1, 2, "click", None, None, "test"),
    (1, 3, "purchase", None, None, "test"),
    (2, 1, "click", None, None, "train"), (2, 0, "click", None, None, "test"),
    (3, 0, "rate", 5.0, None, "train"), (3, 1, "rate", 2.0, "meh", "train"),
    (3, 2, "rate", 4.5, "loved it", "train"),
]  # fmt: skip


def make_dataset(rows=ROWS, n_items: int = 6) -> RecDataset:
    """A RecDataset from (user, item, event, rating, text, split) rows; timestamps follow row order."""
    frame = pl.DataFrame(
        [(u, i, 10 * t, e, r, x, s) for t, (u, i, e, r, x, s) in enumerate(rows)],
        schema=[*INTERACTIONS_SCHEMA, "split"],
        orient="row",
    ).cast({**INTERACTIONS_SCHEMA, "event": EVENT_DTYPE, "split": SPLIT_DTYPE})
    items = pl.DataFrame(
        {
            "item_id": range(n_items),
            "title": [f"t{i}" for i in range(n_items)],
            "text": None,
            "category": None,
        }
    ).cast(ITEMS_SCHEMA)
    n_users = int(frame["user_id"].max()) + 1
    users_in = {
        s: torch.tensor(
            frame.filter(pl.col("split") == s)["user_id"].unique().sort().to_list(), dtype=torch.long
        )
        for s in ("train", "test")
    }
    dataset = RecDataset("tiny", frame, items, n_users, users_in["train"], users_in["test"], "tiny-key")
    dataset.validate()
    return dataset


def test_training_walk_rewards_the_real_next_item_by_its_behaviour():
    env = with_defaults(ReplayEnv, make_dataset(), slate_size=3, horizon=10, history_window=3)
    assert env.tasks == ("click", "cart", "purchase")
    assert env.train_users.tolist() == [0, 1, 3]  # user 2 has one train interaction: nothing to predict
    obs = env.reset(torch.tensor([0]))  # horizon covers the sequence: the walk starts after item 0
    assert obs["history"].tolist() == [[0, 0, 0]] and obs["history_mask"].tolist() == [[False, False, True]]

    obs, rewards, done, info = env.step(torch.tensor([[5, 4, 1]]))  # real next item 1 (click) at position 2
    assert info["clicked_position"].tolist() == [2] and rewards["click"].tolist() == [1.0]
    assert rewards["total"].item() == pytest.approx(0.2) and not done.item()
    assert obs["history"].tolist() == [[0, 0, 1]] and obs["history_mask"].tolist() == [[False, True, True]]

    obs, rewards, done, info = env.step(torch.tensor([[5, 4, 1]]))  # real next item 2 (purchase): missed
    assert info["clicked_position"].tolist() == [-1] and rewards["total"].item() == 0.0
    assert obs["history"].tolist() == [[0, 1, 2]]  # history advances with the real item regardless

    obs, rewards, done, info = env.step(torch.tensor([[3, 4, 1]]))  # item 3 (cart) at position 0
    assert info["clicked_position"].tolist() == [0]
    assert rewards["cart"].item() == 1.0 and rewards["click"].item() == 0.0
    assert rewards["total"].item() == pytest.approx(0.5)
    assert done.item() and info["active"].item()  # the train sequence ended (test item 4 is not replayed)

    _, rewards, done, info = env.step(torch.tensor([[3, 4, 1]]))
    assert done.item() and not info["active"].item() and rewards["total"].item() == 0.0


def test_purchase_rating_and_text_reach_the_reward_function():
    seen = {}

    class Recording(WeightedReward):
        def __call__(self, outcomes, rating=None, text=None):
            seen.update(rating=rating.clone(), text=text)
            return super().__call__(outcomes, rating=rating, text=text)

    reward = with_defaults(
        Recording, weights={"click": 0.0, "purchase": 1.0, "rating": 1.0}, rating_mode="threshold"
    )
    env = with_defaults(ReplayEnv, make_dataset(), reward=reward, slate_size=2, horizon=10)
    env.reset(torch.tensor([3, 0]))  # both start at position 1: user 3 rated item 1 (2.0), user 0 clicks 1
    _, rewards, _, _ = env.step(torch.tensor([[1, 0], [0, 5]]))
    assert seen["rating"][0].item() == 2.0 and math.isnan(seen["rating"][1].item())
    assert seen["text"] == ["meh", None]
    assert rewards["rating"].tolist() == [0.0, 0.0] and rewards["click"].tolist() == [1.0, 0.0]
    _, rewards, _, _ = env.step(torch.tensor([[2, 0], [2, 5]]))  # user 3: item 2 rated 4.5; user 0: purchase
    assert rewards["rating"].tolist() == [1.0, 0.0] and rewards["purchase"].tolist() == [0.0, 1.0]
    assert rewards["total"].tolist() == [1.0, 1.0] and seen["text"] == ["loved it", None]


def test_short_horizon_starts_inside_the_sequence_and_stops_after_horizon_steps():
    env = with_defaults(ReplayEnv, make_dataset(), slate_size=2, horizon=2, seed=3)
    starts = set()
    for _ in range(20):
        obs = env.reset(torch.tensor([0]))
        starts.add(int(obs["history_mask"].sum()))
        steps = 0
        done = torch.tensor([False])
        while not done.all():
            _, _, done, _ = env.step(torch.tensor([[0, 1]]))
            steps += 1
        assert steps == 2
    assert starts == {1, 2}  # 4 train items, 2 steps: start after item 0 or after item 1


def test_evaluation_metrics_match_hand_computation():
    env = with_defaults(ReplayEnv, make_dataset(), slate_size=3)
    assert env.eval_users.tolist() == [0, 1, 2]
    histories = []

    def fixed(obs):
        histories.append((obs["user"].tolist(), obs["history"].tolist(), obs["history_mask"].tolist()))
        return torch.tensor([[4, 2, 0]]).expand(len(obs["user"]), 3)

    metrics = env.replay_metrics(fixed, env.eval_users)
    # user 0: target 4 at position 0; user 1: 2 at position 1, then 3 missed; user 2: 0 at position 2
    assert metrics["hr@3"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert metrics["ndcg@3"] == pytest.approx((1 + 0.5 / math.log2(3) + 1 / math.log2(4)) / 3)
    assert metrics["mrr@3"] == pytest.approx((1 + 0.25 + 1 / 3) / 3)
    assert metrics["return"] == pytest.approx(0.2)  # one click each; user 1's purchase was missed
    assert metrics["return_purchase"] == 0.0 and metrics["episode_length"] == pytest.approx(4 / 3)
    # the second step replays only user 1, whose history is everything before (valid and first test item)
    users, history, mask = histories[1]
    assert users == [1]
    assert [h for h, m in zip(history[0], mask[0], strict=True) if m] == [5, 0, 1, 2]

    full = env.evaluate(fixed, env.eval_users, seed=0)
    assert 0.0 <= full["hr@3_random"] <= 1.0 and "return_random" in full and "ndcg@3_random" in full


def test_a_perfect_policy_hits_every_held_out_item():
    dataset = make_dataset()
    env = with_defaults(ReplayEnv, dataset, slate_size=1)
    log = env.full_log

    def knows(obs):  # the logged item after the observed history (window wide enough to count it)
        seen = torch.tensor([int(m.sum()) for m in obs["history_mask"]])
        return log.item[log.rows(obs["user"], seen)][:, None]

    env.history_window = 50
    metrics = env.replay_metrics(knows, env.eval_users)
    assert metrics["hr@1"] == 1.0 and metrics["ndcg@1"] == 1.0
    assert metrics["return"] == pytest.approx((0.2 + 1.2 + 0.2) / 3)


def test_eval_split_choice_and_errors():
    env = with_defaults(ReplayEnv, make_dataset(), slate_size=2, eval_split="valid")
    assert env.eval_users.tolist() == [1]
    metrics = env.replay_metrics(lambda obs: torch.tensor([[1, 0]]), env.eval_users)
    assert metrics["hr@2"] == 1.0 and metrics["return"] == pytest.approx(1.0)  # the valid purchase
    no_valid = [row for row in ROWS if row[5] != "valid"]
    with pytest.raises(ValueError, match=r"env.eval_split='valid'.*no interactions"):
        with_defaults(ReplayEnv, make_dataset(no_valid), slate_size=2, eval_split="valid")
    with pytest.raises(ValueError, match="env.eval_split must be one of"):
        with_defaults(ReplayEnv, make_dataset(), slate_size=2, eval_split="train")


def test_slate_checks_apply():
    env = with_defaults(ReplayEnv, make_dataset(), slate_size=2)
    env.reset(torch.tensor([0]))
    with pytest.raises(ValueError, match="repeats an item"):
        env.step(torch.tensor([[1, 1]]))
    with pytest.raises(ValueError, match="must have shape"):
        env.step(torch.tensor([[1, 2, 3]]))
    with pytest.raises(ValueError, match="env.slate_size"):
        with_defaults(ReplayEnv, make_dataset(), slate_size=7)


def test_dqn_trains_on_replay(tmp_path):
    from rlrec.train import train

    summary = train(compose_config("env=replay", output_dir=tmp_path))
    metrics = summary["metrics"]
    assert summary["status"] == "completed"
    for name in ("eval/hr@10", "eval/ndcg@10", "eval/mrr@10", "eval/hr@10_random", "eval/return_random"):
        assert 0.0 <= metrics[name] <= 1.0, name
    assert metrics["eval/episode_length"] == 20.0  # synthetic eval users: 20 held-out clicks each
    assert metrics["train/steps"] == 60
