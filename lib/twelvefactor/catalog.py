"""The check catalog: metadata of every check, as data in data/checks.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import yaml

from .errors import ConfigurationError
from .findings import Severity
from .settings import data_dir

ID_RE = re.compile(r"^TF(0[1-9]|1[0-2])-[A-Z0-9]+(-[A-Z0-9]+)*$")
REQUIRED = ("id", "factor", "title", "severity", "resource_type", "rationale", "remediation")


@dataclass(frozen=True)
class CheckMeta:
    id: str
    factor: int
    title: str
    severity: Severity
    resource_type: str
    rationale: str
    remediation: str
    references: tuple[str, ...] = ()
    related: dict[str, tuple[str, ...]] = field(default_factory=dict)
    iam_actions: tuple[str, ...] = ()


@cache
def load_catalog() -> dict[str, CheckMeta]:
    path = data_dir() / "checks.yaml"
    raw = yaml.safe_load(path.read_text())
    catalog: dict[str, CheckMeta] = {}
    for entry in raw["checks"]:
        missing = [k for k in REQUIRED if k not in entry]
        if missing:
            raise ConfigurationError(
                "checks.yaml", f"entry {entry.get('id', '?')} lacks {missing}.", "add the fields."
            )
        if not ID_RE.match(entry["id"]) or int(entry["id"][2:4]) != entry["factor"]:
            raise ConfigurationError(
                "checks.yaml",
                f"bad id {entry['id']!r} for factor {entry['factor']}.",
                "ids are TF<NN>-<SLUG> with NN the factor number.",
            )
        catalog[entry["id"]] = CheckMeta(
            id=entry["id"],
            factor=int(entry["factor"]),
            title=entry["title"],
            severity=Severity(entry["severity"]),
            resource_type=entry["resource_type"],
            rationale=" ".join(entry["rationale"].split()),
            remediation=" ".join(entry["remediation"].split()),
            references=tuple(entry.get("references", ())),
            related={k: tuple(v) for k, v in (entry.get("related") or {}).items()},
            iam_actions=tuple(entry.get("iam_actions", ())),
        )
    return catalog
