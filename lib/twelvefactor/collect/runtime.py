"""What runs and how it scales, is reached and is started: Application Auto Scaling, EventBridge
rules and EventBridge Scheduler schedules, Cloud Map, and the EC2 network and hosts around tasks."""

from __future__ import annotations

from typing import Any

from .base import ServiceCollector


class AutoScalingCollector(ServiceCollector):
    """Scalable targets and scaling policies of ECS services (namespace ``ecs``)."""

    service = "application-autoscaling"
    actions = (
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:DescribeScheduledActions",
    )

    def collect(self) -> dict[str, Any]:
        return {
            "scalable_targets": self.paginate(
                "DescribeScalableTargets", "ScalableTargets", ServiceNamespace="ecs"
            ),
            "scaling_policies": self.paginate(
                "DescribeScalingPolicies", "ScalingPolicies", ServiceNamespace="ecs"
            ),
            "scheduled_actions": self.paginate(
                "DescribeScheduledActions", "ScheduledActions", ServiceNamespace="ecs"
            ),
        }


class EventsCollector(ServiceCollector):
    """EventBridge rules of the default event bus and their targets.

    Schedule expressions are only allowed on the default bus, so scheduled ECS tasks started by
    rules live there. ``ListTargetsByRule`` has no batch form: one call (or more pages) per rule.
    """

    service = "events"
    actions = ("events:ListRules", "events:ListTargetsByRule")

    def collect(self) -> dict[str, Any]:
        rules = self.paginate("ListRules", "Rules")
        for rule in rules or []:
            rule["Targets"] = self.paginate(
                "ListTargetsByRule", "Targets", resource=rule.get("Arn"), Rule=rule["Name"]
            )
        return {"rules": rules}


class SchedulerCollector(ServiceCollector):
    """EventBridge Scheduler schedules with their targets (``ListSchedules`` gives only the
    target's ARN: one ``GetSchedule`` per schedule reads its ECS parameters)."""

    service = "scheduler"
    actions = ("scheduler:ListSchedules", "scheduler:GetSchedule")

    def collect(self) -> dict[str, Any]:
        listed = self.paginate("ListSchedules", "Schedules")
        schedules = []
        for item in listed or []:
            resp = self.call(
                "GetSchedule",
                resource=item.get("Arn"),
                Name=item["Name"],
                GroupName=item.get("GroupName", "default"),
            )
            schedules.append(resp if resp is not None else item | {"Target": None})
        return {"schedules": schedules if listed is not None else None}


class ServiceDiscoveryCollector(ServiceCollector):
    """Cloud Map namespaces and services (what ECS service registries point at)."""

    service = "servicediscovery"
    actions = ("servicediscovery:ListNamespaces", "servicediscovery:ListServices")

    def collect(self) -> dict[str, Any]:
        namespaces = self.paginate("ListNamespaces", "Namespaces")
        # a service summary does not name its namespace: list them namespace by namespace
        services: list[dict[str, Any]] | None = [] if namespaces is not None else None
        seen: set[str] = set()
        for ns in namespaces or []:
            found = self.paginate(
                "ListServices",
                "Services",
                resource=ns.get("Arn"),
                Filters=[{"Name": "NAMESPACE_ID", "Values": [ns["Id"]], "Condition": "EQ"}],
            )
            if found is None:
                services = None
            elif services is not None:
                # moto ignores the filter; AWS never lists a service twice
                services.extend(s | {"NamespaceId": ns["Id"]} for s in found if s["Id"] not in seen)
                seen.update(s["Id"] for s in found)
        return {"namespaces": namespaces, "services": services}


class Ec2Collector(ServiceCollector):
    """Subnets (their availability zones), security groups (ingress), key pairs and running
    instances (the container hosts of EC2 capacity)."""

    service = "ec2"
    actions = (
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeKeyPairs",
        "ec2:DescribeInstances",
    )

    def collect(self) -> dict[str, Any]:
        reservations = self.paginate(
            "DescribeInstances",
            "Reservations",
            Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}],
        )
        key_pairs = self.call("DescribeKeyPairs")
        return {
            "subnets": self.paginate("DescribeSubnets", "Subnets"),
            "security_groups": self.paginate("DescribeSecurityGroups", "SecurityGroups"),
            "key_pairs": key_pairs.get("KeyPairs", []) if key_pairs is not None else None,
            "instances": [i for r in reservations for i in r.get("Instances", [])]
            if reservations is not None
            else None,
        }
