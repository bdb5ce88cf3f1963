"""A small builder of snapshots shaped like real collections, for the unit tests of the checks.

Raw data is written the way boto3 returns it (describe_task_definition, describe_services,
DescribeParameters, ListSecrets) and then passed through ``Redactor(salt="t").tree`` exactly as
the collector does, so fake secrets planted in a fixture reach the checks only as markers.

    snap = snapshot(
        task_definitions=[td("orders-api-prod", 1, env={"LOG_LEVEL": "info"})],
        services=[service("shop-prod", "orders-api", td_arn("orders-api-prod", 1), "production")],
        parameters=[parameter("/orders-api/prod/DB_PASSWORD", "SecureString")],
    )
    findings = run(snap, "TF03-SECRETS-IN-ENV")
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from twelvefactor.checks import run_checks
from twelvefactor.findings import Finding, Status
from twelvefactor.inventory import Inventory
from twelvefactor.redaction import Redactor
from twelvefactor.settings import Settings
from twelvefactor.snapshot import SCHEMA_VERSION, Snapshot

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "eu-west-1"
SALT = "t"
WHEN = "2024-05-01T10:00:00+00:00"


# -- ARNs ------------------------------------------------------------------------------------
def td_arn(family: str, revision: int = 1, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:ecs:{region}:{account}:task-definition/{family}:{revision}"


def ssm_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def sm_arn(
    name: str, region: str = REGION, account: str = ACCOUNT, suffix: str | None = "AbCdEf"
) -> str:
    """A Secrets Manager ARN; ``suffix=None`` gives the partial ARN (no -XXXXXX)."""
    tail = f"{name}-{suffix}" if suffix else name
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{tail}"


def region_of(arn: str) -> str:
    return arn.split(":")[3]


# -- boto3-shaped resources ------------------------------------------------------------------
def _pairs(values: Mapping[str, str] | None, value_key: str) -> list[dict[str, str]]:
    return [{"name": k, value_key: v} for k, v in (values or {}).items()]


def container(
    name: str = "app",
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    image: str = "public.ecr.aws/docker/library/python:3.12",
) -> dict[str, Any]:
    """One containerDefinitions item; ``secrets`` maps variable name -> valueFrom."""
    out: dict[str, Any] = {
        "name": name,
        "image": image,
        "cpu": 0,
        "essential": True,
        "portMappings": [],
        "environment": _pairs(env, "value"),
        "mountPoints": [],
        "volumesFrom": [],
    }
    if secrets:
        out["secrets"] = _pairs(secrets, "valueFrom")
    return out


def td(
    family: str,
    revision: int = 1,
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    *,
    container_name: str = "app",
    containers: list[dict[str, Any]] | None = None,
    region: str = REGION,
) -> dict[str, Any]:
    """A describe_task_definition ``taskDefinition`` plus its ``tags`` (as the collector keeps)."""
    return {
        "taskDefinitionArn": td_arn(family, revision, region),
        "containerDefinitions": containers
        if containers is not None
        else [container(container_name, env, secrets)],
        "family": family,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
        "networkMode": "awsvpc",
        "revision": revision,
        "volumes": [],
        "status": "ACTIVE",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "registeredAt": WHEN,
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    }


def service(
    cluster: str,
    name: str,
    task_definition_arn: str,
    env_tag: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A describe_services item in the region of its task definition."""
    region = region_of(task_definition_arn)
    all_tags = dict(tags or {})
    if env_tag:
        all_tags["Environment"] = env_tag
    return {
        "serviceArn": f"arn:aws:ecs:{region}:{ACCOUNT}:service/{cluster}/{name}",
        "serviceName": name,
        "clusterArn": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/{cluster}",
        "status": "ACTIVE",
        "desiredCount": 1,
        "runningCount": 1,
        "pendingCount": 0,
        "launchType": "FARGATE",
        "taskDefinition": task_definition_arn,
        "createdAt": WHEN,
        "tags": [{"key": k, "value": v} for k, v in all_tags.items()],
    }


def cluster(name: str, region: str = REGION, tags: Mapping[str, str] | None = None) -> dict:
    """A describe_clusters item (SETTINGS and TAGS included)."""
    return {
        "clusterArn": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/{name}",
        "clusterName": name,
        "status": "ACTIVE",
        "settings": [{"name": "containerInsights", "value": "disabled"}],
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    }


def parameter(name: str, type_: str = "String", region: str = REGION) -> dict[str, Any]:
    """A DescribeParameters item."""
    out: dict[str, Any] = {
        "Name": name,
        "ARN": ssm_arn(name, region),
        "Type": type_,
        "LastModifiedDate": WHEN,
        "LastModifiedUser": f"arn:aws:iam::{ACCOUNT}:user/deployer",
        "Version": 1,
        "Tier": "Standard",
        "Policies": [],
        "DataType": "text",
    }
    if type_ == "SecureString":
        out["KeyId"] = "alias/aws/ssm"
    return out


