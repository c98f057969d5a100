"""One rank (1..n-1) of a one-machine DDP run started by ``runtime.distributed.start_local_ranks``:
``python -m rlrec.rank_worker <resolved config.yaml>``. It trains with the run's own resolved
config, into the same run folder, and leaves every file to rank 0."""

from __future__ import annotations

import logging
import sys

from omegaconf import OmegaConf


def main(args: list[str]) -> int:
    from rlrec.train import train

    if len(args) != 1:
        print("usage: python -m rlrec.rank_worker <resolved config.yaml>", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
    cfg = OmegaConf.load(args[0])
    summary = train(cfg)
    return 0 if summary["status"] in ("completed", "interrupted") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
