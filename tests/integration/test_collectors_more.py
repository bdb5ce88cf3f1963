"""Build, load-balancing and backing-service collectors against moto, and their inventory tables."""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
from moto import mock_aws

from twelvefactor.aws import AwsAccess, refusal_reason
from twelvefactor.collect import COLLECTORS, collect
from twelvefactor.inventory import SCHEMA, Inventory
from twelvefactor.inventory_more import BOOLEAN_MORE, SCHEMA_MORE
from twelvefactor.settings import Settings

REGION = "eu-west-1"
OTHER = "us-east-1"
BUILD = ["codebuild", "codepipeline", "codecommit"]
STORES = ["rds", "dynamodb", "s3", "elasticache", "sqs", "efs"]
NEW = [*BUILD, "elbv2", *STORES]
#: Planted in a CodeBuild project's PLAINTEXT variables; must never reach a snapshot.
SECRET_KEY = "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm12"  # 40 characters, like AWS's
DB_PASSWORD = "hunter2-but-longer"


def _settings(*regions: str) -> Settings:
    return Settings(regions=regions or (REGION,), redaction_salt="test")


def _collect(services: list[str], *regions: str, deny: tuple[tuple[str, str], ...] = ()):
    settings = _settings(*regions)
    access = AwsAccess(settings, demo_in_process=True)
    for service, operation in deny:
        access.client(service, REGION).meta.events.register(
            f"before-call.{service}.{operation}", _deny(operation)
        )
    snap = collect(access, settings, services=services, source="demo")
    return access, snap, Inventory(snap, settings)


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


def _calls(access: AwsAccess, operation: str) -> int:
    return sum(r["calls"] for r in access.meter.as_records() if r["operation"] == operation)


