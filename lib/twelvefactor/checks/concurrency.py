"""Factor VIII, Concurrency: scale out via the process model.

Four checks over ECS services, their Application Auto Scaling targets, where their tasks can run
and the task definitions they run (and the latest revision of every family):

* ``TF08-AUTOSCALING``: every replica service has a scalable target with min < max and a policy
  (production; a staging service without one is INFO).
* ``TF08-MULTI-AZ``: production services run two or more tasks in two or more zones: desired
  count, the scalable target's minimum, the zones of their subnets or EC2 hosts and, where
  running tasks were seen, the zones they run in.
* ``TF08-PROCESS-TYPES``: a task definition runs one process type: not the same image twice with
  different commands, not several long-running programs in one container.
* ``TF08-RESOURCE-LIMITS``: task-level cpu and memory, or a cpu share and a hard memory limit on
  every container.

Application Auto Scaling targets' suspended state, services' subnets and placement, tasks'
network attachments and container instances' attributes are read from the raw snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import Inventory
from ..plots import STATUS_COLOURS, empty_axes, plot
from ..settings import Settings
from . import check
from .common import result, td_id, td_result
from .processes import _raw_task_definitions, analyse_command

if TYPE_CHECKING:
    from ..workbook import Workbook

FACTOR = 8
CHECK_IDS = (
    "TF08-AUTOSCALING",
    "TF08-MULTI-AZ",
    "TF08-PROCESS-TYPES",
    "TF08-RESOURCE-LIMITS",
)
#: Environments judged by TF08-MULTI-AZ and held to TF08-AUTOSCALING ("" = not known).
PRODUCTION = frozenset({"production", ""})
MIN_TASKS = 2
MIN_ZONES = 2


# -- shared ------------------------------------------------------------------------------------
def service_id(s: Any) -> str:
    return f"{s['cluster']}/{s['service']}"


def service_result(s: Any, status: Status, message: str, evidence: dict[str, Any]) -> Result:
    """A Result about one ECS service (a row of ``inventory.services``)."""
    return result(
        s,
        status,
        message,
        resource_type="AwsEcsService",
        resource_id=service_id(s),
        resource_arn=s["service_arn"],
        evidence=evidence,
    )


def raw_services(inv: Inventory) -> dict[str, dict[str, Any]]:
    """describe_services items by service ARN."""
    return {
        s["serviceArn"]: s
        for region in inv.regions
        for s in inv.snapshot.get(region, "ecs").get("services") or []
    }


def plural(n: int, word: str, many: str = "") -> str:
    """'1 task', '3 tasks', '2 policies'."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def _env(s: Any) -> str:
    return s["environment"] or "no known environment"


# -- TF08-AUTOSCALING --------------------------------------------------------------------------
def _raw_targets(inv: Inventory) -> dict[tuple[str, str], dict[str, Any]]:
    """(region, 'service/<cluster>/<service>') -> the DescribeScalableTargets item."""
    return {
        (region, t.get("ResourceId", "")): t
        for region in inv.regions
        for t in inv.snapshot.get(region, "application-autoscaling").get("scalable_targets") or []
        if t.get("ScalableDimension") == "ecs:service:DesiredCount"
    }


