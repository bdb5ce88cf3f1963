"""Seed the demo scenario into moto, deterministically (fixed random seed, fixed call order).

Works around moto's known gaps here, never in the audit code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import re
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config

from ..aws import DEMO_CREDENTIALS
from .scenario import Scenario
from .seed_runtime import RuntimeSeeding

log = logging.getLogger(__name__)

LIFECYCLE_POLICY = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "keep the last 30 images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
            "action": {"type": "expire"},
        }
    ]
}


#: moto's CodeBuild rejects a project without source.location, even of type NO_SOURCE (AWS takes
#: none): "InvalidInputException: Project source location is required". This stands in for it.
NO_SOURCE_LOCATION = "none"

#: A locator reference, as a whole value: "rds:orders-db-prod", "sqs:notifications-prod" ...
LOCATOR_RE = re.compile(r"^(rds|dynamodb|s3|sqs|elasticache|efs):([A-Za-z0-9][A-Za-z0-9._-]*)$")


class DemoClients:
    """Writable clients for the mocked account only (never the audit's read-only access)."""

    #: One session per kind of target (in-process moto, a server) for every seeding in this
    #: process: its loader keeps the parsed service models (most of the time of a second seeding
    #: otherwise). Sessions are not thread-safe: the lock. In-process moto intercepts only sessions
    #: created after moto registered its hook, so a session made earlier for a server (moto not yet
    #: imported) must never be reused in-process.
    _sessions: dict[bool, boto3.session.Session] = {}
    _lock = threading.Lock()

    def __init__(self, endpoint_url: str | None):
        self.endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str):
        key = (service, region)
        if key not in self._clients:
            in_process = self.endpoint_url is None
            with DemoClients._lock:
                if in_process not in DemoClients._sessions:
                    if in_process:
                        import moto.core.models  # noqa: F401 - registers moto's botocore hook
                    DemoClients._sessions[in_process] = boto3.session.Session(**DEMO_CREDENTIALS)
                self._clients[key] = DemoClients._sessions[in_process].client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=botocore.config.Config(
                        ignore_configured_endpoint_urls=self.endpoint_url is None
                    ),
                )
        return self._clients[key]


def _tags(tags: dict[str, str] | None, key: str = "key", value: str = "value") -> list[dict]:
    return [{key: k, value: v} for k, v in (tags or {}).items()]


@contextlib.contextmanager
def _stdlib_random(seed: str) -> Iterator[None]:
    """Seed Python's ``random`` for one call, then restore it.

    moto's ElastiCache draws the replication group's endpoint name from ``random``, not from its
    seeded ``mock_random`` (``master.<id>.<6 random chars>.use1.cache.amazonaws.com``). Works
    in-process and with a ThreadedMotoServer in this process, not with a separate moto server.
    """
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def _manifest(repo: str, tag: str, size_mb: int | None = None) -> str:
    """An image manifest; ``size_mb`` is the image size ECR reports (moto reads it from the
    config's size; the layers add up to it as well), 1500 bytes when not given."""

    def digest(text: str) -> str:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    # moto derives the image digest from the layer digests: keep them unique per image
    layers = [
        {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": size_mb * 1024 * 1024 // 3
            if size_mb
            else 1_000_000 * (i + 1) + len(repo) * 1000 + len(tag),
            "digest": digest(f"{repo}:{tag}:layer{i}"),
        }
        for i in range(3)
    ]
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": size_mb * 1024 * 1024 if size_mb else 1500,
                "digest": digest(f"{repo}:{tag}:config"),
            },
            "layers": layers,
        }
    )


