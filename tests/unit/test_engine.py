"""Unit tests for the check engine (twelvefactor.checks): the rules every check shares."""

from __future__ import annotations

import pytest
from fixtures import ACCOUNT, REGION, error, evidence, settings, snapshot, td, td_arn

from twelvefactor import checks
from twelvefactor.catalog import CheckMeta, load_catalog
from twelvefactor.findings import COLUMNS, Finding, Result, Severity, Status, to_frame
from twelvefactor.inventory import Inventory

CHECK_ID = "TF03-UNIT-TEST"
OTHER_REGION = "us-east-1"
META = CheckMeta(
    id=CHECK_ID,
    factor=3,
    title="A check that exists only in the unit tests",
    severity=Severity.LOW,
    resource_type="AwsEcsTaskDefinition",
    rationale="Tests the engine.",
    remediation="None needed.",
    iam_actions=("ecs:DescribeTaskDefinition",),
)


def inventory(**kw) -> Inventory:
    snap = snapshot(**kw)
    return Inventory(snap, settings(regions=tuple(snap.regions)))


def verdict(status: Status, region: str = REGION, arn: str = "", rid: str = "orders-api-prod:1"):
    """A check function yielding one result."""

    def fn(inv, config):
        yield Result(
            status=status,
            message=f"{status} on {rid}.",
            resource_type=META.resource_type,
            resource_id=rid,
            resource_arn=arn,
            account=inv.account,
            region=region,
        )

    return fn


@pytest.fixture
def temporary_check(monkeypatch):
    """Registers ``fn`` under CHECK_ID (registry and catalog) for one test, then removes it."""
    checks.registry()  # import the real checks first, so they register into the real REGISTRY
    catalog = load_catalog()
    monkeypatch.setattr(checks, "REGISTRY", dict(checks.REGISTRY))
    monkeypatch.setattr(checks, "ACCOUNT_SCOPE", set(checks.ACCOUNT_SCOPE))
    monkeypatch.setitem(catalog, CHECK_ID, META)

    def register(fn, *, account_scope: bool = False):
        checks.check(CHECK_ID, account_scope=account_scope)(fn)
        return fn

    return register


def test_registering_twice_is_refused(temporary_check):
    temporary_check(verdict(Status.PASS))
    with pytest.raises(ValueError, match="registered twice"):
        checks.check(CHECK_ID)(verdict(Status.FAIL))


def test_run_checks_runs_a_registered_check_with_catalog_metadata(temporary_check):
    temporary_check(verdict(Status.FAIL))
    inv = inventory()
    (f,) = checks.run_checks(inv, inv.settings, ids=[CHECK_ID])
    assert isinstance(f, Finding)
    assert (f.check_id, f.factor, f.title, f.severity) == (CHECK_ID, 3, META.title, "low")
    assert f.status == Status.FAIL
    assert f.account == ACCOUNT
    assert f.evidence == "{}"


def test_run_checks_filters_by_factor_and_id(temporary_check):
    temporary_check(verdict(Status.PASS))
    inv = inventory()
    with_checks = {meta.factor for meta in load_catalog().values()} | {3}
    for factor in set(range(1, 13)) - with_checks:  # factors with no checks give nothing
        assert checks.run_checks(inv, inv.settings, factors=[factor]) == []
    assert checks.run_checks(inv, inv.settings, factors=[]) == []
    assert checks.run_checks(inv, inv.settings, ids=["TF99-NOPE"]) == []
    ids = {f.check_id for f in checks.run_checks(inv, inv.settings, factors=[3])}
    assert CHECK_ID in ids
    assert "TF03-SECRETS-IN-ENV" in ids


def test_every_registered_check_has_a_catalog_entry():
    assert set(checks.registry()) <= set(load_catalog())


