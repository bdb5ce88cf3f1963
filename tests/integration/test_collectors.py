"""Collectors against moto: batching, pagination, failures recorded and the run goes on."""

from __future__ import annotations

import botocore.exceptions
import pytest
from conftest import unexpected_errors
from moto import mock_aws

from twelvefactor.aws import AwsAccess
from twelvefactor.checks import run_checks
from twelvefactor.collect import collect, required_actions
from twelvefactor.demo import in_process, load_scenario
from twelvefactor.findings import Status
from twelvefactor.inventory import Inventory
from twelvefactor.settings import Settings

REGION = "eu-west-1"


def _settings(**kw) -> Settings:
    return Settings(regions=(REGION,), redaction_salt="test", **kw)


@pytest.fixture
def demo():
    scenario = load_scenario()
    with in_process(scenario):
        yield scenario


def test_demo_collection_reads_the_seeded_account(demo):
    access = AwsAccess(Settings(regions=demo.regions), demo_in_process=True)
    snap = collect(access, Settings(regions=demo.regions, redaction_salt="t"), source="demo")
    ecs = snap.get(REGION, "ecs")
    assert {c["clusterName"] for c in ecs["clusters"]} == {"shop-staging", "shop-prod"}
    assert len(ecs["services"]) == 9
    # the task definitions services run, plus the latest revision of every family
    assert len(ecs["task_definitions"]) == 11
    assert len(snap.get(REGION, "ssm")["parameters"]) == 16
    assert len(snap.get(REGION, "secretsmanager")["secrets"]) == 6
    assert len(snap.get(REGION, "ecr")["repositories"]) == 5
    assert len(snap.get("us-east-1", "ecs")["services"]) == 1
    assert unexpected_errors(snap.manifest["errors"]) == []
    assert snap.manifest["account"] == demo.account
    # 6 in task definitions, 2 in the payments-build CodeBuild project
    assert sum(snap.manifest["redactions"].values()) == 8


def _calls(access: AwsAccess, operation: str) -> int:
    return sum(r["calls"] for r in access.meter.as_records() if r["operation"] == operation)


def test_describe_services_is_batched_by_ten_and_paginators_are_used():
    with mock_aws():
        import boto3

        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName="big")
        td = ecs.register_task_definition(
            family="web", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}]
        )["taskDefinition"]["taskDefinitionArn"]
        for i in range(23):
            ecs.create_service(cluster="big", serviceName=f"s{i:02d}", taskDefinition=td)
        for i in range(25):
            boto3.client("ssm", region_name=REGION).put_parameter(
                Name=f"/app/prod/K{i}", Value="v", Type="String"
            )
        access = AwsAccess(_settings(), demo_in_process=True)
        snap = collect(access, _settings(), source="demo")
    assert len(snap.get(REGION, "ecs")["services"]) == 23
    assert _calls(access, "DescribeServices") == 3  # ceil(23 / 10)
    assert _calls(access, "DescribeTaskDefinition") == 1  # one revision, described once
    assert len(snap.get(REGION, "ssm")["parameters"]) == 25
    assert _calls(access, "DescribeParameters") == 3  # moto pages by 10: the paginator follows


def _deny(operation: str):
    def handler(**_):
        raise botocore.exceptions.ClientError(
            {
                "Error": {"Code": "AccessDeniedException", "Message": "not allowed"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            operation,
        )

    return handler


def test_access_denied_is_recorded_and_the_checks_say_error(demo):
    settings = Settings(regions=demo.regions, redaction_salt="t")
    access = AwsAccess(settings, demo_in_process=True)
    access.client("ecs", REGION).meta.events.register(
        "before-call.ecs.DescribeTaskDefinition", _deny("DescribeTaskDefinition")
    )
    access.client("ssm", REGION).meta.events.register(
        "before-call.ssm.DescribeParameters", _deny("DescribeParameters")
    )
    snap = collect(access, settings, source="demo")
    errors = unexpected_errors(snap.manifest["errors"])
    assert {(e["service"], e["operation"], e["kind"]) for e in errors} == {
        ("ecs", "DescribeTaskDefinition", "access-denied"),
        ("ssm", "DescribeParameters", "access-denied"),
    }
    # the rest was still collected
    assert len(snap.get(REGION, "ecs")["services"]) == 9
    assert len(snap.get("us-east-1", "ecs")["task_definitions"]) == 1

    findings = run_checks(Inventory(snap, settings), settings)
    by_check: dict[str, set] = {}
    for f in findings:
        by_check.setdefault(f.check_id, set()).add(f.status)
    # nothing that needed the missing data may PASS in the region that lacked it
    for f in findings:
        if f.check_id in {
            "TF03-PARAM-HIERARCHY",
            "TF03-PARAM-PLAINTEXT-SECRET",
            "TF03-ENV-NAMES-PARITY",
        }:
            assert f.status != Status.PASS, f
        if f.check_id == "TF03-SECRETS-IN-ENV" and f.region == REGION:
            assert f.status == Status.ERROR, f
    errors_named = [
        f
        for f in findings
        if f.status == Status.ERROR and "ecs:DescribeTaskDefinition" in f.message
    ]
    assert errors_named and all(
        "grant ecs:DescribeTaskDefinition" in f.message for f in errors_named
    )
    # us-east-1 was not affected: its task definition is still judged
    assert any(
        f.check_id == "TF03-SECRETS-IN-ENV" and f.region == "us-east-1" and f.status == Status.FAIL
        for f in findings
    )


def test_required_actions_are_all_reads():
    from twelvefactor.aws import refusal_reason

    for action in required_actions():
        assert refusal_reason(action.split(":", 1)[1]) is None, action


def test_catalog_iam_actions_are_collected():
    from twelvefactor.catalog import load_catalog

    collected = set(required_actions())
    for meta in load_catalog().values():
        assert set(meta.iam_actions) <= collected, meta.id


def test_demo_seeding_is_deterministic():
    """Two demo collections in fresh mocks give byte-identical findings (ids, ARNs, evidence)."""
    from twelvefactor.findings import to_frame

    frames = []
    for _ in range(2):
        scenario = load_scenario()
        settings = Settings(regions=scenario.regions, redaction_salt=scenario.redaction_salt)
        with in_process(scenario):
            snap = collect(AwsAccess(settings, demo_in_process=True), settings, source="demo")
        frames.append(to_frame(run_checks(Inventory(snap, settings), settings)).to_csv())
    assert frames[0] == frames[1]
