"""Unit tests for the factor XII checks (twelvefactor.checks.admin_processes), through the engine.

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
    cluster,
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
from twelvefactor.checks.admin_processes import CHECK_IDS, shell_rules
from twelvefactor.findings import Status
from twelvefactor.workbook import Workbook

ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/shop-prod"
AWSLOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/x"}}


# -- builders --------------------------------------------------------------------------------
def app_image(digest: str = D1, repo: str = "shop/orders-api") -> str:
    return f"{ECR}/{repo}@{digest}"


def rule(name: str, task_definition: str, state: str = "ENABLED") -> dict[str, Any]:
    return {
        "Name": name,
        "Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}",
        "ScheduleExpression": "cron(0 3 * * ? *)",
        "State": state,
        "Targets": [
            {"Id": "t", "Arn": CLUSTER_ARN, "EcsParameters": {"TaskDefinitionArn": task_definition}}
        ],
    }


def schedule(name: str, task_definition: str) -> dict[str, Any]:
    return {
        "Name": name,
        "GroupName": "default",
        "Arn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{name}",
        "ScheduleExpression": "rate(1 day)",
        "State": "ENABLED",
        "Target": {"Arn": CLUSTER_ARN, "EcsParameters": {"TaskDefinitionArn": task_definition}},
    }


def one_off(family: str, revision: int = 1, started_by: str = "deploy/42") -> dict[str, Any]:
    return {
        "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/shop-prod/{family}{revision}{started_by}",
        "clusterArn": CLUSTER_ARN,
        "taskDefinitionArn": td_arn(family, revision),
        "group": f"family:{family}",
        "startedBy": started_by,
        "lastStatus": "STOPPED",
        "containers": [{"name": "migrate", "image": app_image()}],
    }


def shop(
    *extra_tds: dict[str, Any],
    rules=(),
    schedules=(),
    tasks=None,
    errors=(),
    service_image: str = app_image(),
):
    """orders-api in production (its service runs orders-api-prod:1) plus admin families."""
    snap = snapshot(
        task_definitions=[
            td("orders-api-prod", containers=[container("app", image=service_image)]),
            *extra_tds,
        ],
        services=[service("shop-prod", "orders-api", td_arn("orders-api-prod"), "production")],
        errors=list(errors),
    )
    snap.data[(REGION, "events")] = {"rules": list(rules)}
    snap.data[(REGION, "scheduler")] = {"schedules": list(schedules)}
    if tasks is not None:
        snap.data[(REGION, "ecs")]["tasks"] = tasks
    return snap


def migrate(image: str = app_image(), revision: int = 1, family: str = "orders-api-migrate"):
    return td(
        family,
        revision,
        containers=[container("migrate", image=image)],
        tags={"Application": "orders-api", "Environment": "production"},
    )


def assert_could_not_evaluate(findings, check_id: str, action: str):
    assert action in load_catalog()[check_id].iam_actions
    assert all(f.status not in (Status.PASS, Status.SKIP) for f in findings), findings
    gap = only(f for f in findings if action in f.message)
    assert gap.status == Status.ERROR
    assert gap.message.startswith(f"Could not evaluate: {action} failed in {REGION}")
    assert evidence(gap)["missing_action"] == action


# -- shared ----------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_empty_account_gives_one_skip(check_id):
    f = only(run(snapshot(), check_id))
    assert f.status == Status.SKIP
    assert f.resource_id == "*"


def test_catalog_holds_exactly_these_factor_xii_checks():
    catalog = load_catalog()
    assert {c for c, m in catalog.items() if m.factor == 12} == set(CHECK_IDS)
    for check_id in CHECK_IDS:
        assert catalog[check_id].iam_actions


# -- TF12-ADMIN-SAME-RELEASE -----------------------------------------------------------------
class TestAdminSameRelease:
    ID = "TF12-ADMIN-SAME-RELEASE"

    def test_the_services_own_task_definition_passes(self):
        snap = shop(schedules=[schedule("nightly", td_arn("orders-api-prod"))])
        f = only(run(snap, self.ID))
        assert (f.status, f.resource_id) == (Status.PASS, "schedule/nightly")
        assert f.resource_type == "AdminTask"
        assert (f.application, f.environment) == ("orders-api", "production")
        assert "the very task definition the service runs" in f.message

    def test_own_family_with_the_services_digest_passes(self):
        snap = shop(migrate(), rules=[rule("cleanup", td_arn("orders-api-migrate"))])
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "rule/cleanup"
        assert evidence(f)["image"] == "shop/orders-api@sha256:111111111111"

    def test_another_image_is_admin_code_that_does_not_ship_with_the_app(self):
        snap = shop(
            migrate("python:3.12-slim"), rules=[rule("cleanup", td_arn("orders-api-migrate"))]
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.severity == "medium"
        assert "not the application's own image" in f.message

    def test_another_build_of_the_apps_image_is_another_release(self):
        snap = shop(migrate(app_image(D2)), rules=[rule("cleanup", td_arn("orders-api-migrate"))])
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "different releases" in f.message

    def test_one_off_tasks_are_judged_per_task_definition(self):
        tasks = [
            one_off("orders-api-migrate", started_by="deploy/1"),
            one_off("orders-api-migrate", started_by="deploy/2"),
            one_off("orders-api-migrate", started_by="events-rule/cleanup"),  # the rule's run
        ]
        snap = shop(migrate(), tasks=tasks)
        f = only(run(snap, self.ID))
        assert (f.status, f.resource_id) == (Status.PASS, "run-task/orders-api-migrate:1")

    def test_one_off_task_of_an_uncollected_revision_uses_what_the_task_reported(self):
        task = one_off("orders-api-migrate", revision=7)
        task["containers"][0]["imageDigest"] = D2
        task["containers"][0]["image"] = f"{ECR}/shop/orders-api:1.0"
        snap = shop(migrate(), tasks=[task])
        f = only(f for f in run(snap, self.ID) if f.resource_id.endswith(":7"))
        assert f.status == Status.FAIL  # D2 is not what the service runs (D1)

    def test_a_job_without_a_service_is_info(self):
        job = td("nightly-export", containers=[container("export", image=app_image())])
        snap = shop(job, rules=[rule("export", td_arn("nightly-export"))])
        f = only(run(snap, self.ID))
        assert f.status == Status.INFO
        assert "no service" in f.message

    def test_mutable_tags_leave_it_open(self):
        image = f"{ECR}/shop/orders-api:latest"
        snap = shop(
            migrate(image),
            rules=[rule("cleanup", td_arn("orders-api-migrate"))],
            service_image=image,
        )
        assert only(run(snap, self.ID)).status == Status.INFO

    def test_could_not_evaluate(self):
        snap = shop(
            schedules=[schedule("nightly", td_arn("orders-api-prod"))],
            errors=[error("events", "ListRules")],
        )
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "events:ListRules")


# -- TF12-SCHEDULE-PINNED --------------------------------------------------------------------
class TestSchedulePinned:
    ID = "TF12-SCHEDULE-PINNED"

    def test_pinned_passes_and_unpinned_fails(self):
        family_only = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/orders-api-migrate"
        snap = shop(
            migrate(),
            rules=[rule("cleanup", td_arn("orders-api-migrate"))],
            schedules=[schedule("report", family_only)],
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {"rule/cleanup": Status.PASS, "schedule/report": Status.FAIL}
        fail = only(findings, Status.FAIL)
        assert "orders-api-migrate:1 today" in fail.message
        assert evidence(fail)["pinned"] is False

    def test_a_bare_family_name_is_unpinned_and_family_revision_is_pinned(self):
        snap = shop(
            migrate(),
            rules=[rule("a", "orders-api-migrate"), rule("b", "orders-api-migrate:1")],
        )
        assert statuses(run(snap, self.ID)) == {"rule/a": Status.FAIL, "rule/b": Status.PASS}

    def test_pinned_to_a_deregistered_revision_fails(self):
        snap = shop(migrate(), rules=[rule("old", td_arn("orders-api-migrate", 3))])
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "no longer ACTIVE" in f.message

    def test_one_off_tasks_are_not_schedules(self):
        snap = shop(migrate(), tasks=[one_off("orders-api-migrate")])
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_could_not_evaluate(self):
        snap = shop(
            migrate(),
            rules=[rule("cleanup", td_arn("orders-api-migrate"))],
            errors=[error("scheduler", "GetSchedule")],
        )
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "scheduler:GetSchedule")


# -- TF12-EXEC-GOVERNED ----------------------------------------------------------------------
class TestExecGoverned:
    ID = "TF12-EXEC-GOVERNED"

    def judge(self, exec_on: bool, config: dict | None = None, env="production", logs=AWSLOGS):
        name = "shop-prod" if env else "shop"
        c = cluster(name)
        if config is not None:
            c["configuration"] = {"executeCommandConfiguration": config}
        app = container("app") | ({"logConfiguration": logs} if logs else {})
        svc = service(name, "orders-api", td_arn("orders-api-prod"), env or None)
        svc["enableExecuteCommand"] = exec_on
        snap = snapshot(
            task_definitions=[td("orders-api-prod", containers=[app])],
            services=[svc],
            clusters=[c],
        )
        f = only(run(snap, self.ID))
        assert f.resource_id == f"{name}/orders-api"
        return f

    def test_exec_off_passes(self):
        assert self.judge(False, {"logging": "NONE"}).status == Status.PASS

    def test_exec_in_production_without_logging_fails(self):
        f = self.judge(True, {"logging": "NONE"})
        assert f.status == Status.FAIL
        assert f.severity == "high"
        assert evidence(f)["logging"] == "NONE"

    def test_default_logging_goes_to_the_containers_awslogs(self):
        assert self.judge(True).status == Status.PASS  # no configuration at all: DEFAULT
        f = self.judge(True, logs=None)
        assert f.status == Status.FAIL
        assert "none for app" in f.message

    def test_override_needs_a_destination(self):
        target = {"cloudWatchLogGroupName": "/ecs/exec", "cloudWatchEncryptionEnabled": True}
        good = self.judge(True, {"logging": "OVERRIDE", "logConfiguration": target})
        assert good.status == Status.PASS
        assert "CloudWatch Logs /ecs/exec" in good.message
        assert self.judge(True, {"logging": "OVERRIDE"}).status == Status.FAIL

    def test_outside_production_unlogged_exec_is_info(self):
        assert self.judge(True, {"logging": "NONE"}, env="staging").status == Status.INFO

    def test_unknown_environment_is_taken_as_production(self):
        f = self.judge(True, {"logging": "NONE"}, env="")
        assert f.status == Status.FAIL
        assert "taken as production" in f.message

    def test_could_not_evaluate(self):
        svc = service("shop-prod", "orders-api", td_arn("orders-api-prod"), "production")
        snap = snapshot(
            task_definitions=[td("orders-api-prod")],
            services=[svc],
            errors=[error("ecs", "DescribeClusters")],
        )
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "ecs:DescribeClusters")


# -- TF12-NO-SSH-HOSTS -----------------------------------------------------------------------
def sg(group_id: str, name: str, *rules: tuple[str, int | None, int | None, str]) -> dict:
    """A DescribeSecurityGroups item; rules are (protocol, from, to, cidr)."""
    permissions = []
    for protocol, low, high, cidr in rules:
        p: dict[str, Any] = {"IpProtocol": protocol, "IpRanges": [{"CidrIp": cidr}]}
        if low is not None:
            p |= {"FromPort": low, "ToPort": high}
        permissions.append(p)
    return {"GroupId": group_id, "GroupName": name, "VpcId": "vpc-1", "IpPermissions": permissions}


def hosts(*instances: tuple[str, str | None, list[str]], groups=(), errors=(), missing=()):
    """Container instances of cluster legacy: (instance id, key pair, security group ids)."""
    snap = snapshot(
        clusters=[cluster("legacy", tags={"Environment": "production"})], errors=list(errors)
    )
    snap.data[(REGION, "ecs")]["container_instances"] = [
        {
            "containerInstanceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/legacy/{i}",
            "ec2InstanceId": i,
            "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/legacy",
            "agentConnected": True,
        }
        for i, _, _ in instances
    ]
    snap.data[(REGION, "ec2")] = {
        "instances": [
            {
                "InstanceId": i,
                "SecurityGroups": [{"GroupId": g} for g in group_ids],
                "State": {"Name": "running"},
            }
            | ({"KeyName": key} if key else {})
            for i, key, group_ids in instances
            if i not in missing
        ],
        "security_groups": list(groups),
        "subnets": [],
        "key_pairs": [],
    }
    return snap


class TestNoSshHosts:
    ID = "TF12-NO-SSH-HOSTS"
    WEB = sg("sg-web", "web", ("tcp", 80, 80, "10.0.0.0/16"))

    def test_no_key_and_no_shell_rule_passes(self):
        snap = hosts(("i-1", None, ["sg-web"]), groups=[self.WEB])
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "legacy: key=none sg=web"
        assert f.environment == "production"

    def test_ssh_from_the_internet_with_a_key_fails(self):
        ssh = sg("sg-ssh", "admin", ("tcp", 22, 22, "0.0.0.0/0"))
        snap = hosts(("i-1", "ops", ["sg-ssh", "sg-web"]), groups=[ssh, self.WEB])
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.resource_id == "legacy: key=ops sg=admin+web"
        assert "the whole internet" in f.message and "key pair ops" in f.message

    def test_all_traffic_from_the_vpc_admits_ssh_too(self):
        everything = sg("sg-all", "all", ("-1", None, None, "10.0.0.0/8"))
        f = only(run(hosts(("i-1", None, ["sg-all"]), groups=[everything]), self.ID))
        assert f.status == Status.FAIL
        assert "whole internet" not in f.message

    def test_a_key_without_a_shell_rule_is_info(self):
        f = only(run(hosts(("i-1", "ops", ["sg-web"]), groups=[self.WEB]), self.ID))
        assert f.status == Status.INFO

    def test_instances_of_one_fleet_are_one_finding(self):
        snap = hosts(
            ("i-1", None, ["sg-web"]),
            ("i-2", None, ["sg-web"]),
            ("i-3", "ops", ["sg-web"]),
            groups=[self.WEB],
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "legacy: key=none sg=web": Status.PASS,
            "legacy: key=ops sg=web": Status.INFO,
        }
        assert evidence(only(findings, Status.PASS))["instances"] == ["i-1", "i-2"]

    def test_an_instance_that_was_not_collected_is_an_error(self):
        snap = hosts(("i-1", None, ["sg-web"]), groups=[self.WEB], missing=("i-1",))
        assert only(run(snap, self.ID)).status == Status.ERROR

    def test_could_not_evaluate(self):
        ssh = sg("sg-ssh", "admin", ("tcp", 22, 22, "0.0.0.0/0"))
        snap = hosts(
            ("i-1", None, ["sg-web"]),
            groups=[self.WEB, ssh],
            errors=[error("ec2", "DescribeSecurityGroups")],
        )
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "ec2:DescribeSecurityGroups")


@pytest.mark.parametrize(
    ("protocol", "low", "high", "opens"),
    [
        ("tcp", 22, 22, "SSH"),
        ("tcp", 0, 65535, "SSH+RDP"),
        ("6", 3389, 3389, "RDP"),
        ("-1", -1, -1, "SSH+RDP"),
        ("udp", 22, 22, ""),
        ("tcp", 80, 443, ""),
    ],
)
def test_shell_rules(protocol, low, high, opens):
    rules = pd.DataFrame([{"protocol": protocol, "from_port": low, "to_port": high, "source": "x"}])
    found = shell_rules(rules)
    assert (found["opens"].tolist() or [""])[0] == opens


# -- evidence tables and pictures ------------------------------------------------------------
@pytest.fixture
def workbook():
    snap = shop(
        migrate(),
        rules=[rule("cleanup", td_arn("orders-api-migrate"))],
        tasks=[one_off("orders-api-migrate")],
    )
    ssh = hosts(("i-1", "ops", ["sg-ssh"]), groups=[sg("sg-ssh", "a", ("tcp", 22, 22, "0/0"))])
    snap.data[(REGION, "ecs")]["container_instances"] = ssh.data[(REGION, "ecs")][
        "container_instances"
    ]
    snap.data[(REGION, "ec2")] = ssh.data[(REGION, "ec2")]
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
        assert list(wb.evidence(check_id).columns[:3]) == ["application", "environment", "region"]


def test_admin_jobs_plot_is_a_figure(workbook):
    assert isinstance(workbook.plot("admin-jobs"), Figure)
    assert isinstance(Workbook(settings(), snapshot()).plot("admin-jobs"), Figure)
