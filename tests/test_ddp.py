"""DDP on CPU (gloo): two ranks, one run folder, files written once by rank 0, parameters equal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import RLREC, TINY, run_rlrec

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("POSIX only", allow_module_level=True)

DDP = ["trainer=ddp", "trainer.devices=2", "trainer.accelerator=cpu"]


def _run_folders(root):
    return sorted(path.parent for path in root.glob("outputs/train/multiruns/*/*/*/summary.json"))


def test_ddp_on_two_cpu_processes_makes_one_run_folder_with_equal_replicas(tmp_path):
    result = run_rlrec(
        "train", *TINY, *DDP, "trainer.max_steps=200", "trainer.eval_every=100", "logger=wandb",
        cwd=tmp_path, env={"OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    runs = list(tmp_path.glob("outputs/train/runs/*/*"))
    assert len(runs) == 1, runs  # no folder per rank
    run = runs[0]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["metrics"]["train/steps"] == 200
    assert summary["distributed"] == {"world_size": 2, "max_parameter_difference_across_ranks": 0.0}
    assert json.loads((run / "manifest.json").read_text())["status"] == "completed"
    # rank 1 trained (its log) but wrote nothing of its own: one W&B run, one set of checkpoints
    rank_1 = (run / "rank_1.log").read_text()
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in rank_1 and "run folder:" not in rank_1
    assert "run folder:" in result.stdout  # rank 0's closing line (Hydra's job log goes to stdout)
    offline_runs = list((run / "wandb").glob("offline-run-*"))
    assert len(offline_runs) == 1 and list(offline_runs[0].glob("run-*.wandb"))
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 200
    assert len(checkpoint["experience"]) == 2  # each rank's own env, replay buffer and RNG


def test_ddp_ranks_simulate_disjoint_users(tmp_path):
    from rlrec.experiment import build_experiment
    from tests.conftest import compose_config

    cfg = compose_config(*DDP, output_dir=tmp_path)
    shards = [build_experiment(cfg, rank=r, world_size=2) for r in (0, 1)]
    for split in ("train_users", "eval_users"):
        first, second = (set(getattr(e.train_env, split).tolist()) for e in shards)
        assert first and second and not first & second
    assert shards[0].eval_seed != shards[1].eval_seed
    assert not torch.equal(
        shards[0].train_env.generator.get_state(), shards[1].train_env.generator.get_state()
    )


def test_a_multi_node_run_without_a_cluster_launcher_is_refused(tmp_path):
    result = run_rlrec("train", *TINY, *DDP, "trainer.num_nodes=2", cwd=tmp_path)
    assert result.returncode != 0 and "trainer.num_nodes=2" in result.stderr and "slurm_ddp" in result.stderr


@pytest.mark.slow
def test_a_ddp_sweep_makes_one_folder_per_job(tmp_path):
    result = run_rlrec(
        "train", "-m", *TINY, *DDP, "trainer.max_steps=40", "trainer.eval_every=20", "seed=0,1",
        cwd=tmp_path, env={"OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(p.name for p in tmp_path.glob("outputs/train/multiruns/*/*/*") if p.is_dir())
    assert jobs == ["0", "1"] and len(_run_folders(tmp_path)) == 2
    assert not list(tmp_path.glob("outputs/train/runs"))  # no stray single-run folders from the ranks


@pytest.mark.slow
def test_a_signal_to_rank_0_stops_every_rank_and_checkpoints(tmp_path):
    process, run = _long_ddp_run_past_its_first_checkpoint(tmp_path)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] >= 20


@pytest.mark.slow
def test_two_slurm_tasks_on_two_nodes_share_one_run_folder(tmp_path):
    """What srun starts for a 2-node job, one task per node: two whole ``rlrec train`` processes
    with SLURM's variables; Lightning's SLURMEnvironment reads their ranks (simulated on one machine)."""
    run = tmp_path / "run"
    args = [*RLREC, "train", *TINY, "trainer=ddp", "trainer.devices=1", "trainer.num_nodes=2",
            "trainer.accelerator=cpu", "trainer.max_steps=40", "trainer.eval_every=20", f"hydra.run.dir={run}",
            "hydra.job_logging.handlers.file.filename=${hydra.runtime.output_dir}/train_rank${oc.env:SLURM_PROCID,0}.log"]  # fmt: skip
    slurm = {"SLURM_NTASKS": "2", "SLURM_NNODES": "2", "SLURM_NTASKS_PER_NODE": "1", "SLURM_LOCALID": "0",
             "SLURM_JOB_NAME": "rlrec", "SLURM_JOB_ID": "4242", "SLURM_NODELIST": "127.0.0.1",
             "MASTER_PORT": str(20000 + os.getpid() % 10000), "OMP_NUM_THREADS": "1"}  # fmt: skip
    tasks = [
        subprocess.Popen(
            args,
            cwd=tmp_path,
            env={**os.environ, **slurm, "SLURM_PROCID": str(r), "SLURM_NODEID": str(r)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for r in (0, 1)
    ]
    for task in tasks:
        _, stderr = task.communicate(timeout=300)
        assert task.returncode == 0, stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["distributed"] == {"world_size": 2, "max_parameter_difference_across_ranks": 0.0}
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in (run / "train_rank1.log").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # nothing else was created


def test_the_cluster_preset_asks_slurm_for_one_task_per_device_on_every_node(tmp_path):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from rlrec.config import config_dir, register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(
            "config",
            overrides=[
                "experiment=cluster_ddp",
                "trainer.num_nodes=3",
                "trainer.devices=8",
                f"paths.output_dir={tmp_path}",
            ],
            return_hydra_config=True,
        )
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    assert launcher["_target_"].endswith("SlurmLauncher")
    assert (launcher["nodes"], launcher["tasks_per_node"], launcher["gpus_per_node"]) == (3, 8, 8)
    assert cfg.trainer.strategy == "ddp" and cfg.trainer.precision == "bf16-mixed"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_trainer_gpu_without_a_gpu_says_so(tmp_path):
    result = run_rlrec("train", *TINY, "trainer=gpu", cwd=tmp_path)
    assert result.returncode != 0 and "trainer.accelerator=gpu: no CUDA GPU is visible" in result.stderr


@pytest.mark.slow
def test_a_rank_that_dies_fails_the_run_naming_its_log(tmp_path):
    process, run = _long_ddp_run_past_its_first_checkpoint(tmp_path)
    # rank 1: the rank worker that this run's rank 0 started
    rank_1 = subprocess.run(
        ["pgrep", "-P", str(process.pid), "-f", "rank_worker"], capture_output=True, text=True
    )
    assert len(rank_1.stdout.split()) == 1, rank_1
    os.kill(int(rank_1.stdout), signal.SIGKILL)
    process.communicate(timeout=120)  # not the 30 minutes of the process group's timeout
    assert process.returncode != 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and "DDP rank 1 ended with -9" in summary["error"]
    assert str(run / "rank_1.log") in summary["error"]


def _long_ddp_run_past_its_first_checkpoint(tmp_path) -> tuple[subprocess.Popen, Path]:
    """A 2-rank run with no end in sight, started in the background and returned (with its folder)
    once it has written its first checkpoint."""
    run = tmp_path / "run"
    process = subprocess.Popen(
        [*RLREC, "train", *TINY, *DDP, "trainer.max_steps=100000", "trainer.eval_every=20", f"hydra.run.dir={run}"],
        cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while not list((run / "checkpoints").glob("best-*.ckpt")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1][-3000:]
        time.sleep(0.5)
    return process, run
