"""The ``rlrec`` command: ``rlrec <command> [args]``; each command lives in its own module."""

from __future__ import annotations

import sys

USAGE = """usage: rlrec <command> [overrides]

commands:
  train    train an agent: a Hydra app (overrides, -m for a sweep, --cfg job, --help)

examples:
  rlrec train
  rlrec train algorithm.lr=0.0003 trainer.max_steps=5000
  rlrec train -m seed=0,1,2 algorithm.lr=0.001,0.0003
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    command, rest = args[0], args[1:]
    if command == "train":
        from rlrec.train import main as train_main

        sys.argv = [f"{sys.argv[0]}", *rest]  # Hydra reads its overrides from sys.argv
        train_main()
        return 0
    print(f"rlrec: unknown command {command!r}\n\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
