"""Tidy DataFrames with stable columns, built from a Snapshot.

Every row carries account, region, application and environment. Columns are fixed per table (see
``SCHEMA``) so an empty account gives empty frames with the same columns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Any

import pandas as pd

from .apps import Placement, place, split_hierarchy, tag_dict
from .collect.ecs import family_revision, task_definition_arn
from .inventory_more import BOOLEAN_MORE, SCHEMA_MORE, MoreTables
from .inventory_runtime import BOOLEAN_RUNTIME, SCHEMA_RUNTIME, RuntimeTables
from .redaction import ECS8_NAMES, is_reference, looks_secret_name, parse_marker
from .settings import Settings
from .snapshot import Snapshot

BASE = ["account", "region", "application", "environment"]
#: One row of an inventory table, read-only (see ``Inventory.rows``).
Row = Mapping[str, Any]
SCHEMA: dict[str, list[str]] = {
    "clusters": BASE + ["cluster", "cluster_arn", "status", "container_insights", "tags"],
    "services": BASE
    + [
        "cluster",
        "service",
        "service_arn",
        "task_definition_arn",
        "desired_count",
        "running_count",
        "active",
        "launch_type",
        "tags",
        "circuit_breaker",
        "rollback",
        "deployment_alarms",
        "minimum_healthy_percent",
        "maximum_percent",
        "deployment_controller",
        "scheduling_strategy",
        "target_group_arns",
        "container_ports",
        "service_registries",
        "assign_public_ip",
        "health_check_grace_period",
        "running_revision",
        "latest_revision",
        "revisions_behind",
    ],
    "task_definitions": BASE
    + [
        "family",
        "revision",
        "task_definition_arn",
        "network_mode",
        "in_use",
        "latest",
        "services",
        "execution_role_arn",
        "task_role_arn",
        "tags",
        "host_volumes",
        "docker_volumes",
        "efs_volumes",
        "ephemeral_storage_gib",
        "pid_mode",
        "ipc_mode",
        "requires_compatibilities",
        "cpu",
        "memory",
        "active_revisions",
        "latest_revision",
    ],
    "containers": BASE
    + [
        "family",
        "revision",
        "task_definition_arn",
        "in_use",
        "container",
        "image",
        "essential",
        "env_count",
        "secret_count",
        "env_files",
        "image_source",
        "image_registry",
        "image_repository",
        "image_tag",
        "image_digest",
        "image_account",
        "image_region",
        "command",
        "entry_point",
        "readonly_root_filesystem",
        "privileged",
        "user",
        "mount_points",
        "port_mappings",
        "has_health_check",
        "log_driver",
    ],
    "environment": BASE
    + [
        "family",
        "revision",
        "task_definition_arn",
        "in_use",
        "container",
        "name",
        "value",
        "redacted_kind",
        "secret_name",
        "ecs8_name",
        "reference",
    ],
    "secret_refs": BASE
    + [
        "family",
        "revision",
        "task_definition_arn",
        "in_use",
        "container",
        "name",
        "value_from",
        "store",
        "target_region",
        "target_account",
        "target_name",
    ],
    "parameters": BASE
    + [
        "name",
        "type",
        "key_id",
        "tier",
        "version",
        "last_modified",
        "hierarchy_key",
        "secret_name",
    ],
    "secrets": BASE
    + [
        "name",
        "secret_arn",
        "rotation_enabled",
        "rotation_days",
        "last_rotated",
        "last_changed",
        "kms_key_id",
        "tags",
    ],
    "repositories": BASE
    + [
        "repository",
        "repository_arn",
        "repository_uri",
        "tag_mutability",
        "scan_on_push",
        "encryption",
        "has_lifecycle_policy",
        "image_count",
        "tags",
    ],
    "images": BASE + ["repository", "digest", "tags", "size_bytes", "pushed_at"],
    "log_groups": BASE
    + ["log_group", "log_group_arn", "retention_days", "kms_key_id", "stored_bytes"],
    "errors": ["account", "region", "service", "operation", "resource", "code", "kind", "message"],
    **SCHEMA_MORE,
    **SCHEMA_RUNTIME,
    "api_calls": ["service", "operation", "calls", "errors", "retries", "seconds"],
}


#: Columns that are always booleans (an empty frame must still mask correctly with them).
BOOLEAN = (
    {
        "active",
        "in_use",
        "latest",
        "essential",
        "secret_name",
        "ecs8_name",
        "reference",
        "rotation_enabled",
        "scan_on_push",
        "has_lifecycle_policy",
        # ECS services: deployment safety
        "circuit_breaker",
        "rollback",
        "deployment_alarms",
        # ECS containers
        "readonly_root_filesystem",
        "privileged",
        "has_health_check",
    }
    | BOOLEAN_MORE
    | BOOLEAN_RUNTIME
)


def _frame(name: str, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=SCHEMA[name])
    for column in BOOLEAN.intersection(frame.columns):
        frame[column] = frame[column].fillna(False).astype(bool)
    return frame


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if value else ""


def _json_list(items: Iterable[Any]) -> str:
    """A JSON list, "[]" when empty (unlike ``_json``, always parses)."""
    return json.dumps(list(items), sort_keys=True)


# -- container images ------------------------------------------------------------------------
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
#: ECR private registry hosts: <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn] and the
#: dual-stack <account>.dkr-ecr[-fips].<region>.on.aws.
ECR_HOST_RE = re.compile(
    r"^(?P<account>\d{12})\.(?:dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"|dkr-ecr(?:-fips)?\.(?P<region2>[a-z0-9-]+)\.on\.aws)$"
)
#: First path segments of ECR repositories that are pull-through caches of an upstream registry
#: (the console's default namespaces and their usual spellings).
PULL_THROUGH_PREFIXES = frozenset(
    {
        "docker-hub",
        "dockerhub",
        "ecr-public",
        "quay",
        "ghcr",
        "github",
        "k8s",
        "kubernetes",
        "azure",
        "gitlab",
    }
)
IMAGE_FIELDS = (
    "image_source",
    "image_registry",
    "image_repository",
    "image_tag",
    "image_digest",
    "image_account",
    "image_region",
)


def parse_image(image: str) -> dict[str, str]:
    """Where a container image comes from, split into the ``image_*`` columns.

    ``image_source`` is one of ``private-ecr``, ``ecr-pull-through`` (an ECR repository whose
    first path segment names an upstream registry: docker-hub/, ecr-public/, quay/ ...),
    ``public-ecr`` (public.ecr.aws), ``docker-hub`` (no registry host, or docker.io) and
    ``other-registry``; "" for an empty image. The first path segment is a registry host, as
    Docker reads it, when it holds a "." or ":", is "localhost" or has upper case letters.
    Docker Hub official images get their implicit "library/" namespace. Tag and digest are ""
    when absent; an image may carry both ("repo:tag@sha256:..."). Account and region are set
    for images in an ECR private registry (own repositories and pull-through caches).
    """
    out = dict.fromkeys(IMAGE_FIELDS, "")
    name = (image or "").strip()
    if not name:
        return out
    name, _, out["image_digest"] = name.partition("@")
    first, slash, rest = name.partition("/")
    if slash and (
        any(ch in first for ch in ".:") or first == "localhost" or first != first.lower()
    ):
        registry, name = first, rest
    else:
        registry = ""
    path, _, last = name.rpartition("/")
    last, _, out["image_tag"] = last.partition(":")
    repository = f"{path}/{last}" if path else last
    if not registry or registry.lower() in DOCKER_HUB_HOSTS:
        out |= {
            "image_source": "docker-hub",
            "image_registry": "docker.io",
            "image_repository": repository if "/" in repository else f"library/{repository}",
        }
        return out
    out |= {"image_registry": registry, "image_repository": repository}
    ecr = ECR_HOST_RE.match(registry.lower())
    if ecr:
        namespace, nested, _ = repository.partition("/")
        out |= {
            "image_source": "ecr-pull-through"
            if nested and namespace in PULL_THROUGH_PREFIXES
            else "private-ecr",
            "image_account": ecr["account"],
            "image_region": ecr["region"] or ecr["region2"],
        }
    elif registry.lower() == "public.ecr.aws":
        out["image_source"] = "public-ecr"
    else:
        out["image_source"] = "other-registry"
    return out


SM_VIA_SSM = "/aws/reference/secretsmanager/"


def parse_value_from(value_from: str, region: str, account: str) -> dict[str, str]:
    """Where a container ``secrets[].valueFrom`` points: store, region, account and name.

    Stores: ``ssm``, ``secretsmanager`` (also when reached through
    /aws/reference/secretsmanager/), another service's name, or ``invalid``.
    """

    def target(store: str, target_region: str, target_account: str, name: str) -> dict[str, str]:
        if store == "ssm" and name.startswith(SM_VIA_SSM):
            store, name = "secretsmanager", name.removeprefix(SM_VIA_SSM)
        return {
            "store": store,
            "target_region": target_region,
            "target_account": target_account,
            "target_name": name,
        }

    if not value_from.startswith("arn:"):
        # a bare name is an SSM parameter in the task's own region and account
        return target("ssm", region, account, value_from)
    parts = value_from.split(":")
    if len(parts) < 6 or (parts[2] == "secretsmanager" and len(parts) < 7):
        return target("invalid", region, account, value_from)
    service, target_region, target_account = parts[2], parts[3], parts[4]
    if service == "ssm":
        return target(
            "ssm", target_region, target_account, ":".join(parts[5:]).removeprefix("parameter")
        )
    if service == "secretsmanager":
        # arn:aws:secretsmanager:region:acct:secret:NAME-AbCdEf[:json-key:stage:version]
        return target("secretsmanager", target_region, target_account, parts[6])
    return target(service, target_region, target_account, ":".join(parts[5:]))


class Inventory(MoreTables, RuntimeTables):
    """The account as DataFrames. Build it with ``Inventory(snapshot, settings)``."""

    def __init__(self, snapshot: Snapshot, settings: Settings):
        self.snapshot = snapshot
        self.settings = settings
        self.account = snapshot.account
        self.regions = snapshot.regions
        self._rows: dict[tuple[str, tuple[str, ...]], Any] = {}  # see rows() and rows_by()

    # -- lookups for checks ----------------------------------------------------------------
    def rows(self, table: str) -> list[Row]:
        """The rows of ``table`` as read-only mappings, in the table's order (built once per run).

        A check that looks at one resource at a time reads these rather than the DataFrame:
        ``frame.iterrows()`` and boolean masks cost a fixed few hundred microseconds per call,
        which a loop over resources turns into seconds. A row reads like a Series
        (``row["service"]``, ``row.get(...)``); every check shares it, so it cannot be changed:
        ``row.copy()`` (or ``dict(row)``) gives a dict to change.
        """
        key = (table, ())
        if key not in self._rows:
            records = getattr(self, table).to_dict("records")
            self._rows[key] = [MappingProxyType(r) for r in records]
        return self._rows[key]

    def rows_by(self, table: str, *keys: str) -> dict[Any, list[Row]]:
        """The rows of ``table`` grouped by the values of ``keys`` (built once per run).

        ``inv.rows_by("containers", "task_definition_arn")[arn]`` are the containers of one task
        definition, in table order; a key is a value for one column and a tuple for several. A
        value that has no rows is absent (use ``.get(key, [])``), and a missing value (NaN)
        matches nothing, as with ``frame[frame[column] == value]``. This is the index that turns
        a filter of a whole table per resource (quadratic in the account's size) into a lookup.
        """
        if not keys:
            raise ValueError("rows_by needs at least one column to group by")
        index_key = (table, keys)
        if index_key not in self._rows:
            groups: dict[Any, list[Row]] = {}
            for row in self.rows(table):
                value = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
                groups.setdefault(value, []).append(row)
            self._rows[index_key] = groups
        return self._rows[index_key]

    # -- helpers ---------------------------------------------------------------------------
    def _place(self, name: str, tags: Any, parent: Placement | None = None, **kw) -> Placement:
        return place(name, tag_dict(tags), self.settings, parent or Placement(), **kw)

    def _base(self, region: str, placement: Placement) -> dict[str, str]:
        return {
            "account": self.account,
            "region": region,
            "application": placement.application,
            "environment": placement.environment,
        }

    def gaps(self, actions: Iterable[str], region: str | None = None) -> list[dict[str, Any]]:
        """Collection errors that hit any of ``actions`` (IAM "service:Operation"), per region.

        A collector that crashed ("service:*") hits every action of its service.
        """
        from .aws import iam_action

        wanted = {a.lower() for a in actions}
        out = []
        for e in self.snapshot.manifest.get("errors", []):
            action = (e.get("action") or iam_action(e["service"], e["operation"])).lower()
            prefix = action.split(":", 1)[0]
            hit = action in wanted or (
                action.endswith(":*") and any(a.startswith(prefix + ":") for a in wanted)
            )
            if hit and (region is None or e["region"] == region):
                out.append(e)
        return out

    # -- ECS -------------------------------------------------------------------------------
    @cached_property
    def clusters(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for c in self.snapshot.get(region, "ecs").get("clusters", []):
                p = self._place(c["clusterName"], c.get("tags"))
                settings = {s["name"]: s["value"] for s in c.get("settings", [])}
                rows.append(
                    self._base(region, p)
                    | {
                        "cluster": c["clusterName"],
                        "cluster_arn": c["clusterArn"],
                        "status": c.get("status", ""),
                        "container_insights": settings.get("containerInsights", ""),
                        "tags": _json(tag_dict(c.get("tags"))),
                    }
                )
        return _frame("clusters", rows)

    @cached_property
    def _cluster_placement(self) -> dict[str, Placement]:
        return {
            r.cluster_arn: Placement(r.application, r.environment)
            for r in self.clusters.itertuples()
        }

    @cached_property
    def services(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for s in self.snapshot.get(region, "ecs").get("services", []):
                parent = self._cluster_placement.get(s.get("clusterArn", ""), Placement())
                # a service's application is its own name; only its environment may come from
                # the cluster it runs in
                p = self._place(s["serviceName"], s.get("tags"), Placement("", parent.environment))
                if not p.application:
                    p = Placement(s["serviceName"], p.environment)
                rows.append(
                    self._base(region, p)
                    | {
                        "cluster": s.get("clusterArn", "").rsplit("/", 1)[-1],
                        "service": s["serviceName"],
                        "service_arn": s["serviceArn"],
                        "task_definition_arn": task_definition_arn(
                            s["taskDefinition"], region, self.account
                        )
                        if s.get("taskDefinition")
                        else "",
                        "desired_count": s.get("desiredCount", 0),
                        "running_count": s.get("runningCount", 0),
                        # a service scaled to zero runs nothing: its task definition is not "in use"
                        "active": s.get("status", "ACTIVE") == "ACTIVE"
                        and (s.get("desiredCount", 0) > 0 or s.get("runningCount", 0) > 0),
                        "launch_type": s.get("launchType", ""),
                        "tags": _json(tag_dict(s.get("tags"))),
                    }
                    | self._service_deployment(region, s)
                )
        return _frame("services", rows)

    def _service_deployment(self, region: str, s: dict[str, Any]) -> dict[str, Any]:
        """How a service rolls out, is reached, and how far its revision trails its family."""
        config = s.get("deploymentConfiguration") or {}
        breaker = config.get("deploymentCircuitBreaker") or {}
        balancers = s.get("loadBalancers") or []
        awsvpc = (s.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        running = latest = behind = None
        if s.get("taskDefinition"):
            family, running = family_revision(s["taskDefinition"])
            revisions = (self._active_revisions.get(region) or {}).get(family)
            latest = max(revisions) if revisions else running
            behind = latest - running
        return {
            "circuit_breaker": bool(breaker.get("enable", False)),
            "rollback": bool(breaker.get("rollback", False)),
            "deployment_alarms": bool((config.get("alarms") or {}).get("enable", False)),
            "minimum_healthy_percent": config.get("minimumHealthyPercent"),
            "maximum_percent": config.get("maximumPercent"),
            "deployment_controller": (s.get("deploymentController") or {}).get("type") or "ECS",
            "scheduling_strategy": s.get("schedulingStrategy", ""),
            "target_group_arns": _json_list(
                b["targetGroupArn"] for b in balancers if b.get("targetGroupArn")
            ),
            "container_ports": _json_list(
                {"containerName": b.get("containerName"), "containerPort": b.get("containerPort")}
                for b in balancers
            ),
            "service_registries": len(s.get("serviceRegistries") or []),
            "assign_public_ip": awsvpc.get("assignPublicIp", ""),
            "health_check_grace_period": s.get("healthCheckGracePeriodSeconds"),
            "running_revision": running,
            "latest_revision": latest,
            "revisions_behind": behind,
        }

    @cached_property
    def _active_revisions(self) -> dict[str, dict[str, list[int]] | None]:
        """Per region, the ACTIVE revisions of every family; None when they were not listed."""
        out: dict[str, dict[str, list[int]] | None] = {}
        for region in self.regions:
            arns = self.snapshot.get(region, "ecs").get("active_task_definition_arns")
            if arns is None:
                out[region] = None
                continue
            families: dict[str, list[int]] = {}
            for arn in arns:
                family, revision = family_revision(arn)
                families.setdefault(family, []).append(revision)
            out[region] = families
        return out

    @cached_property
    def _task_definitions_raw(
        self,
    ) -> list[tuple[str, dict[str, Any], Placement, bool, list[str], bool]]:
        users: dict[str, list[tuple[str, Placement]]] = {}
        for r in self.services[self.services["active"]].itertuples():
            users.setdefault(r.task_definition_arn, []).append(
                (r.service, Placement(r.application, r.environment))
            )
        out = []
        for region in self.regions:
            ecs = self.snapshot.get(region, "ecs")
            latest: dict[str, int] = {}
            for arn in ecs.get("active_task_definition_arns") or []:
                family, revision = family_revision(arn)
                latest[family] = max(latest.get(family, 0), revision)
            for td in ecs.get("task_definitions", []):
                arn = td["taskDefinitionArn"]
                services = users.get(arn, [])
                parent = services[0][1] if services else Placement()
                p = self._place(td["family"], td.get("tags"), parent)
                if not p.application:
                    p = Placement(td["family"], p.environment)
                is_latest = latest.get(td["family"]) == td["revision"]
                out.append((region, td, p, bool(services), [s for s, _ in services], is_latest))
        return out

    @cached_property
    def task_definitions(self) -> pd.DataFrame:
        rows = []
        for region, td, p, in_use, services, is_latest in self._task_definitions_raw:
            rows.append(
                self._base(region, p)
                | {
                    "family": td["family"],
                    "revision": td["revision"],
                    "task_definition_arn": td["taskDefinitionArn"],
                    "network_mode": td.get("networkMode", ""),
                    "in_use": in_use,
                    "latest": is_latest,
                    "services": ", ".join(services),
                    "execution_role_arn": td.get("executionRoleArn", ""),
                    "task_role_arn": td.get("taskRoleArn", ""),
                    "tags": _json(tag_dict(td.get("tags"))),
                }
                | self._task_definition_runtime(region, td)
            )
        return _frame("task_definitions", rows)

    def _task_definition_runtime(self, region: str, td: dict[str, Any]) -> dict[str, Any]:
        """Volumes, host namespaces, size, and the family's ACTIVE revisions."""
        volumes = td.get("volumes") or []
        families = self._active_revisions.get(region)
        revisions = (families or {}).get(td["family"])
        return {
            "host_volumes": _json_list(
                v["host"]["sourcePath"] for v in volumes if (v.get("host") or {}).get("sourcePath")
            ),
            "docker_volumes": _json_list(
                {
                    "name": v.get("name", ""),
                    "scope": d.get("scope", ""),
                    "autoprovision": bool(d.get("autoprovision", False)),
                    "driver": d.get("driver", ""),
                }
                for v in volumes
                if (d := v.get("dockerVolumeConfiguration")) is not None
            ),
            "efs_volumes": _json_list(
                {
                    "name": v.get("name", ""),
                    "fileSystemId": e.get("fileSystemId", ""),
                    "transitEncryption": e.get("transitEncryption", "DISABLED"),
                }
                for v in volumes
                if (e := v.get("efsVolumeConfiguration")) is not None
            ),
            "ephemeral_storage_gib": (td.get("ephemeralStorage") or {}).get("sizeInGiB"),
            "pid_mode": td.get("pidMode", ""),
            "ipc_mode": td.get("ipcMode", ""),
            "requires_compatibilities": ", ".join(td.get("requiresCompatibilities") or []),
            "cpu": str(td.get("cpu") or ""),
            "memory": str(td.get("memory") or ""),
            # unknown (None) when the ACTIVE revisions could not be listed in this region
            "active_revisions": None if families is None else len(revisions or []),
            "latest_revision": max(revisions) if revisions else td["revision"],
        }

    def _container_rows(self):
        for region, td, p, in_use, _, _ in self._task_definitions_raw:
            head = self._base(region, p) | {
                "family": td["family"],
                "revision": td["revision"],
                "task_definition_arn": td["taskDefinitionArn"],
                "in_use": in_use,
            }
            for c in td.get("containerDefinitions", []):
                yield region, head, c

    @cached_property
    def containers(self) -> pd.DataFrame:
        rows = [
            head
            | {
                "container": c["name"],
                "image": c.get("image", ""),
                "essential": c.get("essential", True),
                "env_count": len(c.get("environment", [])),
                "secret_count": len(c.get("secrets", [])),
                "env_files": len(c.get("environmentFiles", [])),
            }
            | parse_image(c.get("image", ""))
            | {
                "command": " ".join(str(a) for a in c.get("command") or []),
                "entry_point": " ".join(str(a) for a in c.get("entryPoint") or []),
                "readonly_root_filesystem": bool(c.get("readonlyRootFilesystem", False)),
                "privileged": bool(c.get("privileged", False)),
                "user": c.get("user", ""),
                "mount_points": _json_list(
                    {
                        "sourceVolume": m.get("sourceVolume", ""),
                        "containerPath": m.get("containerPath", ""),
                        "readOnly": bool(m.get("readOnly", False)),
                    }
                    for m in c.get("mountPoints") or []
                ),
                "port_mappings": _json_list(
                    {
                        "containerPort": m.get("containerPort"),
                        "hostPort": m.get("hostPort"),
                        "protocol": m.get("protocol", "tcp"),
                    }
                    for m in c.get("portMappings") or []
                ),
                "has_health_check": bool((c.get("healthCheck") or {}).get("command")),
                "log_driver": (c.get("logConfiguration") or {}).get("logDriver", ""),
            }
            for _, head, c in self._container_rows()
        ]
        return _frame("containers", rows)

    @cached_property
    def environment(self) -> pd.DataFrame:
        rows = []
        for _, head, c in self._container_rows():
            for var in c.get("environment", []):
                value = str(var.get("value", ""))
                marker = parse_marker(value)
                rows.append(
                    head
                    | {
                        "container": c["name"],
                        "name": var.get("name", ""),
                        "value": value,
                        "redacted_kind": marker.kind if marker else "",
                        "secret_name": looks_secret_name(var.get("name", "")),
                        "ecs8_name": var.get("name", "") in ECS8_NAMES,
                        "reference": is_reference(value),
                    }
                )
        return _frame("environment", rows)

    @cached_property
    def secret_refs(self) -> pd.DataFrame:
        rows = []
        for region, head, c in self._container_rows():
            for ref in c.get("secrets", []):
                rows.append(
                    head
                    | {
                        "container": c["name"],
                        "name": ref.get("name", ""),
                        "value_from": ref.get("valueFrom", ""),
                    }
                    | parse_value_from(ref.get("valueFrom", ""), region, self.account)
                )
        return _frame("secret_refs", rows)

    # -- configuration stores --------------------------------------------------------------
    @cached_property
    def parameters(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for prm in self.snapshot.get(region, "ssm").get("parameters") or []:
                app, env, key = split_hierarchy(prm["Name"])
                p = Placement(app, env) if env else self._place(prm["Name"], None)
                rows.append(
                    self._base(region, p)
                    | {
                        "name": prm["Name"],
                        "type": prm.get("Type", ""),
                        "key_id": prm.get("KeyId", ""),
                        "tier": prm.get("Tier", ""),
                        "version": prm.get("Version", 0),
                        "last_modified": prm.get("LastModifiedDate", ""),
                        "hierarchy_key": key if env else "",
                        "secret_name": looks_secret_name(prm["Name"].rsplit("/", 1)[-1]),
                    }
                )
        return _frame("parameters", rows)

    @cached_property
    def secrets(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for s in self.snapshot.get(region, "secretsmanager").get("secrets") or []:
                app, env, _ = split_hierarchy(s["Name"])
                p = self._place(
                    s["Name"], s.get("Tags"), Placement(app, env), name_gives_app=not app
                )
                rows.append(
                    self._base(region, p)
                    | {
                        "name": s["Name"],
                        "secret_arn": s["ARN"],
                        "rotation_enabled": bool(s.get("RotationEnabled", False)),
                        "rotation_days": (s.get("RotationRules") or {}).get(
                            "AutomaticallyAfterDays"
                        ),
                        "last_rotated": s.get("LastRotatedDate", ""),
                        "last_changed": s.get("LastChangedDate", ""),
                        "kms_key_id": s.get("KmsKeyId", ""),
                        "tags": _json(tag_dict(s.get("Tags"))),
                    }
                )
        return _frame("secrets", rows)

    # -- images ----------------------------------------------------------------------------
    @cached_property
    def repositories(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            ecr = self.snapshot.get(region, "ecr")
            for r in ecr.get("repositories", []):
                # "shop/catalog-prod": the namespace names the team, the last segment the app
                short = r["repositoryName"].rsplit("/", 1)[-1]
                p = self._place(short, r.get("tags"))
                if not p.application:
                    p = Placement(short, p.environment)
                images = (ecr.get("images") or {}).get(r["repositoryName"])
                rows.append(
                    self._base(region, p)
                    | {
                        "repository": r["repositoryName"],
                        "repository_arn": r["repositoryArn"],
                        "repository_uri": r.get("repositoryUri", ""),
                        "tag_mutability": r.get("imageTagMutability", ""),
                        "scan_on_push": (r.get("imageScanningConfiguration") or {}).get(
                            "scanOnPush", False
                        ),
                        "encryption": (r.get("encryptionConfiguration") or {}).get(
                            "encryptionType", ""
                        ),
                        "has_lifecycle_policy": bool(r.get("lifecyclePolicyText")),
                        "image_count": len(images) if images is not None else None,
                        "tags": _json(tag_dict(r.get("tags"))),
                    }
                )
        return _frame("repositories", rows)

    @cached_property
    def images(self) -> pd.DataFrame:
        repos = {(r.region, r.repository): r for r in self.repositories.itertuples()}
        rows = []
        for region in self.regions:
            for repo, images in (self.snapshot.get(region, "ecr").get("images") or {}).items():
                parent = repos.get((region, repo))
                p = Placement(parent.application, parent.environment) if parent else Placement()
                for img in images or []:
                    rows.append(
                        self._base(region, p)
                        | {
                            "repository": repo,
                            "digest": img.get("imageDigest", ""),
                            "tags": ", ".join(img.get("imageTags", [])),
                            "size_bytes": img.get("imageSizeInBytes"),
                            "pushed_at": img.get("imagePushedAt", ""),
                        }
                    )
        return _frame("images", rows)

    # -- logs ------------------------------------------------------------------------------
    @cached_property
    def log_groups(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for g in self.snapshot.get(region, "logs").get("log_groups") or []:
                p = self._place(g["logGroupName"], None)
                rows.append(
                    self._base(region, p)
                    | {
                        "log_group": g["logGroupName"],
                        "log_group_arn": g.get("arn", ""),
                        "retention_days": g.get("retentionInDays"),
                        "kms_key_id": g.get("kmsKeyId", ""),
                        "stored_bytes": g.get("storedBytes", 0),
                    }
                )
        return _frame("log_groups", rows)

    # -- the run itself --------------------------------------------------------------------
    @cached_property
    def errors(self) -> pd.DataFrame:
        return _frame(
            "errors",
            ({"account": self.account} | e for e in self.snapshot.manifest.get("errors", [])),
        )

    @cached_property
    def api_calls(self) -> pd.DataFrame:
        return _frame("api_calls", self.snapshot.manifest.get("api_calls", []))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every resource table by name (not errors or api_calls)."""
        names = [n for n in SCHEMA if n not in {"errors", "api_calls"}]
        return {n: getattr(self, n) for n in names}
