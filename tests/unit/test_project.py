"""The project follows its own rules: documented environment, pinned dependencies."""

from __future__ import annotations

import re
from pathlib import Path

from twelvefactor.settings import ENVIRONMENT_VARIABLES

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_variable_the_tool_reads():
    documented = set(re.findall(r"^# ([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented == set(ENVIRONMENT_VARIABLES)
    read = set()
    for path in (ROOT / "lib").rglob("*.py"):
        read |= set(re.findall(r"\"(TWELVEFACTOR_[A-Z_]+)\"", path.read_text()))
    assert len(read) >= 5
    assert read <= set(ENVIRONMENT_VARIABLES), read - set(ENVIRONMENT_VARIABLES)


def test_every_dependency_is_pinned_in_the_lock_file():
    lock = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line
    }
    pyproject = (ROOT / "pyproject.toml").read_text()
    declared = re.findall(r'^\s+"([A-Za-z0-9_.-]+)(?:\[[a-z,]+\])?[<>=]', pyproject, re.M)
    assert declared
    for name in declared:
        assert name.lower().replace("_", "-") in lock, f"{name} is not pinned in requirements.lock"
