"""Seed the demo scenario into moto, deterministically (fixed random seed, fixed call order).

Works around moto's known gaps here, never in the audit code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config

from ..aws import DEMO_CREDENTIALS
from .scenario import Scenario

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


class DemoClients:
    """Writable clients for the mocked account only (never the audit's read-only access)."""

    def __init__(self, endpoint_url: str | None):
        self.endpoint_url = endpoint_url
        self.session = boto3.session.Session(**DEMO_CREDENTIALS)
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str):
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
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


def _manifest(repo: str, tag: str) -> str:
    def digest(text: str) -> str:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    # moto derives the image digest from the layer digests: keep them unique per image
    layers = [
        {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 1_000_000 * (i + 1) + len(repo) * 1000 + len(tag),
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
                "size": 1500,
                "digest": digest(f"{repo}:{tag}:config"),
            },
            "layers": layers,
        }
    )


class Seeder:
    def __init__(self, scenario: Scenario, clients: DemoClients):
        self.scenario = scenario
        self.clients = clients
        self.repo_uris: dict[tuple[str, str], str] = {}
        self.digests: dict[tuple[str, str, str], str] = {}
        self.secret_arns: dict[tuple[str, str], str] = {}

    def run(self) -> None:
        for region in self.scenario.regions:
            spec = self.scenario.resources.get(region, {})
            self.ecr(region, spec.get("repositories", []))
            self.ssm(region, spec.get("parameters", []))
            self.secrets(region, spec.get("secrets", []))
            self.logs(region, spec.get("log_groups", []))
            self.ecs(region, spec)

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
            for tag in repo.get("images", []):
                image = ecr.put_image(
                    repositoryName=repo["name"],
                    imageManifest=_manifest(repo["name"], tag),
                    imageTag=tag,
                )["image"]
                self.digests[(region, repo["name"], tag)] = image["imageId"]["imageDigest"]

    def ssm(self, region: str, parameters: list[dict[str, Any]]) -> None:
        ssm = self.clients("ssm", region)
        for p in parameters:
            ssm.put_parameter(Name=p["name"], Value=p["value"], Type=p.get("type", "String"))

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
        for g in groups:
            logs.create_log_group(logGroupName=g["name"])
            if g.get("retention_days"):
                logs.put_retention_policy(
                    logGroupName=g["name"], retentionInDays=g["retention_days"]
                )

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

    def ecs(self, region: str, spec: dict[str, Any]) -> None:
        ecs = self.clients("ecs", region)
        account = self.scenario.account
        for c in spec.get("clusters", []):
            ecs.create_cluster(
                clusterName=c["name"],
                tags=_tags(c.get("tags")),
                settings=[
                    {"name": "containerInsights", "value": c.get("container_insights", "disabled")}
                ],
            )
        arns: dict[str, str] = {}
        for td in spec.get("task_definitions", []):
            network_mode = td.get("network_mode", "awsvpc")
            containers = []
            for c in td["containers"]:
                container: dict[str, Any] = {
                    "name": c["name"],
                    "image": self.image(region, c["image"]),
                    "essential": True,
                    # moto's run_task needs container-level memory (a moto gap, not an AWS rule)
                    "memoryReservation": 256,
                    "environment": [
                        {"name": k, "value": str(v)} for k, v in c.get("environment", {}).items()
                    ],
                    "secrets": [
                        {"name": k, "valueFrom": self.secret_ref(region, v)}
                        for k, v in c.get("secrets", {}).items()
                    ],
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": f"/ecs/{td['family']}",
                            "awslogs-region": region,
                            "awslogs-stream-prefix": c["name"],
                        },
                    },
                }
                if c.get("port"):
                    container["portMappings"] = [
                        {"containerPort": c["port"], "protocol": "tcp"}
                        | ({"hostPort": c["port"]} if network_mode == "awsvpc" else {})
                    ]
                if c.get("command"):
                    container["command"] = c["command"]
                containers.append(container)
            kwargs: dict[str, Any] = {
                "family": td["family"],
                "networkMode": network_mode,
                "containerDefinitions": containers,
                "executionRoleArn": f"arn:aws:iam::{account}:role/ecsTaskExecutionRole",
                "taskRoleArn": f"arn:aws:iam::{account}:role/{td['family']}-task",
                "cpu": str(td.get("cpu", 256)),
                "memory": str(td.get("memory", 512)),
            }
            if network_mode == "awsvpc":
                kwargs["requiresCompatibilities"] = ["FARGATE"]
            if td.get("tags"):
                kwargs["tags"] = _tags(td["tags"])
            resp = ecs.register_task_definition(**kwargs)
            arns[td["family"]] = resp["taskDefinition"]["taskDefinitionArn"]
        for s in spec.get("services", []):
            ecs.create_service(
                cluster=s["cluster"],
                serviceName=s["name"],
                taskDefinition=arns[s["task_definition"]],
                desiredCount=s.get("desired_count", 1),
                launchType=s.get("launch_type", "FARGATE"),
                tags=_tags(s.get("tags")),
            )


def _reseed_moto(seed: int) -> None:
    from moto.moto_api._internal import mock_random

    mock_random.seed(seed)


@contextlib.contextmanager
def in_process(scenario: Scenario) -> Iterator[None]:
    """moto in this process, seeded with the scenario; AWS calls inside the block hit the demo."""
    from moto import mock_aws

    with mock_aws():
        _reseed_moto(scenario.seed)
        Seeder(scenario, DemoClients(None)).run()
        yield


def seed_server(scenario: Scenario, endpoint_url: str) -> None:
    """Reset a moto server (e.g. on 127.0.0.1) and seed the scenario into it."""
    base = endpoint_url.rstrip("/")
    for path in ("/moto-api/reset", f"/moto-api/seed?a={scenario.seed}"):
        req = urllib.request.Request(base + path, method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10):  # noqa: S310 - a local moto server
            pass
    Seeder(scenario, DemoClients(base)).run()
