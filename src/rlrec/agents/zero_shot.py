"""A language model as the whole recommender, with no training (``algorithm=lm_zero_shot``):

    score(u, i) = cos(LM(profile_u), LM(text_i))

profile_u is the text of the user's last ``profile_items`` history items (oldest first) joined by
"; " into ``profile_template`` (rlrec.encoders.profile.UserProfileText renders and caches it);
LM(text_i) are the item tower's cached item vectors and the profiles go through the same language
model (``encoder=minilm``, ``bert``, ``gpt2`` or ``hybrid``; its projection is not used). The slate
is the top K with the usual masking, judged by the evaluation every agent gets (``trains = False``).
A user with no history yet has the empty profile "".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rlrec.agents.baselines import BaselineAgent
from rlrec.encoders.profile import UserProfileText
from rlrec.envs.base import Observation


class LMZeroShotAgent(BaselineAgent):
    """Cosine of the LM vectors of the user's profile text and of each item's text."""

    def __init__(
        self,
        item_encoder: nn.Module,
        n_items: int,
        slate_size: int,
        profile_items: int,
        profile_template: str,
        mask_consumed: bool,
        **unused,
    ) -> None:
        if not hasattr(item_encoder, "encode_texts"):
            encoder = getattr(item_encoder, "name", type(item_encoder).__name__)
            raise ValueError(
                f"algorithm=lm_zero_shot scores items with the item tower's language model, but "
                f"encoder={encoder} has none; use a language-model encoder (encoder=minilm, bert, gpt2 "
                "or hybrid)"
            )
        if profile_items < 1 or "{titles}" not in profile_template:
            raise ValueError(
                "algorithm.profile_items must be at least 1 and algorithm.profile_template must contain "
                f"{{titles}}, got {profile_items} and {profile_template!r}"
            )
        super().__init__(n_items, slate_size, mask_consumed, **unused)
        self.item_encoder = item_encoder  # a submodule: its LM item vectors move with the agent
        self.profiles: list[UserProfileText] = []  # built by prepare, from the dataset's item texts

    def prepare(self, env) -> None:
        texts = env.dataset.items["text"].to_list()
        # Rendering and the cache of encoded profiles only: its projection (out_dim 1) is not used.
        self.profiles = [
            UserProfileText(
                self.item_encoder, texts, 1, self.hparams.profile_items, self.hparams.profile_template
            )
        ]

    def scores(self, obs: Observation) -> torch.Tensor:
        if not self.profiles:
            raise RuntimeError("LMZeroShotAgent.prepare(env) must run before it scores (train does this)")
        profile = self.profiles[0]
        texts = profile.render(obs["history"].cpu(), obs["history_mask"].cpu())
        users = F.normalize(profile.text_vectors(texts).to(self.device), dim=-1)  # [B, lm_dim]
        items = F.normalize(self.item_encoder.embeddings, dim=-1)  # [n_items, lm_dim]
        return users @ items.T  # [B, n_items] cosine similarities
