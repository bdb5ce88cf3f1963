"""Unit tests for the factor XI checks (twelvefactor.checks.logs), run through the engine.

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
from twelvefactor.checks.logs import CHECK_IDS, log_path
from twelvefactor.findings import Status
from twelvefactor.plots import factor_matrix_table
from twelvefactor.workbook import Workbook

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# -- local builders --------------------------------------------------------------------------
def awslogs(group: str = "/ecs/orders-api-prod", **options: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {"awslogs-group": group, "awslogs-region": REGION} | options,
    }


def ctr(name: str = "app", log: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    out = container(name)
    if log is not None:
        out["logConfiguration"] = log
    return out | extra


def tdef(family: str = "orders-api-prod", containers=None, **extra: Any) -> dict[str, Any]:
    return td(family, containers=containers or [ctr(log=awslogs())]) | extra


def deployed(family: str = "orders-api-prod", env: str = "production") -> dict[str, Any]:
    return service(f"shop-{env}", family.rsplit("-", 1)[0], td_arn(family), env)


def log_group(name: str, retention: int | None = 30, key: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "logGroupName": name,
        "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
        "storedBytes": 0,
    }
    if retention:
        out["retentionInDays"] = retention
    if key:
        out["kmsKeyId"] = key
    return out


def with_logs(snap, groups: list[dict[str, Any]] | None, region: str = REGION):
    snap.data[(region, "logs")] = {"log_groups": groups}
    return snap


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
    assert f.status == Status.SKIP and f.resource_id == "*"


def test_catalog_holds_exactly_these_factor_xi_checks():
    catalog = load_catalog()
    assert {c for c, m in catalog.items() if m.factor == 11} == set(CHECK_IDS)
    for check_id in CHECK_IDS:
        assert catalog[check_id].iam_actions


@pytest.mark.parametrize(
    ("check_id", "service_name", "operation"),
    [
        ("TF11-LOG-CONFIG", "ecs", "ListTaskDefinitions"),
        ("TF11-LOG-OFF-HOST", "ecs", "DescribeServices"),
        ("TF11-LOG-GROUP-EXISTS", "logs", "DescribeLogGroups"),
        ("TF11-LOG-RETENTION", "logs", "DescribeLogGroups"),
        ("TF11-LOG-ENCRYPTION", "logs", "DescribeLogGroups"),
        ("TF11-NO-LOG-FILES", "ecs", "ListTaskDefinitions"),
        ("TF11-CONTAINER-INSIGHTS", "ecs", "DescribeClusters"),
    ],
)
def test_could_not_evaluate(check_id, service_name, operation):
    snap = snapshot(
        task_definitions=[tdef()],
        services=[deployed()],
        errors=[error(service_name, operation)],
        clusters=[
            cluster("shop-production")
            | {"settings": [{"name": "containerInsights", "value": "enabled"}]}
        ],
    )
    with_logs(snap, [log_group("/ecs/orders-api-prod", key=KEY)])
    action = f"{service_name}:{operation}"
    assert_could_not_evaluate(run(snap, check_id), check_id, action)


# -- TF11-LOG-CONFIG and TF11-LOG-OFF-HOST ---------------------------------------------------
DRIVERS = [
    (awslogs(), Status.PASS, Status.PASS),
    ({"logDriver": "awsfirelens", "options": {"Name": "cloudwatch"}}, Status.PASS, Status.PASS),
    ({"logDriver": "splunk", "options": {"splunk-url": "https://s"}}, Status.PASS, Status.PASS),
    ({"logDriver": "json-file", "options": {"max-size": "10m"}}, Status.PASS, Status.FAIL),
    ({"logDriver": "journald"}, Status.PASS, Status.FAIL),
    ({"logDriver": "none"}, Status.PASS, Status.FAIL),
    ({"logDriver": "syslog"}, Status.PASS, Status.FAIL),
    (
        {"logDriver": "syslog", "options": {"syslog-address": "unix:///dev/log"}},
        Status.PASS,
        Status.FAIL,
    ),
    (
        {"logDriver": "syslog", "options": {"syslog-address": "tcp+tls://logs.example:6514"}},
        Status.PASS,
        Status.PASS,
    ),
    (
        {"logDriver": "syslog", "options": {"syslog-address": "udp://127.0.0.1:514"}},
        Status.PASS,
        Status.FAIL,
    ),
    ({"logDriver": "weird"}, Status.PASS, Status.SKIP),
    (None, Status.FAIL, Status.FAIL),
    ({}, Status.FAIL, Status.FAIL),  # an empty logConfiguration names no driver
]


@pytest.mark.parametrize(("log", "config", "off_host"), DRIVERS)
def test_log_configuration_and_driver(log, config, off_host):
    snap = snapshot(task_definitions=[tdef(containers=[ctr(log=log)])], services=[deployed()])
    got_config = only(run(snap, "TF11-LOG-CONFIG"))
    got_off_host = only(run(snap, "TF11-LOG-OFF-HOST"))
    assert got_config.resource_id == got_off_host.resource_id == "orders-api-prod:1/app"
    assert (got_config.status, got_off_host.status) == (config, off_host)


def test_sidecars_are_judged_one_by_one():
    containers = [ctr(log=awslogs()), ctr("envoy", essential=False)]
    snap = snapshot(task_definitions=[tdef(containers=containers)])
    assert statuses(run(snap, "TF11-LOG-CONFIG")) == {
        "orders-api-prod:1/app": Status.PASS,
        "orders-api-prod:1/envoy": Status.FAIL,
    }


def test_only_harmless_driver_options_are_shown():
    log = {
        "logDriver": "splunk",
        "options": {"splunk-url": "https://s", "splunk-token": "t0k3n-in-options"},
        "secretOptions": [{"name": "splunk-token", "valueFrom": "arn:aws:ssm:x"}],
    }
    snap = snapshot(task_definitions=[tdef(containers=[ctr(log=log)])])
    ev = evidence(only(run(snap, "TF11-LOG-CONFIG")))
    assert ev["options"] == {}
    assert ev["other_options"] == ["splunk-token", "splunk-url"]
    assert ev["secret_options"] == ["splunk-token"]
    assert "t0k3n" not in str(ev)


# -- TF11-LOG-GROUP-EXISTS -------------------------------------------------------------------
class TestLogGroupExists:
    ID = "TF11-LOG-GROUP-EXISTS"

    def judge(self, log, groups):
        snap = snapshot(task_definitions=[tdef(containers=[ctr(log=log)])], services=[deployed()])
        return run(with_logs(snap, groups), self.ID)

    def test_existing_group_passes(self):
        f = only(self.judge(awslogs(), [log_group("/ecs/orders-api-prod")]))
        assert (f.resource_id, f.status) == ("orders-api-prod:1/app", Status.PASS)

    def test_missing_group_fails(self):
        f = only(self.judge(awslogs(), [log_group("/ecs/other")]))
        assert f.status == Status.FAIL and "does not exist" in f.message

    def test_missing_group_created_on_demand_passes(self):
        f = only(self.judge(awslogs(**{"awslogs-create-group": "true"}), []))
        assert f.status == Status.PASS and evidence(f)["create_group"] is True

    def test_firelens_cloudwatch_output_is_looked_up(self):
        log = {
            "logDriver": "awsfirelens",
            "options": {"Name": "cloudwatch_logs", "log_group_name": "/ecs/fl", "region": REGION},
        }
        assert only(self.judge(log, [])).status == Status.FAIL
        assert only(self.judge(log, [log_group("/ecs/fl")])).status == Status.PASS

    def test_other_destinations_are_not_judged(self):
        log = {"logDriver": "awsfirelens", "options": {"Name": "es"}}
        assert only(self.judge(log, [])).resource_id == "*"

    def test_a_group_without_a_name_fails(self):
        f = only(self.judge({"logDriver": "awslogs", "options": {}}, []))
        assert f.status == Status.FAIL and "without naming" in f.message

    def test_a_group_in_a_region_not_read_is_skipped(self):
        f = only(self.judge(awslogs(**{"awslogs-region": "ap-south-1"}), []))
        assert f.status == Status.SKIP and "ap-south-1" in f.message

    def test_a_group_in_another_region_read_is_found(self):
        log = awslogs(**{"awslogs-region": "us-east-1"})
        snap = snapshot(
            task_definitions=[tdef(containers=[ctr(log=log)])],
            services=[deployed()],
            regions=(REGION, "us-east-1"),
        )
        with_logs(snap, [])
        with_logs(snap, [log_group("/ecs/orders-api-prod")], "us-east-1")
        assert only(run(snap, self.ID)).status == Status.PASS


# -- TF11-LOG-RETENTION and TF11-LOG-ENCRYPTION ----------------------------------------------
class TestLogGroups:
    def judge(self, check_id, groups, env="production"):
        family = f"orders-api-{'prod' if env == 'production' else env}"
        log = awslogs(f"/ecs/{family}")
        snap = snapshot(
            task_definitions=[tdef(family, containers=[ctr(log=log)])],
            services=[deployed(family, env)],
        )
        return run(with_logs(snap, groups), check_id)

    def test_retention_set_passes_never_expiring_fails(self):
        ok = only(self.judge("TF11-LOG-RETENTION", [log_group("/ecs/orders-api-prod", 90)]))
        assert (ok.resource_id, ok.status) == ("/ecs/orders-api-prod", Status.PASS)
        assert ok.resource_arn == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/orders-api-prod"
        assert evidence(ok)["writers"] == ["orders-api-prod:1/app"]
        bad = only(self.judge("TF11-LOG-RETENTION", [log_group("/ecs/orders-api-prod", None)]))
        assert bad.status == Status.FAIL and "never expires" in bad.message

    def test_groups_no_container_writes_to_are_not_judged(self):
        f = only(self.judge("TF11-LOG-RETENTION", [log_group("/aws/lambda/x", None)]))
        assert f.resource_id == "*"

    def test_production_needs_a_kms_key(self):
        ok = only(self.judge("TF11-LOG-ENCRYPTION", [log_group("/ecs/orders-api-prod", key=KEY)]))
        assert ok.status == Status.PASS
        bad = only(self.judge("TF11-LOG-ENCRYPTION", [log_group("/ecs/orders-api-prod")]))
        assert bad.status == Status.FAIL

    def test_staging_without_a_kms_key_is_info(self):
        f = only(
            self.judge("TF11-LOG-ENCRYPTION", [log_group("/ecs/orders-api-staging")], "staging")
        )
        assert (f.status, f.environment) == (Status.INFO, "staging")

    def test_a_group_named_like_nothing_is_placed_like_its_writers(self):
        log = awslogs("/shared/app-logs")
        snap = snapshot(task_definitions=[tdef(containers=[ctr(log=log)])], services=[deployed()])
        with_logs(snap, [log_group("/shared/app-logs")])
        f = only(run(snap, "TF11-LOG-ENCRYPTION"))
        assert (f.application, f.environment, f.status) == (
            "orders-api",
            "production",
            Status.FAIL,
        )


# -- TF11-NO-LOG-FILES -----------------------------------------------------------------------
class TestNoLogFiles:
    ID = "TF11-NO-LOG-FILES"

    def judge(self, containers, volumes=None):
        snap = snapshot(task_definitions=[tdef(containers=containers, volumes=volumes or [])])
        return run(snap, self.ID)

    @staticmethod
    def mounted(name="app", path="/var/log/app", read_only=False, **extra):
        mount = {"sourceVolume": "logs", "containerPath": path, "readOnly": read_only}
        return ctr(name, awslogs(), mountPoints=[mount], **extra)

    @pytest.mark.parametrize(
        "path", ["/var/log", "/var/log/nginx", "/app/logs", "/srv/log/", "/data/app.log"]
    )
    def test_writable_log_mounts_fail(self, path):
        f = only(self.judge([self.mounted(path=path)], [{"name": "logs"}]))
        assert (f.resource_id, f.status) == ("orders-api-prod:1/app", Status.FAIL)

    @pytest.mark.parametrize("path", ["/tmp", "/var/lib/mysql", "/catalog", "/blog"])
    def test_other_paths_pass(self, path):
        assert not log_path(path)
        assert only(self.judge([self.mounted(path=path)])).status == Status.PASS

    def test_read_only_log_mounts_pass(self):
        f = only(self.judge([self.mounted(read_only=True)]))
        assert f.status == Status.PASS

    def test_a_tailing_sidecar_is_named(self):
        tailer = ctr(
            "fluent-bit",
            awslogs(),
            mountPoints=[{"sourceVolume": "logs", "containerPath": "/logs", "readOnly": True}],
        )
        findings = self.judge([self.mounted(), tailer])
        fail = only(findings, Status.FAIL)
        assert "tailed by fluent-bit" in fail.message
        assert evidence(fail)["read_by"] == ["fluent-bit"]

    def test_volumes_from_count(self):
        writer = ctr("app", awslogs(), volumesFrom=[{"sourceContainer": "data"}])
        data = self.mounted("data", "/var/log/data")
        assert statuses(self.judge([writer, data])) == {
            "orders-api-prod:1/app": Status.FAIL,
            "orders-api-prod:1/data": Status.FAIL,
        }

    def test_read_only_root_is_mentioned(self):
        f = only(self.judge([ctr(log=awslogs(), readonlyRootFilesystem=True)]))
        assert f.status == Status.PASS and "read-only" in f.message


# -- TF11-CONTAINER-INSIGHTS -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("enabled", Status.PASS),
        ("enhanced", Status.PASS),
        ("disabled", Status.FAIL),
        (None, Status.FAIL),
    ],
)
def test_container_insights(value, status):
    settings_ = [{"name": "containerInsights", "value": value}] if value else []
    snap = snapshot(clusters=[cluster("shop-prod") | {"settings": settings_}])
    f = only(run(snap, "TF11-CONTAINER-INSIGHTS"))
    assert (f.resource_id, f.resource_type, f.status) == ("shop-prod", "AwsEcsCluster", status)


# -- evidence tables and pictures ------------------------------------------------------------
@pytest.fixture
def workbook():
    snap = snapshot(
        task_definitions=[
            tdef(
                containers=[
                    ctr(
                        log=awslogs(), mountPoints=[{"sourceVolume": "l", "containerPath": "/logs"}]
                    ),
                    ctr("sidecar"),
                ]
            ),
            tdef("orders-api-staging", containers=[ctr(log=awslogs("/ecs/orders-api-staging"))]),
        ],
        services=[deployed(), deployed("orders-api-staging", "staging")],
    )
    with_logs(
        snap,
        [log_group("/ecs/orders-api-prod", None), log_group("/ecs/orders-api-staging", 14, KEY)],
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
        table = wb.evidence(check_id)
        assert table.empty and "application" in table.columns


def test_retention_table_shows_never_as_empty(workbook):
    table = workbook.evidence("TF11-LOG-RETENTION").set_index("log_group")
    assert pd.isna(table.loc["/ecs/orders-api-prod", "retention_days"])
    assert table.loc["/ecs/orders-api-staging", "retention_days"] == 14


def test_matrix(workbook):
    matrix = factor_matrix_table(workbook, 11).set_index(["row", "check_id"])
    assert matrix.loc[("orders-api (production)", "TF11-LOG-CONFIG"), "status"] == "FAIL"
    assert matrix.loc[("orders-api (staging)", "TF11-LOG-RETENTION"), "status"] == "PASS"


@pytest.mark.parametrize("name", ["logs-matrix", "log-retention"])
def test_plots_are_figures(workbook, name):
    assert isinstance(workbook.plot(name), Figure)
    assert isinstance(Workbook(settings(), snapshot()).plot(name), Figure)


def test_a_cluster_named_like_nothing_takes_its_one_applications_place():
    legacy = service("legacy", "legacy-monolith", td_arn("legacy-monolith"), "production")
    shared = [deployed(), deployed("payments-prod")]
    snap = snapshot(
        task_definitions=[tdef(), tdef("legacy-monolith"), tdef("payments-prod")],
        services=[legacy, *shared],
    )
    placed = {f.resource_id: f.application for f in run(snap, "TF11-CONTAINER-INSIGHTS")}
    assert placed == {"legacy": "legacy-monolith", "shop-production": "shop"}  # its own name


def test_log_groups_not_listed_give_errors_not_verdicts():
    snap = snapshot(
        task_definitions=[tdef()],
        services=[deployed()],
        errors=[error("logs", "DescribeLogGroups")],
    )
    with_logs(snap, None)  # the collector leaves None when the listing failed
    findings = run(snap, "TF11-LOG-GROUP-EXISTS")
    assert {f.status for f in findings} == {Status.ERROR}
    mine = only(f for f in findings if f.resource_id == "orders-api-prod:1/app")
    assert "could not be listed" in mine.message
    assert run(snap, "TF11-LOG-RETENTION")[0].status == Status.ERROR
