"""Unit tests for the read-only guard and call meter in twelvefactor.aws.

The model walk proves the rule holds for every operation botocore knows; the moto tests prove the
hook refuses before anything is sent, so nothing is metered and the (mocked) account is unchanged.
"""

from __future__ import annotations

import os
import threading

import boto3
import botocore.exceptions
import botocore.session
import moto
import pytest
from botocore import xform_name

from twelvefactor.aws import (
    READ_PREFIXES,
    SECRET_READS,
    AwsAccess,
    CallMeter,
    refusal_reason,
)
from twelvefactor.errors import ReadOnlyViolation, TwelveFactorError
from twelvefactor.settings import Settings

REGION = "eu-west-1"
AUDITED_SERVICES = ("ecs", "ecr", "ssm", "secretsmanager", "logs", "sts", "cloudtrail")
FUTURE_SERVICES = (
    "application-autoscaling",
    "elbv2",
    "codebuild",
    "codepipeline",
    "rds",
    "dynamodb",
    "s3",
    "events",
    "iam",
    "lambda",
)
E2E_SERVICES = ("ecs", "ssm", "secretsmanager", "ecr", "logs")
PLAIN_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(autouse=True)
def isolated_aws_env(monkeypatch, tmp_path):
    """No real profile, endpoint or credentials from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


_SESSION = botocore.session.get_session()


def operations(service: str) -> list[str]:
    return list(_SESSION.get_service_model(service).operation_names)


def is_allowed_read(operation: str) -> bool:
    return operation.startswith(READ_PREFIXES) and operation not in SECRET_READS


# -- the rule, over every operation botocore knows -----------------------------------------
@pytest.mark.parametrize("service", AUDITED_SERVICES + FUTURE_SERVICES)
def test_every_non_read_operation_is_refused(service):
    ops = operations(service)
    assert ops, service
    for op in ops:
        reason = refusal_reason(op)
        if not is_allowed_read(op):
            assert reason, f"{service}:{op} would be sent"
            assert isinstance(reason, str)


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("ecs", "ListClusters"),
        ("ecs", "DescribeServices"),
        ("ecs", "DescribeTaskDefinition"),
        ("ecs", "ListTaskDefinitions"),
        ("ecr", "DescribeRepositories"),
        ("ecr", "DescribeImages"),
        ("ecr", "BatchGetImage"),
        ("ssm", "DescribeParameters"),
        ("ssm", "ListTagsForResource"),
        ("secretsmanager", "ListSecrets"),
        ("secretsmanager", "DescribeSecret"),
        ("logs", "DescribeLogGroups"),
        ("sts", "GetCallerIdentity"),
    ],
)
def test_reads_the_audit_needs_are_allowed(service, operation):
    assert operation in operations(service)
    assert refusal_reason(operation) is None


@pytest.mark.parametrize(
    "operation",
    [
        "CreateCluster",
        "DeleteCluster",
        "UpdateService",
        "RegisterTaskDefinition",
        "RunTask",
        "PutParameter",
        "PutSecretValue",
        "StartQuery",
        "FilterLogEvents",
        "AssumeRole",
        "TagResource",
        "getSomething",  # case matters: not a read prefix
        "",
    ],
)
def test_writes_and_other_verbs_are_refused(operation):
    assert refusal_reason(operation) == (
        "it is not a read (Describe*, List*, Get*, BatchGet*, Lookup*)"
    )


def test_secret_reads_are_refused_with_their_own_reason():
    for operation, why in SECRET_READS.items():
        assert refusal_reason(operation) == why
        assert refusal_reason(operation, {"WithDecryption": False}) == why


def test_secret_reads_name_real_operations():
    """A typo in SECRET_READS would silently let the real operation through."""
    known = {op for service in AUDITED_SERVICES for op in operations(service)}
    assert set(SECRET_READS) <= known, set(SECRET_READS) - known


@pytest.mark.parametrize("service", AUDITED_SERVICES)
def test_with_decryption_refuses_any_read(service):
    for op in operations(service):
        assert refusal_reason(op, {"WithDecryption": True}), op
    assert refusal_reason("DescribeParameters", {"WithDecryption": True}) == (
        "it asks AWS to decrypt values"
    )
    assert refusal_reason("DescribeParameters", {"WithDecryption": False}) is None
    assert refusal_reason("DescribeParameters", {}) is None
    assert refusal_reason("DescribeParameters", None) is None


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("sts", "GetWebIdentityToken"),  # returns a signed JWT for the caller
        ("sts", "GetDelegatedAccessToken"),  # returns Credentials
        ("sts", "GetScopedCredentials"),  # returns Credentials
        ("ssm", "GetAccessToken"),  # returns Credentials (just-in-time node access)
        ("logs", "GetLogObject"),  # streams log event contents
    ],
)
def test_credential_and_log_content_reads_are_refused(service, operation):
    assert operation in operations(service)
    assert refusal_reason(operation) is not None


# -- end to end: refused in the hook, before anything is sent -------------------------------
def plain_client(service: str):
    return boto3.client(service, region_name=REGION, **PLAIN_CREDENTIALS)


def seed(service: str) -> None:
    """Put one resource in the mocked account so destructive calls would show."""
    client = plain_client(service)
    if service == "ecs":
        client.create_cluster(clusterName="existing")
    elif service == "ssm":
        client.put_parameter(Name="/app/prod/DB_PASSWORD", Value="hunter2", Type="SecureString")
    elif service == "secretsmanager":
        client.create_secret(Name="prod/db", SecretString="hunter2")
    elif service == "ecr":
        client.create_repository(repositoryName="web")
    elif service == "logs":
        client.create_log_group(logGroupName="/ecs/web")


def state(service: str):
    """What the mocked account holds, read through a plain (unguarded) client."""
    client = plain_client(service)
    if service == "ecs":
        return sorted(client.list_clusters()["clusterArns"])
    if service == "ssm":
        params = client.describe_parameters()["Parameters"]
        value = client.get_parameter(Name="/app/prod/DB_PASSWORD", WithDecryption=True)
        return sorted(p["Name"] for p in params), value["Parameter"]["Value"]
    if service == "secretsmanager":
        names = sorted(s["Name"] for s in client.list_secrets()["SecretList"])
        return names, client.get_secret_value(SecretId="prod/db")["SecretString"]
    if service == "ecr":
        return sorted(r["repositoryName"] for r in client.describe_repositories()["repositories"])
    if service == "logs":
        return sorted(g["logGroupName"] for g in client.describe_log_groups()["logGroups"])
    raise AssertionError(service)


# Destructive calls with real parameters: they would change state() if they were sent.
DESTRUCTIVE = {
    "ecs": ("delete_cluster", {"cluster": "existing"}),
    "ssm": ("delete_parameter", {"Name": "/app/prod/DB_PASSWORD"}),
    "secretsmanager": (
        "delete_secret",
        {"SecretId": "prod/db", "ForceDeleteWithoutRecovery": True},
    ),
    "ecr": ("delete_repository", {"repositoryName": "web", "force": True}),
    "logs": ("delete_log_group", {"logGroupName": "/ecs/web"}),
}


@pytest.fixture
def mocked():
    with moto.mock_aws():
        yield


@pytest.fixture
def access(mocked):
    return AwsAccess(Settings(regions=(REGION,)), demo_in_process=True)


def watch_sends(client) -> list:
    sent: list = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    return sent


@pytest.mark.parametrize("service", E2E_SERVICES)
def test_non_reads_are_refused_before_sending(service, access):
    seed(service)
    before = state(service)
    client = access.client(service, REGION)
    sent = watch_sends(client)

    refused = []
    for op in client.meta.service_model.operation_names:
        if refusal_reason(op) is None:
            continue
        with pytest.raises(ReadOnlyViolation) as info:
            getattr(client, xform_name(op))()
        assert info.value.service == service
        assert info.value.operation == op
        assert f"{service}:{op}" in str(info.value)
        refused.append(op)

    method, params = DESTRUCTIVE[service]
    with pytest.raises(ReadOnlyViolation):
        getattr(client, method)(**params)

    assert len(refused) >= 5, refused
    assert sent == []
    assert access.meter.total == 0
    assert access.meter.as_records() == []
    assert state(service) == before


def test_create_cluster_refused_leaves_account_empty(access):
    client = access.client("ecs", REGION)
    with pytest.raises(ReadOnlyViolation):
        client.create_cluster(clusterName="should-not-exist")
    assert plain_client("ecs").list_clusters()["clusterArns"] == []
    assert access.meter.total == 0


def test_read_only_violation_is_a_twelvefactor_error(access):
    with pytest.raises(TwelveFactorError):
        access.client("ecs", REGION).delete_cluster(cluster="x")


def test_get_parameters_always_refused(access):
    seed("ssm")
    client = access.client("ssm", REGION)
    sent = watch_sends(client)
    for params in (
        {"Names": ["/app/prod/DB_PASSWORD"]},
        {"Names": ["/app/prod/DB_PASSWORD"], "WithDecryption": False},
        {"Names": ["/app/prod/DB_PASSWORD"], "WithDecryption": True},
        {},
    ):
        with pytest.raises(ReadOnlyViolation) as info:
            client.get_parameters(**params)
        assert info.value.operation == "GetParameters"
    for call in (client.get_parameter, client.get_parameters_by_path):
        with pytest.raises(ReadOnlyViolation):
            call()
    with pytest.raises(ReadOnlyViolation):
        access.client("secretsmanager", REGION).get_secret_value(SecretId="prod/db")
    assert sent == []
    assert access.meter.total == 0


def test_describe_parameters_succeeds_and_is_metered(access):
    seed("ssm")
    client = access.client("ssm", REGION)
    names = [p["Name"] for p in client.describe_parameters()["Parameters"]]
    assert names == ["/app/prod/DB_PASSWORD"]
    assert access.meter.as_records()[0]["operation"] == "DescribeParameters"
    assert access.meter.total == 1


def test_with_decryption_true_refused_on_any_operation(access):
    client = access.client("ssm", REGION)
    # The hook runs before parameter validation, so even an op without that parameter is refused.
    with pytest.raises(ReadOnlyViolation) as info:
        client.describe_parameters(WithDecryption=True)
    assert "decrypt" in str(info.value)
    with pytest.raises(ReadOnlyViolation):
        access.client("ecs", REGION).list_clusters(WithDecryption=True)
    assert access.meter.total == 0


def test_meter_counts_real_reads_per_operation(access):
    seed("ecs")
    ecs = access.client("ecs", REGION)
    assert len(ecs.list_clusters()["clusterArns"]) == 1
    ecs.list_clusters()
    access.client("logs", REGION).describe_log_groups()
    records = {(r["service"], r["operation"]): r for r in access.meter.as_records()}
    assert set(records) == {("ecs", "ListClusters"), ("logs", "DescribeLogGroups")}
    assert records[("ecs", "ListClusters")]["calls"] == 2
    assert records[("ecs", "ListClusters")]["errors"] == 0
    assert records[("logs", "DescribeLogGroups")]["calls"] == 1
    assert access.meter.total == 3
    assert [(r["service"], r["operation"]) for r in access.meter.as_records()] == sorted(records)


def test_meter_counts_failed_reads_as_errors(access):
    ecs = access.client("ecs", REGION)
    with pytest.raises(botocore.exceptions.ClientError):
        ecs.describe_task_definition(taskDefinition="missing:1")
    (record,) = access.meter.as_records()
    assert (record["service"], record["operation"]) == ("ecs", "DescribeTaskDefinition")
    assert record["calls"] == 1
    assert record["errors"] == 1


def test_clients_are_shared_per_service_and_region(access):
    assert access.client("ecs", REGION) is access.client("ecs", REGION)
    assert access.client("ecs", REGION) is not access.client("ecs", "us-east-1")
    assert access.client("ecs", REGION) is not access.client("ecr", REGION)


def test_identity_in_demo(access):
    ident = access.identity(REGION)
    assert ident["account"] == "123456789012"
    assert ident["arn"].startswith("arn:aws:")
    assert access.meter.as_records()[0]["operation"] == "GetCallerIdentity"


# -- CallMeter alone -------------------------------------------------------------------------
def test_call_meter_aggregates():
    meter = CallMeter()
    meter.record("ecs", "ListClusters", 0.5, 0, error=False)
    meter.record("ecs", "ListClusters", 0.25, 2, error=True)
    meter.record("ecr", "DescribeRepositories", 0.1, 0, error=False)
    assert meter.total == 3
    assert meter.as_records() == [
        {
            "service": "ecr",
            "operation": "DescribeRepositories",
            "action": "ecr:DescribeRepositories",
            "calls": 1,
            "errors": 0,
            "retries": 0,
            "seconds": 0.1,
        },
        {
            "service": "ecs",
            "operation": "ListClusters",
            "action": "ecs:ListClusters",
            "calls": 2,
            "errors": 1,
            "retries": 2,
            "seconds": 0.75,
        },
    ]


def test_call_meter_is_thread_safe():
    meter = CallMeter()

    def work():
        for _ in range(2000):
            meter.record("ecs", "ListClusters", 0.0, 1, error=False)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (record,) = meter.as_records()
    assert record["calls"] == 16000
    assert record["retries"] == 16000
    assert meter.total == 16000


# -- injected faults (a test and benchmark switch) -------------------------------------------
def test_faults_are_off_by_default(access):
    assert access.faults is None
    assert Settings().faults == ""


def test_fault_plan_parses_and_picks_deterministically():
    from botocore.awsrequest import AWSPreparedRequest

    from twelvefactor.aws import FaultPlan

    plan = FaultPlan.parse("share=0.5;attempts=2;seed=7;actions=ecs:ListClusters,ssm:X")
    assert (plan.share, plan.attempts, plan.seed) == (0.5, 2, 7)
    assert plan.actions == {"ecs:ListClusters", "ssm:X"}

    def request(body: str, attempt: int) -> AWSPreparedRequest:
        headers = {"amz-sdk-request": f"attempt={attempt}; max=6"}
        return AWSPreparedRequest(
            "POST", "https://ecs.eu-west-1.amazonaws.com/", headers, body, False
        )

    bodies = [f'{{"page": {i}}}' for i in range(200)]
    picked = [b for b in bodies if plan.picks("ecs:ListClusters", request(b, 1))]
    assert 60 < len(picked) < 140  # about half
    assert picked == [b for b in bodies if plan.picks("ecs:ListClusters", request(b, 1))]
    assert not any(plan.picks("ecs:DescribeClusters", request(b, 1)) for b in bodies)
    body = picked[0]
    for attempt, faulty in [(1, True), (2, True), (3, False)]:
        response = plan.response("ecs:ListClusters", request(body, attempt), "json")
        assert (response is not None) == faulty, attempt
        if response is not None:
            assert response.status_code in (400, 503)
    assert plan.injected == {"ecs:ListClusters": 2}


def test_faulted_calls_are_retried_and_metered(mocked):
    access = AwsAccess(
        Settings(regions=(REGION,), faults="share=1;attempts=1;seed=1"), demo_in_process=True
    )
    ecs = access.client("ecs", REGION)
    assert ecs.list_clusters()["clusterArns"] == []
    (record,) = access.meter.as_records()
    assert (record["calls"], record["retries"], record["errors"]) == (1, 1, 0)
    assert access.faults.injected == {"ecs:ListClusters": 1}
