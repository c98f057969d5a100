"""The package's layers: library folders (data, encoders, envs, agents, metrics, report, runtime) never
import a command module, and every command's ``main`` lives at the top of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import rlrec

PACKAGE = Path(rlrec.__file__).parent
COMMAND_MODULES = {path.stem for path in PACKAGE.glob("*.py") if path.stem not in ("__init__", "config")}


def library_modules() -> list[Path]:
    return sorted(path for path in PACKAGE.glob("*/**/*.py"))


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_command_modules_are_the_ones_expected():
    expected = {
        "train",
        "experiment",
        "evaluate",
        "recommend",
        "encode",
        "prepare",
        "report_cli",
        "rank_worker",
    }
    assert expected <= COMMAND_MODULES


def test_no_library_folder_imports_a_command_module():
    upward = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in library_modules()
        for name in imported_modules(path)
        if name.split(".")[:2] in ([["rlrec", stem] for stem in COMMAND_MODULES])
    }
    assert not upward, sorted(upward)


def test_every_main_is_at_the_top_of_the_package():
    mains = [
        str(path.relative_to(PACKAGE))
        for path in library_modules()
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name == "main"
    ]
    assert not mains, mains
