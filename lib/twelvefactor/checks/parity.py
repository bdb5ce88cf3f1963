"""Factor X, Dev/prod parity: keep development, staging and production as similar as possible.

This is where environments are compared. Four checks, each over one application at a time:

* ``TF10-PROMOTED-IMAGE``: the build running in production also ran in a pre-production
  environment (one image promoted, not rebuilt per environment). An image is identified by its
  digest; a tag is resolved to a digest through ECR, and a mutable tag proves nothing (it may
  have moved since each environment deployed it) unless a task reported the digest it runs.
* ``TF10-TASK-SHAPE``: a service's task definitions have the same shape in every environment
  -- containers (sidecars), ports, log driver, health check, command, mounts, variable names --
  and differ only in values (and in size: cpu, memory and counts are allowed to differ).
* ``TF10-BACKING-ENGINE``: a backing service (RDS, Aurora, ElastiCache) runs the same engine and
  major version in every environment.
* ``TF10-PLATFORM-VERSION``: a service runs on the same launch type and (on Fargate) the same
  platform version in every environment.

"Pre-production" is any environment that is not production (``is_production``); an application
is compared only when it runs in production and in at least one other environment.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import matplotlib.colors
import matplotlib.patches
import pandas as pd
from matplotlib.figure import Figure

from ..apps import ENVIRONMENT_TOKENS
from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import Inventory, parse_image
from ..plots import STATUS_COLOURS, factor_matrix, plot
from ..settings import Settings
from . import check
from .backing_services import is_production
from .common import result

if TYPE_CHECKING:
    from ..workbook import Workbook

FACTOR = 10
CHECK_IDS = (
    "TF10-PROMOTED-IMAGE",
    "TF10-TASK-SHAPE",
    "TF10-BACKING-ENGINE",
    "TF10-PLATFORM-VERSION",
)
#: The newest Fargate platform version for Linux tasks; "LATEST" (or no setting) means it.
FARGATE_LINUX_LATEST = "1.4.0"


# -- shared ---------------------------------------------------------------------------------
def _raw(inv: Inventory, service: str, key: str, id_key: str) -> dict[str, dict[str, Any]]:
    return {
        item[id_key]: item
        for region in inv.regions
        for item in inv.snapshot.get(region, service).get(key) or []
        if item.get(id_key)
    }


def raw_task_definitions(inv: Inventory) -> dict[str, dict[str, Any]]:
    """describe_task_definition results by ARN."""
    return _raw(inv, "ecs", "task_definitions", "taskDefinitionArn")


def raw_services(inv: Inventory) -> dict[str, dict[str, Any]]:
    """describe_services items by ARN."""
    return _raw(inv, "ecs", "services", "serviceArn")


def _env_order(env: str) -> tuple[bool, str]:
    """Pre-production environments first, production last (reading order of a promotion)."""
    return (is_production(env), env)


def _joined(values: Any) -> str:
    return ",".join(sorted({str(v) for v in values if v}))


def _compared_services(inv: Inventory) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(application, service name) -> its active services (rows of ``inventory.services``,
    pre-production first), when they run in production and in at least one other environment."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in inv.rows("services"):
        if s["active"] and s["environment"] != "":
            groups.setdefault((s["application"], s["service"]), []).append(s)
    out = {}
    for key in sorted(groups):
        envs = {s["environment"] for s in groups[key]}
        if len(envs) >= 2 and any(is_production(e) for e in envs):
            out[key] = sorted(groups[key], key=lambda s: _env_order(s["environment"]))
    return out


def _subject(app: str, service: str) -> str:
    """A compared service's resource id: its application, or application/service."""
    return app if service == app else f"{app}/{service}"


def _column(svc: Any, group: list[dict[str, Any]]) -> str:
    """The side-by-side column of one service: its environment (with its region when the same
    environment runs in several)."""
    if sum(s["environment"] == svc["environment"] for s in group) > 1:
        return f"{svc['environment']} ({svc['region']}, {svc['cluster']})"
    return svc["environment"]


def _place(inv: Inventory, rows: list[dict[str, Any]], application: str) -> dict[str, str]:
    return {
        "account": inv.account,
        "region": _joined(r["region"] for r in rows),
        "application": application,
        "environment": ",".join(sorted({r["environment"] for r in rows}, key=_env_order)),
    }


