"""The synthetic world and its vectorised click simulator."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from rlrec.config import with_defaults
from rlrec.data.schema import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, SPLIT_DTYPE
from rlrec.data.synthetic import TOPICS, generate_synthetic
from rlrec.envs.rollout import episode_returns, random_slates, uniform_random_policy
from rlrec.envs.synthetic import SyntheticRecEnv, _sparse_topics
from rlrec.envs.synthetic_reference import PerUserSimulator


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
    valid_users = set(dataset.split("valid")["user_id"].to_list())
    test_users = set(dataset.split("test")["user_id"].to_list())
    assert len(valid_users) == len(dataset.eval_users) // 2 and not valid_users & test_users
    assert sorted(valid_users | test_users) == dataset.eval_users.tolist(), (
        "held-out users' histories are the valid (half) and test splits"
    )
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


def test_logged_history_is_sequential(dataset):
    """The log rolls the simulator's dynamics: boredom makes a user leave the topic just consumed, so
    consecutive clicks share their main topic far less often than the same clicks in shuffled order."""
    clicks = dataset.interactions.sort(["user_id", "timestamp"])
    items = torch.tensor(clicks["item_id"].to_list()).view(300, 12)
    times = torch.tensor(clicks["timestamp"].to_list()).view(300, 12)
    assert (times.diff(dim=1) > 0).all(), "one click per step, in time order"
    topic = dataset.world.item_topics.argmax(1)

    def same_topic_in_a_row(rows):
        return (topic[rows][:, 1:] == topic[rows][:, :-1]).float().mean()

    generator = torch.Generator().manual_seed(0)
    shuffled = items.gather(1, torch.rand(items.shape, generator=generator).argsort(1))
    assert same_topic_in_a_row(items) < 0.8 * same_topic_in_a_row(shuffled)


@pytest.mark.parametrize(
    "bad",
    [{"n_topics": 1}, {"n_topics": 99}, {"n_items": 3}, {"eval_fraction": 0.0}, {"logging_temperature": 0.0}],
)
def test_bad_dataset_settings_fail_clearly(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        generate_synthetic(**{"n_users": 50, "n_items": 40, "n_topics": 8, **bad})


def _rollout(env, users, steps, seed=0):
    """Random slates for ``steps`` steps: list of (rewards, done, info) of each step."""
    generator = torch.Generator().manual_seed(seed)
    env.reset(users)
    return [
        env.step(random_slates(len(users), env.n_items, env.slate_size, generator))[1:] for _ in range(steps)
    ]


def test_env_step_shapes_and_history_update(dataset):
    env = with_defaults(
        SyntheticRecEnv, dataset, num_envs=16, slate_size=4, horizon=3, leave_bias=-30.0, seed=0
    )
    users = env.sample_users(16)
    obs = env.reset(users)
    assert obs["history"].shape == (16, 20) and obs["history_mask"].dtype == torch.bool
    slate = torch.arange(4).repeat(16, 1)
    for t in range(3):
        next_obs, rewards, done, info = env.step(slate)
        assert set(rewards) == {"click", "cart", "purchase", "total"}
        assert set(info) >= {"clicked_position", "active", "left"}
        clicked = info["clicked_position"] >= 0
        assert torch.equal(rewards["click"], clicked.float())
        expected_last = torch.where(
            clicked,
            slate.gather(1, info["clicked_position"].clamp(min=0)[:, None])[:, 0],
            obs["history"][:, -1],
        )
        assert torch.equal(next_obs["history"][:, -1], expected_last)
        assert done.all() == (t == 2), "nobody leaves (leave_bias=-30): done exactly at the horizon"
        obs = next_obs


def test_history_window_shifts_on_a_click_and_its_mask_fills_up(dataset):
    """Next window: the old one shifted left with the clicked item appended, or unchanged without a
    click; the mask likewise (12 logged items: a 20-slot window is padded, an 8-slot one full)."""
    users, generator = dataset.train_users[:50], torch.Generator().manual_seed(0)
    for window in (20, 8):
        env = with_defaults(SyntheticRecEnv, dataset, history_window=window, leave_bias=-30.0, seed=0)
        obs = env.reset(users)
        assert bool(obs["history_mask"].all()) == (window == 8)
        for _ in range(4):
            slate = random_slates(50, 80, 5, generator)
            next_obs, _, _, info = env.step(slate)
            clicked = (info["clicked_position"] >= 0)[:, None]
            item = slate.gather(1, info["clicked_position"].clamp(min=0)[:, None])
            history = torch.where(clicked, torch.cat([obs["history"][:, 1:], item], 1), obs["history"])
            mask = obs["history_mask"]
            mask = torch.where(clicked, torch.cat([mask[:, 1:], torch.ones_like(mask[:, :1])], 1), mask)
            assert 0 < clicked.sum() < 50
            assert torch.equal(next_obs["history"], history) and torch.equal(next_obs["history_mask"], mask)
            obs = next_obs


def test_funnel_cart_after_click_purchase_after_cart_and_quality_sells(dataset):
    env = with_defaults(SyntheticRecEnv, dataset, horizon=20, leave_bias=-30.0, seed=1)
    totals = {"click": 0.0, "cart": 0.0, "purchase": 0.0}
    for rewards, _, _ in _rollout(env, dataset.train_users, 20):
        assert (rewards["cart"] <= rewards["click"]).all() and (rewards["purchase"] <= rewards["cart"]).all()
        expected = 0.2 * rewards["click"] + 0.5 * rewards["cart"] + 1.0 * rewards["purchase"]
        assert torch.allclose(rewards["total"], expected), "reward=weighted defaults"
        for task in totals:
            totals[task] += rewards[task].sum().item()
    assert totals["click"] > totals["cart"] > totals["purchase"] > 0
    # Clicked items of above-median quality reach the cart far more often (cart_quality > 0).
    env = with_defaults(SyntheticRecEnv, dataset, horizon=1, seed=2)
    users = dataset.train_users.repeat(20)
    env.reset(users)
    quality = dataset.world.item_quality
    good, bad = quality.topk(5).indices, (-quality).topk(5).indices
    _, good_rewards, _, _ = env.step(good.repeat(len(users), 1))
    env.reset(users)
    _, bad_rewards, _, _ = env.step(bad.repeat(len(users), 1))
    good_rate = good_rewards["cart"].sum() / good_rewards["click"].sum()
    bad_rate = bad_rewards["cart"].sum() / bad_rewards["click"].sum()
    assert good_rate > 3 * bad_rate


def test_drift_and_boredom_follow_their_equations(dataset):
    env = with_defaults(
        SyntheticRecEnv, dataset, no_click_utility=-50.0, leave_bias=-30.0, seed=0
    )  # everyone clicks
    users = dataset.train_users[:32]
    env.reset(users)
    slate = torch.arange(5).repeat(32, 1)
    interests, boredom = env.interests.clone(), env.boredom.clone()
    _, _, _, info = env.step(slate)
    item = slate.gather(1, info["clicked_position"][:, None])[:, 0]
    x = dataset.world.item_topics[item]
    assert (info["clicked_position"] >= 0).all()
    assert torch.allclose(env.interests, (1 - env.drift_rate) * interests + env.drift_rate * x, atol=1e-6)
    assert torch.allclose(env.boredom, env.boredom_decay * boredom + x)
    assert torch.allclose(env.interests.sum(1), torch.ones(32)), "interests stay a distribution"
    # a topic never consumed again decays geometrically; repeating a topic keeps raising its boredom
    never = with_defaults(SyntheticRecEnv, dataset, no_click_utility=50.0, leave_bias=-30.0)  # nobody clicks
    never.reset(users)
    never.boredom = env.boredom.clone()
    never.step(slate)
    assert torch.allclose(never.boredom, env.boredom_decay * env.boredom)


def test_boredom_lowers_the_utility_of_a_repeated_topic(dataset):
    env = with_defaults(SyntheticRecEnv, dataset, seed=0)
    users = dataset.train_users[:8]
    env.reset(users)
    slate = torch.arange(1, 6).repeat(8, 1)
    first = env.utility(slate)  # [8, 5]
    drift_free = with_defaults(
        SyntheticRecEnv, dataset, drift_rate=0.0, no_click_utility=-50.0, leave_bias=-30.0, seed=0
    )
    drift_free.reset(users)
    for _ in range(5):
        drift_free.step(slate)
    after = drift_free.utility(slate)
    assert (after <= first + 1e-6).all() and (after < first - 0.1).any(1).all(), (
        "after 5 clicks on these items' topics none is more attractive, and some much less"
    )
    no_boredom = with_defaults(
        SyntheticRecEnv, dataset, drift_rate=0.0, boredom_weight=0.0, no_click_utility=-50.0, seed=0
    )
    no_boredom.reset(users)
    for _ in range(5):
        no_boredom.step(slate)
    assert torch.allclose(no_boredom.utility(slate), first)


def test_users_leave_and_stay_done_with_zero_reward(dataset):
    env = with_defaults(
        SyntheticRecEnv, dataset, horizon=10, leave_bias=30.0, seed=0
    )  # everyone leaves at step 1
    steps = _rollout(env, dataset.eval_users, 3)
    _, done, info = steps[0]
    assert info["active"].all() and info["left"].all() and done.all()
    for rewards, done, info in steps[1:]:
        assert not info["active"].any() and not info["left"].any() and done.all()
        assert all((value == 0).all() for value in rewards.values())
    # Unhappy users (no clicks: satisfaction falls) leave earlier than happy ones.
    env = with_defaults(SyntheticRecEnv, dataset, horizon=30, seed=0)
    bored = episode_returns(
        env, lambda obs: torch.arange(5).repeat(len(obs["user"]), 1), dataset.eval_users, 0
    )
    oracle = episode_returns(env, env.reference_policies()["oracle"], dataset.eval_users, 0)
    assert oracle["episode_length"].mean() > bored["episode_length"].mean()
    assert (oracle["episode_length"] < 30).any(), "some users leave before the horizon"


def test_env_is_reproducible_from_its_seed(dataset):
    def trajectory(seed):
        env = with_defaults(SyntheticRecEnv, dataset, horizon=8, seed=seed)
        return torch.stack(
            [
                torch.stack([info["clicked_position"], rewards["purchase"].long(), done.long()])
                for rewards, done, info in _rollout(env, dataset.eval_users, 8)
            ]
        )

    assert torch.equal(trajectory(9), trajectory(9))
    assert not torch.equal(trajectory(9), trajectory(10))
    env = with_defaults(SyntheticRecEnv, dataset, horizon=6)
    policy = uniform_random_policy(80, 5, seed=0)
    first = episode_returns(env, policy, dataset.eval_users, seed=9)["return"]
    policy = uniform_random_policy(80, 5, seed=0)
    assert torch.equal(first, episode_returns(env, policy, dataset.eval_users, seed=9)["return"])


def _with_topics_per_item(dataset, count: int):
    """The dataset with each item spread over ``count`` topics (weights 1, or 0.5/0.3/0.2), instead of
    the generated 0.7 main + 0.3 side topic: step() sums the Z nonzero terms of each dot product."""
    if count == 2:
        return dataset
    n_items, n_topics = dataset.world.item_topics.shape
    weights = {1: [1.0], 3: [0.5, 0.3, 0.2]}[count]
    topics = torch.zeros(n_items, n_topics)
    for offset, weight in enumerate(weights):
        topics[torch.arange(n_items), (torch.arange(n_items) + offset) % n_topics] = weight
    return dataclasses.replace(dataset, world=dataclasses.replace(dataset.world, item_topics=topics))


@pytest.mark.parametrize("topics_per_item", [1, 2, 3])
def test_per_user_reference_loop_reproduces_the_vectorised_env(dataset, topics_per_item):
    """Same equations, same draws: the plain-Python loop (bench baseline) gives the same trajectories."""
    dataset = _with_topics_per_item(dataset, topics_per_item)
    env = with_defaults(SyntheticRecEnv, dataset, horizon=12, seed=5)
    users = dataset.train_users[:64]
    steps = _rollout(env, users, 12, seed=3)
    draws = torch.Generator().manual_seed(5)  # the env draws one [B, 4] uniform tensor per step
    draw_steps = [torch.rand(64, 4, generator=draws) for _ in range(12)]
    simulator = PerUserSimulator(env)
    states = [simulator.reset(int(u)) for u in users]
    generator = torch.Generator().manual_seed(3)
    agree = total = 0
    for t, (rewards, done, info) in enumerate(steps):
        slate = random_slates(64, 80, 5, generator)
        for b in range(64):
            out = simulator.step(states[b], slate[b].tolist(), draw_steps[t][b].tolist())
            same = (
                out.clicked_position == int(info["clicked_position"][b])
                and out.cart == bool(rewards["cart"][b])
                and out.purchase == bool(rewards["purchase"][b])
                and out.left == bool(info["left"][b])
                and out.done == bool(done[b])
            )
            agree, total = agree + same, total + 1
    assert agree / total >= 0.99, f"{agree}/{total} (user, step) outcomes identical"
    torch.testing.assert_close(
        torch.tensor([s.satisfaction for s in states], dtype=torch.float32),
        env.satisfaction,
        atol=1e-4,
        rtol=0,
    )


@pytest.mark.parametrize(
    ("slate", "message"),
    [
        (torch.zeros(4, 3, dtype=torch.long), r"shape \[B=4, K=5\]"),
        (torch.zeros(4, 5), "must be integers"),
        (torch.full((4, 5), 80), r"must be in \[0, 79\]"),
        (torch.tensor([[0, 1, 2, 3, 3]] * 4), "repeats an item.*env.allow_duplicate_items=true"),
    ],
)
def test_env_refuses_bad_slates(dataset, slate, message):
    env = with_defaults(SyntheticRecEnv, dataset)
    env.reset(dataset.eval_users[:4])
    with pytest.raises(ValueError, match=message):
        env.step(slate)


def test_repeated_item_error_names_the_first_offending_row(dataset):
    env = with_defaults(SyntheticRecEnv, dataset)
    env.reset(dataset.eval_users[:4])
    slate = torch.arange(20).view(4, 5)
    slate[2, 4] = slate[2, 0]
    slate[3, 3] = slate[3, 1]
    with pytest.raises(ValueError, match=r"slate row 2 repeats an item \(\[10, 11, 12, 13, 10\]\)"):
        env.step(slate.int())


def test_sparse_topics_hold_every_nonzero_topic_weight():
    """step() sums θ·x over each item's nonzero topics only; they must rebuild item_topics exactly."""
    generator = torch.Generator().manual_seed(0)
    dense = torch.rand(6, 5, generator=generator)
    sparse = dense * (dense > 0.5)
    sparse[0] = 0.0
    sparse[0, 3] = 1.0  # a single nonzero topic: padded with weight 0
    for topics in (dense, sparse):
        index, weight = _sparse_topics(topics)
        assert index.shape[0] == int((topics != 0).sum(1).max())
        rebuilt = torch.zeros_like(topics).scatter_add_(1, index.T, weight.T)
        assert torch.equal(rebuilt, topics)
        assert (index.diff(dim=0)[weight[1:] != 0] > 0).all(), "nonzero topics in topic order"