def test_raising_check_gives_one_error():
    def broken(inv, config):
        yield Result(Status.PASS, "never seen", "AwsEcsTaskDefinition", "x", account=inv.account)
        raise RuntimeError("boom " * 100)

    inv = inventory(regions=(REGION, OTHER_REGION))
    (f,) = checks.run_check(META, broken, inv, inv.settings)
    assert f.status == Status.ERROR
    assert f.resource_id == "*"
    assert f.region == f"{REGION},{OTHER_REGION}"
    assert f.message.startswith("The check itself failed (RuntimeError: boom")
    assert evidence(f)["exception"] == "RuntimeError"
    assert len(evidence(f)["detail"]) <= 300


def test_raising_check_keeps_the_gap_findings():
    def broken(inv, config):
        raise KeyError("column")

    inv = inventory(errors=[error("ecs", "DescribeTaskDefinition")])
    findings = checks.run_check(META, broken, inv, inv.settings)
    assert [f.status for f in findings] == [Status.ERROR, Status.ERROR]
    assert "ecs:DescribeTaskDefinition" in findings[0].message
    assert "KeyError" in findings[1].message


def test_check_yielding_nothing_gives_one_skip():
    inv = inventory(regions=(REGION, OTHER_REGION))
    (f,) = checks.run_check(META, lambda inv, config: iter(()), inv, inv.settings)
    assert f.status == Status.SKIP
    assert f.resource_id == "*"
    assert f.resource_type == META.resource_type
    assert f.region == f"{REGION},{OTHER_REGION}"
    assert f.message == (
        f"Nothing to evaluate: no AwsEcsTaskDefinition in scope in {REGION}, {OTHER_REGION}."
    )


def test_check_yielding_nothing_with_a_gap_gives_only_the_error():
    inv = inventory(errors=[error("ecs", "DescribeTaskDefinition")])
    (f,) = checks.run_check(META, lambda inv, config: [], inv, inv.settings)
    assert f.status == Status.ERROR


def test_gap_finding_names_the_action_and_the_fix():
    inv = inventory(errors=[error("ecs", "DescribeTaskDefinition", OTHER_REGION)])
    (f,) = checks.run_check(META, lambda inv, config: [], inv, inv.settings)
    assert f.message == (
        f"Could not evaluate: ecs:DescribeTaskDefinition failed in {OTHER_REGION} "
        "(AccessDeniedException); grant ecs:DescribeTaskDefinition to the audit role and run "
        "again."
    )
    assert f.region == OTHER_REGION
    assert f.resource_id == OTHER_REGION
    assert f.resource_arn == ""
    assert evidence(f)["missing_action"] == "ecs:DescribeTaskDefinition"
    assert evidence(f)["error"]["code"] == "AccessDeniedException"


def test_gap_other_than_access_denied_says_run_again():
    arn = td_arn("orders-api-prod")
    inv = inventory(errors=[error("ecs", "DescribeTaskDefinition", resource=arn, kind="throttled")])
    (f,) = checks.run_check(META, lambda inv, config: [], inv, inv.settings)
    assert "(ThrottlingException); run again" in f.message
    assert (f.resource_id, f.resource_arn) == (arn, arn)


def test_gaps_on_actions_the_check_does_not_need_are_ignored():
    inv = inventory(errors=[error("ssm", "DescribeParameters"), error("ecs", "ListClusters")])
    findings = checks.run_check(META, verdict(Status.PASS), inv, inv.settings)
    assert [f.status for f in findings] == [Status.PASS]


def test_gap_on_every_operation_of_a_service_counts():
    inv = inventory(errors=[error("ecs", "*")])
    findings = checks.run_check(META, verdict(Status.PASS), inv, inv.settings)
    assert [f.status for f in findings] == [Status.ERROR, Status.ERROR]
    assert "ecs:*" in findings[0].message


def test_pass_in_region_with_region_level_gap_becomes_error():
    inv = inventory(errors=[error("ecs", "DescribeTaskDefinition")])
    findings = checks.run_check(META, verdict(Status.PASS), inv, inv.settings)
    assert [f.status for f in findings] == [Status.ERROR, Status.ERROR]
    tainted = findings[1]
    assert tainted.resource_id == "orders-api-prod:1"
    assert (
        tainted.message == "PASS on orders-api-prod:1. (not trusted: data it needs is incomplete)"
    )


