"""Unit tests for the factor X checks (twelvefactor.checks.parity), run through the engine.

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
from twelvefactor.checks.parity import CHECK_IDS, major_version, shape_diff
from twelvefactor.findings import Status
from twelvefactor.workbook import Workbook

ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


# -- builders --------------------------------------------------------------------------------
def ctr(name: str = "app", image: str = f"{ECR}/shop/orders-api@{D1}", **extra: Any) -> dict:
    return container(name, image=image) | extra


def env_pair(
    staging: list[dict[str, Any]] | None = None,
    production: list[dict[str, Any]] | None = None,
    *,
    app: str = "orders-api",
    staging_service: dict[str, Any] | None = None,
    production_service: dict[str, Any] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Task definitions and services of ``app`` in staging and production."""
    tds = [
        td(f"{app}-staging", containers=staging or [ctr()]),
        td(f"{app}-prod", containers=production or [ctr()]),
    ]
    services = [
        service("shop-staging", app, td_arn(f"{app}-staging"), "staging") | (staging_service or {}),
        service("shop-prod", app, td_arn(f"{app}-prod"), "production") | (production_service or {}),
    ]
    return tds, services


def with_ecr(snap, repositories: dict[str, tuple[str, list[tuple[str, list[str], str]]]]):
    """ECR data: repository -> (mutability, [(digest, tags, pushed_at)])."""
    snap.data[(REGION, "ecr")] = {
        "repositories": [
            {
                "repositoryName": name,
                "repositoryArn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}",
                "repositoryUri": f"{ECR}/{name}",
                "imageTagMutability": mutability,
            }
            for name, (mutability, _) in repositories.items()
        ],
        "images": {
            name: [
                {"imageDigest": d, "imageTags": tags, "imagePushedAt": pushed}
                for d, tags, pushed in images
            ]
            for name, (_, images) in repositories.items()
        },
    }
    return snap


def account(
    staging=None, production=None, *, errors=(), ecr=None, tasks=None, **kw: Any
):  # -> Snapshot
    tds, services = env_pair(staging, production, **kw)
    snap = snapshot(task_definitions=tds, services=services, errors=list(errors))
    if ecr is not None:
        with_ecr(snap, ecr)
    if tasks is not None:
        snap.data[(REGION, "ecs")]["tasks"] = tasks
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
    assert f.status == Status.SKIP
    assert f.resource_id == "*"


def test_catalog_holds_exactly_these_factor_x_checks():
    catalog = load_catalog()
    assert {c for c, m in catalog.items() if m.factor == 10} == set(CHECK_IDS)
    for check_id in CHECK_IDS:
        assert catalog[check_id].iam_actions


@pytest.mark.parametrize("check_id", ["TF10-PROMOTED-IMAGE", "TF10-TASK-SHAPE"])
def test_one_environment_is_not_compared(check_id):
    snap = snapshot(
        task_definitions=[td("reports-prod", containers=[ctr()])],
        services=[service("shop-prod", "reports", td_arn("reports-prod"), "production")],
    )
    assert only(run(snap, check_id)).status == Status.SKIP


@pytest.mark.parametrize(
    ("check_id", "service_name", "operation"),
    [
        ("TF10-PROMOTED-IMAGE", "ecr", "DescribeImages"),
        ("TF10-TASK-SHAPE", "ecs", "DescribeTaskDefinition"),
        ("TF10-PLATFORM-VERSION", "ecs", "DescribeServices"),
    ],
)
def test_could_not_evaluate(check_id, service_name, operation):
    snap = account(errors=[error(service_name, operation)])
    assert_could_not_evaluate(run(snap, check_id), check_id, f"{service_name}:{operation}")