def test_observations_keep_their_values_and_a_one_item_window_works(dataset):
    env = with_defaults(
        SyntheticRecEnv, dataset, history_window=1, no_click_utility=-50.0, leave_bias=-30.0, seed=0
    )
    obs = env.reset(dataset.eval_users[:6])
    first = {key: value.clone() for key, value in obs.items()}
    slate = torch.arange(5).repeat(6, 1)
    for _ in range(3):
        next_obs, _, _, info = env.step(slate)
        item = slate.gather(1, info["clicked_position"][:, None])  # everyone clicks
        assert torch.equal(next_obs["history"], item) and next_obs["history_mask"].all()
    assert all(torch.equal(obs[key], first[key]) for key in obs), "step() never writes into a handed-out obs"


def test_an_agent_can_train_on_what_step_returns(dataset):
    """step() skips autograd's dispatch layer (envs.base.below_autograd) but hands out ordinary
    tensors: a loss may index embeddings with the observation and weigh by the rewards (with
    torch.inference_mode's tensors both would fail in backward)."""
    env = with_defaults(SyntheticRecEnv, dataset, seed=0)
    env.reset(dataset.train_users[:8])
    obs, rewards, done, info = env.step(random_slates(8, dataset.n_items, env.slate_size, torch.Generator()))
    embedding = torch.nn.Embedding(dataset.n_items, 4)
    scores = embedding(obs["history"]).sum((1, 2))  # [B]
    loss = (scores * rewards["total"]).sum() + (scores * done).sum() + (scores * info["active"]).sum()
    loss.backward()
    assert embedding.weight.grad is not None and not obs["history"].is_inference()


