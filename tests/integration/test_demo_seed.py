"""The demo seeder really plants, in moto, the practices data/demo/scenario.yaml tells about.

Factors I, II, IV, V and VI: one good and one bad example of each practice, read back with plain
boto3 clients inside ``in_process(load_scenario())``; and seeding is deterministic.
"""

from __future__ import annotations

import json
import re
import socket

import boto3
import pytest
from conftest import clean_environment

from twelvefactor.demo import in_process, load_scenario, seed_server

EU = "eu-west-1"
US = "us-east-1"
DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")


def client(service: str, region: str = EU, endpoint_url: str | None = None):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="class")
def scenario():
    scenario = load_scenario()
    with clean_environment(), in_process(scenario):
        yield scenario


# -- helpers ----------------------------------------------------------------------------------
def service(cluster: str, name: str, region: str = EU) -> dict:
    return client("ecs", region).describe_services(cluster=cluster, services=[name])["services"][0]


def task_definition(ref: str, region: str = EU) -> dict:
    return client("ecs", region).describe_task_definition(taskDefinition=ref)["taskDefinition"]


def running(cluster: str, name: str, region: str = EU) -> dict:
    """The task definition a service runs."""
    return task_definition(service(cluster, name, region)["taskDefinition"], region)


def container(td: dict, name: str) -> dict:
    return next(c for c in td["containerDefinitions"] if c["name"] == name)


def env(td: dict, name: str) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(td, name)["environment"]}


def repository_of(image: str) -> str:
    """'123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/x@sha256:..' -> 'shop/x'."""
    path = image.split("/", 1)[1]
    return re.split(r"[@:]", path, maxsplit=1)[0]


def image_tags(image: str, region: str = EU) -> list[str]:
    repo = repository_of(image)
    if "@" in image:
        image_id = {"imageDigest": image.rsplit("@", 1)[1]}
    else:
        image_id = {"imageTag": image.rsplit(":", 1)[1]}
    details = client("ecr", region).describe_images(repositoryName=repo, imageIds=[image_id])
    return details["imageDetails"][0]["imageTags"]


def all_services() -> list[tuple[str, str, str]]:
    """(region, cluster, service name) of every service in the account."""
    out = []
    for region in (EU, US):
        ecs = client("ecs", region)
        for cluster in ecs.list_clusters()["clusterArns"]:
            for arn in ecs.list_services(cluster=cluster)["serviceArns"]:
                out.append((region, cluster.rsplit("/", 1)[1], arn.rsplit("/", 1)[1]))
    return sorted(out)


def rds_address(instance: str) -> str:
    db = client("rds").describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]
    return db["Endpoint"]["Address"]


def target_group(name: str, region: str) -> tuple[dict, dict[str, str]]:
    elbv2 = client("elbv2", region)
    tg = elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]
    attributes = elbv2.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])
    return tg, {a["Key"]: a["Value"] for a in attributes["Attributes"]}


