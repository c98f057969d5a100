"""The synthetic world and its vectorised click simulator."""

from __future__ import annotations

import pytest
import torch

from rlrec.data.schema import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, SPLIT_DTYPE
from rlrec.data.synthetic import TOPICS, generate_synthetic
from rlrec.envs.rollout import episode_returns, uniform_random_policy
from rlrec.envs.synthetic import SyntheticRecEnv


@pytest.fixture(scope="module")
def dataset():
    return generate_synthetic(n_users=300, n_items=80, n_topics=8, history_length=12, seed=3)


def test_dataset_follows_the_schema_with_dense_ids(dataset):
    assert dict(dataset.interactions.schema) == {**INTERACTIONS_SCHEMA, "split": SPLIT_DTYPE}
    assert dict(dataset.items.schema) == ITEMS_SCHEMA
    assert dataset.items["item_id"].to_list() == list(range(80))
    assert dataset.interactions["user_id"].n_unique() == 300 == dataset.n_users
    assert dataset.interactions.height == 300 * 12
    users = torch.cat([dataset.train_users, dataset.eval_users]).sort().values
    assert torch.equal(users, torch.arange(300)), "train and eval users partition all users"
    test_users = dataset.split("test")["user_id"].unique().sort().to_list()
    assert test_users == dataset.eval_users.tolist(), "held-out users' histories are the test split"
    assert dataset.stats["interactions"] == 300 * 12 and dataset.stats["users"] == 300


def test_item_text_describes_the_item_topics(dataset):
    main_topic = dataset.world.item_topics.argmax(1)
    for row, topic in zip(dataset.items.iter_rows(named=True), main_topic.tolist(), strict=True):
        category, words = TOPICS[dataset.world.topic_names[topic]]
        assert row["category"] == category
        assert row["text"].startswith(row["title"]) and any(word in row["text"] for word in words)


def test_same_seed_same_world_other_seed_other_world(dataset):
    again = generate_synthetic(n_users=300, n_items=80, n_topics=8, history_length=12, seed=3)
    other = generate_synthetic(n_users=300, n_items=80, n_topics=8, history_length=12, seed=4)
    assert again.interactions.equals(dataset.interactions) and again.items.equals(dataset.items)
    assert again.cache_key == dataset.cache_key != other.cache_key
    assert not other.interactions.equals(dataset.interactions)


def test_logged_history_follows_user_interests(dataset):
    """Users click mostly items of the topics they like: the history is informative."""
    topics = dataset.world.item_topics.argmax(1)
    clicks = dataset.interactions.sort("user_id")
    users = torch.tensor(clicks["user_id"].to_list())
    items = torch.tensor(clicks["item_id"].to_list())
    interest_in_clicked = dataset.world.user_interests[users, topics[items]].mean()
    shuffled = items[torch.randperm(len(items), generator=torch.Generator().manual_seed(0))]
    interest_in_shuffled = dataset.world.user_interests[users, topics[shuffled]].mean()
    assert interest_in_clicked > 2 * interest_in_shuffled


@pytest.mark.parametrize("bad", [{"n_topics": 1}, {"n_topics": 99}, {"n_items": 3}, {"eval_fraction": 0.0}])
def test_bad_dataset_settings_fail_clearly(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        generate_synthetic(**{"n_users": 50, "n_items": 40, "n_topics": 8, **bad})


def test_env_step_shapes_and_history_update(dataset):
    env = SyntheticRecEnv(dataset, num_envs=16, slate_size=4, horizon=3, seed=0)
    users = env.sample_users(16)
    obs = env.reset(users)
    assert obs["history"].shape == (16, 20) and obs["history_mask"].dtype == torch.bool
    slate = torch.arange(4).repeat(16, 1)
    for t in range(3):
        next_obs, rewards, done, info = env.step(slate)
        clicked = info["clicked_position"] >= 0
        assert torch.equal(rewards["click"], clicked.float())
        expected_last = torch.where(
            clicked,
            slate.gather(1, info["clicked_position"].clamp(min=0)[:, None])[:, 0],
            obs["history"][:, -1],
        )
        assert torch.equal(next_obs["history"][:, -1], expected_last)
        assert done.all() == (t == 2)
        obs = next_obs


def test_click_model_prefers_what_users_like(dataset):
    """A slate of the true best items earns far more clicks than a random one; no-click can dominate."""
    env = SyntheticRecEnv(dataset, slate_size=5, horizon=5)
    users = dataset.eval_users
    world = dataset.world

    def oracle(obs):
        utility = env.affinity_weight * world.user_interests[obs["user"]] @ world.item_topics.T
        return (utility + env.quality_weight * world.item_quality).topk(5, dim=1).indices

    best = episode_returns(env, oracle, users, seed=1)["return"].mean()
    random = episode_returns(env, uniform_random_policy(80, 5, seed=1), users, seed=1)["return"].mean()
    assert best > 1.5 * random > 0
    never = SyntheticRecEnv(dataset, slate_size=5, horizon=5, no_click_utility=50.0)
    assert episode_returns(never, oracle, users, seed=1)["return"].sum() == 0


def test_env_is_reproducible_from_its_seed(dataset):
    env = SyntheticRecEnv(dataset, horizon=4)
    policy = uniform_random_policy(80, 5, seed=0)
    first = episode_returns(env, policy, dataset.eval_users, seed=9)["return"]
    policy = uniform_random_policy(80, 5, seed=0)
    assert torch.equal(first, episode_returns(env, policy, dataset.eval_users, seed=9)["return"])


def test_env_refuses_bad_input(dataset):
    with pytest.raises(ValueError, match="slate_size"):
        SyntheticRecEnv(dataset, slate_size=0)
    with pytest.raises(RuntimeError, match="reset"):
        SyntheticRecEnv(dataset).step(torch.zeros(2, 5, dtype=torch.long))
