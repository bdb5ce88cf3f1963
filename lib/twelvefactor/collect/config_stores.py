"""SSM Parameter Store and Secrets Manager: metadata only, never values."""

from __future__ import annotations

from typing import Any

from .base import ServiceCollector


class SsmCollector(ServiceCollector):
    service = "ssm"
    actions = ("ssm:DescribeParameters",)

    def collect(self) -> dict[str, Any]:
        return {
            "parameters": self.paginate(
                "DescribeParameters", "Parameters", PaginationConfig={"PageSize": 50}
            )
        }


class SecretsManagerCollector(ServiceCollector):
    service = "secretsmanager"
    actions = ("secretsmanager:ListSecrets",)

    def collect(self) -> dict[str, Any]:
        return {"secrets": self.paginate("ListSecrets", "SecretList")}
