"""Text-feedback reward (``reward=text_feedback``): a sentiment classifier reads the review or feedback
text attached to an interaction and turns it into a reward term.

    text_reward = Σ_l P(label l | text) · label_rewards[l]     (scoring: expected)
                = label_rewards[argmax_l P(l | text)]           (scoring: argmax)
    total       = Σ_b weight[b] · outcome[b] + weight["text"] · text_reward

The classifier is any ``transformers`` AutoModelForSequenceClassification (local folder or hub name,
``reward.model``; remote code is never run). Labels missing from ``reward.label_rewards`` are worth 0;
an interaction without text gets 0. Each distinct text is scored once and remembered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch

from rlrec.envs.rewards import WeightedReward

log = logging.getLogger(__name__)

SCORINGS = ("expected", "argmax")


class TextFeedbackReward(WeightedReward):
    def __init__(
        self,
        *,
        model: str,
        label_rewards: dict[str, float],
        weights: dict[str, float] | None,
        scoring: str,
        batch_size: int,
        max_length: int,
        revision: str | None,
        device: str,
        rating_mode: str,
        rating_threshold: float,
        rating_min: float,
        rating_max: float,
        name: str,
    ) -> None:
        super().__init__(
            weights=weights
            if weights is not None
            else {"click": 0.2, "cart": 0.5, "purchase": 1.0, "rating": 1.0, "text": 1.0},
            rating_mode=rating_mode,
            rating_threshold=rating_threshold,
            rating_min=rating_min,
            rating_max=rating_max,
            name=name,
        )
        if scoring not in SCORINGS:
            raise ValueError(f"reward.scoring must be one of {SCORINGS}, got {scoring!r}")
        if batch_size < 1 or max_length < 1:
            raise ValueError(
                f"reward.batch_size and reward.max_length must be at least 1, got {batch_size}, {max_length}"
            )
        self.scoring, self.batch_size, self.max_length = scoring, batch_size, max_length
        self.tokenizer, self.classifier = _load_classifier(model, revision, device)
        self.label_values = _label_values(self.classifier.config.id2label, label_rewards)  # [n_labels]
        self.cache: dict[str, float] = {}

    def check_tasks(self, tasks: tuple[str, ...], env_name: str) -> None:
        super().check_tasks((*tasks, "text"), env_name)

    def score(self, texts: Sequence[str]) -> torch.Tensor:
        """[n] text reward of each (non-empty) text, from the cache or the classifier in batches."""
        new = sorted({text for text in texts if text not in self.cache}, key=len)  # similar lengths together
        device = next(self.classifier.parameters()).device
        for start in range(0, len(new), self.batch_size):
            batch = new[start : start + self.batch_size]
            tokens = self.tokenizer(
                batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            ).to(device)
            with torch.inference_mode():
                probabilities = self.classifier(**tokens).logits.float().softmax(-1).cpu()  # [b, n_labels]
            if self.scoring == "expected":
                values = probabilities @ self.label_values
            else:
                values = self.label_values[probabilities.argmax(-1)]
            self.cache.update(zip(batch, values.tolist(), strict=True))
        return torch.tensor([self.cache[text] for text in texts], dtype=torch.float32)

    def __call__(
        self,
        outcomes: dict[str, torch.Tensor],
        rating: torch.Tensor | None = None,
        text: list[str | None] | None = None,
    ) -> dict[str, torch.Tensor]:
        """The weighted reward plus ``rewards["text"]`` ([B], 0 where there is no text)."""
        batch = len(next(iter(outcomes.values())))
        value = torch.zeros(batch)
        if text is not None:
            if len(text) != batch:
                raise ValueError(f"reward: {len(text)} texts for a batch of {batch} outcomes")
            rows = [i for i, t in enumerate(text) if isinstance(t, str) and t.strip()]
            if rows:
                value[rows] = self.score([text[i] for i in rows])
        return super().__call__({**outcomes, "text": value}, rating=rating)


def _load_classifier(model: str, revision: str | None, device: str):
    from transformers import AutoModelForSequenceClassification

    tokenizer, classifier, _ = load_pretrained_pair(
        AutoModelForSequenceClassification, model, revision, device, "reward.model", "classifier"
    )
    if classifier.config.pad_token_id is None:
        classifier.config.pad_token_id = tokenizer.pad_token_id  # GPT-style models find the last real token
    return tokenizer, classifier


def load_pretrained_pair(
    auto_class, model: str, revision: str | None, device: str, key: str, what: str, **tokenizer_options
):
    """(tokenizer with a pad token, ``auto_class`` model in eval mode on ``device``, its location) from a
    local folder or hub name, remote code never run; a model that cannot be found or loaded is a
    LanguageModelNotFound naming ``key``."""
    from transformers import AutoTokenizer

    from rlrec.encoders.text import LanguageModelNotFound, pick_device, resolve_model

    try:
        location, is_local = resolve_model(model)
    except LanguageModelNotFound as error:
        raise LanguageModelNotFound(f"{key}={model!r}: {error}") from error
    where = pick_device(device)
    log.info(f"Loading {what} <{location}> on {where}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            location, revision=revision, trust_remote_code=False, **tokenizer_options
        )
        loaded = auto_class.from_pretrained(location, revision=revision, trust_remote_code=False)
    except (OSError, ValueError) as error:
        where_from = "the folder" if is_local else "the hub (or the local hub cache; offline?)"
        raise LanguageModelNotFound(
            f"{key}: could not load {what} {location!r} from {where_from}: {error}"
        ) from error
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(f"{key}: tokenizer of {location!r} has neither a pad nor an end-of-text token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, loaded.to(where).eval(), location


def _label_values(id2label: dict[int, str], label_rewards: dict) -> torch.Tensor:
    """[n_labels] reward per label index from a map keyed by label name or index (0 where unmapped)."""
    names = {str(label).lower(): int(index) for index, label in id2label.items()}
    values = torch.zeros(len(id2label))
    for key, reward in label_rewards.items():
        text = str(key)
        if text.lower() in names:
            index = names[text.lower()]
        elif text.lstrip("-").isdigit() and 0 <= int(text) < len(id2label):
            index = int(text)
        else:
            labels = [f"{i}: {id2label[i]}" for i in sorted(id2label)]
            raise ValueError(
                f"reward.label_rewards names {key!r}, which is not a label of the classifier; its labels "
                f"are {labels} (by name or index)"
            )
        values[index] = float(reward)
    return values