class TestPlantedPractices:
    """One seeded account for all of these (seeding is the slow part)."""

    # -- I. Codebase ------------------------------------------------------------------------------
    def test_services_map_to_repositories_one_shared_one_split(self, scenario):
        apps: dict[str, set[str]] = {}  # repository -> services running its images
        for region, cluster, name in all_services():
            for c in running(cluster, name, region)["containerDefinitions"]:
                if ".dkr.ecr." in c["image"]:
                    apps.setdefault(repository_of(c["image"]), set()).add(f"{cluster}/{name}")
        # good: one repository, one application (in both environments)
        assert apps["shop/orders-api"] == {"shop-staging/orders-api", "shop-prod/orders-api"}
        # bad: one repository, two applications
        assert apps["shop/shared-worker"] == {
            "shop-staging/notifications-worker",
            "shop-prod/notifications-worker",
            "shop-prod/reports",
        }
        # bad: one application, a differently named repository per environment, no digest in common
        assert apps["shop/catalog"] == {"shop-staging/catalog"}
        assert apps["shop/catalog-prod"] == {"shop-prod/catalog"}
        ecr = client("ecr")
        digests = {
            repo: {
                i["imageDigest"] for i in ecr.describe_images(repositoryName=repo)["imageDetails"]
            }
            for repo in ("shop/catalog", "shop/catalog-prod")
        }
        assert not digests["shop/catalog"] & digests["shop/catalog-prod"]

    def test_orders_api_images_carry_a_git_sha_tag_others_only_semver_or_latest(self, scenario):
        deployed = container(running("shop-prod", "orders-api"), "app")["image"]
        assert DIGEST_RE.search(deployed)
        assert sorted(image_tags(deployed)) == ["1.4.2", "git-3f2a9c1"]
        images = client("ecr").describe_images(repositoryName="shop/orders-api")["imageDetails"]
        assert all(any(t.startswith("git-") for t in i["imageTags"]) for i in images)
        for repo in ("shop/shared-worker", "shop/payments", "shop/catalog-prod"):
            for i in client("ecr").describe_images(repositoryName=repo)["imageDetails"]:
                assert all(
                    t == "latest" or re.fullmatch(r"\d+\.\d+\.\d+", t) for t in i["imageTags"]
                )

    def test_build_projects_from_git_and_one_with_no_source(self, scenario):
        codebuild = client("codebuild")
        projects = {
            p["name"]: p["source"]
            for p in codebuild.batch_get_projects(names=codebuild.list_projects()["projects"])[
                "projects"
            ]
        }
        assert set(projects) == {"orders-api-build", "payments-build", "shared-worker-build"}
        assert projects["orders-api-build"]["type"] == "GITHUB"
        assert projects["orders-api-build"]["location"] == "https://github.com/shop/orders-api.git"
        assert projects["payments-build"]["type"] == "CODECOMMIT"
        repo = client("codecommit").get_repository(repositoryName="payments")["repositoryMetadata"]
        assert projects["payments-build"]["location"] == repo["cloneUrlHttp"]
        assert projects["shared-worker-build"]["type"] == "NO_SOURCE"
        assert "git clone" in projects["shared-worker-build"]["buildspec"]

    def test_builds_ran_at_the_commits_that_tag_the_images(self, scenario):
        codebuild = client("codebuild")
        ids = codebuild.list_builds_for_project(projectName="orders-api-build")["ids"]
        versions = {b["sourceVersion"] for b in codebuild.batch_get_builds(ids=ids)["builds"]}
        assert len(versions) == 2 and all(re.fullmatch(r"[0-9a-f]{40}", v) for v in versions)
        tags = {
            t
            for i in client("ecr").describe_images(repositoryName="shop/orders-api")["imageDetails"]
            for t in i["imageTags"]
        }
        assert {f"git-{v[:7]}" for v in versions} <= tags

    def test_orders_api_pipeline_goes_from_git_to_codebuild_to_ecs(self, scenario):
        pipeline = client("codepipeline").get_pipeline(name="orders-api")["pipeline"]
        stages = {s["name"]: s["actions"] for s in pipeline["stages"]}
        assert list(stages) == ["Source", "Build", "Deploy"]
        (source,) = stages["Source"]
        assert source["actionTypeId"]["provider"] == "CodeStarSourceConnection"
        assert source["configuration"]["FullRepositoryId"] == "shop/orders-api"
        assert source["configuration"]["BranchName"] == "main"
        (build,) = stages["Build"]
        assert build["actionTypeId"]["provider"] == "CodeBuild"
        assert build["configuration"]["ProjectName"] == "orders-api-build"
        deploys = [(a["actionTypeId"]["provider"], a["configuration"]) for a in stages["Deploy"]]
        assert all(provider == "ECS" for provider, _ in deploys)
        assert [(c["ClusterName"], c["ServiceName"]) for _, c in deploys] == [
            ("shop-staging", "orders-api"),
            ("shop-prod", "orders-api"),
        ]
        push = pipeline["triggers"][0]["gitConfiguration"]["push"]
        assert push == [{"branches": {"includes": ["main"]}}]
        bucket = pipeline["artifactStore"]["location"]
        client("s3").head_bucket(Bucket=bucket)

    # -- II. Dependencies -------------------------------------------------------------------------
    def test_public_images_next_to_private_ones(self, scenario):
        legacy = running("legacy", "legacy-monolith", US)
        assert container(legacy, "web")["image"] == "php:7.4-apache"  # Docker Hub
        orders = running("shop-prod", "orders-api")
        assert container(orders, "otel")["image"].startswith("public.ecr.aws/")
        assert container(orders, "otel")["essential"] is False
        assert ".dkr.ecr.eu-west-1.amazonaws.com/" in container(orders, "app")["image"]

    def test_images_by_digest_versus_latest(self, scenario):
        by_digest = [("shop-prod", "orders-api", "app"), ("shop-staging", "catalog", "app")]
        for cluster, name, c in by_digest:
            assert DIGEST_RE.search(container(running(cluster, name), c)["image"]), name
        latest = [("shop-prod", "payments", "app"), ("shop-prod", "notifications-worker", "worker")]
        for cluster, name, c in latest:
            assert container(running(cluster, name), c)["image"].endswith(":latest"), name

    def test_tag_mutability_and_scanning_are_mixed(self, scenario):
        ecr = client("ecr")
        repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
        assert repos["shop/orders-api"]["imageTagMutability"] == "IMMUTABLE"
        assert repos["shop/shared-worker"]["imageTagMutability"] == "MUTABLE"
        assert repos["shop/orders-api"]["imageScanningConfiguration"]["scanOnPush"] is True
        assert repos["shop/catalog-prod"]["imageScanningConfiguration"]["scanOnPush"] is False
        registry = ecr.get_registry_scanning_configuration()["scanningConfiguration"]
        assert registry["scanType"] == "BASIC"
        (rule,) = registry["rules"]
        assert rule["scanFrequency"] == "SCAN_ON_PUSH"
        filters = {f["filter"] for f in rule["repositoryFilters"]}
        assert "shop/payments" in filters  # scanned by the registry rule, not by its own setting
        assert "shop/catalog-prod" not in filters  # scanned by neither

    def test_dependencies_installed_at_start_up_only_by_notifications_worker(self, scenario):
        installs = {}
        for region, cluster, name in all_services():
            for c in running(cluster, name, region)["containerDefinitions"]:
                installs[(cluster, name, c["name"])] = "pip install" in " ".join(
                    c.get("command", [])
                )
        assert installs[("shop-staging", "notifications-worker", "worker")]
        assert installs[("shop-prod", "notifications-worker", "worker")]
        assert sum(installs.values()) == 2
        assert container(running("shop-prod", "reports"), "worker")["command"] == [
            "python",
            "-m",
            "reports.worker",
        ]

    # -- IV. Backing services ---------------------------------------------------------------------
    def test_backing_services_exist_and_are_tagged(self, scenario):
        rds = client("rds")
        dbs = {d["DBInstanceIdentifier"]: d for d in rds.describe_db_instances()["DBInstances"]}
        assert {k: d["Engine"] for k, d in dbs.items()} == {
            "orders-db-staging": "postgres",
            "orders-db-prod": "postgres",
            "catalog-db-prod": "mysql",
            "catalog-db-staging": "mysql",  # X: left on MySQL 5.7 (scenario.yaml)
        }
        assert dbs["catalog-db-staging"]["EngineVersion"] == "5.7.44"
        tags = {t["Key"]: t["Value"] for t in dbs["orders-db-prod"]["TagList"]}
        assert tags == {"Application": "orders-api", "Environment": "production"}
        assert dbs["orders-db-prod"]["IAMDatabaseAuthenticationEnabled"] is True

        assert set(client("dynamodb").list_tables()["TableNames"]) == {
            "payments-ledger-staging",
            "payments-ledger-prod",
        }
        s3 = client("s3")
        for bucket in ("shop-assets-staging", "shop-assets-prod"):
            rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
            assert (
                rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
            )
            assert {t["Key"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]} == {
                "Application",
                "Environment",
            }
        groups = client("elasticache").describe_replication_groups()["ReplicationGroups"]
        assert {g["ReplicationGroupId"] for g in groups} == {"sessions-staging", "sessions-prod"}
        queues = client("sqs").list_queues()["QueueUrls"]
        assert {q.rsplit("/", 1)[1] for q in queues} == {
            "notifications-staging",
            "notifications-prod",
        }
        (fs,) = client("efs", US).describe_file_systems()["FileSystems"]
        assert fs["Name"] == "legacy-uploads"
        assert {t["Key"]: t["Value"] for t in fs["Tags"]}["Application"] == "legacy-monolith"

    def test_containers_find_their_backing_services_through_configuration(self, scenario):
        for cluster, environment in (("shop-staging", "staging"), ("shop-prod", "prod")):
            orders = env(running(cluster, "orders-api"), "app")
            assert orders["DB_HOST"] == rds_address(f"orders-db-{environment}")
            group = client("elasticache").describe_replication_groups(
                ReplicationGroupId=f"sessions-{environment}"
            )["ReplicationGroups"][0]
            assert (
                orders["SESSION_STORE_HOST"] == group["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
            )
            payments = env(running(cluster, "payments"), "app")
            assert payments["LEDGER_TABLE"] == f"payments-ledger-{environment}"
            worker = env(running(cluster, "notifications-worker"), "worker")
            url = client("sqs").get_queue_url(QueueName=f"notifications-{environment}")["QueueUrl"]
            assert worker["QUEUE_URL"] == url
            catalog = env(running(cluster, "catalog"), "app")
            assert catalog["ASSETS_BUCKET"] == f"shop-assets-{environment}"
        parameter = client("ssm").get_parameter(Name="/orders-api/prod/DB_HOST")["Parameter"]
        assert parameter["Value"] == rds_address("orders-db-prod")

    def test_catalog_staging_uses_the_production_database(self, scenario):
        staging = env(running("shop-staging", "catalog"), "app")
        production = env(running("shop-prod", "catalog"), "app")
        assert staging["DB_HOST"] == production["DB_HOST"] == rds_address("catalog-db-prod")
        assert staging["ASSETS_BUCKET"] != production["ASSETS_BUCKET"]

    def test_hard_coded_ip_and_localhost_locators(self, scenario):
        assert (
            env(running("shop-prod", "notifications-worker"), "worker")["SMTP_HOST"] == "10.0.3.17"
        )
        assert env(running("shop-prod", "reports"), "worker")["DB_HOST"] == "localhost"

    def test_legacy_runs_its_database_as_a_container_on_a_host_disk(self, scenario):
        legacy = running("legacy", "legacy-monolith", US)
        mysql = container(legacy, "mysql")
        assert mysql["image"] == "mysql:5.7"
        (mount,) = mysql["mountPoints"]
        volume = next(v for v in legacy["volumes"] if v["name"] == mount["sourceVolume"])
        assert volume["host"]["sourcePath"] == "/data/mysql"
        assert container(legacy, "web")["links"] == ["mysql"]

    # -- V. Build, release, run -------------------------------------------------------------------
    def test_active_revisions_and_what_services_run(self, scenario):
        ecs = client("ecs")

        def active(family: str) -> list[str]:
            return ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")[
                "taskDefinitionArns"
            ]

        catalog = active("catalog-prod")
        assert len(catalog) == 5
        assert service("shop-prod", "catalog")["taskDefinition"] == catalog[0]  # four behind
        orders = active("orders-api-prod")
        assert len(orders) == 2
        assert service("shop-prod", "orders-api")["taskDefinition"] == orders[-1]  # the latest
        images = [container(task_definition(arn), "app")["image"] for arn in catalog]
        assert len(set(images)) == 5  # every revision a hand-pushed image
        assert len(active("payments-prod")) == 1

    def test_circuit_breaker_with_rollback_on_orders_api_not_on_payments(self, scenario):
        deployment = service("shop-prod", "orders-api")["deploymentConfiguration"]
        assert deployment["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        breaker = (
            service("shop-prod", "payments").get("deploymentConfiguration", {})
            or {"deploymentCircuitBreaker": {"enable": False}}
        )["deploymentCircuitBreaker"]
        assert breaker["enable"] is False

    def test_lifecycle_policies_are_mixed(self, scenario):
        ecr = client("ecr")
        ecr.get_lifecycle_policy(repositoryName="shop/orders-api")
        with pytest.raises(ecr.exceptions.LifecyclePolicyNotFoundException):
            ecr.get_lifecycle_policy(repositoryName="shop/catalog-prod")

    def test_build_variables_from_stores_versus_plaintext_keys(self, scenario):
        codebuild = client("codebuild")
        projects = {
            p["name"]: {v["name"]: v for v in p["environment"]["environmentVariables"]}
            for p in codebuild.batch_get_projects(names=["orders-api-build", "payments-build"])[
                "projects"
            ]
        }
        good = projects["orders-api-build"]
        assert good["SONAR_TOKEN"]["type"] == "SECRETS_MANAGER"
        client("secretsmanager").describe_secret(SecretId=good["SONAR_TOKEN"]["value"])
        assert good["PIP_INDEX_URL"]["type"] == "PARAMETER_STORE"
        client("ssm").get_parameter(Name=good["PIP_INDEX_URL"]["value"])
        assert all(
            v["type"] != "PLAINTEXT" or v["value"] not in scenario.planted_secrets
            for v in good.values()
        )
        bad = projects["payments-build"]["AWS_SECRET_ACCESS_KEY"]
        assert bad["type"] == "PLAINTEXT"
        assert bad["value"] in scenario.planted_secrets
        assert projects["payments-build"]["AWS_ACCESS_KEY_ID"]["value"] in scenario.planted_secrets

    def test_orders_api_is_built_by_codebuild_catalog_pushed_by_hand(self, scenario):
        codebuild = client("codebuild")
        projects = codebuild.batch_get_projects(names=codebuild.list_projects()["projects"])
        pipeline = client("codepipeline").get_pipeline(name="orders-api")["pipeline"]
        delivery = json.dumps([projects["projects"], pipeline], default=str)
        assert "shop/orders-api" in delivery
        assert "catalog" not in delivery

    # -- VI. Processes ----------------------------------------------------------------------------
    def test_host_bind_mounts_only_in_legacy(self, scenario):
        hosts = {
            (cluster, name): [
                v for v in running(cluster, name, region).get("volumes", []) if "host" in v
            ]
            for region, cluster, name in all_services()
        }
        assert hosts.pop(("legacy", "legacy-monolith"))
        assert not any(hosts.values())
        # orders-api writes only to a task-scoped scratch volume
        assert running("shop-prod", "orders-api")["volumes"] == [{"name": "scratch"}]

    def test_read_only_root_filesystem_on_orders_api_only(self, scenario):
        for region, cluster, name in all_services():
            flags = [
                c.get("readonlyRootFilesystem")
                for c in running(cluster, name, region)["containerDefinitions"]
            ]
            if name == "orders-api":
                assert flags == [True, True], cluster
            else:
                assert not any(flags), (cluster, name)

    def test_legacy_uploads_on_efs_encrypted_in_transit(self, scenario):
        legacy = running("legacy", "legacy-monolith", US)
        (efs,) = [
            v["efsVolumeConfiguration"] for v in legacy["volumes"] if "efsVolumeConfiguration" in v
        ]
        assert efs["transitEncryption"] == "ENABLED"
        (fs,) = client("efs", US).describe_file_systems(CreationToken="legacy-uploads")[
            "FileSystems"
        ]
        assert efs["fileSystemId"] == fs["FileSystemId"]

    def test_target_groups_with_and_without_stickiness_attached_to_services(self, scenario):
        orders, orders_attributes = target_group("orders-api-prod", EU)
        assert orders["TargetType"] == "ip"
        assert orders_attributes["stickiness.enabled"] == "false"
        assert orders_attributes["deregistration_delay.timeout_seconds"] == "30"
        assert orders["LoadBalancerArns"]
        legacy, legacy_attributes = target_group("legacy-monolith", US)
        assert legacy["TargetType"] == "instance"
        assert legacy_attributes["stickiness.enabled"] == "true"
        assert legacy_attributes["stickiness.type"] == "lb_cookie"
        assert legacy_attributes["deregistration_delay.timeout_seconds"] == "300"

        assert service("shop-prod", "orders-api")["loadBalancers"] == [
            {
                "targetGroupArn": orders["TargetGroupArn"],
                "containerName": "app",
                "containerPort": 8080,
            }
        ]
        assert service("legacy", "legacy-monolith", US)["loadBalancers"] == [
            {
                "targetGroupArn": legacy["TargetGroupArn"],
                "containerName": "web",
                "containerPort": 80,
            }
        ]
        assert service("legacy", "legacy-monolith", US)["launchType"] == "EC2"

    def test_one_process_per_container_except_legacy(self, scenario):
        web = container(running("legacy", "legacy-monolith", US), "web")
        assert web["command"][:2] == ["sh", "-c"] and "supervisord" in web["command"][2]
        app = container(running("shop-prod", "orders-api"), "app")
        assert app["command"][0] == "gunicorn"  # exec form, one server process

    def test_large_ephemeral_storage_only_on_catalog_prod(self, scenario):
        ecs = client("ecs")
        for arn in ecs.list_task_definitions(familyPrefix="catalog-prod")["taskDefinitionArns"]:
            assert task_definition(arn)["ephemeralStorage"] == {"sizeInGiB": 100}
        for region, cluster, name in all_services():
            if (cluster, name) != ("shop-prod", "catalog"):
                assert "ephemeralStorage" not in running(cluster, name, region), (cluster, name)

    # -- VII. Port binding / XI. Logs -------------------------------------------------------------
    def test_legacy_binds_a_fixed_host_port_behind_a_mismatched_health_check(self, scenario):
        web = container(running("legacy", "legacy-monolith", US), "web")
        assert web["portMappings"][0]["hostPort"] == 80
        group = client("elbv2", US).describe_target_groups(Names=["legacy-monolith"])
        assert group["TargetGroups"][0]["HealthCheckPort"] == "8080"

    def test_shop_prod_serves_https_and_redirects_http(self, scenario):
        elbv2 = client("elbv2")
        lb = elbv2.describe_load_balancers(Names=["shop-prod"])["LoadBalancers"][0]
        listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        by_port = {ls["Port"]: ls for ls in listeners}
        assert by_port[443]["Protocol"] == "HTTPS" and by_port[443]["Certificates"]
        assert by_port[80]["DefaultActions"][0]["Type"] == "redirect"

    def test_log_configurations_are_mixed(self, scenario):
        legacy = running("legacy", "legacy-monolith", US)
        assert container(legacy, "web")["logConfiguration"]["logDriver"] == "json-file"
        assert "logConfiguration" not in container(legacy, "mysql")
        reports = container(running("shop-prod", "reports"), "worker")
        assert reports["mountPoints"] == [
            {"sourceVolume": "logs", "containerPath": "/var/log/reports"}
        ]

    def test_log_groups_with_a_kms_key_without_retention_and_one_missing(self, scenario):
        groups = {g["logGroupName"]: g for g in client("logs").describe_log_groups()["logGroups"]}
        assert "/ecs/notifications-worker-prod" not in groups
        key = groups["/ecs/orders-api-prod"]["kmsKeyId"]
        assert groups["/ecs/orders-api-migrate"]["kmsKeyId"] == key
        aliases = {
            a["AliasName"]: a.get("TargetKeyId") for a in client("kms").list_aliases()["Aliases"]
        }
        assert key.endswith(aliases["alias/shop-logs"])
        assert not {"kmsKeyId", "retentionInDays"} & set(groups["/ecs/payments-prod"])


