"""Unit tests for the factor VI checks (twelvefactor.checks.processes), run through the engine.

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
from twelvefactor.checks.processes import CHECK_IDS, analyse_command
from twelvefactor.findings import Status
from twelvefactor.plots import factor_matrix_table
from twelvefactor.workbook import Workbook

LB_ARN = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/shop-prod/50dc6c495c0c9188"
)


# -- local builders --------------------------------------------------------------------------
def ctr(
    name: str = "app",
    *,
    command: list[str] | None = None,
    entry: list[str] | None = None,
    readonly: bool = False,
    mounts: dict[str, str] | None = None,
    read_only_mounts: tuple[str, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    """A container definition with the fields factor VI reads; ``mounts`` maps volume -> path."""
    out = container(name)
    if command is not None:
        out["command"] = command
    if entry is not None:
        out["entryPoint"] = entry
    if readonly:
        out["readonlyRootFilesystem"] = True
    out["mountPoints"] = [
        {"sourceVolume": v, "containerPath": p, "readOnly": v in read_only_mounts}
        for v, p in (mounts or {}).items()
    ]
    return out | extra


def tdef(
    family: str = "orders-api-prod",
    revision: int = 1,
    containers: list[dict[str, Any]] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    out = td(family, revision, containers=containers or [ctr()])
    out["volumes"] = volumes or []
    return out | extra


def deployed(
    family: str = "orders-api-prod", revision: int = 1, env: str = "production", **extra: Any
) -> dict[str, Any]:
    name = family.rsplit("-", 1)[0]
    return service(f"shop-{env}", name, td_arn(family, revision), env) | extra


def tg_arn(name: str) -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/73e2d6bc24d8a067"


def target_group(name: str, attributes: dict[str, str] | None, **extra: Any) -> dict[str, Any]:
    """A DescribeTargetGroups item with the attributes the collector adds (None: not read)."""
    return {
        "TargetGroupArn": tg_arn(name),
        "TargetGroupName": name,
        "Protocol": "HTTP",
        "Port": 8080,
        "TargetType": "ip",
        "HealthCheckPath": "/health",
        "LoadBalancerArns": [LB_ARN],
        "attributes": attributes,
        "Tags": [],
    } | extra


def sticky(kind: str = "lb_cookie", **more: str) -> dict[str, str]:
    return {"stickiness.enabled": "true", "stickiness.type": kind} | more


NOT_STICKY = {"stickiness.enabled": "false", "stickiness.type": "lb_cookie"}


def behind(svc: dict[str, Any], *names: str) -> dict[str, Any]:
    """The service registered with target groups ``names``."""
    return svc | {
        "loadBalancers": [
            {"targetGroupArn": tg_arn(n), "containerName": "app", "containerPort": 8080}
            for n in names
        ]
    }


def with_elbv2(snap, target_groups: list[dict[str, Any]]):
    snap.data[(REGION, "elbv2")] = {
        "load_balancers": [
            {
                "LoadBalancerArn": LB_ARN,
                "LoadBalancerName": "shop-prod",
                "Scheme": "internet-facing",
                "Type": "application",
                "Tags": [],
            }
        ],
        "target_groups": target_groups,
        "listeners": [],
    }
    return snap


def assert_could_not_evaluate(findings, check_id: str, action: str, region: str = REGION):
    """An ERROR naming ``action`` (a catalog iam_action of the check) and no PASS."""
    assert action in load_catalog()[check_id].iam_actions
    assert all(f.status not in (Status.PASS, Status.SKIP) for f in findings), findings
    gap = only(f for f in findings if action in f.message)
    assert gap.status == Status.ERROR
    assert gap.message.startswith(f"Could not evaluate: {action} failed in {region}")
    assert evidence(gap)["missing_action"] == action
    return gap


# -- shared ----------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_empty_account_gives_one_skip(check_id):
    f = only(run(snapshot(), check_id))
    assert f.status == Status.SKIP
    assert f.resource_id == "*"
    assert f.message.startswith("Nothing to evaluate")


def test_catalog_holds_exactly_these_factor_vi_checks():
    catalog = load_catalog()
    assert {c for c, m in catalog.items() if m.factor == 6} == set(CHECK_IDS)
    for check_id in CHECK_IDS:
        assert catalog[check_id].iam_actions


@pytest.mark.parametrize(
    ("check_id", "action"),
    [
        ("TF06-NO-LOCAL-STATE", "ecs:ListTaskDefinitions"),
        ("TF06-READONLY-ROOT", "ecs:ListTaskDefinitions"),
        ("TF06-ONE-PROCESS", "ecs:DescribeServices"),
        ("TF06-EPHEMERAL-STORAGE", "ecs:ListTaskDefinitions"),
    ],
)
def test_task_definition_checks_could_not_evaluate(check_id, action):
    snap = snapshot(
        task_definitions=[
            tdef(containers=[ctr(readonly=True, command=["gunicorn", "app"])]),
        ],
        services=[deployed()],
        errors=[error("ecs", action.split(":")[1])],
    )
    findings = run(snap, check_id)
    assert_could_not_evaluate(findings, check_id, action)
    assert any(f.message.endswith("(not trusted: data it needs is incomplete)") for f in findings)


def test_one_task_definition_that_could_not_be_described_is_an_error():
    arn = td_arn("orders-api-prod", 2)
    snap = snapshot(
        task_definitions=[tdef()],
        services=[deployed()],
        errors=[error("ecs", "DescribeTaskDefinition", resource=arn)],
    )
    findings = run(snap, "TF06-NO-LOCAL-STATE")
    gap = only(findings, Status.ERROR)
    assert gap.resource_id == arn
    assert "ecs:DescribeTaskDefinition" in gap.message
    # the task definition that was described is still judged
    assert only(findings, Status.PASS).resource_id == "orders-api-prod:1"


# -- TF06-NO-LOCAL-STATE ---------------------------------------------------------------------
class TestNoLocalState:
    ID = "TF06-NO-LOCAL-STATE"

    def judge(self, volumes, containers=None):
        snap = snapshot(
            task_definitions=[tdef(containers=containers, volumes=volumes)],
            services=[deployed()],
        )
        f = only(run(snap, self.ID))
        assert f.resource_id == "orders-api-prod:1"
        assert f.resource_type == "AwsEcsTaskDefinition"
        assert (f.application, f.environment) == ("orders-api", "production")
        return f, {v["volume"]: v for v in evidence(f)["volumes"]}

    def test_no_volumes_pass(self):
        f, vols = self.judge([])
        assert f.status == Status.PASS
        assert vols == {}
        assert "declares no volumes" in f.message

    def test_task_scoped_scratch_for_tmp_passes(self):
        f, vols = self.judge(
            [{"name": "scratch", "host": {}}],
            [ctr(readonly=True, mounts={"scratch": "/tmp"})],
        )
        assert f.status == Status.PASS
        assert vols["scratch"]["kind"] == "task scratch"
        assert vols["scratch"]["verdict"] == "fine"
        assert vols["scratch"]["mounted_at"] == ["app:/tmp (rw)"]

    def test_a_volume_with_only_a_name_is_task_scratch(self):
        f, vols = self.judge([{"name": "scratch"}], [ctr(mounts={"scratch": "/tmp"})])
        assert f.status == Status.PASS
        assert vols["scratch"]["kind"] == "task scratch"

    def test_writable_host_path_fails_naming_path_and_mount(self):
        f, vols = self.judge(
            [{"name": "mysql-data", "host": {"sourcePath": "/data/mysql"}}],
            [ctr("app"), ctr("mysql", mounts={"mysql-data": "/var/lib/mysql"})],
        )
        assert f.status == Status.FAIL
        assert f.severity == "high"
        assert "/data/mysql" in f.message and "mysql:/var/lib/mysql" in f.message
        assert vols["mysql-data"]["verdict"] == "local state"

    def test_read_only_host_path_is_not_state(self):
        f, vols = self.judge(
            [{"name": "certs", "host": {"sourcePath": "/etc/pki"}}],
            [ctr(mounts={"certs": "/etc/pki"}, read_only_mounts=("certs",))],
        )
        assert f.status == Status.PASS
        assert vols["certs"]["verdict"] == "not state"

    def test_docker_socket_is_not_state_but_is_pointed_out(self):
        f, vols = self.judge(
            [{"name": "docker", "host": {"sourcePath": "/var/run/docker.sock"}}],
            [ctr("agent", mounts={"docker": "/var/run/docker.sock"})],
        )
        assert f.status == Status.PASS
        assert "/var/run/docker.sock" in f.message
        assert vols["docker"]["verdict"] == "not state"
        assert "security problem" in vols["docker"]["reason"]

    @pytest.mark.parametrize("path", ["/proc", "/sys/fs/cgroup", "/var/run/datadog/apm.socket"])
    def test_kernel_interfaces_and_sockets_are_not_state(self, path):
        f, vols = self.judge(
            [{"name": "host", "host": {"sourcePath": path}}],
            [ctr("agent", mounts={"host": "/host" + path})],
        )
        assert f.status == Status.PASS
        assert vols["host"]["verdict"] == "not state"

    def test_unmounted_host_path_is_not_state(self):
        f, vols = self.judge([{"name": "old", "host": {"sourcePath": "/data/old"}}])
        assert f.status == Status.PASS
        assert vols["old"]["verdict"] == "unused"

    def test_shared_docker_volume_fails(self):
        volume = {
            "name": "cache",
            "dockerVolumeConfiguration": {
                "scope": "shared",
                "autoprovision": True,
                "driver": "local",
            },
        }
        f, vols = self.judge([volume], [ctr(mounts={"cache": "/var/cache/app"})])
        assert f.status == Status.FAIL
        assert "shared Docker volume (autoprovisioned)" in f.message
        assert vols["cache"]["kind"] == "docker (shared)"

    def test_task_scoped_docker_volume_passes(self):
        volume = {"name": "work", "dockerVolumeConfiguration": {"scope": "task", "driver": "local"}}
        f, vols = self.judge([volume], [ctr(mounts={"work": "/work"})])
        assert f.status == Status.PASS
        assert vols["work"]["verdict"] == "fine"

    def test_efs_with_transit_encryption_passes(self):
        volume = {
            "name": "uploads",
            "efsVolumeConfiguration": {"fileSystemId": "fs-1234", "transitEncryption": "ENABLED"},
        }
        f, vols = self.judge([volume], [ctr(mounts={"uploads": "/uploads"})])
        assert f.status == Status.PASS
        assert vols["uploads"]["verdict"] == "fine"

    @pytest.mark.parametrize("setting", [{"transitEncryption": "DISABLED"}, {}])
    def test_efs_without_transit_encryption_fails_with_that_reason(self, setting):
        volume = {"name": "uploads", "efsVolumeConfiguration": {"fileSystemId": "fs-1234"}}
        volume["efsVolumeConfiguration"] |= setting
        f, vols = self.judge([volume], [ctr(mounts={"uploads": "/uploads"})])
        assert f.status == Status.FAIL
        assert "fs-1234" in f.message and "without encryption in transit" in f.message
        assert vols["uploads"]["verdict"] == "EFS without TLS"

    def test_volumes_from_inherits_mounts(self):
        f, vols = self.judge(
            [{"name": "data", "host": {"sourcePath": "/srv/data"}}],
            [
                ctr("writer", mounts={"data": "/data"}, read_only_mounts=("data",)),
                ctr("reader", volumesFrom=[{"sourceContainer": "writer", "readOnly": False}]),
            ],
        )
        assert f.status == Status.PASS  # read-only at the source stays read-only
        assert vols["data"]["mounted_at"] == ["writer:/data (ro)", "reader:/data (ro)"]


# -- TF06-READONLY-ROOT ----------------------------------------------------------------------
class TestReadonlyRoot:
    ID = "TF06-READONLY-ROOT"

    def test_one_finding_per_container(self):
        snap = snapshot(
            task_definitions=[
                tdef(
                    volumes=[{"name": "scratch", "host": {}}],
                    containers=[
                        ctr("app", readonly=True, mounts={"scratch": "/tmp"}),
                        ctr("otel", readonly=False, essential=False),
                    ],
                )
            ],
            services=[deployed()],
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "orders-api-prod:1/app": Status.PASS,
            "orders-api-prod:1/otel": Status.FAIL,
        }
        ok = only(findings, Status.PASS)
        assert ok.resource_type == "AwsEcsContainerDefinition"
        assert ok.resource_arn == td_arn("orders-api-prod")
        assert ok.message.endswith("writes only to /tmp.")
        assert evidence(ok) == {"essential": True, "writable_mounts": ["/tmp"], "in_use": True}
        bad = only(findings, Status.FAIL)
        assert evidence(bad)["essential"] is False
        assert bad.severity == "medium"

    def test_windows_containers_are_skipped(self):
        windows = tdef(
            containers=[ctr("iis")],
            runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"},
        )
        f = only(run(snapshot(task_definitions=[windows]), self.ID))
        assert f.status == Status.SKIP
        assert "Windows" in f.message


# -- TF06-NO-STICKY-SESSIONS -----------------------------------------------------------------
class TestNoStickySessions:
    ID = "TF06-NO-STICKY-SESSIONS"

    def judge(self, groups, services):
        snap = snapshot(task_definitions=[tdef()], services=services)
        return run(with_elbv2(snap, groups), self.ID)

    def test_no_stickiness_passes(self):
        f = only(
            self.judge(
                [target_group("orders-api-prod", NOT_STICKY)],
                [behind(deployed(), "orders-api-prod")],
            )
        )
        assert f.status == Status.PASS
        assert f.resource_id == "orders-api-prod"
        assert f.resource_type == "AwsElbv2TargetGroup"
        assert f.resource_arn == tg_arn("orders-api-prod")
        assert "shop-production/orders-api" in f.message
        assert evidence(f) == {"services": ["shop-production/orders-api"], "stickiness": None}

    def test_lb_cookie_stickiness_fails_with_its_duration(self):
        attributes = sticky("lb_cookie", **{"stickiness.lb_cookie.duration_seconds": "86400"})
        f = only(
            self.judge(
                [target_group("legacy", attributes)],
                [behind(deployed(), "legacy")],
            )
        )
        assert f.status == Status.FAIL
        assert "lb_cookie stickiness for 86400 s" in f.message
        assert evidence(f)["stickiness"] == {"type": "lb_cookie", "duration_seconds": "86400"}

    def test_app_cookie_and_source_ip_stickiness_fail(self):
        app_cookie = sticky("app_cookie", **{"stickiness.app_cookie.cookie_name": "JSESSIONID"})
        findings = self.judge(
            [
                target_group("web", app_cookie),
                target_group("tcp", sticky("source_ip"), Protocol="TCP"),
            ],
            [behind(deployed(), "web", "tcp")],
        )
        assert statuses(findings) == {"web": Status.FAIL, "tcp": Status.FAIL}
        web = only(f for f in findings if f.resource_id == "web")
        assert evidence(web)["stickiness"]["cookie_name"] == "JSESSIONID"

    def test_target_groups_without_an_ecs_service_are_not_judged(self):
        findings = self.judge(
            [
                target_group("orders-api-prod", NOT_STICKY),
                target_group("lambda-sticky", sticky()),
            ],
            [behind(deployed(), "orders-api-prod")],
        )
        assert statuses(findings) == {"orders-api-prod": Status.PASS}

    def test_only_unrelated_target_groups_gives_one_skip(self):
        f = only(self.judge([target_group("ec2-fleet", sticky())], [deployed()]))
        assert f.status == Status.SKIP

    def test_unplaced_target_group_takes_its_services_place(self):
        f = only(
            self.judge(
                [target_group("tg-0001", NOT_STICKY)],
                [behind(deployed(), "tg-0001")],
            )
        )
        assert (f.application, f.environment) == ("orders-api", "production")

    def test_attributes_not_read_is_an_error_not_a_pass(self):
        arn = tg_arn("orders-api-prod")
        snap = snapshot(
            task_definitions=[tdef()],
            services=[behind(deployed(), "orders-api-prod")],
            errors=[error("elbv2", "DescribeTargetGroupAttributes", resource=arn)],
        )
        with_elbv2(snap, [target_group("orders-api-prod", None)])
        findings = run(snap, self.ID)
        gap = assert_could_not_evaluate(
            findings, self.ID, "elasticloadbalancing:DescribeTargetGroupAttributes"
        )
        assert gap.resource_id == arn
        mine = only(f for f in findings if f.resource_id == "orders-api-prod")
        assert mine.status == Status.ERROR
        assert "stickiness is unknown" in mine.message

    def test_target_groups_not_listed_is_an_error(self):
        snap = snapshot(
            task_definitions=[tdef()],
            services=[behind(deployed(), "orders-api-prod")],
            errors=[error("elbv2", "DescribeTargetGroups")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "elasticloadbalancing:DescribeTargetGroups")


# -- TF06-ONE-PROCESS ------------------------------------------------------------------------
class TestOneProcess:
    ID = "TF06-ONE-PROCESS"

    def judge(self, command=None, entry=None):
        snap = snapshot(
            task_definitions=[tdef(containers=[ctr(command=command, entry=entry)])],
            services=[deployed()],
        )
        f = only(run(snap, self.ID))
        assert f.resource_id == "orders-api-prod:1/app"
        assert f.resource_type == "AwsEcsContainerDefinition"
        return f

    @pytest.mark.parametrize(
        ("entry", "command"),
        [
            (None, ["gunicorn", "--bind", "0.0.0.0:8080", "orders.wsgi"]),
            (None, ["sh", "-c", "python manage.py migrate && exec gunicorn app"]),
            (["tini", "--"], ["node", "server.js"]),
            (["/sbin/tini", "-s", "-g"], ["java", "-jar", "app.jar"]),
            (None, ["sh", "-c", "pip install -r requirements.txt && python worker.py"]),
            (None, ["bash", "-lc", "set -e; cd /app; exec python -m app"]),
            (None, ["sh", "-c", "app 2>&1 | tee /tmp/app.log"]),
            (None, ["sh", "-c", "app &\nwait"]),
            (["sh", "-c", 'setup && exec "$@"', "--"], ["gunicorn", "app"]),
            (None, ["env", "PYTHONUNBUFFERED=1", "gosu", "app", "python", "worker.py"]),
            (None, ["nginx", "-g", "daemon off;"]),
        ],
    )
    def test_one_foreground_process_passes(self, entry, command):
        f = self.judge(command, entry)
        assert f.status == Status.PASS, f.message
        assert len(evidence(f)["processes"]) == 1

    @pytest.mark.parametrize(
        ("command", "manager"),
        [
            (["sh", "-c", "supervisord -c /etc/supervisord.conf"], "supervisord"),
            (["/usr/bin/supervisord", "-n"], "supervisord"),
            (["pm2-runtime", "ecosystem.config.js"], "pm2-runtime"),
            (["forever", "server.js"], "forever"),
            (["runsvdir", "/etc/service"], "runsvdir"),
            (["/init"], "s6-overlay (/init)"),
            (["tini", "--", "s6-svscan", "/etc/s6"], "s6-svscan"),
            (["npx", "concurrently", "npm:web", "npm:worker"], "concurrently"),
        ],
    )
    def test_process_managers_fail(self, command, manager):
        f = self.judge(command)
        assert f.status == Status.FAIL
        assert evidence(f)["managers"] == [manager]
        assert manager in f.message
        assert f.severity == "low"

    @pytest.mark.parametrize(
        "command",
        [
            ["sh", "-c", "nginx & php-fpm"],
            ["sh", "-c", "celery worker > /dev/null 2>&1 & exec gunicorn app"],
            ["sh", "-c", "service cron start && exec apache2-foreground"],
            ["sh", "-c", "cron && nginx -g 'daemon off;'"],
            ["sh", "-c", "php-fpm -D && nginx -g 'daemon off;'"],
            ["sh", "-c", "redis-server --daemonize yes && node app.js"],
            ["tini", "--", "bash", "-c", "worker & web & wait"],
        ],
    )
    def test_concurrent_processes_fail(self, command):
        f = self.judge(command)
        assert f.status == Status.FAIL
        assert "processes running side by side" in f.message
        assert len(evidence(f)["processes"]) == 2

    def test_no_command_is_skipped(self):
        f = self.judge()
        assert f.status == Status.SKIP
        assert "image's own ENTRYPOINT/CMD" in f.message

    def test_options_only_are_skipped(self):
        f = self.judge(["--config=/etc/ecs/ecs-default-config.yaml"])
        assert f.status == Status.SKIP
        assert "only passes options" in f.message

    @pytest.mark.parametrize(
        ("entry", "command"),
        [(None, ["./start.sh"]), (None, ["bash", "run.sh"]), (["/entrypoint.sh"], ["web"])],
    )
    def test_scripts_are_opaque(self, entry, command):
        f = self.judge(command, entry)
        assert f.status == Status.SKIP
        assert "whose content the audit cannot read" in f.message

    def test_entry_point_script_with_a_manager_as_argument_fails(self):
        f = self.judge(["supervisord"], ["/docker-entrypoint.sh"])
        assert f.status == Status.FAIL

    def test_setup_steps_are_recorded(self):
        a = analyse_command(["sh", "-c", "./migrate.sh && exec web"])
        assert a.processes == ["web"]
        assert a.setup == ["./migrate.sh"]
        assert a.notes == ["setup step ./migrate.sh not read"]


# -- TF06-EPHEMERAL-STORAGE ------------------------------------------------------------------
class TestEphemeralStorage:
    ID = "TF06-EPHEMERAL-STORAGE"

    def judge(self, size=None, **service_fields):
        definition = tdef()
        if size is not None:
            definition["ephemeralStorage"] = {"sizeInGiB": size}
        snap = snapshot(task_definitions=[definition], services=[deployed() | service_fields])
        return only(run(snap, self.ID))

    def test_default_passes(self):
        f = self.judge()
        assert f.status == Status.PASS
        assert evidence(f) == {"ephemeral_storage_gib": None, "launch": ["FARGATE"], "in_use": True}

    def test_modest_increase_passes(self):
        f = self.judge(25)
        assert f.status == Status.PASS
        assert "25 GiB" in f.message

    def test_large_disk_fails_as_a_hint(self):
        f = self.judge(100)
        assert f.status == Status.FAIL
        assert "100 GiB" in f.message and "a hint" in f.message
        assert f.severity == "low"

    def test_ec2_tasks_are_skipped(self):
        f = self.judge(launchType="EC2")
        assert f.status == Status.SKIP
        assert "EC2" in f.message

    def test_fargate_capacity_provider_counts_as_fargate(self):
        f = self.judge(
            100,
            launchType=None,
            capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        )
        assert f.status == Status.FAIL

    def test_unused_task_definition_judged_by_its_compatibilities(self):
        fargate = tdef("orders-api-migrate", ephemeralStorage={"sizeInGiB": 50})
        ec2 = tdef("legacy-cron", requiresCompatibilities=["EC2"])
        findings = run(snapshot(task_definitions=[fargate, ec2]), self.ID)
        assert statuses(findings) == {
            "orders-api-migrate:1": Status.FAIL,
            "legacy-cron:1": Status.SKIP,
        }


# -- evidence tables and pictures ------------------------------------------------------------
@pytest.fixture
def workbook():
    snap = snapshot(
        task_definitions=[
            tdef(
                volumes=[{"name": "data", "host": {"sourcePath": "/data"}}],
                containers=[ctr(command=["sh", "-c", "a & b"], mounts={"data": "/data"})],
                ephemeralStorage={"sizeInGiB": 60},
            ),
            tdef("orders-api-staging", containers=[ctr(readonly=True, command=["web"])]),
        ],
        services=[
            behind(deployed(), "orders-api-prod"),
            deployed("orders-api-staging", env="staging"),
        ],
    )
    with_elbv2(snap, [target_group("orders-api-prod", sticky())])
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


def test_matrix_shows_worst_evaluated_status_per_application_and_environment(workbook):
    table = factor_matrix_table(workbook, 6).set_index(["row", "check_id"])
    prod = "orders-api (production)"
    assert table.loc[(prod, "TF06-NO-LOCAL-STATE"), "status"] == "FAIL"
    assert table.loc[(prod, "TF06-NO-STICKY-SESSIONS"), "status"] == "FAIL"
    assert table.loc[("orders-api (staging)", "TF06-READONLY-ROOT"), "status"] == "PASS"
    assert ("orders-api (staging)", "TF06-NO-STICKY-SESSIONS") not in table.index


@pytest.mark.parametrize("name", ["process-matrix", "ephemeral-storage"])
def test_plots_are_figures(workbook, name):
    assert isinstance(workbook.plot(name), Figure)
    assert isinstance(Workbook(settings(), snapshot()).plot(name), Figure)
