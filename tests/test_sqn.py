"""Logged transitions from a hand-made log, SQN's double-Q target, SQN and the supervised baseline end to end."""

from __future__ import annotations

import functools

import polars as pl
import pytest
import torch

from rlrec.agents.logged import LoggedTransitions, discounted_returns
from rlrec.agents.sqn import SQNAgent
from rlrec.config import with_defaults
from rlrec.data.schema import EVENT_DTYPE, INTERACTIONS_SCHEMA, ITEMS_SCHEMA, SPLIT_DTYPE, RecDataset
from rlrec.encoders.id import IdItemEncoder
from rlrec.encoders.state import MeanHistoryState
from rlrec.envs.rewards import WeightedReward
from rlrec.train import train
from tests.conftest import compose_config

SHORT = ["trainer.max_steps=24", "trainer.eval_every=24"]  # a few dozen steps, one evaluation


def make_sqn(n_items: int = 6, dim: int = 8, **kwargs) -> SQNAgent:
    """A tiny SQN over id embeddings and a mean-of-history state (history of 2)."""
    return with_defaults(
        SQNAgent,
        item_encoder=IdItemEncoder(n_items, dim=dim),
        state_encoder=MeanHistoryState,
        n_items=n_items,
        slate_size=2,
        optimizer=functools.partial(torch.optim.Adam),
        hidden_dim=dim,
        history_length=2,
        **kwargs,
    )


def hand_made_dataset() -> RecDataset:
    """User 0: click 3, purchase 1, click 4. User 1: cart 2, click 5, then a test-split click 0.
    Rows are shuffled: the transitions must follow the timestamps."""
    rows = [  # user, item, timestamp, event, split
        (1, 5, 20, "click", "train"),
        (0, 1, 10, "purchase", "train"),
        (1, 0, 30, "click", "test"),
        (0, 3, 5, "click", "train"),
        (1, 2, 1, "cart", "train"),
        (0, 4, 11, "click", "train"),
    ]
    user, item, timestamp, event, split = zip(*rows, strict=True)
    interactions = pl.DataFrame(
        {
            "user_id": user,
            "item_id": item,
            "timestamp": timestamp,
            "event": event,
            "rating": None,
            "text": None,
        }
    ).cast({**INTERACTIONS_SCHEMA, "event": EVENT_DTYPE})
    interactions = interactions.with_columns(pl.Series("split", split).cast(SPLIT_DTYPE))
    items = pl.DataFrame(
        {"item_id": range(6), "title": [f"t{i}" for i in range(6)], "text": "", "category": None}
    ).cast(ITEMS_SCHEMA)
    return RecDataset(
        name="hand",
        interactions=interactions,
        items=items,
        n_users=2,
        train_users=torch.arange(2),
        eval_users=torch.arange(2),
        cache_key="hand",
    )


def hand_made_transitions() -> dict[str, torch.Tensor]:
    """Every logged transition of ``hand_made_dataset`` as one batch (click and purchase rewards)."""
    log = LoggedTransitions(
        hand_made_dataset(), with_defaults(WeightedReward), ("click", "purchase"), history_length=2
    )
    return log.rows(torch.arange(len(log)))


def test_logged_transitions_equal_the_hand_computed_rows():
    log = LoggedTransitions(
        hand_made_dataset(), with_defaults(WeightedReward), ("click", "purchase"), history_length=2
    )
    batch = log.rows(torch.arange(len(log)))
    # time order: u0 (3 click, 1 purchase, 4 click), u1 (2 cart, 5 click); the test-split row is left out
    assert batch["history"].tolist() == [[0, 0], [0, 3], [3, 1], [0, 0], [0, 2]]
    assert batch["history_mask"].tolist() == [[0, 0], [0, 1], [1, 1], [0, 0], [0, 1]]
    assert batch["action"].tolist() == [3, 1, 4, 2, 5]
    assert batch["next_history"].tolist() == [[0, 3], [3, 1], [1, 4], [0, 2], [2, 5]]
    assert batch["next_history_mask"].tolist() == [[0, 1], [1, 1], [1, 1], [0, 1], [1, 1]]
    assert batch["done"].tolist() == [0, 0, 1, 0, 1]
    assert batch["reward_click"].tolist() == [1, 0, 1, 0, 1]
    assert batch["reward_purchase"].tolist() == [0, 1, 0, 0, 0]
    assert batch["reward_total"].tolist() == pytest.approx([0.2, 1.0, 0.2, 0.0, 0.2]), (
        "cart is not an env task"
    )
    # G_t = r_t + 0.5 G_{t+1} within each user
    assert log.discounted_returns("total", 0.5).tolist() == pytest.approx([0.75, 1.1, 0.2, 0.1, 0.2])


def test_rated_items_earn_the_click_reward_as_in_replay():
    """A MovieLens-style log (every event ``rate``) rewards each transition like env=replay does:
    rate counts as click, so reward_total is the click weight, not 0."""
    dataset = hand_made_dataset()
    dataset.interactions = dataset.interactions.with_columns(pl.lit("rate").cast(EVENT_DTYPE).alias("event"))
    log = LoggedTransitions(dataset, with_defaults(WeightedReward), ("click",), history_length=2)
    batch = log.rows(torch.arange(len(log)))
    assert batch["reward_click"].tolist() == [1, 1, 1, 1, 1]
    assert batch["reward_total"].tolist() == pytest.approx([0.2] * 5)


def test_discounted_returns_match_a_python_loop():
    torch.manual_seed(0)
    rewards = torch.rand(50)
    last = torch.rand(50) < 0.2
    last[-1] = True
    expected, following = [], 0.0
    for r, end in zip(reversed(rewards.tolist()), reversed(last.tolist()), strict=True):
        following = r + (0.0 if end else 0.9 * following)
        expected.append(following)
    assert discounted_returns(rewards, last, 0.9).tolist() == pytest.approx(expected[::-1], rel=1e-5)


