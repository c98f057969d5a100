"""``rlrec report`` and ``rlrec reproduce`` on real tiny runs, and their statistics by hand."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from rlrec.report.aggregate import group_runs
from rlrec.report.curves import curve_filename, group_curve
from rlrec.report.runs import load_runs
from rlrec.report.stats import ci95_half_width, t_quantile, welch_p_value
from rlrec.report.tables import is_reference, latex_escape
from tests.conftest import TINY, run_rlrec

T975 = {2: 4.302653, 5: 2.570582, 30: 2.042272}  # Student t table, two-sided 95 %


def test_t_quantiles_match_the_table():
    for df, value in T975.items():
        assert t_quantile(0.975, df) == pytest.approx(value, abs=1e-6)
    assert t_quantile(0.025, 5) == pytest.approx(-2.570582, abs=1e-6)
    assert t_quantile(0.995, 1) == pytest.approx(63.656741, abs=1e-5)


def test_welch_p_value_by_hand():
    # a: mean 2.5, s²/n = 1.6667/4; b: mean 6, s²/n = 10/5; t = -3.5/sqrt(2.41667) = -2.2515,
    # Welch–Satterthwaite df = 2.41667² / ((0.41667²)/3 + 2²/4) = 5.521; two-sided p = 0.0691
    assert welch_p_value([1, 2, 3, 4], [2, 4, 6, 8, 10]) == pytest.approx(0.0691336, abs=1e-6)
    assert welch_p_value([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert math.isnan(welch_p_value([1.0], [1, 2]))


def test_welch_p_value_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for _ in range(5):
        a, b = rng.normal(0, 1, 4), rng.normal(0.5, 2, 7)
        expected = stats.ttest_ind(a, b, equal_var=False).pvalue
        assert welch_p_value(list(a), list(b)) == pytest.approx(expected, rel=1e-9)


def test_latex_escape():
    assert latex_escape("eval/hr@10_click 5%") == r"eval/hr@10\_click 5\%"


GRID = ["seed=0,1,2", "algorithm.lr=0.001,0.0003", "env.slate_size=3,5"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A real 2 × 2 × 3 sweep (12 tiny runs, ~20 s) plus a failed, an unfinished and a corrupt run."""
    root = tmp_path_factory.mktemp("grid")
    sweep = root / "sweep"
    result = run_rlrec(
        "train",
        "-m",
        *GRID,
        *TINY,
        f"hydra.sweep.dir={sweep}",
        cwd=root,
        env={"RLREC_CACHE": str(root / "cache")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    failed = sweep / "failed"
    shutil.copytree(sweep / "0", failed)
    summary = json.loads((failed / "summary.json").read_text())
    summary["status"] = "failed"
    summary["metrics"]["eval/return"] = 1e6  # would wreck the mean if it were averaged in
    (failed / "summary.json").write_text(json.dumps(summary))
    unfinished = sweep / "unfinished"
    shutil.copytree(sweep / "0" / ".hydra", unfinished / ".hydra")
    corrupt = sweep / "corrupt"
    shutil.copytree(sweep / "1", corrupt)
    (corrupt / "summary.json").write_text('{"status": "completed", "metrics": {')
    return sweep


def _expected_groups(sweep: Path) -> dict[tuple[str, str], dict[str, list[float]]]:
    """(lr, slate_size) -> metric -> values, read straight from the 12 good summary.json files."""
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    for index in range(12):
        run = sweep / str(index)
        overrides = dict(
            item.split("=", 1) for item in yaml.safe_load((run / ".hydra/overrides.yaml").read_text())
        )
        metrics = json.loads((run / "summary.json").read_text())["metrics"]
        group = groups.setdefault((overrides["algorithm.lr"], overrides["env.slate_size"]), {})
        for name, value in metrics.items():
            group.setdefault(name, []).append(value)
    return groups


def test_report_table_matches_numbers_computed_from_the_summaries(sweep, tmp_path):
    out = tmp_path / "report"
    result = run_rlrec(
        "report", str(sweep), "--baseline", "algorithm.lr=0.001", "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert list(rows[0]) == ["group", "metric", "n", "mean", "std", "ci95", "p_value"]
    expected = _expected_groups(sweep)
    metrics = sorted({name for group in expected.values() for name in group if name.startswith("eval/")})
    assert {row["metric"] for row in rows} == set(metrics) and "eval/return" in metrics
    # metrics @K exist only in the groups of that slate size (eval/hr@3 with env.slate_size=3)
    assert len(rows) == sum(
        len([name for name in group if name.startswith("eval/")]) for group in expected.values()
    )
    for row in rows:
        settings = dict(item.split("=") for item in row["group"].split())
        assert set(settings) == {"algorithm.lr", "env.slate_size"}
        values = np.array(expected[(settings["algorithm.lr"], settings["env.slate_size"])][row["metric"]])
        assert int(row["n"]) == 3 == len(values)  # the failed and corrupt copies are not averaged in
        assert float(row["mean"]) == pytest.approx(values.mean(), rel=1e-12, abs=1e-12)
        assert float(row["std"]) == pytest.approx(values.std(ddof=1), rel=1e-9, abs=1e-12)
        assert float(row["ci95"]) == pytest.approx(
            T975[2] * values.std(ddof=1) / np.sqrt(3), rel=1e-6, abs=1e-12
        )
        p_value = float(row["p_value"])
        if settings["algorithm.lr"] == "0.001":
            assert math.isnan(p_value)  # the baseline itself
        else:
            baseline = expected[("0.001", settings["env.slate_size"])][row["metric"]]
            if np.var(values) + np.var(baseline) > 0:
                assert p_value == pytest.approx(welch_p_value(list(values), baseline))
                assert 0 <= p_value <= 1
    returns = [row for row in rows if row["metric"] == "eval/return" and "0.0003" in row["group"]]
    assert any(not math.isnan(float(row["p_value"])) for row in returns)

    # every failed, unfinished or corrupt folder is listed with its reason, in the terminal and results.md
    for text in (result.stdout, (out / "results.md").read_text()):
        assert "status 'failed'" in text and str(sweep / "failed") in text
        assert "unfinished: .hydra/ but no summary.json" in text and str(sweep / "unfinished") in text
        assert "corrupt: summary.json is not valid JSON" in text and str(sweep / "corrupt") in text
    assert "± " in result.stdout and "algorithm.lr=0.0003 env.slate_size=5" in result.stdout

    tex = (out / "results.tex").read_text().splitlines()
    assert tex[0] == r"\begin{tabular}{l" + "c" * len(metrics) + "}" and tex[-1] == r"\end{tabular}"
    assert tex[1] == r"\toprule" and tex[3] == r"\midrule" and tex[-2] == r"\bottomrule"
    assert "eval/return\\_random" in tex[2] and "_" not in tex[2].replace("\\_", "")
    body = [line.removesuffix(r" \\").split(" & ")[1:] for line in tex[4:-2]]
    assert len(body) == 4
    columns = [name.replace("\\_", "_") for name in tex[2].removesuffix(r" \\").split(" & ")[1:]]
    assert sorted(columns) == metrics
    for column, metric in enumerate(columns):  # one best per column, none for a reference policy
        assert sum(r"\textbf{" in line[column] for line in body) == (0 if is_reference(metric) else 1)
    assert is_reference("eval/return_random") and is_reference("eval/ndcg@10_random")
    assert is_reference("eval/return_oracle_longterm") and not is_reference("eval/return_click")
    column = columns.index("eval/return")
    best = max(float(r["mean"]) for r in rows if r["metric"] == "eval/return")
    (bold,) = [line[column] for line in body if r"\textbf{" in line[column]]
    assert bold.startswith(rf"\textbf{{{best:.4f}}}")

    for metric in metrics:
        png = out / curve_filename(metric)
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert (out / "curves_eval_return.png").exists()


def test_report_by_key_and_metric_selection(sweep, tmp_path):
    out = tmp_path / "by"
    result = run_rlrec(
        "report",
        str(sweep),
        "--by",
        "env.slate_size",
        "--metric",
        "eval/return",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(row["group"], row["metric"], row["n"]) for row in rows] == [
        ("env.slate_size=3", "eval/return", "6"),
        ("env.slate_size=5", "eval/return", "6"),
    ]
    assert [p.name for p in out.glob("curves_*.png")] == ["curves_eval_return.png"]


def test_report_errors_name_the_problem(sweep, tmp_path):
    result = run_rlrec(
        "report", str(sweep), "--baseline", "algorithm.lr=9", "--out", str(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 2 and "no group has algorithm.lr=9" in result.stderr
    empty = tmp_path / "empty"
    (empty / "run" / ".hydra").mkdir(parents=True)
    result = run_rlrec("report", str(empty), cwd=tmp_path)
    assert result.returncode == 1 and "no completed run" in result.stderr and "unfinished" in result.stderr
    result = run_rlrec("report", str(tmp_path / "missing"), cwd=tmp_path)
    assert result.returncode == 2 and "is not a folder" in result.stderr


def _synthetic_run(folder: Path, overrides: list[str], metrics: dict, curve: list[tuple[int, float]]) -> None:
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (folder / "summary.json").write_text(json.dumps({"status": "completed", "seed": 0, "metrics": metrics}))
    rows = [(step, "eval/return", value) for step, value in curve]
    pl.DataFrame(
        rows, schema={"step": pl.Int64, "metric": pl.String, "value": pl.Float64}, orient="row"
    ).write_parquet(folder / "metrics.parquet")


def test_runs_with_different_metric_sets_and_curve_band(tmp_path):
    _synthetic_run(
        tmp_path / "a0", ["seed=0", "x=1"], {"eval/return": 1.0, "eval/hr@10": 0.5}, [(10, 1.0), (20, 3.0)]
    )
    _synthetic_run(tmp_path / "a1", ["seed=1", "x=1"], {"eval/return": 2.0}, [(10, 2.0), (20, 5.0)])
    _synthetic_run(tmp_path / "b0", ["seed=0", "x=2"], {"eval/return": 4.0}, [(10, 4.0)])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "summary.json").write_text(json.dumps({"status": "completed", "metrics": {}}))
    shutil.copytree(tmp_path / "a0", tmp_path / "a0-reproduce-1")  # same overrides and seed: not a new sample
    runs = load_runs(tmp_path)
    assert [e.reason for e in runs.excluded] == [
        f"duplicate of {tmp_path / 'a0'} (same overrides and seed)",
        "corrupt: summary.json has no 'metrics'",
    ]
    groups = group_runs(runs.completed)
    assert [g.label for g in groups] == ["x=1", "x=2"]
    curve = group_curve(groups[0], "eval/return")
    assert curve["step"].to_list() == [10, 20] and curve["mean"].to_list() == [1.5, 4.0]
    assert curve["std"].to_list() == pytest.approx([np.std([1, 2], ddof=1), np.std([3, 5], ddof=1)])

    out = tmp_path / "out"
    result = run_rlrec("report", str(tmp_path), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {(r["group"], r["metric"]): r for r in csv.DictReader((out / "results.csv").open())}
    assert set(rows) == {("x=1", "eval/hr@10"), ("x=1", "eval/return"), ("x=2", "eval/return")}
    assert rows[("x=1", "eval/hr@10")]["n"] == "1" and rows[("x=1", "eval/return")]["n"] == "2"
    assert float(rows[("x=1", "eval/return")]["ci95"]) == pytest.approx(ci95_half_width([1.0, 2.0]))
    assert float(rows[("x=1", "eval/return")]["ci95"]) == pytest.approx(
        12.706205 * np.std([1, 2], ddof=1) / np.sqrt(2)
    )
    assert math.isnan(float(rows[("x=2", "eval/return")]["std"]))
    assert (out / "curves_eval_hr_at_10.png").exists() is False  # hr@10 was never logged as a curve


def test_reproduce_a_finished_run_gives_zero_differences(tmp_path):
    run_dir = tmp_path / "run"
    result = run_rlrec("train", *TINY, "seed=3", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    result = run_rlrec("reproduce", str(run_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (rerun,) = tmp_path.glob("run-reproduce-*")
    original = json.loads((run_dir / "summary.json").read_text())["metrics"]
    again = json.loads((rerun / "summary.json").read_text())
    assert again["status"] == "completed" and again["metrics"] == original
    n = len(original)
    assert f"0 of {n} metrics differ" in result.stdout
    assert "eval/return" in result.stdout and (run_dir / "summary.json").exists()

    (run_dir / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["algorithm.lrr=0.1"]))
    result = run_rlrec("reproduce", str(run_dir), cwd=tmp_path)
    assert result.returncode == 1 and "the re-run failed" in result.stderr
    result = run_rlrec("reproduce", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2 and "overrides.yaml not found" in result.stderr


@pytest.mark.slow  # reproduce of one run is in the fast suite
def test_reproduce_a_job_of_a_sweeping_preset_reruns_it_alone(tmp_path):
    """experiment=paper_quick sweeps by itself (hydra.mode: MULTIRUN); its jobs re-run as one run."""
    sweep = tmp_path / "sweep"
    small = ["dataset.n_users=200", "dataset.n_items=60", "env.eval_episodes_users=32", "env.horizon=5"]
    args = [
        "train",
        "experiment=paper_quick",
        "algorithm=random",
        "seed=1",
        *small,
        f"hydra.sweep.dir={sweep}",
    ]
    result = run_rlrec(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    before = (sweep / "0" / "summary.json").read_text()
    result = run_rlrec("reproduce", str(sweep / "0"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (rerun,) = sweep.glob("0-reproduce-*")
    assert (rerun / "summary.json").is_file() and (sweep / "0" / "summary.json").read_text() == before
    assert " metrics differ" in result.stdout and result.stdout.splitlines()[-1].startswith("0 of ")


def test_reproduce_diff_shows_every_difference():
    from rlrec.reproduce import diff_table

    table, differing = diff_table({"a": 1.0, "b": 2.0, "c": 3.0}, {"a": 1.0, "b": 2.0000001, "d": 4.0})
    assert differing == 3
    lines = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert lines["a"].split()[-1] == "0" and lines["b"].split()[-1] == "1e-07"
    assert lines["c"].split()[-1] == "missing" and lines["d"].split()[-1] == "missing"


def test_reference_policies_are_never_bold_and_a_missing_metric_is_listed(tmp_path):
    """Group x=2 has the higher eval/return_random and eval/return_oracle (the same simulator would
    give them to every group): neither column gets a bold cell; eval/return and the lower exposure
    Gini do. A metric no run has is named on stderr and the rest is still reported."""
    a = {
        "eval/return": 3.0,
        "eval/return_random": 1.0,
        "eval/return_oracle": 4.0,
        "eval/popularity_gini@10": 0.9,
    }
    b = {
        "eval/return": 2.0,
        "eval/return_random": 1.5,
        "eval/return_oracle": 5.0,
        "eval/popularity_gini@10": 0.4,
    }
    _synthetic_run(tmp_path / "a", ["seed=0", "x=1"], a, [(10, 3.0)])
    _synthetic_run(tmp_path / "b", ["seed=0", "x=2"], b, [(10, 2.0)])
    metrics = [
        "eval/return",
        "eval/return_random",
        "eval/return_oracle",
        "eval/popularity_gini@10",
        "eval/nope",
    ]
    out = tmp_path / "out"
    result = run_rlrec("report", str(tmp_path), "--out", str(out), "--metric", *metrics, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no completed run has eval/nope; reporting the rest" in result.stderr
    table = (out / "results.md").read_text().splitlines()
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    cells = {
        line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")] for line in table[2:4]
    }
    bold = {header[i] for row in cells.values() for i, cell in enumerate(row) if cell.startswith("**")}
    assert bold == {"eval/return", "eval/popularity_gini@10"}
    assert cells["x=1"][header.index("eval/return")].startswith("**")
    assert cells["x=2"][header.index("eval/popularity_gini@10")].startswith("**")  # lower is better
    latex = (out / "results.tex").read_text()
    assert latex.count(r"\textbf{") == 2
