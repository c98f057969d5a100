"""``rlrec eval ckpt=PATH``: a checkpoint re-evaluated with its run's config gives the run's metrics."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TINY, run_rlrec


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    run_dir = root / "run"
    result = run_rlrec("train", *TINY, "seed=5", f"hydra.run.dir={run_dir}", cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def test_eval_of_the_last_checkpoint_reproduces_the_final_evaluation(finished_run, tmp_path):
    ckpt = finished_run / "checkpoints" / "last.ckpt"
    result = run_rlrec("eval", f"ckpt={ckpt}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    written = json.loads((ckpt.parent / "eval.json").read_text())
    summary = json.loads((finished_run / "summary.json").read_text())["metrics"]
    assert written["global_step"] == summary["train/steps"]
    assert "seed=5" in written["overrides"]
    assert written["metrics"]["eval/return"] > 0
    for name, value in written["metrics"].items():  # same weights, same users, same env seed
        assert value == pytest.approx(summary[name], abs=1e-6), name
    assert "eval/return" in result.stdout and "eval.json" in result.stdout
    run_protocol = json.loads((finished_run / "summary.json").read_text())["protocol"]
    assert written["protocol"] == run_protocol and run_protocol["env"] == "synthetic"


def test_eval_with_an_override_that_changes_the_agent_names_the_mismatch(finished_run, tmp_path):
    ckpt = finished_run / "checkpoints" / "last.ckpt"
    result = run_rlrec("eval", f"ckpt={ckpt}", "encoder.dim=8", cwd=tmp_path)
    assert result.returncode == 2
    assert "does not fit the agent this config builds" in result.stderr
    assert "q.item_tower.embedding.weight: checkpoint (60, 32) vs config (60, 8)" in result.stderr


def test_eval_bad_arguments(tmp_path):
    result = run_rlrec("eval", "ckpt=nowhere.ckpt", cwd=tmp_path)
    assert result.returncode == 2 and "ckpt=nowhere.ckpt: no such checkpoint file" in result.stderr
    result = run_rlrec("eval", "seed=1", cwd=tmp_path)
    assert result.returncode == 2 and "exactly one ckpt=PATH" in result.stderr
