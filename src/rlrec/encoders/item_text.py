"""The language-model item tower: g(item) = W · LM(text(item)), frozen (cached) or partly fine-tuned."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import torch
from torch import nn

from rlrec.encoders.cache import cached_embeddings, texts_hash
from rlrec.encoders.text import TextEncoder, load_language_model, model_fingerprint, resolve_model

log = logging.getLogger(__name__)


class SharedTextEncoder:
    """Loads the language model on first use; ``deepcopy`` (a target network) shares it, not copies it."""

    def __init__(self, load: Callable[[], TextEncoder]) -> None:
        self._load, self._encoder = load, None

    def get(self) -> TextEncoder:
        if self._encoder is None:
            self._encoder = self._load()
        return self._encoder

    def __deepcopy__(self, memo) -> SharedTextEncoder:
        return self


def transformer_layers(model: nn.Module) -> nn.ModuleList:
    """The model's stack of transformer blocks: its longest ModuleList of same-class modules."""
    stacks = [
        module
        for module in model.modules()
        if isinstance(module, nn.ModuleList) and len(module) and len({type(m) for m in module}) == 1
    ]
    if not stacks:
        raise ValueError(f"found no stack of transformer layers in {type(model).__name__}")
    return max(stacks, key=len)


class ItemTextEncoder(nn.Module):
    """g(item) = W · e(item), e(item) the pooled language-model vector of the item's text.

    Frozen (default): e is computed once per catalogue, cached on disk (``cache_key``), and kept as
    a buffer; only the projection W (LM width -> ``dim``, the agent's width) learns.

    ``finetune=true``: the top ``trainable_layers`` transformer blocks also learn, in the agent's
    optimiser. Each training forward re-encodes the next ``finetune_items_per_step`` item texts
    (cycling through the catalogue) through the language model with gradients, and refreshes their
    rows of the table; the other rows come from the table (the last vectors computed for them).
    Cost: one LM forward + backward through the top layers over that many texts per training step.
    Dropout stays off in the language model, so the table and a fresh encode agree.
    """

    def __init__(
        self,
        n_items: int,
        item_texts: Sequence[str | None],
        cache_dir: str,
        model: str,
        name: str = "text",
        revision: str | None = None,
        pooling: str = "mean",
        normalize: bool = False,
        max_length: int = 256,
        batch_size: int = 64,
        dtype: str = "float32",
        device: str = "auto",
        padding_side: str | None = None,
        trust_remote_code: bool = False,
        dim: int = 32,
        finetune: bool = False,
        trainable_layers: int = 2,
        finetune_items_per_step: int = 256,
    ) -> None:
        super().__init__()
        if len(item_texts) != n_items:
            raise ValueError(f"got {len(item_texts)} item texts for {n_items} items")
        self.name, self.dim, self.finetune = name, dim, finetune
        location, is_local = resolve_model(model)  # fails clearly before any work

        def load() -> TextEncoder:
            tokenizer, language_model = load_language_model(
                model, revision, trust_remote_code, dtype, device, padding_side
            )
            return TextEncoder(tokenizer, language_model, pooling, max_length, batch_size, dtype, normalize)

        self.shared = SharedTextEncoder(load)
        fingerprint = model_fingerprint(location, is_local, revision)
        if fingerprint is None:  # a hub model not on disk yet: load (download) it, so the key is stable
            self.shared.get()
            fingerprint = model_fingerprint(location, is_local, revision)
        self.cache_inputs = {
            "model": location,
            "revision": revision,
            "model_config_sha256": fingerprint,
            "pooling": pooling,
            "normalize": normalize,
            "max_length": max_length,
            "dtype": dtype,
            "texts_sha256": texts_hash(item_texts),
            "n_texts": n_items,
        }
        log.info(f"Encoding {n_items} item texts with <{location}> ({pooling} pooling)")
        embeddings, self.cache_key, self.cache_hit = cached_embeddings(
            cache_dir, self.cache_inputs, lambda: self.shared.get().encode(item_texts)
        )
        self.register_buffer("embeddings", embeddings)  # [n_items, lm_dim]
        self.projection = nn.Linear(embeddings.shape[1], dim)
        if finetune:
            self._setup_finetune(item_texts, trainable_layers, finetune_items_per_step)

    def _setup_finetune(self, item_texts: Sequence[str | None], trainable_layers: int, per_step: int) -> None:
        text_encoder = self.shared.get()
        self.language_model = text_encoder.model  # a submodule: trained, checkpointed, moved with the agent
        layers = transformer_layers(self.language_model)
        if not 1 <= trainable_layers <= len(layers):
            raise ValueError(
                f"encoder.trainable_layers must be in [1, {len(layers)}], got {trainable_layers}"
            )
        if per_step < 1:
            raise ValueError(f"encoder.finetune_items_per_step must be positive, got {per_step}")
        self.language_model.requires_grad_(False)
        for layer in layers[-trainable_layers:]:
            layer.requires_grad_(True)
        n_trainable = sum(p.numel() for p in self.language_model.parameters() if p.requires_grad)
        log.info(
            f"Fine-tuning the top {trainable_layers} of {len(layers)} layers ({n_trainable:,} parameters)"
        )
        self.text_encoder = text_encoder
        self.item_token_ids = text_encoder.tokenize(item_texts)
        self.items_per_step = per_step
        self.register_buffer("cursor", torch.zeros((), dtype=torch.long))  # next item to re-encode

    def train(self, mode: bool = True) -> ItemTextEncoder:
        super().train(mode)
        if self.finetune:
            self.language_model.eval()  # no dropout: deterministic vectors
        return self

    def encode_texts(self, texts: Sequence[str | None]) -> torch.Tensor:
        """Any texts (e.g. rendered user profiles) -> [n, lm_dim] on the CPU, without gradients."""
        return (self.text_encoder if self.finetune else self.shared.get()).encode(texts)

    @property
    def text_dim(self) -> int:
        return int(self.embeddings.shape[1])

    def _fresh_table(self) -> torch.Tensor:
        """The table with the next chunk of items re-encoded through the LM (with gradients)."""
        n_items = len(self.embeddings)
        count = min(self.items_per_step, n_items)
        chunk = (self.cursor + torch.arange(count, device=self.cursor.device)) % n_items  # [m]
        self.cursor.copy_((self.cursor + count) % n_items)
        rows = chunk.tolist()
        size = self.text_encoder.batch_size
        fresh = torch.cat(
            [
                self.text_encoder.forward_ids([self.item_token_ids[i] for i in rows[start : start + size]])
                for start in range(0, len(rows), size)
            ]
        ).to(self.embeddings.device)  # [m, lm_dim], differentiable w.r.t. the trainable layers
        chunk = chunk.to(self.embeddings.device)
        self.embeddings[chunk] = fresh.detach()
        return self.embeddings.index_put((chunk,), fresh)  # out of place: gradients reach `fresh`

    def forward(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """Vectors of ``items`` (any shape) -> [..., dim]; all items -> [n_items, dim]."""
        if self.finetune and self.training and torch.is_grad_enabled():
            table = self._fresh_table()  # [n_items, lm_dim]
        else:
            table = self.embeddings
        return self.projection(table if items is None else table[items])