class Seeder(RuntimeSeeding):
    def __init__(self, scenario: Scenario, clients: DemoClients):
        self.scenario = scenario
        self.clients = clients
        self.repo_uris: dict[tuple[str, str], str] = {}
        self.digests: dict[tuple[str, str, str], str] = {}
        self.secret_arns: dict[tuple[str, str], str] = {}
        #: (region, kind, name) -> the value a locator reference stands for
        self.locators: dict[tuple[str, str, str], str] = {}
        self.target_groups: dict[tuple[str, str], str] = {}
        #: (region, family) -> ARNs of its revisions, in order
        self.revisions: dict[tuple[str, str], list[str]] = {}

    def run(self) -> None:
        for region in self.scenario.regions:
            spec = self.scenario.resources.get(region, {})
            self.backing_services(region, spec)
            self.ecr(region, spec.get("repositories", []))
            self.registry_scanning(region, spec.get("registry_scanning"))
            self.ssm(region, spec.get("parameters", []))
            self.secrets(region, spec.get("secrets", []))
            self.logs(region, spec.get("log_groups", []))
            self.network(region, spec)
            self.cloud_map(region, spec.get("cloud_map"))
            self.load_balancers(region, spec.get("load_balancers", []))
            self.ecs(region, spec)
            self.scaling(region, spec.get("scaling", []))
            self.schedules(region, spec.get("schedules", []))
            self.tasks(region, spec.get("tasks", []))
            self.delivery(region, spec)

    # -- references --------------------------------------------------------------------------
    def locate(self, region: str, value: Any) -> Any:
        """The value a locator reference ("rds:ID" ...) stands for; anything else unchanged."""
        if isinstance(value, dict):
            return {k: self.locate(region, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.locate(region, v) for v in value]
        match = LOCATOR_RE.match(value) if isinstance(value, str) else None
        if not match:
            return value
        key = (region, match[1], match[2])
        if key not in self.locators:
            raise ValueError(
                f"scenario: {value!r} refers to no {match[1]} resource declared in {region}"
            )
        return self.locators[key]

    # -- IV. backing services ------------------------------------------------------------------
    def backing_services(self, region: str, spec: dict[str, Any]) -> None:
        self.databases(region, spec.get("databases", []))
        self.tables(region, spec.get("tables", []))
        self.buckets(region, spec.get("buckets", []))
        self.queues(region, spec.get("queues", []))
        self.caches(region, spec.get("caches", []))
        self.file_systems(region, spec.get("file_systems", []))

    def databases(self, region: str, databases: list[dict[str, Any]]) -> None:
        rds = self.clients("rds", region) if databases else None
        for db in databases:
            # the password is given, not managed by RDS: moto names a managed master secret
            # "rds!db-<uuid4>" from an unseeded uuid (not deterministic)
            instance = rds.create_db_instance(
                DBInstanceIdentifier=db["id"],
                Engine=db["engine"],
                EngineVersion=db["engine_version"],
                DBInstanceClass=db["instance_class"],
                AllocatedStorage=db.get("storage_gib", 50),
                MasterUsername=db["username"],
                MasterUserPassword=db["password"],
                StorageEncrypted=True,
                MultiAZ=db.get("multi_az", False),
                PubliclyAccessible=False,
                EnableIAMDatabaseAuthentication=db.get("iam_auth", False),
                BackupRetentionPeriod=7,
                Tags=_tags(db.get("tags"), "Key", "Value"),
            )["DBInstance"]
            self.locators[(region, "rds", db["id"])] = instance["Endpoint"]["Address"]

    def tables(self, region: str, tables: list[dict[str, Any]]) -> None:
        ddb = self.clients("dynamodb", region) if tables else None
        for t in tables:
            table = ddb.create_table(
                TableName=t["name"],
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                SSESpecification={"Enabled": True},
                Tags=_tags(t.get("tags"), "Key", "Value"),
            )["TableDescription"]
            self.locators[(region, "dynamodb", t["name"])] = table["TableName"]

    def buckets(self, region: str, buckets: list[dict[str, Any]]) -> None:
        s3 = self.clients("s3", region) if buckets else None
        for b in buckets:
            kwargs: dict[str, Any] = {"Bucket": b["name"]}
            if region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**kwargs)
            # moto has no default encryption (AWS does, since 2023): set it, or every bucket
            # looks unencrypted
            s3.put_bucket_encryption(
                Bucket=b["name"],
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
            s3.put_public_access_block(
                Bucket=b["name"],
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
            if b.get("tags"):
                s3.put_bucket_tagging(
                    Bucket=b["name"], Tagging={"TagSet": _tags(b["tags"], "Key", "Value")}
                )
            self.locators[(region, "s3", b["name"])] = b["name"]

    def queues(self, region: str, queues: list[dict[str, Any]]) -> None:
        sqs = self.clients("sqs", region) if queues else None
        for q in queues:
            url = sqs.create_queue(QueueName=q["name"], tags=q.get("tags") or {})["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            # the URL as AWS spells it: a moto server answers with its own host:port instead
            _, _, _, arn_region, account, name = arn.split(":", 5)
            self.locators[(region, "sqs", q["name"])] = (
                f"https://sqs.{arn_region}.amazonaws.com/{account}/{name}"
            )

    def caches(self, region: str, caches: list[dict[str, Any]]) -> None:
        elasticache = self.clients("elasticache", region) if caches else None
        for c in caches:
            nodes = c.get("nodes", 1)
            with _stdlib_random(f"{self.scenario.seed}:{region}:{c['id']}"):
                group = elasticache.create_replication_group(
                    ReplicationGroupId=c["id"],
                    ReplicationGroupDescription=f"{c['id']} (Redis)",
                    Engine="redis",
                    CacheNodeType=c.get("node_type", "cache.t4g.small"),
                    NumCacheClusters=nodes,
                    AutomaticFailoverEnabled=nodes > 1,
                    AtRestEncryptionEnabled=True,
                    TransitEncryptionEnabled=True,
                    Tags=_tags(c.get("tags"), "Key", "Value"),
                )["ReplicationGroup"]
            address = group["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
            self.locators[(region, "elasticache", c["id"])] = address

    def file_systems(self, region: str, file_systems: list[dict[str, Any]]) -> None:
        efs = self.clients("efs", region) if file_systems else None
        for f in file_systems:
            fs = efs.create_file_system(
                CreationToken=f["name"],
                Encrypted=True,
                PerformanceMode="generalPurpose",
                Tags=_tags({"Name": f["name"], **(f.get("tags") or {})}, "Key", "Value"),
            )
            self.locators[(region, "efs", f["name"])] = fs["FileSystemId"]

    # -- ECR, SSM, Secrets Manager, Logs -------------------------------------------------------
    def ecr(self, region: str, repositories: list[dict[str, Any]]) -> None:
        ecr = self.clients("ecr", region)
        for repo in repositories:
            resp = ecr.create_repository(
                repositoryName=repo["name"],
                imageTagMutability=repo.get("mutability", "MUTABLE"),
                imageScanningConfiguration={"scanOnPush": repo.get("scan_on_push", False)},
                tags=_tags(repo.get("tags"), "Key", "Value"),
            )
            self.repo_uris[(region, repo["name"])] = resp["repository"]["repositoryUri"]
            if repo.get("lifecycle_policy"):
                ecr.put_lifecycle_policy(
                    repositoryName=repo["name"], lifecyclePolicyText=json.dumps(LIFECYCLE_POLICY)
                )
            for image in repo.get("images", []):
                tags = [image] if isinstance(image, str) else list(image)
                # one manifest per image, named after its first tag; each further tag is the
                # same manifest pushed again (moto: same digest, one more tag)
                manifest = _manifest(repo["name"], tags[0], repo.get("image_mb"))
                for tag in tags:
                    pushed = ecr.put_image(
                        repositoryName=repo["name"], imageManifest=manifest, imageTag=tag
                    )["image"]
                    self.digests[(region, repo["name"], tag)] = pushed["imageId"]["imageDigest"]

    def registry_scanning(self, region: str, config: dict[str, Any] | None) -> None:
        if not config:
            return
        self.clients("ecr", region).put_registry_scanning_configuration(
            scanType=config.get("type", "BASIC"),
            rules=[
                {
                    "scanFrequency": rule["frequency"],
                    "repositoryFilters": [
                        {"filter": f, "filterType": "WILDCARD"} for f in rule["filters"]
                    ],
                }
                for rule in config.get("rules", [])
            ],
        )

    def ssm(self, region: str, parameters: list[dict[str, Any]]) -> None:
        ssm = self.clients("ssm", region)
        for p in parameters:
            ssm.put_parameter(
                Name=p["name"],
                Value=self.locate(region, p["value"]),
                Type=p.get("type", "String"),
            )

    def secrets(self, region: str, secrets: list[dict[str, Any]]) -> None:
        sm = self.clients("secretsmanager", region)
        for s in secrets:
            arn = sm.create_secret(
                Name=s["name"], SecretString=s["value"], Tags=_tags(s.get("tags"), "Key", "Value")
            )["ARN"]
            self.secret_arns[(region, s["name"])] = arn
            if s.get("rotation_days"):
                # moto only reflects rotation given as AutomaticallyAfterDays
                sm.rotate_secret(
                    SecretId=arn, RotationRules={"AutomaticallyAfterDays": s["rotation_days"]}
                )

    def logs(self, region: str, groups: list[dict[str, Any]]) -> None:
        logs = self.clients("logs", region)
        keys: dict[str, str] = {}
        for g in groups:
            alias = g.get("kms_key")  # "kms_key: ALIAS": encrypted with that KMS key
            if alias and alias not in keys:
                kms = self.clients("kms", region)
                keys[alias] = kms.create_key(Description=alias)["KeyMetadata"]["Arn"]
                kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=keys[alias])
            logs.create_log_group(
                logGroupName=g["name"], **({"kmsKeyId": keys[alias]} if alias else {})
            )
            if g.get("retention_days"):
                logs.put_retention_policy(
                    logGroupName=g["name"], retentionInDays=g["retention_days"]
                )

    # -- VI. load balancers --------------------------------------------------------------------
    def load_balancers(self, region: str, balancers: list[dict[str, Any]]) -> None:
        if not balancers:
            return
        # the default VPC (moto creates it on the first EC2 call of a region: keep this call
        # at a fixed point of the sequence); an ALB needs subnets in two zones
        subnets = self.clients("ec2", region).describe_subnets(
            Filters=[{"Name": "default-for-az", "Values": ["true"]}]
        )["Subnets"]
        subnets.sort(key=lambda s: s["AvailabilityZone"])
        vpc_id = subnets[0]["VpcId"]
        elbv2 = self.clients("elbv2", region)
        for lb in balancers:
            lb_arn = elbv2.create_load_balancer(
                Name=lb["name"],
                Subnets=[s["SubnetId"] for s in subnets[:2]],
                Scheme="internet-facing",
                Type="application",
            )["LoadBalancers"][0]["LoadBalancerArn"]
            tg_arns = []
            for tg in lb.get("target_groups", []):
                tg_arn = elbv2.create_target_group(
                    Name=tg["name"],
                    Protocol="HTTP",
                    Port=tg["port"],
                    VpcId=vpc_id,
                    TargetType=tg.get("target_type", "ip"),
                    HealthCheckPath=tg.get("health_check_path", "/"),
                    HealthCheckPort=str(tg.get("health_check_port", "traffic-port")),
                )["TargetGroups"][0]["TargetGroupArn"]
                if tg.get("attributes"):
                    elbv2.modify_target_group_attributes(
                        TargetGroupArn=tg_arn,
                        Attributes=[
                            {"Key": k, "Value": str(v)} for k, v in tg["attributes"].items()
                        ],
                    )
                self.target_groups[(region, tg["name"])] = tg_arn
                tg_arns.append(tg_arn)
            # listeners: [{port, protocol, redirect}] (HTTP redirecting to HTTPS, or forwarding
            # to the first target group); by default one HTTP listener on listener_port
            listeners = lb.get("listeners") or (
                [{"port": lb.get("listener_port", 80), "protocol": "HTTP"}] if tg_arns else []
            )
            for ls in listeners:
                kwargs: dict[str, Any] = {
                    "LoadBalancerArn": lb_arn,
                    "Protocol": ls.get("protocol", "HTTP"),
                    "Port": ls["port"],
                }
                if ls.get("redirect"):
                    kwargs["DefaultActions"] = [
                        {
                            "Type": "redirect",
                            "RedirectConfig": {
                                "Protocol": "HTTPS",
                                "Port": "443",
                                "StatusCode": "HTTP_301",
                            },
                        }
                    ]
                else:
                    kwargs["DefaultActions"] = [{"Type": "forward", "TargetGroupArn": tg_arns[0]}]
                if kwargs["Protocol"] == "HTTPS":
                    kwargs["Certificates"] = [{"CertificateArn": self.certificate(region, lb)}]
                elbv2.create_listener(**kwargs)

    def certificate(self, region: str, lb: dict[str, Any]) -> str:
        """An ACM certificate for an HTTPS listener (moto issues it at once)."""
        acm = self.clients("acm", region)
        return acm.request_certificate(DomainName=lb.get("domain", f"{lb['name']}.shop.example"))[
            "CertificateArn"
        ]

    # -- ECS -------------------------------------------------------------------------------
    def image(self, region: str, ref: str) -> str:
        if not ref.startswith("ecr:"):
            return ref
        body = ref.removeprefix("ecr:")
        if "@" in body:
            repo, tag = body.split("@", 1)
            return f"{self.repo_uris[(region, repo)]}@{self.digests[(region, repo, tag)]}"
        repo, tag = body.rsplit(":", 1)
        return f"{self.repo_uris[(region, repo)]}:{tag}"

    def secret_ref(self, region: str, ref: str) -> str:
        account = self.scenario.account
        kind, _, name = ref.partition(":")
        if kind == "sm":
            return self.secret_arns[(region, name)]
        if kind == "sm-missing":
            return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-Gone42"
        if kind == "ssm":
            return f"arn:aws:ssm:{region}:{account}:parameter{name}"
        return ref

    def container(
        self, region: str, family: str, network_mode: str, c: dict[str, Any], image: str
    ) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": c["name"],
            "image": self.image(region, image),
            "essential": c.get("essential", True),
            # moto's run_task needs container-level memory (a moto gap, not an AWS rule)
            "memoryReservation": 256,
            "environment": [
                {"name": k, "value": str(self.locate(region, v))}
                for k, v in c.get("environment", {}).items()
            ],
            "secrets": [
                {"name": k, "valueFrom": self.secret_ref(region, v)}
                for k, v in c.get("secrets", {}).items()
            ],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": f"/ecs/{family}",
                    "awslogs-region": region,
                    "awslogs-stream-prefix": c["name"],
                },
            },
        }
        if c.get("port"):
            host_port = c["port"] if network_mode in ("awsvpc", "host") else c.get("host_port")
            container["portMappings"] = [
                {"containerPort": c["port"], "protocol": "tcp"}
                | ({"hostPort": host_port} if host_port else {})
            ]
        if c.get("command"):
            container["command"] = c["command"]
        if c.get("readonly_root"):
            container["readonlyRootFilesystem"] = True
        if c.get("mounts"):
            container["mountPoints"] = [
                {"sourceVolume": volume, "containerPath": path}
                for volume, path in c["mounts"].items()
            ]
        if c.get("links"):
            container["links"] = c["links"]
        return _merge(container, self.locate(region, c.get("extra") or {}))

    def task_definition(
        self, region: str, td: dict[str, Any], images: dict[str, str] | None = None
    ) -> str:
        """Register one revision of ``td`` (with ``images`` overriding containers' images)."""
        account = self.scenario.account
        network_mode = td.get("network_mode", "awsvpc")
        images = images or {}
        unknown = set(images) - {c["name"] for c in td["containers"]}
        if unknown:
            raise ValueError(f"scenario: {td['family']} has no container {sorted(unknown)}")
        kwargs: dict[str, Any] = {
            "family": td["family"],
            "networkMode": network_mode,
            "containerDefinitions": [
                self.container(
                    region, td["family"], network_mode, c, images.get(c["name"], c["image"])
                )
                for c in td["containers"]
            ],
            "executionRoleArn": f"arn:aws:iam::{account}:role/ecsTaskExecutionRole",
            "taskRoleArn": f"arn:aws:iam::{account}:role/{td['family']}-task",
            "cpu": str(td.get("cpu", 256)),
            "memory": str(td.get("memory", 512)),
        }
        if network_mode == "awsvpc":
            kwargs["requiresCompatibilities"] = ["FARGATE"]
        if td.get("volumes"):
            kwargs["volumes"] = self.locate(region, td["volumes"])
        if td.get("ephemeral_storage_gib"):
            kwargs["ephemeralStorage"] = {"sizeInGiB": td["ephemeral_storage_gib"]}
        if td.get("tags"):
            kwargs["tags"] = _tags(td["tags"])
        kwargs = _merge(kwargs, self.locate(region, td.get("extra") or {}))
        resp = self.clients("ecs", region).register_task_definition(**kwargs)
        return resp["taskDefinition"]["taskDefinitionArn"]

    def ecs(self, region: str, spec: dict[str, Any]) -> None:
        ecs = self.clients("ecs", region)
        for c in spec.get("clusters", []):
            ecs.create_cluster(
                clusterName=c["name"],
                tags=_tags(c.get("tags")),
                settings=[
                    {"name": "containerInsights", "value": c.get("container_insights", "disabled")}
                ],
                **({"configuration": c["configuration"]} if c.get("configuration") else {}),
            )
            self.hosts(region, c["name"], c.get("hosts", []))
        for td in spec.get("task_definitions", []):
            arns = self.revisions.setdefault((region, td["family"]), [])
            arns.append(self.task_definition(region, td))
            for images in td.get("revisions", []):
                arns.append(self.task_definition(region, td, images))
        for s in spec.get("services", []):
            family, _, number = s["task_definition"].partition(":")
            arns = self.revisions[(region, family)]
            kwargs: dict[str, Any] = {
                "cluster": s["cluster"],
                "serviceName": s["name"],
                "taskDefinition": arns[int(number) - 1] if number else arns[-1],
                "desiredCount": s.get("desired_count", 1),
                "launchType": s.get("launch_type", "FARGATE"),
                "tags": _tags(s.get("tags")),
            }
            if s.get("load_balancer"):
                lb = s["load_balancer"]
                kwargs["loadBalancers"] = [
                    {
                        "targetGroupArn": self.target_groups[(region, lb["target_group"])],
                        "containerName": lb["container"],
                        "containerPort": lb["port"],
                    }
                ]
            if s.get("network"):
                kwargs["networkConfiguration"] = self.network_configuration(region, s["network"])
            if s.get("registry"):
                kwargs["serviceRegistries"] = [
                    {"registryArn": self.registry_arn(region, s["registry"])}
                ]
            if s.get("platform_version"):
                kwargs["platformVersion"] = s["platform_version"]
            ecs.create_service(**kwargs)
            if s.get("extra"):
                # fields moto's create_service drops (enableExecuteCommand,
                # healthCheckGracePeriodSeconds, ...) are stored by update_service
                ecs.update_service(cluster=s["cluster"], service=s["name"], **s["extra"])
            if s.get("deployment"):
                # moto's create_service silently drops deploymentConfiguration (describe_services
                # then has none); update_service stores it. Side effect in moto: the cluster's
                # pendingTasksCount loses this service's desired count.
                d = s["deployment"]
                ecs.update_service(
                    cluster=s["cluster"],
                    service=s["name"],
                    deploymentConfiguration={
                        "deploymentCircuitBreaker": {
                            "enable": d.get("circuit_breaker", False),
                            "rollback": d.get("rollback", False),
                        },
                        "maximumPercent": d.get("maximum_percent", 200),
                        "minimumHealthyPercent": d.get("minimum_healthy_percent", 100),
                    },
                )

    # -- I / V. source, build, pipeline ---------------------------------------------------------
    def delivery(self, region: str, spec: dict[str, Any]) -> None:
        account = self.scenario.account
        for name in spec.get("code_repositories", []):
            self.clients("codecommit", region).create_repository(repositoryName=name)
        for p in spec.get("build_projects", []):
            codebuild = self.clients("codebuild", region)
            source = dict(p["source"])
            if source["type"] == "NO_SOURCE":
                source.setdefault("location", NO_SOURCE_LOCATION)
            else:
                source.setdefault("buildspec", "buildspec.yml")
            codebuild.create_project(
                name=p["name"],
                source=source,
                artifacts={"type": "NO_ARTIFACTS"},
                environment={
                    "type": "LINUX_CONTAINER",
                    "image": "aws/codebuild/standard:7.0",
                    "computeType": "BUILD_GENERAL1_SMALL",
                    "privilegedMode": True,  # docker build
                    "environmentVariables": [
                        {
                            "name": v["name"],
                            "value": self.secret_ref(region, str(v["value"]))
                            if v["type"] == "SECRETS_MANAGER"
                            else str(v["value"]),
                            "type": v["type"],
                        }
                        for v in p.get("environment_variables", [])
                    ],
                },
                serviceRole=f"arn:aws:iam::{account}:role/codebuild-{p['name']}",
                tags=_tags(p.get("tags")),
            )
            for version in p.get("builds", []):
                codebuild.start_build(projectName=p["name"], sourceVersion=version)
        for p in spec.get("pipelines", []):
            self.pipeline(region, p)

    def pipeline(self, region: str, p: dict[str, Any]) -> None:
        account = self.scenario.account
        # moto validates the role: it must exist and trust codepipeline.amazonaws.com
        role_arn = self.clients("iam", region).create_role(
            RoleName=f"codepipeline-{p['name']}",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "codepipeline.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        connection = hashlib.sha256(f"{account}:{p['source']['repository']}".encode()).hexdigest()
        connection_id = "-".join(
            connection[a:b] for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
        )

        def action(category: str, provider: str, name: str, **extra: Any) -> dict[str, Any]:
            return {
                "name": name,
                "actionTypeId": {
                    "category": category,
                    "owner": "AWS",
                    "provider": provider,
                    "version": "1",
                },
                **extra,
            }

        source = p["source"]
        stages = [
            {
                "name": "Source",
                "actions": [
                    action(
                        "Source",
                        "CodeStarSourceConnection",
                        "Source",
                        configuration={
                            "ConnectionArn": f"arn:aws:codestar-connections:{region}:{account}:"
                            f"connection/{connection_id}",
                            "FullRepositoryId": source["repository"],
                            "BranchName": source["branch"],
                            "OutputArtifactFormat": "CODE_ZIP",
                        },
                        outputArtifacts=[{"name": "source"}],
                    )
                ],
            },
            {
                "name": "Build",
                "actions": [
                    action(
                        "Build",
                        "CodeBuild",
                        "Build",
                        configuration={"ProjectName": p["build_project"]},
                        inputArtifacts=[{"name": "source"}],
                        outputArtifacts=[{"name": "image"}],
                    )
                ],
            },
            {
                "name": "Deploy",
                "actions": [
                    action(
                        "Deploy",
                        "ECS",
                        d["cluster"],
                        runOrder=i,
                        configuration={
                            "ClusterName": d["cluster"],
                            "ServiceName": d["service"],
                            "FileName": "imagedefinitions.json",
                        },
                        inputArtifacts=[{"name": "image"}],
                    )
                    for i, d in enumerate(p["deploy"], start=1)
                ],
            },
        ]
        self.clients("codepipeline", region).create_pipeline(
            pipeline={
                "name": p["name"],
                "roleArn": role_arn,
                "artifactStore": {
                    "type": "S3",
                    "location": self.locate(region, p["artifact_bucket"]),
                },
                "pipelineType": "V2",
                "triggers": [
                    {
                        "providerType": "CodeStarSourceConnection",
                        "gitConfiguration": {
                            "sourceActionName": "Source",
                            "push": [{"branches": {"includes": [source["branch"]]}}],
                        },
                    }
                ],
                "stages": stages,
            },
            tags=_tags(p.get("tags")),
        )


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the keys of ``extra`` set (None removes a key): the scenario's ``extra`` is
    written in the API's own shape."""
    out = dict(base)
    for key, value in extra.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _reseed_moto(seed: int) -> None:
    from moto.moto_api._internal import mock_random

    mock_random.seed(seed)


@contextlib.contextmanager
def in_process(scenario: Scenario) -> Iterator[None]:
    """moto in this process, seeded with the scenario; AWS calls inside the block hit the demo."""
    from moto import mock_aws

    global _in_process_depth
    with mock_aws():
        _reseed_moto(scenario.seed)
        Seeder(scenario, DemoClients(None)).run()
        _in_process_depth += 1
        try:
            yield
        finally:
            _in_process_depth -= 1


#: How many ``in_process`` blocks are open: the demo's writable clients may only be used there
#: (or against the demo server on 127.0.0.1), see ``twelvefactor.demo.tryit``.
_in_process_depth = 0


def in_process_active() -> bool:
    """True inside ``in_process``: AWS calls in this process reach the mocked demo account."""
    return _in_process_depth > 0


def seed_server(scenario: Scenario, endpoint_url: str) -> None:
    """Reset a moto server (e.g. on 127.0.0.1) and seed the scenario into it."""
    base = endpoint_url.rstrip("/")
    for path in ("/moto-api/reset", f"/moto-api/seed?a={scenario.seed}"):
        req = urllib.request.Request(base + path, method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10):  # noqa: S310 - a local moto server
            pass
    Seeder(scenario, DemoClients(base)).run()