# -- TF10-PROMOTED-IMAGE ---------------------------------------------------------------------
class TestPromotedImage:
    ID = "TF10-PROMOTED-IMAGE"

    def verdict(self, snap):
        f = only(run(snap, self.ID))
        assert (f.resource_id, f.resource_type) == ("orders-api", "Application")
        return f, evidence(f)["production"]

    def test_same_pinned_digest_is_promoted(self):
        f, verdicts = self.verdict(account())
        assert f.status == Status.PASS
        assert f.severity == "high"
        assert verdicts[0]["verdict"] == "promoted"
        assert verdicts[0]["seen_in"] == ["staging (orders-api-staging:1)"]
        assert f.environment == "staging,production"

    def test_rebuilt_from_another_repository_fails(self):
        snap = account(production=[ctr(image=f"{ECR}/shop/orders-api-prod@{D2}")])
        f, verdicts = self.verdict(snap)
        assert f.status == Status.FAIL
        assert verdicts[0]["verdict"] == "rebuilt"
        assert "shop/orders-api-prod" in f.message and "shop/orders-api" in f.message

    def test_production_newer_than_staging_never_ran_before(self):
        ecr = {
            "shop/orders-api": (
                "IMMUTABLE",
                [(D1, ["1.0"], "2024-05-01T10:00:00Z"), (D2, ["1.1"], "2024-05-02T10:00:00Z")],
            )
        }
        snap = account(production=[ctr(image=f"{ECR}/shop/orders-api:1.1")], ecr=ecr)
        f, verdicts = self.verdict(snap)
        assert f.status == Status.FAIL
        assert "no pre-production environment runs" in verdicts[0]["reason"]
        assert (verdicts[0]["verdict"], verdicts[0]["basis"]) == ("not run before", "immutable tag")

    def test_staging_ahead_is_info(self):
        ecr = {
            "shop/orders-api": (
                "IMMUTABLE",
                [(D1, ["1.0"], "2024-05-01T10:00:00Z"), (D2, ["1.1"], "2024-05-02T10:00:00Z")],
            )
        }
        snap = account(
            staging=[ctr(image=f"{ECR}/shop/orders-api:1.1")],
            production=[ctr(image=f"{ECR}/shop/orders-api:1.0")],
            ecr=ecr,
        )
        f, verdicts = self.verdict(snap)
        assert f.status == Status.INFO
        assert verdicts[0]["verdict"] == "staging ahead"

    def test_immutable_tag_resolves_to_the_same_digest(self):
        ecr = {"shop/orders-api": ("IMMUTABLE", [(D1, ["1.0", "git-3f2a9c1"], "2024-05-01")])}
        snap = account(
            staging=[ctr(image=f"{ECR}/shop/orders-api:git-3f2a9c1")],
            production=[ctr(image=f"{ECR}/shop/orders-api:1.0")],
            ecr=ecr,
        )
        f, verdicts = self.verdict(snap)
        assert f.status == Status.PASS
        assert verdicts[0]["basis"] == "immutable tag"

    def test_mutable_tag_proves_nothing(self):
        ecr = {"shop/orders-api": ("MUTABLE", [(D1, ["latest"], "2024-05-01")])}
        image = f"{ECR}/shop/orders-api:latest"
        snap = account(staging=[ctr(image=image)], production=[ctr(image=image)], ecr=ecr)
        f, verdicts = self.verdict(snap)
        assert f.status == Status.INFO
        assert verdicts[0]["verdict"] == "cannot tell"
        assert "mutable tag 'latest'" in f.message

    def test_digests_reported_by_tasks_settle_a_mutable_tag(self):
        ecr = {"shop/orders-api": ("MUTABLE", [(D3, ["latest"], "2024-05-03")])}
        image = f"{ECR}/shop/orders-api:latest"

        def task(family: str, digest: str) -> dict[str, Any]:
            return {
                "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/c/{family}",
                "taskDefinitionArn": td_arn(family),
                "group": "service:orders-api",
                "containers": [{"name": "app", "image": image, "imageDigest": digest}],
            }

        same = account(
            staging=[ctr(image=image)],
            production=[ctr(image=image)],
            ecr=ecr,
            tasks=[task("orders-api-staging", D1), task("orders-api-prod", D1)],
        )
        f, verdicts = self.verdict(same)
        assert f.status == Status.PASS  # the tag moved to D3 since; both tasks run D1
        assert verdicts[0]["basis"] == "task"
        moved = account(
            staging=[ctr(image=image)],
            production=[ctr(image=image)],
            ecr=ecr,
            tasks=[task("orders-api-staging", D1), task("orders-api-prod", D2)],
        )
        assert self.verdict(moved)[0].status == Status.FAIL

    def test_tasks_reporting_several_digests_cannot_tell(self):
        image = f"{ECR}/shop/orders-api:latest"
        tasks = [
            {
                "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/c/{n}",
                "taskDefinitionArn": td_arn("orders-api-prod"),
                "containers": [{"name": "app", "image": image, "imageDigest": d}],
            }
            for n, d in enumerate([D1, D2])
        ]
        snap = account(staging=[ctr()], production=[ctr(image=image)], tasks=tasks)
        f, verdicts = self.verdict(snap)
        assert f.status == Status.INFO
        assert "several digests" in verdicts[0]["reason"]

    def test_only_own_ecr_images_are_judged(self):
        sidecar = container("otel", image="public.ecr.aws/aws-observability/otel:v1")
        snap = account(production=[ctr(), sidecar])
        f, verdicts = self.verdict(snap)
        assert f.status == Status.PASS
        assert [v["container"] for v in verdicts] == ["app"]


