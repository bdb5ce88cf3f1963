"""Throttling and 5xx answers on a share of calls (TWELVEFACTOR_FAULTS, a test switch).

Within the retry budget the audit's findings are identical to a clean run's, as whole tables; when
the retries are exhausted, the checks that needed the call say ERROR and name its IAM action.
The backoff sleeps between attempts are skipped here (the attempts themselves are real), so the
test does not wait out botocore's jitter.
"""

from __future__ import annotations

import botocore.retries.standard
import pytest
from conftest import unexpected_errors
from faultkit import assert_degraded_honestly, clean_demo, rows

from twelvefactor.aws import FaultPlan
from twelvefactor.errors import ConfigurationError
from twelvefactor.settings import resolve
from twelvefactor.workbook import Workbook

LOST = ("ssm:DescribeParameters", "ecr:DescribeImages")


@pytest.fixture(scope="module")
def clean_run():
    return clean_demo()


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", _no_delay)


def _no_delay(self, context):
    return 0


def faulty_run(monkeypatch, plan: str) -> Workbook:
    monkeypatch.setenv("TWELVEFACTOR_FAULTS", plan)
    return Workbook.open(source="demo")


def test_faults_are_off_unless_the_switch_is_set():
    assert resolve().faults == ""
    assert FaultPlan.parse("") is None


def test_transient_faults_within_the_retry_budget_change_no_finding(
    clean_run, monkeypatch, no_backoff
):
    plan = "share=0.3;attempts=2;seed=11"
    faulty = faulty_run(monkeypatch, plan)
    calls = faulty.snapshot.manifest["api_calls"]
    total = sum(c["calls"] for c in calls)
    retries = sum(c["retries"] for c in calls)
    faulted = retries // 2  # each faulted call failed twice, then went through
    print(
        f"\nfaults: {faulted} of {total} calls faulted ({faulted / total:.0%}), 2 attempts each "
        f"(429/ThrottlingException or 503), {retries} retries; findings identical: "
        f"{rows(faulty.findings) == rows(clean_run.findings)}"
    )
    assert retries >= 0.15 * total * 2, "the switch injected (almost) nothing"
    clean_calls = clean_run.snapshot.manifest["api_calls"]
    # the same calls, failing as often as in the clean run (e.g. "no lifecycle policy")
    assert {(c["action"], c["calls"], c["errors"]) for c in calls} == {
        (c["action"], c["calls"], c["errors"]) for c in clean_calls
    }
    assert unexpected_errors(faulty.snapshot.manifest["errors"]) == []
    assert faulty.snapshot.manifest["settings"]["faults"] == plan  # the run says it was faulty
    assert rows(faulty.findings) == rows(clean_run.findings)
    assert len(faulty.findings) == len(clean_run.findings) > 50


def test_exhausted_retries_become_errors_naming_the_action(clean_run, monkeypatch, no_backoff):
    faulty = faulty_run(monkeypatch, f"share=1;attempts=99;seed=3;actions={','.join(LOST)}")
    errors = unexpected_errors(faulty.snapshot.manifest["errors"])
    assert {e["action"] for e in errors} == set(LOST)
    assert {e["kind"] for e in errors} <= {"throttled", "error"}
    retries = {c["action"]: c for c in faulty.snapshot.manifest["api_calls"]}
    for action in LOST:
        assert retries[action]["errors"] == retries[action]["calls"] > 0
    figures = assert_degraded_honestly(clean_run.findings, faulty.findings, errors, LOST)
    print(f"\nretries exhausted on {', '.join(LOST)}: {len(errors)} failed calls, {figures}")


@pytest.mark.parametrize(
    "plan",
    ["share=2", "share=0.1;attempts=0", "share=x", "shares=0.1", "share=0.1;share=0.2", "share"],
)
def test_a_malformed_plan_names_the_variable(monkeypatch, plan):
    monkeypatch.setenv("TWELVEFACTOR_FAULTS", plan)
    with pytest.raises(ConfigurationError) as info:
        resolve()
    assert str(info.value).startswith("TWELVEFACTOR_FAULTS: ")
    assert "Fix: " in str(info.value)
