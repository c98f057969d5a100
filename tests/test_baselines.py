"""Random and popularity baselines: evaluated by the same code path as every agent, never trained."""

from __future__ import annotations

import json

import polars as pl
import pytest
import torch

from rlrec.agents.baselines import PopularityAgent, RandomAgent
from rlrec.config import with_defaults
from rlrec.train import train
from tests.conftest import compose_config, run_rlrec, tiny
from tests.two_state_mdp import TwoStateMDP


@pytest.mark.parametrize("algorithm", ["random", "popularity"])
def test_train_evaluates_without_training(algorithm, tmp_path):
    summary = train(compose_config(f"algorithm={algorithm}", "seed=0", output_dir=tmp_path))
    assert summary == json.loads((tmp_path / "summary.json").read_text())
    metrics = summary["metrics"]
    assert summary["status"] == "completed" and metrics["train/steps"] == 0
    assert {"eval/return", "eval/return_random"} <= set(metrics)
    assert not any(name.startswith("train/") and name != "train/steps" for name in metrics)
    table = pl.read_parquet(tmp_path / "metrics.parquet")
    assert table.filter(pl.col("metric") == "eval/return")["step"].to_list() == [0]
    assert torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 0


def test_popularity_beats_random_in_the_synthetic_world(tmp_path):
    popular = train(compose_config("algorithm=popularity", output_dir=tmp_path / "p"))["metrics"]
    assert popular["eval/return"] > popular["eval/return_random"]


@pytest.mark.slow
def test_cli_runs_a_baseline(tmp_path):
    result = run_rlrec("train", *tiny("popularity"), f"hydra.run.dir={tmp_path}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((tmp_path / "summary.json").read_text())["metrics"]["train/steps"] == 0


def test_popularity_ranks_train_interaction_counts():
    agent = with_defaults(PopularityAgent, n_items=4, slate_size=2)
    agent.prepare(TwoStateMDP())  # train rows: item 0 twice, item 1 once
    assert agent.counts.tolist() == [2.0, 1.0, 0.0, 0.0]
    obs = {"user": torch.tensor([0]), "history": torch.tensor([[0]]), "history_mask": torch.tensor([[True]])}
    assert agent.act(obs).tolist() == [[0, 1]]
    masked = with_defaults(PopularityAgent, n_items=4, slate_size=2, mask_consumed=True)
    masked.prepare(TwoStateMDP())
    assert masked.act(obs)[0, 0].item() == 1 and 0 not in masked.act(obs)[0].tolist()


def test_random_slates_are_valid_and_vary():
    env = TwoStateMDP()
    torch.manual_seed(0)
    agent = with_defaults(RandomAgent, n_items=60, slate_size=5)
    obs = {
        "user": torch.arange(8),
        "history": torch.zeros(8, 1, dtype=torch.long),
        "history_mask": torch.ones(8, 1, dtype=torch.bool),
    }
    slates = agent.act(obs)
    assert slates.shape == (8, 5)
    assert all(len(set(row)) == 5 for row in slates.tolist()) and len({tuple(r) for r in slates.tolist()}) > 1
    env.n_items, env.slate_size = 60, 5
    env.check_slate(slates, 8)
