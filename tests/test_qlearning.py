"""Tabular Q-learning: the update rule by hand, a two-state MDP solved, the table in checkpoints."""

from __future__ import annotations

import pytest
import torch

from rlrec.agents.qlearning import QLearningAgent, kmeans, q_learning_update
from rlrec.config import with_defaults
from rlrec.encoders.id import IdItemEncoder
from rlrec.train import train
from tests.conftest import compose_config
from tests.two_state_mdp import MYOPIC, OPTIMAL, A, B, TwoStateMDP, fit, state_observations


def make_agent(**overrides) -> QLearningAgent:
    settings = dict(alpha=0.5, gamma=0.5, epsilon_decay_steps=150, epsilon_end=0.1, history_length=1, seed=0)
    return with_defaults(
        QLearningAgent, IdItemEncoder(4, 8), None, n_items=4, slate_size=1, **{**settings, **overrides}
    )


def test_update_matches_hand_computation():
    q = torch.tensor([[1.0, 2.0], [0.0, 4.0], [3.0, -1.0]])
    # (s=0, a=1, r=1, s'=1): y = 1 + 0.5·4 = 3, δ = 1, Q = 2 + 0.1·1 = 2.1
    # (s=2, a=0, r=0, s'=0, done): y = 0, δ = −3, Q = 3 − 0.3 = 2.7
    td = q_learning_update(
        q,
        state=torch.tensor([0, 2]),
        action=torch.tensor([[1], [0]]),
        reward=torch.tensor([[1.0], [0.0]]),
        next_state=torch.tensor([1, 0]),
        done=torch.tensor([False, True]),
        alpha=0.1,
        gamma=0.5,
    )
    assert td.flatten().tolist() == pytest.approx([1.0, -3.0])
    assert torch.allclose(q, torch.tensor([[1.0, 2.1], [0.0, 4.0], [2.7, -1.0]]))


def test_repeated_pairs_get_their_mean_td_error():
    q = torch.zeros(2, 3)
    q_learning_update(
        q,
        state=torch.tensor([0]),
        action=torch.tensor([[2, 2]]),  # two slate positions, same (s, a)
        reward=torch.tensor([[1.0, 3.0]]),
        next_state=torch.tensor([1]),
        done=torch.tensor([True]),
        alpha=0.5,
        gamma=0.9,
    )
    assert q[0, 2].item() == pytest.approx(0.5 * 2.0)


def test_solves_the_two_state_mdp_where_the_myopic_action_is_wrong():
    torch.manual_seed(0)
    agent = make_agent(alpha=0.2)
    # A long horizon: the time limit, unobserved in the state, rarely pulls a value towards r alone.
    trainer = fit(agent, steps=400, env=TwoStateMDP(horizon=50))
    assert trainer.global_step == 400, "trainer.max_steps stops manual optimisation"
    slate = agent.act(state_observations())
    assert slate[:, 0].tolist() == [OPTIMAL[A], OPTIMAL[B]] != [MYOPIC[A], MYOPIC[B]]
    row_a = agent.discretise(state_observations())[0]
    assert agent.q_table[row_a, 1] == pytest.approx(4.0, abs=0.6)  # Q*(A, move) = 4
    assert agent.q_table[row_a, 0] == pytest.approx(3.0, abs=0.6)  # Q*(A, stay) = 3


def test_table_round_trips_through_a_weights_only_checkpoint(tmp_path):
    agent = make_agent()
    trainer = fit(agent, steps=50)
    trainer.save_checkpoint(tmp_path / "q.ckpt")
    state = torch.load(tmp_path / "q.ckpt", weights_only=True)["state_dict"]
    assert torch.equal(state["q_table"], agent.q_table) and agent.q_table.abs().sum() > 0
    fresh = make_agent()
    fresh.prepare(TwoStateMDP())
    fresh.load_state_dict(state)
    assert torch.equal(fresh.act(state_observations()), agent.act(state_observations()))


def test_category_actions_recommend_the_categorys_most_popular_items():
    agent = make_agent(actions="categories", state="last_category")
    agent.prepare(TwoStateMDP())  # logged train rows: item 0 twice, item 1 once
    stay, move = 3, 2  # sorted category codes: A, B, move, stay
    assert agent.q_table.shape == (5, 4)
    agent.q_table[:, stay] = 1.0
    assert agent.act(state_observations())[:, 0].tolist() == [0, 0]
    agent.q_table[:, move] = 2.0
    assert agent.act(state_observations())[:, 0].tolist() == [1, 1]


def test_states_from_categories_and_clusters():
    agent = make_agent(state="last_category_x_cluster", n_clusters=2)
    agent.item_vectors = torch.tensor([[0.0, 0.0], [0.0, 0.1], [5.0, 5.0], [5.1, 5.0]])
    agent.prepare(TwoStateMDP())
    assert agent.q_table.shape == (5 * 3, 4)
    obs = state_observations()
    rows = agent.discretise(obs)
    category = torch.tensor([0, 1])  # A, B
    cluster = torch.cdist(agent.item_vectors[[A, B]], agent.centroids).argmin(1)
    assert rows.tolist() == (category * 3 + cluster).tolist()
    empty = {**obs, "history_mask": torch.zeros(2, 1, dtype=torch.bool)}
    assert agent.discretise(empty).tolist() == [4 * 3 + 2] * 2, "no history: the extra cells"


def test_kmeans_separates_two_blobs():
    points = torch.cat([torch.randn(50, 2) * 0.1, torch.randn(50, 2) * 0.1 + 3.0])
    centroids = kmeans(points, 2, iterations=10, seed=0)
    assert sorted(centroids.sum(1).round().tolist()) == [0.0, 6.0]
    assert torch.equal(centroids, kmeans(points, 2, iterations=10, seed=0))


@pytest.mark.parametrize("state", ["last_category", "user_cluster"])
def test_trains_from_the_real_entry_point(state, tmp_path):
    cfg = compose_config("algorithm=qlearning", f"algorithm.state={state}", output_dir=tmp_path)
    summary = train(cfg)
    metrics = summary["metrics"]
    assert summary["status"] == "completed" and metrics["train/steps"] == 60
    assert {"eval/return", "train/td_error"} <= set(metrics)
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 60 and checkpoint["state_dict"]["q_table"].abs().sum() > 0


@pytest.mark.parametrize(
    ("override", "message"),
    [("state", "algorithm.state must be one of"), ("actions", "algorithm.actions must be one of")],
)
def test_bad_choices_fail_naming_the_key(override, message):
    with pytest.raises(ValueError, match=message):
        make_agent(**{override: "nonsense"})
