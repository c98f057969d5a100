"""Bad input to every command: one clear line naming the key or file, exit status 2, no traceback.

Each case runs the real ``rlrec`` entry point (``rlrec.cli.main``) in this process, as the console
script does, with stderr captured; a few run as subprocesses too, for the process's exit status.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from rlrec.cli import main
from tests.conftest import TINY, TINY_COMMON, run_rlrec

OUT = "paths.output_dir={out}"
T = [*TINY, OUT]  # a tiny synthetic DQN run, its folder under the test's tmp_path
REINFORCE = [*TINY_COMMON, "algorithm=reinforce", "algorithm.batch_size=32", OUT]


@pytest.fixture(autouse=True)
def _fresh_logging():
    """Commands configure logging on the stderr of the moment; in one process each case needs its own
    (a handler left on an earlier case's captured stream would print a logging error)."""
    import logging

    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    yield
    root.handlers[:] = saved


def run_cli(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exit_:  # Hydra's app and compose_or_exit leave by SystemExit
        return exit_.code if isinstance(exit_.code, int) else 1


@pytest.fixture(scope="module")
def files(tmp_path_factory, tiny_bert) -> dict[str, Path]:
    return make_files(tmp_path_factory.mktemp("bad-inputs"), tiny_bert)


def make_files(root: Path, tiny_bert: Path) -> dict[str, Path]:
    """A trained tiny DQN checkpoint and its damaged copies, a model folder without weights, and a
    run folder without runs."""
    os.environ.setdefault("RLREC_CACHE", str(root / "cache"))
    assert run_cli(["train", *TINY, f"paths.output_dir={root / 'dqn'}"]) == 0
    good = root / "dqn" / "checkpoints" / "last.ckpt"
    data = good.read_bytes()
    (root / "truncated.ckpt").write_bytes(data[: len(data) // 2])
    (root / "random.ckpt").write_bytes(random.Random(0).randbytes(4096))
    (root / "empty.ckpt").write_bytes(b"")
    no_weights = root / "bert-no-weights"
    no_weights.mkdir()
    for name in os.listdir(tiny_bert):
        if not name.endswith((".safetensors", ".bin")):
            shutil.copy(tiny_bert / name, no_weights / name)
    (root / "no-runs").mkdir()
    (root / "not-a-dir.txt").write_text("x")
    return {
        "good": good,
        "truncated": root / "truncated.ckpt",
        "random": root / "random.ckpt",
        "empty": root / "empty.ckpt",
        "no_weights": no_weights,
        "run": root / "dqn",
        "no_runs": root / "no-runs",
        "file": root / "not-a-dir.txt",
    }


# (command line, what the one message must name); {good}, {truncated}, ... are the fixture's files
CASES: list[tuple[list[str], str]] = [
    # rlrec train: config values
    (["train", "dataset=movielens", OUT, "logger=csv"], "dataset.path has no value"),
    (["train", "dataset=movielens", "dataset.path=/no/such/dir", OUT, "logger=csv"], "/no/such/dir"),
    (["train", *T, "env.slate_size=-1"], "env.slate_size must be in [1, n_items=60]"),
    (["train", *T, "env.slate_size=1000"], "env.slate_size must be in [1, n_items=60]"),
    (["train", *T, "env.num_envs=0"], "env.num_envs"),
    (["train", *T, "env.horizon=0"], "env.horizon"),
    (["train", *T, "algorithm.batch_size=0"], "algorithm.batch_size must be at least 1"),
    (["train", *T, "algorithm.history_length=50"], "algorithm.history_length=50 exceeds"),
    (["train", *T, "algorithm.lr=1e30"], "= nan"),
    (["train", *T, "trainer.max_steps=0"], "trainer.max_steps"),
    (["train", *T, "+reward.weights.bogus=1.0"], "reward.weights names ['bogus']"),
    (["train", *T, "reward.rating_mode=sometimes"], "reward.rating_mode must be one of"),
    (["train", *T, "algorithm.nonsense=1"], "algorithm.nonsense"),
    (["train", *T, "algorithm=nope"], "algorithm"),
    (["train", *T, "env.slate_size=abc"], "env.slate_size"),
    (["train", *T, "optimized_metric=eval/nothing"], "optimized_metric='eval/nothing' is not a metric"),
    # rlrec train: models
    (["train", *T, "encoder=bert", "encoder.model=/no/such/model"], "/no/such/model"),
    (["train", *T, "encoder=bert", "encoder.model={no_weights}"], "bert-no-weights"),
    (["train", *T, "encoder=bert", "encoder.model=no-such-org/no-such-model"], "no-such-org/no-such-model"),
    # rlrec train: checkpoints to resume from
    (["train", *T, "ckpt_path=/no/such.ckpt"], "ckpt_path=/no/such.ckpt: no such checkpoint file"),
    (["train", *T, "ckpt_path={truncated}"], "is not a readable checkpoint (truncated"),
    (["train", *T, "ckpt_path={random}"], "is not a readable checkpoint (truncated"),
    (["train", *T, "ckpt_path={empty}"], "is not a readable checkpoint (truncated"),
    (
        ["train", *REINFORCE, "ckpt_path={good}"],
        "was written by algorithm=dqn; this config builds algorithm=reinforce",
    ),
    # rlrec eval
    (["eval"], "ckpt=PATH"),
    (["eval", "ckpt=/no/such.ckpt"], "ckpt=/no/such.ckpt: no such checkpoint file"),
    (["eval", "ckpt={truncated}"], "is not a readable checkpoint (truncated"),
    (["eval", "ckpt={random}"], "is not a readable checkpoint (truncated"),
    (["eval", "ckpt={good}", "algorithm.hidden_dim=8"], "does not fit the agent this config builds"),
    (["eval", "ckpt={good}", "env.nonsense=1"], "env.nonsense"),
    # rlrec recommend
    (["recommend", "ckpt=/no/such.ckpt", "users=[1]"], "ckpt=/no/such.ckpt: no such checkpoint file"),
    (["recommend", "ckpt={good}", "users=[1]"], "not a logged replay"),  # a simulator run's checkpoint
    # rlrec data prepare
    (["data", "prepare", "dataset=movielens"], "dataset.path has no value"),
    (["data", "prepare", "dataset=movielens", "dataset.path=/no/such/dir"], "/no/such/dir"),
    (["data", "prepare", "dataset=movielens", "dataset.path={file}"], "not-a-dir.txt"),
    (["data", "prepare", "dataset=nope"], "dataset"),
    (["data", "prepare", "dataset=movielens", "dataset.pth=x"], "dataset.pth"),
    # rlrec encode
    (["encode", "encoder=bert", "encoder.model=/no/such/model"], "/no/such/model"),
    (["encode", "encoder=id"], "reads no text"),
    # rlrec report
    (["report", "/no/such/dir"], "is not a folder"),
    (["report", "{run}", "--baseline", "nonsense"], "--baseline must be KEY=VALUE"),
    # rlrec reproduce
    (["reproduce", "/no/such/run"], "/no/such/run"),
    (["reproduce", "{no_runs}"], "overrides.yaml not found"),
]


def fill(args: list[str], files: dict[str, Path], out: Path) -> list[str]:
    return [arg.format(out=out, **files) for arg in args]


@pytest.mark.parametrize(("args", "named"), CASES, ids=[" ".join(a[:1] + a[-1:]) for a, _ in CASES])
def test_bad_input_is_one_clear_line_and_exit_2(args, named, files, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RLREC_DEBUG", raising=False)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a hub name must fail here, not wait on a network
    out = tmp_path / "run"
    code = run_cli(fill(args, files, out))
    captured = capsys.readouterr()
    message = captured.err
    assert code == 2, f"exit {code}\n{message[-2000:]}"
    assert "Traceback" not in message + captured.out, message
    assert "HYDRA_FULL_ERROR" not in message, message  # no Hydra footer
    ours = [line for line in message.splitlines() if line.startswith(("rlrec ", "usage: rlrec "))]
    assert ours, message[-2000:]
    if named is not None:
        assert named.format(**files) in message, message[-2000:]
    if out.exists() and (out / "summary.json").exists():  # a failed run records why, in full
        import json

        summary = json.loads((out / "summary.json").read_text())
        assert summary["status"] == "completed" or summary["error"], summary


def test_a_known_error_shows_its_traceback_with_rlrec_debug(files, tmp_path, monkeypatch):
    monkeypatch.setenv("RLREC_DEBUG", "1")
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")  # rlrec train sets it to 1; restored after the test
    with pytest.raises(ValueError, match="env.slate_size must be in"):
        main(["train", *fill(T, files, tmp_path), "env.slate_size=-1"])


def test_exit_status_and_stderr_of_the_process(files, tmp_path):
    for args, named in [
        (["train", *fill(T, files, tmp_path / "a"), "algorithm.batch_size=0"], "algorithm.batch_size"),
        (["eval", f"ckpt={files['truncated']}"], "is not a readable checkpoint"),
        (["data", "prepare", "dataset=movielens", "dataset.path=/no/such/dir"], "/no/such/dir"),
    ]:
        result = run_rlrec(*args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr[-2000:]
        assert named in result.stderr and "Traceback" not in result.stderr


def test_any_foreign_bytes_are_a_checkpoint_error(tmp_path):
    """torch's unpickler raises IndexError, KeyError, ... on arbitrary bytes, not only UnpicklingError:
    every one of them must read as a CheckpointError naming the file (a CI run hit IndexError)."""
    from rlrec.runtime.errors import CheckpointError, read_checkpoint

    for seed in range(200):
        path = tmp_path / f"bytes{seed}.ckpt"
        path.write_bytes(random.Random(seed).randbytes(random.Random(seed).randint(1, 4096)))
        with pytest.raises(CheckpointError, match=f"ckpt_path={path}"):
            read_checkpoint(path, "ckpt_path")
