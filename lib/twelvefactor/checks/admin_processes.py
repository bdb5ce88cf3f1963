"""Factor XII, Admin processes: run admin and management tasks as one-off processes.

An admin process (a migration, a clean-up, a report, a console) runs as a one-off task of the
application's own release -- same code, same config -- and leaves a trace. Four checks:

* ``TF12-ADMIN-SAME-RELEASE``: scheduled ECS tasks (EventBridge rules and EventBridge Scheduler
  schedules) and one-off tasks (RunTask outside a service) run the application's own image at the
  release its service runs in that environment.
* ``TF12-SCHEDULE-PINNED``: a scheduled target names a task-definition revision (an unpinned
  family runs whatever revision was registered last) that is still ACTIVE.
* ``TF12-EXEC-GOVERNED``: ECS Exec, the interactive way into a task, is off on production
  services or its sessions are logged.
* ``TF12-NO-SSH-HOSTS``: EC2 container instances have no SSH path: no security-group rule that
  admits SSH or RDP, and no key pair.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import Inventory, parse_image
from ..plots import STATUS_COLOURS, plot
from ..settings import Settings
from . import check
from .backing_services import is_production
from .common import result
from .parity import raw_services, raw_task_definitions, resolve_images

if TYPE_CHECKING:
    from ..workbook import Workbook

FACTOR = 12
CHECK_IDS = (
    "TF12-ADMIN-SAME-RELEASE",
    "TF12-SCHEDULE-PINNED",
    "TF12-EXEC-GOVERNED",
    "TF12-NO-SSH-HOSTS",
)
#: Ports that give a shell on an instance: SSH, and RDP on Windows container instances.
SHELL_PORTS = {22: "SSH", 3389: "RDP"}
#: IP protocols of security-group rules that carry TCP ("-1" is every protocol).
TCP_PROTOCOLS = {"tcp", "6", "-1"}


def _short(digest: str) -> str:
    algo, _, hexa = (digest or "").partition(":")
    return f"{algo}:{hexa[:12]}" if hexa else digest


def _td_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if arn else ""


def _revision(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


# -- the admin jobs -------------------------------------------------------------------------
def _latest_arns(inv: Inventory) -> dict[tuple[str, str], str]:
    """(region, family) -> the ARN of its latest ACTIVE revision (what an unpinned target runs)."""
    tds = inv.task_definitions
    return {(r.region, r.family): r.task_definition_arn for r in tds[tds["latest"]].itertuples()}


def admin_jobs(inv: Inventory) -> pd.DataFrame:
    """Scheduled ECS tasks (one row per rule or schedule target) and one-off tasks (one row per
    task definition that standalone tasks ran, not counting the runs of EventBridge rules)."""
    latest = _latest_arns(inv)
    rows = []
    for s in inv.scheduled_tasks.itertuples():
        revision = _revision(s.revision)
        ref = s.task_definition_ref
        if revision is not None:
            arn = (
                ref
                if ref.startswith("arn:")
                else (f"arn:aws:ecs:{s.region}:{s.account}:task-definition/{s.family}:{revision}")
            )
        else:
            arn = latest.get((s.region, s.family), "")
        kind = "rule" if s.source == "eventbridge-rule" else "schedule"
        rows.append(
            {
                "account": s.account,
                "region": s.region,
                "application": s.application,
                "environment": s.environment,
                "job": f"{kind}/{s.name}",
                "kind": kind,
                "arn": s.arn,
                "schedule": s.schedule,
                "state": s.state,
                "family": s.family,
                "pinned": revision is not None,
                "task_definition_arn": arn,
                "runs": "",
            }
        )
    tasks = inv.tasks
    one_off = tasks[(tasks["service"] == "") & ~tasks["started_by"].str.startswith("events-rule/")]
    for arn, group in one_off.groupby("task_definition_arn", sort=True):
        first = group.iloc[0]
        rows.append(
            {
                "account": first["account"],
                "region": first["region"],
                "application": first["application"],
                "environment": first["environment"],
                "job": f"run-task/{_td_name(arn)}",
                "kind": "one-off",
                "arn": first["task_arn"],
                "schedule": "",
                "state": ", ".join(sorted(set(group["last_status"]))),
                "family": first["family"],
                "pinned": True,  # a task ran one revision
                "task_definition_arn": arn,
                "runs": ", ".join(sorted(set(group["started_by"]) - {""})) or "(not recorded)",
            }
        )
    columns = [
        *["account", "region", "application", "environment", "job", "kind", "arn"],
        *["schedule", "state", "family", "pinned", "task_definition_arn", "runs"],
    ]
    return pd.DataFrame(rows, columns=columns)


def _main_container(containers: list[dict[str, Any]]) -> dict[str, Any]:
    """The application's container of a task: essential ones first, then own (ECR) images."""
    if not containers:
        return {}
    ranked = sorted(
        enumerate(containers),
        key=lambda ic: (
            not ic[1].get("essential", True),
            parse_image(ic[1].get("image", ""))["image_source"] != "private-ecr",
            ic[0],
        ),
    )
    return ranked[0][1]


