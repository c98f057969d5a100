"""Datasets: loaders onto one interaction schema, preprocessing, splits, cache."""

from rlrec.data.schema import EVENTS, RecDataset

__all__ = ["EVENTS", "RecDataset"]
