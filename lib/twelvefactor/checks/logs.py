"""Factor XI, Logs: a process writes its event stream to stdout; the platform routes it.

Seven checks over the containers of the task definitions services run (and the latest revision
of every family), the CloudWatch Logs groups they write to, and the clusters:

* ``TF11-LOG-CONFIG``: every container has a log configuration (ECS.9).
* ``TF11-LOG-OFF-HOST``: its driver ships the stream off the instance (awslogs, awsfirelens,
  splunk, a remote syslog ...), not into files or the journal of one instance.
* ``TF11-LOG-GROUP-EXISTS``: the CloudWatch Logs group a container writes to exists (or ECS
  creates it: ``awslogs-create-group``).
* ``TF11-LOG-RETENTION``: those log groups keep events for a set time, not forever.
* ``TF11-LOG-ENCRYPTION``: production log groups are encrypted with a KMS key.
* ``TF11-NO-LOG-FILES``: no container writes log files to a mounted volume.
* ``TF11-CONTAINER-INSIGHTS``: clusters collect Container Insights (ECS.12).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import Inventory
from ..plots import STATUS_COLOURS, empty_axes, factor_matrix, plot
from ..settings import Settings
from . import check
from .common import container_id, container_result, result
from .port_binding import finding_rows, place, raw_task_definitions

if TYPE_CHECKING:
    from ..workbook import Workbook

FACTOR = 11
CHECK_IDS = (
    "TF11-LOG-CONFIG",
    "TF11-LOG-OFF-HOST",
    "TF11-LOG-GROUP-EXISTS",
    "TF11-LOG-RETENTION",
    "TF11-LOG-ENCRYPTION",
    "TF11-NO-LOG-FILES",
    "TF11-CONTAINER-INSIGHTS",
)
LOG_GROUP = "AwsLogsLogGroup"
CLUSTER = "AwsEcsCluster"

#: Drivers that send each line to a service away from the instance as it is written.
SHIPPING_DRIVERS = {
    "awslogs": "CloudWatch Logs",
    "awsfirelens": "FireLens (Fluent Bit or Fluentd, to its configured outputs)",
    "splunk": "Splunk's HTTP Event Collector",
    "gelf": "a GELF endpoint (Graylog, Logstash)",
    "fluentd": "a Fluentd collector",
    "logentries": "Logentries",
    "sumologic": "Sumo Logic",
    "gcplogs": "Google Cloud Logging",
}
#: Drivers that keep the stream on the instance (or drop it).
LOCAL_DRIVERS = {
    "json-file": "JSON files on the instance's disk",
    "local": "files on the instance's disk",
    "journald": "the instance's systemd journal",
    "etwlogs": "Windows event tracing on the instance",
    "none": "nowhere: the output is discarded",
}
#: Option values safe to show (log driver options may hold tokens: show only these).
SHOWN_OPTIONS = (
    "awslogs-group",
    "awslogs-region",
    "awslogs-stream-prefix",
    "awslogs-create-group",
    "mode",
    "max-buffer-size",
    "syslog-address",
    "fluentd-address",
    "gelf-address",
    "Name",
    "log_group_name",
    "region",
    "auto_create_group",
    "max-size",
    "max-file",
)
#: Environments whose log groups must be encrypted with a KMS key.
PRODUCTION = ("production", "")
LOG_SEGMENTS = frozenset({"log", "logs", "applogs", "app-logs"})
INSIGHTS_ON = ("enabled", "enhanced")


# -- the containers and their log configurations -------------------------------------------------
def _containers(inv: Inventory) -> Iterator[tuple[pd.Series, dict[str, Any], dict[str, Any]]]:
    """(inventory row, raw container definition, raw task definition) of every judged
    container."""
    raw = raw_task_definitions(inv)
    for c in inv.rows("containers"):
        td = raw.get(c["task_definition_arn"], {})
        definition = next(
            (d for d in td.get("containerDefinitions") or [] if d.get("name") == c["container"]),
            {},
        )
        yield c, definition, td


def _log_config(definition: dict[str, Any]) -> tuple[str, dict[str, str]]:
    config = definition.get("logConfiguration") or {}
    return config.get("logDriver") or "", {
        str(k): str(v) for k, v in (config.get("options") or {}).items()
    }


def _shown(options: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in options.items() if k in SHOWN_OPTIONS}


def _config_evidence(definition: dict[str, Any]) -> dict[str, Any]:
    driver, options = _log_config(definition)
    config = definition.get("logConfiguration") or {}
    return {
        "log_driver": driver,
        "options": _shown(options),
        "other_options": sorted(set(options) - set(SHOWN_OPTIONS)),
        "secret_options": sorted(s.get("name", "") for s in config.get("secretOptions") or []),
        "essential": bool(definition.get("essential", True)),
    }


# -- TF11-LOG-CONFIG -----------------------------------------------------------------------------
@check("TF11-LOG-CONFIG")
def log_config(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for c, definition, _ in _containers(inv):
        evidence = _config_evidence(definition)
        who = f"Container {container_id(c)}"
        if evidence["log_driver"]:
            yield container_result(
                c,
                Status.PASS,
                f"{who} has a log configuration (driver {evidence['log_driver']}).",
                evidence,
            )
        else:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} has no log configuration: ECS routes its output nowhere the task "
                "definition says.",
                evidence,
            )


# -- TF11-LOG-OFF-HOST ---------------------------------------------------------------------------
def _remote_syslog(options: dict[str, str]) -> bool:
    address = options.get("syslog-address", "")
    scheme, _, rest = address.partition("://")
    host = rest.split(":", 1)[0].strip("[]")
    return scheme in ("tcp", "udp", "tcp+tls") and host not in ("", "localhost", "127.0.0.1", "::1")


@check("TF11-LOG-OFF-HOST")
def log_off_host(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for c, definition, _ in _containers(inv):
        evidence = _config_evidence(definition)
        driver, options = _log_config(definition)
        who = f"Container {container_id(c)}"
        if not driver:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} has no log configuration: on EC2 the Docker daemon's default driver "
                "(json-file on the ECS-optimised AMI) keeps its output on the instance; on "
                "Fargate it is lost.",
                evidence,
            )
        elif driver in SHIPPING_DRIVERS:
            yield container_result(
                c,
                Status.PASS,
                f"{who} ships its output with the {driver} driver to {SHIPPING_DRIVERS[driver]}.",
                evidence,
            )
        elif driver == "syslog" and _remote_syslog(options):
            yield container_result(
                c,
                Status.PASS,
                f"{who} ships its output to the syslog server {options['syslog-address']}.",
                evidence,
            )
        elif driver == "syslog":
            yield container_result(
                c,
                Status.FAIL,
                f"{who} writes its output to the instance's own syslog, where it stays with "
                "that instance.",
                evidence,
            )
        elif driver in LOCAL_DRIVERS:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} uses the {driver} driver: its output goes to {LOCAL_DRIVERS[driver]}, "
                "and is gone with the instance.",
                evidence,
            )
        else:
            yield container_result(
                c,
                Status.SKIP,
                f"{who} uses the log driver {driver!r}, which the audit does not know.",
                evidence,
            )


# -- TF11-LOG-GROUP-EXISTS -----------------------------------------------------------------------
def log_destination(definition: dict[str, Any], region: str) -> tuple[str, str, bool, str] | None:
    """(log group, its region, created on demand?, driver) a container writes to in CloudWatch
    Logs, or None (another destination)."""
    driver, options = _log_config(definition)
    if driver == "awslogs":
        return (
            options.get("awslogs-group", ""),
            options.get("awslogs-region") or region,
            options.get("awslogs-create-group", "").lower() == "true",
            driver,
        )
    if driver == "awsfirelens" and options.get("Name", "").startswith("cloudwatch"):
        return (
            options.get("log_group_name", ""),
            options.get("region") or region,
            options.get("auto_create_group", "").lower() == "true",
            driver,
        )
    return None


def _log_groups(inv: Inventory) -> dict[str, dict[str, dict[str, Any]] | None]:
    """region -> log group name -> describe_log_groups item (None: not listed)."""
    out: dict[str, dict[str, dict[str, Any]] | None] = {}
    for region in inv.regions:
        groups = inv.snapshot.get(region, "logs").get("log_groups")
        out[region] = None if groups is None else {g["logGroupName"]: g for g in groups}
    return out


@check("TF11-LOG-GROUP-EXISTS")
def log_group_exists(inv: Inventory, settings: Settings) -> Iterator[Result]:
    groups = _log_groups(inv)
    for c, definition, _ in _containers(inv):
        destination = log_destination(definition, c["region"])
        if destination is None:
            continue  # not CloudWatch Logs (or no logging at all: TF11-LOG-CONFIG's)
        name, region, create, driver = destination
        evidence = {
            "log_driver": driver,
            "log_group": name,
            "log_group_region": region,
            "create_group": create,
        }
        who = f"Container {container_id(c)}"
        known = groups.get(region, "not collected")
        if not name:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} uses the {driver} driver without naming a log group.",
                evidence,
            )
        elif "$(" in name or "${" in name:
            yield container_result(
                c,
                Status.SKIP,
                f"{who} writes to log groups named by a template ({name}).",
                evidence,
            )
        elif known == "not collected":
            yield container_result(
                c,
                Status.SKIP,
                f"{who} writes to {name} in {region}, a region this audit did not read.",
                evidence,
            )
        elif known is None:
            yield container_result(
                c,
                Status.ERROR,
                f"{who} writes to {name} in {region}, whose log groups could not be listed.",
                evidence,
            )
        elif name in known:
            yield container_result(
                c, Status.PASS, f"{who} writes to the log group {name}, which exists.", evidence
            )
        elif create:
            yield container_result(
                c,
                Status.PASS,
                f"{who} writes to {name}, which does not exist yet: ECS creates it when a task "
                "starts (without a retention setting, see TF11-LOG-RETENTION once it exists).",
                evidence,
            )
        else:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} writes to the log group {name}, which does not exist in {region}: new "
                "tasks fail to start, or their output is dropped.",
                evidence,
            )


# -- TF11-LOG-RETENTION and TF11-LOG-ENCRYPTION --------------------------------------------------
def _referenced_groups(inv: Inventory) -> list[tuple[pd.Series, dict[str, Any]]]:
    """The existing log groups containers write to: (inventory row placed like its writers when
    its name places it nowhere, and the containers that write there)."""
    writers: dict[tuple[str, str], list[pd.Series]] = {}
    for c, definition, _ in _containers(inv):
        destination = log_destination(definition, c["region"])
        if destination and destination[0]:
            writers.setdefault((destination[1], destination[0]), []).append(c)
    out = []
    for g in inv.rows("log_groups"):
        found = writers.get((g["region"], g["log_group"]))
        if not found:
            continue  # written by no judged container: not this audit's business
        row = g.copy()
        for key in ("application", "environment"):
            values = {c[key] for c in found if c[key]}
            if not row[key] and len(values) == 1:
                row[key] = values.pop()
        out.append((row, {"writers": sorted({container_id(c) for c in found})}))
    return out


def _group_result(g: pd.Series, status: Status, message: str, evidence: dict) -> Result:
    return result(
        g,
        status,
        message,
        resource_type=LOG_GROUP,
        resource_id=g["log_group"],
        resource_arn=(g["log_group_arn"] or "").removesuffix(":*"),
        evidence=evidence,
    )


def _days(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


@check("TF11-LOG-RETENTION")
def log_retention(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for g, writers in _referenced_groups(inv):
        days = _days(g["retention_days"])
        evidence = writers | {"retention_days": days}
        if days is None:
            yield _group_result(
                g,
                Status.FAIL,
                f"Log group {g['log_group']} never expires its events: nobody decided how long "
                "the stream is kept, and the bill grows with every day.",
                evidence,
            )
        else:
            yield _group_result(
                g,
                Status.PASS,
                f"Log group {g['log_group']} keeps events for {days} days.",
                evidence,
            )


@check("TF11-LOG-ENCRYPTION")
def log_encryption(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for g, writers in _referenced_groups(inv):
        key = g["kms_key_id"] or ""
        evidence = writers | {"kms_key_id": key}
        name = g["log_group"]
        if key:
            yield _group_result(
                g, Status.PASS, f"Log group {name} is encrypted with the KMS key {key}.", evidence
            )
        elif g["environment"] in PRODUCTION:
            yield _group_result(
                g,
                Status.FAIL,
                f"Log group {name} ("
                + (g["environment"] or "environment unknown, judged as production")
                + ") is encrypted only with keys AWS owns: access to its events cannot be "
                "limited or audited through a key policy.",
                evidence,
            )
        else:
            yield _group_result(
                g,
                Status.INFO,
                f"Log group {name} ({g['environment']}) is encrypted with keys AWS owns; a KMS "
                "key is asked for in production only.",
                evidence,
            )


# -- TF11-NO-LOG-FILES ---------------------------------------------------------------------------
def log_path(path: str) -> bool:
    """A path where programs keep log files: /var/log/..., a log(s) directory, a *.log file."""
    path = posixpath.normpath(path or "/")
    segments = [s.lower() for s in path.split("/") if s]
    return (
        path == "/var/log"
        or path.startswith("/var/log/")
        or any(s in LOG_SEGMENTS for s in segments)
        or (bool(segments) and segments[-1].endswith(".log"))
    )


def _writable_mounts(
    definition: dict[str, Any], siblings: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The container's mount points (also those from volumesFrom), with read-only flags."""
    mounts = [
        {
            "volume": m.get("sourceVolume", ""),
            "path": m.get("containerPath", ""),
            "read_only": bool(m.get("readOnly", False)),
        }
        for m in definition.get("mountPoints") or []
    ]
    for vf in definition.get("volumesFrom") or []:
        source = siblings.get(vf.get("sourceContainer", ""), {})
        mounts += [
            {
                "volume": m.get("sourceVolume", ""),
                "path": m.get("containerPath", ""),
                "read_only": bool(vf.get("readOnly", False) or m.get("readOnly", False)),
            }
            for m in source.get("mountPoints") or []
        ]
    return mounts


