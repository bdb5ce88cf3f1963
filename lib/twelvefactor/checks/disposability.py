"""Factor IX, Disposability: fast start-up, graceful shutdown, robust against sudden death.

Six checks over the task definitions services run (and the latest revision of every family),
the services with their target groups, the tasks ECS still remembers and the images in ECR:

* ``TF09-HEALTH-CHECK``: essential containers declare a health check that can fail.
* ``TF09-GRACE-PERIOD``: services whose tasks are health-checked set a grace period.
* ``TF09-STOP-TIMEOUT``: essential containers set ``stopTimeout``, not shorter than the
  deregistration delay of the service's target groups.
* ``TF09-STOPPED-TASKS``: stopped tasks, per service (or task family), classified by stop code,
  reason and exit code: out of memory, SIGTERM ignored, crashed, clean.
* ``TF09-LOG-NONBLOCKING``: log drivers run in non-blocking mode (the container's option, else
  the account's ``defaultLogDriverMode``).
* ``TF09-IMAGE-SIZE``: the ECR image of each container is not large (a start-up cost).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import Inventory
from ..plots import STATUS_COLOURS, empty_axes, plot
from ..settings import Settings
from . import check
from .common import container_id, container_result, result
from .concurrency import plural, raw_services, service_id, service_result
from .processes import _raw_target_groups, _raw_task_definitions

if TYPE_CHECKING:
    from ..workbook import Workbook

FACTOR = 9
CHECK_IDS = (
    "TF09-HEALTH-CHECK",
    "TF09-GRACE-PERIOD",
    "TF09-STOP-TIMEOUT",
    "TF09-STOPPED-TASKS",
    "TF09-LOG-NONBLOCKING",
    "TF09-IMAGE-SIZE",
)
#: ECS's stop timeout when a container sets none (the agent's ECS_CONTAINER_STOP_TIMEOUT on EC2).
DEFAULT_STOP_TIMEOUT = 30
FARGATE_MAX_STOP_TIMEOUT = 120
#: An ELB target group's deregistration delay when the attribute is missing.
DEFAULT_DEREGISTRATION_DELAY = 300
#: Crashes (or failed starts) of one service in the window from which it is a crash loop.
CRASH_LOOP = 3
MIB = 1024 * 1024
IMAGE_INFO_BYTES = 500 * MIB
IMAGE_FAIL_BYTES = 1024 * MIB


def _definition(raw: dict[str, dict[str, Any]], c: Any) -> dict[str, Any]:
    """The raw container definition of an inventory container row."""
    return next(
        (
            d
            for d in raw.get(c["task_definition_arn"], {}).get("containerDefinitions") or []
            if d.get("name") == c["container"]
        ),
        {},
    )


def _essential(raw_td: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in raw_td.get("containerDefinitions") or [] if c.get("essential", True)]


# -- TF09-HEALTH-CHECK -------------------------------------------------------------------------
_ALWAYS_OK = re.compile(r"^\s*(exit\s+0|true|:|/bin/true|/usr/bin/true)\s*$")
_OR_OK = re.compile(r"\|\|\s*(exit\s+0|true|:)\s*;?\s*$")


def trivial_health_check(command: list[str]) -> str:
    """Why a health check command can never fail ("" when it can)."""
    if not command:
        return "it has no command"
    kind, rest = command[0], [str(a) for a in command[1:]]
    text = " ".join(rest) if kind in {"CMD-SHELL", "CMD"} else " ".join(map(str, command))
    if _ALWAYS_OK.match(text):
        return f"'{text.strip()}' always succeeds"
    if kind == "CMD-SHELL" and _OR_OK.search(text):
        return f"'{text.strip()}' ends in an '|| exit 0'-style fallback, so it always succeeds"
    return ""


@check("TF09-HEALTH-CHECK")
def health_check(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_task_definitions(inv)
    for c in inv.rows("containers"):
        hc = _definition(raw, c).get("healthCheck") or {}
        command = [str(a) for a in hc.get("command") or []]
        evidence = {
            "essential": bool(c["essential"]),
            "health_check": command,
            "interval": hc.get("interval"),
            "retries": hc.get("retries"),
            "start_period": hc.get("startPeriod"),
        }
        who = f"Container {container_id(c)}"
        if not c["essential"]:
            yield container_result(
                c,
                Status.SKIP,
                f"{who} is not essential: its health does not decide its task's.",
                evidence,
            )
        elif not command:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} has no health check: ECS replaces it only when it exits, not when it "
                "hangs.",
                evidence,
            )
        elif why := trivial_health_check(command):
            yield container_result(
                c,
                Status.FAIL,
                f"{who} has a health check that cannot fail: {why}.",
                evidence | {"trivial": why},
            )
        else:
            yield container_result(
                c,
                Status.PASS,
                f"{who} is health-checked: {' '.join(command[1:]) or command[0]}"
                + (f" (start period {hc['startPeriod']} s)." if hc.get("startPeriod") else "."),
                evidence,
            )


# -- TF09-GRACE-PERIOD -------------------------------------------------------------------------
@check("TF09-GRACE-PERIOD")
def grace_period(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_task_definitions(inv)
    for s in inv.rows("services"):
        target_groups = json.loads(s["target_group_arns"] or "[]")
        checked = sorted(
            c.get("name", "")
            for c in _essential(raw.get(s["task_definition_arn"], {}))
            if (c.get("healthCheck") or {}).get("command")
        )
        if not target_groups and not checked:
            continue  # no health check at all: TF09-HEALTH-CHECK's finding
        by = (["its load balancer's target group"] if target_groups else []) + (
            [f"container health checks ({', '.join(checked)})"] if checked else []
        )
        grace = s["health_check_grace_period"]
        grace = None if pd.isna(grace) else int(grace)
        evidence = {
            "grace_period_seconds": grace,
            "target_groups": len(target_groups),
            "health_checked_containers": checked,
        }
        who = f"Service {service_id(s)}"
        if grace:
            yield service_result(
                s,
                Status.PASS,
                f"{who} gives new tasks {grace} s before {' and '.join(by)} count.",
                evidence,
            )
        else:
            yield service_result(
                s,
                Status.FAIL,
                f"{who} is health-checked by {' and '.join(by)} from a task's first second: "
                "no health-check grace period.",
                evidence,
            )


# -- TF09-STOP-TIMEOUT -------------------------------------------------------------------------
def _launch(s: Any, raw_service: dict[str, Any]) -> str:
    providers = [
        p.get("capacityProvider", "") for p in raw_service.get("capacityProviderStrategy") or []
    ]
    if providers:
        return "FARGATE" if all(p.startswith("FARGATE") for p in providers) else "EC2"
    return s["launch_type"] or ""


@check("TF09-STOP-TIMEOUT")
def stop_timeout(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_task_definitions(inv)
    target_groups = _raw_target_groups(inv)
    services = raw_services(inv)
    for s in inv.rows("services"):
        who = f"Service {service_id(s)}"
        td = raw.get(s["task_definition_arn"])
        if td is None:
            continue  # not described: the engine reports the DescribeTaskDefinition gap
        timeouts = {c.get("name", ""): c.get("stopTimeout") for c in _essential(td)}
        delays: dict[str, int | None] = {}
        for arn in json.loads(s["target_group_arns"] or "[]"):
            tg = target_groups.get(arn)
            attributes = (tg or {}).get("attributes")
            name = (tg or {}).get("TargetGroupName") or arn.rsplit("/", 2)[-2]
            delays[name] = (
                int(
                    attributes.get(
                        "deregistration_delay.timeout_seconds", DEFAULT_DEREGISTRATION_DELAY
                    )
                )
                if attributes is not None
                else None
            )
        launch = _launch(s, services.get(s["service_arn"], {}))
        evidence = {
            "stop_timeouts": timeouts,
            "deregistration_delays": delays,
            "launch": launch,
        }
        unknown = sorted(n for n, d in delays.items() if d is None)
        unset = sorted(n for n, t in timeouts.items() if t is None)
        shortest = min((t for t in timeouts.values() if t is not None), default=None)
        longest_delay = max((d for d in delays.values() if d is not None), default=None)
        if unknown:
            yield service_result(
                s,
                Status.ERROR,
                f"Could not read the deregistration delay of target group(s) "
                f"{', '.join(unknown)} in front of {service_id(s)}.",
                evidence,
            )
            continue
        problems = []
        if unset:
            problems.append(
                f"container(s) {', '.join(unset)} set no stopTimeout (ECS's "
                f"{DEFAULT_STOP_TIMEOUT} s default, chosen by nobody)"
            )
        effective = min(
            (t if t is not None else DEFAULT_STOP_TIMEOUT for t in timeouts.values()),
            default=None,
        )
        if longest_delay is not None and effective is not None and longest_delay > effective:
            fix = (
                f" (Fargate allows at most {FARGATE_MAX_STOP_TIMEOUT} s: lower the delay)"
                if launch == "FARGATE" and longest_delay > FARGATE_MAX_STOP_TIMEOUT
                else ""
            )
            problems.append(
                f"its target group drains for {longest_delay} s, longer than the "
                f"{effective} s the process gets after SIGTERM{fix}"
            )
        if problems:
            yield service_result(s, Status.FAIL, f"{who}: " + "; ".join(problems) + ".", evidence)
        elif not timeouts:
            continue  # no essential container: nothing stops it (not a valid task definition)
        else:
            yield service_result(
                s,
                Status.PASS,
                f"{who} gives its processes {shortest} s after SIGTERM"
                + (
                    f", no less than its target group's {longest_delay} s of draining."
                    if longest_delay is not None
                    else " (no load balancer drains it)."
                ),
                evidence,
            )


# -- TF09-STOPPED-TASKS ------------------------------------------------------------------------
#: Stop codes of stops someone or something asked for (the process should exit on SIGTERM).
REQUESTED_STOPS = frozenset(
    {"ServiceSchedulerInitiated", "UserInitiated", "SpotInterruption", "TerminationNotice"}
)
START_FAILURES = ("CannotPullContainer", "ResourceInitializationError", "CannotStartContainer")
BAD_OUTCOMES = ("out of memory", "SIGTERM ignored")
CRASHES = ("crashed", "failed to start")


def classify_stop(task: dict[str, Any]) -> str:
    """How one stopped task ended: out of memory, SIGTERM ignored, failed to start, crashed,
    exited (0) or stopped cleanly."""
    exits = [c.get("exit_code") for c in task["containers"]]
    text = " ".join([task["stopped_reason"], *(c.get("reason") or "" for c in task["containers"])])
    code = task["stop_code"]
    if "outofmemory" in text.lower().replace(" ", "") or "oomkilled" in text.lower():
        return "out of memory"
    if 137 in exits and code in REQUESTED_STOPS:
        return "SIGTERM ignored"
    if code == "TaskFailedToStart" or any(s in text for s in START_FAILURES):
        return "failed to start"
    if any(e not in (None, 0, 143) for e in exits):
        return "crashed"
    if code == "EssentialContainerExited" or "Essential container in task exited" in text:
        return "exited (0)"
    return "stopped cleanly"


def stopped_groups(inv: Inventory) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(region, cluster, service or family) -> placement, kind and classified stopped tasks."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for t in inv.rows("tasks"):
        if t["last_status"] != "STOPPED":
            continue
        kind = "service" if t["service"] else "standalone"
        key = (t["region"], t["cluster"], t["service"] or t["family"])
        group = out.setdefault(key, {"row": t, "kind": kind, "tasks": []})
        task = {
            "task": t["task_arn"].rsplit("/", 1)[-1],
            "revision": None if pd.isna(t["revision"]) else int(t["revision"]),
            "started_by": t["started_by"],
            "stop_code": t["stop_code"] or "",
            "stopped_reason": t["stopped_reason"] or "",
            "containers": json.loads(t["exit_codes"] or "[]"),
        }
        task["outcome"] = classify_stop(task)
        group["tasks"].append(task)
    return out


@check("TF09-STOPPED-TASKS")
def stopped_tasks(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for (_, cluster, name), group in sorted(stopped_groups(inv).items()):
        row, tasks = group["row"], group["tasks"]
        outcomes = Counter(t["outcome"] for t in tasks)
        what = (
            f"Service {cluster}/{name}"
            if group["kind"] == "service"
            else f"Tasks of {name} started on their own in {cluster}"
        )
        summary = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
        evidence = {"kind": group["kind"], "outcomes": dict(outcomes), "tasks": tasks}
        bad = [o for o in BAD_OUTCOMES if outcomes[o]]
        crashes = sum(outcomes[o] for o in CRASHES)
        placed = {
            "resource_type": "AwsEcsService" if group["kind"] == "service" else "AwsEcsTask",
            "resource_id": f"{cluster}/{name}",
        }
        if bad or crashes >= CRASH_LOOP:
            reasons = [f"{outcomes[o]} {o}" for o in bad] + (
                [f"{crashes} crashes or failed starts: a crash loop"]
                if crashes >= CRASH_LOOP
                else []
            )
            status, message = (
                Status.FAIL,
                f"{what}: {'; '.join(reasons)} among {plural(len(tasks), 'stopped task')} "
                f"({summary}).",
            )
        elif crashes:
            status, message = (
                Status.INFO,
                f"{what}: {crashes} of {plural(len(tasks), 'stopped task')} crashed or failed "
                f"to start ({summary}); fewer than {CRASH_LOOP}, not yet a loop.",
            )
        else:
            status, message = (
                Status.PASS,
                f"{what}: {'the' if len(tasks) == 1 else 'all'} "
                f"{plural(len(tasks), 'stopped task')} ended cleanly ({summary}).",
            )
        yield result(row, status, message, evidence=evidence, **placed)


# -- TF09-LOG-NONBLOCKING ----------------------------------------------------------------------
def account_log_mode(inv: Inventory, region: str) -> str | None:
    """The effective defaultLogDriverMode of the account in ``region`` (None: not reported)."""
    for s in inv.snapshot.get(region, "ecs").get("account_settings") or []:
        if s.get("name") == "defaultLogDriverMode" and s.get("value"):
            return str(s["value"])
    return None


@check("TF09-LOG-NONBLOCKING")
def log_nonblocking(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_task_definitions(inv)
    for c in inv.rows("containers"):
        log = _definition(raw, c).get("logConfiguration") or {}
        options = log.get("options") or {}
        who = f"Container {container_id(c)}"
        driver = log.get("logDriver", "")
        mode = options.get("mode", "")
        account = account_log_mode(inv, c["region"])
        evidence = {
            "log_driver": driver,
            "mode": mode,
            "max_buffer_size": options.get("max-buffer-size", ""),
            "account_default": account,
        }
        if not driver:
            yield container_result(
                c,
                Status.SKIP,
                f"{who} has no log configuration (factor XI judges that): no log driver to "
                "block on.",
                evidence,
            )
            continue
        effective, source = (mode, "its own option") if mode else (account, "the account default")
        if effective == "non-blocking":
            yield container_result(
                c,
                Status.PASS,
                f"{who} logs through {driver} in non-blocking mode ({source}"
                + (
                    f", buffer {options['max-buffer-size']})."
                    if options.get("max-buffer-size")
                    else ")."
                ),
                evidence,
            )
        elif effective == "blocking":
            yield container_result(
                c,
                Status.FAIL,
                f"{who} logs through {driver} in blocking mode ({source}): if the log backend "
                "stalls, so does the process.",
                evidence,
            )
        else:
            yield container_result(
                c,
                Status.INFO,
                f"{who} sets no log mode and the account's defaultLogDriverMode was not "
                "reported: ECS's default has been non-blocking since June 2025, blocking before.",
                evidence,
            )


# -- TF09-IMAGE-SIZE ---------------------------------------------------------------------------
def _unread_repositories(inv: Inventory) -> set[tuple[str, str]]:
    """(region, repository) whose images could not be listed."""
    return {
        (region, repo)
        for region in inv.regions
        for repo, images in (inv.snapshot.get(region, "ecr").get("images") or {}).items()
        if images is None
    }


def _sizes(inv: Inventory) -> tuple[dict[tuple, int | None], dict[tuple, int | None]]:
    """ECR image sizes by (region, repository, digest) and by (region, repository, tag)."""
    by_digest: dict[tuple, int | None] = {}
    by_tag: dict[tuple, int | None] = {}
    for r in inv.images.itertuples():
        size = None if pd.isna(r.size_bytes) else int(r.size_bytes)
        by_digest[(r.region, r.repository, r.digest)] = size
        for tag in (t.strip() for t in r.tags.split(",")):
            if tag:
                by_tag[(r.region, r.repository, tag)] = size
    return by_digest, by_tag


def _mib(size: int) -> str:
    return f"{size / MIB:,.0f} MiB" if size >= MIB else f"{size:,} bytes"


@check("TF09-IMAGE-SIZE")
def image_size(inv: Inventory, settings: Settings) -> Iterator[Result]:
    by_digest, by_tag = _sizes(inv)
    unread = _unread_repositories(inv)
    for c in inv.rows("containers"):
        who = f"Container {container_id(c)}"
        evidence: dict[str, Any] = {
            "image": c["image"],
            "repository": c["image_repository"],
            "size_bytes": None,
        }
        own = c["image_source"] == "private-ecr" and c["image_account"] == inv.account
        if not own:
            yield container_result(
                c,
                Status.SKIP,
                f"{who} runs an image from {c['image_source'] or 'nowhere'} "
                f"({c['image_registry']}), whose size the audit does not read.",
                evidence,
            )
            continue
        region, repo = c["image_region"], c["image_repository"]
        size = (
            by_digest.get((region, repo, c["image_digest"]))
            if c["image_digest"]
            else by_tag.get((region, repo, c["image_tag"] or "latest"))
        )
        if size is None and (region, repo) in unread:
            yield container_result(
                c,
                Status.ERROR,
                f"{who} runs an image of {repo}, whose images could not be listed: its size is "
                "unknown.",
                evidence,
            )
            continue
        if size is None:
            yield container_result(
                c,
                Status.SKIP,
                f"{who} runs {repo}@{(c['image_digest'] or c['image_tag'] or 'latest')[:19]}, "
                "which the repository no longer holds (or reports no size).",
                evidence,
            )
            continue
        evidence["size_bytes"] = size
        if size > IMAGE_FAIL_BYTES:
            status, verdict = Status.FAIL, "above 1 GiB: every new task waits for the pull"
        elif size > IMAGE_INFO_BYTES:
            status, verdict = Status.INFO, "between 500 MiB and 1 GiB: worth slimming"
        else:
            status, verdict = Status.PASS, "small enough to start fast"
        yield container_result(
            c,
            status,
            f"{who} runs a {_mib(size)} image ({repo}, compressed): {verdict}.",
            evidence,
        )


# -- evidence tables ---------------------------------------------------------------------------
def _rows(wb: Workbook, check_id: str) -> Iterator[tuple[pd.Series, dict[str, Any]]]:
    for _, f in wb.findings_for(check_id=check_id).iterrows():
        if f["resource_id"] != "*" and "missing_action" not in f["evidence"]:
            yield f, json.loads(f["evidence"])


def _place(f: pd.Series) -> dict[str, str]:
    return {k: f[k] for k in PLACE}


@evidence("TF09-HEALTH-CHECK")
def _health_table(wb: Workbook) -> pd.DataFrame:
    """Each container: essential or not, its health-check command and timings."""
    rows = [
        _place(f)
        | {
            "container": f["resource_id"],
            "status": f["status"],
            "essential": ev.get("essential"),
            "health_check": " ".join(ev.get("health_check", [])),
            "interval": ev.get("interval"),
            "retries": ev.get("retries"),
            "start_period": ev.get("start_period"),
        }
        for f, ev in _rows(wb, "TF09-HEALTH-CHECK")
    ]
    cols = ["container", "status", "essential", "health_check", "interval", "retries"]
    table = pd.DataFrame(rows, columns=PLACE + cols + ["start_period"])
    for column in ("interval", "retries", "start_period"):
        table[column] = table[column].astype("Int64")
    return table


@evidence("TF09-GRACE-PERIOD")
def _grace_table(wb: Workbook) -> pd.DataFrame:
    """Health-checked services: what checks them and their grace period."""
    rows = [
        _place(f)
        | {
            "service": f["resource_id"],
            "status": f["status"],
            "target_groups": ev.get("target_groups"),
            "health_checked_containers": ", ".join(ev.get("health_checked_containers", [])),
            "grace_period_seconds": ev.get("grace_period_seconds"),
        }
        for f, ev in _rows(wb, "TF09-GRACE-PERIOD")
    ]
    cols = ["service", "status", "target_groups", "health_checked_containers"]
    table = pd.DataFrame(rows, columns=PLACE + cols + ["grace_period_seconds"])
    for column in ("target_groups", "grace_period_seconds"):
        table[column] = table[column].astype("Int64")
    return table


@evidence("TF09-STOP-TIMEOUT")
def _stop_table(wb: Workbook) -> pd.DataFrame:
    """Each service: its essential containers' stopTimeout and its target groups' draining."""
    rows = []
    for f, ev in _rows(wb, "TF09-STOP-TIMEOUT"):
        delays = ev.get("deregistration_delays") or {}
        for container, timeout in (ev.get("stop_timeouts") or {}).items():
            rows.append(
                _place(f)
                | {
                    "service": f["resource_id"],
                    "status": f["status"],
                    "launch": ev.get("launch", ""),
                    "container": container,
                    "stop_timeout": timeout,
                    "target_groups": ", ".join(delays),
                    "deregistration_delay": max(
                        (d for d in delays.values() if d is not None), default=None
                    ),
                }
            )
    cols = ["service", "status", "launch", "container", "stop_timeout", "target_groups"]
    table = pd.DataFrame(rows, columns=PLACE + cols + ["deregistration_delay"])
    for column in ("stop_timeout", "deregistration_delay"):
        table[column] = table[column].astype("Int64")
    return table


@evidence("TF09-STOPPED-TASKS")
def _stopped_table(wb: Workbook) -> pd.DataFrame:
    """Stopped tasks grouped by service (or family), outcome, stop code, reason and exit codes."""
    counts: Counter = Counter()
    places: dict[tuple, dict[str, Any]] = {}
    for f, ev in _rows(wb, "TF09-STOPPED-TASKS"):
        for t in ev.get("tasks", []):
            exits = ", ".join(
                f"{c.get('container')}={c.get('exit_code')}" for c in t.get("containers", [])
            )
            key = (
                f["resource_id"],
                f["status"],
                t["outcome"],
                t["stop_code"],
                t["stopped_reason"],
                exits,
            )
            counts[key] += 1
            places[key] = _place(f)
    rows = [
        places[key]
        | dict(
            zip(
                ["group", "status", "outcome", "stop_code", "stopped_reason", "exit_codes"],
                key,
                strict=True,
            )
        )
        | {"tasks": n}
        for key, n in sorted(counts.items())
    ]
    cols = ["group", "status", "outcome", "stop_code", "stopped_reason", "exit_codes", "tasks"]
    return pd.DataFrame(rows, columns=PLACE + cols)


@evidence("TF09-LOG-NONBLOCKING")
def _log_mode_table(wb: Workbook) -> pd.DataFrame:
    """Each container: its log driver, its own mode option and the account default."""
    rows = [
        _place(f)
        | {
            "container": f["resource_id"],
            "status": f["status"],
            "log_driver": ev.get("log_driver", ""),
            "mode": ev.get("mode", ""),
            "max_buffer_size": ev.get("max_buffer_size", ""),
            "account_default": ev.get("account_default") or "",
        }
        for f, ev in _rows(wb, "TF09-LOG-NONBLOCKING")
    ]
    cols = ["container", "status", "log_driver", "mode", "max_buffer_size", "account_default"]
    return pd.DataFrame(rows, columns=PLACE + cols)


@evidence("TF09-IMAGE-SIZE")
def _image_table(wb: Workbook) -> pd.DataFrame:
    """Each container: the repository of its image and the image's compressed size in MiB."""
    rows = [
        _place(f)
        | {
            "container": f["resource_id"],
            "status": f["status"],
            "repository": ev.get("repository", ""),
            "size_mib": None if ev.get("size_bytes") is None else ev["size_bytes"] / MIB,
        }
        for f, ev in _rows(wb, "TF09-IMAGE-SIZE")
    ]
    table = pd.DataFrame(rows, columns=PLACE + ["container", "status", "repository", "size_mib"])
    table["size_mib"] = table["size_mib"].astype(float).round(1)
    return table


