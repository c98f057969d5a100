"""The offline protocol: the whole earlier history masked (not only the observed window), every
metric computed in the replay and the synthetic env, and the protocol recorded in summary.json."""

from __future__ import annotations

import json
import math

import torch

from rlrec.agents.baselines import PopularityAgent
from rlrec.config import with_defaults
from rlrec.envs.replay import ReplayEnv
from rlrec.metrics.beyond import co_consumption_vectors, exposure_gini
from tests.conftest import compose_config
from tests.test_replay_env import make_dataset

OLD_ITEM = 7  # the item user 0 rated 100 interactions before the test one


def long_history_rows() -> list[tuple]:
    """User 0 rates items 0..119 (item 7 at position 7), then item 120 is the test target; user 1
    rates item 7 over and over in train (so it is by far the most popular item)."""
    rows = [(0, i, "rate", 4.0, None, "train") for i in range(120)]
    rows.append((0, 120, "rate", 4.0, None, "test"))
    rows += [(1, OLD_ITEM, "rate", 4.0, None, "train")] * 200
    rows += [(1, 121, "rate", 4.0, None, "train"), (1, 122, "rate", 4.0, None, "test")]
    return rows


def replay_env(mask_history: bool) -> ReplayEnv:
    return with_defaults(ReplayEnv,
        make_dataset(long_history_rows(), n_items=130), slate_size=10, history_window=20,
        mask_history=mask_history,
    )  # fmt: skip


def popularity(env: ReplayEnv, mask_consumed: bool = False) -> PopularityAgent:
    agent = PopularityAgent(n_items=env.n_items, slate_size=env.slate_size, mask_consumed=mask_consumed)
    agent.prepare(env)
    return agent


def test_an_item_rated_100_interactions_ago_is_never_recommended_with_masking_on():
    env = replay_env(mask_history=True)
    agent = popularity(env)
    user, position = torch.tensor([0]), torch.tensor([120])  # the test interaction
    obs = env.observe(user, position)
    assert OLD_ITEM not in obs["history"][0].tolist()  # outside the 20-item window ...
    assert obs["consumed"][0, OLD_ITEM] and obs["exclude"][0, OLD_ITEM]  # ... but consumed
    assert int(obs["consumed"][0].sum()) == 120
    slate = agent.greedy_policy(obs)[0].tolist()
    assert OLD_ITEM not in slate
    assert not set(slate) & set(range(120))  # nothing the user rated, however long ago
    # the window alone (the agent's own mask_consumed, without the env's full history) lets it through
    window_only = popularity(env, mask_consumed=True)
    window_obs = {key: obs[key] for key in ("user", "history", "history_mask")}
    assert OLD_ITEM in window_only.greedy_policy(window_obs)[0].tolist()


def test_the_same_item_is_allowed_with_masking_off():
    env = replay_env(mask_history=False)
    obs = env.observe(torch.tensor([0]), torch.tensor([120]))
    assert "exclude" not in obs and obs["consumed"][0, OLD_ITEM]
    assert popularity(env).greedy_policy(obs)[0, 0].item() == OLD_ITEM  # the most popular item, first
    # an agent that asks for it (algorithm.mask_consumed) still skips the whole earlier history
    assert OLD_ITEM not in popularity(env, mask_consumed=True).greedy_policy(obs)[0].tolist()


def test_masking_is_what_the_evaluation_uses():
    """In replay_metrics the popularity slate of user 0 holds item 7 only with masking off."""
    for mask_history, expect_old_item in ((True, False), (False, True)):
        env = replay_env(mask_history)
        agent, shown = popularity(env), []

        def policy(obs, agent=agent, shown=shown):
            slate = agent.greedy_policy(obs)
            shown.append(slate[obs["user"] == 0])
            return slate

        env.replay_metrics(policy, torch.tensor([0]))
        assert (OLD_ITEM in torch.cat(shown).flatten().tolist()) == expect_old_item


