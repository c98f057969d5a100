"""``rlrec recommend ckpt=PATH users=[ID,...] [--format json] [overrides]``: users' top-K from a checkpoint.

For looking at what a logged-replay run (``env=replay``) learnt, user by user. Each user is observed
after their whole known sequence, every split (``ReplayEnv.observe`` at position = its length), and
the greedy slate is the next thing they would be shown: K = ``env.slate_size`` items, never one of
their earlier items while ``env.mask_history`` is on. Each user's last few interactions are shown
beside it.

Users and items are the dataset's original ids: the raw keys the prepared cache keeps in
``user_map.parquet`` and ``item_map.parquet`` (MovieLens ``userId`` and ``movieId``, as strings;
session-split logs name a session ``<user>#<n>``). A dataset without raw ids (``dataset=synthetic``)
takes and prints the dense ids 0..n-1. The experiment is rebuilt as ``rlrec eval`` rebuilds it: the
run's overrides plus the ones given here, e.g. ``env.slate_size=20``.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

USAGE = "usage: rlrec recommend ckpt=PATH users=[ID,...] [--format text|json] [overrides]"
FORMATS = ("text", "json")
HISTORY_SHOWN = 5  # the user's most recent interactions printed beside the slate
HELP = f"""{USAGE}

  users=     the dataset's original user ids (MovieLens userId); dense ids 0..n-1 where the dataset
             has no raw ids (dataset=synthetic)
  --format   text (default, for reading) or json (for scripts)
  overrides  as for rlrec eval, on top of the run's own: e.g. env.slate_size=20 for a top 20
"""


@dataclass
class Request:
    ckpt: Path
    users: list[str]  # as given: the dataset's raw user keys (dense ids where it has none)
    format: str
    overrides: list[str]


def parse_args(args: list[str]) -> Request:
    """``ckpt=``, ``users=`` (``[1,2]`` or ``1,2``) and ``--format`` out of ``args``; the rest are overrides."""
    from rlrec.evaluate import split_ckpt

    rest, fmt, users = [], "text", None
    args = iter(args)
    for arg in args:
        if arg == "--format":
            fmt = next(args, "")
        elif arg.startswith("--format="):
            fmt = arg.split("=", 1)[1]
        elif arg.startswith("users="):
            users = parse_users(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if sum(arg.startswith("ckpt=") for arg in rest) != 1:
        raise ValueError(f"give exactly one ckpt=PATH ({USAGE})")
    if not users:
        raise ValueError(f"give the users to recommend for, users=[ID,...] ({USAGE})")
    ckpt, overrides = split_ckpt(rest)
    return Request(ckpt, users, fmt, overrides)


def parse_users(value: str) -> list[str]:
    """``[1,2,3]``, ``1,2,3`` or ``'1', '2'`` -> ["1", "2", "3"], each once, in the order given."""
    ids = (part.strip().strip("'\"") for part in value.strip().removeprefix("[").removesuffix("]").split(","))
    return list(dict.fromkeys(user for user in ids if user))


def require_replay(env_cfg: Any, where: str) -> None:
    """Recommendations for real users need their logged histories: an env that replays the log."""
    from hydra.utils import get_class

    from rlrec.envs.replay import ReplayEnv

    if not issubclass(get_class(env_cfg._target_), ReplayEnv):
        raise ValueError(
            f"{where} env={env_cfg.name} ({env_cfg._target_}), not a logged replay: rlrec recommend "
            "needs a run with env=replay, whose users are a logged dataset's real users"
        )


def run_env(ckpt: Path) -> Any | None:
    """The env config the checkpoint's run trained with (None when it is not in a run folder)."""
    from omegaconf import OmegaConf

    config = ckpt.parent.parent / ".hydra" / "config.yaml"
    return OmegaConf.load(config).env if config.is_file() else None


@dataclass
class RawIds:
    """Dense id -> the dataset's raw key, for users and items; the dense ids themselves where there are none."""

    users: list[str]  # [n_users]
    items: list[str]  # [n_items]
    raw: bool  # False: the dataset has no raw ids (dense ids stand in)

    @classmethod
    def of(cls, dataset) -> RawIds:
        import polars as pl

        entry = dataset.cache_entry
        maps = [entry / f"{kind}_map.parquet" for kind in ("user", "item")] if entry is not None else []
        if not maps or not all(path.is_file() for path in maps):
            return cls(
                [str(u) for u in range(dataset.n_users)], [str(i) for i in range(dataset.n_items)], False
            )
        users, items = (
            pl.read_parquet(path).sort(f"{kind}_id")["key"].to_list()
            for kind, path in zip(("user", "item"), maps, strict=True)
        )
        if (len(users), len(items)) != (dataset.n_users, dataset.n_items):
            raise ValueError(
                f"{entry}: id maps of {len(users)} users and {len(items)} items do not fit the dataset"
            )
        return cls(users, items, True)

    def dense_users(self, given: list[str], dataset_name: str) -> torch.Tensor:
        """The dense ids of the ``given`` users; any unknown one is an error naming them all."""
        index = {key: user for user, key in enumerate(self.users)}
        unknown = [user for user in given if user not in index]
        if unknown:
            ids = (
                "the dataset's original user ids"
                if self.raw
                else f"dense ids 0..{len(self.users) - 1}: the dataset has no raw ids"
            )
            raise ValueError(
                f"users not in dataset {dataset_name!r}: {', '.join(unknown)} (users= takes {ids})"
            )
        return torch.tensor([index[user] for user in given], dtype=torch.long)


