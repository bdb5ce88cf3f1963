"""Suppressions: a YAML file that mutes findings, each entry with a reason and an optional expiry.

A muted finding keeps its status (a FAIL stays a FAIL), is flagged ``muted`` with the entry's
reason, is shown apart in the report and does not count toward the exit code. An entry past its
expiry date no longer mutes anything and is reported as expired. The file format::

    suppressions:
      - check: TF02-IMAGE-PINNED          # check id (required); * and ? match like a shell glob
        account: "123456789012"           # optional: account id (quote it)
        region: us-east-1                 # optional
        resource: "legacy-*"              # optional: glob on the resource id or its ARN
        tags: {Environment: production}   # optional: the resource's tags must all match
        application: legacy               # optional: glob on the finding's application
        environment: production           # optional: glob on the finding's environment
        reason: "Retired in Q3; ticket OPS-123"   # required
        expires: 2027-06-30               # optional: from this day on the entry is expired

A malformed file is rejected with its line number and the problem.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import ConfigurationError

PARAMETER = "suppressions"
#: Keys an entry may have; ``check`` and ``reason`` are required.
KEYS = ("check", "account", "region", "resource", "tags", "application", "environment")
REQUIRED = ("check", "reason")
FIX = "see the format in README.md, section Suppressions (or data/demo/suppressions.yaml)."


@dataclass(frozen=True)
class Suppression:
    """One entry of a suppressions file."""

    check: str
    reason: str
    line: int = 0
    account: str = ""
    region: str = ""
    resource: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    application: str = ""
    environment: str = ""
    expires: date | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and today >= self.expires

    def describe(self) -> str:
        parts = [f"check={self.check}"]
        for key in ("account", "region", "resource", "application", "environment"):
            if getattr(self, key):
                parts.append(f"{key}={getattr(self, key)}")
        if self.tags:
            parts.append("tags=" + ",".join(f"{k}={v}" for k, v in self.tags.items()))
        return " ".join(parts)

    def matches(self, finding: dict[str, Any], tags: dict[str, str]) -> bool:
        def glob(pattern: str, value: Any) -> bool:
            return not pattern or fnmatch.fnmatchcase(str(value or ""), pattern)

        if not glob(self.check, finding["check_id"]):
            return False
        for key, col in (
            ("account", "account"),
            ("region", "region"),
            ("application", "application"),
            ("environment", "environment"),
        ):
            if not glob(getattr(self, key), finding[col]):
                return False
        if self.resource and not (
            glob(self.resource, finding["resource_id"])
            or (finding.get("resource_arn") and glob(self.resource, finding["resource_arn"]))
        ):
            return False
        return all(
            k in tags and fnmatch.fnmatchcase(str(tags[k]), str(v)) for k, v in self.tags.items()
        )


def _fail(path: str, line: int, problem: str) -> ConfigurationError:
    where = f"{path} line {line}" if line else path
    return ConfigurationError(PARAMETER, f"{where}: {problem}", FIX)


def _scalar(node: yaml.Node, path: str, key: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.value == "":
        raise _fail(path, node.start_mark.line + 1, f"'{key}' must be a non-empty text.")
    return str(node.value)


def _expiry(node: yaml.Node, path: str) -> date:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.ScalarNode):
        raise _fail(path, line, "'expires' must be a date such as 2027-06-30.")
    try:
        return date.fromisoformat(str(node.value).strip())
    except ValueError:
        raise _fail(
            path, line, f"'expires' {node.value!r} is not a date such as 2027-06-30."
        ) from None


def _entry(node: yaml.Node, path: str) -> Suppression:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise _fail(path, line, "each entry must be a mapping with at least 'check' and 'reason'.")
    values: dict[str, Any] = {"line": line}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        key_line = key_node.start_mark.line + 1
        if key in values:
            raise _fail(path, key_line, f"'{key}' is given twice in one entry.")
        if key == "tags":
            if not isinstance(value_node, yaml.MappingNode) or not value_node.value:
                raise _fail(path, key_line, "'tags' must be a mapping such as {Environment: dev}.")
            values["tags"] = {
                str(k.value): _scalar(v, path, f"tags.{k.value}") for k, v in value_node.value
            }
        elif key == "expires":
            values["expires"] = _expiry(value_node, path)
        elif key in KEYS or key == "reason":
            values[key] = _scalar(value_node, path, key).strip()
        else:
            allowed = ", ".join((*KEYS, "reason", "expires"))
            raise _fail(path, key_line, f"unknown key '{key}' (allowed: {allowed}).")
    for key in REQUIRED:
        if not values.get(key):
            why = " (every suppression needs a reason)" if key == "reason" else ""
            raise _fail(path, line, f"the entry has no '{key}'{why}.")
    return Suppression(**values)


def parse(text: str, path: str = "<suppressions>") -> list[Suppression]:
    """Entries of a suppressions file; raises ConfigurationError with the line of the problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise _fail(path, mark.line + 1 if mark else 0, f"not valid YAML ({problem}).") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode) or [k.value for k, _ in root.value] != [
        "suppressions"
    ]:
        raise _fail(path, root.start_mark.line + 1, "the file must hold one key, 'suppressions:'.")
    entries = root.value[0][1]
    if isinstance(entries, yaml.ScalarNode) and entries.value in ("", "null", "~"):
        return []
    if not isinstance(entries, yaml.SequenceNode):
        raise _fail(path, entries.start_mark.line + 1, "'suppressions' must be a list.")
    return [_entry(node, path) for node in entries.value]