# -- determinism ------------------------------------------------------------------------------
def _identifiers(endpoint_url: str | None = None) -> dict:
    """The generated ARNs and ids of the seeded account."""

    def c(service: str, region: str = EU):
        return client(service, region, endpoint_url)

    ids: dict = {}
    for region in (EU, US):
        ecs = c("ecs", region)
        ids[region, "task_definitions"] = ecs.list_task_definitions()["taskDefinitionArns"]
        for cluster in ecs.list_clusters()["clusterArns"]:
            arns = ecs.list_services(cluster=cluster)["serviceArns"]
            described = ecs.describe_services(cluster=cluster, services=arns)["services"]
            ids[region, cluster] = [
                (s["serviceArn"], s["taskDefinition"], [d["id"] for d in s["deployments"]])
                for s in described
            ]
        ecr = c("ecr", region)
        for repo in ecr.describe_repositories()["repositories"]:
            images = ecr.describe_images(repositoryName=repo["repositoryName"])["imageDetails"]
            ids[region, repo["repositoryUri"]] = sorted(i["imageDigest"] for i in images)
        elbv2 = c("elbv2", region)
        for lb in elbv2.describe_load_balancers()["LoadBalancers"]:
            listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])
            ids[region, lb["LoadBalancerArn"]] = (
                lb["DNSName"],
                lb["AvailabilityZones"],
                [x["ListenerArn"] for x in listeners["Listeners"]],
            )
        ids[region, "target_groups"] = [
            t["TargetGroupArn"] for t in elbv2.describe_target_groups()["TargetGroups"]
        ]
        ids[region, "secrets"] = [
            s["ARN"] for s in c("secretsmanager", region).list_secrets()["SecretList"]
        ]
        ids[region, "rds"] = [
            (d["DbiResourceId"], d["Endpoint"]["Address"])
            for d in c("rds", region).describe_db_instances()["DBInstances"]
        ]
        ids[region, "efs"] = [
            f["FileSystemId"] for f in c("efs", region).describe_file_systems()["FileSystems"]
        ]
        ids[region, "elasticache"] = [
            g["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
            for g in c("elasticache", region).describe_replication_groups()["ReplicationGroups"]
        ]
    codebuild = c("codebuild")
    ids["builds"] = codebuild.list_builds()["ids"]
    ids["codecommit"] = c("codecommit").get_repository(repositoryName="payments")[
        "repositoryMetadata"
    ]["repositoryId"]
    ids["roles"] = [(r["Arn"], r["RoleId"]) for r in c("iam").list_roles()["Roles"]]
    return ids


@pytest.fixture(scope="module")
def seeded_ids() -> dict:
    """The identifiers of one in-process seeding (the mock is gone once this returns)."""
    with clean_environment(), in_process(load_scenario()):
        return _identifiers()


def test_seeding_twice_in_fresh_mocks_gives_identical_ids(seeded_ids):
    with in_process(load_scenario()):
        again = _identifiers()
    assert again == seeded_ids
    assert len(seeded_ids["builds"]) == 3
    assert all(seeded_ids[EU, "elasticache"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_seed_server_plants_the_same_account_over_http(seeded_ids):
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        seed_server(load_scenario(), url)
        ecs = client("ecs", EU, url)
        arn = ecs.describe_services(cluster="shop-staging", services=["catalog"])["services"][0][
            "taskDefinition"
        ]
        td = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        db = client("rds", EU, url).describe_db_instances(DBInstanceIdentifier="catalog-db-prod")
        assert env(td, "app")["DB_HOST"] == db["DBInstances"][0]["Endpoint"]["Address"]
        arn = ecs.describe_services(cluster="shop-prod", services=["notifications-worker"])[
            "services"
        ][0]["taskDefinition"]
        worker = env(ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"], "worker")
        # the URL as AWS spells it, not the server's host:port
        assert worker["QUEUE_URL"] == (
            "https://sqs.eu-west-1.amazonaws.com/123456789012/notifications-prod"
        )
        over_http = _identifiers(url)
    finally:
        server.stop()
    assert over_http == seeded_ids  # same calls, same order, same seed: same ids