@check("TF11-NO-LOG-FILES")
def no_log_files(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for c, definition, td in _containers(inv):
        siblings = {d.get("name", ""): d for d in td.get("containerDefinitions") or []}
        mounts = _writable_mounts(definition, siblings)
        files = [m for m in mounts if not m["read_only"] and log_path(m["path"])]
        readers = sorted(
            name
            for name, d in siblings.items()
            if name != c["container"]
            and {m.get("sourceVolume") for m in d.get("mountPoints") or []}
            & {m["volume"] for m in files}
        )
        evidence = {
            "log_file_mounts": [f"{m['path']} (volume {m['volume']})" for m in files],
            "other_mounts": [m["path"] for m in mounts if m not in files],
            "read_by": readers,
            "readonly_root_filesystem": bool(definition.get("readonlyRootFilesystem", False)),
        }
        who = f"Container {container_id(c)}"
        if files:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} writes log files to "
                + ", ".join(evidence["log_file_mounts"])
                + (
                    f", tailed by {', '.join(readers)}"
                    if readers
                    else ": those lines never reach the log stream"
                )
                + "; a twelve-factor process writes its events to stdout.",
                evidence,
            )
        else:
            yield container_result(
                c,
                Status.PASS,
                f"{who} mounts no writable volume at a log path"
                + (
                    " and its root filesystem is read-only: it can only log to its output."
                    if evidence["readonly_root_filesystem"]
                    else " (files written inside its root filesystem cannot be seen from here)."
                ),
                evidence,
            )


