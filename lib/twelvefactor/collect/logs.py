"""CloudWatch Logs: log groups (retention, encryption)."""

from __future__ import annotations

from typing import Any

from .base import ServiceCollector


class LogsCollector(ServiceCollector):
    service = "logs"
    actions = ("logs:DescribeLogGroups",)

    def collect(self) -> dict[str, Any]:
        return {"log_groups": self.paginate("DescribeLogGroups", "logGroups")}
