"""manifest.json and summary.json: what made a run, and what it measured."""

from __future__ import annotations

import json
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

PACKAGES = (
    "rlrec",
    "torch",
    "pytorch-lightning",
    "transformers",
    "polars",
    "hydra-core",
    "omegaconf",
    "wandb",
)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def git_state(source: Path) -> dict[str, Any]:
    """Commit and dirty flag of the checkout holding ``source``; nulls when it is not a git checkout."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(source), *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def device_description(accelerator: str) -> dict[str, Any]:
    device: dict[str, Any] = {"accelerator": accelerator, "cpu": platform.processor() or platform.machine()}
    if torch.cuda.is_available():
        device["cuda"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return device


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


def start_manifest(
    run_dir: Path, command: str | None, overrides: list[str], seed: int, accelerator: str
) -> dict[str, Any]:
    manifest = {
        "command": command,  # null when train() was called from Python rather than the CLI
        "overrides": overrides,
        "seed": seed,
        "git": git_state(Path(__file__).resolve().parent),
        "versions": package_versions(),
        "cache_keys": {},
        "device": device_description(accelerator),
        "started_at": now(),
        "ended_at": None,
        "status": "running",
    }
    write_json(run_dir / "manifest.json", manifest)
    return manifest