# -- TF11-CONTAINER-INSIGHTS ---------------------------------------------------------------------
@check("TF11-CONTAINER-INSIGHTS")
def container_insights(inv: Inventory, settings: Settings) -> Iterator[Result]:
    apps = inv.services.groupby("cluster")["application"].agg(lambda a: sorted(set(a) - {""}))
    for cl in inv.rows("clusters"):
        setting = cl["container_insights"] or ""
        if not cl["application"] and len(apps.get(cl["cluster"], [])) == 1:
            cl = cl.copy()  # a cluster named like no application, used by one: place it there
            cl["application"] = apps[cl["cluster"]][0]
        evidence = {"container_insights": setting or "(not set)"}
        if setting in INSIGHTS_ON:
            status = Status.PASS
            message = f"Cluster {cl['cluster']} collects Container Insights ({setting})."
        else:
            status = Status.FAIL
            message = (
                f"Cluster {cl['cluster']} does not collect Container Insights "
                f"({setting or 'not set'}): no per-task CPU, memory and restart metrics or "
                "performance log events next to the application's logs."
            )
        yield result(
            cl,
            status,
            message,
            resource_type=CLUSTER,
            resource_id=cl["cluster"],
            resource_arn=cl["cluster_arn"],
            evidence=evidence,
        )


