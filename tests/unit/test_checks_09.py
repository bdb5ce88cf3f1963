"""Unit tests for the factor IX checks (twelvefactor.checks.disposability), run through the engine.

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
from twelvefactor.checks.disposability import CHECK_IDS, classify_stop, trivial_health_check
from twelvefactor.findings import Status
from twelvefactor.workbook import Workbook

ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
HEALTHY = {"command": ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"]}
MIB = 1024 * 1024


# -- local builders --------------------------------------------------------------------------
def ctr(name: str = "app", **extra: Any) -> dict[str, Any]:
    return container(name, image=f"{ECR}/shop/orders-api:1.4.2") | extra


def deployed(*containers: dict[str, Any], env: str = "production", **extra: Any):
    """(task definition, service) of orders-api in ``env`` running ``containers``."""
    family = f"orders-api-{'prod' if env == 'production' else env}"
    definition = td(family, containers=list(containers) or [ctr()])
    return definition, service(f"shop-{env}", "orders-api", td_arn(family), env) | extra


def tg_arn(name: str) -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/73e2d6bc24d8a067"


def behind(svc: dict[str, Any], name: str = "orders-api-prod") -> dict[str, Any]:
    return svc | {
        "loadBalancers": [
            {"targetGroupArn": tg_arn(name), "containerName": "app", "containerPort": 8080}
        ]
    }


def with_target_group(snap, name: str = "orders-api-prod", delay: str | None = "30"):
    """One target group; ``delay`` None: its attributes could not be read."""
    snap.data[(REGION, "elbv2")] = {
        "load_balancers": [],
        "listeners": [],
        "target_groups": [
            {
                "TargetGroupArn": tg_arn(name),
                "TargetGroupName": name,
                "Port": 8080,
                "attributes": None
                if delay is None
                else {"deregistration_delay.timeout_seconds": delay},
            }
        ],
    }
    return snap


def account(*pairs, errors=(), tasks=None, images=None, account_settings=None):
    snap = snapshot(
        task_definitions=[t for t, _ in pairs],
        services=[s for _, s in pairs],
        errors=list(errors),
    )
    if tasks is not None or account_settings is not None:
        snap.data[(REGION, "ecs")] |= {
            "tasks": tasks or [],
            "account_settings": account_settings or [],
        }
    if images is not None:
        snap.data[(REGION, "ecr")] = {
            "repositories": [
                {
                    "repositoryName": "shop/orders-api",
                    "repositoryArn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop/orders-api",
                    "repositoryUri": f"{ECR}/shop/orders-api",
                }
            ],
            "images": {"shop/orders-api": images},
        }
    return snap


def stopped(
    group: str = "service:orders-api",
    *,
    family: str = "orders-api-prod",
    stop_code: str = "",
    reason: str = "",
    exit_code: int | None = 0,
    container_reason: str = "",
) -> dict[str, Any]:
    return {
        "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/shop-production/{id(reason)}",
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/shop-production",
        "taskDefinitionArn": td_arn(family),
        "group": group,
        "startedBy": "ecs-svc/1234",
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "stopCode": stop_code,
        "stoppedReason": reason,
        "containers": [{"name": "app", "exitCode": exit_code, "reason": container_reason}],
    }


# -- shared ----------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_empty_account_gives_one_skip(check_id):
    f = only(run(snapshot(), check_id))
    assert f.status == Status.SKIP
    assert f.resource_id == "*"
    assert f.message.startswith("Nothing to evaluate")


def test_catalog_holds_exactly_these_factor_ix_checks():
    catalog = load_catalog()
    assert {c for c, m in catalog.items() if m.factor == 9} == set(CHECK_IDS)
    for check_id in CHECK_IDS:
        assert catalog[check_id].iam_actions


@pytest.mark.parametrize(
    ("check_id", "service_name", "operation"),
    [
        ("TF09-HEALTH-CHECK", "ecs", "ListTaskDefinitions"),
        ("TF09-GRACE-PERIOD", "ecs", "DescribeServices"),
        ("TF09-STOP-TIMEOUT", "elbv2", "DescribeTargetGroups"),
        ("TF09-STOPPED-TASKS", "ecs", "ListTasks"),
        ("TF09-LOG-NONBLOCKING", "ecs", "ListAccountSettings"),
        ("TF09-IMAGE-SIZE", "ecr", "DescribeImages"),
    ],
)
def test_could_not_evaluate(check_id, service_name, operation):
    from twelvefactor.aws import iam_action

    action = iam_action(service_name, operation)
    good = ctr(healthCheck=HEALTHY, stopTimeout=45) | {
        "logConfiguration": {"logDriver": "awslogs", "options": {"mode": "non-blocking"}}
    }
    pair = deployed(good, healthCheckGracePeriodSeconds=60)
    snap = account(
        pair,
        errors=[error(service_name, operation)],
        tasks=[stopped()],
        images=[{"imageDigest": "sha256:1", "imageTags": ["1.4.2"], "imageSizeInBytes": 9 * MIB}],
    )
    findings = run(snap, check_id)
    assert action in load_catalog()[check_id].iam_actions
    assert all(f.status not in (Status.PASS, Status.SKIP) for f in findings), findings
    gap = only(f for f in findings if action in f.message)
    assert gap.status == Status.ERROR
    assert gap.message.startswith(f"Could not evaluate: {action} failed in {REGION}")
    assert evidence(gap)["missing_action"] == action


# -- TF09-HEALTH-CHECK -----------------------------------------------------------------------
class TestHealthCheck:
    ID = "TF09-HEALTH-CHECK"

    def judge(self, *containers):
        return run(account(deployed(*containers)), self.ID)

    def test_health_check_passes(self):
        f = only(self.judge(ctr(healthCheck=HEALTHY | {"startPeriod": 20})))
        assert (f.status, f.resource_id) == (Status.PASS, "orders-api-prod:1/app")
        assert "start period 20 s" in f.message

    def test_no_health_check_fails(self):
        f = only(self.judge(ctr()))
        assert f.status == Status.FAIL
        assert "no health check" in f.message

    @pytest.mark.parametrize(
        "command",
        [
            ["CMD-SHELL", "exit 0"],
            ["CMD", "true"],
            ["CMD-SHELL", "curl -f http://localhost/ || exit 0"],
            ["CMD-SHELL", "wget -q localhost:8080 || true"],
        ],
    )
    def test_health_check_that_cannot_fail_fails(self, command):
        f = only(self.judge(ctr(healthCheck={"command": command})))
        assert f.status == Status.FAIL
        assert "cannot fail" in f.message

    def test_real_probes_are_not_trivial(self):
        assert trivial_health_check(["CMD-SHELL", "curl -f localhost || exit 1"]) == ""
        assert trivial_health_check(["CMD", "/bin/healthcheck", "--port", "8080"]) == ""

    def test_non_essential_sidecar_is_skipped(self):
        findings = self.judge(ctr(healthCheck=HEALTHY), ctr("otel", essential=False))
        assert statuses(findings) == {
            "orders-api-prod:1/app": Status.PASS,
            "orders-api-prod:1/otel": Status.SKIP,
        }


# -- TF09-GRACE-PERIOD -----------------------------------------------------------------------
class TestGracePeriod:
    ID = "TF09-GRACE-PERIOD"

    def test_grace_period_passes(self):
        definition, svc = deployed(ctr(healthCheck=HEALTHY), healthCheckGracePeriodSeconds=60)
        f = only(run(account((definition, svc)), self.ID))
        assert (f.status, f.resource_id) == (Status.PASS, "shop-production/orders-api")
        assert "60 s" in f.message

    def test_load_balancer_without_grace_period_fails(self):
        definition, svc = deployed(ctr())
        f = only(run(with_target_group(account((definition, behind(svc)))), self.ID))
        assert f.status == Status.FAIL
        assert "target group" in f.message

    def test_container_health_check_without_grace_period_fails(self):
        f = only(run(account(deployed(ctr(healthCheck=HEALTHY))), self.ID))
        assert f.status == Status.FAIL
        assert "container health checks (app)" in f.message

    def test_service_without_any_health_check_is_not_judged(self):
        f = only(run(account(deployed(ctr())), self.ID))
        assert f.status == Status.SKIP and f.resource_id == "*"


# -- TF09-STOP-TIMEOUT -----------------------------------------------------------------------
class TestStopTimeout:
    ID = "TF09-STOP-TIMEOUT"

    def judge(self, timeout=None, delay: str | None = "30", launch="FARGATE"):
        extra = {} if timeout is None else {"stopTimeout": timeout}
        definition, svc = deployed(ctr(**extra), launchType=launch)
        snap = with_target_group(account((definition, behind(svc))), delay=delay)
        return only(run(snap, self.ID))

    def test_timeout_covering_the_draining_passes(self):
        f = self.judge(45, "30")
        assert f.status == Status.PASS
        assert "45 s after SIGTERM" in f.message and "30 s of draining" in f.message

    def test_unset_timeout_fails(self):
        f = self.judge(None, "20")
        assert f.status == Status.FAIL
        assert "no stopTimeout" in f.message

    def test_draining_longer_than_timeout_fails(self):
        f = self.judge(60, "90", launch="EC2")
        assert f.status == Status.FAIL
        assert "drains for 90 s, longer than the 60 s" in f.message
        assert "Fargate" not in f.message

    def test_fargate_cannot_wait_for_the_default_draining(self):
        f = self.judge(120, "300")
        assert f.status == Status.FAIL
        assert "Fargate allows at most 120 s: lower the delay" in f.message

    def test_missing_delay_attribute_is_the_elb_default(self):
        definition, svc = deployed(ctr(stopTimeout=60))
        snap = with_target_group(account((definition, behind(svc))))
        snap.data[(REGION, "elbv2")]["target_groups"][0]["attributes"] = {}
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert evidence(f)["deregistration_delays"] == {"orders-api-prod": 300}

    def test_without_load_balancer_only_the_timeout_counts(self):
        f = only(run(account(deployed(ctr(stopTimeout=10))), self.ID))
        assert f.status == Status.PASS
        assert "no load balancer" in f.message

    def test_unreadable_attributes_are_an_error(self):
        f = self.judge(45, None)
        assert f.status == Status.ERROR
        assert "deregistration delay" in f.message


# -- TF09-STOPPED-TASKS ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("task", "outcome"),
    [
        (stopped(reason="OutOfMemoryError: Container killed due to memory usage"), "out of memory"),
        (
            stopped(exit_code=137, container_reason="OutOfMemoryError: Container killed"),
            "out of memory",
        ),
        (stopped(stop_code="ServiceSchedulerInitiated", exit_code=137), "SIGTERM ignored"),
        (stopped(stop_code="UserInitiated", exit_code=143), "stopped cleanly"),
        (stopped(stop_code="EssentialContainerExited", exit_code=1), "crashed"),
        (stopped(stop_code="EssentialContainerExited", exit_code=0), "exited (0)"),
        (stopped(stop_code="TaskFailedToStart", exit_code=None), "failed to start"),
        (
            stopped(reason="CannotPullContainerError: pull access denied", exit_code=None),
            "failed to start",
        ),
    ],
)
def test_classify_stop(task, outcome):
    assert (
        classify_stop(
            {
                "stop_code": task["stopCode"],
                "stopped_reason": task["stoppedReason"],
                "containers": [
                    {"exit_code": c["exitCode"], "reason": c["reason"]} for c in task["containers"]
                ],
            }
        )
        == outcome
    )


class TestStoppedTasks:
    ID = "TF09-STOPPED-TASKS"

    def judge(self, *tasks):
        return run(account(deployed(), tasks=list(tasks)), self.ID)

    def test_clean_stops_pass(self):
        f = only(self.judge(stopped(stop_code="ServiceSchedulerInitiated", exit_code=143)))
        assert (f.status, f.resource_id, f.resource_type) == (
            Status.PASS,
            "shop-production/orders-api",
            "AwsEcsService",
        )
        assert (f.application, f.environment) == ("orders-api", "production")

    def test_out_of_memory_fails(self):
        f = only(self.judge(stopped(reason="OutOfMemoryError: Container killed")))
        assert f.status == Status.FAIL
        assert "1 out of memory" in f.message

    def test_ignored_sigterm_fails(self):
        f = only(self.judge(stopped(stop_code="ServiceSchedulerInitiated", exit_code=137)))
        assert f.status == Status.FAIL
        assert "SIGTERM ignored" in f.message

    def test_three_crashes_are_a_crash_loop(self):
        crash = stopped(stop_code="EssentialContainerExited", exit_code=2)
        f = only(self.judge(crash, crash, crash))
        assert f.status == Status.FAIL
        assert "crash loop" in f.message

    def test_one_crash_is_info(self):
        f = only(self.judge(stopped(stop_code="EssentialContainerExited", exit_code=2)))
        assert f.status == Status.INFO

    def test_standalone_tasks_are_grouped_by_family(self):
        one_off = stopped("family:orders-api-migrate", family="orders-api-migrate")
        findings = self.judge(one_off, stopped(stop_code="UserInitiated"))
        assert statuses(findings) == {
            "shop-production/orders-api-migrate": Status.PASS,
            "shop-production/orders-api": Status.PASS,
        }
        f = only(f for f in findings if f.resource_id.endswith("migrate"))
        assert f.resource_type == "AwsEcsTask"
        assert "started on their own" in f.message

    def test_running_tasks_are_not_judged(self):
        running = stopped() | {"lastStatus": "RUNNING", "desiredStatus": "RUNNING"}
        f = only(self.judge(running))
        assert f.status == Status.SKIP and f.resource_id == "*"


# -- TF09-LOG-NONBLOCKING --------------------------------------------------------------------
def logged(mode: str | None = None, driver: str = "awslogs") -> dict[str, Any]:
    options = {"awslogs-group": "/ecs/orders-api-prod"} | ({"mode": mode} if mode else {})
    return ctr(logConfiguration={"logDriver": driver, "options": options})


def setting(value: str) -> list[dict[str, str]]:
    return [{"name": "defaultLogDriverMode", "value": value, "principalArn": "arn:root"}]


class TestLogNonBlocking:
    ID = "TF09-LOG-NONBLOCKING"

    def judge(self, c, account_settings=None):
        return only(run(account(deployed(c), account_settings=account_settings), self.ID))

    def test_own_non_blocking_option_passes(self):
        f = self.judge(logged("non-blocking"))
        assert f.status == Status.PASS
        assert "its own option" in f.message

    def test_own_blocking_option_fails_even_if_the_account_says_otherwise(self):
        f = self.judge(logged("blocking"), setting("non-blocking"))
        assert f.status == Status.FAIL

    @pytest.mark.parametrize(("value", "status"), [("blocking", "FAIL"), ("non-blocking", "PASS")])
    def test_unset_mode_follows_the_account_default(self, value, status):
        f = self.judge(logged(), setting(value))
        assert f.status == status
        assert "the account default" in f.message

    def test_unset_mode_and_unknown_default_is_info(self):
        f = self.judge(logged())
        assert f.status == Status.INFO

    def test_container_without_log_configuration_is_skipped(self):
        f = self.judge(ctr())
        assert f.status == Status.SKIP


# -- TF09-IMAGE-SIZE -------------------------------------------------------------------------
class TestImageSize:
    ID = "TF09-IMAGE-SIZE"

    def judge(self, size_mib: float, image: str | None = None):
        images = [
            {
                "imageDigest": "sha256:1",
                "imageTags": ["1.4.2"],
                "imageSizeInBytes": int(size_mib * MIB),
            }
        ]
        c = ctr() if image is None else ctr(image=image)
        return only(run(account(deployed(c), images=images), self.ID))

    @pytest.mark.parametrize(("size", "status"), [(90, "PASS"), (700, "INFO"), (1500, "FAIL")])
    def test_thresholds(self, size, status):
        f = self.judge(size)
        assert f.status == status
        assert evidence(f)["size_bytes"] == int(size * MIB)

    def test_image_by_digest(self):
        f = self.judge(1500, f"{ECR}/shop/orders-api@sha256:1")
        assert f.status == Status.FAIL
        assert "1,500 MiB" in f.message

    def test_image_the_repository_no_longer_holds_is_skipped(self):
        f = self.judge(90, f"{ECR}/shop/orders-api:0.9.0")
        assert f.status == Status.SKIP

    def test_repository_whose_images_could_not_be_listed_is_an_error(self):
        snap = account(deployed(ctr()), images=[], errors=[error("ecr", "DescribeImages")])
        snap.data[(REGION, "ecr")]["images"]["shop/orders-api"] = None
        findings = run(snap, self.ID)
        mine = only(f for f in findings if f.resource_id == "orders-api-prod:1/app")
        assert mine.status == Status.ERROR
        assert "could not be listed" in mine.message

    def test_docker_hub_image_is_skipped(self):
        f = self.judge(90, "php:7.4-apache")
        assert f.status == Status.SKIP
        assert "docker-hub" in f.message


# -- evidence tables and pictures ------------------------------------------------------------
@pytest.fixture
def workbook():
    good = ctr(healthCheck=HEALTHY, stopTimeout=45) | {
        "logConfiguration": {"logDriver": "awslogs", "options": {"mode": "non-blocking"}}
    }
    definition, svc = deployed(good, healthCheckGracePeriodSeconds=60)
    snap = with_target_group(
        account(
            (definition, behind(svc)),
            tasks=[stopped(reason="OutOfMemoryError"), stopped(stop_code="UserInitiated")],
            images=[{"imageDigest": "sha256:1", "imageTags": ["1.4.2"], "imageSizeInBytes": MIB}],
        )
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


def test_stopped_tasks_are_grouped_by_outcome(workbook):
    table = workbook.evidence("TF09-STOPPED-TASKS").set_index("outcome")
    assert table.loc["out of memory", "tasks"] == 1
    assert table.loc["stopped cleanly", "stop_code"] == "UserInitiated"


@pytest.mark.parametrize("name", ["image-sizes", "stopped-tasks"])
def test_plots_are_figures(workbook, name):
    assert isinstance(workbook.plot(name), Figure)
    assert isinstance(Workbook(settings(), snapshot()).plot(name), Figure)