def test_sampling_is_seeded():
    log = LoggedTransitions(hand_made_dataset(), with_defaults(WeightedReward), ("click",), history_length=3)
    first = log.sample(8, torch.Generator().manual_seed(1))
    again = log.sample(8, torch.Generator().manual_seed(1))
    assert all(torch.equal(first[key], again[key]) for key in first)


def test_a_log_without_rewarded_events_fails_clearly():
    with pytest.raises(ValueError, match="none of the environment's tasks"):
        LoggedTransitions(hand_made_dataset(), with_defaults(WeightedReward), ("rating",), history_length=2)


def hand_computed_terms(agent: SQNAgent, batch: dict, main: int, gamma: float):
    """SQN's loss terms written out for ``batch`` with Q head ``main`` drawn as main: the state f(s)
    [N, d], the cross-entropy, Q_main(s, a) [N] of the logged actions and their double-Q target [N]."""
    rows = torch.arange(len(batch["action"]))
    state, items = agent.encode(batch["history"], batch["history_mask"])
    next_state, _ = agent.encode(batch["next_history"], batch["next_history_mask"])
    ce = torch.nn.functional.cross_entropy(agent.supervised_logits(state, items), batch["action"])
    q = agent.q_values(main, state)[rows, batch["action"]]
    best = agent.q_values(main, next_state).argmax(1)
    next_q = agent.q_values(1 - main, next_state)[rows, best]
    target = batch["reward_total"] + gamma * (1 - batch["done"]) * next_q
    return state, ce, q, target


def test_sqn_loss_is_cross_entropy_plus_the_double_q_error():
    torch.manual_seed(0)
    agent = make_sqn(gamma=0.5, q_weight=2.0)
    batch = hand_made_transitions()
    torch.manual_seed(3)
    main = int(torch.rand(()) < 0.5)  # the head training_step will draw as main
    torch.manual_seed(3)
    loss = agent.training_step(batch, 0)

    state, ce, q, target = hand_computed_terms(agent, batch, main, gamma=0.5)
    assert loss.item() == pytest.approx((ce + 2.0 * ((q - target) ** 2).mean()).item(), rel=1e-5)
    # the Q error trains the shared state encoder, not the item vectors the supervised head scores with
    q_error = ((q - target.detach()) ** 2).mean()
    encoder_grads = torch.autograd.grad(q_error, list(agent.q.state_tower.parameters()), retain_graph=True)
    assert any(grad.abs().sum() > 0 for grad in encoder_grads)
    assert agent.q_values(0, state).shape == (5, 6) and agent.q_heads[0].weight.shape == (6, 8)


def test_sqn_trains_from_the_log(tmp_path):
    summary = train(compose_config("algorithm=sqn", "state_encoder=gru", *SHORT, output_dir=tmp_path))
    metrics = summary["metrics"]
    assert summary["status"] == "completed" and metrics["train/steps"] == 24
    assert {"eval/return", "eval/return_random", "train/ce", "train/q_loss"} <= set(metrics)


def test_supervised_sasrec_trains_from_the_log(tmp_path):
    summary = train(
        compose_config("algorithm=supervised", "state_encoder=sasrec", *SHORT, output_dir=tmp_path)
    )
    metrics = summary["metrics"]
    assert summary["status"] == "completed" and metrics["train/steps"] == 24
    assert {"eval/return", "eval/return_random", "train/ce"} <= set(metrics)


def test_sqn_names_a_missing_reward_key(tmp_path):
    with pytest.raises(ValueError, match="algorithm.task='rating' is not a logged reward"):
        train(compose_config("algorithm=sqn", "algorithm.task=rating", *SHORT, output_dir=tmp_path))


def test_sqn_on_the_synthetic_log_reads_the_valid_users(tmp_path):
    """env=replay on dataset=synthetic: the held-out valid users' logs are a split to tune on."""
    config = compose_config(
        "algorithm=sqn", "env=replay", "env.eval_split=valid", *SHORT, output_dir=tmp_path
    )
    summary = train(config)
    assert summary["status"] == "completed"
    assert 0.0 <= summary["metrics"]["eval/hr@10"] <= 1.0


def test_snqn_negatives_earn_no_reward_and_keep_the_state():
    torch.manual_seed(0)
    agent = make_sqn(gamma=0.5, negatives=3)
    batch = hand_made_transitions()
    torch.manual_seed(3)
    main = int(torch.rand(()) < 0.5)
    negative = agent.negative_items(batch["action"])
    torch.manual_seed(3)
    loss = agent.training_step(batch, 0)

    state, ce, q, target = hand_computed_terms(agent, batch, main, gamma=0.5)
    q_all = agent.q_values(main, state)
    stay = 0.5 * agent.q_values(1 - main, state)[torch.arange(5), q_all.argmax(1)]  # [5]
    negative_error = ((q_all.gather(1, negative) - stay[:, None]) ** 2).sum(1).mean()
    expected = ce + ((q - target) ** 2).mean() + negative_error
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert negative.shape == (5, 3) and not (negative == batch["action"][:, None]).any()


def test_negative_items_never_repeat_the_logged_action_and_cover_the_rest():
    agent = make_sqn(n_items=4, dim=4, negatives=2)
    action = torch.full((2000,), 2)
    negative = agent.negative_items(action)
    assert set(negative.unique().tolist()) == {0, 1, 3}
    with pytest.raises(ValueError, match="algorithm.negatives must be between 0 and n_items - 1 = 3"):
        make_sqn(n_items=4, dim=4, negatives=4)