# -- TF10-TASK-SHAPE -------------------------------------------------------------------------
class TestTaskShape:
    ID = "TF10-TASK-SHAPE"

    def test_only_values_and_sizes_differ_passes(self):
        snap = account(
            staging=[ctr(environment=[{"name": "LOG_LEVEL", "value": "debug"}])],
            production=[ctr(environment=[{"name": "LOG_LEVEL", "value": "info"}])],
        )
        snap.data[(REGION, "ecs")]["task_definitions"][1] |= {"cpu": "1024", "memory": "2048"}
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert all(a["same"] for a in evidence(f)["aspects"])
        assert evidence(f)["columns"] == ["staging", "production"]

    def test_sidecar_only_in_production_fails(self):
        xray = container("xray", image="public.ecr.aws/xray/aws-xray-daemon:3.3")
        f = only(run(account(production=[ctr(), xray]), self.ID))
        assert f.status == Status.FAIL
        assert f.severity == "medium"
        assert "containers (only in production: xray)" in f.message
        differ = {a["aspect"] for a in evidence(f)["aspects"] if not a["same"]}
        assert "containers" in differ and "xray: ports" in differ

    def test_health_check_log_driver_and_secret_injection_differ(self):
        staging = ctr(
            healthCheck={"command": ["CMD-SHELL", "curl -f localhost/health"]},
            logConfiguration={"logDriver": "awslogs"},
            secrets=[{"name": "DB_PASSWORD", "valueFrom": "arn:x"}],
        )
        production = ctr(
            logConfiguration={"logDriver": "json-file"},
            environment=[{"name": "DB_PASSWORD", "value": "x"}],
        )
        f = only(run(account([staging], [production]), self.ID))
        assert f.status == Status.FAIL
        differ = {a["aspect"]: a["values"] for a in evidence(f)["aspects"] if not a["same"]}
        assert differ["app: log driver"] == {"staging": "awslogs", "production": "json-file"}
        assert differ["app: health check"]["production"] == "none"
        assert "DB_PASSWORD (secret)" in differ["app: variables"]["staging"]

    def test_launch_type_is_part_of_the_shape(self):
        snap = account(production_service={"launchType": "EC2"})
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "launch type: FARGATE in staging vs EC2 in production" in f.message

    def test_side_by_side_diff(self):
        xray = container("xray", image="public.ecr.aws/xray/aws-xray-daemon:3.3")
        wb = Workbook(settings(), account(production=[ctr(), xray]))
        full = shape_diff(wb)
        assert list(full.columns) == [
            "application",
            "service",
            "aspect",
            "staging",
            "production",
            "same",
        ]
        row = full[full["aspect"] == "containers"].iloc[0]
        assert (row["staging"], row["production"], row["same"]) == ("app", "app, xray", False)
        assert set(wb.evidence(self.ID)["same"]) == {False}


