"""Unit tests for the factor IV checks (twelvefactor.checks.backing_services), through the engine.

Every check gets a PASS, a FAIL, an empty account (one SKIP from the engine) and a
could-not-evaluate case (an access-denied collection error on one of its catalog iam_actions: an
ERROR naming the action, and no PASS), plus the matching of config against datastore locators and
the address detector on their own.
"""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace
from typing import Any

import pytest
from fixtures import (
    ACCOUNT,
    REGION,
    container,
    error,
    evidence,
    only,
    parameter,
    run,
    service,
    settings,
    sm_arn,
    snapshot,
    statuses,
    td,
    td_arn,
)

from twelvefactor.catalog import load_catalog
from twelvefactor.checks import backing_services as bs
from twelvefactor.evidence import EVIDENCE
from twelvefactor.findings import Status
from twelvefactor.inventory import Inventory
from twelvefactor.plots import PLOTS

OTHER_REGION = "us-east-1"
DB_PASSWORD = "hunter2-Correct-Horse"

CHECK_IDS = (
    "TF04-NO-HARDCODED-LOCATOR",
    "TF04-NO-DATASTORE-CONTAINER",
    "TF04-ENV-OWN-RESOURCES",
)


# -- boto3-shaped datastores (local helpers: fixtures.py knows ECS, SSM and Secrets Manager) --
def _tags(app: str | None, env: str | None) -> list[dict[str, str]]:
    tags = {"Application": app, "Environment": env}
    return [{"Key": k, "Value": v} for k, v in tags.items() if v]


def rds_instance(
    ident: str,
    env: str | None = None,
    app: str | None = None,
    region: str = REGION,
    managed_secret: str | None = None,
) -> dict[str, Any]:
    """A DescribeDBInstances item; tagged when ``env``/``app`` are given."""
    out: dict[str, Any] = {
        "DBInstanceIdentifier": ident,
        "DBInstanceArn": f"arn:aws:rds:{region}:{ACCOUNT}:db:{ident}",
        "Engine": "postgres",
        "EngineVersion": "16.3",
        "Endpoint": {"Address": f"{ident}.c9akciq32.{region}.rds.amazonaws.com", "Port": 5432},
        "StorageEncrypted": True,
        "MultiAZ": False,
        "PubliclyAccessible": False,
        "TagList": _tags(app, env),
    }
    if managed_secret:
        out["MasterUserSecret"] = {"SecretArn": managed_secret, "SecretStatus": "active"}
    return out


def endpoint(ident: str, region: str = REGION) -> str:
    return f"{ident}.c9akciq32.{region}.rds.amazonaws.com"


def table(name: str, region: str = REGION) -> dict[str, Any]:
    return {"TableName": name, "TableArn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"}


def queue_url(name: str, region: str = REGION) -> str:
    return f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{name}"


def replication_group(gid: str) -> dict[str, Any]:
    host = f"{gid}.x1y2z3.euw1.cache.amazonaws.com"
    return {
        "ReplicationGroupId": gid,
        "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:{gid}",
        "Engine": "redis",
        "MultiAZ": "disabled",
        "AtRestEncryptionEnabled": True,
        "NodeGroups": [
            {
                "PrimaryEndpoint": {"Address": f"master.{host}", "Port": 6379},
                "ReaderEndpoint": {"Address": f"replica.{host}", "Port": 6379},
                "NodeGroupMembers": [],
            }
        ],
    }


def file_system(fid: str, name: str, env: str | None = None, region: str = REGION) -> dict:
    return {
        "FileSystemId": fid,
        "FileSystemArn": f"arn:aws:elasticfilesystem:{region}:{ACCOUNT}:file-system/{fid}",
        "Name": name,
        "Encrypted": True,
        "Tags": [{"Key": "Name", "Value": name}, *_tags(None, env)],
    }


def with_stores(
    snap,
    region: str = REGION,
    *,
    rds=(),
    tables=(),
    buckets=(),
    caches=(),
    queues=(),
    file_systems=(),
):
    """``snap`` with these datastores in ``region`` (and none of any other kind)."""
    snap.data |= {
        (region, "rds"): {"db_instances": list(rds), "db_clusters": []},
        (region, "dynamodb"): {"tables": list(tables)},
        (region, "s3"): {"buckets": [{"Name": b} for b in buckets]},
        (region, "elasticache"): {"cache_clusters": [], "replication_groups": list(caches)},
        (region, "sqs"): {"queue_urls": [queue_url(q, region) for q in queues]},
        (region, "efs"): {"file_systems": list(file_systems)},
    }
    return snap


