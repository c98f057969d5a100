"""``rlrec encode [overrides]``: compute the item-text embeddings of a dataset into the cache.

Composes the same config ``rlrec train`` would, builds the dataset and the configured text encoder
(which computes and stores the embeddings, or finds them), and prints what was done, so a later
``rlrec train`` with the same overrides starts from a cache hit.
"""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger(__name__)


def main(args: list[str]) -> int:
    from hydra.utils import get_class, instantiate

    from rlrec.encoders.text import LanguageModelNotFound
    from rlrec.experiment import build_item_encoder
    from rlrec.runtime.compose import compose_or_exit

    logging.basicConfig(level=logging.INFO, format="[%(name)s][%(levelname)s] %(message)s")
    cfg = compose_or_exit("encode", args)
    if not hasattr(get_class(cfg.encoder._target_), "encode_texts"):
        print(
            f"rlrec encode: encoder={cfg.encoder.name} reads no text, so there is nothing to precompute; "
            "choose a language-model encoder (encoder=minilm, bert or gpt2)",
            file=sys.stderr,
        )
        return 2
    log.info(f"Instantiating dataset <{cfg.dataset._target_}>")
    dataset = instantiate(cfg.dataset)
    started = time.perf_counter()
    try:
        encoder = build_item_encoder(cfg, dataset)
    except LanguageModelNotFound as error:
        print(f"rlrec encode: {error}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    n_items, dim = encoder.embeddings.shape
    print(
        f"dataset {dataset.name} ({dataset.cache_key}), encoder {cfg.encoder.name}: "
        f"{'hit' if encoder.cache_hit else 'miss'}, key {encoder.cache_key}, {n_items} items, dim {dim}, "
        f"{seconds:.2f} s"
    )
    return 0
