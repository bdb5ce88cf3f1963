"""Unit tests for the factor VIII checks (twelvefactor.checks.concurrency), run through the engine.

Every check gets a PASS, a FAIL, an empty account (one SKIP from the engine) and a
could-not-evaluate case (an access-denied collection error on one of its catalog iam_actions:
an ERROR naming the action, and no PASS), plus the shapes real accounts have.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fixtures import (
    ACCOUNT,
    REGION,
    container,
    error,
    evidence,
    only,
    run,
    service,
    settings,
    snapshot,
    statuses,
    td,
    td_arn,
)
from matplotlib.figure import Figure

from twelvefactor.catalog import load_catalog
from twelvefactor.checks.concurrency import CHECK_IDS, capacity_table, process_types
from twelvefactor.findings import Status
from twelvefactor.workbook import Workbook

ZONES = {"subnet-a": "eu-west-1a", "subnet-b": "eu-west-1b", "subnet-c": "eu-west-1c"}


# -- local builders --------------------------------------------------------------------------
def svc(
    name: str = "orders-api",
    env: str = "production",
    desired: int = 2,
    subnets: tuple[str, ...] = ("subnet-a", "subnet-b"),
    **extra: Any,
) -> dict[str, Any]:
    family = f"{name}-{'prod' if env == 'production' else env}"
    out = service(f"shop-{env}", name, td_arn(family), env) | {
        "desiredCount": desired,
        "runningCount": desired,
    }
    if subnets:
        out["networkConfiguration"] = {
            "awsvpcConfiguration": {"subnets": list(subnets), "assignPublicIp": "DISABLED"}
        }
    return out | extra


def tdef(name: str = "orders-api", env: str = "production", **extra: Any) -> dict[str, Any]:
    family = f"{name}-{'prod' if env == 'production' else env}"
    return td(family) | extra


def target(
    service_name: str = "orders-api",
    env: str = "production",
    low: int = 2,
    high: int = 10,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/shop-{env}/{service_name}",
        "ScalableDimension": "ecs:service:DesiredCount",
        "MinCapacity": low,
        "MaxCapacity": high,
        "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/ecsAutoscaleRole",
        "CreationTime": "2024-05-01T10:00:00+00:00",
    } | extra


def policy(service_name: str = "orders-api", env: str = "production") -> dict[str, Any]:
    return {
        "PolicyName": f"{service_name}-cpu",
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/shop-{env}/{service_name}",
        "ScalableDimension": "ecs:service:DesiredCount",
        "PolicyType": "TargetTrackingScaling",
    }


def account(
    services: list[dict[str, Any]],
    task_definitions: list[dict[str, Any]] | None = None,
    targets: list[dict[str, Any]] | None = None,
    policies: list[dict[str, Any]] | None = None,
    scheduled: list[dict[str, Any]] | None = None,
    tasks: list[dict[str, Any]] | None = None,
    hosts: list[dict[str, Any]] | None = None,
    errors: list[dict[str, Any]] | None = None,
):
    """A snapshot with ECS services, their scaling, subnets, tasks and container instances."""
    snap = snapshot(
        task_definitions=task_definitions
        if task_definitions is not None
        else [tdef(s["serviceName"], _env(s)) for s in services],
        services=services,
        errors=errors or [],
    )
    snap.data[(REGION, "application-autoscaling")] = {
        "scalable_targets": targets or [],
        "scaling_policies": policies or [],
        "scheduled_actions": scheduled or [],
    }
    snap.data[(REGION, "ec2")] = {
        "subnets": [
            {"SubnetId": s, "VpcId": "vpc-1", "AvailabilityZone": z} for s, z in ZONES.items()
        ]
    }
    snap.data[(REGION, "ecs")] |= {"tasks": tasks or [], "container_instances": hosts or []}
    return snap


def _env(s: dict[str, Any]) -> str:
    return next(t["value"] for t in s["tags"] if t["key"] == "Environment")


def running_task(
    service_name: str = "orders-api",
    env: str = "production",
    subnet: str | None = "subnet-a",
    zone: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/shop-{env}/{subnet}{zone}",
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/shop-{env}",
        "taskDefinitionArn": td_arn("orders-api-prod"),
        "group": f"service:{service_name}",
        "lastStatus": "RUNNING",
        "desiredStatus": "RUNNING",
        "containers": [],
        "attachments": [
            {"type": "ElasticNetworkInterface", "details": [{"name": "subnetId", "value": subnet}]}
        ]
        if subnet
        else [],
    }
    if zone:
        out["availabilityZone"] = zone
    return out


# -- shared ----------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_empty_account_gives_one_skip(check_id):
    f = only(run(snapshot(), check_id))
    assert f.status == Status.SKIP
    assert f.resource_id == "*"
    assert f.message.startswith("Nothing to evaluate")


def test_catalog_holds_exactly_these_factor_viii_checks():
    catalog = load_catalog()
    assert {c for c, m in catalog.items() if m.factor == 8} == set(CHECK_IDS)
    for check_id in CHECK_IDS:
        assert catalog[check_id].iam_actions


@pytest.mark.parametrize(
    ("check_id", "service_name", "operation"),
    [
        ("TF08-AUTOSCALING", "application-autoscaling", "DescribeScalableTargets"),
        ("TF08-AUTOSCALING", "ecs", "DescribeServices"),
        ("TF08-MULTI-AZ", "ec2", "DescribeSubnets"),
        ("TF08-MULTI-AZ", "ecs", "ListTasks"),
        ("TF08-PROCESS-TYPES", "ecs", "ListTaskDefinitions"),
        ("TF08-RESOURCE-LIMITS", "ecs", "DescribeTaskDefinition"),
    ],
)
def test_could_not_evaluate(check_id, service_name, operation):
    action = f"{service_name}:{operation}"
    snap = account(
        [svc()],
        targets=[target()],
        policies=[policy()],
        errors=[error(service_name, operation)],
    )
    findings = run(snap, check_id)
    assert action in load_catalog()[check_id].iam_actions
    assert all(f.status not in (Status.PASS, Status.SKIP) for f in findings), findings
    gap = only(f for f in findings if action in f.message)
    assert gap.status == Status.ERROR
    assert gap.message.startswith(f"Could not evaluate: {action} failed in {REGION}")
    assert evidence(gap)["missing_action"] == action


# -- TF08-AUTOSCALING ------------------------------------------------------------------------
class TestAutoscaling:
    ID = "TF08-AUTOSCALING"

    def judge(self, services=None, **kw):
        return run(account(services or [svc()], **kw), self.ID)

    def test_target_with_range_and_policy_passes(self):
        f = only(self.judge(targets=[target()], policies=[policy()]))
        assert (f.status, f.resource_id, f.resource_type) == (
            Status.PASS,
            "shop-production/orders-api",
            "AwsEcsService",
        )
        assert "between 2 and 10" in f.message
        assert evidence(f)["scaling"]["policies"] == 1

    def test_production_service_without_target_fails(self):
        f = only(self.judge())
        assert f.status == Status.FAIL
        assert f.severity == "medium"
        assert "no Application Auto Scaling target" in f.message

    def test_staging_service_without_target_is_info(self):
        f = only(self.judge([svc(env="staging", desired=1)]))
        assert f.status == Status.INFO

    def test_staging_service_with_a_broken_target_still_fails(self):
        findings = self.judge([svc(env="staging")], targets=[target(env="staging", low=1, high=1)])
        assert only(findings).status == Status.FAIL

    def test_service_of_no_known_environment_is_held_to_production(self):
        s = service("apps", "billing", td_arn("billing")) | {"desiredCount": 1}
        f = only(run(account([s], task_definitions=[td("billing")]), self.ID))
        assert f.status == Status.FAIL
        assert "no known environment" in f.message

    def test_fixed_range_fails(self):
        f = only(self.judge(targets=[target(low=2, high=2)], policies=[policy()]))
        assert f.status == Status.FAIL
        assert "fixed (min 2 = max 2)" in f.message

    def test_no_policy_fails_and_names_scheduled_actions(self):
        scheduled = [{"ResourceId": "service/shop-production/orders-api", "Schedule": "cron()"}]
        f = only(self.judge(targets=[target()], scheduled=scheduled))
        assert f.status == Status.FAIL
        assert "no scaling policy" in f.message and "1 scheduled action" in f.message

    def test_suspended_scale_out_fails(self):
        suspended = {
            "DynamicScalingInSuspended": False,
            "DynamicScalingOutSuspended": True,
            "ScheduledScalingSuspended": False,
        }
        f = only(self.judge(targets=[target(SuspendedState=suspended)], policies=[policy()]))
        assert f.status == Status.FAIL
        assert "suspended" in f.message

    def test_suspended_scale_in_only_still_passes(self):
        suspended = {"DynamicScalingInSuspended": True}
        f = only(self.judge(targets=[target(SuspendedState=suspended)], policies=[policy()]))
        assert f.status == Status.PASS

    def test_daemon_service_is_skipped(self):
        f = only(self.judge([svc(schedulingStrategy="DAEMON")]))
        assert f.status == Status.SKIP

    def test_service_scaled_to_zero_without_target_is_skipped(self):
        f = only(self.judge([svc(desired=0)]))
        assert f.status == Status.SKIP

    def test_other_dimensions_and_services_do_not_count(self):
        other = target(service_name="payments") | {"ScalableDimension": "ecs:service:Other"}
        f = only(self.judge(targets=[other]))
        assert f.status == Status.FAIL


# -- TF08-MULTI-AZ ---------------------------------------------------------------------------
class TestMultiAz:
    ID = "TF08-MULTI-AZ"

    def judge(self, services=None, **kw):
        return run(account(services or [svc()], **kw), self.ID)

    def test_two_tasks_over_two_zones_pass(self):
        f = only(self.judge())
        assert f.status == Status.PASS
        assert "eu-west-1a, eu-west-1b" in f.message
        assert "rests on its configuration" in f.message
        assert evidence(f)["placement"]["zones"] == ["eu-west-1a", "eu-west-1b"]

    def test_one_task_fails(self):
        f = only(self.judge([svc(desired=1)]))
        assert f.status == Status.FAIL
        assert "runs 1 task" in f.message

    def test_scaling_minimum_below_two_fails(self):
        f = only(self.judge(targets=[target(low=1)], policies=[policy()]))
        assert f.status == Status.FAIL
        assert "down to 1 task" in f.message

    def test_subnets_in_one_zone_fail(self):
        f = only(self.judge([svc(subnets=("subnet-a",))]))
        assert f.status == Status.FAIL
        assert "all in eu-west-1a" in f.message

    def test_running_tasks_in_one_zone_fail(self):
        tasks = [running_task(subnet="subnet-a"), running_task(subnet="subnet-a")]
        f = only(self.judge(tasks=tasks))
        assert f.status == Status.FAIL
        assert "2 running tasks are all in eu-west-1a" in f.message

    def test_running_tasks_zone_from_availability_zone_field(self):
        tasks = [
            running_task(subnet=None, zone="eu-west-1a"),
            running_task(subnet=None, zone="eu-west-1c"),
        ]
        f = only(self.judge(tasks=tasks))
        assert f.status == Status.PASS
        assert evidence(f)["running_zones"] == ["eu-west-1a", "eu-west-1c"]

    def test_staging_services_are_not_judged(self):
        findings = self.judge([svc(env="staging", desired=1), svc()])
        assert statuses(findings) == {"shop-production/orders-api": Status.PASS}

    def test_ec2_service_uses_its_hosts_zones(self):
        s = svc(subnets=(), launchType="EC2")
        cluster_arn = s["clusterArn"]
        hosts = [
            {
                "containerInstanceArn": f"arn:ci/{zone}",
                "clusterArn": cluster_arn,
                "status": "ACTIVE",
                "attributes": [{"name": "ecs.availability-zone", "value": zone}],
            }
            for zone in ("eu-west-1a", "eu-west-1a")
        ]
        f = only(self.judge([s], hosts=hosts))
        assert f.status == Status.FAIL
        assert "EC2 container instances are all in eu-west-1a" in f.message

    def test_unknown_zones_are_info(self):
        f = only(self.judge([svc(subnets=())]))
        assert f.status == Status.INFO

    def test_unknown_placement_but_tasks_seen_in_two_zones_passes(self):
        tasks = [
            running_task(subnet=None, zone="eu-west-1a"),
            running_task(subnet=None, zone="eu-west-1b"),
        ]
        f = only(self.judge([svc(subnets=())], tasks=tasks))
        assert f.status == Status.PASS
        assert "eu-west-1a, eu-west-1b" in f.message

    def test_unknown_placement_and_one_task_zone_is_info(self):
        f = only(
            self.judge([svc(subnets=())], tasks=[running_task(subnet=None, zone="eu-west-1a")])
        )
        assert f.status == Status.INFO
        assert "1 zone only" in f.message


# -- TF08-PROCESS-TYPES ----------------------------------------------------------------------
def ctr(name: str, image: str, command: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out = container(name, image=image)
    if command:
        out["command"] = command
    return out | extra


APP = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/orders-api"


class TestProcessTypes:
    ID = "TF08-PROCESS-TYPES"

    def judge(self, *containers):
        snap = snapshot(
            task_definitions=[td("orders-api-prod", containers=list(containers))],
            services=[svc()],
        )
        return only(run(snap, self.ID))

    def test_one_container_passes(self):
        f = self.judge(ctr("app", f"{APP}:1.4.2", ["gunicorn", "app"]))
        assert f.status == Status.PASS

    def test_sidecar_from_another_image_passes(self):
        f = self.judge(
            ctr("app", f"{APP}:1.4.2", ["gunicorn", "app"]),
            ctr("otel", "public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1"),
        )
        assert f.status == Status.PASS
        assert "sidecars" in f.message

    def test_same_image_with_two_commands_fails(self):
        f = self.judge(
            ctr("web", f"{APP}:1.4.2", ["gunicorn", "app"]),
            ctr("worker", f"{APP}@sha256:abc", ["celery", "-A", "app", "worker"]),
        )
        assert f.status == Status.FAIL
        assert "web and worker run the same image (" in f.message
        rows = {c["container"]: c for c in evidence(f)["containers"]}
        assert rows["worker"]["repository"] == APP.split("/", 1)[0] + "/shop/orders-api"

    def test_init_step_of_the_same_image_is_not_a_process_type(self):
        migrate = ctr(
            "migrate", f"{APP}:1.4.2", ["python", "manage.py", "migrate"], essential=False
        )
        web = ctr(
            "web",
            f"{APP}:1.4.2",
            ["gunicorn", "app"],
            dependsOn=[{"containerName": "migrate", "condition": "SUCCESS"}],
        )
        f = self.judge(migrate, web)
        assert f.status == Status.PASS
        rows = {c["container"]: c for c in evidence(f)["containers"]}
        assert rows["migrate"]["init_step"] and not rows["web"]["init_step"]

    def test_process_manager_fails(self):
        f = self.judge(ctr("web", "php:7.4-apache", ["sh", "-c", "supervisord -c /etc/s.conf"]))
        assert f.status == Status.FAIL
        assert "supervisord" in f.message

    def test_two_programs_in_one_container_fail(self):
        f = self.judge(ctr("app", f"{APP}:1", ["sh", "-c", "celery worker & exec gunicorn app"]))
        assert f.status == Status.FAIL
        assert "keeps 2 programs running" in f.message

    def test_repository_ignores_tags_and_digests(self):
        found = process_types(
            {
                "containerDefinitions": [
                    {"name": "a", "image": "registry:5000/team/app:1", "command": ["a"]},
                    {"name": "b", "image": "registry:5000/team/app@sha256:x", "command": ["a"]},
                ]
            }
        )
        assert {c["repository"] for c in found["containers"]} == {"registry:5000/team/app"}
        assert found["bundles"] == []  # the same command twice is not two process types


# -- TF08-RESOURCE-LIMITS --------------------------------------------------------------------
class TestResourceLimits:
    ID = "TF08-RESOURCE-LIMITS"

    def judge(self, containers=None, **task_level):
        definition = td("orders-api-prod", containers=containers)
        for key, value in task_level.items():
            if value is None:
                definition.pop(key, None)
            else:
                definition[key] = value
        return only(run(snapshot(task_definitions=[definition], services=[svc()]), self.ID))

    def test_task_level_cpu_and_memory_pass(self):
        f = self.judge()
        assert f.status == Status.PASS
        assert "256 CPU units and 512 MiB" in f.message

    def test_no_task_level_and_soft_reservations_fail(self):
        soft = container("web") | {"memoryReservation": 256}
        f = self.judge([soft], cpu=None, memory=None)
        assert f.status == Status.FAIL
        assert "web (no CPU share, only a soft memory reservation)" in f.message

    def test_no_task_level_but_every_container_bounded_passes(self):
        bounded = container("web") | {"cpu": 256, "memory": 512}
        f = self.judge([bounded], cpu=None, memory=None)
        assert f.status == Status.PASS

    def test_task_memory_only_needs_container_cpu(self):
        f = self.judge([container("web") | {"memory": 512}], cpu=None)
        assert f.status == Status.FAIL
        assert "no CPU share" in f.message and "memory" not in f.message.split(":", 1)[1]


# -- evidence tables and pictures ------------------------------------------------------------
@pytest.fixture
def workbook():
    snap = account(
        [svc(), svc(env="staging", desired=1)],
        targets=[target()],
        policies=[policy()],
        tasks=[running_task()],
    )
    return Workbook(settings(), snap)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_every_check_has_an_evidence_table(workbook, check_id):
    table = workbook.evidence(check_id)
    assert isinstance(table, pd.DataFrame) and not table.empty
    assert list(table.columns[:3]) == ["application", "environment", "region"]


def test_evidence_tables_keep_their_columns_on_an_empty_account():
    wb = Workbook(settings(), snapshot())
    for check_id in CHECK_IDS:
        assert wb.evidence(check_id).empty
        assert "application" in wb.evidence(check_id).columns


def test_capacity_table_has_desired_and_range_per_service(workbook):
    table = capacity_table(workbook).set_index("service")
    prod = table.loc["shop-production/orders-api"]
    assert (prod["desired"], prod["min"], prod["max"]) == (2, 2, 10)
    assert pd.isna(table.loc["shop-staging/orders-api", "max"])


def test_capacity_plot_is_a_figure(workbook):
    assert isinstance(workbook.plot("capacity"), Figure)
    assert isinstance(Workbook(settings(), snapshot()).plot("capacity"), Figure)
