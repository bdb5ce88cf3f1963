"""ECS: clusters, services (10 per DescribeServices), task definitions in use and per family,
tasks (running, and stopped ones ECS still remembers: about an hour) and container instances,
100 per DescribeTasks / DescribeContainerInstances."""

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
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "ecs:ListContainerInstances",
        "ecs:DescribeContainerInstances",
        "ecs:ListAccountSettings",
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
        # no batch API: one call per task definition, in the run's bounded pool
        for resp in self.each(self._describe_task_definition, wanted):
            if resp:
                td = resp["taskDefinition"]
                td["tags"] = resp.get("tags", [])
                task_definitions.append(td)
        tasks, container_instances = self._tasks_and_hosts(cluster_arns)
        # the effective account settings (e.g. defaultLogDriverMode, read by factor IX)
        account_settings = self.paginate("ListAccountSettings", "settings", effectiveSettings=True)
        return {
            "clusters": clusters,
            "services": services,
            "task_definitions": task_definitions,
            "active_task_definition_arns": active,
            "tasks": tasks,
            "container_instances": container_instances,
            "account_settings": account_settings,
        }

    def _describe_task_definition(self, arn: str) -> dict[str, Any] | None:
        return self.call(
            "DescribeTaskDefinition", resource=arn, taskDefinition=arn, include=["TAGS"]
        )

    def _tasks_and_hosts(
        self, cluster_arns: list[str]
    ) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
        """Running and stopped tasks, and EC2 container instances, of every cluster (None when
        a listing failed: a check must not read "no tasks" into a refused call)."""
        tasks: list[dict[str, Any]] | None = []
        hosts: list[dict[str, Any]] | None = []
        for cluster_arn in cluster_arns:
            for status in ("RUNNING", "STOPPED"):
                arns = self.paginate(
                    "ListTasks",
                    "taskArns",
                    resource=cluster_arn,
                    cluster=cluster_arn,
                    desiredStatus=status,
                    PaginationConfig={"PageSize": 100},
                )
                if arns is None:
                    tasks = None
                for batch in chunks(arns or [], 100):
                    resp = self.call(
                        "DescribeTasks",
                        resource=cluster_arn,
                        cluster=cluster_arn,
                        tasks=batch,
                        include=["TAGS"],
                    )
                    if resp is None:
                        tasks = None
                    elif tasks is not None:
                        tasks.extend(resp.get("tasks", []))
            arns = self.paginate(
                "ListContainerInstances",
                "containerInstanceArns",
                resource=cluster_arn,
                cluster=cluster_arn,
                PaginationConfig={"PageSize": 100},
            )
            if arns is None:
                hosts = None
            for batch in chunks(arns or [], 100):
                resp = self.call(
                    "DescribeContainerInstances",
                    resource=cluster_arn,
                    cluster=cluster_arn,
                    containerInstances=batch,
                )
                if resp is None:
                    hosts = None
                elif hosts is not None:
                    hosts.extend(
                        i | {"clusterArn": cluster_arn} for i in resp.get("containerInstances", [])
                    )
        return tasks, hosts
