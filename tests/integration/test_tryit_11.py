""" "Try it" of factor XI: payments' production log group gets a retention, and only it."""

from __future__ import annotations

import pytest

from twelvefactor.demo import tryit
from twelvefactor.workbook import Workbook

CHECK = "TF11-LOG-RETENTION"


@pytest.fixture(scope="module")
def demo_wb() -> Workbook:
    return Workbook.open(source="demo", endpoint_url="")


def test_retention_turns_the_production_group_only(demo_wb, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    key = ["resource_id", "status"]
    before = set(map(tuple, demo_wb.findings_for(check_id=CHECK)[key].values))
    assert {("/ecs/payments-prod", "FAIL"), ("/ecs/payments-staging", "FAIL")} <= before

    result = tryit.exercise(demo_wb, CHECK)

    assert result.flipped, result
    after_wb = result.workbook
    after = set(map(tuple, after_wb.findings_for(check_id=CHECK)[key].values))
    assert before - after == {("/ecs/payments-prod", "FAIL")}
    assert after - before == {("/ecs/payments-prod", "PASS")}
    table = after_wb.evidence(CHECK).set_index("log_group")
    assert table.loc["/ecs/payments-prod", "retention_days"] == 90
    assert "FAIL -> PASS" in result.note
