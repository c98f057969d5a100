"""MiniLM item encoding: rlrec's TextEncoder against sentence-transformers, and the cache's speed-up.

Prints items per second for both on the same texts, same model folder, same batch size and the same
torch threads, in this process, and their ratio (goal >= 1.0); then the time to build the item tower
with an empty cache (load the model, encode, store) against a warm one (goal >= 50x):
    python bench/bench_text_encoder.py [--items 5000] [--batch-size 64] [--repeats 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from rlrec.data.synthetic import generate_synthetic
from rlrec.encoders.config import MiniLMEncoderConfig
from rlrec.encoders.item_text import ItemTextEncoder
from rlrec.encoders.text import TextEncoder, load_language_model, resolve_model


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    texts = generate_synthetic(n_users=100, n_items=args.items, seed=0).items["text"].to_list()
    folder = resolve_model(MiniLMEncoderConfig.model)[0]
    ours = TextEncoder(
        *load_language_model(folder, device="cpu"), pooling="mean", normalize=True, batch_size=args.batch_size
    )
    theirs = SentenceTransformer(folder, device="cpu")
    ours.encode(texts[:64])  # warm-up both
    theirs.encode(texts[:64], batch_size=args.batch_size)

    times = {"rlrec": [], "sentence-transformers": []}
    for _ in range(args.repeats):  # interleaved, best of each: fair under a shared, noisy machine
        times["rlrec"].append(seconds(lambda: ours.encode(texts)))
        times["sentence-transformers"].append(
            seconds(lambda: theirs.encode(texts, batch_size=args.batch_size, show_progress_bar=False))
        )
    rate = {name: args.items / min(values) for name, values in times.items()}
    difference = (
        (ours.encode(texts[:256]) - theirs.encode(texts[:256], convert_to_tensor=True).cpu()).abs().max()
    )
    print(
        f"MiniLM on {args.items} item texts, batch {args.batch_size}, {torch.get_num_threads()} torch threads"
    )
    print(f"  rlrec TextEncoder.encode           {rate['rlrec']:8.1f} items/s")
    print(f"  SentenceTransformer.encode         {rate['sentence-transformers']:8.1f} items/s")
    print(f"  ratio (goal >= 1.0)                {rate['rlrec'] / rate['sentence-transformers']:8.2f}")
    print(f"  max |difference| of the vectors    {difference.item():8.1e}")

    with tempfile.TemporaryDirectory() as cache_dir:

        def build() -> ItemTextEncoder:
            return ItemTextEncoder(
                n_items=len(texts),
                item_texts=texts,
                cache_dir=cache_dir,
                model=MiniLMEncoderConfig.model,
                normalize=True,
                batch_size=args.batch_size,
                device="cpu",
            )

        cold = seconds(build)
        warm = min(seconds(build) for _ in range(3))
    print(f"item tower, empty cache (load + encode + store) {cold:8.2f} s")
    print(f"item tower, cache hit                           {warm:8.3f} s")
    print(f"  cache speed-up (goal >= 50)                   {cold / warm:8.1f} x")


if __name__ == "__main__":
    main()