# -- TF10-PROMOTED-IMAGE ----------------------------------------------------------------------
def _ecr_digests(inv: Inventory) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(region, repository, tag) -> {digest, pushed_at} of the account's ECR images."""
    out = {}
    for img in inv.images.itertuples():
        for tag in [t.strip() for t in str(img.tags or "").split(",") if t.strip()]:
            out[(img.region, img.repository, tag)] = {
                "digest": img.digest,
                "pushed_at": img.pushed_at,
            }
    return out


def _pushed_at(inv: Inventory) -> Callable[[str, str], Any]:
    """(region, digest) -> when the image was pushed (None for an image not in ECR). A time is
    parsed only when asked for: few images ever are, and parsing them all costs seconds."""
    raw = {(i.region, i.digest): i.pushed_at for i in inv.images.itertuples() if i.digest}

    @functools.cache
    def pushed(region: str, digest: str) -> Any:
        if (region, digest) not in raw:
            return None
        return pd.to_datetime(raw[(region, digest)], utc=True, errors="coerce")

    return pushed


def _task_digests(inv: Inventory) -> dict[tuple[str, str], set[str]]:
    """(task definition ARN, container) -> the digests its tasks reported running."""
    out: dict[tuple[str, str], set[str]] = {}
    for region in inv.regions:
        for task in inv.snapshot.get(region, "ecs").get("tasks") or []:
            for c in task.get("containers") or []:
                if c.get("imageDigest"):
                    key = (task.get("taskDefinitionArn", ""), c.get("name", ""))
                    out.setdefault(key, set()).add(c["imageDigest"])
    return out


def resolve_images(inv: Inventory) -> pd.DataFrame:
    """Every container of every collected task definition from the account's private ECR, with
    the digest it runs and how that is known (``basis``):

    ``task`` (a task reported it), ``digest`` (pinned in the task definition), ``immutable tag``
    (resolved through ECR, cannot move), ``mutable tag`` (resolved through ECR today; may have
    moved since the deployment), ``unknown`` (the tag is not in ECR any more, or another
    account's repository).
    """
    c = inv.containers[inv.containers["image_source"] == "private-ecr"]
    tags = _ecr_digests(inv)
    mutability = {(r.region, r.repository): r.tag_mutability for r in inv.repositories.itertuples()}
    reported = _task_digests(inv)
    rows = []
    for r in c.itertuples():
        digests = sorted(reported.get((r.task_definition_arn, r.container), set()))
        if digests:
            basis, digest = "task", digests[0] if len(digests) == 1 else ""
        elif r.image_digest:
            basis, digest = "digest", r.image_digest
        else:
            own = r.image_account == inv.account
            found = tags.get((r.image_region, r.image_repository, r.image_tag)) if own else None
            if found is None:
                basis, digest = "unknown", ""
            else:
                digest = found["digest"]
                immutable = mutability.get((r.image_region, r.image_repository)) == "IMMUTABLE"
                basis = "immutable tag" if immutable else "mutable tag"
        rows.append(
            {
                "account": r.account,
                "region": r.region,
                "application": r.application,
                "environment": r.environment,
                "task_definition": f"{r.family}:{r.revision}",
                "task_definition_arn": r.task_definition_arn,
                "in_use": bool(r.in_use),
                "container": r.container,
                "essential": bool(r.essential),
                "repository": r.image_repository,
                "image_region": r.image_region,
                "tag": r.image_tag,
                "digest": digest,
                "digests_reported": digests,
                "basis": basis,
            }
        )
    columns = [
        *["account", "region", "application", "environment", "task_definition"],
        *["task_definition_arn", "in_use", "container", "essential", "repository"],
        *["image_region", "tag", "digest", "digests_reported", "basis"],
    ]
    return pd.DataFrame(rows, columns=columns)


def _short(digest: str) -> str:
    algo, _, hexa = (digest or "").partition(":")
    return f"{algo}:{hexa[:12]}" if hexa else digest