def test_state_changed_mid_episode_in_place_or_by_assignment_acts_the_same(dataset):
    """A checkpoint restore assigns the per-episode attributes by name (contiguous tensors, where the
    env keeps θ and β as views of one topic-major tensor); a test may change them in place. Both
    take effect, the same way."""
    users, generator = dataset.train_users[:40], torch.Generator().manual_seed(1)
    slates = [random_slates(40, 80, 5, generator) for _ in range(8)]

    def in_place(env):
        env.interests.mul_(0.5).add_(env.world.item_topics[0])
        env.boredom.zero_()
        env.satisfaction.fill_(1.0)

    def assigned(env):
        for name in ("_users", "_history", "_mask", "active"):
            setattr(env, name, getattr(env, name).clone())
        env.interests = (env.interests * 0.5 + env.world.item_topics[0]).contiguous()
        env.boredom = torch.zeros(40, env.world.item_topics.shape[1])
        env.satisfaction = torch.ones(40)

    def trajectory(change):
        env, out = with_defaults(SyntheticRecEnv, dataset, horizon=8, seed=4), []
        env.reset(users)
        for t, slate in enumerate(slates):
            if t == 3 and change is not None:
                change(env)
            obs, rewards, done, info = env.step(slate)
            state = [env.interests.clone(), env.boredom.clone(), env.satisfaction.clone()]  # changed in place
            out += [obs["history"], rewards["total"], done, info["clicked_position"], *state]
        return out

    first, second, unchanged = trajectory(in_place), trajectory(assigned), trajectory(None)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, unchanged, strict=True))


