""" "Try it" of factor VII: the payments tasks lose their public IP addresses, and only they."""

from __future__ import annotations

import pytest

from twelvefactor.demo import tryit
from twelvefactor.workbook import Workbook

CHECK = "TF07-NO-PUBLIC-IP"


@pytest.fixture(scope="module")
def demo_wb() -> Workbook:
    return Workbook.open(source="demo", endpoint_url="")


def test_public_ip_turns_off_for_payments_only(demo_wb, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    key = ["resource_id", "status"]
    before = set(map(tuple, demo_wb.findings_for(check_id=CHECK)[key].values))
    assert ("shop-prod/payments", "FAIL") in before

    result = tryit.exercise(demo_wb, CHECK)

    assert result.flipped, result
    after_wb = result.workbook
    after = set(map(tuple, after_wb.findings_for(check_id=CHECK)[key].values))
    assert before - after == {("shop-prod/payments", "FAIL")}
    assert after - before == {("shop-prod/payments", "PASS")}
    # the service keeps its subnets: only the public address went
    row = after_wb.evidence(CHECK).set_index("service").loc["shop-prod/payments"]
    assert row["assign_public_ip"] == "DISABLED" and row["subnets"] == 1
    # still exported through Cloud Map (the change did not cut it off)
    exported = after_wb.findings_for(check_id="TF07-SERVICE-EXPORTED").set_index("resource_id")
    assert exported.loc["shop-prod/payments", "status"] == "PASS"
    assert "FAIL -> PASS" in result.note