def secret(
    name: str,
    rotation_days: int | None = None,
    region: str = REGION,
    suffix: str = "AbCdEf",
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A ListSecrets item; rotation is on when ``rotation_days`` is given."""
    out: dict[str, Any] = {
        "ARN": sm_arn(name, region, suffix=suffix),
        "Name": name,
        "LastChangedDate": WHEN,
        "LastAccessedDate": WHEN,
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "SecretVersionsToStages": {"v1": ["AWSCURRENT"]},
        "CreatedDate": WHEN,
    }
    if rotation_days:
        out |= {
            "RotationEnabled": True,
            "RotationLambdaARN": f"arn:aws:lambda:{region}:{ACCOUNT}:function:rotate",
            "RotationRules": {"AutomaticallyAfterDays": rotation_days},
            "LastRotatedDate": WHEN,
        }
    return out


def error(
    service: str,
    operation: str,
    region: str = REGION,
    *,
    resource: str | None = None,
    kind: str = "access-denied",
    code: str | None = None,
) -> dict[str, Any]:
    """A manifest error entry as the collectors record it."""
    code = code or ("AccessDeniedException" if kind == "access-denied" else "ThrottlingException")
    return {
        "region": region,
        "service": service,
        "operation": operation,
        "resource": resource,
        "code": code,
        "kind": kind,
        "message": f"User is not authorized to perform: {service}:{operation}",
    }


# -- the snapshot ----------------------------------------------------------------------------
def snapshot(
    task_definitions: Iterable[dict] = (),
    services: Iterable[dict] = (),
    parameters: Iterable[dict] = (),
    secrets: Iterable[dict] = (),
    errors: Iterable[dict] = (),
    regions: Iterable[str] = (REGION,),
    clusters: Iterable[dict] | None = None,
    account: str = ACCOUNT,
) -> Snapshot:
    """A redacted Snapshot; every resource goes to the region of its ARN.

    Clusters default to one untagged cluster per clusterArn the services name. An error entry on
    ssm:DescribeParameters or secretsmanager:ListSecrets leaves that region's list None, as the
    collectors do when a listing fails.
    """
    regions, errors = list(regions), list(errors)
    task_definitions, services = list(task_definitions), list(services)
    parameters, secrets = list(parameters), list(secrets)
    if clusters is None:
        arns = dict.fromkeys(s["clusterArn"] for s in services)
        clusters = [cluster(a.rsplit("/", 1)[-1], region_of(a)) for a in arns]
    clusters = list(clusters)
    data: dict[tuple[str, str], dict[str, Any]] = {}
    placed = set(regions)
    for item in [*task_definitions, *services, *parameters, *secrets, *clusters]:
        placed.add(region_of(item.get("taskDefinitionArn") or item.get("serviceArn") or _arn(item)))
    for region in sorted(placed):
        tds = [t for t in task_definitions if region_of(t["taskDefinitionArn"]) == region]
        data[(region, "ecs")] = {
            "clusters": [c for c in clusters if region_of(c["clusterArn"]) == region],
            "services": [s for s in services if region_of(s["serviceArn"]) == region],
            "task_definitions": tds,
            "active_task_definition_arns": [t["taskDefinitionArn"] for t in tds],
        }
        # a failed listing leaves None, as the collectors' paginate does
        data[(region, "ssm")] = {
            "parameters": None
            if _failed(errors, region, "ssm", "DescribeParameters")
            else [p for p in parameters if region_of(p["ARN"]) == region]
        }
        data[(region, "secretsmanager")] = {
            "secrets": None
            if _failed(errors, region, "secretsmanager", "ListSecrets")
            else [s for s in secrets if region_of(s["ARN"]) == region]
        }
    redactor = Redactor(salt=SALT)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "tool_version": "0.1.0",
        "account": account,
        "caller": f"arn:aws:sts::{account}:assumed-role/audit/unit-test",
        "regions": regions,
        "started": WHEN,
        "finished": WHEN,
        "errors": errors,
        "api_calls": [],
    }
    return Snapshot(
        manifest=manifest, data={key: redactor.tree(payload) for key, payload in data.items()}
    )


def _failed(errors: list[dict], region: str, service: str, operation: str) -> bool:
    return any(
        e["region"] == region and e["service"] == service and e["operation"] == operation
        for e in errors
    )


def _arn(item: dict) -> str:
    return item.get("ARN") or item["clusterArn"]


def settings(**changes: Any) -> Settings:
    return Settings(regions=(REGION,)).with_(**changes)


def run(snap: Snapshot, check_id: str, config: Settings | None = None) -> list[Finding]:
    """The findings of one check over ``snap``."""
    config = config or settings(regions=tuple(snap.regions))
    return run_checks(Inventory(snap, config), config, ids=[check_id])


def statuses(findings: Iterable[Finding]) -> dict[str, Status]:
    """resource_id -> status (fails on duplicate resource ids, which would hide a finding)."""
    findings = list(findings)
    out = {f.resource_id: f.status for f in findings}
    assert len(out) == len(findings), [(f.resource_id, f.status) for f in findings]
    return out


def only(findings: Iterable[Finding], status: Status | None = None) -> Finding:
    """The one finding (with ``status``)."""
    chosen = [f for f in findings if status is None or f.status == status]
    assert len(chosen) == 1, [(f.resource_id, f.status, f.message) for f in chosen]
    return chosen[0]


def evidence(finding: Finding) -> dict[str, Any]:
    return json.loads(finding.evidence)
