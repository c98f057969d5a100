"""Ranking, beyond-accuracy metrics: pure tensor functions (``ranking``, ``beyond``) and their
torchmetrics wrappers (``torchmetrics``) that sum and count so they reduce across DDP ranks."""