def load(path: str | Path | None) -> list[Suppression]:
    """The entries of a suppressions file (none when no file is given)."""
    if not path:
        return []
    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(
            PARAMETER,
            f"{file} is not a file.",
            "give the path of a YAML suppressions file, or leave it empty.",
        )
    return parse(file.read_text(), str(file))


def today_utc() -> date:
    return datetime.now(UTC).date()


def _tag_index(inventory: Any) -> dict[str, dict[str, str]]:
    """Resource ARN or name -> its tags, from every inventory table that keeps tags."""
    index: dict[str, dict[str, str]] = {}
    if inventory is None:
        return index
    for frame in inventory.tables().values():
        if frame.empty or "tags" not in frame.columns:
            continue
        keys = [c for c in frame.columns if c.endswith("_arn") or c in ("arn", "name")]
        for _, row in frame.iterrows():
            raw = row["tags"]
            try:
                tags = json.loads(raw) if isinstance(raw, str) and raw else dict(raw or {})
            except (TypeError, ValueError):
                continue
            if not tags:
                continue
            for col in keys:
                if isinstance(row[col], str) and row[col]:
                    index.setdefault(row[col], tags)
    return index


def _first_hits(
    findings: pd.DataFrame, active: list[Suppression], inventory: Any
) -> list[Suppression | None]:
    tags = _tag_index(inventory) if any(e.tags for e in active) else {}
    hits: list[Suppression | None] = []
    for row in findings.to_dict(orient="records"):
        own = tags.get(row.get("resource_arn") or "") or tags.get(row["resource_id"]) or {}
        hits.append(next((e for e in active if e.matches(row, own)), None))
    return hits


def apply(
    findings: pd.DataFrame,
    entries: list[Suppression],
    inventory: Any = None,
    today: date | None = None,
) -> pd.DataFrame:
    """Mark the findings an unexpired entry matches as muted, with that entry's reason.

    The first matching entry wins; statuses are never changed.
    """
    out = findings.copy()
    active = [e for e in entries if not e.expired(today or today_utc())]
    if not active or out.empty:
        return out
    hits = _first_hits(out, active, inventory)
    out["muted"] = [bool(m) or h is not None for m, h in zip(out["muted"], hits, strict=True)]
    out["muted_reason"] = [
        h.reason if h else r for r, h in zip(out["muted_reason"], hits, strict=True)
    ]
    return out


def report(
    findings: pd.DataFrame,
    entries: list[Suppression],
    inventory: Any = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Per entry: its state (active or expired) and how many findings it mutes."""
    day = today or today_utc()
    active = [e for e in entries if not e.expired(day)]
    hits = _first_hits(findings, active, inventory) if active and not findings.empty else []
    return [
        {
            "line": e.line,
            "entry": e.describe(),
            "reason": e.reason,
            "expires": e.expires.isoformat() if e.expires else "",
            "state": "expired" if e.expired(day) else "active",
            "muted": sum(h is e for h in hits),
        }
        for e in entries
    ]
