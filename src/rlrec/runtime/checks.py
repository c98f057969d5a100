"""Value checks that name the config key, so a bad setting fails before any work."""

from __future__ import annotations


def require_positive(group: str, **values: int) -> None:
    """Raise ValueError naming ``<group>.<key>`` for the first value below 1."""
    for key, value in values.items():
        if value < 1:
            raise ValueError(f"{group}.{key} must be at least 1, got {value}")
