"""The check catalog: metadata of every check, as data in data/checks/NN-<factor>.yaml."""

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
#: libyaml's safe loader where PyYAML has it: the catalog is read in every notebook's kernel, and
#: the pure-Python loader takes over a second for it (about 13 times as long)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    """Every check of every catalog file, in factor and file order."""
    catalog: dict[str, CheckMeta] = {}
    for path in sorted((data_dir() / "checks").glob("*.yaml")):
        for entry in yaml.load(path.read_text(), Loader=_YAML_LOADER)["checks"]:
            meta = _entry(entry, path.name)
            if meta.id in catalog:
                raise ConfigurationError(path.name, f"{meta.id} is defined twice.", "keep one.")
            catalog[meta.id] = meta
    return dict(sorted(catalog.items(), key=lambda item: item[1].factor))  # stable: file order


def _entry(entry: dict, source: str) -> CheckMeta:
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise ConfigurationError(
            source, f"entry {entry.get('id', '?')} lacks {missing}.", "add the fields."
        )
    if not ID_RE.match(entry["id"]) or int(entry["id"][2:4]) != entry["factor"]:
        raise ConfigurationError(
            source,
            f"bad id {entry['id']!r} for factor {entry['factor']}.",
            "ids are TF<NN>-<SLUG> with NN the factor number.",
        )
    return CheckMeta(
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
