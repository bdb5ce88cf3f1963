"""Collectors of what runs (ECS tasks and hosts, scaling, schedules, Cloud Map, EC2) against the
demo account in moto, their inventory tables, and how they behave when a call is refused."""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from twelvefactor.aws import AwsAccess
from twelvefactor.collect import collect
from twelvefactor.demo import in_process, load_scenario
from twelvefactor.inventory import Inventory
from twelvefactor.settings import Settings

SERVICES = ["ecs", "application-autoscaling", "events", "scheduler", "servicediscovery", "ec2"]
EU, US = "eu-west-1", "us-east-1"
#: A password handed to a one-off task as an environment override; must never reach a snapshot.
OVERRIDE_SECRET = "Adm1n-0verride-Pw-55120"


def _settings() -> Settings:
    return Settings(regions=(EU, US), redaction_salt="test")


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


@pytest.fixture(scope="module")
def demo():
    """The demo account, collected twice: with full access, and with some reads refused."""
    scenario = load_scenario()
    with in_process(scenario):
        settings = _settings()
        full = collect(AwsAccess(settings, demo_in_process=True), settings, services=SERVICES)
        access = AwsAccess(settings, demo_in_process=True)
        for service, operation in [
            ("ecs", "ListTasks"),
            ("application-autoscaling", "DescribeScalingPolicies"),
            ("scheduler", "GetSchedule"),
        ]:
            access.client(service, EU).meta.events.register(
                f"before-call.{service}.{operation}", _deny(operation)
            )
        denied = collect(access, settings, services=SERVICES)
    return Inventory(full, settings), Inventory(denied, settings)


def test_stopped_tasks_keep_their_reason_and_placement(demo):
    inv, _ = demo
    stopped = inv.tasks[inv.tasks["last_status"] == "STOPPED"]
    catalog = stopped[stopped["service"] == "catalog"]
    assert len(catalog) == 2
    assert set(catalog["stopped_reason"]) == {
        "OutOfMemoryError: Container killed due to memory usage"
    }
    assert set(catalog["application"]) == {"catalog"}
    assert set(catalog["environment"]) == {"production"}
    exits = json.loads(catalog["exit_codes"].iloc[0])
    assert [e["container"] for e in exits] == ["app"]
    one_off = stopped[stopped["family"] == "orders-api-migrate"]
    assert list(one_off["started_by"]) == ["deploy/1.4.2"]
    assert list(one_off["application"]) == ["orders-api"]


def test_scaling_targets_join_their_policies(demo):
    inv, _ = demo
    # (orders-api scales in staging too: one target per cluster/service)
    rows = inv.scaling_targets.set_index("resource_id")
    prod = rows.loc["service/shop-prod/orders-api"]
    assert prod[["min_capacity", "max_capacity", "policy_count"]].tolist() == [3, 12, 1]
    assert prod["policy_types"] == "TargetTrackingScaling"
    assert rows.loc["service/shop-staging/orders-api", "environment"] == "staging"
    assert rows.loc["service/shop-prod/payments", "policy_count"] == 0
    assert rows.loc["service/shop-prod/payments", "environment"] == "production"


def test_scheduled_tasks_from_rules_and_schedules_say_if_they_are_pinned(demo):
    inv, _ = demo
    rows = inv.scheduled_tasks.set_index("name")
    rule = rows.loc["orders-api-nightly-cleanup"]
    assert (rule["source"], rule["family"], rule["revision"]) == (
        "eventbridge-rule",
        "orders-api-migrate",
        1,
    )
    assert rule["application"] == "orders-api"
    daily = rows.loc["reports-daily"]
    assert (daily["source"], daily["family"]) == ("scheduler", "reports-prod")
    assert daily["revision"] is None or daily["revision"] != daily["revision"]  # unpinned


def test_network_and_hosts(demo):
    inv, _ = demo
    assert set(inv.subnets[inv.subnets["region"] == EU]["availability_zone"]) == {
        "eu-west-1a",
        "eu-west-1b",
        "eu-west-1c",
    }
    world = inv.ingress_rules[inv.ingress_rules["open_to_world"]]
    assert {(r.group_name, r.from_port) for r in world.itertuples()} >= {("legacy-hosts", 22)}
    assert list(inv.key_pairs["key_name"]) == ["legacy-admin"]
    hosts = inv.container_hosts
    assert set(hosts["cluster"]) == {"legacy"}
    keyed = hosts[hosts["key_name"] == "legacy-admin"]
    assert len(keyed) == 1
    assert keyed["security_group_ids"].iloc[0].startswith("sg-")
    cloud_map = inv.cloud_map_services.set_index("service")
    assert "payments" in cloud_map.index
    assert cloud_map.loc["payments", "namespace"] == "shop.local"


def test_refused_reads_leave_no_made_up_data(demo):
    inv, denied = demo
    # ListTasks refused in eu-west-1: no tasks there (not "no stopped tasks"), and the gap is named
    assert denied.tasks[denied.tasks["region"] == EU].empty
    assert denied.gaps(["ecs:ListTasks"], EU)
    # scaling policies refused: the targets are known, their policies are not (None, not 0)
    assert denied.scaling_targets["policy_count"].isna().all()
    assert denied.gaps(["application-autoscaling:DescribeScalingPolicies"], EU)
    # GetSchedule refused: the schedule is listed but its target unknown, so no scheduled task row
    assert "reports-daily" not in set(denied.scheduled_tasks["name"])
    assert denied.gaps(["scheduler:GetSchedule"], EU)
    # nothing else was lost
    assert inv.scheduled_tasks["name"].tolist().count("orders-api-nightly-cleanup") == 1
    assert "orders-api-nightly-cleanup" in set(denied.scheduled_tasks["name"])


@mock_aws
def test_task_overrides_are_redacted_at_collection():
    ecs = boto3.client("ecs", region_name=EU)
    ec2 = boto3.client("ec2", region_name=EU)
    subnet = ec2.describe_subnets()["Subnets"][0]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    ecs.create_cluster(clusterName="ops")
    ecs.register_task_definition(
        family="admin",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "admin", "image": "busybox", "memoryReservation": 128}],
    )
    ecs.run_task(
        cluster="ops",
        taskDefinition="admin",
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet["SubnetId"]], "securityGroups": [group]}
        },
        overrides={
            "containerOverrides": [
                {
                    "name": "admin",
                    "environment": [{"name": "DB_PASSWORD", "value": OVERRIDE_SECRET}],
                }
            ]
        },
    )
    settings = Settings(regions=(EU,), redaction_salt="test")
    snap = collect(AwsAccess(settings, demo_in_process=True), settings, services=["ecs"])
    text = json.dumps(snap.data[(EU, "ecs")])
    assert "DB_PASSWORD" in text  # the override was collected ...
    assert OVERRIDE_SECRET not in text  # ... with its value redacted