def _judge_image(
    row: Any, earlier: list[dict[str, Any]], pushed: Callable[[str, str], Any]
) -> dict[str, Any]:
    """The verdict on one production container: promoted, staging ahead, rebuilt, not run
    before, or cannot tell."""
    out = {
        "task_definition": row["task_definition"],
        "container": row["container"],
        "repository": row["repository"],
        "tag": row["tag"],
        "digest": _short(row["digest"]),
        "basis": row["basis"],
    }
    same_digest = [r for r in earlier if r["digest"] != "" and r["digest"] == row["digest"]]
    if row["digest"] and row["basis"] != "mutable tag" and same_digest:
        where = sorted({f"{r['environment']} ({r['task_definition']})" for r in same_digest})
        return out | {"verdict": "promoted", "seen_in": where}
    peers = [r for r in earlier if r["container"] == row["container"]]
    peer_text = sorted(
        {
            f"{r['environment']}: {r['repository']}"
            + (f":{r['tag']}" if r["tag"] else "")
            + (f"@{_short(r['digest'])}" if r["digest"] else "")
            for r in peers
        }
    )
    out["earlier"] = peer_text
    if row["basis"] in ("mutable tag", "unknown") or not row["digest"]:
        if row["basis"] == "mutable tag":
            reason = (
                f"the mutable tag {row['tag']!r} was resolved when each environment deployed and "
                "may have moved since; no task reported the digest it runs"
            )
        elif row["basis"] == "task":
            reason = (
                "its tasks report several digests ("
                + ", ".join(_short(d) for d in row["digests_reported"])
                + "): a deployment in progress, or a tag that moved between task starts"
            )
        else:
            reason = (
                "its image could not be resolved to a digest (tag not in ECR, or another "
                "account's repository)"
            )
        return out | {"verdict": "cannot tell", "reason": reason}
    if not peers:
        return out | {
            "verdict": "not run before",
            "reason": f"no pre-production task definition has a container {row['container']}",
        }
    repositories = {r["repository"] for r in peers}
    if row["repository"] not in repositories:
        return out | {
            "verdict": "rebuilt",
            "reason": f"pre-production runs {', '.join(sorted(repositories))}, "
            f"production {row['repository']}: a separate build, never tested before production",
        }
    mine = pushed(row["image_region"], row["digest"])
    theirs = [
        pushed(r["image_region"], r["digest"])
        for r in peers
        if r["repository"] == row["repository"] and r["digest"]
    ]
    theirs = [t for t in theirs if t is not None and not pd.isna(t)]
    if mine is not None and not pd.isna(mine) and theirs and all(t > mine for t in theirs):
        return out | {
            "verdict": "staging ahead",
            "reason": "pre-production already runs a newer build of the same repository; "
            "whether production's build ran there before is not recorded",
        }
    return out | {
        "verdict": "not run before",
        "reason": "no pre-production environment runs (or last ran) this digest",
    }


@check("TF10-PROMOTED-IMAGE", account_scope=True)
def promoted_image(inv: Inventory, settings: Settings) -> Iterator[Result]:
    apps: dict[str, list[dict[str, Any]]] = {}  # application -> its containers in use
    for r in resolve_images(inv).to_dict("records"):
        if r["in_use"] and r["environment"] != "" and r["application"] != "":
            apps.setdefault(r["application"], []).append(r)
    pushed = _pushed_at(inv)
    for app in sorted(apps):
        group = apps[app]
        envs = {r["environment"] for r in group}
        prod = [r for r in group if is_production(r["environment"])]
        earlier = [r for r in group if not is_production(r["environment"])]
        if not prod or not earlier or len(envs) < 2:
            continue
        verdicts = [_judge_image(r, earlier, pushed) for r in prod]
        kinds = {v["verdict"] for v in verdicts}
        row = _place(inv, group, app)
        ev = {"production": verdicts}
        failing = [v for v in verdicts if v["verdict"] in ("rebuilt", "not run before")]
        if failing:
            status = Status.FAIL
            message = f"Application {app} runs builds in production that never ran before it: " + (
                "; ".join(
                    f"{v['task_definition']}/{v['container']}: {v['reason']}" for v in failing
                )
            )
        elif kinds == {"promoted"}:
            status = Status.PASS
            message = (
                f"Application {app} runs in production the same image digest(s) that ran in "
                + ", ".join(sorted(e for e in envs if not is_production(e)))
                + f" ({', '.join(sorted({v['digest'] for v in verdicts}))}): one build, promoted."
            )
        else:
            status = Status.INFO
            unsure = [v for v in verdicts if v["verdict"] != "promoted"]
            message = f"Application {app}: cannot confirm that production's build ran first in " + (
                "pre-production: "
                + "; ".join(
                    f"{v['task_definition']}/{v['container']}: {v['reason']}" for v in unsure
                )
            )
        yield result(
            row,
            status,
            message + ("" if message.endswith(".") else "."),
            resource_type="Application",
            resource_id=app,
            evidence=ev,
        )


