"""User-profile text: the recent history rendered as a sentence and read by the language model.

A user whose last clicks were items A, B, C becomes "Recently watched: A; B; C" (titles, newest
last), encoded by the item tower's own language model (no gradient) and cached by the rendered
string, so a history seen before costs a dictionary lookup. Cost: one LM forward per new distinct
history (a batch of them per env step while histories change), plus the rendering in Python,
O(batch × n_recent) string joins per call.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

CACHE_SIZE = 50_000  # rendered profiles kept in memory (LRU); 50k × 384 floats ≈ 77 MB


class UserProfileText(nn.Module):
    """history ids [B, H] + mask [B, H] -> profile vectors [B, out_dim] via the language model."""

    def __init__(
        self,
        item_encoder: nn.Module,
        item_titles: Sequence[str | None],
        out_dim: int,
        n_recent: int = 5,
        template: str = "Recently watched: {titles}",
    ) -> None:
        super().__init__()
        if not hasattr(item_encoder, "encode_texts"):
            raise ValueError(
                f"state_encoder.profile_text=true reads the history as text with the item tower's language "
                f"model, but encoder={getattr(item_encoder, 'name', type(item_encoder).__name__)} has none; "
                "use a language-model encoder (encoder=minilm, bert or gpt2) or profile_text=false"
            )
        if n_recent < 1 or "{titles}" not in template:
            raise ValueError(
                "state_encoder.profile_items must be >= 1 and profile_template must contain {titles}"
            )
        self.item_encoder = [item_encoder]  # a list: not a second registered copy of the tower
        self.titles = [title or "" for title in item_titles]
        self.n_recent, self.template = n_recent, template
        self.projection = nn.Linear(item_encoder.text_dim, out_dim)
        self.cache: OrderedDict[str, torch.Tensor] = OrderedDict()

    def render(self, history: torch.Tensor, mask: torch.Tensor) -> list[str]:
        """One sentence per user from their last ``n_recent`` real items, oldest first."""
        rows = []
        for ids, real in zip(
            history[:, -self.n_recent :].tolist(), mask[:, -self.n_recent :].tolist(), strict=True
        ):
            titles = [self.titles[i] for i, keep in zip(ids, real, strict=True) if keep]
            rows.append(self.template.format(titles="; ".join(titles)) if titles else "")
        return rows

    def text_vectors(self, texts: list[str]) -> torch.Tensor:
        """Cached LM vectors of ``texts`` -> [B, lm_dim] on the CPU; new texts are encoded in one batch."""
        missing = list(dict.fromkeys(text for text in texts if text not in self.cache))
        if missing:
            for text, vector in zip(missing, self.item_encoder[0].encode_texts(missing), strict=True):
                self.cache[text] = vector
        for text in texts:
            self.cache.move_to_end(text)
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)
        return torch.stack([self.cache[text] for text in texts])

    def forward(self, history: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        vectors = self.text_vectors(self.render(history, mask)).to(self.projection.weight.device)
        return self.projection(vectors)  # [B, out_dim]
