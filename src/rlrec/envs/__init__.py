"""Environments: vectorised simulators over a batch of users (torch tensors)."""
