"""An LM-simulated user (``env=lm_user``): the fitted simulator's clicks, plus a feedback text that a
causal language model writes for each item a user clicks, read by ``reward=text_feedback``.

Each step the fitted response model (rlrec.envs.fitted) decides who clicks what; for every clicked
item a prompt is built from the user's recent history and the item's text,

    prompt = prompt_template.format(history="A; B; C", item="<the clicked item's text>")

and the causal LM (``env.user_model``: any local folder or hub name, ``AutoModelForCausalLM``, remote
code never run) continues it with at most ``max_new_tokens`` tokens. The continuation is the user's
feedback; the text-feedback reward's classifier turns it into ``rewards["text"]`` (weight
``reward.weights.text``), so the total is the fitted behaviours' weighted sum plus that text term. A
step without a click has no text (text reward 0).

Cost and caching: prompts of a step are generated in batches of ``generation_batch_size`` (left
padding, one ``generate`` call per batch). Every generated text is stored under its prompt's SHA-256
in ``<cache_dir>/lm_user/<key>.jsonl``, the key hashing the model, its revision and every generation
setting, so an identical run (the same seed gives the same prompts) calls ``generate`` 0 times. A
prompt's text is therefore fixed once written: the simulated user answers the same situation the
same way (greedy decoding by default; with ``do_sample`` the draw is seeded by ``generation_seed``
and the batch index). ``lm_user_generated`` and ``lm_user_cached`` in each evaluation count texts
generated and read from the cache by the evaluation environment's user so far.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import torch

from rlrec.envs.base import Policy
from rlrec.envs.fitted import FittedRecEnv

log = logging.getLogger(__name__)

CACHE_VERSION = "lm-user-v1"


class FeedbackWriter:
    """prompts -> feedback texts from a causal LM, batched, cached on disk by prompt hash."""

    def __init__(
        self,
        model: str,
        revision: str | None,
        max_new_tokens: int,
        do_sample: bool,
        temperature: float,
        top_p: float,
        batch_size: int,
        max_prompt_tokens: int,
        seed: int,
        device: str,
        cache_dir: str | None,
    ) -> None:
        if max_new_tokens < 1 or batch_size < 1 or max_prompt_tokens < 1:
            raise ValueError(
                "env.max_new_tokens, env.generation_batch_size and env.max_prompt_tokens must be at "
                f"least 1, got {max_new_tokens}, {batch_size}, {max_prompt_tokens}"
            )
        if do_sample and (temperature <= 0 or not 0 < top_p <= 1):
            raise ValueError(
                f"env.temperature must be > 0 and env.top_p in (0, 1] when sampling, got {temperature}, {top_p}"
            )
        self.tokenizer, self.model, location = _load_causal_lm(model, revision, device)
        positions = getattr(self.model.config, "max_position_embeddings", None) or getattr(
            self.model.config, "n_positions", None
        )
        if positions is not None:  # prompt + continuation must fit the model's positions
            if positions <= max_new_tokens:
                raise ValueError(
                    f"env.max_new_tokens={max_new_tokens} leaves no room for a prompt in {location!r}, "
                    f"which reads at most {positions} tokens"
                )
            max_prompt_tokens = min(max_prompt_tokens, positions - max_new_tokens)
        self.settings = {
            "max_new_tokens": max_new_tokens,
            "do_sample": do_sample,
            "max_prompt_tokens": max_prompt_tokens,
            **({"temperature": temperature, "top_p": top_p, "seed": seed} if do_sample else {}),
        }
        self.batch_size, self.seed = batch_size, seed
        source = json.dumps([CACHE_VERSION, location, revision, self.settings], sort_keys=True)
        self.key = hashlib.sha256(source.encode()).hexdigest()[:16]
        self.texts: dict[str, str] = {}  # prompt hash -> feedback text
        self.path = Path(cache_dir).expanduser() / "lm_user" / f"{self.key}.jsonl" if cache_dir else None
        if self.path is not None and self.path.is_file():
            self.texts = _read_cache(self.path)
            log.info(f"LM user: {len(self.texts)} cached feedback texts from {self.path}")
        self.generated = 0  # texts this writer generated (cache misses)
        self.cached = 0  # prompts answered without generating (cache, or a repeat in the same call)
        self.generate_calls = 0  # model.generate calls

    def __call__(self, prompts: Sequence[str]) -> list[str]:
        hashes = [hashlib.sha256(prompt.encode()).hexdigest() for prompt in prompts]
        missing = {h: p for h, p in zip(hashes, prompts, strict=True) if h not in self.texts}
        self.cached += len(prompts) - len(missing)  # generated + cached = prompts answered
        if missing:
            order = sorted(missing, key=lambda h: len(missing[h]))  # similar lengths share a batch
            new = {}
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                new |= dict(zip(batch, self._generate([missing[h] for h in batch]), strict=True))
            self.texts |= new
            self.generated += len(new)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as file:  # one line per text: no rewrite
                    for h, text in new.items():
                        file.write(json.dumps({"prompt_sha256": h, "text": text}) + "\n")
        return [self.texts[h] for h in hashes]

    @torch.no_grad()
    def _generate(self, prompts: list[str]) -> list[str]:
        device = next(self.model.parameters()).device
        tokens = self.tokenizer(
            prompts,
            padding=True,
            truncation=True,
            max_length=self.settings["max_prompt_tokens"],
            return_tensors="pt",
        ).to(device)
        options = {"max_new_tokens": self.settings["max_new_tokens"], "do_sample": self.settings["do_sample"]}
        if self.settings["do_sample"]:
            options |= {"temperature": self.settings["temperature"], "top_p": self.settings["top_p"]}
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(self.seed + self.generate_calls)  # sampling only; the run's RNG is untouched
            output = self.model.generate(
                **tokens, **options, pad_token_id=self.tokenizer.pad_token_id
            )  # [b, prompt + new]
        self.generate_calls += 1
        new_tokens = output[:, tokens["input_ids"].shape[1] :]
        return [text.strip() for text in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


class LMUserEnv(FittedRecEnv):
    """``env=lm_user``: FittedRecEnv whose clicked items also get an LM-written feedback text."""

    def __init__(
        self,
        dataset,
        reward=None,
        *,
        user_model: str,
        revision: str | None,
        prompt_template: str,
        profile_items: int,
        max_new_tokens: int,
        do_sample: bool,
        temperature: float,
        top_p: float,
        generation_batch_size: int,
        max_prompt_tokens: int,
        generation_seed: int,
        generation_device: str,
        **fitted,
    ) -> None:
        super().__init__(dataset, reward, **fitted)
        name = self.name
        if "text" not in self.reward.weights or self.reward.weights["text"] == 0:
            raise ValueError(
                f"env={name} writes feedback texts for reward=text_feedback to score, but the reward "
                f"{self.reward.name!r} gives them no weight (reward.weights.text); use reward=text_feedback"
            )
        for field in ("{history}", "{item}"):
            if field not in prompt_template:
                raise ValueError(f"env.prompt_template must contain {field}, got {prompt_template!r}")
        if profile_items < 1:
            raise ValueError(f"env.profile_items must be at least 1, got {profile_items}")
        self.prompt_template, self.profile_items = prompt_template, profile_items
        items = dataset.items.sort("item_id")
        titles = items["title"].to_list()
        texts = items["text"].to_list()
        self.item_titles = [t if t else f"Item {i}" for i, t in enumerate(titles)]
        self.item_texts = [x if x else self.item_titles[i] for i, x in enumerate(texts)]
        self.writer = FeedbackWriter(
            user_model,
            revision,
            max_new_tokens,
            do_sample,
            temperature,
            top_p,
            generation_batch_size,
            max_prompt_tokens,
            generation_seed,
            generation_device,
            fitted.get("cache_dir"),
        )

    def prompts(self, rows: torch.Tensor, items: torch.Tensor) -> list[str]:
        """The prompt of each of ``rows`` (indices into the batch) for its ``items`` [len(rows)]."""
        history, mask = self._history[rows], self._mask[rows]  # [n, H], newest last
        prompts = []
        for ids, keep, item in zip(history.tolist(), mask.tolist(), items.tolist(), strict=True):
            recent = [self.item_titles[i] for i, k in zip(ids, keep, strict=True) if k][-self.profile_items :]
            prompts.append(
                self.prompt_template.format(
                    history="; ".join(recent) or "nothing yet", item=self.item_texts[item]
                )
            )
        return prompts

    def rewards(self, outcomes, clicked, clicked_item):
        texts: list[str | None] = [None] * len(clicked)
        rows = clicked.nonzero().squeeze(1)
        if len(rows):
            for row, text in zip(
                rows.tolist(), self.writer(self.prompts(rows, clicked_item[rows])), strict=True
            ):
                texts[row] = text
        return self.reward(outcomes, text=texts)

    @torch.no_grad()
    def evaluate(self, policy: Policy, users: torch.Tensor, seed: int) -> dict[str, float]:
        metrics = super().evaluate(policy, users, seed)
        return metrics | {
            "lm_user_generated": float(self.writer.generated),
            "lm_user_cached": float(self.writer.cached),
        }

    def protocol(self) -> dict:
        return super().protocol() | {
            "user_model": self.writer.key,
            "feedback": "causal-LM text for each clicked item, scored by reward=text_feedback",
        }


def _read_cache(path: Path) -> dict[str, str]:
    texts = {}
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            try:
                entry = json.loads(line)
                texts[entry["prompt_sha256"]] = entry["text"]
            except (json.JSONDecodeError, KeyError, TypeError):  # a line cut by a killed run: skip it
                log.warning(f"LM user cache {path}: line {number} is not a complete entry; ignored")
    return texts


def _load_causal_lm(model: str, revision: str | None, device: str):
    from transformers import AutoModelForCausalLM

    from rlrec.envs.text_reward import load_pretrained_pair

    # left padding and truncation: a long prompt loses its oldest history, never the item or the cue
    return load_pretrained_pair(
        AutoModelForCausalLM, model, revision, device, "env.user_model", "the LM user (causal LM)",
        padding_side="left", truncation_side="left",
    )  # fmt: skip