# -- TF10-BACKING-ENGINE ---------------------------------------------------------------------
def db(name: str, engine: str, version: str, app: str, env: str) -> dict[str, Any]:
    return {
        "DBInstanceIdentifier": name,
        "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{name}",
        "Engine": engine,
        "EngineVersion": version,
        "Endpoint": {"Address": f"{name}.abc.{REGION}.rds.amazonaws.com", "Port": 5432},
        "TagList": [{"Key": "Application", "Value": app}, {"Key": "Environment", "Value": env}],
    }


def with_databases(*instances: dict[str, Any], errors=()):
    snap = snapshot(errors=list(errors))
    snap.data[(REGION, "rds")] = {"db_instances": list(instances), "db_clusters": []}
    return snap


class TestBackingEngine:
    ID = "TF10-BACKING-ENGINE"

    def judge(self, staging: tuple[str, str], production: tuple[str, str], names=None):
        names = names or ("orders-db-staging", "orders-db-prod")
        snap = with_databases(
            db(names[0], *staging, "orders-api", "staging"),
            db(names[1], *production, "orders-api", "production"),
        )
        return only(run(snap, self.ID))

    def test_same_engine_and_major_version_passes(self):
        f = self.judge(("postgres", "16.3"), ("postgres", "16.4"))
        assert f.status == Status.PASS
        assert (f.resource_id, f.resource_type) == ("orders-db", "BackingService")
        assert "minor versions differ" in f.message

    def test_different_major_versions_fail(self):
        f = self.judge(("postgres", "16.3"), ("postgres", "13.14"))
        assert f.status == Status.FAIL
        assert f.severity == "high"
        assert "different major versions" in f.message

    def test_different_engines_fail(self):
        f = self.judge(("mysql", "8.0.36"), ("postgres", "16.3"))
        assert f.status == Status.FAIL
        assert "different engines" in f.message

    def test_aurora_against_plain_rds_of_the_same_engine_is_info(self):
        f = self.judge(("postgres", "16.3"), ("aurora-postgresql", "16.2"))
        assert f.status == Status.INFO

    def test_differently_named_stores_match_when_alone_in_their_environment(self):
        f = self.judge(
            ("mysql", "5.7.44"), ("mysql", "8.0.36"), names=("orders-stg-db", "orders-database")
        )
        assert f.status == Status.FAIL

    def test_unmatched_stores_are_not_paired_when_names_match_elsewhere(self):
        snap = with_databases(
            db("orders-db-staging", "postgres", "16.3", "orders-api", "staging"),
            db("orders-db-prod", "postgres", "16.3", "orders-api", "production"),
            db("reports-db-staging", "mysql", "8.0.36", "orders-api", "staging"),
            db("analytics-prod", "postgres", "13.4", "orders-api", "production"),
        )
        assert statuses(run(snap, self.ID)) == {"orders-db": Status.PASS}

    def test_replication_group_version_comes_from_its_member_clusters(self):
        def group(name: str) -> dict[str, Any]:
            return {
                "ReplicationGroupId": name,
                "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:{name}",
                "Engine": "redis",
                "NodeGroups": [],
            }

        snap = snapshot()
        snap.data[(REGION, "elasticache")] = {
            "replication_groups": [group("sessions-staging"), group("sessions-prod")],
            "cache_clusters": [
                {"CacheClusterId": "s-001", "ReplicationGroupId": "sessions-staging",
                 "Engine": "redis", "EngineVersion": "7.1.0"},
                {"CacheClusterId": "p-001", "ReplicationGroupId": "sessions-prod",
                 "Engine": "redis", "EngineVersion": "6.2.6"},
            ],
        }  # fmt: skip
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "7.1.0" in f.message and "6.2.6" in f.message

    def test_could_not_evaluate(self):
        snap = with_databases(
            db("orders-db-staging", "postgres", "16.3", "orders-api", "staging"),
            db("orders-db-prod", "postgres", "16.3", "orders-api", "production"),
            errors=[error("rds", "DescribeDBClusters")],
        )
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "rds:DescribeDBClusters")


