"""Structured configs of the `encoder/` group: one dataclass per choice, registered as schema/encoder/<name>."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING


@dataclass
class IdEncoderConfig:
    """Learned item-id embeddings: the baseline item tower g(item)."""

    _target_: str = "rlrec.encoders.id.IdItemEncoder"
    name: str = MISSING
    dim: int = 32


ENCODER_SCHEMAS: dict[str, Any] = {"id": IdEncoderConfig}
