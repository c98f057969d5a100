"""Learning curves from metrics.parquet: per group, the mean over seeds with a ± std band."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from rlrec.report.aggregate import Group


def curve_filename(metric: str) -> str:
    """``eval/hr@10`` -> ``curves_eval_hr_at_10.png``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", metric.replace("@", "_at_"))
    return f"curves_{safe}.png"


def group_curve(group: Group, metric: str) -> pl.DataFrame:
    """Columns step, mean, std, n: over the group's runs that logged ``metric`` (std 0 for one run)."""
    frames = []
    for run in group.runs:
        path = run.path / "metrics.parquet"
        if path.is_file():
            frame = pl.read_parquet(path).filter(pl.col("metric") == metric)
            # a step logged twice (e.g. an eval at the last step) counts once per run: its last value
            frames.append(
                frame.group_by("step").agg(pl.col("value").last()).with_columns(run=pl.lit(str(run.path)))
            )
    if not frames:
        return pl.DataFrame(schema={"step": pl.Int64, "mean": pl.Float64, "std": pl.Float64, "n": pl.UInt32})
    return (
        pl.concat(frames)
        .group_by("step")
        .agg(mean=pl.col("value").mean(), std=pl.col("value").std(ddof=1).fill_null(0.0), n=pl.len())
        .sort("step")
    )


def plot_curves(groups: list[Group], metric: str, out_dir: Path) -> Path | None:
    """Save ``curves_<metric>.png``; None when no run logged the metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = [(group, group_curve(group, metric)) for group in groups]
    curves = [(group, curve) for group, curve in curves if curve.height]
    if not curves:
        return None
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for group, curve in curves:
        steps, mean, std = curve["step"].to_numpy(), curve["mean"].to_numpy(), curve["std"].to_numpy()
        (line,) = axes.plot(
            steps, mean, marker="o", markersize=3, label=f"{group.label} (n={len(group.runs)})"
        )
        axes.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    axes.set_xlabel("step")
    axes.set_ylabel(metric)
    axes.set_title(f"{metric}: mean ± std over seeds")
    axes.legend(fontsize="small")
    figure.tight_layout()
    path = out_dir / curve_filename(metric)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