def fail(snap, service_name: str, operation: str, region: str = REGION):
    """``snap`` where ``operation`` was denied: an error entry, and the service's lists None (as
    the collectors leave a failed listing)."""
    snap.manifest["errors"].append(error(service_name, operation, region))
    if service_name != "ecs":
        snap.data[(region, service_name)] = dict.fromkeys(snap.get(region, service_name))
    return snap


def deployed(family: str, env: str, revision: int = 1, region: str = REGION) -> dict:
    """A service running ``family:revision`` in cluster shop-<env>, tagged with its environment."""
    name = family.rsplit("-", 1)[0]
    return service(f"shop-{env}", name, td_arn(family, revision, region), env)


def with_volumes(task: dict, volumes: list[dict], mounts: dict[str, str]) -> dict:
    """``task`` with ``volumes`` and its first container mounting volume -> path."""
    task["volumes"] = volumes
    task["containerDefinitions"][0]["mountPoints"] = [
        {"sourceVolume": v, "containerPath": p, "readOnly": False} for v, p in mounts.items()
    ]
    return task


def sidecar(name: str, image: str, ports: tuple[int, ...] = (), protocol: str = "tcp") -> dict:
    c = container(name, image=image)
    c["essential"] = False
    c["portMappings"] = [{"containerPort": p, "hostPort": p, "protocol": protocol} for p in ports]
    return c


def inventory(snap) -> Inventory:
    return Inventory(snap, settings(regions=tuple(snap.regions)))


def assert_could_not_evaluate(findings, check_id: str, action: str, region: str = REGION):
    """An ERROR naming ``action`` (a catalog iam_action of the check) and no PASS."""
    assert action in load_catalog()[check_id].iam_actions
    assert all(f.status not in (Status.PASS, Status.SKIP) for f in findings), findings
    gap = only(f for f in findings if action in f.message)
    assert gap.status == Status.ERROR
    assert gap.region == region
    assert gap.message.startswith(f"Could not evaluate: {action} failed in {region}")
    assert evidence(gap)["missing_action"] == action
    return gap


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_empty_account_gives_one_skip(check_id):
    f = only(run(with_stores(snapshot()), check_id))
    assert f.status == Status.SKIP
    assert f.check_id == check_id
    assert f.resource_id == "*"
    assert f.message.startswith("Nothing to evaluate")


def test_every_factor_iv_check_is_catalogued_with_its_evidence_table():
    catalog = load_catalog()
    for check_id in CHECK_IDS:
        assert catalog[check_id].factor == 4
        assert check_id in EVIDENCE
    assert {c for c, m in catalog.items() if m.factor == 4} == set(CHECK_IDS)


