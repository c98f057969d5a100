"""Agents: one LightningModule per algorithm, with shared replay buffer, schedules and evaluation."""