# -- evidence tables -----------------------------------------------------------------------------
def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values or [])


def _options_text(options: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(options.items()))


@evidence("TF11-LOG-CONFIG")
def _config_table(wb: Workbook) -> pd.DataFrame:
    """Each container's log driver and its (non-secret) options."""
    rows = [
        place(f)
        | {
            "container": f["resource_id"],
            "status": f["status"],
            "essential": ev.get("essential"),
            "log_driver": ev.get("log_driver") or "(none)",
            "options": _options_text(ev.get("options", {})),
            "other_options": _join(ev.get("other_options")),
        }
        for f, ev in finding_rows(wb, "TF11-LOG-CONFIG")
    ]
    cols = ["container", "status", "essential", "log_driver", "options", "other_options"]
    return pd.DataFrame(rows, columns=PLACE + cols)


@evidence("TF11-LOG-OFF-HOST")
def _off_host_table(wb: Workbook) -> pd.DataFrame:
    """Each container's log driver and where it sends the stream."""
    rows = []
    for f, ev in finding_rows(wb, "TF11-LOG-OFF-HOST"):
        driver = ev.get("log_driver") or ""
        options = ev.get("options", {})
        destination = SHIPPING_DRIVERS.get(driver) or LOCAL_DRIVERS.get(driver) or ""
        if driver == "syslog":
            destination = options.get("syslog-address") or "the instance's syslog"
        if not driver:
            destination = "Docker's default on the instance (EC2) or nowhere (Fargate)"
        rows.append(
            place(f)
            | {
                "container": f["resource_id"],
                "status": f["status"],
                "log_driver": driver or "(none)",
                "goes_to": destination,
            }
        )
    return pd.DataFrame(rows, columns=PLACE + ["container", "status", "log_driver", "goes_to"])


