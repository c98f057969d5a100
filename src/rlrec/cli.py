"""The ``rlrec`` command: ``rlrec <command> [args]``; each command lives in its own module."""

from __future__ import annotations

import importlib
import sys

USAGE = """usage: rlrec <command> [overrides]

commands:
  train          train an agent: a Hydra app (overrides, -m for a sweep, --cfg job, --help)
  eval           evaluate a checkpoint with its run's config (ckpt=PATH [overrides]); writes eval.json
  recommend      each user's top-K from a replay run's checkpoint (ckpt=PATH users=[ID,...] [--format json])
  data prepare   load, clean, split and cache a dataset; print its statistics
  encode         precompute the item-text embeddings of encoder=... into the cache (paths.cache_dir)
  report         tables (terminal, md, tex, csv) and learning curves over many run folders
  reproduce      re-run a finished run with its overrides and diff its summary metrics

A bad input (config value, file, model, checkpoint) is one line on stderr and exit status 2;
RLREC_DEBUG=1 shows the traceback.

examples:
  rlrec train
  rlrec train algorithm.lr=0.0003 trainer.max_steps=5000
  rlrec train -m seed=0,1,2 algorithm.lr=0.001,0.0003
  rlrec eval ckpt=outputs/train/runs/2026-01-01/12-00-00/checkpoints/last.ckpt
  rlrec recommend ckpt=outputs/train/runs/2026-01-01/12-00-00/checkpoints/last.ckpt users=[1,2]
  rlrec data prepare dataset=movielens dataset.path=data/ml-latest-small
  rlrec encode encoder=minilm
  rlrec report outputs/train/multiruns/2026-01-01/12-00-00 --baseline algorithm.lr=0.001
  rlrec reproduce outputs/train/runs/2026-01-01/12-00-00
"""

# command -> module whose ``main(args) -> int`` runs it (imported only when that command runs)
COMMANDS = {
    "train": "rlrec.train",
    "eval": "rlrec.evaluate",
    "recommend": "rlrec.recommend",
    "data": "rlrec.prepare",
    "encode": "rlrec.encode",
    "report": "rlrec.report_cli",
    "reproduce": "rlrec.reproduce",
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"rlrec: unknown command {command!r}\n\n{USAGE}", end="", file=sys.stderr)
        return 2
    from rlrec.runtime.errors import guarded

    name = f"{command} {rest[0]}" if command == "data" and rest else command
    return guarded(name, lambda: importlib.import_module(COMMANDS[command]).main(rest))


if __name__ == "__main__":
    sys.exit(main())
