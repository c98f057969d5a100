"""On-disk cache of text embeddings: ``<cache_dir>/embeddings/<key>.safetensors`` plus ``<key>.json``.

The key hashes everything the vectors depend on (model name or folder, revision, a hash of the
model's config.json, pooling, max_length, dtype, normalisation, and the texts), so a hit is always
the same computation and a miss never overwrites another run's vectors. Writes are atomic
(temporary file + rename), so a crashed or concurrent run never leaves a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)


def texts_hash(texts: Sequence[str | None]) -> str:
    """sha256 over the texts in order (null and "" hash differently from each other and from "None")."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(b"\x00N" if text is None else b"\x00S" + text.encode("utf-8"))
    return digest.hexdigest()


def cache_key(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:24]


def embeddings_dir(cache_dir: str | os.PathLike) -> Path:
    return Path(cache_dir).expanduser() / "embeddings"


def load_embeddings(cache_dir: str | os.PathLike, key: str) -> torch.Tensor | None:
    """The cached [n, d] matrix for ``key``, or None on a miss."""
    from safetensors.torch import load_file

    path = embeddings_dir(cache_dir) / f"{key}.safetensors"
    return load_file(path)["embeddings"] if path.is_file() else None


def save_embeddings(
    cache_dir: str | os.PathLike, key: str, embeddings: torch.Tensor, inputs: dict[str, Any]
) -> Path:
    """Write ``<key>.safetensors`` and ``<key>.json`` (the key's inputs, for a human) atomically."""
    from safetensors.torch import save_file

    folder = embeddings_dir(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {**inputs, "shape": list(embeddings.shape)}
    for suffix, write in (
        (".json", lambda path: Path(path).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")),
        (".safetensors", lambda path: save_file({"embeddings": embeddings.contiguous()}, path)),
    ):
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key}", suffix=suffix)
        os.close(handle)
        try:
            write(tmp)
            os.replace(tmp, folder / f"{key}{suffix}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return folder / f"{key}.safetensors"


def cached_embeddings(
    cache_dir: str | os.PathLike, inputs: dict[str, Any], compute: Callable[[], torch.Tensor]
) -> tuple[torch.Tensor, str, bool]:
    """(embeddings, key, hit): load them for ``inputs`` or ``compute()`` and store them."""
    key = cache_key(inputs)
    embeddings = load_embeddings(cache_dir, key)
    if embeddings is not None:
        log.info(f"Embedding cache hit {key} {tuple(embeddings.shape)} in {embeddings_dir(cache_dir)}")
        return embeddings, key, True
    embeddings = compute()
    path = save_embeddings(cache_dir, key, embeddings, inputs)
    log.info(f"Embedding cache miss {key}: computed {tuple(embeddings.shape)}, saved to {path}")
    return embeddings, key, False
