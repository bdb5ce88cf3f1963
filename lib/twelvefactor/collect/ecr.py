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
        # no batch APIs: three calls per repository, in the run's bounded pool
        images: dict[str, list[dict[str, Any]] | None] = dict(
            zip(
                (r["repositoryName"] for r in repositories),
                self.each(self._repository, repositories),
                strict=True,
            )
        )
        scanning = self.call("GetRegistryScanningConfiguration")
        return {
            "repositories": repositories,
            "images": images,
            "registry_scanning": (scanning or {}).get("scanningConfiguration"),
        }

    def _repository(self, repo: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Its images (returned), lifecycle policy and tags (set on ``repo``)."""
        name, arn = repo["repositoryName"], repo["repositoryArn"]
        images = self.paginate("DescribeImages", "imageDetails", resource=arn, repositoryName=name)
        policy = self.call(
            "GetLifecyclePolicy",
            resource=arn,
            missing_ok=("LifecyclePolicyNotFoundException",),
            repositoryName=name,
        )
        repo["lifecyclePolicyText"] = (policy or {}).get("lifecyclePolicyText")
        tags = self.call("ListTagsForResource", resource=arn, resourceArn=arn)
        repo["tags"] = (tags or {}).get("tags", [])
        return images
