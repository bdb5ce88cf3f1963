"""ECS: clusters, services (10 per DescribeServices), task definitions in use and per family."""

from __future__ import annotations

from typing import Any

from .base import ServiceCollector, chunks


def family_revision(arn: str) -> tuple[str, int]:
    """('orders-api', 7) from '...:task-definition/orders-api:7'."""
    name = arn.rsplit("/", 1)[-1]
    family, _, revision = name.rpartition(":")
    return family, int(revision)


def task_definition_arn(reference: str, region: str, account: str) -> str:
    """A task definition reference as an ARN ('family:3' is accepted by ECS in requests)."""
    if reference.startswith("arn:"):
        return reference
    return f"arn:aws:ecs:{region}:{account}:task-definition/{reference}"


class EcsCollector(ServiceCollector):
    service = "ecs"
    actions = (
        "ecs:ListClusters",
        "ecs:DescribeClusters",
        "ecs:ListServices",
        "ecs:DescribeServices",
        "ecs:ListTaskDefinitions",
        "ecs:DescribeTaskDefinition",
    )

    def collect(self) -> dict[str, Any]:
        cluster_arns = self.paginate("ListClusters", "clusterArns") or []
        clusters: list[dict[str, Any]] = []
        for batch in chunks(cluster_arns, 100):
            resp = self.call(
                "DescribeClusters",
                clusters=batch,
                include=["SETTINGS", "CONFIGURATIONS", "TAGS"],
            )
            clusters.extend((resp or {}).get("clusters", []))

        services: list[dict[str, Any]] = []
        for cluster_arn in cluster_arns:
            arns = self.paginate(
                "ListServices",
                "serviceArns",
                resource=cluster_arn,
                cluster=cluster_arn,
                PaginationConfig={"PageSize": 100},
            )
            for batch in chunks(arns or [], 10):
                resp = self.call(
                    "DescribeServices",
                    resource=cluster_arn,
                    cluster=cluster_arn,
                    services=batch,
                    include=["TAGS"],
                )
                services.extend((resp or {}).get("services", []))

        active = self.paginate("ListTaskDefinitions", "taskDefinitionArns", status="ACTIVE")
        latest: dict[str, str] = {}
        for arn in active or []:
            family, revision = family_revision(arn)
            if family not in latest or family_revision(latest[family])[1] < revision:
                latest[family] = arn
        wanted = sorted(
            {
                task_definition_arn(s["taskDefinition"], self.region, s["serviceArn"].split(":")[4])
                for s in services
                if s.get("taskDefinition")
            }
            | set(latest.values())
        )
        task_definitions = []
        for arn in wanted:
            resp = self.call(
                "DescribeTaskDefinition", resource=arn, taskDefinition=arn, include=["TAGS"]
            )
            if resp:
                td = resp["taskDefinition"]
                td["tags"] = resp.get("tags", [])
                task_definitions.append(td)
        return {
            "clusters": clusters,
            "services": services,
            "task_definitions": task_definitions,
            "active_task_definition_arns": active,
        }
