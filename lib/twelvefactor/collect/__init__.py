"""Collection: a bounded thread pool over (region, service), each through its collector.

A failing API is recorded in the snapshot and the run goes on; values that look secret are redacted
before anything leaves this module.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import Any

from ..aws import AwsAccess
from ..redaction import Redactor
from ..settings import Settings
from ..snapshot import SCHEMA_VERSION, Snapshot
from .base import ServiceCollector
from .build import CodeBuildCollector, CodeCommitCollector, CodePipelineCollector
from .config_stores import SecretsManagerCollector, SsmCollector
from .datastores import (
    DynamoDbCollector,
    EfsCollector,
    ElastiCacheCollector,
    RdsCollector,
    S3Collector,
    SqsCollector,
)
from .ecr import EcrCollector
from .ecs import EcsCollector
from .elbv2 import Elbv2Collector
from .logs import LogsCollector
from .runtime import (
    AutoScalingCollector,
    Ec2Collector,
    EventsCollector,
    SchedulerCollector,
    ServiceDiscoveryCollector,
)

log = logging.getLogger(__name__)

COLLECTORS: dict[str, type[ServiceCollector]] = {
    c.service: c
    for c in (
        EcsCollector,
        EcrCollector,
        SsmCollector,
        SecretsManagerCollector,
        LogsCollector,
        CodeBuildCollector,
        CodePipelineCollector,
        CodeCommitCollector,
        Elbv2Collector,
        RdsCollector,
        DynamoDbCollector,
        S3Collector,
        ElastiCacheCollector,
        SqsCollector,
        EfsCollector,
        AutoScalingCollector,
        EventsCollector,
        SchedulerCollector,
        ServiceDiscoveryCollector,
        Ec2Collector,
    )
}
#: Actions used outside the collectors (identity).
IDENTITY_ACTIONS = ("sts:GetCallerIdentity",)


def required_actions() -> list[str]:
    """Every IAM action the collection may call (the least-privilege policy is built from it)."""
    actions = set(IDENTITY_ACTIONS)
    for collector in COLLECTORS.values():
        actions.update(collector.actions)
    return sorted(actions)


def collect(
    access: AwsAccess,
    settings: Settings,
    *,
    services: list[str] | None = None,
    progress: bool = False,
    source: str = "live",
) -> Snapshot:
    """Collect every (region, service) and return an in-memory, redacted Snapshot."""
    from .. import __version__

    regions = list(settings.regions)
    services = services or list(COLLECTORS)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    identity = access.identity(regions[0])
    redactor = Redactor(settings.redaction_salt)

    def run(region: str, service: str) -> tuple[str, str, dict[str, Any], list[dict[str, Any]]]:
        collector = COLLECTORS[service](access, region)
        collector.fanout = fanout
        try:
            data = collector.collect()
        except Exception as exc:  # a bug or an unexpected shape must not lose the whole audit
            if exc.__class__.__name__ == "ReadOnlyViolation":
                raise
            log.error(
                "collector %s in %s crashed: %r",
                service,
                region,
                exc,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            collector.errors.append(
                {
                    "region": region,
                    "service": service,
                    "operation": "*",
                    "action": f"{service}:*",
                    "resource": None,
                    "code": type(exc).__name__,
                    "kind": "error",
                    "message": str(exc)[:300],
                }
            )
            data = {}
        return region, service, redactor.tree(data), collector.errors

    data: dict[tuple[str, str], dict[str, Any]] = {}
    errors: list[dict[str, Any]] = []
    jobs = [(r, s) for r in regions for s in services]
    bar = _progress(len(jobs), "collect", progress)
    # jobs (region, service) in one pool; their per-resource calls in a second pool of the same
    # size, shared by all jobs: at most 2 x max_workers calls in flight, and no job waits on a
    # slot its own pool must free (no deadlock)
    with (
        ThreadPoolExecutor(max_workers=settings.max_workers) as pool,
        ThreadPoolExecutor(max_workers=settings.max_workers) as fanout,
    ):
        futures = [pool.submit(run, r, s) for r, s in jobs]
        for future in as_completed(futures):
            region, service, result, errs = future.result()
            data[(region, service)] = result
            errors.extend(redactor.tree(errs))
            bar.set_postfix_str(f"{service}@{region}", refresh=False)
            bar.update()
    bar.close()

    manifest = {
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "source": source,
        "account": identity["account"],
        "caller_arn": identity["arn"],
        "regions": regions,
        "services": services,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "collect_seconds": round(time.perf_counter() - t0, 3),
        "api_calls": access.meter.as_records(),
        "api_call_total": access.meter.total,
        "errors": sorted(errors, key=lambda e: (e["region"], e["service"], e["operation"])),
        "redactions": dict(sorted(redactor.count.items())),
        "settings": settings.public(),
    }
    return Snapshot(manifest=manifest, data=data)


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="job", disable=not enabled, leave=False)
