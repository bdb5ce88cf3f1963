""" "Try it" of factor VIII: payments gets a real scaling range and policy; its finding flips."""

from __future__ import annotations

import json

import pytest

from twelvefactor.demo import tryit
from twelvefactor.workbook import Workbook

CHECK = "TF08-AUTOSCALING"


@pytest.fixture(scope="module")
def demo_wb() -> Workbook:
    return Workbook.open(source="demo", endpoint_url="")


def test_payments_scales_after_the_exercise(demo_wb, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    before = demo_wb.findings_for(check_id=CHECK).set_index("resource_id")
    assert before.loc["shop-prod/payments", "status"] == "FAIL"

    result = tryit.exercise(demo_wb, CHECK)

    assert result.flipped, result
    after = result.workbook.findings_for(check_id=CHECK).set_index("resource_id")
    payments = after.loc["shop-prod/payments"]
    assert payments["status"] == "PASS"
    assert json.loads(payments["evidence"])["scaling"] | {"suspended": []} == {
        "min": 2,
        "max": 8,
        "policies": 1,
        "policy_types": "TargetTrackingScaling",
        "scheduled_actions": 0,
        "suspended": [],
    }
    # a targeted change: every other service keeps its finding
    others = after.index != "shop-prod/payments"
    assert (
        after[others]["status"].to_dict()
        == before[before.index != "shop-prod/payments"]["status"].to_dict()
    )
    # the capacity picture's table follows
    from twelvefactor.checks.concurrency import capacity_table

    row = capacity_table(result.workbook).set_index("service").loc["shop-prod/payments"]
    assert (row["min"], row["max"]) == (2, 8)
