"""Multi-task DQN: the task-weighting formulas by hand, and training on a two-task environment."""

from __future__ import annotations

import functools
import math

import pytest
import torch
from hydra.utils import instantiate

from rlrec.agents.multitask import MultiTaskAgent, gradnorm_step, uncertainty_weighted_loss
from rlrec.encoders.state import MeanHistoryState
from rlrec.envs.synthetic import SyntheticRecEnv
from rlrec.experiment import build_item_encoder
from rlrec.train import train
from tests.conftest import compose_config

SHORT = ["trainer.max_steps=24", "trainer.eval_every=24"]  # a few dozen steps, one evaluation
TWO_TASK_ENV = "env._target_=tests.test_multitask.TwoTaskEnv"


class TwoTaskEnv(SyntheticRecEnv):
    """The click simulator plus a second task: a click on an item of positive quality is a purchase."""

    tasks = ("click", "purchase")

    def step(self, slate):
        obs, rewards, done, info = super().step(slate)
        position = info["clicked_position"]
        item = slate.gather(1, position.clamp(min=0)[:, None]).squeeze(1)
        purchase = (position >= 0) & (self.world.item_quality[item] > 0)
        return obs, self.reward({"click": rewards["click"], "purchase": purchase.float()}), done, info


def test_uncertainty_weighted_loss_by_hand():
    losses = torch.tensor([2.0, 0.5])
    log_variances = torch.tensor([0.0, math.log(2.0)])
    # exp(0)·2 + 0 + exp(−log 2)·0.5 + log 2
    expected = 2.0 + 0.25 + math.log(2.0)
    assert uncertainty_weighted_loss(losses, log_variances).item() == pytest.approx(expected)


def test_uncertainty_weights_learn_toward_the_inverse_loss():
    """∂/∂s (e^{−s} L + s) = 0 at s = log L: a task with a larger loss gets a smaller weight e^{−s}."""
    s = torch.zeros(2, requires_grad=True)
    losses = torch.tensor([4.0, 0.25])
    optimizer = torch.optim.SGD([s], lr=0.05)
    for _ in range(2000):
        optimizer.zero_grad()
        uncertainty_weighted_loss(losses, s).backward()
        optimizer.step()
    assert torch.allclose(s.detach(), losses.log(), atol=1e-3)


def test_one_gradnorm_update_by_hand():
    # G = w ⊙ ‖∇L‖ = [1, 3], mean 2; r = [1, 0.5] / 0.75 = [4/3, 2/3]; α = 1: target = [8/3, 4/3]
    # ∂/∂w Σ|G − target| = sign(G − target) ⊙ ‖∇L‖ = [−1, +3]; w − 0.1·grad = [1.1, 0.7]; sum → 2
    weights = gradnorm_step(
        torch.tensor([1.0, 1.0]),
        grad_norms=torch.tensor([1.0, 3.0]),
        loss_ratios=torch.tensor([1.0, 0.5]),
        alpha=1.0,
        lr=0.1,
    )
    assert torch.allclose(weights, torch.tensor([1.1, 0.7]) * 2 / 1.8)
    assert weights.sum().item() == pytest.approx(2.0)


def test_gradnorm_alpha_zero_equalises_gradient_norms():
    weights = torch.tensor([1.0, 1.0])
    norms = torch.tensor([1.0, 3.0])
    for _ in range(200):
        weights = gradnorm_step(weights, norms, torch.tensor([1.0, 0.5]), alpha=0.0, lr=0.01)
    g = weights * norms
    assert g[0].item() == pytest.approx(g[1].item(), rel=0.05)


def two_task_setup(tmp_path, *overrides: str, build: bool = True):
    cfg = compose_config("algorithm=multitask", TWO_TASK_ENV, *overrides, output_dir=tmp_path)
    dataset = instantiate(cfg.dataset)
    env = instantiate(cfg.env, _partial_=True)(dataset=dataset, reward=instantiate(cfg.reward), seed=0)
    agent: MultiTaskAgent = instantiate(cfg.algorithm, _partial_=True)(
        item_encoder=build_item_encoder(cfg, dataset),
        state_encoder=functools.partial(MeanHistoryState, item_titles=None),
        n_items=dataset.n_items,
        slate_size=env.slate_size,
    )
    if build:
        agent.build_heads(env.tasks, env.reward.weights)
    return env, agent


def test_replay_holds_each_task_reward_at_the_clicked_slot(tmp_path):
    env, agent = two_task_setup(tmp_path)
    assert len(agent.heads) == 2 and agent.task_biases.shape == (2, env.n_items)
    assert agent.score_weight.tolist() == pytest.approx([0.2, 1.0]), "reward weights by default"
    batch = next(agent.experience(env))
    reward = agent.replay.storage["reward"][: len(agent.replay)]  # [N, T, K]
    slate = agent.replay.storage["slate"][: len(agent.replay)]
    clicks, purchases = reward[:, 0], reward[:, 1]
    assert clicks.sum() > 0 and purchases.sum() > 0
    assert (purchases <= clicks).all() and (clicks.sum(1) <= 1).all()
    bought = purchases > 0
    assert (env.world.item_quality[slate[bought]] > 0).all()
    assert batch["reward"].shape == (32, 2, env.slate_size)
    losses = agent.task_losses(batch)
    assert losses.shape == (2,) and (losses > 0).all()


def test_score_weights_must_name_every_task(tmp_path):
    with pytest.raises(ValueError, match=r"algorithm.score_weights must give a weight to each task"):
        two_task_setup(tmp_path, "algorithm.score_weights={click: 1.0}")


@pytest.mark.parametrize("weighting", ["fixed", "uncertainty", "gradnorm"])
def test_multitask_trains_on_two_tasks(weighting, tmp_path):
    summary = train(
        compose_config(
            "algorithm=multitask",
            TWO_TASK_ENV,
            f"algorithm.weighting={weighting}",
            "algorithm.task_weights={click: 1.0, purchase: 2.0}",
            *SHORT,
            output_dir=tmp_path,
        )
    )
    metrics = summary["metrics"]
    assert summary["status"] == "completed" and metrics["train/steps"] == 24
    assert {"eval/return", "eval/return_random", "eval/return_purchase", "train/loss_purchase"} <= set(
        metrics
    )
    weights = metrics["train/weight_click"], metrics["train/weight_purchase"]
    if weighting == "fixed":
        assert weights == (1.0, 2.0)
    elif weighting == "gradnorm":
        assert sum(weights) == pytest.approx(2.0) and weights != (1.0, 1.0)
    else:
        assert weights != (1.0, 1.0), "exp(−s_t) moved from 1"
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["tasks"] == ["click", "purchase"]
    _, restored = two_task_setup(tmp_path / "restore", f"algorithm.weighting={weighting}", build=False)
    restored.on_load_checkpoint(ckpt)
    restored.load_state_dict(ckpt["state_dict"])  # strict: every head and weight has its place
    assert restored.tasks == ("click", "purchase")
    assert restored.score_weight.tolist() == pytest.approx([0.2, 1.0])
