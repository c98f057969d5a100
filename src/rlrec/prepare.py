"""``rlrec data prepare [overrides]``: load a dataset (or read it from the cache), clean, split and
cache it (rlrec.data.prepare), and print its statistics and a sample of its item texts."""

from __future__ import annotations

import logging
import sys


def main(args: list[str]) -> int:
    """``rlrec data prepare [overrides]``: load (or read from the cache) and print the statistics."""
    from hydra.utils import instantiate

    from rlrec.data.prepare import format_sample_texts
    from rlrec.data.stats import format_stats
    from rlrec.runtime.compose import compose_or_exit

    if not args or args[0] != "prepare":
        print("usage: rlrec data prepare dataset=<name> dataset.path=<dir> [overrides]", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")
    cfg = compose_or_exit("data prepare", args[1:])
    dataset = instantiate(cfg.dataset)  # a bad file or setting: one line and exit 2 (rlrec.runtime.errors)
    print(format_stats(dataset.stats))
    print("\n" + format_sample_texts(dataset.items))
    if dataset.cache_entry is not None:
        how = "read from the cache" if dataset.from_cache else "prepared and written to the cache"
        print(f"\n{how}: {dataset.cache_entry} (statistics in stats.json)")
    return 0
