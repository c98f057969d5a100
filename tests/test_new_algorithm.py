"""A new algorithm is one file and one yaml: the agent class below (a collector, ``act`` and a loss)
and a yaml naming it, put on Hydra's search path, are trained by ``rlrec train`` like any other."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from rlrec.agents.base import RecAgent
from rlrec.agents.collect import OnlineCollector
from rlrec.agents.replay import ReplayBuffer
from tests.conftest import TINY_COMMON, run_rlrec

REPO = Path(__file__).resolve().parents[1]


class ItemValueAgent(RecAgent):
    """A context-free bandit: one learned value per item, regressed on the clicks of its own
    ε-greedy slates (the reward at the slate position acted on, 0 elsewhere)."""

    def __init__(self, item_encoder, state_encoder, n_items, slate_size, *, lr, epsilon, batch_size, name):
        super().__init__(n_items, slate_size)
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder"])
        self.values = nn.Parameter(torch.zeros(n_items))
        self.replay = ReplayBuffer(10_000)
        self.collector = OnlineCollector(
            lambda obs: {"slate": self.act(self.to_device(obs), explore=True).cpu()},
            self.transition,
            n_items=n_items,
            slate_size=slate_size,
            task="total",
            replay=self.replay,
            sample=lambda: self.replay.sample(batch_size),
            warmup_steps=4,
        )

    @torch.no_grad()
    def act(self, obs, explore=False):
        scores = self.values.expand(len(obs["history"]), -1)
        if explore:
            rows = torch.rand(len(scores)) < self.hparams.epsilon
            scores = torch.where(rows[:, None], torch.rand_like(scores), scores)
        return self.slate_from_scores(scores, obs)

    def transition(self, obs, acted, next_obs, rewards, done, info):
        clicked = info["clicked_position"]
        at_click = F.one_hot(clicked.clamp(min=0), self.slate_size).float() * (clicked >= 0)[:, None]
        return {"slate": acted["slate"], "reward": at_click * rewards["total"][:, None]}

    def training_step(self, batch, batch_idx):
        loss = F.mse_loss(self.values[batch["slate"]], batch["reward"])
        self.log("train/loss", loss, batch_size=len(batch["slate"]))
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam([self.values], lr=self.hparams.lr)


YAML = f"""\
_target_: {__name__}.ItemValueAgent
name: item_value
lr: 0.05
epsilon: 0.2
batch_size: 64
"""


def test_an_algorithm_defined_in_one_file_and_one_yaml_trains(tmp_path):
    conf = tmp_path / "conf" / "algorithm"
    conf.mkdir(parents=True)
    (conf / "item_value.yaml").write_text(YAML)
    run_dir = tmp_path / "run"
    result = run_rlrec(
        "train",
        *TINY_COMMON,
        "algorithm=item_value",
        f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        "trainer.max_steps=200",
        "trainer.eval_every=200",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    metrics = summary["metrics"]
    assert summary["status"] == "completed" and metrics["train/steps"] == 200
    # the learned item values are a policy: better than uniform-random slates on the same users
    assert metrics["eval/return"] > metrics["eval/return_random"]
    # its checkpoint holds the collector's state and buffer, as every built-in algorithm's does
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)
    (collector,) = [state["collector"] for state in checkpoint["experience"]]
    assert collector["state"]["step"] > 0 and collector["replay"] is not None