def recommend(request: Request) -> dict[str, Any]:
    """Rebuild the run's experiment, load the weights, and each user's history and greedy slate."""
    from rlrec.data.schema import EVENTS
    from rlrec.evaluate import load_weights, run_overrides
    from rlrec.experiment import build_experiment
    from rlrec.runtime.compose import compose_or_exit
    from rlrec.runtime.seeding import seed_everything

    ckpt = request.ckpt
    trained_env = run_env(ckpt)
    if trained_env is not None:
        require_replay(trained_env, f"ckpt={ckpt}: its run trained with")
    overrides = [*run_overrides(ckpt), *request.overrides]
    cfg = compose_or_exit("recommend", [*overrides, "paths.output_dir=" + str(ckpt.parent)])
    require_replay(cfg.env, "this config builds")
    seed_everything(cfg.seed)
    experiment = build_experiment(cfg)
    dataset, env, agent = experiment.dataset, experiment.eval_env, experiment.agent
    checkpoint = load_weights(agent, ckpt)
    agent.eval()

    ids = RawIds.of(dataset)
    users = ids.dense_users(request.users, dataset.name)  # [B]
    sequences = env.full_log
    length = sequences.length[users]  # [B] after everything each user did
    with torch.no_grad():
        slates = agent.greedy_policy(env.observe(users, length))  # [B, K]
    titles = dataset.items["title"].to_list()

    def item(i: int) -> dict[str, Any]:
        return {"item": ids.items[i], "title": titles[i]}

    def history(user: int) -> list[dict[str, Any]]:
        """The user's last HISTORY_SHOWN interactions, most recent last: item, event and any rating."""
        end = int(sequences.start[user] + sequences.length[user])
        shown = []
        for row in range(max(end - HISTORY_SHOWN, int(sequences.start[user])), end):
            entry = item(int(sequences.item[row])) | {"event": EVENTS[int(sequences.event[row])]}
            if not math.isnan(rating := float(sequences.rating[row])):
                entry["rating"] = rating
            shown.append(entry)
        return shown

    result_users = [
        {
            "user": given,
            "interactions": int(length[b]),
            "history": history(int(users[b])),
            "recommended": [{"rank": rank, **item(i)} for rank, i in enumerate(slates[b].tolist(), start=1)],
        }
        for b, given in enumerate(request.users)
    ]
    return {
        "ckpt": str(ckpt),
        "global_step": checkpoint.get("global_step"),
        "dataset": dataset.name,
        "ids": "raw" if ids.raw else "dense",
        "k": env.slate_size,
        "history_masked": env.mask_history,
        "users": result_users,
    }


def format_text(result: dict[str, Any]) -> str:
    """The result for reading: per user, their last interactions (most recent last), then the slate."""
    masked = "their earlier items excluded" if result["history_masked"] else "earlier items allowed"
    lines = [
        f"{result['ckpt']} (step {result['global_step']}): top {result['k']} on {result['dataset']}, {masked}"
    ]
    for user in result["users"]:
        count, shown = user["interactions"], len(user["history"])
        last = f", the last {shown}" if shown < count else ""
        lines += ["", f"user {user['user']}: {count} interactions{last} (most recent last)"]
        for entry in user["history"]:
            feedback = entry["event"] + (f" {entry['rating']:g}" if "rating" in entry else "")
            lines.append(f"       {entry['title']}  [{feedback}]")
        lines.append("  recommended:")
        lines += [f"  {entry['rank']:>3}. {entry['title']}" for entry in user["recommended"]]
    return "\n".join(lines)


def main(args: list[str]) -> int:
    from hydra.errors import InstantiationException

    if not args or args[0] in ("-h", "--help"):
        print(HELP, end="")
        return 0 if args else 2
    # Warnings only: stderr stays for what went wrong, stdout for the recommendations.
    logging.basicConfig(level=logging.WARNING, format="[%(name)s][%(levelname)s] - %(message)s")
    try:
        request = parse_args(args)
        result = recommend(request)
    except (OSError, ValueError) as error:
        print(f"rlrec recommend: {error}", file=sys.stderr)
        return 2
    except InstantiationException as error:  # e.g. a dataset.path that is not there: its cause, one line
        if not isinstance(error.__cause__, (OSError, ValueError)):
            raise
        print(f"rlrec recommend: {error.__cause__}", file=sys.stderr)
        return 2
    print(
        json.dumps(result, indent=2, ensure_ascii=False) if request.format == "json" else format_text(result)
    )
    return 0