@evidence("TF11-LOG-GROUP-EXISTS")
def _group_exists_table(wb: Workbook) -> pd.DataFrame:
    """Each container writing to CloudWatch Logs, and whether its log group exists."""
    rows = [
        place(f)
        | {
            "container": f["resource_id"],
            "status": f["status"],
            "log_group": ev.get("log_group"),
            "log_group_region": ev.get("log_group_region"),
            "create_group": ev.get("create_group"),
        }
        for f, ev in finding_rows(wb, "TF11-LOG-GROUP-EXISTS")
    ]
    cols = ["container", "status", "log_group", "log_group_region", "create_group"]
    return pd.DataFrame(rows, columns=PLACE + cols)


def _group_table(wb: Workbook, check_id: str, field: str) -> pd.DataFrame:
    rows = [
        place(f)
        | {
            "log_group": f["resource_id"],
            "status": f["status"],
            field: ev.get(field),
            "written_by": _join(ev.get("writers")),
        }
        for f, ev in finding_rows(wb, check_id)
    ]
    return pd.DataFrame(rows, columns=PLACE + ["log_group", "status", field, "written_by"])


@evidence("TF11-LOG-RETENTION")
def _retention_table(wb: Workbook) -> pd.DataFrame:
    """Each log group containers write to, with its retention (empty: never expires)."""
    table = _group_table(wb, "TF11-LOG-RETENTION", "retention_days")
    table["retention_days"] = table["retention_days"].astype("Int64")
    return table


