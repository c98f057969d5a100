"""rlrec: reinforcement-learning recommenders whose users and items are read by language models."""

__version__ = "0.1.0"