@pytest.mark.parametrize(
    ("engine", "version", "major"),
    [
        ("postgres", "16.3", "16"),
        ("postgres", "9.6.24", "9.6"),
        ("aurora-postgresql", "15.4", "15"),
        ("mysql", "8.0.36", "8.0"),
        ("aurora-mysql", "8.0.mysql_aurora.3.05.2", "8.0"),
        ("mariadb", "10.11.6", "10.11"),
        ("redis", "7.1", "7"),
        ("memcached", "1.6.22", "1.6"),
        ("redis", "", ""),
    ],
)
def test_major_version(engine, version, major):
    assert major_version(engine, version) == major


# -- TF10-PLATFORM-VERSION -------------------------------------------------------------------
class TestPlatformVersion:
    ID = "TF10-PLATFORM-VERSION"

    def judge(self, staging: dict[str, Any], production: dict[str, Any]):
        snap = account(staging_service=staging, production_service=production)
        return only(run(snap, self.ID))

    def test_latest_and_the_version_it_stands_for_pass(self):
        f = self.judge({}, {"platformVersion": "1.4.0"})
        assert f.status == Status.PASS
        assert evidence(f)["environments"]["staging"]["effective_version"] == "1.4.0"

    def test_older_platform_in_production_fails(self):
        f = self.judge({"platformVersion": "LATEST"}, {"platformVersion": "1.3.0"})
        assert f.status == Status.FAIL
        assert "ECS.10" in f.message

    def test_fargate_against_ec2_fails(self):
        f = self.judge({}, {"launchType": "EC2"})
        assert f.status == Status.FAIL
        assert "different launch types" in f.message

    def test_capacity_providers_count_as_launch_type(self):
        spot = {
            "launchType": None,
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}],
        }
        f = self.judge(spot, spot)
        assert f.status == Status.PASS


def test_statuses_across_checks_for_a_drifting_application():
    """One application, every kind of drift at once: each check says what it sees."""
    xray = container("xray", image="public.ecr.aws/xray/aws-xray-daemon:3.3")
    snap = account(
        production=[ctr(image=f"{ECR}/shop/orders-api-prod@{D2}"), xray],
        production_service={"platformVersion": "1.3.0"},
    )
    for check_id in ("TF10-PROMOTED-IMAGE", "TF10-TASK-SHAPE", "TF10-PLATFORM-VERSION"):
        assert statuses(run(snap, check_id)) == {"orders-api": Status.FAIL}, check_id


# -- evidence tables and pictures ------------------------------------------------------------
@pytest.fixture
def workbook():
    xray = container("xray", image="public.ecr.aws/xray/aws-xray-daemon:3.3")
    snap = account(production=[ctr(), xray])
    snap.data[(REGION, "rds")] = {
        "db_instances": [
            db("orders-db-staging", "postgres", "16.3", "orders-api", "staging"),
            db("orders-db-prod", "postgres", "13.1", "orders-api", "production"),
        ],
        "db_clusters": [],
    }
    return Workbook(settings(), snap)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_every_check_has_an_evidence_table(workbook, check_id):
    table = workbook.evidence(check_id)
    assert isinstance(table, pd.DataFrame) and not table.empty


def test_evidence_tables_keep_their_columns_on_an_empty_account():
    wb = Workbook(settings(), snapshot())
    for check_id in CHECK_IDS:
        assert wb.evidence(check_id).empty
        assert len(wb.evidence(check_id).columns) >= 3


@pytest.mark.parametrize("name", ["parity-matrix", "shape-diff"])
def test_plots_are_figures(workbook, name):
    assert isinstance(workbook.plot(name), Figure)
    assert isinstance(Workbook(settings(), snapshot()).plot(name), Figure)
