"""The demo scenario file (data/demo/scenario.yaml) as a small typed object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigurationError
from ..settings import data_dir


@dataclass(frozen=True)
class Scenario:
    name: str
    account: str
    seed: int
    regions: tuple[str, ...]
    redaction_salt: str
    planted_secrets: tuple[str, ...]
    resources: dict[str, dict[str, Any]]
    expected_findings: dict[str, dict[str, str]] = field(default_factory=dict)
    #: local source repositories of the demo shop (absolute paths), for the repository checks
    repo_paths: tuple[str, ...] = ()

    def expected_rows(self) -> set[tuple[str, str, str]]:
        """{(check_id, resource_id, status)} the audit of this scenario must produce."""
        return {
            (check_id, resource, status)
            for check_id, rows in self.expected_findings.items()
            for resource, status in rows.items()
        }


def load_scenario(path: str | Path | None = None) -> Scenario:
    path = Path(path) if path else data_dir() / "demo" / "scenario.yaml"
    if not path.is_file():
        raise ConfigurationError(
            "scenario", f"no demo scenario at {path}.", "restore data/demo/scenario.yaml."
        )
    raw = yaml.safe_load(path.read_text())
    expected = dict(raw.get("expected_findings") or {})
    # further expected findings, one file per factor: data/demo/expected/NN-<factor>.yaml
    for extra in sorted((path.parent / "expected").glob("*.yaml")):
        for check_id, rows in (yaml.safe_load(extra.read_text()) or {}).items():
            if check_id in expected:
                raise ConfigurationError(
                    "scenario", f"{check_id} is expected in two files.", f"keep one ({extra.name})."
                )
            expected[check_id] = rows
    return Scenario(
        name=raw["name"],
        account=str(raw["account"]),
        seed=int(raw["seed"]),
        regions=tuple(raw["regions"]),
        redaction_salt=raw.get("redaction_salt", ""),
        planted_secrets=tuple(raw.get("planted_secrets", ())),
        resources=raw["regions_resources"],
        expected_findings=expected,
        repo_paths=tuple(
            str((path.parent / p).resolve())
            for p in raw.get("repo_paths", ())
            if (path.parent / p).is_dir()
        ),
    )
