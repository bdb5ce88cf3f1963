""" "Try it" of factor IX: payments' health check that cannot fail is replaced by a real one."""

from __future__ import annotations

import pytest

from twelvefactor.demo import tryit
from twelvefactor.workbook import Workbook

CHECK = "TF09-HEALTH-CHECK"


@pytest.fixture(scope="module")
def demo_wb() -> Workbook:
    return Workbook.open(source="demo", endpoint_url="")


def test_payments_health_check_can_fail_after_the_exercise(demo_wb, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    before = demo_wb.findings_for(check_id=CHECK).set_index("resource_id")
    assert before.loc["payments-prod:1/app", "status"] == "FAIL"
    assert "cannot fail" in before.loc["payments-prod:1/app", "message"]

    result = tryit.exercise(demo_wb, CHECK)

    assert result.flipped, result
    after = result.workbook.findings_for(check_id=CHECK).set_index("resource_id")
    # the service now runs (and the family's latest is) revision 2, with the real probe
    assert "payments-prod:1/app" not in after.index
    assert after.loc["payments-prod:2/app", "status"] == "PASS"
    assert "exit 1" in after.loc["payments-prod:2/app", "message"]
    # staging keeps its useless check: the exercise changed production only
    assert after.loc["payments-staging:1/app", "status"] == "FAIL"
    assert list(result.table["before"]) == ["payments-prod:1/app"]
    assert list(result.table["after"]) == ["payments-prod:2/app"]
