"""What the fault tests share: findings as whole tables, and the rule a degraded run must keep.

The rule: a run that lost some data (denied, throttled past its retries) may differ from a clean
run only by ``ERROR``/``SKIP`` findings; every check that needs a lost action says so by name; no
finding that needs lost data is ``PASS``. A check that does not need the lost action keeps every
verdict (check, resource, place, status); its message or evidence may say what it could not see
(e.g. "images not listed").
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterable
from functools import cache

import pandas as pd

from twelvefactor.catalog import load_catalog
from twelvefactor.checks import registry

NOT_EVALUATED = {"ERROR", "SKIP"}


def rows(findings: pd.DataFrame) -> set[tuple]:
    """Every finding as one tuple of all its columns (the whole table, order-free)."""
    frame = findings.astype(str)
    return set(frame.itertuples(index=False, name=None))


VERDICT = ["check_id", "resource_id", "region", "application", "environment", "status"]


def verdicts(findings: pd.DataFrame) -> set[tuple]:
    """What each finding decided, without its wording."""
    return rows(findings[VERDICT])


def checks_needing(actions: Iterable[str]) -> set[str]:
    """Implemented checks whose catalog entry needs any of ``actions``."""
    wanted = {a.lower() for a in actions}
    implemented = registry()
    return {
        meta.id
        for meta in load_catalog().values()
        if meta.id in implemented and wanted & {a.lower() for a in meta.iam_actions}
    }


def assert_degraded_honestly(
    clean: pd.DataFrame, degraded: pd.DataFrame, errors: list[dict], lost: Iterable[str]
) -> dict[str, int]:
    """``degraded`` lost the actions ``lost`` (``errors`` are its collection errors).

    Returns counts for the report: findings that changed, and affected checks.
    """
    lost = set(lost)
    columns = list(clean.columns)
    assert list(degraded.columns) == columns
    gained = verdicts(degraded) - verdicts(clean)
    status = VERDICT.index("status")
    check = columns.index("check_id")
    message = columns.index("message")
    region = columns.index("region")
    arn = columns.index("resource_arn")
    # 1. no new verdict but "could not evaluate": no new PASS, no new FAIL
    wrong = [r for r in gained if r[status] not in NOT_EVALUATED]
    before = verdicts(clean)
    assert not wrong, "verdicts only the degraded run has (clean run's for the resource):\n" + (
        "\n".join(f"{r} (clean: {[v for v in before if v[:2] == r[:2]]})" for r in wrong[:8])
    )
    # 2. the run's errors list every lost action
    failed = {e["action"] for e in errors}
    for action in lost:
        assert action in failed, f"{action} is not among the run's errors"
    # 3. every check needing a lost action says ERROR naming it, and has no PASS where it failed
    affected = checks_needing(lost)
    assert affected, f"no implemented check needs {sorted(lost)}: the test would prove nothing"
    by_check: dict[str, list[tuple]] = {}
    for r in rows(degraded):
        by_check.setdefault(r[check], []).append(r)
    status = columns.index("status")
    for check_id in affected:
        mine = by_check.get(check_id, [])
        needed = {a for a in lost if a in load_catalog()[check_id].iam_actions}
        named = [r for r in mine if r[status] == "ERROR" and any(a in r[message] for a in needed)]
        assert named, f"{check_id} does not name {sorted(needed)} in an ERROR finding"
        # the engine's rule, checked end to end: a gap of a whole region (a failed list) taints
        # every PASS there; a gap of one resource taints that resource's PASS
        wide = {e["region"] for e in errors if e["action"] in needed and not e.get("resource")}
        resources = {e["resource"] for e in errors if e["action"] in needed and e.get("resource")}
        passes = [
            r
            for r in mine
            if r[status] == "PASS" and (set(r[region].split(",")) & wide or r[arn] in resources)
        ]
        assert not passes, f"{check_id} PASSes without the data of {sorted(needed)}: {passes}"
    # 4. checks needing nothing lost keep every verdict
    for check_id in set(clean["check_id"]) - affected:
        before = verdicts(clean[clean["check_id"] == check_id])
        after = verdicts(degraded[degraded["check_id"] == check_id])
        assert before == after, f"{check_id} needs none of {sorted(lost)} but changed its verdicts"
    return {
        "new_error_or_skip_verdicts": len(gained),
        "affected_checks": len(affected),
        "reworded_findings": len(rows(degraded) - rows(clean)) - len(gained),
    }


@cache
def clean_demo():
    """The demo account collected and checked once per test session (several modules use it)."""
    from conftest import clean_environment

    from twelvefactor.workbook import Workbook

    with clean_environment():
        wb = Workbook.open(source="demo")
    wb.findings  # noqa: B018 - computed once, here
    return wb


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_api(endpoint: str, path: str, data: bytes = b"") -> bytes:
    """POST to a moto server's own API (reset-auth, recorder ...)."""
    request = urllib.request.Request(
        endpoint + path, method="POST", data=data, headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local moto
        return response.read()