@evidence("TF11-LOG-ENCRYPTION")
def _encryption_table(wb: Workbook) -> pd.DataFrame:
    """Each log group containers write to, with its KMS key (empty: AWS-owned keys)."""
    return _group_table(wb, "TF11-LOG-ENCRYPTION", "kms_key_id")


@evidence("TF11-NO-LOG-FILES")
def _log_files_table(wb: Workbook) -> pd.DataFrame:
    """Each container: writable mounts at log paths, and what else it mounts."""
    rows = [
        place(f)
        | {
            "container": f["resource_id"],
            "status": f["status"],
            "log_file_mounts": _join(ev.get("log_file_mounts")),
            "read_by": _join(ev.get("read_by")),
            "other_mounts": _join(ev.get("other_mounts")),
            "readonly_root_filesystem": ev.get("readonly_root_filesystem"),
        }
        for f, ev in finding_rows(wb, "TF11-NO-LOG-FILES")
    ]
    cols = ["container", "status", "log_file_mounts", "read_by", "other_mounts"]
    return pd.DataFrame(rows, columns=PLACE + cols + ["readonly_root_filesystem"])


@evidence("TF11-CONTAINER-INSIGHTS")
def _insights_table(wb: Workbook) -> pd.DataFrame:
    """Each cluster's Container Insights setting."""
    rows = [
        place(f)
        | {
            "cluster": f["resource_id"],
            "status": f["status"],
            "container_insights": ev.get("container_insights"),
        }
        for f, ev in finding_rows(wb, "TF11-CONTAINER-INSIGHTS")
    ]
    return pd.DataFrame(rows, columns=PLACE + ["cluster", "status", "container_insights"])


# -- pictures ------------------------------------------------------------------------------------
@plot("logs-matrix")
def logs_matrix(wb: Workbook) -> Figure:
    """Factor XI per application and environment."""
    return factor_matrix(wb, FACTOR, CHECK_IDS, "Factor XI per application and environment")


#: Where the "never expires" bars end, in days (beyond CloudWatch's longest setting, 3653).
NEVER = 5000


@plot("log-retention")
def log_retention_bars(wb: Workbook) -> Figure:
    """Retention per log group containers write to (log scale); never-expiring groups reach the
    right edge in vermillion; KMS-encrypted groups are marked."""
    retention = wb.evidence("TF11-LOG-RETENTION")
    keys = wb.evidence("TF11-LOG-ENCRYPTION").set_index(["region", "log_group"])["kms_key_id"]
    fig = Figure(figsize=(8, 0.4 * max(len(retention), 3) + 1.4), layout="constrained")
    ax = fig.subplots()
    if retention.empty:
        empty_axes(ax, "no log groups in use")
        return fig
    table = retention.copy()
    table["days"] = table["retention_days"].astype("float").fillna(NEVER)
    table = table.sort_values(["days", "log_group"])
    labels = [
        f"{g}{'  [KMS]' if keys.get((r, g)) else ''}"
        for r, g in zip(table["region"], table["log_group"], strict=True)
    ]
    ax.barh(
        labels,
        table["days"],
        color=[STATUS_COLOURS.get(s, "#999999") for s in table["status"]],
    )
    ax.set_xscale("log")
    ax.set_xlim(1, NEVER * 1.2)
    for y, days in enumerate(table["days"]):
        text = "never expires" if days == NEVER else f"{int(days)} d"
        ax.text(
            days * (0.95 if days == NEVER else 1.08),
            y,
            text,
            va="center",
            fontsize=8,
            ha="right" if days == NEVER else "left",
            color="white" if days == NEVER else "black",
        )
    ax.set_xticks([1, 7, 30, 90, 365, 3653], ["1 d", "1 wk", "30 d", "90 d", "1 yr", "10 yr"])
    ax.axvline(365, color="#000000", linestyle=":", linewidth=1)
    ax.set_xlabel(
        "retention (log scale); dotted line: one year\n"
        "green: set · vermillion: never expires · [KMS]: encrypted with a KMS key",
        fontsize=8,
    )
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
