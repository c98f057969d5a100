"""One error path for every command: a known error is one line naming what, which key or file, and
what was expected, then exit status 2; anything else keeps its traceback.

Known errors are the ones rlrec raises for bad input: ``ValueError`` (bad config values, data,
shapes), ``OSError`` (missing files and folders, models that cannot be loaded), omegaconf's
errors (a missing mandatory value such as ``dataset.path``, a value of the wrong type), Hydra's
composition errors (an unknown key or group choice), the non-finite-loss guard and ``CheckpointError``; a Hydra
``InstantiationException`` stands for its cause. ``RLREC_DEBUG=1`` (or Hydra's own
``HYDRA_FULL_ERROR=1``) re-raises it with the traceback instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or of another model."""


def debugging() -> bool:
    return any(os.environ.get(name, "") not in ("", "0") for name in ("RLREC_DEBUG", "HYDRA_FULL_ERROR"))


def known_cause(error: BaseException) -> BaseException | None:
    """The error a user can act on behind ``error`` (unwrapping Hydra's instantiation wrapper), or None."""
    from hydra.errors import ConfigCompositionException, InstantiationException, MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    seen = set()
    while isinstance(error, InstantiationException) and error.__cause__ is not None and id(error) not in seen:
        seen.add(id(error))
        error = error.__cause__
    known = (
        ValueError,
        OSError,
        FloatingPointError,  # the non-finite-loss guard (NonFiniteLossError)
        OmegaConfBaseException,
        ConfigCompositionException,
        MissingConfigException,
        InstantiationException,
    )
    return error if isinstance(error, known) else None


def one_line(error: BaseException) -> str:
    """The error's message, with a composition error's cause appended (Hydra keeps the detail there)."""
    from hydra.errors import ConfigCompositionException
    from omegaconf.errors import MissingMandatoryValue

    if isinstance(error, MissingMandatoryValue) and getattr(error, "full_key", None):
        key = error.full_key
        return f"{key} has no value and this config needs one: add {key}=... to the command line"
    text = str(error).strip() or type(error).__name__
    if isinstance(error, ConfigCompositionException) and error.__cause__ is not None:
        text = f"{text} {str(error.__cause__).strip()}"
    if isinstance(error, FileNotFoundError) and error.filename and str(error.filename) not in text:
        text = f"{text}: {error.filename}"
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    # omegaconf appends "full_key: ..., object_type=..." lines: keep the first of them, drop the rest
    kept = [line for line in lines if not line.strip().startswith(("object_type=", "reference_type="))]
    return "\n".join(kept[:6])


def report(command: str, error: BaseException) -> None:
    print(f"rlrec {command}: {one_line(error)}", file=sys.stderr)


def guarded(command: str, run: Callable[[], int]) -> int:
    """``run()``, with a known error reported in one line and exit status 2."""
    try:
        return run()
    except Exception as error:
        cause = known_cause(error)
        if cause is None or debugging():
            raise
        report(command, cause)
        return EXIT_BAD_INPUT


# --- checkpoints -----------------------------------------------------------------------------------
def read_checkpoint(path: str | Path, key: str = "ckpt") -> dict[str, Any]:
    """A Lightning checkpoint read with ``weights_only=True``; a missing, truncated or foreign file is a
    CheckpointError naming it (``key``: the config key or argument that gave the path)."""
    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"{key}={path}: no such checkpoint file")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - the unpickler raises anything on foreign bytes (IndexError, KeyError, ...)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"{key}={path} is not a readable checkpoint (truncated, or not a checkpoint file?): {first[:200]}"
        ) from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{key}={path} is not a Lightning checkpoint of rlrec (no 'state_dict')")
    return checkpoint


def fit_problems(own: dict[str, Any], saved: dict[str, Any]) -> list[str]:
    """What keeps ``saved`` (a checkpoint's state_dict) from loading into a model whose state is ``own``."""
    problems = [f"missing from the checkpoint: {key}" for key in own if key not in saved]
    problems += [f"not in this config's agent: {key}" for key in saved if key not in own]
    problems += [
        f"{key}: checkpoint {tuple(saved[key].shape)} vs config {tuple(own[key].shape)}"
        for key in own
        if key in saved and hasattr(saved[key], "shape") and saved[key].shape != own[key].shape
    ]
    return problems


def require_fit(agent, checkpoint: dict[str, Any], path: str | Path, key: str = "ckpt") -> None:
    """A CheckpointError when ``checkpoint`` was written by another algorithm than the one ``agent``
    is (a resume would fail deep inside Lightning). Tensor shapes are left to the loader: some agents
    build their tables on the first step (Q-learning) and take the checkpoint's as they load."""
    saved = (checkpoint.get("hyper_parameters") or {}).get("name")
    own = getattr(getattr(agent, "hparams", None), "name", None)
    if saved is not None and own is not None and saved != own:
        raise CheckpointError(
            f"{key}={path} was written by algorithm={saved}; this config builds algorithm={own} "
            "(resume with the algorithm the checkpoint was trained with)"
        )
