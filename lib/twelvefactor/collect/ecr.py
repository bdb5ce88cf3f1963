"""ECR: repositories with their settings, images, lifecycle policies, registry scanning."""

from __future__ import annotations

from typing import Any

from .base import ServiceCollector


class EcrCollector(ServiceCollector):
    service = "ecr"
    actions = (
        "ecr:DescribeRepositories",
        "ecr:DescribeImages",
        "ecr:GetLifecyclePolicy",
        "ecr:ListTagsForResource",
        "ecr:GetRegistryScanningConfiguration",
    )

    def collect(self) -> dict[str, Any]:
        repositories = self.paginate("DescribeRepositories", "repositories") or []
        images: dict[str, list[dict[str, Any]] | None] = {}
        for repo in repositories:
            name, arn = repo["repositoryName"], repo["repositoryArn"]
            images[name] = self.paginate(
                "DescribeImages", "imageDetails", resource=arn, repositoryName=name
            )
            policy = self.call(
                "GetLifecyclePolicy",
                resource=arn,
                missing_ok=("LifecyclePolicyNotFoundException",),
                repositoryName=name,
            )
            repo["lifecyclePolicyText"] = (policy or {}).get("lifecyclePolicyText")
            tags = self.call("ListTagsForResource", resource=arn, resourceArn=arn)
            repo["tags"] = (tags or {}).get("tags", [])
        scanning = self.call("GetRegistryScanningConfiguration")
        return {
            "repositories": repositories,
            "images": images,
            "registry_scanning": (scanning or {}).get("scanningConfiguration"),
        }
