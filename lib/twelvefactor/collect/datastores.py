"""Backing services: RDS, DynamoDB, S3, ElastiCache, SQS and EFS (what they are and where they
are, never their contents)."""

from __future__ import annotations

from typing import Any

from .base import ServiceCollector


class RdsCollector(ServiceCollector):
    service = "rds"
    actions = ("rds:DescribeDBInstances", "rds:DescribeDBClusters")

    def collect(self) -> dict[str, Any]:
        return {
            "db_instances": self.paginate("DescribeDBInstances", "DBInstances"),
            "db_clusters": self.paginate("DescribeDBClusters", "DBClusters"),
        }


class DynamoDbCollector(ServiceCollector):
    service = "dynamodb"
    actions = ("dynamodb:ListTables", "dynamodb:DescribeTable")

    def collect(self) -> dict[str, Any]:
        names = self.paginate("ListTables", "TableNames")
        tables: list[dict[str, Any]] = []
        # no batch API: one DescribeTable per table
        for name in names or []:
            resp = self.call(
                "DescribeTable",
                resource=name,
                missing_ok=("ResourceNotFoundException",),  # deleted since it was listed
                TableName=name,
            )
            if resp and resp.get("Table"):
                tables.append(resp["Table"])
        return {"tables": tables if names is not None else None}


class S3Collector(ServiceCollector):
    """Buckets are global: listed once, in the first audited region."""

    service = "s3"
    actions = ("s3:ListAllMyBuckets",)

    def collect(self) -> dict[str, Any]:
        if self.region != self.access.settings.regions[0]:
            return {}
        if self.client.can_paginate("list_buckets"):
            buckets = self.paginate("ListBuckets", "Buckets")
        else:  # pragma: no cover - botocore before ListBuckets had a paginator
            resp = self.call("ListBuckets")
            buckets = resp.get("Buckets", []) if resp is not None else None
        return {"buckets": buckets}


class ElastiCacheCollector(ServiceCollector):
    service = "elasticache"
    actions = ("elasticache:DescribeCacheClusters", "elasticache:DescribeReplicationGroups")

    def collect(self) -> dict[str, Any]:
        return {
            "cache_clusters": self.paginate(
                "DescribeCacheClusters", "CacheClusters", ShowCacheNodeInfo=True
            ),
            "replication_groups": self.paginate("DescribeReplicationGroups", "ReplicationGroups"),
        }


class SqsCollector(ServiceCollector):
    service = "sqs"
    actions = ("sqs:ListQueues",)

    def collect(self) -> dict[str, Any]:
        # without MaxResults SQS returns at most 1000 queues and no token: ask for pages
        return {
            "queue_urls": self.paginate(
                "ListQueues", "QueueUrls", PaginationConfig={"PageSize": 1000}
            )
        }


class EfsCollector(ServiceCollector):
    service = "efs"
    actions = ("elasticfilesystem:DescribeFileSystems",)

    def collect(self) -> dict[str, Any]:
        return {"file_systems": self.paginate("DescribeFileSystems", "FileSystems")}