def scaling_of(inv: Inventory) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(region, cluster, service) -> min, max, policies, scheduled actions, suspended."""
    raw = _raw_targets(inv)
    out = {}
    for t in inv.scaling_targets.itertuples():
        suspended = (raw.get((t.region, t.resource_id)) or {}).get("SuspendedState") or {}
        out[(t.region, t.cluster, t.service)] = {
            "min": None if pd.isna(t.min_capacity) else int(t.min_capacity),
            "max": None if pd.isna(t.max_capacity) else int(t.max_capacity),
            "policies": None if pd.isna(t.policy_count) else int(t.policy_count),
            "policy_types": t.policy_types,
            "scheduled_actions": int(t.scheduled_actions),
            "suspended": sorted(k for k, v in suspended.items() if v),
        }
    return out


@check("TF08-AUTOSCALING")
def autoscaling(inv: Inventory, settings: Settings) -> Iterator[Result]:
    scaling = scaling_of(inv)
    for s in inv.rows("services"):
        who = f"Service {service_id(s)}"
        target = scaling.get((s["region"], s["cluster"], s["service"]))
        evidence: dict[str, Any] = {
            "desired_count": int(s["desired_count"]),
            "scheduling_strategy": s["scheduling_strategy"],
            "scaling": target,
        }
        if s["scheduling_strategy"] == "DAEMON":
            yield service_result(
                s,
                Status.SKIP,
                f"{who} is a DAEMON service: it runs one task per instance and scales with the "
                "cluster's capacity.",
                evidence,
            )
            continue
        if target is None:
            if not s["active"]:
                yield service_result(
                    s,
                    Status.SKIP,
                    f"{who} is scaled to zero and has no scalable target: it runs nothing.",
                    evidence,
                )
            elif s["environment"] in PRODUCTION:
                yield service_result(
                    s,
                    Status.FAIL,
                    f"{who} ({_env(s)}) has no Application Auto Scaling target: it runs "
                    f"{plural(int(s['desired_count']), 'task')} whatever the load.",
                    evidence,
                )
            else:
                yield service_result(
                    s,
                    Status.INFO,
                    f"{who} ({s['environment']}) has no Application Auto Scaling target; fine "
                    "for a fixed-size environment, but its scaling setup goes untested before "
                    "production.",
                    evidence,
                )
            continue
        problems = []
        low, high = target["min"], target["max"]
        if low is not None and high is not None and low >= high:
            problems.append(f"its range is fixed (min {low} = max {high})")
        if target["policies"] == 0:
            problems.append(
                "it has no scaling policy"
                + (
                    f" (only {plural(target['scheduled_actions'], 'scheduled action')}, "
                    "which follow the clock, not the load)"
                    if target["scheduled_actions"]
                    else ""
                )
            )
        if any(k.startswith("DynamicScalingOut") for k in target["suspended"]):
            problems.append("scaling out is suspended")
        if problems:
            yield service_result(
                s,
                Status.FAIL,
                f"{who} has a scalable target, but " + " and ".join(problems) + ".",
                evidence,
            )
        elif target["policies"] is None:
            yield service_result(
                s,
                Status.ERROR,
                f"{who} has a scalable target ({low}-{high} tasks), but its scaling policies "
                "could not be read.",
                evidence,
            )
        else:
            yield service_result(
                s,
                Status.PASS,
                f"{who} scales between {low} and {high} tasks with "
                f"{plural(target['policies'], 'policy', 'policies')} ({target['policy_types']}).",
                evidence,
            )


# -- TF08-MULTI-AZ -----------------------------------------------------------------------------
def _subnet_zones(inv: Inventory) -> dict[tuple[str, str], str]:
    return {(r.region, r.subnet_id): r.availability_zone for r in inv.subnets.itertuples()}


def _host_zones(inv: Inventory) -> dict[tuple[str, str], set[str]]:
    """(region, cluster ARN) -> the zones of its registered, ACTIVE EC2 container instances."""
    out: dict[tuple[str, str], set[str]] = {}
    for region in inv.regions:
        for ci in inv.snapshot.get(region, "ecs").get("container_instances") or []:
            if ci.get("status", "ACTIVE") != "ACTIVE":
                continue
            zone = next(
                (
                    a.get("value")
                    for a in ci.get("attributes") or []
                    if a.get("name") == "ecs.availability-zone"
                ),
                None,
            )
            if zone:
                out.setdefault((region, ci.get("clusterArn", "")), set()).add(zone)
    return out


def task_zone(task: dict[str, Any], subnets: dict[tuple[str, str], str], region: str) -> str:
    """A task's zone: ``availabilityZone``, else the zone of its network interface's subnet."""
    if task.get("availabilityZone"):
        return task["availabilityZone"]
    for attachment in task.get("attachments") or []:
        for detail in attachment.get("details") or []:
            if detail.get("name") == "subnetId":
                zone = subnets.get((region, detail.get("value", "")))
                if zone:
                    return zone
    return ""


def _running_zones(inv: Inventory) -> dict[tuple[str, str, str], list[str]]:
    """(region, cluster, service) -> the zone of each RUNNING task ('' when unknown)."""
    subnets = _subnet_zones(inv)
    out: dict[tuple[str, str, str], list[str]] = {}
    for region in inv.regions:
        for t in inv.snapshot.get(region, "ecs").get("tasks") or []:
            group = t.get("group") or ""
            if t.get("lastStatus") != "RUNNING" or not group.startswith("service:"):
                continue
            cluster = (t.get("clusterArn") or "").rsplit("/", 1)[-1]
            out.setdefault((region, cluster, group.split(":", 1)[1]), []).append(
                task_zone(t, subnets, region)
            )
    return out


def placement_zones(inv: Inventory) -> dict[str, dict[str, Any]]:
    """service ARN -> where its tasks can go: {"source", "zones"} (zones sorted, may be empty)."""
    subnets = _subnet_zones(inv)
    hosts = _host_zones(inv)
    services = raw_services(inv)
    out = {}
    for s in inv.rows("services"):
        raw = services.get(s["service_arn"], {})
        vpc = (raw.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        if vpc.get("subnets"):
            zones = {subnets.get((s["region"], sn), "") for sn in vpc["subnets"]}
            unknown = sorted(sn for sn in vpc["subnets"] if not subnets.get((s["region"], sn)))
            out[s["service_arn"]] = {
                "source": "subnets",
                "subnets": list(vpc["subnets"]),
                "zones": sorted(z for z in zones if z),
                "unknown_subnets": unknown,
            }
        elif s["launch_type"] == "EC2" or raw.get("capacityProviderStrategy"):
            out[s["service_arn"]] = {
                "source": "EC2 container instances",
                "zones": sorted(hosts.get((s["region"], raw.get("clusterArn", "")), set())),
            }
        else:
            out[s["service_arn"]] = {"source": "", "zones": []}
    return out


@check("TF08-MULTI-AZ")
def multi_az(inv: Inventory, settings: Settings) -> Iterator[Result]:
    scaling = scaling_of(inv)
    places = placement_zones(inv)
    running = _running_zones(inv)
    for s in inv.rows("services"):
        if s["environment"] not in PRODUCTION or s["scheduling_strategy"] == "DAEMON":
            continue
        who = f"Service {service_id(s)}"
        key = (s["region"], s["cluster"], s["service"])
        target = scaling.get(key)
        place = places[s["service_arn"]]
        seen = running.get(key, [])
        seen_zones = sorted({z for z in seen if z})
        desired = int(s["desired_count"])
        evidence = {
            "desired_count": desired,
            "min_capacity": target["min"] if target else None,
            "placement": place,
            "running_tasks": len(seen),
            "running_zones": seen_zones,
        }
        problems = []
        if desired < MIN_TASKS:
            problems.append(f"it runs {plural(desired, 'task')}")
        if target and target["min"] is not None and target["min"] < MIN_TASKS:
            problems.append(f"scaling may take it down to {plural(target['min'], 'task')}")
        if place["source"] and place["zones"] and len(place["zones"]) < MIN_ZONES:
            problems.append(f"its {place['source']} are all in {place['zones'][0]}")
        if len(seen) >= MIN_TASKS and len(seen_zones) == 1 and len(place["zones"]) != 1:
            problems.append(f"its {len(seen)} running tasks are all in {seen_zones[0]}")
        if problems:
            yield service_result(
                s, Status.FAIL, f"{who} is not spread: " + "; ".join(problems) + ".", evidence
            )
        elif not place["zones"] and len(seen_zones) < MIN_ZONES:
            yield service_result(
                s,
                Status.INFO,
                f"{who} runs {desired} tasks, but the zones it can place them in are unknown "
                "(no subnets in its network configuration and no EC2 container instances)"
                + (
                    f" and its running tasks were seen in {plural(len(seen_zones), 'zone')} only."
                    if seen_zones
                    else "."
                ),
                evidence,
            )
        elif not place["zones"]:
            yield service_result(
                s,
                Status.PASS,
                f"{who} runs {desired} tasks; its {len(seen)} running tasks are in "
                f"{', '.join(seen_zones)} (where else it could place them is unknown).",
                evidence,
            )
        else:
            tasks_seen = (
                f"; its {len(seen)} running tasks are in {', '.join(seen_zones)}"
                if seen_zones
                else "; no running tasks were seen, so this rests on its configuration"
            )
            yield service_result(
                s,
                Status.PASS,
                f"{who} runs {desired} tasks"
                + (f" (at least {target['min']})" if target and target["min"] else "")
                + f" placed over {len(place['zones'])} zones ({', '.join(place['zones'])})"
                + tasks_seen
                + ".",
                evidence,
            )


# -- TF08-PROCESS-TYPES ------------------------------------------------------------------------
def _repository(image: str) -> str:
    """An image without its tag or digest: what 'the same image' means across containers."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def process_types(raw_td: dict[str, Any]) -> dict[str, Any]:
    """The containers of a task definition with their process types, and what bundles them."""
    definitions = raw_td.get("containerDefinitions") or []
    # init steps: containers others wait for to finish (dependsOn SUCCESS/COMPLETE), not residents
    init = {
        d.get("containerName", "")
        for c in definitions
        for d in c.get("dependsOn") or []
        if d.get("condition") in {"SUCCESS", "COMPLETE"}
    }
    containers = []
    for c in definitions:
        argv = [str(a) for a in (c.get("entryPoint") or []) + (c.get("command") or [])]
        analysis = analyse_command(argv) if argv else None
        containers.append(
            {
                "container": c.get("name", ""),
                "repository": _repository(c.get("image", "")),
                "essential": bool(c.get("essential", True)),
                "init_step": c.get("name", "") in init,
                "command": " ".join(argv),
                "processes": analysis.processes if analysis else [],
                "managers": analysis.managers if analysis else [],
            }
        )
    bundles = []
    by_repo: dict[str, list[dict[str, Any]]] = {}
    for c in containers:
        if not c["init_step"]:
            by_repo.setdefault(c["repository"], []).append(c)
    for repo, group in sorted(by_repo.items()):
        commands = {c["command"] for c in group}
        if len(group) > 1 and len(commands) > 1:
            bundles.append(
                f"{' and '.join(c['container'] for c in group)} run the same image ({repo}) "
                "with different commands"
            )
    for c in containers:
        if c["managers"]:
            bundles.append(
                f"{c['container']} starts a process manager ({', '.join(c['managers'])})"
            )
        elif len(c["processes"]) > 1:
            bundles.append(
                f"{c['container']} keeps {len(c['processes'])} programs running: "
                + "; ".join(c["processes"])
            )
    return {"containers": containers, "bundles": bundles}


