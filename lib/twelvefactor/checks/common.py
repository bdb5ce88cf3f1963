"""Small helpers shared by check modules."""

from __future__ import annotations

from typing import Any

from ..findings import Result, Status


def result(
    row: Any,
    status: Status,
    message: str,
    *,
    resource_type: str,
    resource_id: str,
    resource_arn: str = "",
    evidence: dict[str, Any] | None = None,
) -> Result:
    """A Result placed like ``row`` (any object or Series with account/region/app/env)."""
    return Result(
        status=status,
        message=message,
        resource_type=resource_type,
        resource_id=resource_id,
        resource_arn=resource_arn,
        account=row["account"],
        region=row["region"],
        application=row["application"],
        environment=row["environment"],
        evidence=evidence or {},
    )


def td_id(row: Any) -> str:
    return f"{row['family']}:{row['revision']}"


def container_id(row: Any) -> str:
    """'orders-api-prod:2/app': a container definition within its task definition revision."""
    return f"{td_id(row)}/{row['container']}"


def container_result(row: Any, status: Status, message: str, evidence: dict[str, Any]) -> Result:
    """A Result about one container definition (a row of ``inventory.containers``)."""
    return result(
        row,
        status,
        message,
        resource_type="AwsEcsContainerDefinition",
        resource_id=container_id(row),
        resource_arn=row["task_definition_arn"],
        evidence=evidence | {"in_use": bool(row["in_use"])},
    )


def td_result(td: Any, status: Status, message: str, evidence: dict[str, Any]) -> Result:
    """A Result about one task definition (a row of ``inventory.task_definitions``)."""
    return result(
        td,
        status,
        message,
        resource_type="AwsEcsTaskDefinition",
        resource_id=td_id(td),
        resource_arn=td["task_definition_arn"],
        evidence=evidence,
    )