def test_allow_duplicate_items_accepts_repeats(dataset):
    env = with_defaults(SyntheticRecEnv, dataset, allow_duplicate_items=True)
    env.reset(dataset.eval_users[:4])
    env.step(torch.tensor([[0, 1, 2, 3, 3]] * 4))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"slate_size": 0}, ValueError, "env.slate_size"),
        ({"horizon": 0}, ValueError, "env.horizon must be at least 1"),
        ({"drift_rate": 1.5}, ValueError, r"env.drift_rate must be in \[0, 1\]"),
        ({"boredom_decay": -0.1}, ValueError, r"env.boredom_decay must be in \[0, 1\]"),
        ({"satisfaction_decay": 2.0}, ValueError, r"env.satisfaction_decay must be in \[0, 1\]"),
    ],
)
def test_env_refuses_bad_settings(dataset, kwargs, error, message):
    with pytest.raises(error, match=message):
        with_defaults(SyntheticRecEnv, dataset, **kwargs)


def test_step_before_reset_fails(dataset):
    with pytest.raises(RuntimeError, match="reset"):
        with_defaults(SyntheticRecEnv, dataset).step(torch.zeros(2, 5, dtype=torch.long))


def test_shards_are_disjoint_and_cover_the_users(dataset):
    shards = [with_defaults(SyntheticRecEnv, dataset).shard(rank, 3) for rank in range(3)]
    for split, users in [("train_users", dataset.train_users), ("eval_users", dataset.eval_users)]:
        parts = [getattr(env, split) for env in shards]
        assert sum(len(p) for p in parts) == len(users)
        assert torch.equal(torch.cat(parts).sort().values, users.sort().values), "disjoint and complete"
    sampled = shards[1].sample_users(200)
    assert torch.isin(sampled, shards[1].train_users).all()
    with pytest.raises(ValueError, match="rank must be in"):
        with_defaults(SyntheticRecEnv, dataset).shard(3, 3)
    with pytest.raises(ValueError, match="cannot be split over"):
        with_defaults(SyntheticRecEnv, dataset).shard(0, 10_000)


