"""What changed between two runs: new, resolved and changed findings, by their stable identity.

A finding's identity is (check_id, account, region, resource_id), the same in every run. Between
an OLD and a NEW run a finding is

* **new** when only NEW reports it (a new resource, or a check that did not exist),
* **resolved** when only OLD reports it (the resource or the check is gone),
* **changed** when both report it with another status, severity or mute (e.g. FAIL -> PASS).

Each side is a report folder (its ``findings.json``), a snapshot folder (evaluated by the checks
of this version, so an old snapshot can be judged by new checks) or a ``findings.json`` file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigurationError
from .findings import IDENTITY, STATUS_ORDER, from_records

COMPARED = ["status", "severity", "muted"]
CHANGE_COLUMNS = [
    *IDENTITY,
    "factor",
    "application",
    "environment",
    "old_status",
    "new_status",
    "old_severity",
    "new_severity",
    "old_muted",
    "new_muted",
    "message",
]


def load_findings(
    path: str | Path, parameter: str = "path", suppressions: str = ""
) -> pd.DataFrame:
    """The findings of a report folder, a snapshot folder or a findings.json file."""
    p = Path(path)
    if p.is_file() and p.suffix == ".json":
        return from_records(json.loads(p.read_text()))
    if (p / "findings.json").is_file():
        return from_records(json.loads((p / "findings.json").read_text()))
    if (p / "manifest.json").is_file():
        from .settings import resolve
        from .snapshot import Snapshot
        from .workbook import Workbook

        settings = resolve(source="snapshot", snapshot=p, suppressions=suppressions)
        snapshot = Snapshot.load(p)
        recorded = snapshot.manifest.get("settings", {})
        settings = settings.with_(
            regions=tuple(snapshot.regions),
            app_map=settings.app_map or recorded.get("app_map") or {},
        )
        return Workbook(settings, snapshot).findings
    raise ConfigurationError(
        parameter,
        f"{p} is neither a report folder (findings.json), a snapshot folder (manifest.json) "
        "nor a findings.json file.",
        "give the folder of a `twelvefactor audit` run, its snapshot/ folder, or a snapshot "
        "written by `twelvefactor snapshot`.",
    )


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """Index by identity; the rare repeated identity gets a running number so nothing is lost."""
    keyed = frame.copy()
    keyed["_n"] = keyed.groupby(IDENTITY, sort=False).cumcount()
    return keyed.set_index([*IDENTITY, "_n"])


@dataclass
class Diff:
    new: pd.DataFrame
    resolved: pd.DataFrame
    changed: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.new.empty and self.resolved.empty and self.changed.empty

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "resolved": len(self.resolved), "changed": len(self.changed)}

    def as_dict(self) -> dict[str, Any]:
        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return json.loads(frame.to_json(orient="records"))

        return {
            "counts": self.counts(),
            "new": rows(self.new),
            "resolved": rows(self.resolved),
            "changed": rows(self.changed),
        }

    def text(self, limit: int = 40) -> str:
        """The diff as plain text, worst first, at most ``limit`` lines per section."""
        c = self.counts()
        lines = [f"{c['new']} new, {c['resolved']} resolved, {c['changed']} changed findings"]

        def section(title: str, frame: pd.DataFrame, fmt) -> None:
            if frame.empty:
                return
            lines.append(f"\n{title} ({len(frame)}):")
            for row in frame.head(limit).to_dict(orient="records"):
                lines.append("  " + fmt(row))
            if len(frame) > limit:
                lines.append(f"  ... and {len(frame) - limit} more")

        def where(r: dict[str, Any]) -> str:
            return f"{r['check_id']} {r['region'] or '-'} {r['resource_id']}"

        section(
            "new",
            self.new,
            lambda r: f"{_mark(r['status'], r['muted'])} {where(r)}: {r['message']}",
        )
        section(
            "resolved",
            self.resolved,
            lambda r: f"{_mark(r['status'], r['muted'])} {where(r)} (no longer reported)",
        )
        section(
            "changed",
            self.changed,
            lambda r: (
                f"{_mark(r['old_status'], r['old_muted'])} -> "
                f"{_mark(r['new_status'], r['new_muted'])} {where(r)}"
                + (
                    f" (severity {r['old_severity']} -> {r['new_severity']})"
                    if r["old_severity"] != r["new_severity"]
                    else ""
                )
            ),
        )
        return "\n".join(lines)


def _mark(status: str, muted: bool) -> str:
    return f"{status}(muted)" if muted else status


def _worst_first(frame: pd.DataFrame, status_col: str) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return (
        frame.assign(_o=frame[status_col].map(order).fillna(len(order)))
        .sort_values(["_o", "factor", *IDENTITY], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def diff(old: pd.DataFrame, new: pd.DataFrame) -> Diff:
    """Compare two sets of findings by identity."""
    o, n = _keyed(old), _keyed(new)
    only_new = n.loc[n.index.difference(o.index, sort=False)].reset_index()
    only_old = o.loc[o.index.difference(n.index, sort=False)].reset_index()
    both = o.index.intersection(n.index, sort=False)
    oo, nn = o.loc[both], n.loc[both]
    moved = (oo[COMPARED] != nn[COMPARED]).any(axis=1)
    oo, nn = oo[moved], nn[moved]
    changed = pd.DataFrame(
        {
            "factor": nn["factor"],
            "application": nn["application"],
            "environment": nn["environment"],
            "old_status": oo["status"],
            "new_status": nn["status"],
            "old_severity": oo["severity"],
            "new_severity": nn["severity"],
            "old_muted": oo["muted"],
            "new_muted": nn["muted"],
            "message": nn["message"],
        },
        index=nn.index,
    ).reset_index()
    changed = changed.reindex(columns=CHANGE_COLUMNS)
    drop = ["_n"]
    return Diff(
        new=_worst_first(only_new.drop(columns=drop), "status"),
        resolved=_worst_first(only_old.drop(columns=drop), "status"),
        changed=_worst_first(changed, "new_status"),
    )


def diff_paths(old: str | Path, new: str | Path, suppressions: str = "") -> Diff:
    return diff(load_findings(old, "OLD", suppressions), load_findings(new, "NEW", suppressions))
