"""Factor VII, Port binding: each service is self-contained and exports itself on a port.

Six checks over the task definitions services run (and the latest revision of every family), the
services, and the load balancing in front of them:

* ``TF07-AWSVPC``: task definitions use the ``awsvpc`` network mode (their own address and
  security group per task), not ``host`` or ``bridge``.
* ``TF07-NO-FIXED-HOST-PORT``: containers declare the port they listen on, and no fixed host
  port (``host`` mode, or ``bridge`` with a hostPort): a fixed host port allows one task per
  instance and ties the service to the instance's ports.
* ``TF07-SERVICE-EXPORTED``: a service whose containers declare a port is reachable through a
  target group, Service Connect or Cloud Map, not only by its tasks' changing IP addresses.
* ``TF07-PORTS-MATCH``: a target group in front of a service sends traffic and health checks
  to the port the container declares.
* ``TF07-NO-PUBLIC-IP``: services do not give their tasks public IP addresses (ECS.2, ECS.16).
* ``TF07-HTTPS-LISTENERS``: internet-facing listeners in front of ECS services speak HTTPS
  (or TLS), or only redirect HTTP to HTTPS (ELB.1).

The factor-at-a-glance matrix is the shared :func:`twelvefactor.plots.factor_matrix`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import Inventory
from ..plots import STATUS_COLOURS, empty_axes, factor_matrix, plot
from ..settings import Settings
from . import check
from .common import container_id, container_result, result, td_id, td_result

if TYPE_CHECKING:
    from ..workbook import Workbook

FACTOR = 7
CHECK_IDS = (
    "TF07-AWSVPC",
    "TF07-NO-FIXED-HOST-PORT",
    "TF07-SERVICE-EXPORTED",
    "TF07-PORTS-MATCH",
    "TF07-NO-PUBLIC-IP",
    "TF07-HTTPS-LISTENERS",
)
SERVICE = "AwsEcsService"
TARGET_GROUP = "AwsElbv2TargetGroup"
LISTENER = "AwsElbv2Listener"
#: ECS network modes that share the instance's ports (no address of the task's own). An empty
#: mode is Docker's default on Linux instances: bridge. "default" is Windows' NAT.
SHARED_MODES = ("bridge", "default", "")


# -- raw data ----------------------------------------------------------------------------------
def raw_task_definitions(inv: Inventory) -> dict[str, dict[str, Any]]:
    """describe_task_definition results by ARN."""
    return {
        td["taskDefinitionArn"]: td
        for region in inv.regions
        for td in inv.snapshot.get(region, "ecs").get("task_definitions") or []
    }


def raw_services(inv: Inventory) -> dict[str, dict[str, Any]]:
    """describe_services items by ARN."""
    return {
        s["serviceArn"]: s
        for region in inv.regions
        for s in inv.snapshot.get(region, "ecs").get("services") or []
    }


def _definitions(raw_td: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c.get("name", ""): c for c in raw_td.get("containerDefinitions") or []}


def network_mode(raw_td: dict[str, Any]) -> str:
    return raw_td.get("networkMode") or ""


def _mode_name(mode: str) -> str:
    return mode or "bridge (the default)"


def _port_text(mapping: dict[str, Any]) -> str:
    port = mapping.get("containerPort")
    if port is None and mapping.get("containerPortRange"):
        port = mapping["containerPortRange"]
    return f"{port}/{mapping.get('protocol') or 'tcp'}"


def declared_ports(container: dict[str, Any]) -> set[int]:
    return {
        int(m["containerPort"])
        for m in container.get("portMappings") or []
        if m.get("containerPort") is not None
    }


def service_id(row: Any) -> str:
    """'shop-prod/orders-api' (a service's name is unique only within its cluster)."""
    return f"{row['cluster']}/{row['service']}"


def _service_result(svc: Any, status: Status, message: str, evidence: dict[str, Any]) -> Result:
    return result(
        svc,
        status,
        message,
        resource_type=SERVICE,
        resource_id=service_id(svc),
        resource_arn=svc["service_arn"],
        evidence=evidence,
    )


def _routed_ports(inv: Inventory) -> dict[tuple[str, str], set[int]]:
    """(task definition ARN, container) -> the ports services send traffic to (load balancers,
    Cloud Map SRV registrations)."""
    out: dict[tuple[str, str], set[int]] = {}
    services = raw_services(inv)
    for s in inv.services.itertuples():
        raw = services.get(s.service_arn, {})
        for entry in (raw.get("loadBalancers") or []) + (raw.get("serviceRegistries") or []):
            if entry.get("containerName") and entry.get("containerPort") is not None:
                key = (s.task_definition_arn, entry["containerName"])
                out.setdefault(key, set()).add(int(entry["containerPort"]))
    return out


# -- TF07-AWSVPC -------------------------------------------------------------------------------
@check("TF07-AWSVPC")
def awsvpc(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = raw_task_definitions(inv)
    for td in inv.rows("task_definitions"):
        mode = network_mode(raw.get(td["task_definition_arn"], {}))
        evidence = {
            "network_mode": mode or "(not set: bridge)",
            "requires_compatibilities": td["requires_compatibilities"],
            "in_use": bool(td["in_use"]),
        }
        who = f"Task definition {td_id(td)}"
        if mode == "awsvpc":
            yield td_result(
                td,
                Status.PASS,
                f"{who} uses the awsvpc network mode: every task gets its own address, ports and "
                "security group.",
                evidence,
            )
        elif mode == "none":
            yield td_result(
                td,
                Status.SKIP,
                f"{who} has networking turned off (network mode none): it exports nothing.",
                evidence,
            )
        elif mode == "host":
            yield td_result(
                td,
                Status.FAIL,
                f"{who} uses the host network mode: its containers bind the instance's own ports, "
                "so one task per port per instance, and no security group of its own.",
                evidence,
            )
        else:
            yield td_result(
                td,
                Status.FAIL,
                f"{who} uses the {_mode_name(mode)} network mode: its tasks share the instance's "
                "address and security groups and are reached through ports mapped on the "
                "instance; awsvpc gives each task its own.",
                evidence,
            )


# -- TF07-NO-FIXED-HOST-PORT -------------------------------------------------------------------
@check("TF07-NO-FIXED-HOST-PORT")
def no_fixed_host_port(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = raw_task_definitions(inv)
    routed = _routed_ports(inv)
    for c in inv.rows("containers"):
        raw_td = raw.get(c["task_definition_arn"], {})
        definition = _definitions(raw_td).get(c["container"], {})
        mappings = definition.get("portMappings") or []
        wanted = routed.get((c["task_definition_arn"], c["container"]), set())
        if not mappings and not wanted:
            continue  # listens on nothing: a worker or a sidecar, nothing to bind
        mode = network_mode(raw_td)
        ports = [
            {
                "container_port": m.get("containerPort", m.get("containerPortRange")),
                "host_port": m.get("hostPort", m.get("hostPortRange")),
                "protocol": m.get("protocol") or "tcp",
            }
            for m in mappings
        ]
        evidence = {
            "network_mode": mode or "(not set: bridge)",
            "ports": ports,
            "routed_ports": sorted(wanted),
        }
        who = f"Container {container_id(c)}"
        missing = sorted(wanted - declared_ports(definition))
        if mode == "none":
            yield container_result(
                c, Status.SKIP, f"{who} runs without networking (network mode none).", evidence
            )
            continue
        if missing:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} is sent traffic on port(s) {', '.join(map(str, missing))}, which it does "
                "not declare in its port mappings.",
                evidence,
            )
            continue
        if mode == "host":
            yield container_result(
                c,
                Status.FAIL,
                f"{who} listens on {', '.join(_port_text(m) for m in mappings)} directly on the "
                "instance (host network mode): a fixed host port, one task per instance.",
                evidence,
            )
            continue
        fixed = [
            m
            for m in mappings
            if (m.get("hostPort") not in (None, 0, m.get("containerPort")) and mode == "awsvpc")
            or (mode in SHARED_MODES and (m.get("hostPort") or m.get("hostPortRange")))
        ]
        if fixed:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} maps container port(s) to fixed host port(s) "
                + ", ".join(
                    f"{m.get('containerPort')} -> {m.get('hostPort') or m.get('hostPortRange')}"
                    for m in fixed
                )
                + ": only one such task fits on an instance, and the service depends on that "
                "port being free there.",
                evidence,
            )
        elif mode == "awsvpc":
            yield container_result(
                c,
                Status.PASS,
                f"{who} declares port(s) {', '.join(_port_text(m) for m in mappings)} on its "
                "task's own network interface (awsvpc).",
                evidence,
            )
        else:
            yield container_result(
                c,
                Status.PASS,
                f"{who} declares port(s) {', '.join(_port_text(m) for m in mappings)} with "
                "dynamic host ports chosen by ECS.",
                evidence,
            )


