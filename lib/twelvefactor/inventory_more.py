"""Inventory tables for resources beyond ECS and the config stores: build and release, load
balancing, backing services. Mixed into :class:`twelvefactor.inventory.Inventory`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .apps import ENVIRONMENT_TOKENS, GENERIC_TOKENS, Placement, tag_dict
from .redaction import ECS8_NAMES, looks_secret_name, parse_marker

if TYPE_CHECKING:
    import pandas as pd

    from .settings import Settings
    from .snapshot import Snapshot

_BASE = ["account", "region", "application", "environment"]

#: Columns of the tables defined here (merged into inventory.SCHEMA).
SCHEMA_MORE: dict[str, list[str]] = {
    "build_projects": _BASE
    + [
        "project",
        "project_arn",
        "source_type",
        "source_location",
        "plaintext_variables",
        "plaintext_secret_variables",
        "privileged_mode",
        "build_image",
        "service_role",
    ],
    "builds": _BASE
    + [
        "project",
        "build_id",
        "build_status",
        "source_version",
        "resolved_source_version",
        "initiator",
        "start_time",
        "end_time",
    ],
    "pipelines": _BASE
    + [
        "pipeline",
        "source_providers",
        "source_locations",
        "build_projects",
        "deploys_to_ecs",
        "ecs_targets",
        "stage_count",
    ],
    "code_repositories": _BASE
    + ["repository", "repository_arn", "clone_url_http", "default_branch"],
    "load_balancers": _BASE
    + ["load_balancer", "load_balancer_arn", "scheme", "lb_type", "dns_name"],
    "target_groups": _BASE
    + [
        "target_group",
        "target_group_arn",
        "port",
        "protocol",
        "target_type",
        "health_check_path",
        "health_check_port",
        "stickiness_enabled",
        "stickiness_type",
        "deregistration_delay",
        "load_balancer_arns",
    ],
    "listeners": _BASE
    + [
        "load_balancer_arn",
        "listener_arn",
        "port",
        "protocol",
        "default_action_types",
        "redirects_to_https",
    ],
    "datastores": _BASE
    + [
        "kind",
        "name",
        "arn",
        "engine",
        "engine_version",
        "locators",
        "encrypted",
        "multi_az",
        "publicly_accessible",
        "tags",
    ],
}

#: Columns of these tables that are always booleans (False where the data is missing).
#: ``encrypted``, ``multi_az`` and ``publicly_accessible`` are not among them: None says unknown.
BOOLEAN_MORE = {"privileged_mode", "deploys_to_ecs", "redirects_to_https"}

#: Values of ``datastores.kind``.
DATASTORE_KINDS = ("rds-instance", "rds-cluster", "dynamodb", "s3", "elasticache", "sqs", "efs")

#: Name tokens of CI/CD resources that do not name the application ("orders-api-build").
CI_TOKENS = frozenset(
    {"build", "builder", "ci", "cd", "cicd", "codebuild", "pipeline", "deploy", "release", "image"}
)
_SPLIT = re.compile(r"[-_/.:]+")

#: Source actions' configuration keys that locate the code, per provider.
SOURCE_LOCATION_KEYS = {
    "CodeCommit": ("RepositoryName", "BranchName"),
    "CodeStarSourceConnection": ("FullRepositoryId", "BranchName"),
    "S3": ("S3Bucket", "S3ObjectKey"),
    "ECR": ("RepositoryName", "ImageTag"),
    "GitHub": ("Owner", "Repo", "Branch"),  # GitHub version 1 (OAuth) actions
}
ECS_DEPLOY_PROVIDERS = frozenset({"ECS", "CodeDeployToECS"})


def _frame(name: str, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    from .inventory import _frame as core_frame  # one mechanism (BOOLEAN includes BOOLEAN_MORE)

    return core_frame(name, rows)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if value else ""


def _join(values: Iterable[Any]) -> str:
    """Distinct non-empty values, in order, comma-separated."""
    return ", ".join(dict.fromkeys(str(v) for v in values if v))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _stem(name: str) -> str:
    """'orders-api-build-prod' -> 'orders-api': the name without environment and CI tokens."""
    tokens = [t for t in _SPLIT.split(name.lower()) if t]
    ignored = CI_TOKENS | GENERIC_TOKENS | set(ENVIRONMENT_TOKENS)
    return "-".join(t for t in tokens if t not in ignored) or name


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _address(endpoint: Any) -> str:
    """The address of an ``{Address, Port}`` endpoint (RDS and ElastiCache), or ''."""
    return (endpoint or {}).get("Address", "") if isinstance(endpoint, dict) else ""


def _action_type(action: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(category, provider, configuration) of a pipeline action."""
    kind = action.get("actionTypeId") or {}
    return kind.get("category", ""), kind.get("provider", ""), action.get("configuration") or {}


