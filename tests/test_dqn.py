"""DQN options against hand computation, and a two-state MDP whose greedy policy must be optimal."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from rlrec.agents.dqn import DQNAgent, n_step_transition, polyak_update, td_target
from rlrec.agents.replay import PrioritizedReplayBuffer
from rlrec.agents.schedules import ExponentialSchedule, make_schedule
from rlrec.agents.towers import TwoTowerQ
from rlrec.config import with_defaults
from rlrec.encoders.id import IdItemEncoder
from rlrec.encoders.state import MeanHistoryState
from rlrec.train import train
from tests.conftest import compose_config
from tests.two_state_mdp import MYOPIC, OPTIMAL, A, B, TwoStateMDP, fit, state_observations


def make_agent(**overrides) -> DQNAgent:
    settings = dict(
        optimizer=functools.partial(torch.optim.Adam),
        lr=0.01,
        gamma=0.5,
        batch_size=64,
        warmup_steps=10,
        epsilon_decay_steps=200,
        target_update_every=20,
        hidden_dim=32,
        history_length=1,
    )
    return with_defaults(
        DQNAgent, IdItemEncoder(4, 8), MeanHistoryState, n_items=4, slate_size=1, **{**settings, **overrides}
    )


def _step(t: int, step_reward, done, reward=None):
    return {
        "history": torch.full((2, 1), t),
        "history_mask": torch.ones(2, 1, dtype=torch.bool),
        "slate": torch.tensor([[0, 1], [2, 3]]),
        "reward": torch.zeros(2, 2) if reward is None else torch.tensor(reward),
        "step_reward": torch.tensor(step_reward),
        "next_history": torch.full((2, 1), 10 + t),
        "next_history_mask": torch.ones(2, 1, dtype=torch.bool),
        "done": torch.tensor(done),
    }


def test_n_step_return_matches_hand_computation():
    window = [
        _step(0, [1.0, 0.0], [False, False], reward=[[1.0, 0.0], [0.0, 0.0]]),
        _step(1, [2.0, 3.0], [False, True]),  # user 1's episode ends here
        _step(2, [4.0, 5.0], [False, True]),
    ]
    out = n_step_transition(window, gamma=0.5)
    # user 0: 1 + 0.5·2 + 0.25·4 = 3 at the clicked position, 0.5·2 + 0.25·4 = 2 at the other;
    # bootstrap from s_3 with γ^3. User 1: 0 + 0.5·3, then done: no bootstrap, s' = s_2.
    assert out["reward"].tolist() == [[3.0, 2.0], [1.5, 1.5]]
    assert out["discount"].tolist() == [0.125, 0.0]
    assert out["next_history"].flatten().tolist() == [12, 11]
    assert out["history"].flatten().tolist() == [0, 0] and torch.equal(out["slate"], window[0]["slate"])
    one_step = n_step_transition(window[:1], gamma=0.5)
    assert one_step["discount"].tolist() == [0.5, 0.5] and one_step["reward"].tolist() == [
        [1.0, 0.0],
        [0.0, 0.0],
    ]


def test_double_dqn_target_matches_hand_computation():
    reward, discount = torch.tensor([[1.0, 0.0]]), torch.tensor([0.5])
    next_target, next_online = torch.tensor([[1.0, 5.0, 2.0]]), torch.tensor([[0.0, 1.0, 9.0]])
    assert td_target(reward, discount, next_target).tolist() == [[3.5, 2.5]]  # max Q_target = 5
    # Double DQN: a* = argmax Q_online = 2, valued by the target net: 2
    assert td_target(reward, discount, next_target, next_online).tolist() == [[2.0, 1.0]]


def test_prioritized_replay_priorities_and_weights_match_hand_computation():
    buffer = PrioritizedReplayBuffer(capacity=5, alpha=0.5, epsilon=0.0)
    buffer.add({"x": torch.tensor([10, 11, 12])})
    assert buffer.tree[1].item() == pytest.approx(3.0), "new rows get priority 1 before any TD error"
    buffer.update_priorities(torch.tensor([0, 1, 2]), torch.tensor([4.0, -1.0, 9.0]))
    # p^α = [2, 1, 3], P = [1/3, 1/6, 1/2]
    assert buffer.tree[1].item() == pytest.approx(6.0)
    assert buffer.probabilities(torch.tensor([0, 1, 2])).tolist() == pytest.approx([1 / 3, 1 / 6, 1 / 2])
    batch = buffer.sample(6000, beta=1.0, generator=torch.Generator().manual_seed(0))
    # w = (N P)^-β / max w = P_min / P with β = 1
    expected = {0: 0.5, 1: 1.0, 2: 1 / 3}
    for index, weight, x in zip(
        batch["index"].tolist(), batch["weight"].tolist(), batch["x"].tolist(), strict=True
    ):
        assert weight == pytest.approx(expected[index]) and x == 10 + index
    frequency = torch.bincount(batch["index"], minlength=3).float() / 6000
    assert frequency.tolist() == pytest.approx([1 / 3, 1 / 6, 1 / 2], abs=0.01)
    half = buffer.sample(10, beta=0.5, generator=torch.Generator().manual_seed(1))
    for index, weight in zip(half["index"].tolist(), half["weight"].tolist(), strict=True):
        assert weight == pytest.approx(expected[index] ** 0.5)
    buffer.add({"x": torch.tensor([13])})  # a new row gets the largest priority seen: 9^0.5 = 3
    assert buffer.probabilities(torch.tensor([3])).item() == pytest.approx(3 / 9)


def test_prioritized_sum_tree_stays_consistent_over_a_wrapping_ring():
    buffer = PrioritizedReplayBuffer(capacity=100, alpha=1.0, epsilon=0.0)
    generator = torch.Generator().manual_seed(0)
    for _ in range(7):
        buffer.add({"x": torch.arange(30)})
        batch = buffer.sample(64, generator=generator)
        buffer.update_priorities(batch["index"], torch.rand(64, generator=generator))
    leaves = buffer.tree[buffer.leaves : buffer.leaves + buffer.capacity]
    assert len(buffer) == 100 and buffer.tree[1].item() == pytest.approx(leaves.sum().item())


def test_soft_update_is_polyak_averaging():
    torch.manual_seed(0)
    online, target = nn.Linear(3, 2), nn.Linear(3, 2)
    before = [p.clone() for p in target.parameters()]
    polyak_update(target, online, tau=0.1)
    for new, old, theta in zip(target.parameters(), before, online.parameters(), strict=True):
        assert torch.allclose(new, 0.1 * theta + 0.9 * old)


def test_dueling_head_is_value_plus_centred_advantage():
    torch.manual_seed(0)
    q = TwoTowerQ(
        IdItemEncoder(6, 4), MeanHistoryState, n_items=6, hidden_dim=8, history_length=2, dueling=True
    )
    obs = {"history": torch.tensor([[0, 1], [2, 3]]), "history_mask": torch.ones(2, 2, dtype=torch.bool)}
    items = q.item_tower()
    state = q.state_tower(items[obs["history"]], obs["history_mask"], obs["history"])
    advantage = state @ items.T + q.item_bias
    values = q(obs)
    assert torch.allclose(values.mean(dim=1), q.value_head(state).squeeze(1), atol=1e-6)
    assert torch.allclose(
        values - values.mean(1, keepdim=True), advantage - advantage.mean(1, keepdim=True), atol=1e-6
    )
    slate = torch.tensor([[5, 0], [2, 3]])
    assert torch.allclose(q.q_values_of(state, items, slate), values.gather(1, slate), atol=1e-6)
    plain = TwoTowerQ(IdItemEncoder(6, 4), MeanHistoryState, n_items=6, hidden_dim=8, history_length=2)
    plain_state = plain.user_state(obs, plain.item_tower())
    assert torch.allclose(
        plain.q_values_of(plain_state, plain.item_tower(), slate), plain(obs).gather(1, slate)
    )
    assert not hasattr(TwoTowerQ(IdItemEncoder(6, 4), MeanHistoryState, 6, 8, 2), "value_head") or (
        TwoTowerQ(IdItemEncoder(6, 4), MeanHistoryState, 6, 8, 2).value_head is None
    )


def test_state_encoder_hidden_layers():
    one = MeanHistoryState(item_dim=32, out_dim=32, hidden_dim=64)
    two = MeanHistoryState(item_dim=32, out_dim=32, hidden_dim=64, hidden_layers=2)
    shapes = [tuple(m.weight.shape) for m in two.mlp if isinstance(m, nn.Linear)]
    assert shapes == [(64, 32), (64, 64), (32, 64)], "[64, 64] hidden layers"
    assert sum(isinstance(m, nn.Linear) for m in one.mlp) == 2
    with pytest.raises(ValueError, match="state_encoder.hidden_layers"):
        MeanHistoryState(item_dim=32, out_dim=32, hidden_layers=0)


def test_exponential_epsilon_schedule():
    schedule = make_schedule("exponential", 1.0, 0.0, 100)
    assert isinstance(schedule, ExponentialSchedule)
    assert schedule(0) == 1.0 and schedule(100) == pytest.approx(0.01) and schedule(50) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="algorithm.epsilon_schedule"):
        make_schedule("cosine", 1.0, 0.0, 10)


@pytest.mark.parametrize(("per_update", "steps_per_batches"), [(None, (3, 3)), (4, (3, 6)), (16, (4, 2))])
def test_env_steps_per_update(per_update, steps_per_batches):
    env = TwoStateMDP(num_envs=8)
    calls = []
    original = env.step
    env.step = lambda slate: calls.append(1) or original(slate)
    agent = make_agent(warmup_steps=0, env_steps_per_update=per_update)
    stream = agent.experience(env)
    env_steps, batches = steps_per_batches
    for _ in range(batches):
        next(stream)
    assert len(calls) == env_steps, (
        f"{batches} gradient steps take {env_steps} vectorised env steps of 8 users"
    )


def test_only_active_users_are_stored():
    env = TwoStateMDP(num_envs=8)
    original = env.step

    def half_active(slate):
        obs, rewards, done, info = original(slate)
        return obs, rewards, done, {**info, "active": torch.arange(8) < 4}

    env.step = half_active
    agent = make_agent(warmup_steps=2)
    stream = agent.experience(env)
    next(stream)
    assert len(agent.replay) == 3 * 4


@pytest.mark.parametrize(
    "options",
    [
        {},
        {
            "double": True,
            "dueling": True,
            "n_step": 3,
            "target_update": "soft",
            "tau": 0.05,
            "prioritized": True,
        },
    ],
    ids=["dqn", "rainbow-ish"],
)
def test_greedy_policy_solves_the_two_state_mdp(options):
    torch.manual_seed(0)
    agent = make_agent(**options)
    fit(agent, steps=400)
    slate = agent.act(state_observations())
    assert slate[:, 0].tolist() == [OPTIMAL[A], OPTIMAL[B]] != [MYOPIC[A], MYOPIC[B]]


def test_every_option_trains_from_the_real_entry_point(tmp_path):
    cfg = compose_config(
        "algorithm.double=true",
        "algorithm.dueling=true",
        "algorithm.n_step=3",
        "algorithm.target_update=soft",
        "algorithm.prioritized=true",
        "algorithm.epsilon_schedule=exponential",
        "algorithm.env_steps_per_update=8",
        "state_encoder.hidden_layers=2",
        output_dir=tmp_path,
    )
    summary = train(cfg)
    assert summary["status"] == "completed" and summary["metrics"]["train/steps"] == 60
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert "q.value_head.weight" in state and "q.state_tower.mlp.4.weight" in state


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"target_update": "sometimes"}, "algorithm.target_update must be"),
        ({"tau": 0.0}, "algorithm.tau must be in"),
        ({"n_step": 0}, "algorithm.n_step must be at least 1"),
        ({"env_steps_per_update": 0}, "algorithm.env_steps_per_update must be at least 1"),
        ({"per_beta_start": 2.0}, "algorithm.per_beta_start"),
    ],
)
def test_bad_values_fail_naming_the_key(override, message):
    with pytest.raises(ValueError, match=message):
        make_agent(**override)


def test_metrics_are_logged_on_the_steps_lightning_writes_and_the_last(tmp_path):
    import polars as pl

    cfg = compose_config(
        "trainer.max_steps=7", "trainer.eval_every=7", "trainer.log_every_n_steps=5", output_dir=tmp_path
    )
    summary = train(cfg)
    table = pl.read_parquet(tmp_path / "metrics.parquet")
    for metric in ("train/loss", "train/q_mean", "train/epsilon", "train/collect_reward"):
        assert table.filter(pl.col("metric") == metric)["step"].to_list() == [5, 7]
    assert summary["metrics"]["train/loss"] == pytest.approx(
        table.filter(pl.col("metric") == "train/loss")["value"][-1]
    )