# -- TF07-SERVICE-EXPORTED ---------------------------------------------------------------------
def _service_connect(raw: dict[str, Any]) -> list[str]:
    """The endpoints a service publishes with Service Connect (port names / discovery names);
    a client-only configuration publishes none."""
    configs = [raw.get("serviceConnectConfiguration")] + [
        d.get("serviceConnectConfiguration") for d in raw.get("deployments") or []
    ]
    names: list[str] = []
    for config in configs:
        if config and config.get("enabled"):
            for svc in config.get("services") or []:
                name = svc.get("discoveryName") or svc.get("portName") or ""
                if name and name not in names:
                    names.append(name)
    return names


def _target_group_names(inv: Inventory) -> dict[str, str]:
    tgs = inv.target_groups
    return dict(zip(tgs["target_group_arn"], tgs["target_group"], strict=True))


def _cloud_map_names(inv: Inventory) -> dict[str, str]:
    cm = inv.cloud_map_services
    return {
        r.service_arn: f"{r.service}.{r.namespace}" if r.namespace else r.service
        for r in cm.itertuples()
    }


@check("TF07-SERVICE-EXPORTED")
def service_exported(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw_tds = raw_task_definitions(inv)
    raw = raw_services(inv)
    tg_names = _target_group_names(inv)
    cm_names = _cloud_map_names(inv)
    for s in inv.rows("services"):
        r = raw.get(s["service_arn"], {})
        raw_td = raw_tds.get(s["task_definition_arn"])
        who = f"Service {service_id(s)}"
        if raw_td is None:
            yield _service_result(
                s,
                Status.ERROR,
                f"{who} runs a task definition that could not be read, so its ports are unknown.",
                {"task_definition": s["task_definition_arn"]},
            )
            continue
        ports = sorted(
            {
                f"{name}:{port}"
                for name, c in _definitions(raw_td).items()
                for port in sorted(declared_ports(c))
            }
        )
        balancers = [
            tg_names.get(b.get("targetGroupArn", ""), "")
            or b.get("loadBalancerName", "")
            or b.get("targetGroupArn", "")
            for b in r.get("loadBalancers") or []
        ]
        registries = [
            cm_names.get(g.get("registryArn", ""), g.get("registryArn", ""))
            for g in r.get("serviceRegistries") or []
        ]
        connect = _service_connect(r)
        routes = (
            [f"load balancer (target group {b})" for b in balancers]
            + [f"Cloud Map ({g})" for g in registries]
            + [f"Service Connect ({n})" for n in connect]
        )
        evidence = {
            "ports": ports,
            "load_balancers": balancers,
            "cloud_map": registries,
            "service_connect": connect,
        }
        if routes:
            yield _service_result(
                s,
                Status.PASS,
                f"{who} is reachable through " + ", ".join(routes) + ".",
                evidence,
            )
        elif not ports:
            yield _service_result(
                s,
                Status.SKIP,
                f"{who} declares no container port: a worker that serves nothing to export.",
                evidence,
            )
        else:
            yield _service_result(
                s,
                Status.FAIL,
                f"{who} listens on {', '.join(ports)} but is exported through no load balancer, "
                "Service Connect or Cloud Map: callers can only reach its tasks by their "
                "changing IP addresses.",
                evidence,
            )


# -- TF07-PORTS-MATCH --------------------------------------------------------------------------
def _bindings(inv: Inventory) -> dict[str, list[dict[str, Any]]]:
    """target group ARN -> what the services registered with it route there."""
    raw_tds = raw_task_definitions(inv)
    raw = raw_services(inv)
    out: dict[str, list[dict[str, Any]]] = {}
    for s in inv.rows("services"):
        raw_td = raw_tds.get(s["task_definition_arn"], {})
        mode = network_mode(raw_td)
        for b in raw.get(s["service_arn"], {}).get("loadBalancers") or []:
            if not b.get("targetGroupArn"):
                continue  # a Classic Load Balancer: no target group
            definition = _definitions(raw_td).get(b.get("containerName", ""), {})
            port = b.get("containerPort")
            mapping = next(
                (
                    m
                    for m in definition.get("portMappings") or []
                    if port is not None and m.get("containerPort") == port
                ),
                None,
            )
            if mode in ("awsvpc", "host"):
                registered: int | str | None = port
            elif mapping is not None and mapping.get("hostPort"):
                registered = int(mapping["hostPort"])
            else:
                registered = "dynamic"
            out.setdefault(b["targetGroupArn"], []).append(
                {
                    "service": service_id(s),
                    "row": s,
                    "container": b.get("containerName", ""),
                    "container_port": port,
                    "declared": mapping is not None,
                    "network_mode": mode or "(not set: bridge)",
                    "registered_port": registered if raw_td else None,
                    "described": bool(raw_td),
                }
            )
    return out


def _port_problems(tg: Any, binding: dict[str, Any]) -> list[str]:
    problems = []
    where = f"{binding['service']} ({binding['container']}:{binding['container_port']})"
    if not binding["described"]:
        return [f"the task definition of {binding['service']} could not be read"]
    if not binding["declared"]:
        problems.append(
            f"{where}: container {binding['container']} declares no port "
            f"{binding['container_port']}"
        )
    registered = binding["registered_port"]
    hc = str(tg["health_check_port"] or "traffic-port")
    if isinstance(registered, int):
        if tg["port"] is not None and not pd.isna(tg["port"]) and int(tg["port"]) != registered:
            problems.append(
                f"{where}: the target group's port is {int(tg['port'])}, the tasks are "
                f"registered on {registered}"
            )
        if hc != "traffic-port" and hc != str(registered):
            problems.append(
                f"{where}: health checks probe port {hc}, not the port {registered} that "
                "serves the traffic"
            )
    elif registered == "dynamic" and hc != "traffic-port":
        problems.append(
            f"{where}: health checks probe the fixed port {hc}, but ECS registers the tasks on "
            "dynamic host ports"
        )
    return problems


@check("TF07-PORTS-MATCH")
def ports_match(inv: Inventory, settings: Settings) -> Iterator[Result]:
    bindings = _bindings(inv)
    known = set(inv.target_groups["target_group_arn"])
    for tg in inv.rows("target_groups"):
        bound = bindings.get(tg["target_group_arn"])
        if not bound:
            continue  # in front of no ECS service: not this audit's business
        row = _placed_like(dict(tg), [b["row"] for b in bound])
        problems = [p for b in bound for p in _port_problems(tg, b)]
        evidence = {
            "services": sorted({b["service"] for b in bound}),
            "target_group_port": None if pd.isna(tg["port"]) else int(tg["port"]),
            "health_check_port": tg["health_check_port"] or "traffic-port",
            "target_type": tg["target_type"],
            "bindings": [{k: v for k, v in b.items() if k != "row"} for b in bound],
            "problems": problems,
        }
        name = tg["target_group"]
        if any(not b["described"] for b in bound):
            status, message = (
                Status.ERROR,
                f"Target group {name}: " + "; ".join(problems) + ", so its ports are unknown.",
            )
        elif problems:
            status, message = Status.FAIL, f"Target group {name}: " + "; ".join(problems) + "."
        else:
            ports = sorted({str(b["registered_port"]) for b in bound})
            target = (
                "the dynamic host ports ECS registers"
                if ports == ["dynamic"]
                else f"port {', '.join(ports)}, the port"
            )
            status, message = (
                Status.PASS,
                f"Target group {name} sends traffic and health checks to {target} "
                f"{', '.join(evidence['services'])} listens on.",
            )
        yield _tg_result(row, status, message, evidence)
    # services registered with a target group that does not exist (it was deleted)
    listed = {
        r for r in inv.regions if inv.snapshot.get(r, "elbv2").get("target_groups") is not None
    }
    for arn, bound in bindings.items():
        region = arn.split(":")[3] if arn.count(":") >= 5 else ""
        if arn in known or region not in listed:
            continue
        for b in bound:
            yield result(
                b["row"],
                Status.FAIL,
                f"Service {b['service']} is registered with target group {arn.rsplit('/', 2)[-2]}"
                ", which does not exist: nothing routes traffic to it.",
                resource_type=TARGET_GROUP,
                resource_id=arn.rsplit("/", 2)[-2],
                resource_arn=arn,
                evidence={"services": [b["service"]], "problems": ["target group not found"]},
            )


def _placed_like(row: dict[str, Any], services: Sequence[Any]) -> dict[str, Any]:
    """A target group or listener belongs to the application of the services it fronts when they
    share one (a load balancer is often named after the shop, not an application); it takes their
    environment only when its own name and tags give none."""
    for key in ("application", "environment"):
        values = {s[key] for s in services if s[key]}
        if len(values) == 1 and (not row[key] or key == "application"):
            row[key] = values.pop()
    return row


def _tg_result(row: dict[str, Any], status: Status, message: str, evidence: dict) -> Result:
    return result(
        row,
        status,
        message,
        resource_type=TARGET_GROUP,
        resource_id=row["target_group"],
        resource_arn=row["target_group_arn"],
        evidence=evidence,
    )


# -- TF07-NO-PUBLIC-IP -------------------------------------------------------------------------
@check("TF07-NO-PUBLIC-IP")
def no_public_ip(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw_tds = raw_task_definitions(inv)
    raw = raw_services(inv)
    for s in inv.rows("services"):
        r = raw.get(s["service_arn"], {})
        vpc = (r.get("networkConfiguration") or {}).get("awsvpcConfiguration")
        task_sets = [
            {
                "task_set": t.get("id", ""),
                "assign_public_ip": (
                    (t.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
                ).get("assignPublicIp", ""),
            }
            for t in r.get("taskSets") or []
        ]
        raw_td = raw_tds.get(s["task_definition_arn"])
        mode = network_mode(raw_td) if raw_td is not None else ""
        fargate = s["launch_type"] == "FARGATE" or any(
            p.get("capacityProvider", "").startswith("FARGATE")
            for p in r.get("capacityProviderStrategy") or []
        )
        setting = (vpc or {}).get("assignPublicIp", "")
        evidence = {
            "network_mode": mode or ("(unknown)" if raw_td is None else "(not set: bridge)"),
            "assign_public_ip": setting or "(not set: DISABLED)",
            "subnets": len((vpc or {}).get("subnets") or []),
            "task_sets": task_sets,
        }
        who = f"Service {service_id(s)}"
        public = ["the service"] if setting == "ENABLED" else []
        public += [
            f"task set {t['task_set']}" for t in task_sets if t["assign_public_ip"] == "ENABLED"
        ]
        if public:
            yield _service_result(
                s,
                Status.FAIL,
                f"{who} gives its tasks public IP addresses ({', '.join(public)}): every task is "
                "reachable from the internet on its ports, around the load balancer.",
                evidence,
            )
        elif vpc is not None or mode == "awsvpc" or fargate:
            yield _service_result(
                s,
                Status.PASS,
                f"{who} keeps its tasks on private addresses (assignPublicIp "
                f"{setting or 'not set, DISABLED by default'}).",
                evidence,
            )
        elif raw_td is None:
            yield _service_result(
                s,
                Status.ERROR,
                f"{who} runs a task definition that could not be read, so its network mode is "
                "unknown.",
                evidence,
            )
        else:
            yield _service_result(
                s,
                Status.SKIP,
                f"{who} runs in the {_mode_name(mode)} network mode on its instances' addresses: "
                "whether those are public is a question about the container hosts.",
                evidence,
            )


# -- TF07-HTTPS-LISTENERS ----------------------------------------------------------------------
def _fronted_load_balancers(inv: Inventory) -> dict[str, list[Any]]:
    """load balancer ARN -> the ECS services behind one of its target groups."""
    bindings = _bindings(inv)
    out: dict[str, list[Any]] = {}
    for tg in inv.target_groups.itertuples():
        for b in bindings.get(tg.target_group_arn, []):
            for lb in filter(None, (tg.load_balancer_arns or "").split(", ")):
                out.setdefault(lb, []).append(b["row"])
    return out


def _raw_listeners(inv: Inventory) -> dict[str, dict[str, Any]]:
    return {
        ls.get("ListenerArn", ""): ls
        for region in inv.regions
        for ls in inv.snapshot.get(region, "elbv2").get("listeners") or []
    }


@check("TF07-HTTPS-LISTENERS")
def https_listeners(inv: Inventory, settings: Settings) -> Iterator[Result]:
    fronted = _fronted_load_balancers(inv)
    raw = _raw_listeners(inv)
    balancers = {r.load_balancer_arn: r for r in inv.load_balancers.itertuples()}
    for ls in inv.rows("listeners"):
        lb = balancers.get(ls["load_balancer_arn"])
        services = fronted.get(ls["load_balancer_arn"])
        if lb is None or not services or lb.scheme != "internet-facing":
            continue  # internal, or in front of no ECS service: not judged
        protocol = ls["protocol"] or ""
        actions = raw.get(ls["listener_arn"], {}).get("DefaultActions") or []
        redirect = next(
            (a.get("RedirectConfig") or {} for a in actions if a.get("Type") == "redirect"), {}
        )
        row = _placed_like(dict(ls), services)
        name = f"{lb.load_balancer}:{ls['port']}"
        evidence = {
            "load_balancer": lb.load_balancer,
            "scheme": lb.scheme,
            "lb_type": lb.lb_type,
            "protocol": protocol,
            "port": None if pd.isna(ls["port"]) else int(ls["port"]),
            "default_actions": ls["default_action_types"],
            "redirect": (
                f"{redirect.get('Protocol', '#{protocol}')}:{redirect.get('Port', '#{port}')}"
                if redirect
                else ""
            ),
            "ssl_policy": raw.get(ls["listener_arn"], {}).get("SslPolicy", ""),
            "services": sorted({service_id(s) for s in services}),
        }
        who = f"Internet-facing listener {name}"
        if protocol in ("HTTPS", "TLS"):
            status = Status.PASS
            message = f"{who} speaks {protocol}" + (
                f" (security policy {evidence['ssl_policy']})." if evidence["ssl_policy"] else "."
            )
        elif protocol == "HTTP" and ls["redirects_to_https"]:
            status = Status.PASS
            message = f"{who} only redirects plain HTTP to HTTPS."
        elif protocol == "HTTP":
            status = Status.FAIL
            message = (
                f"{who} serves {', '.join(evidence['services'])} over plain HTTP: requests and "
                "cookies cross the internet unencrypted."
            )
        else:
            status = Status.SKIP
            message = (
                f"{who} passes {protocol or 'unknown'} traffic through: whether the application "
                "itself encrypts it cannot be seen from the load balancer."
            )
        yield result(
            row,
            status,
            message,
            resource_type=LISTENER,
            resource_id=name,
            resource_arn=ls["listener_arn"],
            evidence=evidence,
        )


# -- evidence tables ---------------------------------------------------------------------------
def finding_rows(wb: Workbook, check_id: str) -> Iterator[tuple[pd.Series, dict[str, Any]]]:
    """(finding, its evidence) of one check, without the engine's '*' and gap rows."""
    for _, f in wb.findings_for(check_id=check_id).iterrows():
        if f["resource_id"] != "*" and "missing_action" not in f["evidence"]:
            yield f, json.loads(f["evidence"])


def place(f: pd.Series) -> dict[str, str]:
    return {k: f[k] for k in PLACE}


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values or [])


@evidence("TF07-AWSVPC")
def _awsvpc_table(wb: Workbook) -> pd.DataFrame:
    """Each task definition's network mode."""
    cols = ["task_definition", "status", "network_mode", "requires_compatibilities", "in_use"]
    rows = [
        place(f)
        | {"task_definition": f["resource_id"], "status": f["status"]}
        | {k: ev.get(k) for k in cols[2:]}
        for f, ev in finding_rows(wb, "TF07-AWSVPC")
    ]
    return pd.DataFrame(rows, columns=PLACE + cols)


@evidence("TF07-NO-FIXED-HOST-PORT")
def _host_port_table(wb: Workbook) -> pd.DataFrame:
    """One row per port mapping (or per routed port a container does not declare)."""
    rows = []
    for f, ev in finding_rows(wb, "TF07-NO-FIXED-HOST-PORT"):
        head = place(f) | {
            "container": f["resource_id"],
            "status": f["status"],
            "network_mode": ev.get("network_mode"),
        }
        routed = ev.get("routed_ports", [])
        for p in ev.get("ports", []):
            rows.append(
                head
                | {
                    "container_port": str(p.get("container_port")),
                    "host_port": "(own address)"
                    if ev.get("network_mode") == "awsvpc"
                    else ("" if p.get("host_port") in (None, 0) else str(p["host_port"])),
                    "protocol": p.get("protocol"),
                    "traffic_routed_here": p.get("container_port") in routed,
                }
            )
        declared = {p.get("container_port") for p in ev.get("ports", [])}
        for port in routed:
            if port not in declared:
                rows.append(
                    head
                    | {
                        "container_port": f"{port} (not declared)",
                        "host_port": "",
                        "protocol": "",
                        "traffic_routed_here": True,
                    }
                )
    cols = ["container", "status", "network_mode", "container_port", "host_port", "protocol"]
    return pd.DataFrame(rows, columns=PLACE + cols + ["traffic_routed_here"])


@evidence("TF07-SERVICE-EXPORTED")
def _exported_table(wb: Workbook) -> pd.DataFrame:
    """Each service: the ports its containers declare and how callers reach it."""
    rows = [
        place(f)
        | {
            "service": f["resource_id"],
            "status": f["status"],
            "ports": _join(ev.get("ports")),
            "load_balancer": _join(ev.get("load_balancers")),
            "cloud_map": _join(ev.get("cloud_map")),
            "service_connect": _join(ev.get("service_connect")),
        }
        for f, ev in finding_rows(wb, "TF07-SERVICE-EXPORTED")
    ]
    cols = ["service", "status", "ports", "load_balancer", "cloud_map", "service_connect"]
    return pd.DataFrame(rows, columns=PLACE + cols)


@evidence("TF07-PORTS-MATCH")
def _ports_match_table(wb: Workbook) -> pd.DataFrame:
    """Each (target group, service) pair: the ports on both sides of the load balancer."""
    rows = []
    for f, ev in finding_rows(wb, "TF07-PORTS-MATCH"):
        for b in ev.get("bindings") or [{"service": _join(ev.get("services"))}]:
            rows.append(
                place(f)
                | {
                    "target_group": f["resource_id"],
                    "status": f["status"],
                    "service": b.get("service", ""),
                    "target_group_port": ev.get("target_group_port"),
                    "health_check_port": ev.get("health_check_port"),
                    "container": b.get("container", ""),
                    "container_port": b.get("container_port"),
                    "registered_port": b.get("registered_port"),
                    "problems": "; ".join(ev.get("problems", [])),
                }
            )
    cols = [
        "target_group",
        "status",
        "service",
        "target_group_port",
        "health_check_port",
        "container",
        "container_port",
        "registered_port",
        "problems",
    ]
    table = pd.DataFrame(rows, columns=PLACE + cols)
    for col in ("target_group_port", "container_port"):
        table[col] = table[col].astype("Int64")
    table["registered_port"] = table["registered_port"].astype("string")
    return table


@evidence("TF07-NO-PUBLIC-IP")
def _public_ip_table(wb: Workbook) -> pd.DataFrame:
    """Each service: its network mode and whether tasks get a public IP address."""
    rows = [
        place(f)
        | {
            "service": f["resource_id"],
            "status": f["status"],
            "network_mode": ev.get("network_mode"),
            "assign_public_ip": ev.get("assign_public_ip"),
            "subnets": ev.get("subnets"),
            "task_sets_with_public_ip": _join(
                t["task_set"] for t in ev.get("task_sets", []) if t["assign_public_ip"] == "ENABLED"
            ),
        }
        for f, ev in finding_rows(wb, "TF07-NO-PUBLIC-IP")
    ]
    cols = ["service", "status", "network_mode", "assign_public_ip", "subnets"]
    return pd.DataFrame(rows, columns=PLACE + cols + ["task_sets_with_public_ip"])


@evidence("TF07-HTTPS-LISTENERS")
def _listener_table(wb: Workbook) -> pd.DataFrame:
    """Each internet-facing listener in front of ECS services."""
    cols = ["protocol", "port", "default_actions", "redirect", "ssl_policy"]
    rows = [
        place(f)
        | {"listener": f["resource_id"], "status": f["status"]}
        | {k: ev.get(k) for k in cols}
        | {"services": _join(ev.get("services"))}
        for f, ev in finding_rows(wb, "TF07-HTTPS-LISTENERS")
    ]
    table = pd.DataFrame(rows, columns=PLACE + ["listener", "status", *cols, "services"])
    table["port"] = table["port"].astype("Int64")
    return table


# -- pictures ----------------------------------------------------------------------------------
@plot("port-matrix")
def port_matrix(wb: Workbook) -> Figure:
    """Factor VII per application and environment."""
    return factor_matrix(wb, FACTOR, CHECK_IDS, "Factor VII per application and environment")


#: How a service is reached, in the order the picture stacks them.
ROUTES = {
    "load balancer": "#0072B2",
    "Cloud Map": "#56B4E9",
    "Service Connect": "#009E73",
    "not exported": STATUS_COLOURS["FAIL"],
    "worker (no port)": STATUS_COLOURS["SKIP"],
}


def route_table(wb: Workbook) -> pd.DataFrame:
    """Services per application/environment and how callers reach them (a service with
    several routes counts once per route)."""
    rows = []
    for f, ev in finding_rows(wb, "TF07-SERVICE-EXPORTED"):
        kinds = [
            kind
            for kind, key in (
                ("load balancer", "load_balancers"),
                ("Cloud Map", "cloud_map"),
                ("Service Connect", "service_connect"),
            )
            if ev.get(key)
        ]
        if not kinds:
            kinds = ["not exported" if f["status"] == "FAIL" else "worker (no port)"]
        rows += [
            {"environment": f["environment"] or "(no environment)", "route": k, "service": 1}
            for k in kinds
        ]
    table = pd.DataFrame(rows, columns=["environment", "route", "service"])
    return (
        table.pivot_table(
            index="environment", columns="route", values="service", aggfunc="sum", fill_value=0
        )
        .reindex(columns=[r for r in ROUTES if r in set(table["route"])])
        .astype(int)
    )


@plot("service-routes")
def service_routes(wb: Workbook) -> Figure:
    """How each environment's services are reached: load balancer, Cloud Map, Service Connect,
    or not at all."""
    table = route_table(wb)
    fig = Figure(figsize=(8, 0.6 * max(len(table), 2) + 1.4), layout="constrained")
    ax = fig.subplots()
    if table.empty:
        empty_axes(ax, "no services")
        return fig
    table[::-1].plot.barh(stacked=True, ax=ax, width=0.6, color=[ROUTES[c] for c in table.columns])
    ax.set_xlabel("services (a service reached two ways counts twice)")
    ax.set_ylabel("")
    ax.set_title("How callers reach each environment's services", fontsize=10)
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
