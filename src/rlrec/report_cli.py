"""``rlrec report DIR [--by KEY …] [--baseline KEY=VALUE] [--metric NAME …] [--out DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlrec.report.aggregate import default_metrics, group_runs, summarise
from rlrec.report.curves import plot_curves
from rlrec.report.runs import load_runs
from rlrec.report.tables import latex_table, markdown_table, terminal_table, write_csv


def parse(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="rlrec report", description="Aggregate run folders (e.g. one -m sweep) into tables and plots."
    )
    parser.add_argument("dir", type=Path, help="folder searched for run folders (those holding summary.json)")
    parser.add_argument(
        "--by", nargs="+", action="extend", metavar="KEY", help="group by these override keys"
    )
    parser.add_argument(
        "--baseline", metavar="KEY=VALUE", help="Welch's t-test of every group against this one"
    )
    parser.add_argument(
        "--metric", nargs="+", action="extend", metavar="NAME", help="default: every eval/* metric"
    )
    parser.add_argument("--out", type=Path, help="where results.* and curves_*.png go (default: DIR)")
    return parser.parse_args(args)


def main(args: list[str]) -> int:
    options = parse(args)
    if not options.dir.is_dir():
        print(f"rlrec report: {options.dir} is not a folder", file=sys.stderr)
        return 2
    runs = load_runs(options.dir)
    if not runs.completed:
        print(f"rlrec report: no completed run under {options.dir}", file=sys.stderr)
        for item in runs.excluded:
            print(f"  {item.path}: {item.reason}", file=sys.stderr)
        return 1
    groups = group_runs(runs.completed, options.by)
    metrics = options.metric or default_metrics(runs.completed)
    try:
        rows = summarise(groups, metrics, options.baseline)
    except ValueError as error:
        print(f"rlrec report: {error}", file=sys.stderr)
        return 2
    if not rows:
        print(f"rlrec report: no completed run has any of {', '.join(metrics)}", file=sys.stderr)
        return 1
    missing = [metric for metric in metrics if metric not in {row.metric for row in rows}]
    if missing:
        print(f"rlrec report: no completed run has {', '.join(missing)}; reporting the rest", file=sys.stderr)
    out = options.out or options.dir
    out.mkdir(parents=True, exist_ok=True)
    print(terminal_table(rows, runs.excluded), end="")
    (out / "results.md").write_text(markdown_table(rows, runs.excluded))
    (out / "results.tex").write_text(latex_table(rows))
    write_csv(rows, out / "results.csv")
    plots = [path for metric in metrics if (path := plot_curves(groups, metric, out)) is not None]
    print(f"wrote {out / 'results.md'}, results.tex, results.csv and {len(plots)} plot(s)")
    return 0
