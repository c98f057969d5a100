"""The statistics ``rlrec data prepare`` prints and stores beside a cached dataset."""

from __future__ import annotations

from typing import Any

import polars as pl


def dataset_stats(
    name: str, interactions: pl.DataFrame, n_users: int, n_items: int, steps: list[dict[str, Any]]
) -> dict[str, Any]:
    """Sizes, density, events per type, history lengths, split sizes and the cleaning account."""
    lengths = interactions.group_by("user_id").len()["len"]
    n = interactions.height
    events = interactions.group_by("event").len().sort("event")
    splits = interactions.group_by("split").len().sort("split") if "split" in interactions.columns else None
    return {
        "dataset": name,
        "users": n_users,
        "items": n_items,
        "interactions": n,
        "density": n / (n_users * n_items) if n_users and n_items else 0.0,
        "events": {str(event): int(count) for event, count in events.iter_rows()},
        "history_length": {
            "mean": float(lengths.mean()) if n else 0.0,
            "median": float(lengths.median()) if n else 0.0,
            "max": int(lengths.max()) if n else 0,
        },
        "splits": {str(split): int(count) for split, count in splits.iter_rows()}
        if splits is not None
        else {},
        "preprocessing": steps,
    }


def format_stats(stats: dict[str, Any]) -> str:
    """A plain-text table for the terminal."""
    history = stats["history_length"]
    rows = [
        ("users", f"{stats['users']:,}"),
        ("items", f"{stats['items']:,}"),
        ("interactions", f"{stats['interactions']:,}"),
        ("density", f"{stats['density']:.4%}"),
        *((f"events: {event}", f"{count:,}") for event, count in stats["events"].items()),
        ("history length mean", f"{history['mean']:.1f}"),
        ("history length median", f"{history['median']:.1f}"),
        ("history length max", f"{history['max']:,}"),
        *((f"split: {split}", f"{count:,}") for split, count in stats["splits"].items()),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"dataset {stats['dataset']}", *(f"  {label:<{width}}  {value:>14}" for label, value in rows)]
    steps = stats["preprocessing"]
    if steps:
        step_width = max(len(step["step"]) for step in steps)
        lines += ["", f"  {'preprocessing step':<{step_width}}  {'removed':>12}  {'remaining':>12}  detail"]
        lines += [
            f"  {s['step']:<{step_width}}  {s['removed']:>12,}  {s['remaining']:>12,}  {s['detail']}".rstrip()
            for s in steps
        ]
    return "\n".join(lines)
