"""Elastic Load Balancing v2: load balancers, target groups with their attributes, listeners, and
the tags of load balancers and target groups (20 per DescribeTags)."""

from __future__ import annotations

from typing import Any

from .base import ServiceCollector, chunks


class Elbv2Collector(ServiceCollector):
    service = "elbv2"
    actions = (
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeTags",
    )

    def collect(self) -> dict[str, Any]:
        load_balancers = self.paginate("DescribeLoadBalancers", "LoadBalancers")
        target_groups = self.paginate("DescribeTargetGroups", "TargetGroups")
        # no batch API for attributes: one call per target group
        for tg in target_groups or []:
            arn = tg["TargetGroupArn"]
            resp = self.call("DescribeTargetGroupAttributes", resource=arn, TargetGroupArn=arn)
            tg["attributes"] = (
                {a["Key"]: a.get("Value", "") for a in resp.get("Attributes", [])}
                if resp is not None
                else None
            )
        listeners: list[dict[str, Any]] = []
        for lb in load_balancers or []:
            arn = lb["LoadBalancerArn"]
            found = self.paginate(
                "DescribeListeners", "Listeners", resource=arn, LoadBalancerArn=arn
            )
            listeners.extend(found or [])
        self._tag(load_balancers or [], "LoadBalancerArn")
        self._tag(target_groups or [], "TargetGroupArn")
        return {
            "load_balancers": load_balancers,
            "target_groups": target_groups,
            "listeners": listeners if load_balancers is not None else None,
        }

    def _tag(self, resources: list[dict[str, Any]], arn_key: str) -> None:
        """Adds ``Tags`` to each resource, 20 resources per DescribeTags call."""
        by_arn = {r[arn_key]: r for r in resources}
        for batch in chunks(list(by_arn), 20):
            resp = self.call("DescribeTags", ResourceArns=batch)
            for description in (resp or {}).get("TagDescriptions", []):
                if description.get("ResourceArn") in by_arn:
                    by_arn[description["ResourceArn"]]["Tags"] = description.get("Tags", [])
