"""The prepared-dataset cache: one folder of parquet files per (raw files, loader and cleaning config).

``<cache_dir>/datasets/<name>-<key>/`` holds interactions.parquet (with the split), items.parquet,
user_map.parquet and item_map.parquet (dense id -> raw key), users.parquet where the format has
user features, stats.json and config.json. An entry is written into a temporary folder and renamed
into place, so a failed or interrupted load leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

CACHE_VERSION = 1  # bump when the prepared layout or a reader's output changes
TABLES = ("interactions", "items", "user_map", "item_map", "users")


def cache_key(files: list[Path], config: dict[str, Any]) -> str:
    """Hash of the raw files (name, size, modification time) and everything that shapes the result."""
    fingerprints = []
    for file in sorted(files):
        stat = file.stat()
        fingerprints.append([str(file.resolve()), stat.st_size, stat.st_mtime_ns])
    payload = json.dumps([CACHE_VERSION, fingerprints, config], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def entry_path(cache_dir: str | Path, name: str, key: str) -> Path:
    return Path(cache_dir).expanduser() / "datasets" / f"{name}-{key}"


def read_entry(entry: Path) -> dict[str, Any] | None:
    """The cached tables and stats, or None when the entry does not exist (or is incomplete)."""
    if not (entry / "stats.json").is_file():
        return None
    tables: dict[str, Any] = {
        table: pl.read_parquet(entry / f"{table}.parquet")
        for table in TABLES
        if (entry / f"{table}.parquet").is_file()
    }
    tables["stats"] = json.loads((entry / "stats.json").read_text())
    return tables


def write_entry(entry: Path, tables: dict[str, pl.DataFrame | None], stats: dict, config: dict) -> None:
    """Write all tables, then the stats, into a temporary folder and rename it to ``entry``."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
    try:
        for table, frame in tables.items():
            if frame is not None:
                frame.write_parquet(staging / f"{table}.parquet")
        (staging / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True, default=str))
        (staging / "stats.json").write_text(json.dumps(stats, indent=2))
        try:
            os.replace(staging, entry)
        except OSError:  # another process wrote the same entry first: theirs is identical
            if not (entry / "stats.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
