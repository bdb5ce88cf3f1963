"""The check registry and the engine that runs checks into Findings.

A check is a pure function ``(inventory, settings) -> Iterable[Result]`` registered under its
catalog id. The engine adds the catalog's metadata and enforces the rules every check shares:

* a collection error that hit an API the check needs becomes an ``ERROR`` finding;
* a ``PASS`` that rests on data with such a gap is turned into ``ERROR`` (never a PASS unseen);
* a check that raises gives one ``ERROR`` finding instead of stopping the audit;
* a check with nothing to evaluate gives one ``SKIP`` finding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from ..catalog import CheckMeta, load_catalog
from ..findings import Finding, Result, Status, evidence_json
from ..inventory import Inventory
from ..settings import Settings

log = logging.getLogger(__name__)

CheckFn = Callable[[Inventory, Settings], Iterable[Result]]
REGISTRY: dict[str, CheckFn] = {}
#: Checks that compare resources across environments or regions: any gap taints every PASS.
ACCOUNT_SCOPE: set[str] = set()


def check(check_id: str, *, account_scope: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the implementation of catalog entry ``check_id``."""

    def register(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} registered twice")
        REGISTRY[check_id] = fn
        if account_scope:
            ACCOUNT_SCOPE.add(check_id)
        return fn

    return register


def _load_modules() -> None:
    """Import every check module of this package: importing registers its checks."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name != "common":
            importlib.import_module(f"{__name__}.{module.name}")


def registry() -> dict[str, CheckFn]:
    _load_modules()
    return dict(REGISTRY)


def _finding(meta: CheckMeta, r: Result) -> Finding:
    return Finding(
        check_id=meta.id,
        factor=meta.factor,
        title=meta.title,
        status=r.status,
        severity=meta.severity,
        account=r.account,
        region=r.region,
        application=r.application,
        environment=r.environment,
        resource_type=r.resource_type,
        resource_id=r.resource_id,
        resource_arn=r.resource_arn,
        message=r.message,
        evidence=evidence_json(r.evidence),
    )


def _action(gap: dict) -> str:
    from ..aws import iam_action

    return gap.get("action") or iam_action(gap["service"], gap["operation"])


def run_check(meta: CheckMeta, fn: CheckFn, inv: Inventory, settings: Settings) -> list[Finding]:
    gaps = inv.gaps(meta.iam_actions)
    out: list[Finding] = []
    for gap in gaps:
        action = _action(gap)
        out.append(
            _finding(
                meta,
                Result(
                    status=Status.ERROR,
                    message=(
                        f"Could not evaluate: {action} failed in {gap['region']} "
                        f"({gap['code']}); "
                        + (
                            f"grant {action} to the audit role and run again."
                            if gap["kind"] == "access-denied"
                            else "run again, or see the collection errors in 00-start-here."
                        )
                    ),
                    resource_type=meta.resource_type,
                    resource_id=gap.get("resource") or gap["region"],
                    resource_arn=gap.get("resource") or "",
                    account=inv.account,
                    region=gap["region"],
                    evidence={"missing_action": action, "error": gap},
                ),
            )
        )
    try:
        results = list(fn(inv, settings))
    except Exception as exc:  # one broken check must not lose the rest of the audit
        log.exception("check %s crashed", meta.id)
        return out + [
            _finding(
                meta,
                Result(
                    status=Status.ERROR,
                    message=f"The check itself failed ({type(exc).__name__}: {exc}); "
                    "please report this with the snapshot's manifest.",
                    resource_type=meta.resource_type,
                    resource_id="*",
                    account=inv.account,
                    region=",".join(inv.regions),
                    evidence={"exception": type(exc).__name__, "detail": str(exc)[:300]},
                ),
            )
        ]
    for r in results:
        if r.status == Status.PASS and _tainted(meta.id, r, gaps):
            r = Result(
                **{
                    **r.__dict__,
                    "status": Status.ERROR,
                    "message": r.message + " (not trusted: data it needs is incomplete)",
                }
            )
        out.append(_finding(meta, r))
    if not results and not gaps:
        out.append(
            _finding(
                meta,
                Result(
                    status=Status.SKIP,
                    message=f"Nothing to evaluate: no {meta.resource_type} in scope in "
                    f"{', '.join(inv.regions)}.",
                    resource_type=meta.resource_type,
                    resource_id="*",
                    account=inv.account,
                    region=",".join(inv.regions),
                ),
            )
        )
    return out


def _tainted(check_id: str, r: Result, gaps: list[dict]) -> bool:
    if not gaps:
        return False
    if check_id in ACCOUNT_SCOPE:
        return True
    regions = set(r.region.split(","))
    return any(
        g["region"] in regions and (not g.get("resource") or g["resource"] == r.resource_arn)
        for g in gaps
    )


def run_checks(
    inv: Inventory,
    settings: Settings,
    *,
    factors: Iterable[int] | None = None,
    ids: Iterable[str] | None = None,
) -> list[Finding]:
    """Run the registered checks (optionally only some factors or ids) into findings."""
    catalog = load_catalog()
    impl = registry()
    wanted_factors = set(factors) if factors is not None else None
    wanted_ids = set(ids) if ids is not None else None
    findings: list[Finding] = []
    for check_id, meta in catalog.items():
        if wanted_factors is not None and meta.factor not in wanted_factors:
            continue
        if wanted_ids is not None and check_id not in wanted_ids:
            continue
        if check_id not in impl:
            continue  # catalog entries without code are caught by the consistency test
        findings.extend(run_check(meta, impl[check_id], inv, settings))
    return findings
