"""Group runs that differ only by seed (or by the ``--by`` keys) and summarise each metric."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rlrec.report.runs import SEED_KEY, Run
from rlrec.report.stats import ci95_half_width, mean_std, welch_p_value


@dataclass
class Group:
    label: str  # e.g. "algorithm.lr=0.001 env.slate_size=3"
    key: dict[str, str]  # the settings that define the group
    runs: list[Run]


@dataclass
class Row:
    group: str
    metric: str
    n: int
    mean: float
    std: float
    ci95: float
    p_value: float  # Welch's t-test against the baseline group; NaN without one


def group_runs(runs: list[Run], by: list[str] | None = None) -> list[Group]:
    """Runs with the same overrides apart from ``seed`` form one group; with ``by``, runs with the
    same values of those keys (a key a run did not set reads ``<default>``). Labels name only the
    keys whose values differ between groups, so they stay short."""
    keyed: dict[tuple, list[Run]] = {}
    for run in runs:
        if by:
            key = {name: run.overrides.get(name, "<default>") for name in by}
        else:
            key = {name: value for name, value in run.overrides.items() if name != SEED_KEY}
        keyed.setdefault(tuple(sorted(key.items())), []).append(run)
    keys = [dict(items) for items in keyed]
    names = sorted({name for key in keys for name in key})
    varying = [name for name in names if len({key.get(name) for key in keys}) > 1] if len(keys) > 1 else []
    shown = by if by else varying
    groups = []
    for items, members in keyed.items():
        key = dict(items)
        label = " ".join(f"{name}={key.get(name, '<default>')}" for name in shown) or "all runs"
        groups.append(Group(label=label, key=key, runs=members))
    return sorted(groups, key=lambda group: group.label)


def default_metrics(runs: list[Run]) -> list[str]:
    """Every ``eval/*`` metric found in any summary, sorted."""
    return sorted({name for run in runs for name in run.metrics if name.startswith("eval/")})


def find_baseline(groups: list[Group], baseline: str) -> dict[str, Group | None]:
    """The baseline for each group: the group equal to it except that ``KEY=VALUE`` holds, or, when
    just one group has ``KEY=VALUE``, that group. Raises if no group has ``KEY=VALUE``."""
    name, sep, value = baseline.partition("=")
    if not sep:
        raise ValueError(f"--baseline must be KEY=VALUE, got {baseline!r}")
    name = name.lstrip("+~")
    matching = [group for group in groups if group.key.get(name) == value]
    if not matching:
        known = sorted({group.key.get(name, "<unset>") for group in groups})
        raise ValueError(f"no group has {name}={value} (values of {name}: {', '.join(known)})")
    result: dict[str, Group | None] = {}
    for group in groups:
        twin = {**group.key, name: value}
        same = [other for other in matching if other.key == twin]
        result[group.label] = same[0] if same else (matching[0] if len(matching) == 1 else None)
    return result


def summarise(groups: list[Group], metrics: list[str], baseline: str | None = None) -> list[Row]:
    """One row per group × metric that the group has at least one value of."""
    baselines = find_baseline(groups, baseline) if baseline else {}
    rows = []
    for group in groups:
        reference = baselines.get(group.label)
        for metric in metrics:
            values = [run.metrics[metric] for run in group.runs if metric in run.metrics]
            if not values:
                continue
            mean, std = mean_std(values)
            p_value = math.nan
            if reference is not None and reference is not group:
                ref_values = [run.metrics[metric] for run in reference.runs if metric in run.metrics]
                p_value = welch_p_value(values, ref_values)
            rows.append(Row(group.label, metric, len(values), mean, std, ci95_half_width(values), p_value))
    return rows