# -- matching config against locators ---------------------------------------------------------
class TestAttachments:
    def links(self, snap) -> list[tuple[str, str, str, str]]:
        """(task definition, source, name, datastore) of every attachment."""
        frame = bs.attachments(inventory(snap))
        return list(
            zip(frame.task_definition, frame.source, frame.name, frame.datastore, strict=True)
        )

    def test_endpoint_inside_a_url_with_a_redacted_password(self):
        url = f"postgres://orders:{DB_PASSWORD}@{endpoint('orders-db-prod')}:5432/orders"
        snap = with_stores(
            snapshot(task_definitions=[td("orders-api-prod", env={"DATABASE_URL": url})]),
            rds=[rds_instance("orders-db-prod", "production")],
        )
        frame = bs.attachments(inventory(snap))
        row = only(frame.itertuples())
        assert (row.datastore, row.kind, row.source, row.name) == (
            "orders-db-prod",
            "rds-instance",
            "environment",
            "DATABASE_URL",
        )
        assert row.locator == endpoint("orders-db-prod")
        assert row.relation == "same"
        assert DB_PASSWORD not in row.value and "[REDACTED kind=" in row.value

    @pytest.mark.parametrize(
        ("value", "found"),
        [
            ("orders", True),
            ("ORDERS", True),  # compared in lower case
            ("orders-archive", False),  # a longer name, not this table
            ("my-orders", False),
            (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders", True),
            (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/stream/2024", True),
            ("orders,payments", True),  # an item of a list
            ("https://api.example.com/v1/orders", True),  # a path segment: a token like any
            ("/var/cache/orders", False),  # a file path names directories
            ("./orders", False),
        ],
    )
    def test_bare_names_match_whole_tokens_only(self, value, found):
        snap = with_stores(
            snapshot(task_definitions=[td("orders-api-prod", env={"TABLE": value})]),
            tables=[table("orders")],
        )
        assert bool(self.links(snap)) is found

    @pytest.mark.parametrize(
        "value",
        [
            "s3://shop-assets-prod/images/",
            "shop-assets-prod.s3.amazonaws.com",
            "https://shop-assets-prod.s3.eu-west-1.amazonaws.com/logo.png",
            "https://shop-assets-prod.s3-eu-west-1.amazonaws.com",
            "arn:aws:s3:::shop-assets-prod/*",
        ],
    )
    def test_bucket_in_its_usual_spellings(self, value):
        snap = with_stores(
            snapshot(task_definitions=[td("catalog-prod", env={"ASSETS": value})]),
            buckets=["shop-assets-prod", "shop-assets-prod-old"],
        )
        assert self.links(snap) == [("catalog-prod:1", "environment", "ASSETS", "shop-assets-prod")]

    def test_queue_url_cache_endpoint_and_longer_arn_do_not_confuse(self):
        host = "master.sessions-prod.x1y2z3.euw1.cache.amazonaws.com"
        snap = with_stores(
            snapshot(
                task_definitions=[
                    td(
                        "orders-api-prod",
                        env={
                            "QUEUE_URL": queue_url("notifications-prod"),
                            "REDIS_URL": f"rediss://{host}:6379/0",
                            "DLQ": queue_url("notifications-prod-dlq"),
                        },
                    )
                ]
            ),
            caches=[replication_group("sessions-prod")],
            queues=["notifications-prod"],
        )
        assert sorted(self.links(snap)) == [
            ("orders-api-prod:1", "environment", "QUEUE_URL", "notifications-prod"),
            ("orders-api-prod:1", "environment", "REDIS_URL", "sessions-prod"),
        ]

    def test_secret_reference_to_the_secret_rds_manages(self):
        managed = sm_arn("rds!db-3f1c2b7a-0d4e-4c1a-9b8e-5a6f7e8d9c0b", suffix="Xy12Ab")
        snap = with_stores(
            snapshot(
                task_definitions=[
                    td("orders-api-prod", secrets={"DB_CREDENTIALS": f"{managed}:password::"})
                ]
            ),
            rds=[rds_instance("orders-db-prod", "production", managed_secret=managed)],
        )
        assert self.links(snap) == [
            ("orders-api-prod:1", "secret", "DB_CREDENTIALS", "orders-db-prod")
        ]

    def test_parameter_names_of_the_tasks_own_hierarchy(self):
        snap = with_stores(
            snapshot(
                task_definitions=[td("orders-api-prod")],
                parameters=[
                    parameter("/orders-api/prod/orders-db-prod/endpoint"),
                    parameter("/orders-api/staging/orders-db-prod/endpoint"),  # not its own
                    parameter("/payments/prod/orders-db-prod/endpoint"),  # not its own
                ],
            ),
            rds=[rds_instance("orders-db-prod", "production")],
        )
        assert self.links(snap) == [
            (
                "orders-api-prod:1",
                "parameter-name",
                "/orders-api/prod/orders-db-prod/endpoint",
                "orders-db-prod",
            )
        ]

    def test_efs_volume_names_the_containers_that_mount_it(self):
        task = with_volumes(
            td("legacy-monolith", tags={"Environment": "production"}, region=OTHER_REGION),
            [{"name": "uploads", "efsVolumeConfiguration": {"fileSystemId": "fs-0a1b2c3d"}}],
            {"uploads": "/var/www/uploads"},
        )
        snap = with_stores(
            snapshot(task_definitions=[task], regions=[OTHER_REGION]),
            OTHER_REGION,
            file_systems=[file_system("fs-0a1b2c3d", "legacy-uploads", "production", OTHER_REGION)],
        )
        row = only(bs.attachments(inventory(snap)).itertuples())
        assert (row.source, row.container, row.name, row.value) == (
            "efs-volume",
            "app",
            "uploads",
            "fs-0a1b2c3d",
        )
        assert (row.datastore, row.datastore_environment, row.relation) == (
            "legacy-uploads",
            "production",
            "same",
        )

    def test_nothing_matches_in_an_account_without_datastores(self):
        snap = snapshot(task_definitions=[td("orders-api-prod", env={"DB_HOST": "db.internal"})])
        frame = bs.attachments(inventory(snap))
        assert frame.empty
        assert list(frame.columns) == bs.ATTACHMENT_COLUMNS

    @pytest.mark.parametrize(
        ("task", "store", "expected"),
        [
            ("staging", "staging", "same"),
            ("staging", "production", "crosses-production"),
            ("production", "development", "crosses-production"),
            ("staging", "development", "other-environment"),
            ("staging", "", "unknown"),
            ("", "production", "unknown"),
            ("production", "prod-eu", "same"),
        ],
    )
    def test_relation(self, task, store, expected):
        assert bs.relation(task, store) == expected

    @pytest.mark.parametrize(
        ("env", "production"),
        [("production", True), ("prod", True), ("live", True), ("prod-eu", True)]
        + [("staging", False), ("preprod", False), ("", False), ("production-like", False)]
        + [("prod-staging", False), ("prod-eu-west-1", True)],
    )
    def test_is_production(self, env, production):
        assert bs.is_production(env) is production


# -- the address detector ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.3.17", [("10.0.3.17", None, "private")]),
        ("jdbc:mysql://10.0.0.5:3306/shop", [("10.0.0.5", 3306, "private")]),
        ("https://52.95.110.1/api", [("52.95.110.1", None, "public")]),
        ("100.64.1.2:80", [("100.64.1.2", 80, "private")]),
        ("localhost", [("localhost", None, "loopback")]),
        ("http://LOCALHOST:8080/x", [("localhost", 8080, "loopback")]),
        ("127.0.0.1:6379", [("127.0.0.1", 6379, "loopback")]),
        ("redis://[::1]:6379", [("::1", 6379, "loopback")]),
        ("::1", [("::1", None, "loopback")]),
        ("0.0.0.0:8080", [("0.0.0.0", 8080, "unspecified")]),
        ("http://169.254.170.2/v2/credentials", [("169.254.170.2", None, "link-local")]),
        ("host.docker.internal:5432", [("host.docker.internal", 5432, "developer-host")]),
        ("224.2.2.3", [("224.2.2.3", None, "multicast")]),
        ("a.b.c.d", []),
        ("1.2.3", []),
        ("v1.2.3.4", []),
        ("1.2.3.4.5", []),
        ("999.1.1.1", []),
        ("orders-db.internal:5432", []),
        ("mylocalhost:80", []),
        ("localhost.example.com", []),
        ("[REDACTED kind=token len=38 hash=aa09eb46]", []),
    ],
)
def test_find_addresses(value, expected):
    found = [(h["address"], h["port"], h["kind"]) for h in bs.find_addresses(value)]
    assert found == expected