def _task_images(inv: Inventory) -> dict[tuple[str, str], dict[str, str]]:
    """(task definition ARN, container) -> {image, digest} that standalone tasks reported."""
    out = {}
    for region in inv.regions:
        for t in inv.snapshot.get(region, "ecs").get("tasks") or []:
            for c in t.get("containers") or []:
                key = (t.get("taskDefinitionArn", ""), c.get("name", ""))
                out.setdefault(key, {"image": c.get("image", ""), "digest": c.get("imageDigest")})
    return out


def _image_of(
    arn: str,
    raw_tds: dict[str, dict[str, Any]],
    resolved: dict[tuple[str, str], dict[str, Any]],
    reported: dict[tuple[str, str], dict[str, str]],
) -> dict[str, Any] | None:
    """The main container's image of task definition ``arn``: repository, tag, digest, basis
    (None when neither the task definition nor a task of it was collected)."""
    raw = raw_tds.get(arn)
    if raw is not None:
        main = _main_container(raw.get("containerDefinitions") or [])
        image = main.get("image", "")
        name = main.get("name", "")
    else:
        candidates = [(c, v) for (a, c), v in reported.items() if a == arn]
        if not candidates:
            return None
        name, seen = candidates[0]
        image = seen["image"]
    parsed = parse_image(image)
    found = resolved.get((arn, name))
    digest, basis = (found["digest"], found["basis"]) if found else ("", "")
    if not digest and reported.get((arn, name), {}).get("digest"):
        digest, basis = reported[(arn, name)]["digest"], "task"
    if not digest and parsed["image_digest"]:
        digest, basis = parsed["image_digest"], "digest"
    return {
        "container": name,
        "source": parsed["image_source"],
        "repository": parsed["image_repository"] or image,
        "tag": parsed["image_tag"],
        "digest": digest,
        "basis": basis or "unknown",
    }


def _image_text(image: dict[str, Any]) -> str:
    text = image["repository"] + (f":{image['tag']}" if image["tag"] else "")
    return text + (f"@{_short(image['digest'])}" if image["digest"] else "")


# -- TF12-ADMIN-SAME-RELEASE ------------------------------------------------------------------
def _job_result(job: Any, status: Status, message: str, ev: dict[str, Any]) -> Result:
    return result(
        job,
        status,
        message,
        resource_type="AdminTask",
        resource_id=job["job"],
        resource_arn=job["arn"],
        evidence=ev,
    )


