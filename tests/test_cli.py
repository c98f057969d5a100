"""The ``rlrec`` command as a user runs it: a subprocess started from an unrelated directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import yaml

from tests.conftest import TINY, run_rlrec

RUN_FILES = (
    ".hydra/config.yaml",
    ".hydra/overrides.yaml",
    ".hydra/hydra.yaml",
    "manifest.json",
    "metrics.parquet",
    "summary.json",
    "checkpoints/last.ckpt",
)


def run_folders(root: Path) -> list[Path]:
    return sorted(path.parent for path in root.rglob("summary.json"))


def test_help_and_unknown_command(tmp_path):
    shown = run_rlrec("--help", cwd=tmp_path)
    assert shown.returncode == 0 and "rlrec train" in shown.stdout
    unknown = run_rlrec("trian", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown command 'trian'" in unknown.stderr


def test_train_writes_one_complete_run_folder_from_any_directory(tmp_path):
    result = run_rlrec("train", *TINY, "seed=3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [path.name for path in tmp_path.iterdir()] == ["outputs"], "nothing written outside outputs/"
    (run_dir,) = run_folders(tmp_path / "outputs")
    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["seed"] == 3
    assert "seed=3" in summary["overrides"]
    assert yaml.safe_load((run_dir / ".hydra/overrides.yaml").read_text()) == summary["overrides"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["command"].startswith("rlrec train") and "seed=3" in manifest["command"]
    assert pl.read_parquet(run_dir / "metrics.parquet").height > 0


def test_multirun_grid_writes_one_folder_per_job(tmp_path):
    result = run_rlrec(
        "train",
        "-m",
        "seed=0,1",
        "algorithm.lr=0.001,0.0003",
        *TINY,
        "trainer.max_steps=20",
        "trainer.eval_every=20",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "outputs" / "train" / "multiruns").glob("*/*")
    runs = run_folders(sweep)
    assert [run.parent for run in runs] == [sweep] * 4 and sorted(r.name for r in runs) == [
        "0",
        "1",
        "2",
        "3",
    ]
    grid = set()
    for run in runs:
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] == "completed"
        overrides = dict(
            item.split("=") for item in summary["overrides"] if item.split("=")[0] in ("seed", "algorithm.lr")
        )
        grid.add((overrides["seed"], overrides["algorithm.lr"]))
        assert json.loads((run / "manifest.json").read_text())["seed"] == int(overrides["seed"])
    assert grid == {("0", "0.001"), ("0", "0.0003"), ("1", "0.001"), ("1", "0.0003")}


def test_misspelt_key_fails_before_any_work(tmp_path):
    result = run_rlrec("train", "algorithm.lrr=0.1", cwd=tmp_path)
    assert result.returncode != 0
    assert "Key 'lrr' not in 'DQNConfig'" in result.stderr and "algorithm.lrr" in result.stderr
    assert not (tmp_path / "outputs").exists(), "no run folder for a config that does not compose"


def _offline_prefix() -> tuple[tuple[str, ...], dict[str, str]]:
    """Run with no network: a fresh network namespace where possible, else proxies to a dead port."""
    if (
        shutil.which("unshare")
        and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    ):
        return ("unshare", "-rn"), {}
    dead = "http://127.0.0.1:9"
    return (), {"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead}


def test_wandb_logger_runs_offline_without_network(tmp_path):
    prefix, env = _offline_prefix()
    result = run_rlrec("train", *TINY, "logger=wandb", cwd=tmp_path, prefix=prefix, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = run_folders(tmp_path / "outputs")
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
    (wandb_run,) = (run_dir / "wandb").glob("offline-run-*")  # the name W&B gives offline runs only
    (records,) = wandb_run.glob("run-*.wandb")  # the offline run file `wandb sync` uploads later
    data = records.read_bytes()
    assert b"rlrec.agents.dqn.DQNAgent" in data, "the composed config reached W&B"
    assert b"eval/return" in data and b"train/loss" in data, "the metrics reached W&B"
    assert not (run_dir / "csv").exists()


def test_installed_wheel_finds_its_config_from_any_directory(tmp_path):
    """A non-editable install (a built wheel) ships conf/ inside the package."""
    repo = Path(__file__).resolve().parents[1]
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(repo)],
        check=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("rlrec-*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        timeout=600,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = (
        "import rlrec.config as c, sys; print(c.config_dir()); sys.argv=['rlrec','train',*sys.argv[1:]]; "
        "from rlrec.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *TINY],
        cwd=work,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "WANDB_SILENT": "true"},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[0] == str(site / "rlrec" / "conf")
    (run_dir,) = run_folders(work / "outputs")
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
