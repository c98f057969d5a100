"""Shared fixtures: compose the real config tree with tiny settings, run the real entry points."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from rlrec.config import config_dir, register_configs

# A world and a run small enough for a unit test: seconds, not minutes.
TINY_COMMON = [
    "dataset.n_users=200",
    "dataset.n_items=60",
    "env.num_envs=16",
    "env.eval_episodes_users=32",
    "env.horizon=5",
    "trainer.max_steps=60",
    "trainer.eval_every=30",
    "trainer.log_every_n_steps=5",
    "trainer.enable_progress_bar=false",
    "logger=csv",
    "encoder=id",  # training mechanics on the fast tower; tests/test_minilm.py trains the default encoder
]
# Per algorithm, the overrides that make it train in a few dozen steps (keys of its own schema).
TINY_ALGORITHM: dict[str, list[str]] = {
    "dqn": [
        "algorithm.batch_size=32",
        "algorithm.warmup_steps=4",
        "algorithm.epsilon_decay_steps=30",
        "algorithm.target_update_every=10",
    ],
    "reinforce": ["algorithm.batch_size=32"],
    "multitask": [
        "algorithm.batch_size=32",
        "algorithm.warmup_steps=4",
        "algorithm.epsilon_decay_steps=30",
        "algorithm.target_update_every=10",
    ],
    "sqn": ["algorithm.batch_size=32"],
    "supervised": ["algorithm.batch_size=32"],
    "qlearning": ["algorithm.epsilon_decay_steps=30", "algorithm.n_clusters=4"],
    "random": [],
    "popularity": [],
}
TINY = [*TINY_COMMON, *TINY_ALGORITHM["dqn"]]  # the default algorithm (dqn)


def tiny(algorithm: str = "dqn") -> list[str]:
    """Tiny overrides for ``algorithm=<algorithm>`` (the choice itself included), for CLI tests."""
    return [*TINY_COMMON, f"algorithm={algorithm}", *TINY_ALGORITHM.get(algorithm, [])]


# The installed console script, as a user runs it (``python -m rlrec.cli`` where there is none).
_SCRIPT = Path(sys.executable).with_name("rlrec")
RLREC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "rlrec.cli"]


def compose_config(*overrides: str, output_dir: Path | None = None, tiny: bool = True) -> DictConfig:
    """The config ``rlrec train`` would see for these overrides (outside a Hydra run)."""
    register_configs()
    paths = [f"paths.output_dir={output_dir}"] if output_dir is not None else []
    choice = next((o.split("=", 1)[1] for o in overrides if o.startswith("algorithm=")), "dqn")
    small = [*TINY_COMMON, *TINY_ALGORITHM.get(choice, [])] if tiny else []
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose("config", overrides=[*paths, *small, *overrides])


def run_rlrec(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """Run the ``rlrec`` CLI in a subprocess from ``cwd``."""
    full_env = {**os.environ, "WANDB_SILENT": "true", **(env or {})}
    return subprocess.run(
        [*prefix, *RLREC, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    """Each test gets its own empty cache (paths.cache_dir), inherited by the CLI subprocesses."""
    monkeypatch.setenv("RLREC_CACHE", str(tmp_path / "rlrec-cache"))


@pytest.fixture(autouse=True)
def _no_wandb_env(monkeypatch):
    """Tests prove the config keeps W&B offline, so no WANDB_MODE from the caller may help them."""
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A tiny BERT folder (config, safetensors weights, tokenizer) made by ``save_pretrained``."""
    from tests.tiny_models import save_tiny_bert

    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    """A tiny GPT-2 folder whose tokenizer has no pad token."""
    from tests.tiny_models import save_tiny_gpt2

    return save_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))