@pytest.mark.slow
def test_oracles_beat_random_and_longterm_beats_myopic_on_defaults():
    """The required figures on the default world and env (seeds 0, 1, 2; bench/bench_oracles.py)."""
    from bench.bench_oracles import oracle_returns

    returns = oracle_returns(seeds=(0, 1, 2))
    random, oracle, longterm = (returns[k].mean() for k in ("random", "oracle", "oracle_longterm"))
    assert oracle >= 2 * random
    assert longterm >= 1.2 * oracle


@pytest.mark.parametrize("slate_size", [2, 3, 5])
def test_a_repeat_at_any_pair_of_positions_is_refused(dataset, slate_size):
    env = with_defaults(SyntheticRecEnv, dataset, slate_size=slate_size)
    env.reset(dataset.eval_users[:3])
    for first in range(slate_size):
        for second in range(first + 1, slate_size):
            slate = torch.arange(3 * slate_size).view(3, slate_size)
            slate[1, second] = slate[1, first]
            with pytest.raises(ValueError, match="slate row 1 repeats an item"):
                env.step(slate)
    env.step(torch.arange(3 * slate_size).view(3, slate_size))  # all distinct: accepted


def test_the_logged_histories_follow_the_simulators_user_model(tmp_path):
    """env.affinity_weight (any of the user model's values) changes the simulator and the logs it
    was generated with alike; with env=replay the log keeps the user model's defaults."""
    from hydra.utils import instantiate

    from tests.conftest import compose_config

    def log_of(*overrides):
        dataset = instantiate(compose_config(*overrides, output_dir=tmp_path).dataset)
        return dataset.interactions["item_id"].to_list(), dataset.cache_key

    default, default_key = log_of()
    same, same_key = log_of("env.affinity_weight=5.0")
    other, other_key = log_of("env.affinity_weight=0.5")
    assert same == default and same_key == default_key
    assert other != default and other_key != default_key
    assert log_of("env=replay") == (default, default_key)
    from hydra.errors import InstantiationException

    with pytest.raises(InstantiationException, match=r"dataset.user_model: unknown \['affinty_weight'\]"):
        instantiate(compose_config("+dataset.user_model.affinty_weight=1", output_dir=tmp_path).dataset)