@evidence("TF10-PROMOTED-IMAGE")
def _promoted_table(wb: Workbook) -> pd.DataFrame:
    """Per application and environment, the image (repository, tag, digest) of each container
    from the account's ECR, and the verdict on production's."""
    images = resolve_images(wb.inventory)
    images = images[images["in_use"] & (images["environment"] != "")]
    verdicts: dict[tuple[str, str, str], str] = {}
    for _, f in wb.findings_for(check_id="TF10-PROMOTED-IMAGE").iterrows():
        for v in json.loads(f["evidence"]).get("production", []):
            verdicts[(f["application"], v["task_definition"], v["container"])] = v["verdict"]
    judged = {a for a, _, _ in verdicts}
    images = images[images["application"].isin(judged)].copy()
    images["digest"] = images["digest"].map(_short)
    images["verdict"] = [
        verdicts.get((r.application, r.task_definition, r.container), "")
        for r in images.itertuples()
    ]
    images["_o"] = [_env_order(e) for e in images["environment"]]
    cols = [
        *["application", "environment", "region", "task_definition", "container"],
        *["repository", "tag", "digest", "basis", "verdict"],
    ]
    return images.sort_values(["application", "_o", "task_definition", "container"])[
        cols
    ].reset_index(drop=True)


# -- TF10-TASK-SHAPE --------------------------------------------------------------------------
def _launch(raw_service: dict[str, Any]) -> str:
    if raw_service.get("launchType"):
        return raw_service["launchType"]
    providers = sorted(
        {p.get("capacityProvider", "") for p in raw_service.get("capacityProviderStrategy") or []}
    )
    return "+".join(providers) if providers else ""


def _ports(c: dict[str, Any]) -> str:
    return ", ".join(
        sorted(
            f"{m.get('containerPort')}/{m.get('protocol', 'tcp')}"
            for m in c.get("portMappings") or []
        )
    )


def _health(c: dict[str, Any]) -> str:
    hc = c.get("healthCheck") or {}
    if not hc.get("command"):
        return "none"
    return " ".join(str(a) for a in hc["command"])


def task_shape(raw_td: dict[str, Any], raw_service: dict[str, Any]) -> dict[str, str]:
    """aspect -> value: what must be the same in every environment (not sizes, not values)."""
    platform = raw_td.get("runtimePlatform") or {}
    shape = {
        "launch type": _launch(raw_service),
        "network mode": raw_td.get("networkMode", "") or "bridge",
        "compatibilities": ", ".join(sorted(raw_td.get("requiresCompatibilities") or [])),
        "cpu architecture": platform.get("cpuArchitecture") or "X86_64",
        "operating system": platform.get("operatingSystemFamily") or "LINUX",
    }
    containers = raw_td.get("containerDefinitions") or []
    shape["containers"] = ", ".join(sorted(c.get("name", "") for c in containers))
    for c in containers:
        name = c.get("name", "")
        names = [f"{v.get('name')}" for v in c.get("environment") or []]
        names += [f"{s.get('name')} (secret)" for s in c.get("secrets") or []]
        image = parse_image(c.get("image", ""))
        shape |= {
            f"{name}: image source": image["image_source"],
            f"{name}: essential": "yes" if c.get("essential", True) else "no",
            f"{name}: ports": _ports(c) or "none",
            f"{name}: log driver": (c.get("logConfiguration") or {}).get("logDriver") or "none",
            f"{name}: health check": _health(c),
            f"{name}: command": " ".join(
                str(a) for a in (c.get("entryPoint") or []) + (c.get("command") or [])
            )
            or "(image default)",
            f"{name}: read-only root": "yes" if c.get("readonlyRootFilesystem") else "no",
            f"{name}: mounts": ", ".join(
                sorted(
                    f"{m.get('containerPath')} ({'ro' if m.get('readOnly') else 'rw'})"
                    for m in c.get("mountPoints") or []
                )
            )
            or "none",
            f"{name}: variables": ", ".join(sorted(names)) or "none",
        }
    return shape


def _aspect_order(aspect: str) -> tuple[int, str]:
    return (1 if ": " in aspect else 0, aspect)


