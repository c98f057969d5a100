"""env=lm_user on CPU: the cost of LM-written feedback per 1,000 user-steps, against env=fitted alone.

    python bench/bench_lm_user.py [--data ../shared/data/ml-latest-small] [--user-steps 2048]
                                  [--layers 12 --width 768 --heads 12] [--max-new-tokens 24]

The user model is GPT-2 small's architecture (12 layers, width 768, vocabulary 50,257, 124 M
parameters) with random weights and a byte-level BPE tokenizer trained here on the item titles: no
weights can be downloaded on this machine, and generation costs the same whatever the weights
(every continuation runs to max_new_tokens, as untrained text never ends early). The classifier of
reward=text_feedback is the packaged MiniLM with a 2-label head. Both environments step the same
users with the same uniform-random slates; times in this process, so the ratio is what matters on a
shared machine. A second pass over the same steps reads every text from the disk cache.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch


def save_user_model(folder: Path, titles: list[str], layers: int, width: int, heads: int) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=8000,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(titles, trainer)
    eos = tokenizer.token_to_id("<|endoftext|>")
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    config = GPT2Config(n_embd=width, n_layer=layers, n_head=heads, bos_token_id=eos, eos_token_id=eos)
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def save_classifier(folder: Path, minilm: str) -> Path:
    """The packaged MiniLM with a (random) negative/positive head: a sentiment classifier's cost."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    labels = {0: "negative", 1: "positive"}
    model = AutoModelForSequenceClassification.from_pretrained(
        minilm, num_labels=2, id2label=labels, label2id={v: k for k, v in labels.items()}
    )
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(minilm).save_pretrained(folder)
    return folder


def run(env, steps: int, seed: int) -> tuple[float, int]:
    """``steps`` batched steps of uniform-random slates from a fixed reset: (seconds, clicks)."""
    from rlrec.envs.rollout import random_slates

    env.seed(seed)
    generator = torch.Generator().manual_seed(seed)
    clicks, started = 0, time.perf_counter()
    env.reset(env.sample_users(env.num_envs))
    for _ in range(steps):
        _, _, done, info = env.step(random_slates(env.num_envs, env.n_items, env.slate_size, generator))
        clicks += int((info["clicked_position"] >= 0).sum())
        if done.all():
            env.reset(env.sample_users(env.num_envs))
    return time.perf_counter() - started, clicks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="../shared/data/ml-latest-small")
    parser.add_argument("--user-steps", type=int, default=2048, help="users × steps simulated per pass")
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--width", type=int, default=768)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from rlrec.config import config_dir, register_configs
    from rlrec.encoders.config import MiniLMEncoderConfig
    from rlrec.encoders.text import resolve_model

    work = Path(tempfile.mkdtemp(prefix="bench-lm-user-"))
    register_configs()
    common = [
        "dataset=movielens", f"dataset.path={Path(args.data).resolve()}", f"paths.cache_dir={work / 'cache'}",
        f"env.num_envs={args.num_envs}", "env.slate_size=10",
    ]  # fmt: skip
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        fitted_cfg = compose("config", overrides=[*common, "env=fitted"])
        dataset = instantiate(fitted_cfg.dataset)
        user_model = save_user_model(
            work / "user-lm",
            dataset.items["title"].drop_nulls().to_list(),
            args.layers,
            args.width,
            args.heads,
        )
        classifier = save_classifier(work / "classifier", resolve_model(MiniLMEncoderConfig.model)[0])
        lm_cfg = compose(
            "config",
            overrides=[
                *common, "env=lm_user", "reward=text_feedback", f"reward.model={classifier}",
                f"env.user_model={user_model}",
                f"env.max_new_tokens={args.max_new_tokens}", f"env.generation_batch_size={args.batch_size}",
            ],
        )  # fmt: skip
    steps = max(1, args.user_steps // args.num_envs)
    user_steps = steps * args.num_envs
    fitted = instantiate(fitted_cfg.env, _partial_=True)(
        dataset=dataset, reward=instantiate(fitted_cfg.reward), seed=0
    )
    lm_user = instantiate(lm_cfg.env, _partial_=True)(
        dataset=dataset, reward=instantiate(lm_cfg.reward), seed=0
    )
    parameters = sum(p.numel() for p in lm_user.writer.model.parameters()) / 1e6
    base_s, base_clicks = run(fitted, steps, seed=1)
    cold_s, clicks = run(lm_user, steps, seed=1)
    generated, calls = lm_user.writer.generated, lm_user.writer.generate_calls
    warm_s, _ = run(lm_user, steps, seed=1)
    per_k = 1000 / user_steps
    print(
        f"{user_steps} user-steps ({steps} steps of {args.num_envs} users, slates of 10), "
        f"{torch.get_num_threads()} torch threads; user LM {parameters:.0f} M parameters, "
        f"{args.max_new_tokens} new tokens, generate batches of {args.batch_size}"
    )
    print(
        f"clicks (texts asked for): {clicks} (env=fitted alone: {base_clicks}); generated {generated} in {calls} calls"
    )
    print(f"env=fitted          {base_s * per_k:9.2f} s per 1,000 user-steps")
    print(
        f"env=lm_user, cold   {cold_s * per_k:9.2f} s per 1,000 user-steps  ({cold_s / base_s:,.0f} × fitted)"
    )
    print(
        f"env=lm_user, cached {warm_s * per_k:9.2f} s per 1,000 user-steps  ({warm_s / base_s:,.1f} × fitted); "
        f"generated {lm_user.writer.generated - generated} more"
    )
    print(f"per generated text: {cold_s / max(generated, 1) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