@check("TF08-PROCESS-TYPES")
def process_types_check(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_task_definitions(inv)
    for td in inv.rows("task_definitions"):
        found = process_types(raw.get(td["task_definition_arn"], {}))
        evidence = found | {"in_use": bool(td["in_use"])}
        if found["bundles"]:
            yield td_result(
                td,
                Status.FAIL,
                f"Task definition {td_id(td)} bundles process types that can only scale "
                "together: " + "; ".join(found["bundles"]) + ".",
                evidence,
            )
        else:
            names = [c["container"] for c in found["containers"]]
            yield td_result(
                td,
                Status.PASS,
                f"Task definition {td_id(td)} runs one process type"
                + (
                    f" ({len(names)} containers from different images: sidecars)."
                    if len(names) > 1
                    else "."
                ),
                evidence,
            )


# -- TF08-RESOURCE-LIMITS ----------------------------------------------------------------------
def resource_limits(raw_td: dict[str, Any]) -> dict[str, Any]:
    """Task-level cpu/memory and each container's cpu, memory and memoryReservation."""
    containers = [
        {
            "container": c.get("name", ""),
            "cpu": c.get("cpu") or None,  # 0 is "no reservation"
            "memory": c.get("memory"),
            "memory_reservation": c.get("memoryReservation"),
        }
        for c in raw_td.get("containerDefinitions") or []
    ]
    return {
        "task_cpu": str(raw_td.get("cpu") or "") or None,
        "task_memory": str(raw_td.get("memory") or "") or None,
        "containers": containers,
    }


@check("TF08-RESOURCE-LIMITS")
def resource_limits_check(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_task_definitions(inv)
    for td in inv.rows("task_definitions"):
        limits = resource_limits(raw.get(td["task_definition_arn"], {}))
        evidence = limits | {"in_use": bool(td["in_use"])}
        who = f"Task definition {td_id(td)}"
        if limits["task_cpu"] and limits["task_memory"]:
            yield td_result(
                td,
                Status.PASS,
                f"{who} is sized as a whole: {limits['task_cpu']} CPU units and "
                f"{limits['task_memory']} MiB.",
                evidence,
            )
            continue
        unbounded = [
            c["container"]
            + " ("
            + ", ".join(
                (["no CPU share"] if not c["cpu"] and not limits["task_cpu"] else [])
                + (
                    [
                        "only a soft memory reservation"
                        if c["memory_reservation"]
                        else "no memory limit"
                    ]
                    if not c["memory"] and not limits["task_memory"]
                    else []
                )
            )
            + ")"
            for c in limits["containers"]
            if (not c["cpu"] and not limits["task_cpu"])
            or (not c["memory"] and not limits["task_memory"])
        ]
        missing = [
            k for k, v in (("cpu", limits["task_cpu"]), ("memory", limits["task_memory"])) if not v
        ]
        if unbounded:
            yield td_result(
                td,
                Status.FAIL,
                f"{who} sets no task-level {' or '.join(missing)}, and not every container "
                "is bounded: " + "; ".join(unbounded) + ".",
                evidence,
            )
        else:
            yield td_result(
                td,
                Status.PASS,
                f"{who} sets no task-level {' or '.join(missing)}, but every container has "
                "its own CPU share and hard memory limit.",
                evidence,
            )


# -- evidence tables ---------------------------------------------------------------------------
def _rows(wb: Workbook, check_id: str) -> Iterator[tuple[pd.Series, dict[str, Any]]]:
    """(finding, its evidence) of one check, without the engine's '*' and gap rows."""
    for _, f in wb.findings_for(check_id=check_id).iterrows():
        if f["resource_id"] != "*" and "missing_action" not in f["evidence"]:
            yield f, json.loads(f["evidence"])


def _place(f: pd.Series) -> dict[str, str]:
    return {k: f[k] for k in PLACE}


@evidence("TF08-AUTOSCALING")
def _autoscaling_table(wb: Workbook) -> pd.DataFrame:
    """Each service's desired count and its scalable target (blank: none)."""
    rows = []
    for f, ev in _rows(wb, "TF08-AUTOSCALING"):
        target = ev.get("scaling") or {}
        rows.append(
            _place(f)
            | {
                "service": f["resource_id"],
                "status": f["status"],
                "desired": ev.get("desired_count"),
                "min": target.get("min"),
                "max": target.get("max"),
                "policies": target.get("policies"),
                "policy_types": target.get("policy_types", ""),
                "scheduled_actions": target.get("scheduled_actions"),
                "suspended": ", ".join(target.get("suspended", [])),
            }
        )
    cols = ["service", "status", "desired", "min", "max", "policies", "policy_types"]
    table = pd.DataFrame(rows, columns=PLACE + cols + ["scheduled_actions", "suspended"])
    for column in ("desired", "min", "max", "policies", "scheduled_actions"):
        table[column] = table[column].astype("Int64")
    return table


@evidence("TF08-MULTI-AZ")
def _multi_az_table(wb: Workbook) -> pd.DataFrame:
    """Each production service: task counts, the zones it can use and the zones seen running."""
    rows = []
    for f, ev in _rows(wb, "TF08-MULTI-AZ"):
        place = ev.get("placement") or {}
        rows.append(
            _place(f)
            | {
                "service": f["resource_id"],
                "status": f["status"],
                "desired": ev.get("desired_count"),
                "min_capacity": ev.get("min_capacity"),
                "zones_from": place.get("source", ""),
                "zones": ", ".join(place.get("zones", [])),
                "running_tasks": ev.get("running_tasks"),
                "running_zones": ", ".join(ev.get("running_zones", [])),
            }
        )
    cols = ["service", "status", "desired", "min_capacity", "zones_from", "zones"]
    table = pd.DataFrame(rows, columns=PLACE + cols + ["running_tasks", "running_zones"])
    for column in ("desired", "min_capacity", "running_tasks"):
        table[column] = table[column].astype("Int64")
    return table


@evidence("TF08-PROCESS-TYPES")
def _process_types_table(wb: Workbook) -> pd.DataFrame:
    """One row per container: its image repository, command and what keeps running."""
    rows = [
        _place(f)
        | {
            "task_definition": f["resource_id"],
            "status": f["status"],
            "container": c["container"],
            "repository": c["repository"],
            "essential": c["essential"],
            "command": c["command"],
            "processes": " ; ".join(c["processes"]),
        }
        for f, ev in _rows(wb, "TF08-PROCESS-TYPES")
        for c in ev.get("containers", [])
    ]
    cols = ["task_definition", "status", "container", "repository", "essential", "command"]
    return pd.DataFrame(rows, columns=PLACE + cols + ["processes"])


@evidence("TF08-RESOURCE-LIMITS")
def _limits_table(wb: Workbook) -> pd.DataFrame:
    """One row per container: the task's cpu/memory and the container's own values."""
    rows = [
        _place(f)
        | {
            "task_definition": f["resource_id"],
            "status": f["status"],
            "task_cpu": ev.get("task_cpu"),
            "task_memory": ev.get("task_memory"),
            "container": c["container"],
            "cpu": c["cpu"],
            "memory": c["memory"],
            "memory_reservation": c["memory_reservation"],
        }
        for f, ev in _rows(wb, "TF08-RESOURCE-LIMITS")
        for c in ev.get("containers", [])
    ]
    cols = ["task_definition", "status", "task_cpu", "task_memory", "container", "cpu", "memory"]
    table = pd.DataFrame(rows, columns=PLACE + cols + ["memory_reservation"])
    for column in ("cpu", "memory", "memory_reservation"):
        table[column] = table[column].astype("Int64")
    return table


# -- pictures ----------------------------------------------------------------------------------
def capacity_table(wb: Workbook) -> pd.DataFrame:
    """Per service: application, environment, desired count and the scaling range (if any)."""
    scaling = scaling_of(wb.inventory)
    rows = []
    for _, s in wb.inventory.services.iterrows():
        target = scaling.get((s["region"], s["cluster"], s["service"])) or {}
        rows.append(
            {
                "application": s["application"] or "(no application)",
                "environment": s["environment"] or "no environment",
                "service": service_id(s),
                "region": s["region"],
                "desired": int(s["desired_count"]),
                "min": target.get("min"),
                "max": target.get("max"),
                "policies": target.get("policies"),
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "application",
            "environment",
            "service",
            "region",
            "desired",
            "min",
            "max",
            "policies",
        ],
    )
    for column in ("min", "max", "policies"):
        table[column] = table[column].astype("Int64")
    return table.sort_values(["application", "environment", "service"]).reset_index(drop=True)


@plot("capacity")
def capacity(wb: Workbook) -> Figure:
    """Desired count (dot) and the auto-scaling range min-max (bar) per application and
    environment; services without a scalable target show only their dot."""
    table = capacity_table(wb)
    fig = Figure(figsize=(9, 0.42 * max(len(table), 3) + 1.6), layout="constrained")
    ax = fig.subplots()
    if table.empty:
        empty_axes(ax, "no ECS services")
        return fig
    regions = table["region"].nunique() > 1
    labels = [
        f"{r.application} ({r.environment})" + (f" · {r.region}" if regions else "")
        for r in table.itertuples()
    ]
    ys = list(range(len(table)))[::-1]
    for y, r in zip(ys, table.itertuples(), strict=True):
        scales = not pd.isna(r.min) and not pd.isna(r.max) and r.min < r.max
        if not pd.isna(r.min) and not pd.isna(r.max):
            colour = STATUS_COLOURS["PASS"] if scales else STATUS_COLOURS["FAIL"]
            ax.plot(
                [r.min, r.max], [y, y], color=colour, linewidth=9, alpha=0.45, solid_capstyle="butt"
            )
            ax.text(r.max, y, f"  {r.min}-{r.max}", va="center", fontsize=8)
        else:
            ax.text(r.desired, y, "  no auto scaling", va="center", fontsize=8, color="#555555")
        ax.plot([r.desired], [y], "o", color="#000000", markersize=6)
    ax.axvline(MIN_TASKS, color="#E69F00", linestyle="--", linewidth=1.2)
    top = ax.get_xaxis_transform()
    ax.text(MIN_TASKS, 1.01, f" {MIN_TASKS} tasks", fontsize=8, transform=top, color="#8a5a00")
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xlim(left=0)
    ax.set_xlabel(
        "tasks · dot: desired count · bar: auto-scaling range (green min < max, vermillion fixed)",
        fontsize=8,
    )
    ax.set_title("Capacity per application and environment", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