def _differences(shapes: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """One row per aspect: its value per column and whether all agree ("" where absent)."""
    aspects = sorted(set().union(*shapes.values()), key=_aspect_order)
    rows = []
    for aspect in aspects:
        values = {col: shape.get(aspect, "") for col, shape in shapes.items()}
        rows.append({"aspect": aspect, "values": values, "same": len(set(values.values())) == 1})
    return rows


def _diff_text(aspect: str, values: dict[str, str]) -> str:
    """A difference in words: set-like aspects say what only some environments have."""
    if aspect == "containers" or aspect.endswith(": variables"):
        sets = {
            c: {x.strip() for x in v.split(",") if x.strip() and v != "none"}
            for c, v in values.items()
        }
        common = set.intersection(*sets.values())
        only = [
            f"only in {c}: {', '.join(sorted(s - common))}" for c, s in sets.items() if s - common
        ]
        if only:
            return f"{aspect} ({'; '.join(only)})"
    return f"{aspect}: " + " vs ".join(f"{v or '(absent)'} in {c}" for c, v in values.items())


@check("TF10-TASK-SHAPE", account_scope=True)
def task_shape_parity(inv: Inventory, settings: Settings) -> Iterator[Result]:
    tds = raw_task_definitions(inv)
    services = raw_services(inv)
    for (app, name), group in _compared_services(inv).items():
        shapes = {
            _column(s, group): task_shape(
                tds.get(s["task_definition_arn"], {}), services.get(s["service_arn"], {})
            )
            for s in group
        }
        missing = [
            f"{s['cluster']}/{s['service']}" for s in group if s["task_definition_arn"] not in tds
        ]
        rows = _differences(shapes)
        differ = [r for r in rows if not r["same"]]
        evidence_ = {
            "columns": list(shapes),
            "task_definitions": {
                _column(s, group): s["task_definition_arn"].rsplit("/", 1)[-1] for s in group
            },
            "aspects": rows,
        }
        place = _place(inv, group, app)
        subject = _subject(app, name)
        if missing:
            yield result(
                place,
                Status.ERROR,
                f"Service {subject}: the task definition of {', '.join(missing)} was not "
                "collected, so its shape cannot be compared.",
                resource_type="Application",
                resource_id=subject,
                evidence=evidence_,
            )
        elif differ:
            yield result(
                place,
                Status.FAIL,
                f"Service {subject} does not have the same shape in {' and '.join(shapes)}: "
                + "; ".join(_diff_text(r["aspect"], r["values"]) for r in differ)
                + ".",
                resource_type="Application",
                resource_id=subject,
                evidence=evidence_,
            )
        else:
            yield result(
                place,
                Status.PASS,
                f"Service {subject} has the same shape in {' and '.join(shapes)} "
                f"({len(rows)} aspects: containers, ports, log driver, health check, command, "
                "mounts, variable names...); only values and sizes differ.",
                resource_type="Application",
                resource_id=subject,
                evidence=evidence_,
            )


def shape_diff(wb: Workbook, differences_only: bool = False) -> pd.DataFrame:
    """The side-by-side view of TF10-TASK-SHAPE: one row per (service, aspect), one column per
    environment, ``same`` False where they differ."""
    rows = []
    columns: list[str] = []
    for _, f in wb.findings_for(check_id="TF10-TASK-SHAPE").iterrows():
        ev = json.loads(f["evidence"])
        for col in ev.get("columns", []):
            if col not in columns:
                columns.append(col)
        for a in ev.get("aspects", []):
            if differences_only and a["same"]:
                continue
            rows.append(
                {
                    "application": f["application"],
                    "service": f["resource_id"],
                    "aspect": a["aspect"],
                    "same": a["same"],
                }
                | a["values"]
            )
    columns = sorted(columns, key=_env_order)
    frame = pd.DataFrame(rows, columns=["application", "service", "aspect", *columns, "same"])
    return frame.fillna("")


@evidence("TF10-TASK-SHAPE")
def _shape_table(wb: Workbook) -> pd.DataFrame:
    """Only the aspects that differ, side by side (``shape_diff`` has them all)."""
    return shape_diff(wb, differences_only=True)


def _set_like(aspect: str) -> bool:
    return aspect == "containers" or aspect.endswith(": variables")


def _cell_texts(aspect: str, values: dict[str, str], same: bool) -> dict[str, str]:
    """What a cell of the side-by-side picture says: for a set-like aspect that differs, only
    what the environment has and another lacks."""
    if same or not _set_like(aspect):
        return {e: v or "(absent)" for e, v in values.items()}
    sets = {
        e: {x.strip() for x in v.split(",") if x.strip() and v != "none"} for e, v in values.items()
    }
    union = set().union(*sets.values())
    out = {}
    for e, items in sets.items():
        extra, lacks = sorted(items - set.intersection(*sets.values())), sorted(union - items)
        parts = ([f"+ {', '.join(extra)}"] if extra else []) + (
            [f"- {', '.join(lacks)}"] if lacks else []
        )
        out[e] = "\n".join(parts) or "(the rest)"
    return out


@plot("shape-diff")
def shape_diff_plot(wb: Workbook) -> Figure:
    """A grid: per compared service, its containers (for context) and every aspect in which its
    environments differ -- vermillion, with each environment's value written in; for containers
    and variable names, "+" what this environment has that another lacks, "-" what it lacks."""
    import textwrap

    table = shape_diff(wb)
    envs = [c for c in table.columns if c not in ("application", "service", "aspect", "same")]
    table = table[~table["same"] | (table["aspect"] == "containers")]
    order = sorted(
        range(len(table)),
        key=lambda i: (table["service"].iloc[i], _aspect_order(table["aspect"].iloc[i])),
    )
    table = table.iloc[order]
    texts = [
        _cell_texts(r["aspect"], {e: r[e] for e in envs}, bool(r["same"]))
        for _, r in table.iterrows()
    ]
    wrapped = [
        {
            e: "\n".join(
                line
                for part in t.split("\n")
                for line in textwrap.wrap(part, 46, max_lines=3, placeholder=" ...")
            )
            for e, t in row.items()
        }
        for row in texts
    ]
    heights = [max([1] + [t.count("\n") + 1 for t in row.values()]) for row in wrapped]
    fig = Figure(figsize=(11, 0.3 * max(sum(heights), 3) + 1.6), layout="constrained")
    ax = fig.subplots()
    if table.empty:
        ax.text(
            0.5,
            0.5,
            "no service runs in production and another environment",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    top = 0.0
    for (_, r), row, h in zip(table.iterrows(), wrapped, heights, strict=True):
        colour = STATUS_COLOURS["PASS"] if r["same"] else STATUS_COLOURS["FAIL"]
        for j, env in enumerate(envs):
            ax.add_patch(
                matplotlib.patches.Rectangle(
                    (j - 0.5, top), 1, h, facecolor=colour, edgecolor="white", linewidth=2
                )
            )
            ax.text(j, top + h / 2, row[env], ha="center", va="center", fontsize=7.5, color="white")
        top += h
    ax.set_xlim(-0.5, len(envs) - 0.5)
    ax.set_ylim(top, 0)
    ax.set_xticks(range(len(envs)), envs)
    ax.xaxis.tick_top()
    centres = list(pd.Series(heights).cumsum() - pd.Series(heights) / 2)
    ax.set_yticks(
        centres,
        [f"{s}: {a}" for s, a in zip(table["service"], table["aspect"], strict=True)],
        fontsize=8,
    )
    ax.spines[["top", "right", "bottom", "left"]].set_visible(False)
    ax.set_xlabel(
        "vermillion: the environments differ (+ only here, - missing here)  ·  green: the same "
        "(each service's containers, for context)",
        fontsize=8,
    )
    ax.set_title("Task-definition shape, side by side", fontsize=10)
    return fig


# -- TF10-BACKING-ENGINE ----------------------------------------------------------------------
ENGINE_FAMILIES = {
    "aurora-postgresql": "postgres",
    "postgres": "postgres",
    "aurora-mysql": "mysql",
    "aurora": "mysql",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "redis": "redis",
    "valkey": "valkey",
    "memcached": "memcached",
}
#: Engines versioned major.minor.patch whose major version is the first two numbers.
TWO_PART_MAJOR = {"mysql", "mariadb", "memcached"}
ENGINE_KINDS = {"rds-instance": "rds", "rds-cluster": "rds", "elasticache": "elasticache"}
_NUM = re.compile(r"\d+")


def engine_family(engine: str) -> str:
    engine = (engine or "").lower()
    if engine.startswith(("oracle", "sqlserver", "db2")):
        return engine.split("-", 1)[0]
    return ENGINE_FAMILIES.get(engine, engine)


def major_version(engine: str, version: str) -> str:
    """'16' for postgres 16.3, '9.6' for 9.6.24, '8.0' for mysql 8.0.36 (and Aurora MySQL
    8.0.mysql_aurora.3.05.2), '7' for redis 7.1; '' when unknown."""
    numbers = _NUM.findall(version or "")
    if not numbers:
        return ""
    family = engine_family(engine)
    if family == "postgres" and int(numbers[0]) < 10 and len(numbers) > 1:
        return ".".join(numbers[:2])  # before PostgreSQL 10 the major version had two parts
    if family in TWO_PART_MAJOR and len(numbers) > 1:
        return ".".join(numbers[:2])
    return numbers[0]


def _logical_name(name: str) -> str:
    tokens = [t for t in re.split(r"[-_.]+", name.lower()) if t]
    kept = [t for t in tokens if t not in ENVIRONMENT_TOKENS]
    return "-".join(kept) or name


def _member_versions(inv: Inventory) -> dict[tuple[str, str], str]:
    """(region, replication group) -> its member clusters' engine version (a replication group
    does not report one itself)."""
    out = {}
    for region in inv.regions:
        for cc in inv.snapshot.get(region, "elasticache").get("cache_clusters") or []:
            if cc.get("ReplicationGroupId") and cc.get("EngineVersion"):
                out.setdefault((region, cc["ReplicationGroupId"]), cc["EngineVersion"])
    return out


def engine_table(inv: Inventory) -> pd.DataFrame:
    """Engine-bearing backing services (RDS, Aurora, ElastiCache) with their logical name,
    engine family and major version."""
    stores = inv.datastores[inv.datastores["kind"].isin(list(ENGINE_KINDS))].copy()
    members = _member_versions(inv)
    stores["engine_version"] = [
        v or members.get((r, n), "")
        for v, r, n in zip(stores["engine_version"], stores["region"], stores["name"], strict=True)
    ]
    stores["service"] = stores["kind"].map(ENGINE_KINDS)
    stores["logical"] = stores["name"].map(_logical_name)
    stores["family"] = stores["engine"].map(engine_family)
    stores["major"] = [
        major_version(e, v) for e, v in zip(stores["engine"], stores["engine_version"], strict=True)
    ]
    cols = [
        *PLACE,
        *["service", "logical", "name", "kind", "engine", "engine_version", "family", "major"],
        "arn",
    ]
    return stores[cols].reset_index(drop=True)


def _engine_groups(table: pd.DataFrame) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """(application, logical name, stores): one backing service across environments. Stores
    are matched by application, service and logical name; when no name matches and every
    environment has exactly one store of that service, those are matched with each other."""
    table = table[(table["environment"] != "") & (table["application"] != "")]
    for (app, _service), stores in table.groupby(["application", "service"], sort=True):
        by_name = {n: g for n, g in stores.groupby("logical") if g["environment"].nunique() >= 2}
        for logical, group in sorted(by_name.items()):
            yield app, logical, group
        counts = stores.groupby("environment").size()
        if not by_name and len(counts) >= 2 and (counts == 1).all():
            yield app, _joined(stores["logical"]).replace(",", "|"), stores


@check("TF10-BACKING-ENGINE", account_scope=True)
def backing_engine(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for app, logical, group in _engine_groups(engine_table(inv)):
        group = group.assign(_o=[_env_order(e) for e in group["environment"]]).sort_values("_o")
        per_env = [
            {
                "environment": r.environment,
                "name": r.name,
                "kind": r.kind,
                "engine": r.engine,
                "engine_version": r.engine_version,
                "major": r.major,
            }
            for r in group.itertuples()
        ]
        text = "; ".join(
            f"{s['environment']}: {s['name']} {s['engine']} {s['engine_version'] or '(version ?)'}"
            for s in per_env
        )
        families = set(group["family"])
        engines = set(group["engine"])
        majors = set(group["major"])
        place = _place(inv, group.to_dict("records"), app)
        ev = {"stores": per_env}
        if len(families) > 1:
            status, why = Status.FAIL, "different engines"
        elif "" in majors and len(majors - {""}) <= 1:
            status, why = Status.INFO, "the same engine; a version was not reported"
        elif len(majors) > 1:
            status, why = Status.FAIL, "different major versions"
        elif len(engines) > 1:
            status, why = Status.INFO, "the same engine family in different flavours"
        else:
            status = Status.PASS
            minor = len(set(group["engine_version"])) > 1
            why = "the same engine and major version" + (
                " (minor versions differ: upgrade them together)" if minor else ""
            )
        yield result(
            place,
            status,
            f"Backing service {logical} (application {app}): {why} across environments ({text}).",
            resource_type="BackingService",
            resource_id=logical,
            resource_arn=",".join(group["arn"]),
            evidence=ev,
        )


@evidence("TF10-BACKING-ENGINE")
def _engine_evidence(wb: Workbook) -> pd.DataFrame:
    """Every RDS/Aurora/ElastiCache backing service, its logical name, engine and major
    version, per environment."""
    table = engine_table(wb.inventory)
    table["_o"] = [_env_order(e) for e in table["environment"]]
    table = table.sort_values(["application", "logical", "_o"]).drop(columns=["_o", "arn"])
    return table.reset_index(drop=True)


# -- TF10-PLATFORM-VERSION --------------------------------------------------------------------
def effective_platform(raw_service: dict[str, Any], raw_td: dict[str, Any]) -> dict[str, str]:
    """Launch type, operating system and the Fargate platform version a service really runs."""
    launch = _launch(raw_service)
    os_family = (raw_td.get("runtimePlatform") or {}).get("operatingSystemFamily") or "LINUX"
    os_family = "WINDOWS" if os_family.upper().startswith("WINDOWS") else "LINUX"
    fargate = "FARGATE" in launch
    asked = raw_service.get("platformVersion") or ("LATEST" if fargate else "")
    version = asked
    if fargate and asked == "LATEST" and os_family == "LINUX":
        version = FARGATE_LINUX_LATEST
    return {
        "launch_type": launch,
        "operating_system": os_family,
        "platform_version": asked if fargate else "(not Fargate)",
        "effective_version": version if fargate else "(not Fargate)",
    }


@check("TF10-PLATFORM-VERSION", account_scope=True)
def platform_version(inv: Inventory, settings: Settings) -> Iterator[Result]:
    tds = raw_task_definitions(inv)
    services = raw_services(inv)
    for (app, name), group in _compared_services(inv).items():
        per_env = {
            _column(s, group): effective_platform(
                services.get(s["service_arn"], {}), tds.get(s["task_definition_arn"], {})
            )
            for s in group
        }
        place = _place(inv, group, app)
        subject = _subject(app, name)
        launches = {p["launch_type"] for p in per_env.values()}
        versions = {p["effective_version"] for p in per_env.values()}
        text = "; ".join(
            f"{col}: {p['launch_type'] or '?'}"
            + (
                f" {p['platform_version']}"
                + (f" (= {p['effective_version']})" if p["platform_version"] == "LATEST" else "")
                if "FARGATE" in p["launch_type"]
                else ""
            )
            for col, p in per_env.items()
        )
        old = sorted(
            {
                v
                for v in versions
                if re.fullmatch(r"\d+\.\d+\.\d+", v)
                and tuple(map(int, v.split("."))) < tuple(map(int, FARGATE_LINUX_LATEST.split(".")))
            }
        )
        ev = {"environments": per_env}
        if len(launches) > 1:
            status, why = Status.FAIL, "runs on different launch types in its environments"
        elif len(versions) > 1:
            status, why = Status.FAIL, "runs on different Fargate platform versions"
        else:
            status = Status.PASS
            why = "runs on the same launch type and platform version in every environment"
        note = (
            f" {', '.join(old)} is older than {FARGATE_LINUX_LATEST}, the latest Linux platform "
            "(Security Hub ECS.10)."
            if old
            else ""
        )
        yield result(
            place,
            status,
            f"Service {subject} {why} ({text}).{note}",
            resource_type="Application",
            resource_id=subject,
            evidence=ev,
        )


@evidence("TF10-PLATFORM-VERSION")
def _platform_table(wb: Workbook) -> pd.DataFrame:
    rows = []
    for _, f in wb.findings_for(check_id="TF10-PLATFORM-VERSION").iterrows():
        for col, p in json.loads(f["evidence"]).get("environments", {}).items():
            rows.append(
                {"service": f["resource_id"], "status": f["status"], "environment": col} | p
            )
    cols = ["service", "status", "environment", "launch_type", "operating_system"]
    return pd.DataFrame(rows, columns=[*cols, "platform_version", "effective_version"])


# -- the factor at a glance -------------------------------------------------------------------
@plot("parity-matrix")
def parity_matrix(wb: Workbook) -> Figure:
    """Rows: application; columns: the factor X checks; cells: the worst status, with counts."""
    return factor_matrix(
        wb,
        FACTOR,
        CHECK_IDS,
        "Factor X per application",
        per_environment=False,  # parity compares an application's environments
        blank="nothing to compare",
        note="white: one environment only, or no such resource to compare",
    )
