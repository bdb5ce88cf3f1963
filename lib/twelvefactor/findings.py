"""The one schema of findings, as a frozen dataclass and as a DataFrame with fixed columns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

import pandas as pd


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    INFO = "INFO"
    SKIP = "SKIP"
    ERROR = "ERROR"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATIONAL = "informational"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


COLUMNS = [
    "check_id",
    "factor",
    "title",
    "status",
    "severity",
    "account",
    "region",
    "application",
    "environment",
    "resource_type",
    "resource_id",
    "resource_arn",
    "message",
    "evidence",
    "muted",
    "muted_reason",
]

#: The stable identity of a finding across runs: what diff and suppressions match on.
IDENTITY = ["check_id", "account", "region", "resource_id"]

#: Worst first: how statuses rank when several findings meet in one cell of the scorecard.
STATUS_ORDER = ["FAIL", "ERROR", "SKIP", "INFO", "PASS"]


@dataclass(frozen=True)
class Result:
    """What a check yields: a verdict on one resource. The engine adds the check's metadata."""

    status: Status
    message: str
    resource_type: str
    resource_id: str
    resource_arn: str = ""
    account: str = ""
    region: str = ""
    application: str = ""
    environment: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    check_id: str
    factor: int
    title: str
    status: Status
    severity: Severity
    account: str
    region: str
    application: str
    environment: str
    resource_type: str
    resource_id: str
    resource_arn: str
    message: str
    evidence: str  # a JSON string
    muted: bool = False  # set by a suppression; the status stays what the check said
    muted_reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        # every field is a str, int or bool (evidence is JSON text): a shallow copy is a copy,
        # without dataclasses.asdict's deep copy (a second of 20,000 findings)
        row = {name: getattr(self, name) for name in _FIELDS}
        row["status"] = self.status.value
        row["severity"] = self.severity.value
        return row


_FIELDS = tuple(f.name for f in fields(Finding))


def evidence_json(evidence: dict[str, Any]) -> str:
    return json.dumps(evidence, sort_keys=True, default=str)


def to_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a DataFrame with the columns of DESIGN.md, in order; empty input too."""
    frame = pd.DataFrame([f.as_dict() for f in findings], columns=COLUMNS)
    frame["factor"] = frame["factor"].astype("int64")
    frame["muted"] = frame["muted"].astype("bool")
    return frame.sort_values(
        ["factor", "check_id", "account", "region", "resource_id"], kind="stable"
    ).reset_index(drop=True)


def identity(row: dict[str, Any] | pd.Series) -> tuple[str, str, str, str]:
    """(check_id, account, region, resource_id): one finding, the same in every run."""
    return tuple(str(row[k]) for k in IDENTITY)  # type: ignore[return-value]


def from_records(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Findings read back from findings.json (older files without ``muted`` columns too)."""
    frame = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = False if col == "muted" else ""
    frame = frame[COLUMNS].copy()
    frame["factor"] = frame["factor"].astype("int64")
    frame["muted"] = frame["muted"].fillna(False).astype("bool")
    for col in COLUMNS:
        if col not in ("factor", "muted"):
            frame[col] = frame[col].fillna("").astype(str)
    return frame.reset_index(drop=True)
