"""ECS inventory columns: image origin, container runtime, volumes, deployment safety, revisions.

Snapshots are built by hand in the shapes boto3's describe_services and describe_task_definition
return, keyed the way the ECS collector writes them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from twelvefactor.inventory import BOOLEAN, SCHEMA, Inventory, parse_image
from twelvefactor.settings import Settings
from twelvefactor.snapshot import SCHEMA_VERSION, Snapshot

ACCOUNT = "123456789012"
REGION = "eu-west-1"
OTHER_REGION = "us-east-1"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DIGEST = "sha256:" + "ab" * 32
TARGET_GROUP = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/orders/0123456789abcdef"
)


# -- builders --------------------------------------------------------------------------------
def td_arn(family: str, revision: int, region: str = REGION) -> str:
    return f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/{family}:{revision}"


def container(name: str = "app", image: str = f"{ECR}/shop/orders-api:1.4.2", **extra) -> dict:
    return {"name": name, "image": image, "essential": True, "environment": []} | extra


def task_definition(
    family: str,
    revision: int,
    containers: list[dict] | None = None,
    region: str = REGION,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "taskDefinitionArn": td_arn(family, revision, region),
        "family": family,
        "revision": revision,
        "status": "ACTIVE",
        "networkMode": "awsvpc",
        "containerDefinitions": containers if containers is not None else [container()],
        "volumes": [],
        "tags": [],
    } | extra


def service(name: str, task_definition_arn: str, region: str = REGION, **extra: Any) -> dict:
    return {
        "serviceArn": f"arn:aws:ecs:{region}:{ACCOUNT}:service/shop/{name}",
        "serviceName": name,
        "clusterArn": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/shop",
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": 2,
        "launchType": "FARGATE",
        "taskDefinition": task_definition_arn,
        "tags": [],
    } | extra


def snapshot(
    task_definitions: list[dict] = (),
    services: list[dict] = (),
    active: dict[str, list[str] | None] | None = None,
    regions: tuple[str, ...] = (REGION,),
) -> Snapshot:
    """``active`` maps region -> active_task_definition_arns (default: the task definitions)."""
    data = {}
    for region in regions:
        tds = [t for t in task_definitions if t["taskDefinitionArn"].split(":")[3] == region]
        data[(region, "ecs")] = {
            "clusters": [
                {
                    "clusterArn": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/shop",
                    "clusterName": "shop",
                    "status": "ACTIVE",
                    "settings": [],
                    "tags": [],
                }
            ],
            "services": [s for s in services if s["serviceArn"].split(":")[3] == region],
            "task_definitions": tds,
            "active_task_definition_arns": (
                active[region]
                if active is not None and region in active
                else [t["taskDefinitionArn"] for t in tds]
            ),
        }
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "account": ACCOUNT,
        "regions": list(regions),
        "errors": [],
        "api_calls": [],
    }
    return Snapshot(manifest=manifest, data=data)


def inventory(snap: Snapshot) -> Inventory:
    return Inventory(snap, Settings())


def one(frame, **where):
    for key, value in where.items():
        frame = frame[frame[key] == value]
    assert len(frame) == 1, frame
    return frame.iloc[0]


# -- parse_image -----------------------------------------------------------------------------
def image(source, registry, repository, tag="", digest="", account="", region=""):
    return {
        "image_source": source,
        "image_registry": registry,
        "image_repository": repository,
        "image_tag": tag,
        "image_digest": digest,
        "image_account": account,
        "image_region": region,
    }


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("nginx", image("docker-hub", "docker.io", "library/nginx")),
        ("nginx:1.25", image("docker-hub", "docker.io", "library/nginx", "1.25")),
        (
            f"library/nginx@{DIGEST}",
            image("docker-hub", "docker.io", "library/nginx", digest=DIGEST),
        ),
        ("docker.io/bitnami/redis:7", image("docker-hub", "docker.io", "bitnami/redis", "7")),
        ("docker.io/nginx", image("docker-hub", "docker.io", "library/nginx")),
        ("index.docker.io/library/nginx:1", image("docker-hub", "docker.io", "library/nginx", "1")),
        (
            "registry-1.docker.io/grafana/grafana",
            image("docker-hub", "docker.io", "grafana/grafana"),
        ),
        # lower-case first segment without "." or ":" is a Docker Hub namespace, not a host
        ("bitnami/redis:7.2", image("docker-hub", "docker.io", "bitnami/redis", "7.2")),
        ("my-org/team/app:v2", image("docker-hub", "docker.io", "my-org/team/app", "v2")),
        (
            "public.ecr.aws/nginx/nginx:stable",
            image("public-ecr", "public.ecr.aws", "nginx/nginx", "stable"),
        ),
        (
            f"{ECR}/shop/orders-api:1.4.2",
            image("private-ecr", ECR, "shop/orders-api", "1.4.2", "", ACCOUNT, REGION),
        ),
        (
            f"{ECR}/shop/orders-api@{DIGEST}",
            image("private-ecr", ECR, "shop/orders-api", "", DIGEST, ACCOUNT, REGION),
        ),
        (f"{ECR}/orders", image("private-ecr", ECR, "orders", "", "", ACCOUNT, REGION)),
        (
            f"{ECR}/docker-hub/library/nginx:1.25",
            image("ecr-pull-through", ECR, "docker-hub/library/nginx", "1.25", "", ACCOUNT, REGION),
        ),
        (
            f"{ECR}/ecr-public/aws-observability/aws-for-fluent-bit:stable",
            image(
                "ecr-pull-through",
                ECR,
                "ecr-public/aws-observability/aws-for-fluent-bit",
                "stable",
                "",
                ACCOUNT,
                REGION,
            ),
        ),
        (
            f"{ECR}/quay/prometheus/node-exporter",
            image(
                "ecr-pull-through", ECR, "quay/prometheus/node-exporter", "", "", ACCOUNT, REGION
            ),
        ),
        # a repository merely named like an upstream is not a pull-through namespace
        (f"{ECR}/quay:1", image("private-ecr", ECR, "quay", "1", "", ACCOUNT, REGION)),
        ("ghcr.io/org/app:v1", image("other-registry", "ghcr.io", "org/app", "v1")),
        ("localhost:5000/app", image("other-registry", "localhost:5000", "app")),
        ("localhost/app:dev", image("other-registry", "localhost", "app", "dev")),
        (
            "registry.example.com:5000/team/app:1.0",
            image("other-registry", "registry.example.com:5000", "team/app", "1.0"),
        ),
        # both tag and digest: the digest is what runs, the tag stays for the reader
        (
            f"{ECR}/shop/orders-api:1.4.2@{DIGEST}",
            image("private-ecr", ECR, "shop/orders-api", "1.4.2", DIGEST, ACCOUNT, REGION),
        ),
        (
            f"nginx:1.25@{DIGEST}",
            image("docker-hub", "docker.io", "library/nginx", "1.25", DIGEST),
        ),
        # China partition
        (
            f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/shop/api:3",
            image(
                "private-ecr",
                f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn",
                "shop/api",
                "3",
                "",
                ACCOUNT,
                "cn-north-1",
            ),
        ),
        # FIPS and dual-stack ECR endpoints
        (
            f"{ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com/api:1",
            image(
                "private-ecr",
                f"{ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
                "api",
                "1",
                "",
                ACCOUNT,
                "us-gov-west-1",
            ),
        ),
        (
            f"{ACCOUNT}.dkr-ecr.eu-west-1.on.aws/api:1",
            image(
                "private-ecr",
                f"{ACCOUNT}.dkr-ecr.eu-west-1.on.aws",
                "api",
                "1",
                "",
                ACCOUNT,
                "eu-west-1",
            ),
        ),
        # not ECR: wrong account length
        (
            "12345.dkr.ecr.eu-west-1.amazonaws.com/api:1",
            image("other-registry", "12345.dkr.ecr.eu-west-1.amazonaws.com", "api", "1"),
        ),
        # an upper-case first segment can only be a registry host, as Docker reads it
        ("MyRegistry/app:1", image("other-registry", "MyRegistry", "app", "1")),
        ("", image("", "", "")),
    ],
)
def test_parse_image(ref, expected):
    assert parse_image(ref) == expected


def test_parse_image_strips_whitespace():
    assert parse_image("  nginx:1 ")["image_repository"] == "library/nginx"


# -- empty account ---------------------------------------------------------------------------
NEW_COLUMNS = {
    "containers": [
        "image_source",
        "image_registry",
        "image_repository",
        "image_tag",
        "image_digest",
        "image_account",
        "image_region",
        "command",
        "entry_point",
        "readonly_root_filesystem",
        "privileged",
        "user",
        "mount_points",
        "port_mappings",
        "has_health_check",
        "log_driver",
    ],
    "task_definitions": [
        "host_volumes",
        "docker_volumes",
        "efs_volumes",
        "ephemeral_storage_gib",
        "pid_mode",
        "ipc_mode",
        "requires_compatibilities",
        "cpu",
        "memory",
        "active_revisions",
        "latest_revision",
    ],
    "services": [
        "circuit_breaker",
        "rollback",
        "deployment_alarms",
        "minimum_healthy_percent",
        "maximum_percent",
        "deployment_controller",
        "scheduling_strategy",
        "target_group_arns",
        "container_ports",
        "service_registries",
        "assign_public_ip",
        "health_check_grace_period",
        "running_revision",
        "latest_revision",
        "revisions_behind",
    ],
}
NEW_BOOLEANS = {
    "readonly_root_filesystem",
    "privileged",
    "has_health_check",
    "circuit_breaker",
    "rollback",
    "deployment_alarms",
}


@pytest.mark.parametrize("table", sorted(NEW_COLUMNS))
def test_empty_snapshot_keeps_columns_and_boolean_dtypes(table):
    frame = getattr(inventory(snapshot()), table)
    assert frame.empty
    assert list(frame.columns) == SCHEMA[table]
    assert set(NEW_COLUMNS[table]) <= set(frame.columns)
    for column in BOOLEAN.intersection(frame.columns):
        assert frame[column].dtype == bool, column
    # masks work on an empty frame
    for column in NEW_BOOLEANS.intersection(frame.columns):
        assert frame[frame[column]].empty


def test_new_booleans_are_registered():
    assert NEW_BOOLEANS <= BOOLEAN


def test_empty_region_data_keeps_columns():
    # a region whose ECS collection returned nothing at all
    snap = Snapshot(
        manifest={
            "schema_version": SCHEMA_VERSION,
            "account": ACCOUNT,
            "regions": [REGION],
            "errors": [],
            "api_calls": [],
        }
    )
    inv = inventory(snap)
    for table in NEW_COLUMNS:
        assert list(getattr(inv, table).columns) == SCHEMA[table]


# -- containers ------------------------------------------------------------------------------
def test_container_columns_from_a_full_definition():
    app = container(
        "app",
        f"{ECR}/shop/orders-api:1.4.2",
        command=["gunicorn", "app:wsgi", "--workers", "2"],
        entryPoint=["/docker-entrypoint.sh"],
        readonlyRootFilesystem=True,
        privileged=False,
        user="1000:1000",
        mountPoints=[{"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}],
        portMappings=[{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
        healthCheck={"command": ["CMD-SHELL", "curl -f http://localhost:8080/health"]},
        logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/orders"}},
    )
    sidecar = container(
        "log-router",
        "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
        essential=False,
        mountPoints=[{"sourceVolume": "data", "containerPath": "/data"}],
        portMappings=[{"containerPort": 2020}],
        privileged=True,
    )
    inv = inventory(snapshot([task_definition("orders-api", 3, [app, sidecar])]))
    row = one(inv.containers, container="app")
    assert row["image"] == f"{ECR}/shop/orders-api:1.4.2"
    assert row["image_source"] == "private-ecr"
    assert row["image_registry"] == ECR
    assert row["image_repository"] == "shop/orders-api"
    assert row["image_tag"] == "1.4.2"
    assert row["image_digest"] == ""
    assert (row["image_account"], row["image_region"]) == (ACCOUNT, REGION)
    assert row["command"] == "gunicorn app:wsgi --workers 2"
    assert row["entry_point"] == "/docker-entrypoint.sh"
    assert row["readonly_root_filesystem"]
    assert not row["privileged"]
    assert row["user"] == "1000:1000"
    assert json.loads(row["mount_points"]) == [
        {"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}
    ]
    assert json.loads(row["port_mappings"]) == [
        {"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}
    ]
    assert row["has_health_check"]
    assert row["log_driver"] == "awslogs"

    side = one(inv.containers, container="log-router")
    assert side["image_source"] == "public-ecr"
    assert side["image_repository"] == "aws-observability/aws-for-fluent-bit"
    assert (side["image_account"], side["image_region"]) == ("", "")
    assert side["privileged"]
    # readOnly defaults to False, protocol to tcp, a missing hostPort stays null
    assert json.loads(side["mount_points"]) == [
        {"sourceVolume": "data", "containerPath": "/data", "readOnly": False}
    ]
    assert json.loads(side["port_mappings"]) == [
        {"containerPort": 2020, "hostPort": None, "protocol": "tcp"}
    ]


def test_container_columns_default_when_absent():
    inv = inventory(snapshot([task_definition("worker", 1, [container("w", "python:3.12")])]))
    row = one(inv.containers, container="w")
    assert row["image_source"] == "docker-hub"
    assert row["image_repository"] == "library/python"
    assert row["command"] == row["entry_point"] == row["user"] == row["log_driver"] == ""
    assert row["mount_points"] == row["port_mappings"] == "[]"
    for column in ("readonly_root_filesystem", "privileged", "has_health_check"):
        assert not row[column]
    assert inv.containers["readonly_root_filesystem"].dtype == bool
    # existing columns keep their meaning
    assert row["essential"] and row["env_count"] == 0 and not row["in_use"]


def test_health_check_without_command_is_no_health_check():
    c = container("app", healthCheck={"interval": 30})
    inv = inventory(snapshot([task_definition("orders-api", 1, [c])]))
    assert not one(inv.containers, container="app")["has_health_check"]


def test_image_sources_in_one_task_definition():
    containers = [
        container("a", f"{ECR}/shop/orders-api@{DIGEST}"),
        container("b", f"{ECR}/docker-hub/library/nginx:1.25"),
        container("c", "nginx"),
        container("d", "ghcr.io/org/app:v1"),
        container("e", "public.ecr.aws/nginx/nginx:stable"),
    ]
    inv = inventory(snapshot([task_definition("mixed", 1, containers)]))
    sources = dict(zip(inv.containers["container"], inv.containers["image_source"], strict=True))
    assert sources == {
        "a": "private-ecr",
        "b": "ecr-pull-through",
        "c": "docker-hub",
        "d": "other-registry",
        "e": "public-ecr",
    }
    assert one(inv.containers, container="a")["image_digest"] == DIGEST


# -- task definitions ------------------------------------------------------------------------
def test_task_definition_volumes_and_runtime():
    td = task_definition(
        "orders-api",
        5,
        volumes=[
            {"name": "scratch"},
            {"name": "logs", "host": {"sourcePath": "/var/log/orders"}},
            {"name": "bind-empty", "host": {}},
            {
                "name": "shared-cache",
                "dockerVolumeConfiguration": {
                    "scope": "shared",
                    "autoprovision": True,
                    "driver": "local",
                    "driverOpts": {"type": "tmpfs"},
                },
            },
            {"name": "task-vol", "dockerVolumeConfiguration": {"scope": "task"}},
            {
                "name": "uploads",
                "efsVolumeConfiguration": {
                    "fileSystemId": "fs-12345678",
                    "rootDirectory": "/",
                    "transitEncryption": "ENABLED",
                },
            },
            {"name": "plain-efs", "efsVolumeConfiguration": {"fileSystemId": "fs-87654321"}},
        ],
        ephemeralStorage={"sizeInGiB": 50},
        pidMode="host",
        ipcMode="task",
        requiresCompatibilities=["EC2", "FARGATE"],
        cpu="512",
        memory="1024",
    )
    row = one(inventory(snapshot([td])).task_definitions, family="orders-api")
    assert json.loads(row["host_volumes"]) == ["/var/log/orders"]
    assert json.loads(row["docker_volumes"]) == [
        {"name": "shared-cache", "scope": "shared", "autoprovision": True, "driver": "local"},
        {"name": "task-vol", "scope": "task", "autoprovision": False, "driver": ""},
    ]
    assert json.loads(row["efs_volumes"]) == [
        {"name": "uploads", "fileSystemId": "fs-12345678", "transitEncryption": "ENABLED"},
        {"name": "plain-efs", "fileSystemId": "fs-87654321", "transitEncryption": "DISABLED"},
    ]
    assert row["ephemeral_storage_gib"] == 50
    assert (row["pid_mode"], row["ipc_mode"]) == ("host", "task")
    assert row["requires_compatibilities"] == "EC2, FARGATE"
    assert (row["cpu"], row["memory"]) == ("512", "1024")


def test_task_definition_defaults_when_absent():
    row = one(inventory(snapshot([task_definition("api", 1)])).task_definitions, family="api")
    assert row["host_volumes"] == row["docker_volumes"] == row["efs_volumes"] == "[]"
    assert row["ephemeral_storage_gib"] is None
    assert row["pid_mode"] == row["ipc_mode"] == row["requires_compatibilities"] == ""
    assert row["cpu"] == row["memory"] == ""


def test_task_definition_revisions():
    tds = [task_definition("orders-api", 3), task_definition("orders-api", 7)]
    active = {
        REGION: [td_arn("orders-api", r) for r in (3, 5, 7)] + [td_arn("orders-api-canary", 9)],
        OTHER_REGION: [td_arn("orders-api", 12, OTHER_REGION)],
    }
    inv = inventory(snapshot(tds, active=active, regions=(REGION, OTHER_REGION)))
    old = one(inv.task_definitions, revision=3)
    new = one(inv.task_definitions, revision=7)
    # the other region's revision 12 and the "orders-api-canary" family do not count
    assert (old["active_revisions"], old["latest_revision"]) == (3, 7)
    assert (new["active_revisions"], new["latest_revision"]) == (3, 7)
    assert not old["latest"] and new["latest"]


def test_task_definition_revisions_unknown():
    # an INACTIVE revision in use, its family absent from the ACTIVE list
    tds = [task_definition("legacy", 4)]
    row = one(inventory(snapshot(tds, active={REGION: []})).task_definitions, family="legacy")
    assert (row["active_revisions"], row["latest_revision"]) == (0, 4)
    # the listing failed (the collector stores None): the count is unknown
    row = one(inventory(snapshot(tds, active={REGION: None})).task_definitions, family="legacy")
    assert row["active_revisions"] is None
    assert row["latest_revision"] == 4


# -- services --------------------------------------------------------------------------------
def test_service_deployment_columns():
    svc = service(
        "orders-api",
        td_arn("orders-api", 5),
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "alarms": {"alarmNames": ["orders-5xx"], "enable": True, "rollback": True},
        },
        deploymentController={"type": "CODE_DEPLOY"},
        schedulingStrategy="REPLICA",
        loadBalancers=[
            {
                "targetGroupArn": TARGET_GROUP,
                "containerName": "app",
                "containerPort": 8080,
            },
            {"loadBalancerName": "classic", "containerName": "app", "containerPort": 8081},
        ],
        serviceRegistries=[{"registryArn": "arn:aws:servicediscovery:...:service/srv-1"}],
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}
        },
        healthCheckGracePeriodSeconds=60,
    )
    active = {REGION: [td_arn("orders-api", r) for r in (4, 5, 8)]}
    inv = inventory(snapshot([task_definition("orders-api", 5)], [svc], active=active))
    row = one(inv.services, service="orders-api")
    assert row["circuit_breaker"] and row["rollback"] and row["deployment_alarms"]
    assert (row["minimum_healthy_percent"], row["maximum_percent"]) == (100, 200)
    assert row["deployment_controller"] == "CODE_DEPLOY"
    assert row["scheduling_strategy"] == "REPLICA"
    assert json.loads(row["target_group_arns"]) == [TARGET_GROUP]
    assert json.loads(row["container_ports"]) == [
        {"containerName": "app", "containerPort": 8080},
        {"containerName": "app", "containerPort": 8081},
    ]
    assert row["service_registries"] == 1
    assert row["assign_public_ip"] == "DISABLED"
    assert row["health_check_grace_period"] == 60
    assert (row["running_revision"], row["latest_revision"], row["revisions_behind"]) == (5, 8, 3)
    # existing columns keep their meaning
    assert row["active"] and row["task_definition_arn"] == td_arn("orders-api", 5)


def test_service_defaults_when_absent():
    svc = service("worker", td_arn("worker", 2))
    inv = inventory(snapshot([task_definition("worker", 2)], [svc]))
    row = one(inv.services, service="worker")
    assert not row["circuit_breaker"] and not row["rollback"] and not row["deployment_alarms"]
    assert row["minimum_healthy_percent"] is None and row["maximum_percent"] is None
    assert row["deployment_controller"] == "ECS"
    assert row["scheduling_strategy"] == row["assign_public_ip"] == ""
    assert row["target_group_arns"] == row["container_ports"] == "[]"
    assert row["service_registries"] == 0
    assert row["health_check_grace_period"] is None
    assert (row["running_revision"], row["latest_revision"], row["revisions_behind"]) == (2, 2, 0)
    for column in ("circuit_breaker", "rollback", "deployment_alarms"):
        assert inv.services[column].dtype == bool


def test_service_circuit_breaker_without_rollback():
    svc = service(
        "api",
        td_arn("api", 1),
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}},
    )
    row = one(inventory(snapshot([task_definition("api", 1)], [svc])).services, service="api")
    assert row["circuit_breaker"] and not row["rollback"] and not row["deployment_alarms"]


def test_service_latest_revision_is_per_region_and_unknown_falls_back():
    here = service("api", td_arn("api", 3))
    there = service("api", td_arn("api", 1, OTHER_REGION), OTHER_REGION)
    active = {
        REGION: [td_arn("api", 3), td_arn("api", 4)],
        # the listing failed in the other region
        OTHER_REGION: None,
    }
    tds = [task_definition("api", 3), task_definition("api", 1, region=OTHER_REGION)]
    inv = inventory(snapshot(tds, [here, there], active=active, regions=(REGION, OTHER_REGION)))
    a = one(inv.services, region=REGION)
    b = one(inv.services, region=OTHER_REGION)
    assert (a["running_revision"], a["latest_revision"], a["revisions_behind"]) == (3, 4, 1)
    assert (b["running_revision"], b["latest_revision"], b["revisions_behind"]) == (1, 1, 0)


def test_service_without_task_definition():
    # EXTERNAL deployment controller: DescribeServices may give no taskDefinition
    svc = service("ext", "", deploymentController={"type": "EXTERNAL"})
    del svc["taskDefinition"]
    row = one(inventory(snapshot([], [svc])).services, service="ext")
    assert row["deployment_controller"] == "EXTERNAL"
    assert row["running_revision"] is None
    assert row["latest_revision"] is None and row["revisions_behind"] is None