@check("TF12-ADMIN-SAME-RELEASE")
def admin_same_release(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw_tds = raw_task_definitions(inv)
    resolved = {
        (r.task_definition_arn, r.container): {"digest": r.digest, "basis": r.basis}
        for r in resolve_images(inv).itertuples()
    }
    reported = _task_images(inv)
    services = inv.rows_by("services", "region", "application", "environment")
    for job in admin_jobs(inv).to_dict("records"):
        who = f"{job['kind'].capitalize()} {job['job'].split('/', 1)[1]}"
        td = _td_name(job["task_definition_arn"])
        ev: dict[str, Any] = {"task_definition": td, "pinned": bool(job["pinned"])}
        if not job["task_definition_arn"]:
            yield _job_result(
                job,
                Status.ERROR,
                f"{who} runs family {job['family']}, which has no ACTIVE revision in the audit: "
                "what it runs cannot be told.",
                ev,
            )
            continue
        place = (job["region"], job["application"], job["environment"])
        peers = [s for s in services.get(place, []) if s["active"]]
        ev["services"] = [
            {
                "service": f"{s['cluster']}/{s['service']}",
                "task_definition": _td_name(s["task_definition_arn"]),
            }
            for s in peers
        ]
        if not peers:
            yield _job_result(
                job,
                Status.INFO,
                f"{who} runs {td}; {job['application'] or 'its application'} has no service in "
                f"{job['environment'] or 'that environment'} whose release it could be compared "
                "with (a job of its own).",
                ev,
            )
            continue
        if job["task_definition_arn"] in {s["task_definition_arn"] for s in peers}:
            yield _job_result(
                job,
                Status.PASS,
                f"{who} runs {td}, the very task definition the service runs: the same release, "
                "code and config.",
                ev,
            )
            continue
        mine = _image_of(job["task_definition_arn"], raw_tds, resolved, reported)
        theirs = [
            (s["service"], _image_of(s["task_definition_arn"], raw_tds, resolved, reported))
            for s in peers
        ]
        theirs = [(name, img) for name, img in theirs if img is not None]
        if mine is None:
            yield _job_result(
                job,
                Status.INFO,
                f"{who} runs {td}, a revision the audit did not collect (not in use by a service "
                "and not the latest of its family): its image cannot be compared.",
                ev,
            )
            continue
        ev |= {
            "image": _image_text(mine),
            "service_images": {name: _image_text(img) for name, img in theirs},
        }
        repos = {img["repository"] for _, img in theirs}
        service_text = ", ".join(f"{name}: {_image_text(img)}" for name, img in theirs)
        if mine["repository"] not in repos:
            yield _job_result(
                job,
                Status.FAIL,
                f"{who} runs {_image_text(mine)} ({td}), not the application's own image "
                f"({service_text}): admin code that does not ship with the app.",
                ev,
            )
            continue
        same_repo = [img for _, img in theirs if img["repository"] == mine["repository"]]
        certain = mine["basis"] not in ("mutable tag", "unknown") and mine["digest"]
        if certain and any(img["digest"] == mine["digest"] for img in same_repo):
            yield _job_result(
                job,
                Status.PASS,
                f"{who} runs {td} with {_image_text(mine)}, the build the service runs: the same "
                "release.",
                ev,
            )
        elif certain and all(
            img["digest"] and img["basis"] not in ("mutable tag", "unknown") for img in same_repo
        ):
            yield _job_result(
                job,
                Status.FAIL,
                f"{who} runs {td} with {_image_text(mine)}, another build than the service "
                f"({service_text}): the admin task and the app run different releases.",
                ev,
            )
        else:
            yield _job_result(
                job,
                Status.INFO,
                f"{who} runs {td} with {_image_text(mine)} and the service {service_text}: "
                "a mutable tag or an unresolved image leaves open whether they are the same "
                "build.",
                ev,
            )


@evidence("TF12-ADMIN-SAME-RELEASE")
def _jobs_table(wb: Workbook) -> pd.DataFrame:
    """Each admin job, what it runs and what the application's service runs next to it."""
    statuses = {
        f["resource_id"]: (f["status"], json.loads(f["evidence"]))
        for _, f in wb.findings_for(check_id="TF12-ADMIN-SAME-RELEASE").iterrows()
    }
    jobs = admin_jobs(wb.inventory)
    rows = []
    for _, j in jobs.iterrows():
        status, ev = statuses.get(j["job"], ("", {}))
        rows.append(
            {k: j[k] for k in PLACE}
            | {
                "job": j["job"],
                "schedule": j["schedule"] or j["runs"],
                "task_definition": _td_name(j["task_definition_arn"]),
                "pinned": bool(j["pinned"]),
                "image": ev.get("image", ""),
                "service_runs": "; ".join(
                    f"{s['service']} ({s['task_definition']})" for s in ev.get("services", [])
                ),
                "service_image": "; ".join(ev.get("service_images", {}).values()),
                "status": status,
            }
        )
    cols = [*PLACE, "job", "schedule", "task_definition", "pinned", "image"]
    return pd.DataFrame(rows, columns=[*cols, "service_runs", "service_image", "status"])


# -- TF12-SCHEDULE-PINNED ---------------------------------------------------------------------
@check("TF12-SCHEDULE-PINNED")
def schedule_pinned(inv: Inventory, settings: Settings) -> Iterator[Result]:
    latest = _latest_arns(inv)
    active: dict[str, set[str] | None] = {}
    for region in inv.regions:
        arns = inv.snapshot.get(region, "ecs").get("active_task_definition_arns")
        active[region] = None if arns is None else set(arns)
    jobs = admin_jobs(inv)
    for job in jobs[jobs["kind"] != "one-off"].to_dict("records"):
        who = f"{job['kind'].capitalize()} {job['job'].split('/', 1)[1]}"
        td = _td_name(job["task_definition_arn"])
        ev = {
            "family": job["family"],
            "pinned": bool(job["pinned"]),
            "runs_now": td,
            "schedule": job["schedule"],
            "state": job["state"],
        }
        if not job["pinned"]:
            latest_td = _td_name(latest.get((job["region"], job["family"]), ""))
            yield _job_result(
                job,
                Status.FAIL,
                f"{who} names the family {job['family']} without a revision: each run takes "
                f"whatever revision was registered last ({latest_td or 'none ACTIVE'} today), "
                "which need not be the release the application runs.",
                ev,
            )
        elif (
            active.get(job["region"]) is not None
            and td
            and (job["task_definition_arn"] not in active[job["region"]])
        ):
            yield _job_result(
                job,
                Status.FAIL,
                f"{who} is pinned to {td}, which is no longer ACTIVE (deregistered): its runs "
                "fail or run a release nobody maintains.",
                ev,
            )
        else:
            yield _job_result(
                job,
                Status.PASS,
                f"{who} is pinned to {td}: every run starts the same, known revision"
                + (" (the schedule is disabled)." if job["state"] == "DISABLED" else "."),
                ev,
            )


@evidence("TF12-SCHEDULE-PINNED")
def _pinned_table(wb: Workbook) -> pd.DataFrame:
    rows = [
        {k: f[k] for k in PLACE}
        | {"job": f["resource_id"], "status": f["status"]}
        | {k: ev.get(k, "") for k in ("schedule", "state", "family", "pinned", "runs_now")}
        for _, f in wb.findings_for(check_id="TF12-SCHEDULE-PINNED").iterrows()
        if f["resource_id"] != "*"
        for ev in [json.loads(f["evidence"])]
        if "missing_action" not in ev
    ]
    cols = [*PLACE, "job", "status", "schedule", "state", "family", "pinned", "runs_now"]
    return pd.DataFrame(rows, columns=cols)


# -- TF12-EXEC-GOVERNED -----------------------------------------------------------------------
def _raw_clusters(inv: Inventory) -> dict[str, dict[str, Any]]:
    return {
        c["clusterArn"]: c
        for region in inv.regions
        for c in inv.snapshot.get(region, "ecs").get("clusters") or []
    }


def exec_logging(cluster: dict[str, Any], raw_td: dict[str, Any]) -> dict[str, Any]:
    """Where the ECS Exec sessions of a task go, from the cluster's executeCommandConfiguration
    (``logging`` NONE, DEFAULT -- the default: the containers' awslogs --, or OVERRIDE)."""
    config = (cluster.get("configuration") or {}).get("executeCommandConfiguration") or {}
    logging = config.get("logging") or "DEFAULT"
    out: dict[str, Any] = {"logging": logging, "kms_key": bool(config.get("kmsKeyId"))}
    if logging == "NONE":
        return out | {"logged": False, "where": "nowhere (logging NONE)"}
    if logging == "OVERRIDE":
        target = config.get("logConfiguration") or {}
        where = []
        if target.get("cloudWatchLogGroupName"):
            where.append(f"CloudWatch Logs {target['cloudWatchLogGroupName']}")
        if target.get("s3BucketName"):
            where.append(f"S3 bucket {target['s3BucketName']}")
        return out | {"logged": bool(where), "where": ", ".join(where) or "nowhere (no target)"}
    drivers = {
        c.get("name", ""): (c.get("logConfiguration") or {}).get("logDriver", "")
        for c in raw_td.get("containerDefinitions") or []
    }
    unlogged = sorted(name for name, driver in drivers.items() if driver != "awslogs")
    return out | {
        "logged": bool(drivers) and not unlogged,
        "where": "each container's awslogs group"
        + (f" (none for {', '.join(unlogged)})" if unlogged else ""),
    }


@check("TF12-EXEC-GOVERNED")
def exec_governed(inv: Inventory, settings: Settings) -> Iterator[Result]:
    services = raw_services(inv)
    clusters = _raw_clusters(inv)
    tds = raw_task_definitions(inv)
    for s in inv.rows("services"):
        raw = services.get(s["service_arn"], {})
        name = f"{s['cluster']}/{s['service']}"
        enabled = bool(raw.get("enableExecuteCommand"))
        cluster = clusters.get(raw.get("clusterArn", ""), {})
        log = exec_logging(cluster, tds.get(s["task_definition_arn"], {}))
        ev = {"exec_enabled": enabled} | log

        def out(status: Status, message: str, s: Any = s, ev: dict = ev) -> Result:
            return result(
                s,
                status,
                message,
                resource_type="AwsEcsService",
                resource_id=f"{s['cluster']}/{s['service']}",
                resource_arn=s["service_arn"],
                evidence=ev,
            )

        production = is_production(s["environment"]) or not s["environment"]
        if not enabled:
            yield out(Status.PASS, f"Service {name} has ECS Exec turned off.")
        elif log["logged"]:
            yield out(
                Status.PASS,
                f"Service {name} allows ECS Exec; its sessions are logged to {log['where']}"
                + (
                    " (prefer turning Exec on only while it is needed in production)."
                    if production
                    else "."
                ),
            )
        elif production:
            unknown = (
                "" if s["environment"] else " (its environment is unknown: taken as production)"
            )
            yield out(
                Status.FAIL,
                f"Service {name} allows ECS Exec in production{unknown}, and its sessions are "
                f"logged {log['where']}: commands typed into production tasks leave no trace.",
            )
        else:
            yield out(
                Status.INFO,
                f"Service {name} allows ECS Exec in {s['environment']} without session logging "
                f"({log['where']}); acceptable outside production.",
            )


@evidence("TF12-EXEC-GOVERNED")
def _exec_table(wb: Workbook) -> pd.DataFrame:
    rows = [
        {k: f[k] for k in PLACE}
        | {"service": f["resource_id"], "status": f["status"]}
        | {k: ev.get(k, "") for k in ("exec_enabled", "logging", "where", "kms_key")}
        for _, f in wb.findings_for(check_id="TF12-EXEC-GOVERNED").iterrows()
        if f["resource_id"] != "*"
        for ev in [json.loads(f["evidence"])]
        if "missing_action" not in ev
    ]
    cols = [*PLACE, "service", "status", "exec_enabled", "logging", "where", "kms_key"]
    return pd.DataFrame(rows, columns=cols)


# -- TF12-NO-SSH-HOSTS ------------------------------------------------------------------------
def shell_rules(rules: pd.DataFrame) -> pd.DataFrame:
    """Ingress rules that admit SSH (22) or RDP (3389): TCP (or all protocols) over a port
    range that includes them."""

    def opens(r: Any) -> str:
        if str(r.protocol).lower() not in TCP_PROTOCOLS:
            return ""
        low = None if pd.isna(r.from_port) or r.from_port == -1 else int(r.from_port)
        high = None if pd.isna(r.to_port) or r.to_port == -1 else int(r.to_port)
        hit = [
            name
            for port, name in SHELL_PORTS.items()
            if (low is None or low <= port) and (high is None or port <= high)
        ]
        return "+".join(hit)

    rules = rules.copy()
    rules["opens"] = [opens(r) for r in rules.itertuples()]
    return rules[rules["opens"] != ""]


def _group_names(inv: Inventory) -> dict[tuple[str, str], str]:
    """(region, security group id) -> its name."""
    return {
        (region, g.get("GroupId", "")): g.get("GroupName", "")
        for region in inv.regions
        for g in inv.snapshot.get(region, "ec2").get("security_groups") or []
    }


def host_access(inv: Inventory) -> pd.DataFrame:
    """Container hosts grouped by how they can be reached: per cluster, key pair and set of
    security groups (the instances of one launch template or Auto Scaling group share them).

    ``host_group`` names the group by names only ("legacy: key=legacy-admin sg=legacy-hosts"),
    which stays the same when instances are replaced. ``key_pair`` is None when the instances
    themselves were not collected.
    """
    names = _group_names(inv)
    rows = []
    for h in inv.container_hosts.itertuples():
        ids = sorted(g.strip() for g in str(h.security_group_ids or "").split(",") if g.strip())
        pairs = sorted((names.get((h.region, g)) or g, g) for g in ids)
        group_names = [n for n, _ in pairs]
        key = h.key_name
        label = "?" if key is None else (key or "none")
        rows.append(
            {
                "account": h.account,
                "region": h.region,
                "application": h.application,
                "environment": h.environment,
                "host_group": f"{h.cluster}: key={label} sg={'+'.join(group_names) or 'none'}",
                "cluster": h.cluster,
                "key_pair": key,
                "security_group_ids": ids,
                "security_groups": group_names,
                "group_labels": [f"{n} ({g})" for n, g in pairs],
                "instance_id": h.instance_id,
                "container_instance_arn": h.container_instance_arn,
                "public_ip": h.public_ip or "",
            }
        )
    columns = [
        *["account", "region", "application", "environment", "host_group", "cluster"],
        *["key_pair", "security_group_ids", "security_groups", "group_labels", "instance_id"],
        *["container_instance_arn", "public_ip"],
    ]
    return pd.DataFrame(rows, columns=columns)


@check("TF12-NO-SSH-HOSTS")
def no_ssh_hosts(inv: Inventory, settings: Settings) -> Iterator[Result]:
    shells = shell_rules(inv.ingress_rules)
    hosts = host_access(inv)
    for (region, label), group in hosts.groupby(["region", "host_group"], sort=True):
        first = group.iloc[0]
        ids = first["security_group_ids"]
        mine = shells[(shells["region"] == region) & shells["group_id"].isin(ids)]
        open_rules = [
            {
                "group": f"{r.group_name} ({r.group_id})",
                "opens": r.opens,
                "ports": f"{r.from_port}-{r.to_port}"
                if r.from_port != r.to_port
                else str(r.from_port),
                "source": r.source,
                "world": bool(r.open_to_world),
            }
            for r in mine.itertuples()
        ]
        key = first["key_pair"]
        ev = {
            "instances": sorted(group["instance_id"]),
            "public_ips": sorted(ip for ip in group["public_ip"] if ip),
            "key_pair": key or "",
            "security_groups": first["group_labels"],
            "shell_rules": open_rules,
        }
        n = len(group)
        who = (
            f"{n} container instance{'s' if n > 1 else ''} of cluster {first['cluster']} "
            f"({', '.join(sorted(group['instance_id']))})"
        )
        place = {k: first[k] for k in ("account", "region", "application", "environment")}
        arns = ",".join(sorted(group["container_instance_arn"]))

        def out(status: Status, message: str, ev=ev, place=place, label=label, arns=arns):
            return result(
                place,
                status,
                message,
                resource_type="AwsEcsContainerInstance",
                resource_id=label,
                resource_arn=arns,
                evidence=ev,
            )

        if key is None:
            yield out(
                Status.ERROR,
                f"{who}: the EC2 instances were not among the collected instances, so their key "
                "pair and security groups are unknown.",
            )
            continue
        rules_text = "; ".join(
            f"{r['opens']} from {r['source']} in {r['group']}" for r in open_rules
        )
        if open_rules:
            world = any(r["world"] for r in open_rules)
            yield out(
                Status.FAIL,
                f"{who}: admit{'s' if n == 1 else ''} {rules_text}"
                + (" -- the whole internet" if world else "")
                + (f", with the key pair {key} installed" if key else "")
                + ": an administrator's way in around the application's own processes.",
            )
        elif key:
            yield out(
                Status.INFO,
                f"{who}: the key pair {key} is installed, but no security-group rule admits SSH "
                "or RDP; remove the key so that one rule change cannot open a shell.",
            )
        else:
            yield out(
                Status.PASS,
                f"{who}: no key pair and no security-group rule that admits SSH or RDP "
                "(Session Manager or ECS Exec, which are logged, are the way in).",
            )


@evidence("TF12-NO-SSH-HOSTS")
def _ssh_table(wb: Workbook) -> pd.DataFrame:
    """One row per container instance: its host group's verdict, key pair and SSH/RDP rules."""
    verdicts = {
        f["resource_id"]: (f["status"], json.loads(f["evidence"]))
        for _, f in wb.findings_for(check_id="TF12-NO-SSH-HOSTS").iterrows()
    }
    rows = []
    for h in host_access(wb.inventory).itertuples():
        status, ev = verdicts.get(h.host_group, ("", {}))
        rows.append(
            {
                "application": h.application,
                "environment": h.environment,
                "region": h.region,
                "host_group": h.host_group,
                "instance": h.instance_id,
                "status": status,
                "key_pair": h.key_pair or "",
                "public_ip": h.public_ip,
                "security_groups": ", ".join(h.security_groups),
                "shell_rules": "; ".join(
                    f"{r['opens']} {r['ports']} from {r['source']}"
                    for r in ev.get("shell_rules", [])
                ),
            }
        )
    cols = [*PLACE, "host_group", "instance", "status", "key_pair", "public_ip"]
    return pd.DataFrame(rows, columns=[*cols, "security_groups", "shell_rules"])


# -- pictures ---------------------------------------------------------------------------------
@plot("admin-jobs")
def admin_jobs_plot(wb: Workbook) -> Figure:
    """One row per admin job: the revision it runs against the revision its service runs,
    coloured by the TF12-ADMIN-SAME-RELEASE verdict."""
    table = wb.evidence("TF12-ADMIN-SAME-RELEASE")
    fig = Figure(figsize=(10, 0.6 * max(len(table), 3) + 1.4), layout="constrained")
    ax = fig.subplots()
    if table.empty:
        ax.text(
            0.5,
            0.5,
            "no scheduled or one-off ECS tasks",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    table = table.iloc[::-1].reset_index(drop=True)
    for i, r in table.iterrows():
        colour = STATUS_COLOURS.get(r["status"], "#999999")
        ax.barh(i, 1, left=0, color=colour, height=0.7)
        ax.text(
            0.5,
            i,
            f"runs {r['task_definition'] or '?'}"
            + ("" if r["pinned"] else " (unpinned)")
            + (f"\n{r['image']}" if r["image"] else ""),
            ha="center",
            va="center",
            color="white",
            fontsize=7.5,
        )
        ax.barh(i, 1, left=1.1, color="#0072B2", height=0.7)
        ax.text(
            1.6,
            i,
            (r["service_runs"] or "(no service)")
            + (f"\n{r['service_image']}" if r["service_image"] else ""),
            ha="center",
            va="center",
            color="white",
            fontsize=8,
        )
    ax.set_yticks(
        range(len(table)),
        [f"{j} ({a})" for j, a in zip(table["job"], table["application"], strict=True)],
        fontsize=8,
    )
    ax.set_xticks([0.5, 1.6], ["the admin job", "the application's service"])
    ax.xaxis.tick_top()
    ax.set_xlim(-0.05, 2.15)
    ax.spines[["top", "right", "bottom", "left"]].set_visible(False)
    ax.set_xlabel(
        "left cell: the job's verdict (green same release, vermillion another image or "
        "release, sky blue cannot tell)",
        fontsize=8,
    )
    return fig
