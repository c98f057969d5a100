"""The real training entry point, in process, on a tiny config: the run folder and its contract."""

from __future__ import annotations

import json

import polars as pl
import pytest
import torch

from rlrec.train import train
from tests.conftest import compose_config


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    summary = train(compose_config("seed=0", output_dir=run_dir), overrides=["seed=0"])
    return run_dir, summary


def test_run_folder_is_complete(tiny_run):
    run_dir, summary = tiny_run
    on_disk = json.loads((run_dir / "summary.json").read_text())
    assert on_disk == summary
    assert summary["status"] == "completed" and summary["seed"] == 0 and summary["overrides"] == ["seed=0"]
    metrics = summary["metrics"]
    assert {"eval/return", "eval/return_random", "train/loss"} <= set(metrics)
    assert metrics["train/steps"] == 60
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert list((run_dir / "checkpoints").glob("best-step=*.ckpt"))
    assert (run_dir / "csv" / "metrics.csv").is_file()


def test_metrics_parquet_is_long_format(tiny_run):
    run_dir, summary = tiny_run
    table = pl.read_parquet(run_dir / "metrics.parquet")
    assert dict(table.schema) == {"step": pl.Int64, "metric": pl.String, "value": pl.Float64}
    loss_steps = table.filter(pl.col("metric") == "train/loss")["step"].to_list()
    assert loss_steps == list(range(5, 61, 5)), "log_every_n_steps=5, counted in optimiser steps"
    evals = table.filter(pl.col("metric") == "eval/return").sort("step")
    assert evals["step"].to_list() == [30, 60], "one evaluation every eval_every=30 steps of 60"
    assert evals["value"][-1] == pytest.approx(summary["metrics"]["eval/return"])
    last_loss = table.filter(pl.col("metric") == "train/loss")["value"][-1]
    assert summary["metrics"]["train/loss"] == pytest.approx(last_loss)


def test_manifest_records_what_made_the_run(tiny_run):
    run_dir, _ = tiny_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "completed" and manifest["seed"] == 0
    assert manifest["command"] is None, "train() called from Python, not from the CLI"
    assert manifest["started_at"] <= manifest["ended_at"]
    assert {"python", "torch", "pytorch-lightning", "transformers", "polars", "hydra-core"} <= set(
        manifest["versions"]
    )
    assert set(manifest["git"]) == {"commit", "dirty"}
    assert manifest["cache_keys"]["data"]
    assert manifest["device"]["accelerator"] == "cpu"


def test_checkpoint_loads_weights_only(tiny_run):
    run_dir, _ = tiny_run
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    assert checkpoint["global_step"] == 60
    assert any(key.startswith("q.item_tower.") for key in checkpoint["state_dict"])


def test_same_seed_same_metrics_other_seed_other_metrics(tiny_run, tmp_path):
    _, first = tiny_run
    again = train(compose_config("seed=0", output_dir=tmp_path / "again"))
    other = train(compose_config("seed=1", output_dir=tmp_path / "other"))
    assert again["metrics"] == first["metrics"]
    assert other["metrics"] != first["metrics"]


def test_seed_null_draws_a_seed_and_records_it(tmp_path):
    summary = train(
        compose_config("seed=null", "trainer.max_steps=10", "trainer.eval_every=10", output_dir=tmp_path)
    )
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert isinstance(summary["seed"], int) and summary["seed"] == manifest["seed"]


def _evals_until(tmp_path, wanted, max_steps: int):
    """Train seeds 0, 1, ... (eval at step 20 and at the end) until ``wanted(first, last)`` holds."""
    for seed in range(8):
        run = tmp_path / f"seed{seed}"
        summary = train(
            compose_config(
                f"trainer.max_steps={max_steps}",
                "trainer.eval_every=20",
                "algorithm.lr=0.01",
                f"seed={seed}",
                output_dir=run,
            )
        )
        evals = pl.read_parquet(run / "metrics.parquet").filter(pl.col("metric") == "eval/return")
        first, last = evals["value"].to_list()
        if wanted(first, last):
            return run, summary, evals
    raise AssertionError("no seed in 0..7 gave the evaluation order this test needs")


def test_max_steps_not_a_multiple_of_eval_every_still_ends_with_an_evaluation(tmp_path):
    run, summary, evals = _evals_until(tmp_path, lambda at_20, at_25: at_25 > at_20, max_steps=25)
    assert evals["step"].to_list() == [20, 25], "at step 20 and at the end"
    assert evals["value"][-1] == pytest.approx(summary["metrics"]["eval/return"])
    assert "train/loss" in summary["metrics"] and summary["metrics"]["train/steps"] == 25
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 25
    (best,) = (run / "checkpoints").glob("best-step=*.ckpt")
    assert best.name == "best-step=25.ckpt", "the final evaluation competes for the best checkpoint"


def test_last_checkpoint_is_the_final_state_when_an_earlier_one_was_best(tmp_path):
    run, _, _ = _evals_until(tmp_path, lambda at_20, at_35: at_20 > at_35, max_steps=35)
    assert [path.name for path in (run / "checkpoints").glob("best-*")] == ["best-step=20.ckpt"]
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 35