# -- pictures ----------------------------------------------------------------------------------
@plot("image-sizes")
def image_sizes(wb: Workbook) -> Figure:
    """Compressed image size per container, against the 500 MiB and 1 GiB lines."""
    table = wb.evidence("TF09-IMAGE-SIZE")
    table = table[table["size_mib"].notna()].sort_values(["size_mib", "container"])
    fig = Figure(figsize=(8, 0.35 * max(len(table), 3) + 1.4), layout="constrained")
    ax = fig.subplots()
    if table.empty:
        empty_axes(ax, "no image sizes known")
        return fig
    ax.barh(
        table["container"],
        table["size_mib"],
        color=[STATUS_COLOURS.get(s, "#999999") for s in table["status"]],
    )
    for line, label, style in ((500, "500 MiB", ":"), (1024, "1 GiB", "--")):
        ax.axvline(line, color="#000000" if style == ":" else "#E69F00", linestyle=style)
        ax.text(line, 1.01, f" {label}", fontsize=8, transform=ax.get_xaxis_transform())
    ax.set_xlabel(
        "compressed image size in ECR (MiB), pulled by every new task · green: small · "
        "sky blue: large · vermillion: above 1 GiB",
        fontsize=8,
    )
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


#: Colours of stop outcomes: bad ones warm, crashes purple, clean ones green/grey.
OUTCOME_COLOURS = {
    "out of memory": "#D55E00",
    "SIGTERM ignored": "#E69F00",
    "crashed": "#CC79A7",
    "failed to start": "#56B4E9",
    "exited (0)": "#009E73",
    "stopped cleanly": "#999999",
}


@plot("stopped-tasks")
def stopped_task_outcomes(wb: Workbook) -> Figure:
    """Stopped tasks per service (or family), stacked by how they ended."""
    table = wb.evidence("TF09-STOPPED-TASKS")
    fig = Figure(figsize=(8, 0.45 * max(table["group"].nunique(), 3) + 1.4), layout="constrained")
    ax = fig.subplots()
    if table.empty:
        ax.text(
            0.5,
            0.5,
            "no stopped tasks in the collected window",
            ha="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    pivot = table.pivot_table(
        index="group", columns="outcome", values="tasks", aggfunc="sum", fill_value=0
    )
    outcomes = [o for o in OUTCOME_COLOURS if o in pivot.columns]
    pivot[outcomes][::-1].plot.barh(
        stacked=True, ax=ax, color=[OUTCOME_COLOURS[o] for o in outcomes], width=0.7
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("stopped tasks in the collected window (ECS keeps them about an hour)")
    ax.set_ylabel("")
    ax.legend(title="how they ended", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
