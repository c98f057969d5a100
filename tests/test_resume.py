"""Resume: a run stopped by SIGTERM and resumed from its last.ckpt ends with the same metrics as the
same run left alone (model, optimiser, replay buffer, environment episode and RNG, ε and counters)."""

from __future__ import annotations

import os
import signal
import sys

import pytest
import torch

from rlrec.runtime.callbacks import Preemption
from rlrec.train import train
from tests.conftest import compose_config

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("POSIX signals", allow_module_level=True)

STEPS, STOP_AT = 50, 23  # 23: between evaluations (every 20), an n-step window and an episode in flight
COMMON = ["trainer.eval_every=20", f"trainer.max_steps={STEPS}"]
CASES = {
    # n-step windows, prioritized replay (its sum tree) and several gradient steps per env step
    "dqn": [
        "algorithm=dqn",
        "algorithm.n_step=3",
        "algorithm.double=true",
        "algorithm.prioritized=true",
        "algorithm.env_steps_per_update=6",
    ],  # fmt: skip
    "multitask": ["algorithm=multitask", "algorithm.weighting=uncertainty"],
    "reinforce": ["algorithm=reinforce", "algorithm.baseline=learned"],
    "qlearning": ["algorithm=qlearning"],
    "sqn": [
        "algorithm=sqn",
        "algorithm.negatives=4",
        "state_encoder=gru",
    ],  # logged sampling; the GRU's dropout and the SNQN negatives draw from torch's RNG
    "dqn_replay": ["algorithm=dqn", "env=replay", "dataset.n_users=120"],  # the replay env's episode
}


def _interrupt_at(monkeypatch, step: int) -> None:
    """Send this process a real SIGTERM once training step ``step`` has finished."""
    original = Preemption.on_train_batch_end

    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step == step:
            os.kill(os.getpid(), signal.SIGTERM)
        original(self, trainer, *args)

    monkeypatch.setattr(Preemption, "on_train_batch_end", on_train_batch_end)


@pytest.mark.parametrize(
    ("case", "stop_at"),
    [(case, STOP_AT) for case in CASES] + [("dqn", 20)],  # 20: right after an evaluation
)
def test_an_interrupted_and_resumed_run_ends_with_the_metrics_of_an_uninterrupted_one(
    case, stop_at, tmp_path, monkeypatch
):
    overrides = [*CASES[case], *COMMON, "seed=3"]
    whole = train(compose_config(*overrides, output_dir=tmp_path / "whole"))
    assert whole["status"] == "completed"

    with monkeypatch.context() as patch:
        _interrupt_at(patch, stop_at)
        stopped = train(compose_config(*overrides, output_dir=tmp_path / "stopped"))
    assert stopped["status"] == "interrupted" and stopped["metrics"]["train/steps"] == stop_at
    ckpt = tmp_path / "stopped" / "checkpoints" / "last.ckpt"
    assert "experience" in torch.load(ckpt, weights_only=True)  # the loop state went into the checkpoint

    resumed = train(compose_config(*overrides, f"ckpt_path={ckpt}", output_dir=tmp_path / "resumed"))
    assert resumed["status"] == "completed"
    assert resumed["metrics"] == whole["metrics"]


def test_without_the_experience_state_a_resumed_run_differs(tmp_path, monkeypatch):
    """The check above can fail: dropping the checkpoint's experience state changes the result."""
    overrides = [*CASES["dqn"], *COMMON, "seed=3"]
    whole = train(compose_config(*overrides, output_dir=tmp_path / "whole"))
    with monkeypatch.context() as patch:
        _interrupt_at(patch, STOP_AT)
        train(compose_config(*overrides, output_dir=tmp_path / "stopped"))
    ckpt = tmp_path / "stopped" / "checkpoints" / "last.ckpt"
    state = torch.load(ckpt, weights_only=True)
    del state["experience"]
    torch.save(state, ckpt)
    resumed = train(compose_config(*overrides, f"ckpt_path={ckpt}", output_dir=tmp_path / "resumed"))
    assert resumed["status"] == "completed"
    assert resumed["metrics"]["eval/return"] != whole["metrics"]["eval/return"]
