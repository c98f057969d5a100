"""Find run folders under a directory and read what ``rlrec report`` needs from each.

A run folder is a folder holding ``summary.json`` (a finished or failed run) or a ``.hydra`` folder
without one (a run that never finished). Only completed runs with readable metrics are averaged;
every other folder becomes an ``Excluded`` entry with the reason, so nothing disappears silently.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SEED_KEY = "seed"


@dataclass
class Run:
    path: Path
    overrides: dict[str, str]  # key -> value, in command-line order, the seed included
    metrics: dict[str, float]
    seed: int | None = None


@dataclass
class Excluded:
    path: Path
    reason: str


@dataclass
class Runs:
    completed: list[Run] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)


def override_key(item: str) -> tuple[str, str]:
    """``"+a.b=1"`` -> ``("a.b", "1")``: Hydra's append/force prefixes do not change what was set."""
    key, _, value = item.partition("=")
    return key.lstrip("+~"), value


def find_run_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` (itself included) that holds summary.json or .hydra/, sorted;
    the search does not descend into a run folder."""
    found: list[Path] = []

    def visit(folder: Path) -> None:
        if (folder / "summary.json").is_file() or (folder / ".hydra").is_dir():
            found.append(folder)
            return
        for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            visit(child)

    visit(root)
    return sorted(found)


def _read_overrides(folder: Path, summary: dict) -> list[str]:
    path = folder / ".hydra" / "overrides.yaml"
    if path.is_file():
        overrides = yaml.safe_load(path.read_text()) or []
        if not isinstance(overrides, list) or not all(isinstance(item, str) for item in overrides):
            raise ValueError(f"{path} is not a YAML list of strings")
        return overrides
    overrides = summary.get("overrides")
    if not isinstance(overrides, list):
        raise ValueError(f"no {path} and no 'overrides' list in summary.json")
    return [str(item) for item in overrides]


def read_run(folder: Path) -> Run | Excluded:
    """One folder as a completed ``Run`` or as an ``Excluded`` with the reason."""
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        return Excluded(folder, "unfinished: .hydra/ but no summary.json")
    try:
        summary = json.loads(summary_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return Excluded(folder, f"corrupt: {summary_path.name} is not valid JSON ({error})")
    if not isinstance(summary, dict):
        return Excluded(folder, f"corrupt: {summary_path.name} is not a JSON object")
    status = summary.get("status")
    if status != "completed":
        return Excluded(folder, f"status {status!r} in summary.json (not 'completed')")
    metrics = summary.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        return Excluded(folder, "corrupt: summary.json has no 'metrics'")
    bad = [
        name
        for name, value in metrics.items()
        if not isinstance(value, int | float) or isinstance(value, bool)
    ]
    if bad:
        return Excluded(folder, f"corrupt: non-numeric metric(s) in summary.json: {', '.join(sorted(bad))}")
    try:
        overrides = _read_overrides(folder, summary)
    except (ValueError, yaml.YAMLError) as error:
        return Excluded(folder, f"corrupt: {error}")
    seed = summary.get("seed")
    return Run(
        path=folder,
        overrides=dict(override_key(item) for item in overrides),
        metrics={name: float(value) for name, value in metrics.items() if not math.isnan(float(value))},
        seed=seed if isinstance(seed, int) else None,
    )


def load_runs(root: Path) -> Runs:
    """Read every run folder under ``root``."""
    runs = Runs()
    seen: dict[tuple, Path] = {}
    for folder in find_run_folders(root):
        result = read_run(folder)
        if isinstance(result, Run):
            # a second run with the same overrides and seed (e.g. an `rlrec reproduce` re-run) is
            # not an extra sample: counting it would shrink the CI without new evidence
            identity = (tuple(sorted(result.overrides.items())), result.seed)
            if identity in seen:
                result = Excluded(folder, f"duplicate of {seen[identity]} (same overrides and seed)")
            else:
                seen[identity] = folder
        (runs.completed if isinstance(result, Run) else runs.excluded).append(result)
    return runs