def test_replay_evaluation_reports_every_metric_with_hand_checked_values():
    """Users 0 and 1, K = 2, one test item each; a fixed slate [4, 2] for everyone."""
    env = with_defaults(ReplayEnv, make_dataset(), slate_size=2, history_window=3, mask_history=False)
    metrics = env.replay_metrics(lambda obs: torch.tensor([[4, 2]] * len(obs["user"])), torch.tensor([0, 1]))
    # user 0: test item 4 at rank 1; user 1: test items 2 (rank 2) and 3 (missed)
    hr = (1.0 + (1 + 0) / 2) / 2
    assert math.isclose(metrics["hr@2"], hr)
    assert math.isclose(metrics["recall@2"], hr) and math.isclose(metrics["precision@2"], hr / 2)
    assert math.isclose(metrics["ndcg@2"], (1.0 + (1 / math.log2(3)) / 2) / 2, rel_tol=1e-6)
    assert math.isclose(metrics["mrr@2"], (1.0 + 0.5 / 2) / 2)
    # per task: user 0's click (hit at 1) and user 1's click (rank 2) count for _click; user 1's
    # purchase of item 3 (missed) is the only held-out purchase
    assert math.isclose(metrics["hr@2_click"], 1.0) and metrics["hr@2_purchase"] == 0.0
    assert math.isclose(metrics["ndcg@2_click"], (1.0 + 1 / math.log2(3)) / 2, rel_tol=1e-6)
    assert "hr@2_cart" not in metrics  # no held-out cart
    assert math.isclose(metrics["coverage@2"], 2 / 6, rel_tol=1e-6)  # items 4 and 2 of 6
    # three slates of the same two items: exposure counts (0, 0, 0, 0, 3, 3) over 6 items
    assert math.isclose(metrics["popularity_gini@2"], exposure_gini(torch.tensor([[4, 2]] * 3), 6).item())
    assert 0 < metrics["popularity_gini@2"] < 1
    assert {"novelty@2", "ild@2"} <= set(metrics)


def test_exposure_gini_and_co_consumption_by_hand():
    # counts sorted (0, 0, 2, 2): G = 2·(3·2 + 4·2) / (4·4) − 5/4 = 28/16 − 20/16 = 0.5
    assert math.isclose(exposure_gini(torch.tensor([[2, 3], [2, 3]]), 4).item(), 0.5)
    assert math.isclose(exposure_gini(torch.tensor([[0, 1], [2, 3]]), 4).item(), 0.0, abs_tol=1e-7)
    # users 0 and 1 both took items 0 and 1; user 2 took item 2 only: cos(0, 1) = 1, cos(0, 2) = 0
    vectors = co_consumption_vectors(torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 1, 0, 1, 2]), 3, 3)
    unit = torch.nn.functional.normalize(vectors, dim=1)
    assert torch.allclose(unit @ unit.T, torch.tensor([[1.0, 1, 0], [1, 1, 0], [0, 0, 1]]))
    # the low-rank path keeps the same cosines for this rank-2 matrix
    low = co_consumption_vectors(
        torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 1, 0, 1, 2]), 3, 3, max_dense=0
    )
    low = torch.nn.functional.normalize(low, dim=1)
    assert torch.allclose(low @ low.T, unit @ unit.T, atol=1e-5)


def test_synthetic_and_replay_runs_log_every_metric_and_record_the_protocol(tmp_path):
    from rlrec.train import train

    names = ["hr", "ndcg", "mrr", "precision", "recall", "coverage", "novelty", "ild", "popularity_gini"]
    cfg = compose_config("algorithm=popularity", output_dir=tmp_path / "synthetic")
    summary = train(cfg)
    k = cfg.env.slate_size
    assert {f"eval/{name}@{k}" for name in names} <= set(summary["metrics"])
    assert f"eval/hr@{k}_purchase" in summary["metrics"]  # the simulator has a purchase funnel
    written = json.loads((tmp_path / "synthetic" / "summary.json").read_text())
    assert written["protocol"]["env"] == "synthetic"
    assert written["protocol"]["agent_masks_consumed"] is False
