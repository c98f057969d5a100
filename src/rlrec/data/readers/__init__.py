"""Readers: one per raw format. Each turns the files under ``dataset.path`` into a ``RawData``.

A reader only parses: ids stay the raw keys, events stay the raw names, and nothing is filtered;
cleaning, dense ids and splits happen in ``rlrec.data.preprocess`` and ``rlrec.data.split`` where
every removed row is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rlrec.data.readers.raw import RawData


def reader_for(format_name: str) -> Callable[..., RawData]:
    """The reader function of ``dataset.format`` (imported only when used)."""
    from rlrec.data.readers import amazon, custom, ecommerce, movielens

    readers: dict[str, Any] = {
        "movielens": movielens.read_movielens,
        "retailrocket": ecommerce.read_retailrocket,
        "taobao": ecommerce.read_taobao,
        "rees46": ecommerce.read_rees46,
        "amazon_reviews": amazon.read_amazon_reviews,
        "csv": custom.read_custom,
    }
    if format_name not in readers:
        raise ValueError(
            f"dataset.format={format_name!r} is not a known format; expected one of {sorted(readers)}"
        )
    return readers[format_name]


__all__ = ["RawData", "reader_for"]
