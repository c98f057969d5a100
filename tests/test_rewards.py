"""Reward functions: per-behaviour weights and the rating term."""

from __future__ import annotations

import pytest
import torch

from rlrec.config import with_defaults
from rlrec.envs.rewards import WeightedReward


def test_weighted_total_is_the_weighted_sum_of_behaviours():
    reward = with_defaults(WeightedReward, weights={"click": 0.2, "cart": 0.5, "purchase": 1.0})
    out = reward(
        {
            "click": torch.tensor([1.0, 1.0, 0.0]),
            "cart": torch.tensor([0.0, 1.0, 0.0]),
            "purchase": torch.tensor([0.0, 1.0, 0.0]),
        }
    )
    assert torch.allclose(out["total"], torch.tensor([0.2, 1.7, 0.0]))
    assert torch.equal(out["cart"], torch.tensor([0.0, 1.0, 0.0]))


@pytest.mark.parametrize(
    ("mode", "expected"), [("threshold", [0.0, 1.0, 1.0, 0.0]), ("scaled", [0.5, 7 / 9, 1.0, 0.0])]
)
def test_rating_term(mode, expected):
    reward = with_defaults(
        WeightedReward, weights={"click": 0.0, "rating": 1.0}, rating_mode=mode, rating_threshold=4.0
    )
    rating = torch.tensor([2.75, 4.0, 5.0, float("nan")])  # NaN: no rating on this interaction
    out = reward({"click": torch.ones(4)}, rating=rating)
    assert torch.allclose(out["rating"], torch.tensor(expected))
    assert torch.allclose(out["total"], torch.tensor(expected))


def test_bad_reward_config_is_named():
    with pytest.raises(ValueError, match="reward.rating_mode"):
        with_defaults(WeightedReward, rating_mode="stars")
    with pytest.raises(ValueError, match=r"reward.weights names \['clik'\]"):
        with_defaults(WeightedReward, weights={"clik": 1.0}).check_tasks(("click",), "synthetic")
    with pytest.raises(ValueError, match="every reward would be 0"):
        with_defaults(WeightedReward, weights={"purchase": 1.0}).check_tasks(("click",), "synthetic")
    with_defaults(WeightedReward, weights={"click": 0.2, "purchase": 1.0}).check_tasks(
        ("click",), "synthetic"
    )
