"""The hybrid item tower: a language-model vector of the item's text plus an id embedding for items
the agent can learn one for.

    g(item) = W · e(item) + m_item · E[item]        m_item = 1[item has a train-split interaction]

e and W are those of ``ItemTextEncoder`` (cached LM vectors, frozen or partly fine-tuned, and a
learned projection). E is a learned id embedding, multiplied by the mask m in every forward, so an
item never seen in training (a cold item) gets exactly W · e(item): its text alone places it. The
mask also zeroes E's gradient on those rows, and they start at zero, so they stay exactly zero
through any optimiser step (with or without weight decay). ``id_init_std = 0`` (the default) starts
every item at its text vector; trained items then learn their offsets from it.

``id_dropout = p`` is DropoutNet's input dropout (Volkovs et al., NeurIPS 2017, sec. 4): in every
training forward (module in train mode, gradients on) each trained item's id part is dropped with
probability p, independently per row of the catalogue and per history position, and not rescaled,
so W · e alone must score the item the way W · e + E does. Without it the projection W is never
asked to rank on its own: the id offsets carry the trained items and a cold item, which has only
W · e, sits below every warm one. Evaluation (no gradients, or eval mode) uses every id part.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import nn

from rlrec.encoders.item_text import ItemTextEncoder

log = logging.getLogger(__name__)


class HybridItemEncoder(nn.Module):
    """g(item) = W · e(item) + m_item · E[item]; ``language_model`` are ItemTextEncoder's settings."""

    def __init__(
        self,
        n_items: int,
        item_texts: Sequence[str | None],
        cache_dir: str,
        trained_items: torch.Tensor,
        dim: int,
        id_init_std: float,
        id_dropout: float,
        name: str = "hybrid",
        **language_model,
    ) -> None:
        super().__init__()
        trained = torch.as_tensor(trained_items, dtype=torch.bool)
        if trained.shape != (n_items,):
            raise ValueError(
                f"trained_items must be a [{n_items}] bool mask, got shape {tuple(trained.shape)}"
            )
        if id_init_std < 0:
            raise ValueError(f"encoder.id_init_std must be at least 0, got {id_init_std}")
        if not 0.0 <= id_dropout < 1.0:
            raise ValueError(f"encoder.id_dropout must be in [0, 1), got {id_dropout}")
        self.id_dropout = id_dropout
        self.name, self.dim = name, dim
        self.text = ItemTextEncoder(n_items, item_texts, cache_dir, dim=dim, name=name, **language_model)
        self.register_buffer("trained", trained)  # [n_items] bool: m, saved with the checkpoint
        self.id_embedding = nn.Embedding(n_items, dim)  # E [n_items, dim]
        with torch.no_grad():
            nn.init.normal_(self.id_embedding.weight, std=id_init_std)
            self.id_embedding.weight[~trained] = 0.0
        n_trained = int(trained.sum())
        log.info(
            f"Hybrid item tower: {n_trained} of {n_items} items have train interactions and an id "
            f"embedding; the other {n_items - n_trained} are placed by their text alone"
        )

    def forward(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """Vectors of ``items`` (any shape) -> [..., dim]; all items -> [n_items, dim]."""
        ids = self.id_embedding.weight if items is None else self.id_embedding(items)  # [..., dim]
        mask = self.trained if items is None else self.trained[items]  # [...]
        if self.id_dropout > 0 and self.training and torch.is_grad_enabled():
            kept = torch.rand(mask.shape, device=mask.device) >= self.id_dropout  # [...]
            mask = mask & kept
        return self.text(items) + ids * mask.unsqueeze(-1).to(ids.dtype)

    # -- the text tower's interface, so profile texts, `rlrec encode` and lm_zero_shot read it too --
    def encode_texts(self, texts: Sequence[str | None]) -> torch.Tensor:
        """Any texts -> [n, lm_dim] LM vectors on the CPU, without gradients."""
        return self.text.encode_texts(texts)

    @property
    def embeddings(self) -> torch.Tensor:
        return self.text.embeddings  # [n_items, lm_dim] the items' LM vectors e

    @property
    def text_dim(self) -> int:
        return self.text.text_dim

    @property
    def cache_key(self) -> str:
        return self.text.cache_key

    @property
    def cache_hit(self) -> bool:
        return self.text.cache_hit


def train_split_items(dataset) -> torch.Tensor:
    """[n_items] bool: True for items with at least one interaction in ``dataset.split("train")``."""
    item_ids = torch.from_numpy(dataset.split("train")["item_id"].to_numpy().astype("int64"))
    trained = torch.zeros(dataset.n_items, dtype=torch.bool)
    trained[item_ids] = True
    return trained
