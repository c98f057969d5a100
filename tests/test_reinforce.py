"""REINFORCE: the top-K correction's multipliers by hand, returns of an episode, end-to-end training."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from rlrec.agents.reinforce import (
    ReinforceAgent,
    capped_importance_weight,
    gumbel_top_k,
    policy_entropy,
    topk_multiplier,
)
from rlrec.config import with_defaults
from rlrec.encoders.id import IdItemEncoder
from rlrec.encoders.state import MeanHistoryState
from rlrec.envs.base import RecEnv
from rlrec.train import train
from tests.conftest import compose_config

SHORT = ["trainer.max_steps=24", "trainer.eval_every=24"]  # a few dozen steps, one evaluation


def test_topk_multiplier_is_k_times_one_minus_pi_to_the_k_minus_1():
    pi = torch.tensor([0.2, 0.5, 0.0, 1.0])
    assert torch.allclose(topk_multiplier(pi, 3), torch.tensor([3 * 0.8**2, 3 * 0.5**2, 3.0, 0.0]))
    assert torch.allclose(topk_multiplier(pi, 1), torch.ones(4)), "K = 1 is plain REINFORCE"


def test_importance_weight_is_capped():
    pi = torch.tensor([0.3, 0.1, 0.5])
    beta = torch.tensor([0.1, 0.4, 0.5])
    assert torch.allclose(capped_importance_weight(pi, beta, cap=2.0), torch.tensor([2.0, 0.25, 1.0]))
    assert torch.allclose(capped_importance_weight(pi, beta, cap=5.0), torch.tensor([3.0, 0.25, 1.0]))


def test_gumbel_top_k_draws_distinct_items_that_follow_the_policy():
    torch.manual_seed(0)
    logits = torch.tensor([[0.0, 0.0, 10.0, float("-inf"), 0.0]]).log_softmax(1).expand(500, -1)
    slates = gumbel_top_k(logits, 2)
    assert (slates[:, 0] != slates[:, 1]).all()
    assert (slates == 2).any(1).all(), "the near-certain item is in every slate"
    assert not (slates == 3).any(), "an item with π = 0 is never drawn"
    others = torch.bincount(slates.flatten(), minlength=5)[[0, 1, 4]].float()
    assert others.min() > 0.7 * others.mean(), "equal logits are drawn about equally often"


def test_policy_entropy_ignores_masked_items():
    log_pi = torch.tensor([[math.log(0.5), math.log(0.5), float("-inf")]])
    assert policy_entropy(log_pi).item() == pytest.approx(math.log(2))


class ScriptedEnv(RecEnv):
    """Two users, horizon 3, reward 1 per step; user 1 is done after its second step. User 0 clicks
    the second slate position every step, user 1 never clicks."""

    name, n_items, num_envs, slate_size, horizon, tasks = "scripted", 6, 2, 2, 3, ("click",)

    def __init__(self) -> None:
        self.generator = torch.Generator().manual_seed(0)
        self.train_users = self.eval_users = torch.arange(2)

    def reset(self, users):
        self.t, self.users = 0, users
        return self._obs()

    def _obs(self):
        return {
            "user": self.users,
            "history": torch.zeros(2, 4, dtype=torch.long),
            "history_mask": torch.zeros(2, 4, dtype=torch.bool),
        }

    def step(self, slate):
        self.check_slate(slate, 2)
        active = torch.tensor([True, self.t < 2])
        self.t += 1
        done = torch.tensor([self.t >= 3, self.t >= 2])
        rewards = {"click": active.float(), "total": active.float()}
        return (
            self._obs(),
            rewards,
            done,
            {"clicked_position": torch.tensor([1, -1]), "active": active},
        )


def make_agent(**kwargs) -> ReinforceAgent:
    return with_defaults(
        ReinforceAgent,
        item_encoder=IdItemEncoder(6, dim=8),
        state_encoder=MeanHistoryState,
        n_items=6,
        slate_size=2,
        optimizer=functools.partial(torch.optim.Adam),
        hidden_dim=8,
        history_length=4,
        **kwargs,
    )


def test_episode_returns_are_discounted_and_stop_when_a_user_is_done():
    batch = next(make_agent(gamma=0.9).experience(ScriptedEnv()))
    # rows are (t, user) for live steps: t0u0, t0u1, t1u0, t1u1, t2u0
    assert torch.allclose(batch["return"], torch.tensor([2.71, 1.9, 1.9, 1.0, 1.0]))
    assert batch["slate"].shape == (5, 2) and batch["history"].shape == (5, 4)


@pytest.mark.parametrize("baseline", ["none", "running_mean", "learned"])
def test_each_baseline_changes_the_loss(baseline):
    torch.manual_seed(0)
    agent = make_agent(baseline=baseline, entropy_coef=0.0, credit="slate", normalize_advantage=False)
    batch = next(agent.experience(ScriptedEnv()))
    agent.running_return.fill_(1.0)
    loss = agent.training_step(batch, 0)  # without a trainer, self.log only warns
    _, _, log_pi = agent.forward_policy(batch["history"], batch["history_mask"], False)
    log_pi_slate = log_pi.gather(1, batch["slate"]).sum(1)
    if baseline == "none":
        expected = -(log_pi_slate * batch["return"]).mean()
    elif baseline == "running_mean":
        expected = -(log_pi_slate * (batch["return"] - 1.0)).mean()
        assert agent.running_return.item() == pytest.approx(0.99 + 0.01 * batch["return"].mean().item())
    else:
        state, _, _ = agent.forward_policy(batch["history"], batch["history_mask"], False)
        value = agent.value_head(state).squeeze(1)
        expected = (
            -(log_pi_slate * (batch["return"] - value)).mean() + ((value - batch["return"]) ** 2).mean()
        )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_clicked_credit_is_the_one_hot_clicked_position():
    clicked = next(make_agent(credit="clicked").experience(ScriptedEnv()))
    # rows t0u0, t0u1, t1u0, t1u1, t2u0: user 0 clicked position 1, user 1 never clicked
    assert torch.equal(clicked["credit"], torch.tensor([[0.0, 1.0], [0, 0], [0, 1], [0, 0], [0, 1]]))
    slate = next(make_agent(credit="slate").experience(ScriptedEnv()))
    assert torch.equal(slate["credit"], torch.ones(5, 2))


@pytest.mark.parametrize("normalize", [False, True])
def test_clicked_credit_and_advantage_normalisation_in_the_loss(normalize):
    torch.manual_seed(0)
    agent = make_agent(baseline="none", entropy_coef=0.0, credit="clicked", normalize_advantage=normalize)
    batch = next(agent.experience(ScriptedEnv()))
    loss = agent.training_step(batch, 0)
    _, _, log_pi = agent.forward_policy(batch["history"], batch["history_mask"], False)
    clicked_log_pi = log_pi.gather(1, batch["slate"][:, 1:2])[:, 0]  # the clicked (second) item
    returns = torch.tensor([2.71, 1.9, 1.9, 1.0, 1.0])
    advantage = (returns - returns.mean()) / returns.std() if normalize else returns
    clicked = torch.tensor([1.0, 0, 1, 0, 1])  # user 1's rows add no policy gradient
    expected = -(clicked * clicked_log_pi * advantage).sum() / 5
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_reinforce_trains_on_the_simulator(tmp_path):
    summary = train(compose_config("algorithm=reinforce", *SHORT, output_dir=tmp_path))
    metrics = summary["metrics"]
    assert summary["status"] == "completed" and metrics["train/steps"] == 24
    assert {"eval/return", "eval/return_random", "train/policy_loss", "train/entropy"} <= set(metrics)


def test_topk_corrected_reinforce_trains_from_the_log(tmp_path):
    summary = train(
        compose_config(
            "algorithm=reinforce",
            "algorithm.topk_correction=true",
            "algorithm.baseline=learned",
            *SHORT,
            output_dir=tmp_path,
        )
    )
    metrics = summary["metrics"]
    assert {"eval/return", "eval/return_random", "train/behaviour_loss", "train/value_loss"} <= set(metrics)
    assert 0 < metrics["train/importance_weight"] <= 5 * 10.0, "λ_K ≤ K = 5 times the cap c = 10"


def test_bad_credit_fails_naming_the_key(tmp_path):
    with pytest.raises(ValueError, match="algorithm.credit must be one of"):
        train(compose_config("algorithm=reinforce", "algorithm.credit=all", output_dir=tmp_path))


def test_bad_baseline_fails_naming_the_key(tmp_path):
    with pytest.raises(ValueError, match="algorithm.baseline must be one of"):
        train(compose_config("algorithm=reinforce", "algorithm.baseline=mean", output_dir=tmp_path))
