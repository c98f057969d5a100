"""Preemption: SIGTERM / SIGUSR1 checkpoint the run and exit cleanly; ckpt_path resumes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import RLREC, TINY, run_rlrec


def _start(run_dir, cwd, *extra):
    env = {**os.environ, "WANDB_SILENT": "true"}
    args = [*RLREC, "train", *TINY, "trainer.max_steps=100000", "trainer.eval_every=20", *extra]
    return subprocess.Popen(
        [*args, f"hydra.run.dir={run_dir}"], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


# SIGUSR1 (the SLURM pre-timeout signal) takes the same path as SIGTERM: run by `make test-full`.
@pytest.mark.parametrize("signum", [signal.SIGTERM, pytest.param(signal.SIGUSR1, marks=pytest.mark.slow)])
def test_a_signal_checkpoints_and_exits_cleanly_and_the_run_resumes(tmp_path, signum):
    run_dir = tmp_path / "run"
    process = _start(run_dir, tmp_path)
    deadline = time.monotonic() + 120
    while not list((run_dir / "checkpoints").glob("best-*.ckpt")):  # training is under way
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1][-3000:]
        time.sleep(0.2)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    stopped_at = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    assert 20 <= stopped_at < 100000 and summary["metrics"]["train/steps"] == stopped_at
    assert "resume with ckpt_path=" in stdout.decode()  # Hydra's job log goes to stdout

    resumed = tmp_path / "resumed"
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    result = run_rlrec(
        "train", *TINY, f"trainer.max_steps={stopped_at + 15}", "trainer.eval_every=20", f"ckpt_path={ckpt}",
        f"hydra.run.dir={resumed}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((resumed / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["metrics"]["train/steps"] == stopped_at + 15


def test_a_missing_resume_checkpoint_is_named(tmp_path):
    result = run_rlrec(
        "train", *TINY, "ckpt_path=nowhere/last.ckpt", f"hydra.run.dir={tmp_path / 'r'}", cwd=tmp_path
    )
    assert result.returncode != 0 and "ckpt_path=nowhere/last.ckpt: no such checkpoint file" in result.stderr


if sys.platform == "win32":  # pragma: no cover
    pytest.skip("POSIX signals", allow_module_level=True)


def test_a_run_killed_without_warning_resumes_from_the_periodic_checkpoint(tmp_path):
    """SIGKILL leaves no chance to checkpoint: last.ckpt, rewritten every trainer.checkpoint_every
    steps, is the resume point, and the resumed run continues from its step and completes."""
    run_dir = tmp_path / "run"
    process = _start(run_dir, tmp_path, "trainer.checkpoint_every=10", "trainer.eval_every=1000")
    last = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 120
    step = 0
    while step < 30:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1][-3000:]
        time.sleep(0.2)
        if last.is_file():
            try:
                step = torch.load(last, weights_only=True)["global_step"]
            except (RuntimeError, EOFError):  # caught mid-write
                continue
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    summary = (
        json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").exists() else {}
    )
    assert summary.get("status") != "completed"
    step = torch.load(last, weights_only=True)["global_step"]
    assert step % 10 == 0 and step >= 30, "written on the checkpoint_every schedule"

    resumed = tmp_path / "resumed"
    result = run_rlrec(
        "train", *TINY, f"trainer.max_steps={step + 15}", "trainer.eval_every=1000", f"ckpt_path={last}",
        f"hydra.run.dir={resumed}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((resumed / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["metrics"]["train/steps"] == step + 15