def test_find_addresses_tells_cidr_from_a_url_path():
    [cidr] = bs.find_addresses("10.0.0.0/16")
    [url] = bs.find_addresses("http://10.0.0.5/16")
    assert cidr["cidr"] and not cidr["in_url"]
    assert url["in_url"] and not url["cidr"]


# -- TF04-NO-HARDCODED-LOCATOR -----------------------------------------------------------------
class TestNoHardcodedLocator:
    ID = "TF04-NO-HARDCODED-LOCATOR"

    def test_names_pass(self):
        snap = snapshot(
            task_definitions=[
                td(
                    "orders-api-prod",
                    env={
                        "DB_HOST": endpoint("orders-db-prod"),
                        "SEARCH_URL": "http://search.prod.shop.internal:9200",
                        "PORT": "8080",
                    },
                )
            ],
            services=[deployed("orders-api-prod", "production")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "orders-api-prod:1"
        assert f.resource_type == "AwsEcsTaskDefinition"
        assert (f.application, f.environment) == ("orders-api", "production")
        assert f.severity == "medium"
        assert evidence(f) == {"variables_checked": 3, "ignored": 0, "sidecar": 0, "in_use": True}

    def test_task_definition_without_environment_passes(self):
        f = only(run(snapshot(task_definitions=[td("worker-prod")]), self.ID))
        assert f.status == Status.PASS
        assert evidence(f)["variables_checked"] == 0

    @pytest.mark.parametrize(
        ("name", "value", "shown", "kind"),
        [
            ("SMTP_HOST", "10.0.3.17", "SMTP_HOST=10.0.3.17", "private"),
            ("DB_HOST", "localhost", "DB_HOST=localhost", "loopback"),
            ("API_URL", "https://52.95.110.1:8443/v1", "API_URL=52.95.110.1:8443", "public"),
            ("CACHE", "127.0.0.1:11211", "CACHE=127.0.0.1:11211", "loopback"),
            ("DB", "host.docker.internal:5432", "DB=host.docker.internal:5432", "developer-host"),
            ("UPSTREAM", "http://0.0.0.0:9000", "UPSTREAM=0.0.0.0:9000", "unspecified"),
        ],
    )
    def test_address_fails_naming_it(self, name, value, shown, kind):
        snap = snapshot(
            task_definitions=[td("reports-prod", env={"LOG_LEVEL": "info", name: value})],
            services=[deployed("reports-prod", "production")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.message.endswith(f"by name: {shown}.")
        [found] = evidence(f)["addresses"]
        assert (found["container"], found["name"], found["kind"]) == ("app", name, kind)
        assert found["port"] == (int(shown.rsplit(":", 1)[1]) if shown.count(":") else None)
        assert evidence(f)["in_use"] is True

    def test_password_next_to_the_address_stays_redacted(self):
        url = f"postgres://notify:{DB_PASSWORD}@10.0.1.20:5432/notify"
        snap = snapshot(task_definitions=[td("notify-prod", env={"DATABASE_URL": url})])
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "DATABASE_URL=10.0.1.20:5432" in f.message
        assert DB_PASSWORD not in json.dumps(dataclasses.asdict(f))
        table = EVIDENCE[self.ID](SimpleNamespace(inventory=inventory(snap)))
        assert DB_PASSWORD not in table.to_string()
        assert "[REDACTED kind=" in table.loc[0, "value"]

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("NO_PROXY", "169.254.169.254,169.254.170.2,localhost,127.0.0.1"),
            ("ALLOWED_HOSTS", "localhost,10.0.0.5"),
            ("TRUSTED_PROXIES", "10.0.0.0/8"),
            ("VPC_RANGE", "10.0.0.0/16"),
            ("BIND_ADDRESS", "127.0.0.1:8080"),
            ("HOST", "0.0.0.0"),
            ("GUNICORN_CMD_ARGS", "--bind=0.0.0.0:8080"),
            ("ECS_METADATA", "http://169.254.170.2/v4"),
            ("ASSEMBLY_VERSION", "1.0.0.0"),
            ("CORS_ORIGINS", "http://localhost:3000"),
        ],
    )
    def test_non_locators_are_ignored(self, name, value):
        snap = snapshot(task_definitions=[td("web-prod", env={name: value})])
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS, f.message
        assert evidence(f)["ignored"] >= 1

    def test_loopback_to_a_sidecar_that_declares_the_port_passes(self):
        task = td(
            "orders-api-prod",
            containers=[
                container("app", {"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}),
                sidecar("xray", "public.ecr.aws/xray/aws-xray-daemon:3.3", (2000,), "udp"),
            ],
        )
        f = only(run(snapshot(task_definitions=[task]), self.ID))
        assert f.status == Status.PASS
        assert "AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000" in f.message
        assert evidence(f)["sidecar"] == 1

    def test_loopback_agent_variable_with_a_sidecar_passes(self):
        task = td(
            "orders-api-prod",
            containers=[
                container("app", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4317"}),
                sidecar("otel", "public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1"),
            ],
        )
        assert only(run(snapshot(task_definitions=[task]), self.ID)).status == Status.PASS

    def test_loopback_database_beside_an_unrelated_sidecar_fails(self):
        task = td(
            "orders-api-prod",
            containers=[
                container("app", {"DB_HOST": "localhost:5432"}),
                sidecar("otel", "public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1"),
            ],
        )
        f = only(run(snapshot(task_definitions=[task]), self.ID))
        assert f.status == Status.FAIL
        assert "DB_HOST=localhost:5432" in f.message

    def test_loopback_to_a_datastore_sidecar_fails(self):
        task = td(
            "legacy-monolith",
            containers=[
                container("web", {"DB_HOST": "127.0.0.1:3306"}),
                sidecar("mysql", "mysql:5.7", (3306,)),
            ],
        )
        assert only(run(snapshot(task_definitions=[task]), self.ID)).status == Status.FAIL

    def test_loopback_in_bridge_mode_never_reaches_a_sidecar(self):
        task = td(
            "orders-api-prod",
            containers=[
                container("app", {"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}),
                sidecar("xray", "amazon/aws-xray-daemon", (2000,), "udp"),
            ],
        )
        task["networkMode"] = "bridge"
        assert only(run(snapshot(task_definitions=[task]), self.ID)).status == Status.FAIL

    def test_one_finding_per_task_definition(self):
        snap = snapshot(
            task_definitions=[
                td("notifications-worker-staging", env={"SMTP_HOST": "smtp.staging.internal"}),
                td("notifications-worker-prod", env={"SMTP_HOST": "10.0.3.17"}),
                td("reports-prod", env={"DB_HOST": "localhost"}),
            ]
        )
        assert statuses(run(snap, self.ID)) == {
            "notifications-worker-staging:1": Status.PASS,
            "notifications-worker-prod:1": Status.FAIL,
            "reports-prod:1": Status.FAIL,
        }

    def test_could_not_evaluate(self):
        snap = snapshot(
            task_definitions=[td("orders-api-prod", env={"DB_HOST": "db.internal"})],
            errors=[error("ecs", "DescribeTaskDefinition")],
        )
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "ecs:DescribeTaskDefinition")

    def test_evidence_table_lists_every_address_with_its_verdict(self):
        task = td(
            "orders-api-prod",
            containers=[
                container(
                    "app",
                    {
                        "SMTP_HOST": "10.0.3.17",
                        "NO_PROXY": "localhost",
                        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
                    },
                ),
                sidecar("xray", "amazon/aws-xray-daemon", (2000,), "udp"),
            ],
        )
        table = EVIDENCE[self.ID](SimpleNamespace(inventory=inventory(snapshot([task]))))
        assert list(table["verdict"]) == ["hard-coded", "sidecar", "ignored"]
        assert list(table["name"]) == ["SMTP_HOST", "AWS_XRAY_DAEMON_ADDRESS", "NO_PROXY"]


# -- TF04-NO-DATASTORE-CONTAINER ---------------------------------------------------------------
class TestNoDatastoreContainer:
    ID = "TF04-NO-DATASTORE-CONTAINER"

    def test_application_with_sidecars_passes(self):
        task = td(
            "orders-api-prod",
            containers=[
                container("app", image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:1"),
                sidecar("otel", "public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1"),
            ],
        )
        snap = snapshot(task_definitions=[task], services=[deployed("orders-api-prod", "prod")])
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.severity == "high"
        assert evidence(f) == {"containers": ["app", "otel"], "in_use": True}

    def test_database_beside_the_application_fails(self):
        task = with_volumes(
            td(
                "legacy-monolith",
                containers=[
                    container("mysql", {"MYSQL_DATABASE": "legacy"}, image="mysql:5.7"),
                    container("web", {"DB_HOST": "mysql"}, image="php:7.4-apache"),
                ],
            ),
            [{"name": "mysql-data", "host": {"sourcePath": "/data/mysql"}}],
            {"mysql-data": "/var/lib/mysql"},
        )
        f = only(run(snapshot(task_definitions=[task]), self.ID))
        assert f.status == Status.FAIL
        assert f.message.startswith(
            "Task definition legacy-monolith:1 runs mysql (container mysql) inside the same "
            "task as web"
        )
        assert evidence(f)["datastores"] == [
            {
                "container": "mysql",
                "image": "mysql:5.7",
                "engine": "mysql",
                "volumes": "/var/lib/mysql (host disk)",
                "referenced_by": "web/DB_HOST",
            }
        ]
        assert evidence(f)["application_containers"] == ["web"]

    @pytest.mark.parametrize(
        ("image", "engine"),
        [
            ("postgres:16-alpine", "postgres"),
            ("public.ecr.aws/docker/library/redis:7", "redis"),
            ("bitnami/postgresql:16", "postgresql"),
            ("confluentinc/cp-kafka:7.6.0", "cp-kafka"),
            ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/mongo:7", "mongo"),
            ("docker.elastic.co/elasticsearch/elasticsearch:8.13.0", "elasticsearch"),
            ("valkey/valkey:7.2", "valkey"),
            ("memcached@sha256:" + "a" * 64, "memcached"),
            ("mcr.microsoft.com/mssql/server:2022-latest", "mssql"),
            ("amazon/dynamodb-local", "dynamodb-local"),
        ],
    )
    def test_datastore_images(self, image, engine):
        task = td(
            "shop-prod",
            containers=[container("app"), container("store", image=image)],
        )
        f = only(run(snapshot(task_definitions=[task]), self.ID))
        assert f.status == Status.FAIL
        assert evidence(f)["datastores"][0]["engine"] == engine

    @pytest.mark.parametrize(
        "image",
        [
            "oliver006/redis_exporter:v1.58.0",
            "prom/mysqld-exporter",
            "mongo-express:1.0",
            "bitnami/pgbouncer:1",
            "myorg/redis-client:2",
            "shop/postgres-migrations:12",
        ],
    )
    def test_helpers_and_lookalikes_are_not_datastores(self, image):
        task = td("shop-prod", containers=[container("app"), container("tool", image=image)])
        assert only(run(snapshot(task_definitions=[task]), self.ID)).status == Status.PASS

    def test_datastore_as_a_service_of_its_own_is_info(self):
        task = td(
            "cache-prod",
            containers=[
                container("redis", image="redis:7"),
                sidecar("metrics", "oliver006/redis_exporter:v1.58.0", (9121,)),
            ],
        )
        f = only(run(snapshot(task_definitions=[task]), self.ID))
        assert f.status == Status.INFO
        assert "as a service of its own" in f.message
        assert evidence(f)["application_containers"] == []

    def test_could_not_evaluate(self):
        snap = snapshot(
            task_definitions=[td("orders-api-prod")], errors=[error("ecs", "ListClusters")]
        )
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "ecs:ListClusters")

    def test_evidence_table(self):
        task = td(
            "legacy-monolith",
            containers=[container("web"), container("db", image="postgres:16")],
        )
        table = EVIDENCE[self.ID](SimpleNamespace(inventory=inventory(snapshot([task]))))
        assert table[
            ["task_definition", "container", "engine", "shares_task_with"]
        ].values.tolist() == [["legacy-monolith:1", "db", "postgres", "web"]]


# -- TF04-ENV-OWN-RESOURCES --------------------------------------------------------------------
class TestEnvOwnResources:
    ID = "TF04-ENV-OWN-RESOURCES"

    def shop(self, staging_db: str, **stores) -> Any:
        snap = snapshot(
            task_definitions=[
                td("catalog-staging", env={"DB_HOST": endpoint(staging_db)}),
                td("catalog-prod", env={"DB_HOST": endpoint("catalog-db-prod")}),
            ],
            services=[
                deployed("catalog-staging", "staging"),
                deployed("catalog-prod", "production"),
            ],
        )
        rds = [
            rds_instance("catalog-db-staging", "staging", "catalog"),
            rds_instance("catalog-db-prod", "production", "catalog"),
        ]
        return with_stores(snap, rds=rds, **stores)

    def test_own_resources_pass(self):
        findings = run(self.shop("catalog-db-staging"), self.ID)
        assert statuses(findings) == {
            "catalog-staging:1": Status.PASS,
            "catalog-prod:1": Status.PASS,
        }
        f = only(f for f in findings if f.resource_id == "catalog-staging:1")
        assert f.severity == "critical"
        assert f.message == (
            "Task definition catalog-staging:1 attaches only staging resources: "
            "rds-instance catalog-db-staging."
        )
        assert evidence(f)["attached"] == [
            {
                "datastore": "catalog-db-staging",
                "kind": "rds-instance",
                "environment": "staging",
                "relation": "same",
                "via": ["environment app/DB_HOST"],
            }
        ]

    def test_staging_pointing_at_production_fails(self):
        findings = run(self.shop("catalog-db-prod"), self.ID)
        assert statuses(findings) == {
            "catalog-staging:1": Status.FAIL,
            "catalog-prod:1": Status.PASS,
        }
        f = only(findings, Status.FAIL)
        assert (f.application, f.environment) == ("catalog", "staging")
        assert f.message == (
            "Task definition catalog-staging:1 (staging) attaches production resources: "
            "rds-instance catalog-db-prod (production)."
        )
        assert evidence(f)["attached"][0]["relation"] == "crosses-production"

    def test_production_pointing_at_a_non_production_store_fails(self):
        snap = with_stores(
            snapshot(task_definitions=[td("payments-prod", env={"LEDGER": "payments-ledger-dev"})]),
            tables=[table("payments-ledger-dev")],  # placed by its name: development
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "(production) attaches non-production resources: dynamodb payments-ledger-dev" in (
            f.message
        )

    def test_through_the_secret_rds_manages(self):
        managed = sm_arn("rds!db-3f1c2b7a", suffix="Xy12Ab")
        snap = with_stores(
            snapshot(task_definitions=[td("orders-api-staging", secrets={"DB": managed})]),
            rds=[rds_instance("orders-db", "production", managed_secret=managed)],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert evidence(f)["attached"][0]["via"] == ["secret app/DB"]

    def test_efs_of_another_environment_fails(self):
        task = with_volumes(
            td("uploads-staging"),
            [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-0a1b2c3d"}}],
            {"data": "/data"},
        )
        snap = with_stores(
            snapshot(task_definitions=[task]),
            file_systems=[file_system("fs-0a1b2c3d", "uploads", "production")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "efs uploads (production)" in f.message

    def test_two_non_production_environments_sharing_is_info(self):
        snap = with_stores(
            snapshot(task_definitions=[td("orders-api-staging", env={"Q": "orders-dev"})]),
            queues=["orders-dev"],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.INFO
        assert "production is not involved" in f.message

    def test_stores_of_unknown_environment_are_listed_not_judged(self):
        snap = with_stores(
            snapshot(
                task_definitions=[
                    td("orders-api-staging", env={"Q": "orders-staging", "B": "s3://shared"}),
                    td("reports-staging", env={"B": "s3://shared"}),
                ]
            ),
            queues=["orders-staging"],
            buckets=["shared"],
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "orders-api-staging:1": Status.PASS,
            "reports-staging:1": Status.INFO,
        }
        passed = only(findings, Status.PASS)
        assert passed.message.endswith("sqs orders-staging (and 1 of unknown environment).")

    def test_task_of_unknown_environment_is_info(self):
        snap = with_stores(
            snapshot(task_definitions=[td("worker", env={"DB": endpoint("orders-db-prod")})]),
            rds=[rds_instance("orders-db-prod", "production")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.INFO
        assert "no known environment" in f.message

    def test_task_attaching_nothing_gives_no_finding(self):
        snap = with_stores(
            snapshot(
                task_definitions=[
                    td("reports-prod", env={"DB_HOST": "localhost"}),
                    td("payments-prod", env={"T": "payments-prod"}),
                ]
            ),
            tables=[table("payments-prod")],
        )
        assert statuses(run(snap, self.ID)) == {"payments-prod:1": Status.PASS}

    @pytest.mark.parametrize(
        ("service_name", "operation", "action"),
        [
            ("rds", "DescribeDBInstances", "rds:DescribeDBInstances"),
            ("dynamodb", "ListTables", "dynamodb:ListTables"),
            ("s3", "ListBuckets", "s3:ListAllMyBuckets"),
            ("efs", "DescribeFileSystems", "elasticfilesystem:DescribeFileSystems"),
            ("ecs", "DescribeTaskDefinition", "ecs:DescribeTaskDefinition"),
        ],
    )
    def test_could_not_evaluate(self, service_name, operation, action):
        snap = fail(self.shop("catalog-db-staging"), service_name, operation)
        assert_could_not_evaluate(run(snap, self.ID), self.ID, action)

    def test_a_gap_in_another_region_still_taints_every_pass(self):
        snap = self.shop("catalog-db-staging")
        snap.manifest["regions"].append(OTHER_REGION)
        fail(with_stores(snap, OTHER_REGION), "rds", "DescribeDBInstances", OTHER_REGION)
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "rds:DescribeDBInstances", OTHER_REGION)
        assert {f.resource_id for f in findings if f.status == Status.ERROR} >= {
            "catalog-staging:1",
            "catalog-prod:1",
        }

    def test_a_fail_stays_a_fail_despite_a_gap(self):
        snap = fail(self.shop("catalog-db-prod"), "sqs", "ListQueues")
        findings = run(snap, self.ID)
        assert only(f for f in findings if f.resource_id == "catalog-staging:1").status == (
            Status.FAIL
        )

    def test_evidence_table_shows_crossings_first(self):
        snap = self.shop("catalog-db-prod", buckets=["shop-assets-staging"])
        table = EVIDENCE[self.ID](SimpleNamespace(inventory=inventory(snap)))
        assert table[["task_definition", "datastore", "relation"]].values.tolist()[0] == [
            "catalog-staging:1",
            "catalog-db-prod",
            "crosses-production",
        ]


# -- the picture -------------------------------------------------------------------------------
def test_backing_services_plot_draws_every_kind_of_edge():
    snap = with_stores(
        snapshot(
            task_definitions=[
                td("catalog-staging", env={"DB_HOST": endpoint("catalog-db-prod")}),
                td("reports-prod", env={"DB_HOST": "localhost"}),
                td(
                    "legacy-monolith",
                    tags={"Environment": "production"},
                    containers=[container("web"), container("mysql", image="mysql:5.7")],
                ),
            ]
        ),
        rds=[rds_instance("catalog-db-prod", "production")],
    )
    wb = SimpleNamespace(inventory=inventory(snap))
    left, right, edges = bs._graph(wb.inventory, None)
    assert {style for _, _, style in edges} == {"crosses-production", "hard-coded", "container"}
    assert len(left) == 3 and len(right) == 3
    fig = PLOTS["backing-services"](wb)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "catalog (staging)" in labels
    assert "localhost  [hard-coded in DB_HOST]" in labels
    only_catalog = PLOTS["backing-services"](wb, application="catalog")
    assert "reports (production)" not in [t.get_text() for t in only_catalog.axes[0].texts]


def test_backing_services_plot_of_an_empty_account():
    fig = PLOTS["backing-services"](SimpleNamespace(inventory=inventory(snapshot())))
    assert [t.get_text() for t in fig.axes[0].texts] == ["no attached resources found in config"]