def test_how_often_we_evaluate_does_not_change_training(tmp_path):
    def losses(eval_every: int) -> list[float]:
        train(compose_config(f"trainer.eval_every={eval_every}", output_dir=tmp_path / str(eval_every)))
        table = pl.read_parquet(tmp_path / str(eval_every) / "metrics.parquet")
        return table.filter(pl.col("metric") == "train/loss")["value"].to_list()

    assert losses(7) == losses(60)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.eval_every=0", "trainer.eval_every must be at least 1"),
        ("trainer.max_steps=0", "trainer.max_steps must be at least 1"),
        ("algorithm.target_update_every=0", "algorithm.target_update_every must be at least 1"),
        ("algorithm.history_length=0", "algorithm.history_length must be at least 1"),
        ("algorithm.history_length=30", "algorithm.history_length=30 exceeds the 20 items"),
        ("env.num_envs=0", "env.num_envs must be at least 1"),
        ("env.horizon=0", "env.horizon must be at least 1"),
        ("env.eval_episodes_users=0", "env.eval_episodes_users must be at least 1"),
    ],
)
def test_bad_values_fail_naming_the_key(override, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        train(compose_config(override, output_dir=tmp_path))
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "failed"


def test_a_failing_run_is_marked_failed(tmp_path):
    cfg = compose_config("env.slate_size=0", output_dir=tmp_path)
    with pytest.raises(ValueError, match="slate_size"):
        train(cfg)
    summary = json.loads((tmp_path / "summary.json").read_text())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert summary["status"] == "failed" == manifest["status"]


def test_dqn_learns_on_the_simulator(tmp_path):
    """A few hundred steps in the default world: the greedy policy clearly beats uniform random."""
    summary = train(
        compose_config(
            "trainer.max_steps=600",
            "trainer.eval_every=600",
            "trainer.enable_progress_bar=false",
            "logger=csv",
            "algorithm.lr=0.001",
            "algorithm.epsilon_decay_steps=300",
            output_dir=tmp_path,
            tiny=False,
        )
    )
    metrics = summary["metrics"]
    assert metrics["eval/return"] >= 1.5 * metrics["eval/return_random"]


def test_mask_consumed_never_recommends_a_history_item(tmp_path):
    from hydra.utils import instantiate

    cfg = compose_config("algorithm.mask_consumed=true", output_dir=tmp_path)
    dataset = instantiate(cfg.dataset)
    env = instantiate(cfg.env, _partial_=True)(dataset=dataset, reward=instantiate(cfg.reward), seed=0)
    from rlrec.experiment import build_item_encoder

    agent = instantiate(cfg.algorithm, _partial_=True)(
        item_encoder=build_item_encoder(cfg, dataset),
        state_encoder=instantiate(cfg.state_encoder, _partial_=True, item_titles=None),
        n_items=dataset.n_items,
        slate_size=env.slate_size,
    )
    obs = env.reset(dataset.eval_users)
    slate = agent.act(obs)
    seen = agent.consumed(obs)
    assert seen.sum() > 0 and not seen.gather(1, slate).any()


def test_a_nan_loss_stops_the_run_naming_the_step_and_term_and_keeps_the_last_good_checkpoint(
    tmp_path, monkeypatch
):
    from rlrec.agents.base import NonFiniteLossError
    from rlrec.agents.dqn import DQNAgent

    original = DQNAgent.training_step

    def poisoned(self, batch, batch_idx):
        loss = original(self, batch, batch_idx)
        if self.global_step == 12:
            self.log("train/loss_injected", torch.tensor(float("nan")))
        return loss

    monkeypatch.setattr(DQNAgent, "training_step", poisoned)
    cfg = compose_config("trainer.max_steps=30", "trainer.eval_every=5", output_dir=tmp_path)
    with pytest.raises(NonFiniteLossError, match="training step 12: train/loss_injected = nan"):
        train(cfg)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "failed" and "train/loss_injected" in summary["error"]
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 12, "the state before the non-finite loss reached the weights"
    assert all(torch.isfinite(value).all() for value in last["state_dict"].values())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "failed"


def test_max_steps_by_algorithm_sets_that_algorithms_budget_only(tmp_path):
    def last_step(run, *overrides):
        train(compose_config("trainer.eval_every=5", *overrides, output_dir=tmp_path / run))
        return pl.read_parquet(tmp_path / run / "metrics.parquet")["step"].max()

    own = "+trainer.max_steps_by_algorithm={dqn: 10, sqn: 30}"
    assert last_step("dqn", "trainer.max_steps=20", own) == 10
    assert last_step("other", "trainer.max_steps=20", "+trainer.max_steps_by_algorithm={sqn: 30}") == 20


def test_a_command_line_max_steps_wins_over_max_steps_by_algorithm(tmp_path):
    """A preset's per-algorithm budget (experiment=paper_movielens) must not swallow the user's own
    trainer.max_steps: hydra_task hands train() the command-line overrides, and those win."""

    def last_step(run, *overrides):
        cfg = compose_config("trainer.eval_every=5", *overrides, output_dir=tmp_path / run)
        train(cfg, overrides=list(overrides))
        return pl.read_parquet(tmp_path / run / "metrics.parquet")["step"].max()

    own = "+trainer.max_steps_by_algorithm={dqn: 10}"
    assert last_step("explicit", own, "trainer.max_steps=20") == 20
    assert last_step("preset", own) == 10  # no max_steps on the command line: the table's budget