def _source_location(provider: str, configuration: dict[str, Any]) -> str:
    keys = SOURCE_LOCATION_KEYS.get(provider, ())
    return "/".join(str(configuration[k]) for k in keys if configuration.get(k))


class MoreTables:
    """Mixin: cached DataFrame properties, built from ``self.snapshot`` like the core tables."""

    if TYPE_CHECKING:  # provided by Inventory
        snapshot: Snapshot
        settings: Settings
        account: str
        regions: list[str]
        services: pd.DataFrame

        def _place(
            self, name: str, tags: Any, parent: Placement | None = None, **kw: Any
        ) -> Placement: ...

        def _base(self, region: str, placement: Placement) -> dict[str, str]: ...

    # -- helpers ---------------------------------------------------------------------------
    def _place_ci(self, name: str, tags: Any, parent: Placement | None = None) -> Placement:
        """Placement of a build project or pipeline: its name gives the environment, and the
        application when nothing else does, without CI words ('orders-api-build' -> orders-api)."""
        p = self._place(name, tags, parent, name_gives_app=False)
        return p if p.application else Placement(_stem(name), p.environment)

    # -- build and release -----------------------------------------------------------------
    @cached_property
    def build_projects(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for proj in self.snapshot.get(region, "codebuild").get("projects") or []:
                env = proj.get("environment") or {}
                plaintext = [
                    v
                    for v in env.get("environmentVariables") or []
                    if v.get("type", "PLAINTEXT") == "PLAINTEXT"
                ]
                secret = [
                    v.get("name", "")
                    for v in plaintext
                    if parse_marker(v.get("value"))
                    or v.get("name", "") in ECS8_NAMES
                    or looks_secret_name(v.get("name", ""))
                ]
                source = proj.get("source") or {}
                p = self._place_ci(proj["name"], proj.get("tags"))
                rows.append(
                    self._base(region, p)
                    | {
                        "project": proj["name"],
                        "project_arn": proj.get("arn", ""),
                        "source_type": source.get("type", ""),
                        "source_location": source.get("location", ""),
                        "plaintext_variables": _join(v.get("name") for v in plaintext),
                        "plaintext_secret_variables": _join(secret),
                        "privileged_mode": bool(env.get("privilegedMode", False)),
                        "build_image": env.get("image", ""),
                        "service_role": proj.get("serviceRole", ""),
                    }
                )
        return _frame("build_projects", rows)

    @cached_property
    def builds(self) -> pd.DataFrame:
        projects = {
            (r.region, r.project): Placement(r.application, r.environment)
            for r in self.build_projects.itertuples()
        }
        rows = []
        for region in self.regions:
            for build in self.snapshot.get(region, "codebuild").get("builds") or []:
                project = build.get("projectName", "")
                p = projects.get((region, project)) or self._place_ci(project, None)
                rows.append(
                    self._base(region, p)
                    | {
                        "project": project,
                        "build_id": build.get("id", ""),
                        "build_status": build.get("buildStatus", ""),
                        "source_version": build.get("sourceVersion", ""),
                        "resolved_source_version": build.get("resolvedSourceVersion", ""),
                        "initiator": build.get("initiator", ""),
                        "start_time": build.get("startTime", ""),
                        "end_time": build.get("endTime", ""),
                    }
                )
        return _frame("builds", rows)

    @cached_property
    def pipelines(self) -> pd.DataFrame:
        # a pipeline that deploys an ECS service belongs where that service belongs
        ecs_services = {
            (r.region, r.cluster, r.service): Placement(r.application, r.environment)
            for r in self.services.itertuples()
        }
        rows = []
        for region in self.regions:
            for pipe in self.snapshot.get(region, "codepipeline").get("pipelines") or []:
                actions = [
                    _action_type(a)
                    for stage in pipe.get("stages") or []
                    for a in stage.get("actions") or []
                ]
                sources = [(prov, cfg) for cat, prov, cfg in actions if cat == "Source"]
                builds = [
                    cfg.get("ProjectName")
                    for cat, prov, cfg in actions
                    if cat == "Build" and prov == "CodeBuild"
                ]
                deploys = [(prov, cfg) for _, prov, cfg in actions if prov in ECS_DEPLOY_PROVIDERS]
                targets = [
                    (cfg["ClusterName"], cfg["ServiceName"])
                    for prov, cfg in deploys
                    if prov == "ECS" and cfg.get("ClusterName") and cfg.get("ServiceName")
                ]
                deployed = [
                    ecs_services[(region, *t)] for t in targets if (region, *t) in ecs_services
                ]
                # one pipeline promoting through staging and production has no one environment
                parent = (
                    Placement(
                        deployed[0].application,
                        deployed[0].environment
                        if len({d.environment for d in deployed}) == 1
                        else "",
                    )
                    if deployed
                    else None
                )
                p = self._place_ci(pipe["name"], None, parent)
                rows.append(
                    self._base(region, p)
                    | {
                        "pipeline": pipe["name"],
                        "source_providers": _join(prov for prov, _ in sources),
                        "source_locations": _join(
                            _source_location(prov, cfg) for prov, cfg in sources
                        ),
                        "build_projects": _join(builds),
                        "deploys_to_ecs": bool(deploys),
                        "ecs_targets": _join(f"{c}/{svc}" for c, svc in targets),
                        "stage_count": len(pipe.get("stages") or []),
                    }
                )
        return _frame("pipelines", rows)

    @cached_property
    def code_repositories(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for repo in self.snapshot.get(region, "codecommit").get("repositories") or []:
                name = repo.get("repositoryName", "")
                p = self._place(name, None)
                if not p.application:
                    p = Placement(name, p.environment)
                rows.append(
                    self._base(region, p)
                    | {
                        "repository": name,
                        "repository_arn": repo.get("Arn", ""),
                        "clone_url_http": repo.get("cloneUrlHttp", ""),
                        "default_branch": repo.get("defaultBranch", ""),
                    }
                )
        return _frame("code_repositories", rows)

    # -- load balancing --------------------------------------------------------------------
    @cached_property
    def load_balancers(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for lb in self.snapshot.get(region, "elbv2").get("load_balancers") or []:
                p = self._place(lb["LoadBalancerName"], lb.get("Tags"))
                rows.append(
                    self._base(region, p)
                    | {
                        "load_balancer": lb["LoadBalancerName"],
                        "load_balancer_arn": lb["LoadBalancerArn"],
                        "scheme": lb.get("Scheme", ""),
                        "lb_type": lb.get("Type", ""),
                        "dns_name": lb.get("DNSName", ""),
                    }
                )
        return _frame("load_balancers", rows)

    @cached_property
    def _load_balancer_placement(self) -> dict[str, Placement]:
        return {
            r.load_balancer_arn: Placement(r.application, r.environment)
            for r in self.load_balancers.itertuples()
        }

    @cached_property
    def target_groups(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for tg in self.snapshot.get(region, "elbv2").get("target_groups") or []:
                lb_arns = tg.get("LoadBalancerArns") or []
                lb = next(
                    (
                        self._load_balancer_placement[a]
                        for a in lb_arns
                        if a in self._load_balancer_placement
                    ),
                    Placement(),
                )
                # a load balancer is often shared by applications: only its environment carries
                p = self._place(
                    tg["TargetGroupName"], tg.get("Tags"), Placement("", lb.environment)
                )
                attributes = tg.get("attributes") or {}
                rows.append(
                    self._base(region, p)
                    | {
                        "target_group": tg["TargetGroupName"],
                        "target_group_arn": tg["TargetGroupArn"],
                        "port": tg.get("Port"),
                        "protocol": tg.get("Protocol", ""),
                        "target_type": tg.get("TargetType", ""),
                        "health_check_path": tg.get("HealthCheckPath", ""),
                        "health_check_port": tg.get("HealthCheckPort", ""),
                        # None when the attributes could not be read: unknown is not "off"
                        "stickiness_enabled": (
                            attributes.get("stickiness.enabled") == "true"
                            if "stickiness.enabled" in attributes
                            else None
                        ),
                        "stickiness_type": attributes.get("stickiness.type", ""),
                        "deregistration_delay": _int(
                            attributes.get("deregistration_delay.timeout_seconds")
                        ),
                        "load_balancer_arns": _join(lb_arns),
                    }
                )
        return _frame("target_groups", rows)

    @cached_property
    def listeners(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for ls in self.snapshot.get(region, "elbv2").get("listeners") or []:
                lb_arn = ls.get("LoadBalancerArn", "")
                p = self._load_balancer_placement.get(lb_arn, Placement())
                actions = ls.get("DefaultActions") or []
                rows.append(
                    self._base(region, p)
                    | {
                        "load_balancer_arn": lb_arn,
                        "listener_arn": ls.get("ListenerArn", ""),
                        "port": ls.get("Port"),
                        "protocol": ls.get("Protocol", ""),
                        "default_action_types": _join(a.get("Type") for a in actions),
                        "redirects_to_https": any(
                            a.get("Type") == "redirect"
                            and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS"
                            for a in actions
                        ),
                    }
                )
        return _frame("listeners", rows)

    # -- backing services ------------------------------------------------------------------
    @cached_property
    def datastores(self) -> pd.DataFrame:
        """Every attached resource, one row each, with the strings that would locate it."""
        rows = []
        for region in self.regions:
            for store in self._datastores_in(region):
                tags = tag_dict(store.pop("raw_tags"))
                p = self._place(store.pop("place_as") or store["name"], tags)
                locators = list(dict.fromkeys(str(x) for x in store.pop("locators") if x))
                rows.append(
                    self._base(region, p)
                    | store
                    | {"locators": json.dumps(locators), "tags": _json(tags)}
                )
        return _frame("datastores", rows)

    def _datastores_in(self, region: str) -> Iterable[dict[str, Any]]:
        def row(kind: str, name: str, arn: str, locators: list[Any], **kw: Any) -> dict[str, Any]:
            return {
                "kind": kind,
                "name": name,
                "arn": arn,
                "engine": kw.get("engine") or "",
                "engine_version": kw.get("engine_version") or "",
                "locators": locators,
                "encrypted": kw.get("encrypted"),
                "multi_az": kw.get("multi_az"),
                "publicly_accessible": kw.get("publicly_accessible"),
                "raw_tags": kw.get("tags"),
                "place_as": kw.get("place_as"),  # the name placement reads, when not ``name``
            }

        def flag(value: Any) -> bool | None:
            return value if isinstance(value, bool) else None

        get = self.snapshot.get
        # RDS: an Aurora (or Multi-AZ DB) cluster is one resource; its member instances'
        # endpoints locate it too
        clusters = get(region, "rds").get("db_clusters") or []
        members: dict[str, list[str]] = {}
        instances = []
        cluster_ids = {c.get("DBClusterIdentifier") for c in clusters}
        for db in get(region, "rds").get("db_instances") or []:
            if db.get("DBClusterIdentifier") in cluster_ids:
                members.setdefault(db["DBClusterIdentifier"], []).extend(
                    [_address(db.get("Endpoint")), db.get("DBInstanceIdentifier")]
                )
                continue
            instances.append(
                row(
                    "rds-instance",
                    db["DBInstanceIdentifier"],
                    db.get("DBInstanceArn", ""),
                    [_address(db.get("Endpoint")), db["DBInstanceIdentifier"]],
                    engine=db.get("Engine"),
                    engine_version=db.get("EngineVersion"),
                    encrypted=flag(db.get("StorageEncrypted")),
                    multi_az=flag(db.get("MultiAZ")),
                    publicly_accessible=flag(db.get("PubliclyAccessible")),
                    tags=db.get("TagList"),
                )
            )
        yield from instances
        for c in clusters:
            name = c["DBClusterIdentifier"]
            yield row(
                "rds-cluster",
                name,
                c.get("DBClusterArn", ""),
                [c.get("Endpoint"), c.get("ReaderEndpoint"), name, *members.get(name, [])],
                engine=c.get("Engine"),
                engine_version=c.get("EngineVersion"),
                encrypted=flag(c.get("StorageEncrypted")),
                multi_az=flag(c.get("MultiAZ")),
                publicly_accessible=flag(c.get("PubliclyAccessible")),
                tags=c.get("TagList"),
            )

        for t in get(region, "dynamodb").get("tables") or []:
            yield row(
                "dynamodb",
                t["TableName"],
                t.get("TableArn", ""),
                [t["TableName"], t.get("TableArn")],
                # DynamoDB always encrypts at rest (no SSEDescription: an AWS owned key)
                encrypted=True,
            )

        for b in get(region, "s3").get("buckets") or []:
            name = b["Name"]
            yield row(
                "s3",
                name,
                f"arn:{_partition(region)}:s3:::{name}",
                [name, f"s3://{name}", f"{name}.s3.amazonaws.com"],
            )

        # ElastiCache: a replication group is one resource, its member clusters' nodes locate it
        elasticache = get(region, "elasticache")
        groups = elasticache.get("replication_groups") or []
        group_ids = {g.get("ReplicationGroupId") for g in groups}
        member_nodes: dict[str, list[str]] = {}
        for cc in elasticache.get("cache_clusters") or []:
            nodes = [_address(n.get("Endpoint")) for n in cc.get("CacheNodes") or []]
            locators = [_address(cc.get("ConfigurationEndpoint")), *nodes, cc["CacheClusterId"]]
            if cc.get("ReplicationGroupId") in group_ids:
                member_nodes.setdefault(cc["ReplicationGroupId"], []).extend(locators)
                continue
            az = cc.get("PreferredAvailabilityZone")
            yield row(
                "elasticache",
                cc["CacheClusterId"],
                cc.get("ARN", ""),
                locators,
                engine=cc.get("Engine"),
                engine_version=cc.get("EngineVersion"),
                encrypted=flag(cc.get("AtRestEncryptionEnabled")),
                multi_az=None if not az else az == "Multiple",
            )
        for g in groups:
            gid = g["ReplicationGroupId"]
            node_groups = g.get("NodeGroups") or []
            endpoints = [_address(g.get("ConfigurationEndpoint"))]
            for ng in node_groups:
                endpoints += [
                    _address(ng.get("PrimaryEndpoint")),
                    _address(ng.get("ReaderEndpoint")),
                ]
                endpoints += [
                    _address(m.get("ReadEndpoint")) for m in ng.get("NodeGroupMembers") or []
                ]
            multi_az = g.get("MultiAZ")
            yield row(
                "elasticache",
                gid,
                g.get("ARN", ""),
                [*endpoints, gid, *member_nodes.get(gid, [])],
                engine=g.get("Engine"),
                engine_version=g.get("EngineVersion"),
                encrypted=flag(g.get("AtRestEncryptionEnabled")),
                multi_az=None if multi_az is None else multi_az == "enabled",
            )

        for url in get(region, "sqs").get("queue_urls") or []:
            parts = url.rstrip("/").split("/")
            name = parts[-1]
            owner = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else self.account
            arn = f"arn:{_partition(region)}:sqs:{region}:{owner}:{name}"
            yield row("sqs", name, arn, [url, name, arn], place_as=name.removesuffix(".fifo"))

        for fs in get(region, "efs").get("file_systems") or []:
            fid = fs["FileSystemId"]
            yield row(
                "efs",
                fs.get("Name") or fid,
                fs.get("FileSystemArn", ""),
                [fid],
                encrypted=flag(fs.get("Encrypted")),
                # One Zone file systems name their zone; regional ones span several
                multi_az="AvailabilityZoneName" not in fs,
                tags=fs.get("Tags"),
            )
