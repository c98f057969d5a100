"""Sweeps beyond the basic grid: parallel local jobs (joblib), submitit (local stand-in for SLURM), Optuna."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import TINY, run_rlrec

SHORT = [*TINY, "trainer.max_steps=20", "trainer.eval_every=20"]


def summaries(sweep) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(sweep.glob("*/summary.json"))]


def seeds_of(runs: list[dict]) -> list[int]:
    return sorted(run["seed"] for run in runs)


def test_joblib_launcher_runs_jobs_in_parallel_processes(tmp_path):
    sweep = tmp_path / "sweep"
    result = run_rlrec(
        "train", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "seed=0,1", *SHORT,
        f"hydra.sweep.dir={sweep}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    runs = summaries(sweep)
    assert seeds_of(runs) == [0, 1] and {run["status"] for run in runs} == {"completed"}
    assert "Joblib.Parallel(n_jobs=2" in result.stdout + result.stderr, "the joblib launcher ran the jobs"


@pytest.mark.slow  # a second launcher plugin (joblib is in the fast suite)
def test_submitit_local_launcher_runs_the_sweep(tmp_path):
    """The SLURM launcher's local twin: same plugin, same job wrapping, no cluster."""
    sweep = tmp_path / "sweep"
    result = run_rlrec(
        "train", "-m", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5", "seed=0,1", *SHORT,
        f"hydra.sweep.dir={sweep}", cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    runs = summaries(sweep)
    assert seeds_of(runs) == [0, 1] and {run["status"] for run in runs} == {"completed"}
    assert (sweep / ".submitit").is_dir(), "the jobs went through submitit"


def test_slurm_launcher_config_composes_with_our_defaults(tmp_path):
    result = run_rlrec(
        "train", "hydra/launcher=slurm", "hydra.launcher.partition=gpu", "--cfg", "hydra", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    launcher = yaml.safe_load(result.stdout)["hydra"]["launcher"]
    assert launcher["_target_"].endswith("SlurmLauncher")
    assert launcher["partition"] == "gpu" and launcher["timeout_min"] == 240


@pytest.mark.slow  # a sweeper plugin end to end
def test_optuna_search_returns_the_configured_metric(tmp_path):
    sweep = tmp_path / "sweep"
    result = run_rlrec(
        "train", "-m", "hparams_search=optuna", "hydra.sweeper.n_trials=3", *SHORT,
        f"hydra.sweep.dir={sweep}", cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    runs = summaries(sweep)
    assert len(runs) == 3 and {run["status"] for run in runs} == {"completed"}
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert best["best_value"] == pytest.approx(max(run["metrics"]["eval/return"] for run in runs))
    tuned = {o.split("=")[0] for run in runs for o in run["overrides"]}
    assert {"algorithm.lr", "algorithm.gamma", "algorithm.hidden_dim"} <= tuned


def test_an_unknown_optimized_metric_fails_naming_the_metrics(tmp_path):
    result = run_rlrec(
        "train", *SHORT, "optimized_metric=eval/returns", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path
    )
    assert result.returncode != 0
    assert "optimized_metric='eval/returns' is not a metric of this run" in result.stderr
    assert "'eval/return'" in result.stderr
