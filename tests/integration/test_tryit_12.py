""" "Try it" of factor XII: the reports-daily schedule is pinned to the revision reports runs."""

from __future__ import annotations

import pytest

from twelvefactor.demo import tryit
from twelvefactor.workbook import Workbook

CHECK = "TF12-SCHEDULE-PINNED"


@pytest.fixture(scope="module")
def demo_wb() -> Workbook:
    return Workbook.open(source="demo", endpoint_url="")


def test_pinning_turns_the_schedule_and_keeps_its_release(demo_wb, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    key = ["resource_id", "status"]
    before = set(map(tuple, demo_wb.findings_for(check_id=CHECK)[key].values))
    assert ("schedule/reports-daily", "FAIL") in before

    result = tryit.exercise(demo_wb, CHECK)

    assert result.flipped, result
    after_wb = result.workbook
    after = set(map(tuple, after_wb.findings_for(check_id=CHECK)[key].values))
    assert before - after == {("schedule/reports-daily", "FAIL")}
    assert after - before == {("schedule/reports-daily", "PASS")}
    jobs = after_wb.evidence("TF12-ADMIN-SAME-RELEASE").set_index("job")
    assert bool(jobs.loc["schedule/reports-daily", "pinned"])
    assert jobs.loc["schedule/reports-daily", "task_definition"] == "reports-prod:1"
    assert jobs.loc["schedule/reports-daily", "status"] == "PASS"
    assert "FAIL -> PASS" in result.note
