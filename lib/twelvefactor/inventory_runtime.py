"""Inventory tables of what runs and around it: tasks, scaling, scheduled (admin) tasks, Cloud Map,
subnets, security-group ingress, key pairs and container hosts. Mixed into
:class:`twelvefactor.inventory.Inventory`.

Each table keeps ``None`` where the data could not be read (a refused call), never a made-up
default; checks pair that with :meth:`Inventory.gaps`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .apps import Placement

if TYPE_CHECKING:
    import pandas as pd

    from .settings import Settings
    from .snapshot import Snapshot

_BASE = ["account", "region", "application", "environment"]

#: Columns of the tables defined here (merged into inventory.SCHEMA).
SCHEMA_RUNTIME: dict[str, list[str]] = {
    "tasks": _BASE
    + [
        "cluster",
        "task_arn",
        "task_definition_arn",
        "family",
        "revision",
        "service",
        "group",
        "started_by",
        "launch_type",
        "last_status",
        "desired_status",
        "availability_zone",
        "stop_code",
        "stopped_reason",
        "exit_codes",
        "execute_command",
        "container_instance_arn",
    ],
    "scaling_targets": _BASE
    + [
        "cluster",
        "service",
        "resource_id",
        "min_capacity",
        "max_capacity",
        "policy_count",
        "policy_types",
        "scheduled_actions",
    ],
    "scheduled_tasks": _BASE
    + [
        "source",
        "name",
        "arn",
        "schedule",
        "state",
        "cluster_arn",
        "task_definition_ref",
        "family",
        "revision",
        "launch_type",
        "task_count",
        "enable_execute_command",
    ],
    "cloud_map_services": _BASE
    + ["namespace_id", "namespace", "service", "service_id", "service_arn", "dns_records"],
    "subnets": _BASE + ["subnet_id", "vpc_id", "availability_zone", "map_public_ip"],
    "ingress_rules": _BASE
    + [
        "group_id",
        "group_name",
        "vpc_id",
        "protocol",
        "from_port",
        "to_port",
        "source",
        "open_to_world",
    ],
    "key_pairs": _BASE + ["key_name", "key_pair_id", "key_type"],
    "container_hosts": _BASE
    + [
        "cluster",
        "container_instance_arn",
        "instance_id",
        "key_name",
        "security_group_ids",
        "public_ip",
        "instance_state",
        "agent_connected",
    ],
}

#: Columns that are always booleans.
BOOLEAN_RUNTIME = {"open_to_world", "map_public_ip", "agent_connected"}

WORLD = frozenset({"0.0.0.0/0", "::/0"})


def _frame(name: str, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    from .inventory import _frame as core_frame  # one mechanism for every table

    return core_frame(name, rows)


def _family_revision(ref: str) -> tuple[str, int | None]:
    """('orders-api', 7) from an ARN or 'family:7'; ('orders-api', None) when unpinned."""
    name = ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref
    family, sep, revision = name.rpartition(":")
    if sep and revision.isdigit():
        return family, int(revision)
    return name, None


def _cluster_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if arn else ""


class RuntimeTables:
    """Tables of running and scheduled work, scaling and the network around it."""

    if TYPE_CHECKING:  # provided by Inventory
        snapshot: Snapshot
        settings: Settings
        account: str
        regions: list[str]
        services: pd.DataFrame
        task_definitions: pd.DataFrame
        _cluster_placement: dict[str, Placement]

        def _place(
            self, name: str, tags: Any, parent: Placement | None = None, **kw: Any
        ) -> Placement: ...

        def _base(self, region: str, placement: Placement) -> dict[str, str]: ...

    # -- placement helpers -----------------------------------------------------------------
    @cached_property
    def _service_placement(self) -> dict[tuple[str, str, str], Placement]:
        """(region, cluster, service) -> placement."""
        return {
            (r.region, r.cluster, r.service): Placement(r.application, r.environment)
            for r in self.services.itertuples()
        }

    @cached_property
    def _family_placement(self) -> dict[tuple[str, str], Placement]:
        """(region, family) -> placement of the family's task definitions."""
        return {
            (r.region, r.family): Placement(r.application, r.environment)
            for r in self.task_definitions.itertuples()
        }

    def _task_placement(self, region: str, family: str, tags: Any = None) -> Placement:
        known = self._family_placement.get((region, family))
        if known is not None:
            return known
        p = self._place(family, tags)
        return p if p.application else Placement(family, p.environment)

    # -- ECS tasks -------------------------------------------------------------------------
    @cached_property
    def tasks(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for t in self.snapshot.get(region, "ecs").get("tasks") or []:
                cluster = _cluster_name(t.get("clusterArn", ""))
                family, revision = _family_revision(t.get("taskDefinitionArn", ""))
                group = t.get("group", "") or ""
                service = group.split(":", 1)[1] if group.startswith("service:") else ""
                p = self._service_placement.get((region, cluster, service)) or (
                    self._task_placement(region, family, t.get("tags"))
                )
                rows.append(
                    self._base(region, p)
                    | {
                        "cluster": cluster,
                        "task_arn": t.get("taskArn", ""),
                        "task_definition_arn": t.get("taskDefinitionArn", ""),
                        "family": family,
                        "revision": revision,
                        "service": service,
                        "group": group,
                        "started_by": t.get("startedBy", ""),
                        "launch_type": t.get("launchType", ""),
                        "last_status": t.get("lastStatus", ""),
                        "desired_status": t.get("desiredStatus", ""),
                        "availability_zone": t.get("availabilityZone", ""),
                        "stop_code": t.get("stopCode", ""),
                        "stopped_reason": t.get("stoppedReason", ""),
                        "exit_codes": json.dumps(
                            [
                                {
                                    "container": c.get("name", ""),
                                    "exit_code": c.get("exitCode"),
                                    "reason": c.get("reason", ""),
                                }
                                for c in t.get("containers") or []
                            ],
                            sort_keys=True,
                        ),
                        "execute_command": t.get("enableExecuteCommand"),
                        "container_instance_arn": t.get("containerInstanceArn", ""),
                    }
                )
        return _frame("tasks", rows)

    # -- Application Auto Scaling ----------------------------------------------------------
    @cached_property
    def scaling_targets(self) -> pd.DataFrame:
        """One row per ECS service's scalable target (DesiredCount), with its policies."""
        rows = []
        for region in self.regions:
            data = self.snapshot.get(region, "application-autoscaling")
            policies: dict[str, list[dict[str, Any]]] = {}
            for pol in data.get("scaling_policies") or []:
                policies.setdefault(pol.get("ResourceId", ""), []).append(pol)
            scheduled: dict[str, int] = {}
            for action in data.get("scheduled_actions") or []:
                rid = action.get("ResourceId", "")
                scheduled[rid] = scheduled.get(rid, 0) + 1
            for t in data.get("scalable_targets") or []:
                if t.get("ScalableDimension") != "ecs:service:DesiredCount":
                    continue
                rid = t.get("ResourceId", "")  # service/<cluster>/<service>
                _, cluster, service = (rid.split("/", 2) + ["", ""])[:3]
                p = self._service_placement.get((region, cluster, service)) or self._place(
                    service, None
                )
                own = policies.get(rid, [])
                rows.append(
                    self._base(region, p)
                    | {
                        "cluster": cluster,
                        "service": service,
                        "resource_id": rid,
                        "min_capacity": t.get("MinCapacity"),
                        "max_capacity": t.get("MaxCapacity"),
                        # None: the policies could not be read
                        "policy_count": len(own)
                        if data.get("scaling_policies") is not None
                        else None,
                        "policy_types": ", ".join(sorted({p.get("PolicyType", "") for p in own})),
                        "scheduled_actions": scheduled.get(rid, 0),
                    }
                )
        return _frame("scaling_targets", rows)

    # -- scheduled tasks (EventBridge rules and Scheduler) ---------------------------------
    @cached_property
    def scheduled_tasks(self) -> pd.DataFrame:
        """ECS tasks started on a schedule or an event: one row per (rule or schedule, target)."""
        rows = []
        for region in self.regions:
            for rule in self.snapshot.get(region, "events").get("rules") or []:
                for target in rule.get("Targets") or []:
                    ecs = target.get("EcsParameters")
                    if ecs:
                        rows.append(
                            self._scheduled_row(
                                region,
                                "eventbridge-rule",
                                rule.get("Name", ""),
                                rule.get("Arn", ""),
                                rule.get("ScheduleExpression") or "(event pattern)",
                                rule.get("State", ""),
                                target.get("Arn", ""),
                                ecs,
                            )
                        )
            for s in self.snapshot.get(region, "scheduler").get("schedules") or []:
                target = s.get("Target") or {}
                ecs = target.get("EcsParameters")
                if ecs:
                    rows.append(
                        self._scheduled_row(
                            region,
                            "scheduler",
                            s.get("Name", ""),
                            s.get("Arn", ""),
                            s.get("ScheduleExpression", ""),
                            s.get("State", ""),
                            target.get("Arn", ""),
                            ecs,
                        )
                    )
        return _frame("scheduled_tasks", rows)

    def _scheduled_row(
        self,
        region: str,
        source: str,
        name: str,
        arn: str,
        schedule: str,
        state: str,
        cluster_arn: str,
        ecs: dict[str, Any],
    ) -> dict[str, Any]:
        ref = ecs.get("TaskDefinitionArn", "")
        family, revision = _family_revision(ref)
        p = self._task_placement(region, family)
        return self._base(region, p) | {
            "source": source,
            "name": name,
            "arn": arn,
            "schedule": schedule,
            "state": state,
            "cluster_arn": cluster_arn,
            "task_definition_ref": ref,
            "family": family,
            "revision": revision,
            "launch_type": ecs.get("LaunchType", ""),
            "task_count": ecs.get("TaskCount", 1),
            "enable_execute_command": ecs.get("EnableExecuteCommand"),
        }

    # -- Cloud Map -------------------------------------------------------------------------
    @cached_property
    def cloud_map_services(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            data = self.snapshot.get(region, "servicediscovery")
            namespaces = {n.get("Id"): n.get("Name", "") for n in data.get("namespaces") or []}
            for s in data.get("services") or []:
                p = self._place(s.get("Name", ""), None)
                if not p.application:
                    p = Placement(s.get("Name", ""), p.environment)
                records = (s.get("DnsConfig") or {}).get("DnsRecords") or []
                rows.append(
                    self._base(region, p)
                    | {
                        "namespace_id": s.get("NamespaceId", ""),
                        "namespace": namespaces.get(s.get("NamespaceId"), ""),
                        "service": s.get("Name", ""),
                        "service_id": s.get("Id", ""),
                        "service_arn": s.get("Arn", ""),
                        "dns_records": ", ".join(r.get("Type", "") for r in records),
                    }
                )
        return _frame("cloud_map_services", rows)

    # -- EC2 -------------------------------------------------------------------------------
    @cached_property
    def subnets(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for s in self.snapshot.get(region, "ec2").get("subnets") or []:
                p = self._place(s.get("SubnetId", ""), s.get("Tags"), name_gives_app=False)
                rows.append(
                    self._base(region, p)
                    | {
                        "subnet_id": s.get("SubnetId", ""),
                        "vpc_id": s.get("VpcId", ""),
                        "availability_zone": s.get("AvailabilityZone", ""),
                        "map_public_ip": bool(s.get("MapPublicIpOnLaunch")),
                    }
                )
        return _frame("subnets", rows)

    @cached_property
    def ingress_rules(self) -> pd.DataFrame:
        """Security-group ingress, one row per (group, port range, source)."""
        rows = []
        for region in self.regions:
            for g in self.snapshot.get(region, "ec2").get("security_groups") or []:
                p = self._place(g.get("GroupName", ""), g.get("Tags"), name_gives_app=False)
                for perm in g.get("IpPermissions") or []:
                    sources = (
                        [r.get("CidrIp", "") for r in perm.get("IpRanges") or []]
                        + [r.get("CidrIpv6", "") for r in perm.get("Ipv6Ranges") or []]
                        + [r.get("GroupId", "") for r in perm.get("UserIdGroupPairs") or []]
                        + [r.get("PrefixListId", "") for r in perm.get("PrefixListIds") or []]
                    )
                    for source in sources:
                        rows.append(
                            self._base(region, p)
                            | {
                                "group_id": g.get("GroupId", ""),
                                "group_name": g.get("GroupName", ""),
                                "vpc_id": g.get("VpcId", ""),
                                "protocol": str(perm.get("IpProtocol", "")),
                                "from_port": perm.get("FromPort"),
                                "to_port": perm.get("ToPort"),
                                "source": source,
                                "open_to_world": source in WORLD,
                            }
                        )
        return _frame("ingress_rules", rows)

    @cached_property
    def key_pairs(self) -> pd.DataFrame:
        rows = []
        for region in self.regions:
            for k in self.snapshot.get(region, "ec2").get("key_pairs") or []:
                p = self._place(k.get("KeyName", ""), k.get("Tags"), name_gives_app=False)
                rows.append(
                    self._base(region, p)
                    | {
                        "key_name": k.get("KeyName", ""),
                        "key_pair_id": k.get("KeyPairId", ""),
                        "key_type": k.get("KeyType", ""),
                    }
                )
        return _frame("key_pairs", rows)

    @cached_property
    def container_hosts(self) -> pd.DataFrame:
        """EC2 instances registered with an ECS cluster, with what reaches them."""
        rows = []
        for region in self.regions:
            ecs = self.snapshot.get(region, "ecs")
            instances = {
                i.get("InstanceId"): i
                for i in self.snapshot.get(region, "ec2").get("instances") or []
            }
            for ci in ecs.get("container_instances") or []:
                instance = instances.get(ci.get("ec2InstanceId"), {})
                p = self._cluster_placement.get(ci.get("clusterArn", ""), Placement())
                rows.append(
                    self._base(region, p)
                    | {
                        "cluster": _cluster_name(ci.get("clusterArn", "")),
                        "container_instance_arn": ci.get("containerInstanceArn", ""),
                        "instance_id": ci.get("ec2InstanceId", ""),
                        "key_name": instance.get("KeyName", "") if instance else None,
                        "security_group_ids": ", ".join(
                            g.get("GroupId", "") for g in instance.get("SecurityGroups") or []
                        ),
                        "public_ip": instance.get("PublicIpAddress", ""),
                        "instance_state": (instance.get("State") or {}).get("Name", ""),
                        "agent_connected": bool(ci.get("agentConnected")),
                    }
                )
        return _frame("container_hosts", rows)
