"""metrics.parquet: every logged value as one row ``step:i64, metric:str, value:f64``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from pytorch_lightning.loggers.logger import Logger
from pytorch_lightning.utilities import rank_zero_only

METRICS_SCHEMA = {"step": pl.Int64, "metric": pl.String, "value": pl.Float64}


class ParquetMetricsLogger(Logger):
    """A Lightning logger that keeps rows in memory and writes them to ``<run>/metrics.parquet``."""

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__()
        self.path = Path(run_dir) / "metrics.parquet"
        self.rows: list[tuple[int, str, float]] = []
        self.trainer = None  # set once the Trainer exists: rows then carry its global_step

    @property
    def name(self) -> str:
        return "metrics"

    @property
    def version(self) -> int:
        return 0

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        """Hyperparameters live in .hydra/config.yaml and manifest.json, not in the metrics table."""

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        # Lightning passes a 0-based batch index; the row's step is the number of optimiser steps
        # done, the same count checkpoints (best-step=N) and summary.json (train/steps) use.
        step = self.trainer.global_step if self.trainer is not None else int(step or 0)
        for metric, value in metrics.items():
            if metric != "epoch":  # Lightning adds the epoch counter to every call
                self.rows.append((step, metric, float(value)))

    def last_values(self) -> dict[str, float]:
        """The latest logged value of every metric (what summary.json reports)."""
        return {metric: value for _, metric, value in self.rows}  # rows are in logging order

    @rank_zero_only
    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(self.rows, schema=METRICS_SCHEMA, orient="row").write_parquet(self.path)
