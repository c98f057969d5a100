"""The README's commands are real: every ``rlrec train`` line composes, every make target exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def readme_train_lines() -> list[list[str]]:
    lines = re.findall(r"^rlrec train(.*?)(?:\s+#.*)?$", README, flags=re.MULTILINE)
    return [shlex.split(line) for line in lines]


def test_readme_has_train_commands():
    assert len(readme_train_lines()) >= 3


def test_readme_shows_make_train_and_make_test_first():
    first_block = README.split("```")[1]
    assert "make train" in first_block and "make test" in first_block


@pytest.mark.parametrize("args", readme_train_lines(), ids=" ".join)
def test_readme_train_commands_compose(args, tmp_path):
    overrides = [arg for arg in args if not arg.startswith("-") and arg != "job"]
    sweep = "-m" in args
    expanded = [o.split(",")[0] if sweep else o for o in overrides]  # a grid's first point
    compose_config(*expanded, output_dir=tmp_path, tiny=False)


def readme_data_lines() -> list[list[str]]:
    lines = re.findall(r"^rlrec data prepare(.*?)(?:\s+#.*)?$", README, flags=re.MULTILINE)
    return [shlex.split(line) for line in lines]


def test_readme_has_data_prepare_commands():
    assert len(readme_data_lines()) >= 3


@pytest.mark.parametrize("args", readme_data_lines(), ids=" ".join)
def test_readme_data_prepare_commands_compose(args, tmp_path):
    compose_config(*args, output_dir=tmp_path, tiny=False)


def test_readme_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"`make ([a-z-]+)", README)):
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), target
