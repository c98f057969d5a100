"""Write the summary rows as a terminal table, Markdown, LaTeX (booktabs) and CSV."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from rlrec.report.aggregate import Row
from rlrec.report.runs import Excluded

CSV_COLUMNS = ["group", "metric", "n", "mean", "std", "ci95", "p_value"]
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


# Metrics of the policies an environment evaluates beside the agent (uniform-random, the simulator's
# oracles): yardsticks, not results, so a table never marks them best.
REFERENCE_POLICIES = ("random", "oracle", "oracle_longterm")


def lower_is_better(metric: str) -> bool:
    """Losses and exposure inequality (``popularity_gini@K``) are minimised; every other reported
    metric (returns, HR, NDCG, coverage, novelty, ILD, …) is maximised."""
    name = metric.rsplit("/", 1)[-1]
    return "loss" in name or name.startswith("popularity_gini")


def is_reference(metric: str) -> bool:
    """``eval/return_random``, ``eval/ndcg@10_random``, ``eval/return_oracle_longterm``: a reference
    policy's figure, never bolded."""
    name = metric.rsplit("/", 1)[-1]
    return any(name.endswith(f"_{policy}") for policy in REFERENCE_POLICIES)


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def _fmt(value: float, digits: int = 4) -> str:
    return "nan" if math.isnan(value) else f"{value:.{digits}f}"


def _p(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.3g}"


def _layout(rows: list[Row]) -> tuple[list[str], list[str], dict[tuple[str, str], Row]]:
    groups = list(dict.fromkeys(row.group for row in rows))
    metrics = list(dict.fromkeys(row.metric for row in rows))
    return groups, metrics, {(row.group, row.metric): row for row in rows}


def _cell(row: Row | None, with_p: bool) -> str:
    if row is None:
        return "–"
    text = f"{_fmt(row.mean)} ± {_fmt(row.ci95)} (n={row.n})"
    return text + (f" p={_p(row.p_value)}" if with_p and not math.isnan(row.p_value) else "")


def best_groups(rows: list[Row]) -> dict[str, str]:
    """metric -> the group with the best mean (the first in table order on a tie); reference-policy
    metrics (``is_reference``) have none."""
    groups, metrics, cells = _layout(rows)
    best = {}
    for metric in metrics:
        if is_reference(metric):
            continue
        candidates = [cells[(g, metric)] for g in groups if (g, metric) in cells]
        sign = -1.0 if lower_is_better(metric) else 1.0
        best[metric] = max(candidates, key=lambda row: sign * row.mean).group  # max keeps the first
    return best


def terminal_table(rows: list[Row], excluded: list[Excluded]) -> str:
    """Groups down, metrics across; each cell ``mean ± 95 % CI half-width (n)`` and the p-value."""
    groups, metrics, cells = _layout(rows)
    header = ["group", *metrics]
    body = [[group, *(_cell(cells.get((group, m)), True) for m in metrics)] for group in groups]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append(
        "cells: mean ± 95% CI half-width (Student t, n-1 df) over seeds; p: Welch's t-test vs baseline"
    )
    if excluded:
        lines.append(f"\nexcluded runs ({len(excluded)}), not averaged:")
        lines.extend(f"  {item.path}: {item.reason}" for item in excluded)
    return "\n".join(lines) + "\n"


def markdown_table(rows: list[Row], excluded: list[Excluded]) -> str:
    groups, metrics, cells = _layout(rows)
    best = best_groups(rows)
    lines = ["| group | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for group in groups:
        rendered = []
        for metric in metrics:
            text = _cell(cells.get((group, metric)), True)
            rendered.append(f"**{text}**" if best.get(metric) == group else text)
        lines.append(f"| {group} | " + " | ".join(rendered) + " |")
    lines.append(
        "\nMean ± 95 % CI half-width (Student t, n−1 df) over seeds; p: Welch's t-test against the baseline."
    )
    if excluded:
        lines.append("\n## Excluded runs\n")
        lines.extend(f"- `{item.path}`: {item.reason}" for item in excluded)
    return "\n".join(lines) + "\n"


def latex_table(rows: list[Row]) -> str:
    """A booktabs table; the best mean of each metric column is bold (not in reference-policy columns)."""
    groups, metrics, cells = _layout(rows)
    best = best_groups(rows)
    lines = [
        r"\begin{tabular}{l" + "c" * len(metrics) + "}",
        r"\toprule",
        "Group & " + " & ".join(latex_escape(metric) for metric in metrics) + r" \\",
        r"\midrule",
    ]
    for group in groups:
        rendered = []
        for metric in metrics:
            row = cells.get((group, metric))
            if row is None:
                rendered.append("--")
                continue
            mean = _fmt(row.mean)
            mean = rf"\textbf{{{mean}}}" if best.get(metric) == group else mean
            rendered.append(rf"{mean} $\pm$ {_fmt(row.ci95)}")
        lines.append(latex_escape(group) + " & " + " & ".join(rendered) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_csv(rows: list[Row], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    row.group,
                    row.metric,
                    row.n,
                    repr(row.mean),
                    repr(row.std),
                    repr(row.ci95),
                    repr(row.p_value),
                ]
            )
