"""``rlrec reproduce RUN_DIR``: re-run a finished run with the overrides that made it (from
``RUN_DIR/.hydra/overrides.yaml``) into a new sibling folder, then print every summary metric of
the two runs side by side with the difference. On CPU with the same versions every difference
should be zero; any that is not is shown, never rounded away."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import yaml


def _read_overrides(run_dir: Path) -> list[str]:
    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {run_dir} a run folder?")
    overrides = yaml.safe_load(path.read_text()) or []
    if not isinstance(overrides, list) or not all(isinstance(item, str) for item in overrides):
        raise ValueError(f"{path} is not a YAML list of strings")
    # where the original run went is not part of the experiment; the re-run gets its own folder
    return [
        item
        for item in overrides
        if not item.lstrip("+~").startswith(("hydra.run.dir=", "paths.output_dir="))
    ]


def _read_metrics(run_dir: Path) -> dict[str, float]:
    path = run_dir / "summary.json"
    summary = json.loads(path.read_text())
    if summary.get("status") != "completed":
        raise ValueError(f"{path}: status {summary.get('status')!r}, not 'completed'")
    return summary["metrics"]


def diff_table(original: dict[str, float], rerun: dict[str, float]) -> tuple[str, int]:
    """The side-by-side table and the number of metrics that differ (or exist in one run only)."""
    names = sorted(set(original) | set(rerun))
    width = max([len("metric"), *map(len, names)])
    lines = [f"{'metric'.ljust(width)}  {'original':>22}  {'reproduced':>22}  {'difference':>12}"]
    differing = 0
    for name in names:
        a, b = original.get(name), rerun.get(name)
        if a is None or b is None:
            diff_text, differing = "missing", differing + 1
        else:
            diff = float(b) - float(a)
            same = diff == 0 or (math.isnan(float(a)) and math.isnan(float(b)))
            differing += not same
            diff_text = f"{diff:.3g}"
        lines.append(f"{name.ljust(width)}  {a!r:>22}  {b!r:>22}  {diff_text:>12}")
    return "\n".join(lines) + "\n", differing


def main(args: list[str]) -> int:
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: rlrec reproduce RUN_DIR", file=sys.stderr)
        return 2
    run_dir = Path(args[0]).resolve()
    try:
        overrides = _read_overrides(run_dir)
        original = _read_metrics(run_dir)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
        print(f"rlrec reproduce: {error}", file=sys.stderr)
        return 2
    target = run_dir.with_name(f"{run_dir.name}-reproduce-{datetime.now():%Y%m%d-%H%M%S-%f}")
    # hydra.mode=RUN: a job of a preset that sweeps by itself (experiment=paper_*) re-runs alone.
    command = [
        sys.executable,
        "-m",
        "rlrec.cli",
        "train",
        *overrides,
        "hydra.mode=RUN",
        f"hydra.run.dir={target}",
    ]
    print(f"re-running into {target}:\n  rlrec train {' '.join(overrides)}", flush=True)
    result = subprocess.run(command)
    try:
        rerun = _read_metrics(target)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
        print(f"rlrec reproduce: the re-run failed (exit {result.returncode}): {error}", file=sys.stderr)
        return 1
    if result.returncode != 0:
        print(f"rlrec reproduce: the re-run exited {result.returncode}", file=sys.stderr)
        return 1
    table, differing = diff_table(original, rerun)
    print(table, end="")
    print(f"{differing} of {len(set(original) | set(rerun))} metrics differ; re-run folder: {target}")
    return 0
