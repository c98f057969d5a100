"""``rlrec eval ckpt=PATH [overrides]``: evaluate a checkpoint with its run's config, write ``eval.json``.

The experiment is rebuilt from the run folder's ``.hydra/overrides.yaml`` (the checkpoint sits in
``<run>/checkpoints/``) plus any overrides given here, e.g. ``env.eval_split=valid`` or a new seed
for the evaluation users' draws. Weights are read with ``torch.load(weights_only=True)``; a
checkpoint whose parameters do not fit the rebuilt agent fails naming every mismatched tensor.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

USAGE = "usage: rlrec eval ckpt=PATH [overrides]"


def split_ckpt(args: list[str]) -> tuple[Path, list[str]]:
    """``ckpt=PATH`` out of the arguments; the rest are config overrides."""
    paths = [arg.split("=", 1)[1] for arg in args if arg.startswith("ckpt=")]
    if len(paths) != 1:
        raise ValueError(f"give exactly one ckpt=PATH ({USAGE})")
    ckpt = Path(paths[0]).expanduser().resolve()
    if not ckpt.is_file():
        raise FileNotFoundError(f"ckpt={paths[0]}: no such checkpoint file")
    return ckpt, [arg for arg in args if not arg.startswith("ckpt=")]


def run_overrides(ckpt: Path) -> list[str]:
    """The overrides of the run the checkpoint belongs to (none when it is not in a run folder)."""
    from rlrec.reproduce import _read_overrides

    run_dir = ckpt.parent.parent
    if not (run_dir / ".hydra" / "overrides.yaml").is_file():
        log.warning(f"{ckpt} is not in a run folder (no ../.hydra/overrides.yaml): using the defaults")
        return []
    return _read_overrides(run_dir)


def load_weights(agent: torch.nn.Module, ckpt: Path) -> dict[str, Any]:
    """Load the checkpoint's state_dict into ``agent``; any missing, unexpected or reshaped tensor is an error."""
    from rlrec.runtime.errors import fit_problems, read_checkpoint

    checkpoint = read_checkpoint(ckpt, "ckpt")
    saved = checkpoint["state_dict"]
    problems = fit_problems(agent.state_dict(), saved)
    if problems:
        shown = "\n  ".join(problems[:12]) + (
            f"\n  ... {len(problems) - 12} more" if len(problems) > 12 else ""
        )
        raise ValueError(
            f"{ckpt} does not fit the agent this config builds (was it trained with another algorithm, "
            f"encoder, dataset or catalogue?):\n  {shown}"
        )
    agent.load_state_dict(saved)
    return checkpoint


def evaluate_checkpoint(ckpt: Path, overrides: list[str]) -> dict[str, Any]:
    from rlrec.experiment import build_experiment, evaluation_protocol
    from rlrec.runtime.compose import compose_or_exit
    from rlrec.runtime.manifest import write_json
    from rlrec.runtime.seeding import seed_everything

    all_overrides = [*run_overrides(ckpt), *overrides]
    cfg = compose_or_exit("eval", [*all_overrides, "paths.output_dir=" + str(ckpt.parent)])
    seed_everything(cfg.seed)
    experiment = build_experiment(cfg)
    agent = experiment.agent
    checkpoint = load_weights(agent, ckpt)
    agent.eval()
    env = experiment.eval_env
    with torch.no_grad():
        metrics = env.evaluate(agent.greedy_policy, env.eval_users, experiment.eval_seed)
    result = {
        "ckpt": str(ckpt),
        "global_step": checkpoint.get("global_step"),
        "overrides": all_overrides,
        "env": cfg.env.name,
        "eval_split": cfg.env.get("eval_split", "held-out users"),
        "protocol": evaluation_protocol(cfg, env, agent),
        "metrics": {f"eval/{name}": value for name, value in sorted(metrics.items())},
    }
    write_json(ckpt.parent / "eval.json", result)
    return result


def main(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
    try:
        ckpt, overrides = split_ckpt(args)
        result = evaluate_checkpoint(ckpt, overrides)
    except (OSError, ValueError) as error:
        print(f"rlrec eval: {error}", file=sys.stderr)
        return 2
    width = max(map(len, result["metrics"]))
    for name, value in result["metrics"].items():
        print(f"{name.ljust(width)}  {value:.4f}")
    print(f"wrote {ckpt.parent / 'eval.json'}")
    return 0