def _role(name: str, service: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = boto3.client("iam", region_name=REGION)
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _project(codebuild, name: str, role: str, variables=(), **environment) -> None:
    codebuild.create_project(
        name=name,
        source={"type": "GITHUB", "location": f"https://github.com/shop/{name}"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "environmentVariables": list(variables),
            **environment,
        },
        serviceRole=role,
    )


def _seed_build() -> None:
    """Three CodeBuild projects (one with plaintext secrets), two builds, one pipeline."""
    codebuild = boto3.client("codebuild", region_name=REGION)
    role = _role("codebuild-role", "codebuild.amazonaws.com")
    _project(
        codebuild,
        "orders-api-build",
        role,
        [
            {"name": "AWS_SECRET_ACCESS_KEY", "value": SECRET_KEY, "type": "PLAINTEXT"},
            {"name": "DB_PASSWORD", "value": DB_PASSWORD, "type": "PLAINTEXT"},
            {"name": "AWS_REGION", "value": REGION, "type": "PLAINTEXT"},
            {"name": "API_TOKEN", "value": "/shop/prod/api-token", "type": "PARAMETER_STORE"},
        ],
        privilegedMode=True,
    )
    _project(codebuild, "catalog-build", role)
    _project(codebuild, "payments-build", role)
    codebuild.start_build(projectName="orders-api-build")
    codebuild.start_build(projectName="catalog-build")

    pipeline_role = _role("pipeline-role", "codepipeline.amazonaws.com")

    def action(category: str, provider: str, configuration: dict, owner: str = "AWS") -> dict:
        return {
            "name": f"{category}-{provider}",
            "actionTypeId": {
                "category": category,
                "owner": owner,
                "provider": provider,
                "version": "1",
            },
            "configuration": configuration,
        }

    boto3.client("codepipeline", region_name=REGION).create_pipeline(
        pipeline={
            "name": "orders-api-pipeline-prod",
            "roleArn": pipeline_role,
            "artifactStore": {"type": "S3", "location": "shop-artifacts"},
            "stages": [
                {
                    "name": "Source",
                    "actions": [
                        action(
                            "Source",
                            "CodeStarSourceConnection",
                            {
                                "FullRepositoryId": "shop/orders-api",
                                "BranchName": "main",
                                "ConnectionArn": "arn:aws:codeconnections:eu-west-1:"
                                "123456789012:connection/abc",
                            },
                        ),
                        action(
                            "Source",
                            "S3",
                            {"S3Bucket": "shop-config", "S3ObjectKey": "orders/prod.zip"},
                        ),
                    ],
                },
                {
                    "name": "Build",
                    "actions": [action("Build", "CodeBuild", {"ProjectName": "orders-api-build"})],
                },
                {
                    "name": "Deploy",
                    "actions": [
                        action(
                            "Deploy",
                            "ECS",
                            {"ClusterName": "shop-prod", "ServiceName": "orders-api"},
                        )
                    ],
                },
            ],
        }
    )


def test_build_collectors_read_projects_builds_and_pipelines():
    with mock_aws():
        _seed_build()
        access, snap, inv = _collect(BUILD)
    codebuild = snap.get(REGION, "codebuild")
    assert {p["name"] for p in codebuild["projects"]} == {
        "orders-api-build",
        "catalog-build",
        "payments-build",
    }
    assert _calls(access, "BatchGetProjects") == 1  # three projects, one batch
    assert {b["projectName"] for b in codebuild["builds"]} == {"orders-api-build", "catalog-build"}
    assert _calls(access, "BatchGetBuilds") == 1
    (pipeline,) = snap.get(REGION, "codepipeline")["pipelines"]
    assert pipeline["name"] == "orders-api-pipeline-prod"
    assert pipeline["metadata"]["pipelineArn"].endswith(":orders-api-pipeline-prod")
    assert _calls(access, "GetPipeline") == 1

    projects = inv.build_projects.set_index("project")
    orders = projects.loc["orders-api-build"]
    assert orders.plaintext_variables == "AWS_SECRET_ACCESS_KEY, DB_PASSWORD, AWS_REGION"
    assert orders.plaintext_secret_variables == "AWS_SECRET_ACCESS_KEY, DB_PASSWORD"
    assert orders.privileged_mode
    assert (orders.application, orders.source_type) == ("orders-api", "GITHUB")
    assert orders.build_image == "aws/codebuild/standard:7.0"
    assert orders.service_role.endswith(":role/codebuild-role")
    assert projects.loc["catalog-build"].plaintext_secret_variables == ""
    assert not projects.loc["catalog-build"].privileged_mode

    builds = inv.builds.set_index("project")
    assert builds.loc["orders-api-build"].build_status == "SUCCEEDED"
    assert builds.loc["orders-api-build"].application == "orders-api"

    row = inv.pipelines.iloc[0]
    assert (row.pipeline, row.application, row.environment) == (
        "orders-api-pipeline-prod",
        "orders-api",
        "production",
    )
    assert row.source_providers == "CodeStarSourceConnection, S3"
    assert row.source_locations == "shop/orders-api/main, shop-config/orders/prod.zip"
    assert row.build_projects == "orders-api-build"
    assert bool(row.deploys_to_ecs) and row.ecs_targets == "shop-prod/orders-api"
    assert row.stage_count == 3


def test_codecommit_listing_is_recorded_as_unsupported_and_collection_goes_on():
    with mock_aws():
        boto3.client("codecommit", region_name=REGION).create_repository(repositoryName="orders")
        _seed_build()
        _, snap, inv = _collect(BUILD)
    assert snap.manifest["errors"] == [
        {
            "region": REGION,
            "service": "codecommit",
            "operation": "ListRepositories",
            "action": "codecommit:ListRepositories",
            "resource": None,
            "code": "NotImplementedError",
            "kind": "unsupported",
            "message": "The list_repositories action has not been implemented",
        }
    ]
    assert snap.get(REGION, "codecommit") == {"repositories": None}
    assert len(snap.get(REGION, "codebuild")["projects"]) == 3
    assert inv.code_repositories.empty
    assert inv.gaps(["codecommit:ListRepositories"])


def test_plaintext_secrets_in_codebuild_never_reach_the_snapshot(tmp_path):
    with mock_aws():
        _seed_build()
        _, snap, inv = _collect(BUILD)
    in_memory = json.dumps(list(snap.data.values()), default=str) + json.dumps(
        snap.manifest, default=str
    )
    snap.write(tmp_path)
    on_disk = "".join(p.read_text() for p in tmp_path.rglob("*.json"))
    for text in (in_memory, on_disk):
        assert SECRET_KEY not in text
        assert DB_PASSWORD not in text
    variables = {
        v["name"]: v["value"]
        for p in snap.get(REGION, "codebuild")["projects"]
        for v in p["environment"].get("environmentVariables", [])
    }
    assert variables["AWS_SECRET_ACCESS_KEY"].startswith("[REDACTED kind=aws-secret-access-key")
    assert variables["DB_PASSWORD"].startswith("[REDACTED kind=secret-name")
    assert variables["AWS_REGION"] == REGION
    assert variables["API_TOKEN"] == "/shop/prod/api-token"  # a reference, kept
    assert snap.manifest["redactions"]["aws-secret-access-key"] >= 1
    listed = inv.build_projects.set_index("project").loc["orders-api-build"]
    assert "AWS_SECRET_ACCESS_KEY" in listed.plaintext_secret_variables.split(", ")


def test_codebuild_batches_by_100_and_reads_only_the_newest_100_builds():
    sent: list[dict] = []
    with mock_aws():
        codebuild = boto3.client("codebuild", region_name=REGION)
        role = _role("codebuild-role", "codebuild.amazonaws.com")
        for i in range(101):
            _project(codebuild, f"svc-{i:03d}-build", role)
        for _ in range(105):
            codebuild.start_build(projectName="svc-000-build")
        settings = _settings()
        access = AwsAccess(settings, demo_in_process=True)
        access.client("codebuild", REGION).meta.events.register(
            "before-parameter-build.codebuild.ListBuilds", lambda params, **_: sent.append(params)
        )
        snap = collect(access, settings, services=["codebuild"], source="demo")
    assert len(snap.get(REGION, "codebuild")["projects"]) == 101
    assert _calls(access, "BatchGetProjects") == 2  # 100 + 1
    assert len(snap.get(REGION, "codebuild")["builds"]) == 100
    assert _calls(access, "ListBuilds") == 1
    assert _calls(access, "BatchGetBuilds") == 1
    assert sent and all(p.get("sortOrder") == "DESCENDING" for p in sent)


def _seed_elbv2() -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    elb = boto3.client("elbv2", region_name=REGION)
    lb = elb.create_load_balancer(
        Name="shop-public",
        Subnets=subnets,
        Scheme="internet-facing",
        Type="application",
        Tags=[{"Key": "Environment", "Value": "prod"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    sticky = elb.create_target_group(
        Name="cart-web",
        Protocol="HTTP",
        Port=8080,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/health",
    )["TargetGroups"][0]["TargetGroupArn"]
    plain = elb.create_target_group(
        Name="orders-api-prod",
        Protocol="HTTP",
        Port=9000,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/ready",
        Tags=[{"Key": "Application", "Value": "orders-api"}],
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(
        TargetGroupArn=sticky,
        Attributes=[
            {"Key": "stickiness.enabled", "Value": "true"},
            {"Key": "stickiness.type", "Value": "lb_cookie"},
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
        ],
    )
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=8080,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": sticky}],
    )
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=9000,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": plain}],
    )
    return {"lb": lb, "sticky": sticky, "plain": plain}


def test_elbv2_collector_reads_balancers_target_groups_and_listeners():
    with mock_aws():
        arns = _seed_elbv2()
        access, snap, inv = _collect(["elbv2"])
    elbv2 = snap.get(REGION, "elbv2")
    assert [lb["LoadBalancerName"] for lb in elbv2["load_balancers"]] == ["shop-public"]
    assert len(elbv2["listeners"]) == 3
    groups = {tg["TargetGroupName"]: tg for tg in elbv2["target_groups"]}
    assert groups["cart-web"]["attributes"]["stickiness.enabled"] == "true"
    assert groups["orders-api-prod"]["attributes"]["stickiness.enabled"] == "false"
    assert _calls(access, "DescribeTargetGroupAttributes") == 2  # no batch API exists
    assert _calls(access, "DescribeListeners") == 1
    assert _calls(access, "DescribeTags") == 2  # load balancers, then target groups
    assert snap.manifest["errors"] == []

    lb = inv.load_balancers.iloc[0]
    assert (lb.load_balancer_arn, lb.scheme, lb.lb_type) == (
        arns["lb"],
        "internet-facing",
        "application",
    )
    assert lb.environment == "production" and lb.dns_name

    tgs = inv.target_groups.set_index("target_group")
    cart = tgs.loc["cart-web"]
    assert bool(cart.stickiness_enabled) and cart.stickiness_type == "lb_cookie"
    assert cart.deregistration_delay == 30 and cart.port == 8080
    assert (cart.health_check_path, cart.health_check_port) == ("/health", "traffic-port")
    assert cart.load_balancer_arns == arns["lb"]
    assert cart.environment == "production"  # from the load balancer it sits behind
    orders = tgs.loc["orders-api-prod"]
    assert not orders.stickiness_enabled and orders.deregistration_delay == 300
    assert (orders.application, orders.environment) == ("orders-api", "production")

    listeners = inv.listeners.set_index("port")
    assert bool(listeners.loc[80].redirects_to_https)
    assert listeners.loc[80].default_action_types == "redirect"
    assert not listeners.loc[8080].redirects_to_https
    assert listeners.loc[8080].default_action_types == "forward"
    assert set(inv.listeners["environment"]) == {"production"}


def _seed_stores(region: str = REGION) -> None:
    rds = boto3.client("rds", region_name=region)
    rds.create_db_instance(
        DBInstanceIdentifier="orders-db-prod",
        Engine="postgres",
        EngineVersion="15.4",
        DBInstanceClass="db.t3.micro",
        MasterUsername="orders",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        StorageEncrypted=True,
        MultiAZ=True,
        PubliclyAccessible=False,
        Tags=[
            {"Key": "Application", "Value": "orders-api"},
            {"Key": "Environment", "Value": "prod"},
        ],
    )
    rds.create_db_cluster(
        DBClusterIdentifier="catalog-staging",
        Engine="aurora-postgresql",
        MasterUsername="catalog",
        MasterUserPassword="not-a-real-password",
        StorageEncrypted=False,
    )
    rds.create_db_instance(
        DBInstanceIdentifier="catalog-staging-1",
        DBClusterIdentifier="catalog-staging",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r5.large",
    )
    ddb = boto3.client("dynamodb", region_name=region)
    for name in ("carts-prod", "carts-staging"):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    boto3.client("s3", region_name=region).create_bucket(
        Bucket="shop-assets-prod", CreateBucketConfiguration={"LocationConstraint": region}
    )
    cache = boto3.client("elasticache", region_name=region)
    cache.create_cache_cluster(
        CacheClusterId="sessions-prod", Engine="redis", CacheNodeType="cache.t3.micro"
    )
    cache.create_replication_group(
        ReplicationGroupId="cache-staging",
        ReplicationGroupDescription="catalog cache",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheClusters=2,
        AtRestEncryptionEnabled=True,
        TransitEncryptionEnabled=True,
    )
    boto3.client("sqs", region_name=region).create_queue(QueueName="orders-events-prod")
    boto3.client("efs", region_name=region).create_file_system(
        CreationToken="uploads", Encrypted=True, Tags=[{"Key": "Name", "Value": "uploads-prod"}]
    )


def test_datastore_collectors_and_table():
    with mock_aws():
        _seed_stores()
        access, snap, inv = _collect(STORES, REGION, OTHER)
    assert snap.manifest["errors"] == []
    assert {d["DBInstanceIdentifier"] for d in snap.get(REGION, "rds")["db_instances"]} == {
        "orders-db-prod",
        "catalog-staging-1",
    }
    assert len(snap.get(REGION, "rds")["db_clusters"]) == 1
    assert {t["TableName"] for t in snap.get(REGION, "dynamodb")["tables"]} == {
        "carts-prod",
        "carts-staging",
    }
    assert _calls(access, "DescribeTable") == 2
    # S3 is global: listed once, in the first region only
    assert [b["Name"] for b in snap.get(REGION, "s3")["buckets"]] == ["shop-assets-prod"]
    assert snap.get(OTHER, "s3") == {}
    assert _calls(access, "ListBuckets") == 1
    assert len(snap.get(REGION, "elasticache")["replication_groups"]) == 1
    assert len(snap.get(REGION, "sqs")["queue_urls"]) == 1
    assert len(snap.get(REGION, "efs")["file_systems"]) == 1
    for service in ("rds", "dynamodb", "elasticache", "sqs", "efs"):  # nothing in the other region
        assert not any(snap.get(OTHER, service).values()), service

    stores = inv.datastores
    assert list(stores.columns) == SCHEMA["datastores"]
    assert set(stores["region"]) == {REGION}
    by = {(r.kind, r.name): r for r in stores.itertuples()}
    assert sorted(by) == [
        ("dynamodb", "carts-prod"),
        ("dynamodb", "carts-staging"),
        ("efs", "uploads-prod"),
        ("elasticache", "cache-staging"),
        ("elasticache", "sessions-prod"),
        ("rds-cluster", "catalog-staging"),  # its member instance is part of it, not a row
        ("rds-instance", "orders-db-prod"),
        ("s3", "shop-assets-prod"),
        ("sqs", "orders-events-prod"),
    ]

    db = by[("rds-instance", "orders-db-prod")]
    locators = json.loads(db.locators)
    assert locators[0].startswith("orders-db-prod.") and locators[0].endswith(".rds.amazonaws.com")
    assert "orders-db-prod" in locators
    assert (db.engine, db.engine_version) == ("postgres", "15.4")
    assert (db.encrypted, db.multi_az, db.publicly_accessible) == (True, True, False)
    assert (db.application, db.environment) == ("orders-api", "production")  # from tags
    assert json.loads(db.tags) == {"Application": "orders-api", "Environment": "prod"}

    cluster = by[("rds-cluster", "catalog-staging")]
    locators = json.loads(cluster.locators)
    assert any(".cluster-ro-" in x for x in locators) and "catalog-staging-1" in locators
    assert cluster.encrypted is False
    assert (cluster.application, cluster.environment) == ("catalog", "staging")  # from the name

    table = by[("dynamodb", "carts-prod")]
    assert json.loads(table.locators) == [
        "carts-prod",
        f"arn:aws:dynamodb:{REGION}:123456789012:table/carts-prod",
    ]
    assert table.encrypted is True

    bucket = by[("s3", "shop-assets-prod")]
    assert json.loads(bucket.locators) == [
        "shop-assets-prod",
        "s3://shop-assets-prod",
        "shop-assets-prod.s3.amazonaws.com",
    ]
    assert bucket.arn == "arn:aws:s3:::shop-assets-prod" and bucket.encrypted is None

    group = by[("elasticache", "cache-staging")]
    locators = json.loads(group.locators)
    assert any(x.endswith(".cache.amazonaws.com") for x in locators)
    assert "cache-staging" in locators and group.engine == "redis"
    assert group.encrypted is True
    # moto gives single cache clusters no node endpoints and no encryption flags
    sessions = by[("elasticache", "sessions-prod")]
    assert "sessions-prod" in json.loads(sessions.locators) and sessions.encrypted is None

    queue = by[("sqs", "orders-events-prod")]
    arn = f"arn:aws:sqs:{REGION}:123456789012:orders-events-prod"
    assert queue.arn == arn
    locators = json.loads(queue.locators)
    assert locators[0].endswith("/123456789012/orders-events-prod")
    assert locators[1:] == ["orders-events-prod", arn]

    fs = by[("efs", "uploads-prod")]
    assert json.loads(fs.locators)[0].startswith("fs-")
    assert (fs.encrypted, fs.multi_az) == (True, True)
    assert (fs.application, fs.environment) == ("uploads", "production")


def test_a_denied_call_is_recorded_and_the_rest_of_the_service_is_collected():
    with mock_aws():
        _seed_build()
        _seed_elbv2()
        _seed_stores()
        _, snap, inv = _collect(
            ["codebuild", "elbv2", "rds"],
            deny=(
                ("codebuild", "BatchGetProjects"),
                ("elbv2", "DescribeTargetGroupAttributes"),
                ("rds", "DescribeDBInstances"),
            ),
        )
    errors = snap.manifest["errors"]
    assert {(e["action"].split(":")[0], e["operation"], e["kind"]) for e in errors} == {
        ("codebuild", "BatchGetProjects", "access-denied"),
        # named by the IAM action to grant, not the boto3 client
        ("elasticloadbalancing", "DescribeTargetGroupAttributes", "access-denied"),
        ("rds", "DescribeDBInstances", "access-denied"),
    }
    # one error per target group, naming it
    assert len([e for e in errors if e["operation"] == "DescribeTargetGroupAttributes"]) == 2
    assert all(e["resource"] for e in errors if e["service"] == "elbv2")

    codebuild = snap.get(REGION, "codebuild")
    assert codebuild["projects"] == [] and len(codebuild["builds"]) == 2
    elbv2 = snap.get(REGION, "elbv2")
    assert len(elbv2["load_balancers"]) == 1 and len(elbv2["listeners"]) == 3
    assert all(tg["attributes"] is None for tg in elbv2["target_groups"])
    rds = snap.get(REGION, "rds")
    assert rds["db_instances"] is None and len(rds["db_clusters"]) == 1

    assert len(inv.target_groups) == 2 and inv.target_groups["deregistration_delay"].isna().all()
    assert inv.gaps(["elasticloadbalancing:DescribeTargetGroupAttributes"], REGION)
    assert inv.gaps(["rds:DescribeDBInstances"])
    assert list(inv.datastores["kind"]) == ["rds-cluster"]


def test_new_actions_are_reads_and_in_the_policy():
    from twelvefactor.policy import policy_document

    allowed = set(policy_document()["Statement"][0]["Action"])
    for service in NEW:
        actions = COLLECTORS[service].actions
        assert actions, service
        for action in actions:
            assert refusal_reason(action.split(":", 1)[1]) is None, action
            assert action in allowed, action


def test_every_operation_sent_is_a_read():
    with mock_aws():
        _seed_build()
        _seed_elbv2()
        _seed_stores()
        access, _, _ = _collect(NEW)
    operations = {r["operation"] for r in access.meter.as_records()}
    assert len(operations) >= 20
    for operation in operations:
        assert refusal_reason(operation) is None, operation


def test_an_empty_account_gives_empty_tables_with_their_columns():
    with mock_aws():
        _, snap, inv = _collect(NEW, REGION, OTHER)
    for table in SCHEMA_MORE:
        frame = getattr(inv, table)
        assert frame.empty, table
        assert list(frame.columns) == SCHEMA[table] == SCHEMA_MORE[table]
        assert list(frame.columns[:4]) == ["account", "region", "application", "environment"]
        for column in BOOLEAN_MORE.intersection(frame.columns):
            assert frame[column].dtype == bool, (table, column)
            assert frame[frame[column]].empty  # usable as a mask
    assert set(SCHEMA_MORE) <= set(inv.tables())
    # only CodeCommit's listing is missing, and it says so, in every region
    assert {(e["region"], e["service"], e["kind"]) for e in snap.manifest["errors"]} == {
        (REGION, "codecommit", "unsupported"),
        (OTHER, "codecommit", "unsupported"),
    }
