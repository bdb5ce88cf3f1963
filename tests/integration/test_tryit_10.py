""" "Try it" of factor X: payments' production moves to staging's Fargate platform version."""

from __future__ import annotations

import pytest

from twelvefactor.demo import tryit
from twelvefactor.workbook import Workbook

CHECK = "TF10-PLATFORM-VERSION"


@pytest.fixture(scope="module")
def demo_wb() -> Workbook:
    return Workbook.open(source="demo", endpoint_url="")


def test_platform_version_turns_payments_only(demo_wb, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    key = ["resource_id", "status"]
    before = set(map(tuple, demo_wb.findings_for(check_id=CHECK)[key].values))
    assert ("payments", "FAIL") in before

    result = tryit.exercise(demo_wb, CHECK)

    assert result.flipped, result
    after_wb = result.workbook
    after = set(map(tuple, after_wb.findings_for(check_id=CHECK)[key].values))
    assert before - after == {("payments", "FAIL")}
    assert after - before == {("payments", "PASS")}
    table = after_wb.evidence(CHECK)
    prod = table[(table["service"] == "payments") & (table["environment"] == "production")]
    assert prod["platform_version"].tolist() == ["LATEST"]
    assert "FAIL -> PASS" in result.note
