"""Compose the experiment config outside a Hydra run, for commands that make no run folder."""

from __future__ import annotations

import sys

from omegaconf import DictConfig


def compose_or_exit(command: str, overrides: list[str]) -> DictConfig:
    """The config `rlrec train` would compose from ``overrides``; a bad override exits with Hydra's message."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import ConfigCompositionException

    from rlrec.config import config_dir, register_configs

    register_configs()
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return compose("config", overrides=overrides)
    except ConfigCompositionException as error:
        from rlrec.runtime.errors import EXIT_BAD_INPUT, one_line

        print(f"rlrec {command}: {one_line(error)}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