def test_pass_across_regions_is_tainted_by_a_gap_in_either():
    inv = inventory(
        errors=[error("ecs", "DescribeTaskDefinition", OTHER_REGION)],
        regions=(REGION, OTHER_REGION),
    )
    fn = verdict(Status.PASS, region=f"{REGION},{OTHER_REGION}")
    assert checks.run_check(META, fn, inv, inv.settings)[1].status == Status.ERROR


def test_pass_in_another_region_than_the_gap_stays_pass():
    inv = inventory(
        errors=[error("ecs", "DescribeTaskDefinition", OTHER_REGION)],
        regions=(REGION, OTHER_REGION),
    )
    findings = checks.run_check(META, verdict(Status.PASS), inv, inv.settings)
    assert [f.status for f in findings] == [Status.ERROR, Status.PASS]


def test_pass_on_other_resource_than_resource_level_gap_stays_pass():
    broken, fine = td_arn("payments-prod", 4), td_arn("orders-api-prod")
    inv = inventory(
        task_definitions=[td("orders-api-prod")],
        errors=[error("ecs", "DescribeTaskDefinition", resource=broken)],
    )
    findings = checks.run_check(META, verdict(Status.PASS, arn=fine), inv, inv.settings)
    assert [(f.status, f.resource_id) for f in findings] == [
        (Status.ERROR, broken),
        (Status.PASS, "orders-api-prod:1"),
    ]
    findings = checks.run_check(META, verdict(Status.PASS, arn=broken), inv, inv.settings)
    assert [f.status for f in findings] == [Status.ERROR, Status.ERROR]


def test_account_scope_check_pass_is_tainted_by_any_gap(temporary_check):
    fn = temporary_check(verdict(Status.PASS, arn=td_arn("orders-api-prod")), account_scope=True)
    inv = inventory(
        errors=[error("ecs", "DescribeTaskDefinition", OTHER_REGION, resource="elsewhere")],
        regions=(REGION, OTHER_REGION),
    )
    findings = checks.run_check(META, fn, inv, inv.settings)
    assert [f.status for f in findings] == [Status.ERROR, Status.ERROR]


@pytest.mark.parametrize("status", [Status.FAIL, Status.INFO, Status.SKIP, Status.ERROR])
def test_only_pass_is_tainted(status):
    inv = inventory(errors=[error("ecs", "DescribeTaskDefinition")])
    findings = checks.run_check(META, verdict(status), inv, inv.settings)
    assert [f.status for f in findings] == [Status.ERROR, status]
    assert "not trusted" not in findings[1].message


def test_findings_frame_has_the_columns_in_order():
    inv = inventory(regions=(REGION, OTHER_REGION))
    findings = checks.run_check(META, verdict(Status.FAIL, rid="b"), inv, inv.settings)
    findings += checks.run_check(META, verdict(Status.PASS, rid="a"), inv, inv.settings)
    frame = to_frame(findings)
    assert list(frame.columns) == COLUMNS
    assert list(frame["resource_id"]) == ["a", "b"]
    assert list(frame["status"]) == ["PASS", "FAIL"]
    assert list(frame["severity"]) == ["low", "low"]
    assert frame["factor"].dtype == "int64"


def test_empty_findings_frame_has_the_columns_in_order():
    frame = to_frame([])
    assert list(frame.columns) == COLUMNS
    assert frame.empty
    assert frame["factor"].dtype == "int64"


def test_temporary_check_is_gone_afterwards():
    # runs after the tests above that used the temporary_check fixture
    assert CHECK_ID not in checks.registry()
    assert CHECK_ID not in load_catalog()
    assert CHECK_ID not in checks.ACCOUNT_SCOPE
