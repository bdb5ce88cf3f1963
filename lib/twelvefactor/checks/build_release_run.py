"""Factor V, Build, release, run: releases are immutable, made by machines, and can be undone.

On ECS a *build* is an image in ECR (made by CodeBuild or by hand), a *release* is a task
definition revision (the image plus its config), and *run* is a service running one revision.

How a service's images are linked to a build (``TF05-BUILT-BY-PIPELINE``), strongest first:

1. a CodePipeline ECS deploy action names the service (cluster and service name, same region);
2. a CodeBuild project's PLAINTEXT environment variable holds the image's repository name (in the
   repository's region) or its URI, optionally with a tag (``ECR_REPOSITORY=shop/orders-api``,
   ``REPOSITORY_URI=1234.dkr.ecr.eu-west-1.amazonaws.com/shop/orders-api``);
3. a project's inline buildspec names the repository (``docker build -t shop/worker ...``);
4. only the names agree: the project belongs to the same application as the repository or the
   service (tags, else the name without CI words: ``orders-api-build`` -> ``orders-api``). That
   is a guess, so it gives ``INFO``, never ``PASS``.

Not seen: CodeDeploy blue/green deploy actions (their deployment groups are not collected),
cross-region pipeline actions, builds outside CodeBuild (GitHub Actions, Jenkins): such services
FAIL unless a project names their repository; the message says what was looked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import matplotlib.ticker
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..collect.build import CodePipelineCollector
from ..collect.ecs import family_revision
from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import Inventory
from ..plots import STATUS_COLOURS, empty_axes, plot
from ..redaction import ECS8_NAMES, looks_secret_name, parse_marker
from ..settings import Settings
from . import check
from .common import result

if TYPE_CHECKING:
    from ..workbook import Workbook

#: A service may trail the latest ACTIVE revision of its family by this many revisions: one for a
#: deployment in progress or a rollback, one more for a release registered ahead of its rollout.
#: Beyond that, releases pile up that nobody runs (registered by hand, a pipeline that registers
#: but never deploys, a service pinned to an old revision).
MAX_REVISIONS_BEHIND = 2

SERVICE = "AwsEcsService"
PIPELINE_ACTIONS = CodePipelineCollector.actions  # what reading the pipelines needs
PROJECT_ACTIONS = ("codebuild:ListProjects", "codebuild:BatchGetProjects")


def service_id(row: Any) -> str:
    """'shop-prod/orders-api': a service's name is unique only within its cluster."""
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


def _raw_services(inv: Inventory) -> dict[str, dict[str, Any]]:
    """describe_services items by service ARN (for fields the inventory does not keep)."""
    return {
        s["serviceArn"]: s
        for region in inv.regions
        for s in inv.snapshot.get(region, "ecs").get("services") or []
    }


def _active_revisions(inv: Inventory, region: str) -> dict[str, list[int]] | None:
    """The family -> ACTIVE revision numbers of a region; None when they were not listed."""
    arns = inv.snapshot.get(region, "ecs").get("active_task_definition_arns")
    if arns is None:
        return None
    families: dict[str, list[int]] = {}
    for arn in arns:
        family, revision = family_revision(arn)
        families.setdefault(family, []).append(revision)
    return {f: sorted(r) for f, r in families.items()}


def _registered_at(inv: Inventory) -> dict[tuple[str, str, int], str]:
    """(region, family, revision) -> registeredAt of the revisions that were described."""
    return {
        (region, td["family"], td["revision"]): str(td["registeredAt"])
        for region in inv.regions
        for td in inv.snapshot.get(region, "ecs").get("task_definitions") or []
        if td.get("registeredAt")
    }


def _ranges(numbers: list[int]) -> str:
    """'1-3, 5' for [1, 2, 3, 5]."""
    out: list[str] = []
    for n in sorted(numbers):
        if out and n == int(out[-1].rsplit("-", 1)[-1]) + 1:
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


# -- TF05-RELEASE-CURRENT ----------------------------------------------------------------------
RELEASE_COLUMNS = PLACE + [
    "service",
    "family",
    "running_revision",
    "latest_revision",
    "revisions_behind",
    "running_active",
    "active_revisions",
    "running_registered_at",
    "latest_registered_at",
    "rollout_state",
]


def release_table(inv: Inventory) -> pd.DataFrame:
    """One row per service: the revision it runs against the ACTIVE revisions of its family.

    ``running_active`` is None (and ``active_revisions`` "?") where the ACTIVE revisions could
    not be listed; ``registeredAt`` is there only for described revisions (running and latest),
    and not at all on moto.
    """
    raw = _raw_services(inv)
    registered = _registered_at(inv)
    active = {region: _active_revisions(inv, region) for region in inv.regions}
    rows = []
    for svc in inv.rows("services"):
        arn = svc["task_definition_arn"]
        family, running = family_revision(arn) if arn else ("", None)
        families = active.get(svc["region"])
        revisions = None if families is None else families.get(family, [])
        latest = max(revisions) if revisions else running
        primary = next(
            (
                d
                for d in raw.get(svc["service_arn"], {}).get("deployments") or []
                if d.get("status") == "PRIMARY"
            ),
            {},
        )
        rows.append(
            {
                "account": svc["account"],
                "application": svc["application"],
                "environment": svc["environment"],
                "region": svc["region"],
                "service": service_id(svc),
                "family": family,
                "running_revision": running,
                "latest_revision": latest,
                "revisions_behind": None if running is None else latest - running,
                "running_active": None if revisions is None else running in revisions,
                "active_revisions": "?" if revisions is None else _ranges(revisions),
                "running_registered_at": registered.get((svc["region"], family, running), ""),
                "latest_registered_at": registered.get((svc["region"], family, latest), ""),
                "rollout_state": primary.get("rolloutState", ""),
                "service_arn": svc["service_arn"],
            }
        )
    return pd.DataFrame(rows, columns=["account", *RELEASE_COLUMNS, "service_arn"])


@check("TF05-RELEASE-CURRENT")
def release_current(inv: Inventory, settings: Settings) -> Iterator[Result]:
    services = {s["service_arn"]: s for s in inv.rows("services")}
    for r in release_table(inv).to_dict("records"):
        svc = services[r["service_arn"]]
        name, family = r["service"], r["family"]
        ev = {
            "family": family,
            "running_revision": r["running_revision"],
            "latest_active_revision": r["latest_revision"],
            "active_revisions": r["active_revisions"],
            "threshold": MAX_REVISIONS_BEHIND,
        }
        if r["running_revision"] is None or pd.isna(r["running_revision"]):
            yield _service_result(
                svc,
                Status.SKIP,
                f"Service {name} names no task definition of its own (deployment controller "
                f"{svc['deployment_controller']}): its releases live in task sets the audit "
                "does not read.",
                ev,
            )
            continue
        running, latest, behind = (
            int(r["running_revision"]),
            int(r["latest_revision"]),
            int(r["revisions_behind"]),
        )
        ev |= {"revisions_behind": behind}
        if r["running_active"] is None:
            yield _service_result(
                svc,
                Status.ERROR,
                f"Could not tell how current service {name} is: the ACTIVE revisions of "
                f"{family} could not be listed in {r['region']}.",
                ev,
            )
        elif not r["running_active"]:
            yield _service_result(
                svc,
                Status.FAIL,
                f"Service {name} runs {family}:{running}, a revision that has been deregistered: "
                "the release it runs is no longer in the ledger of ACTIVE revisions, so it "
                "cannot be started again or rolled back to.",
                ev | {"running_deregistered": True},
            )
        elif behind > MAX_REVISIONS_BEHIND:
            yield _service_result(
                svc,
                Status.FAIL,
                f"Service {name} runs {family}:{running}, {behind} revisions behind the latest "
                f"ACTIVE revision {latest}: releases are registered that nobody runs.",
                ev,
            )
        elif behind > 0:
            yield _service_result(
                svc,
                Status.PASS,
                f"Service {name} runs {family}:{running}, {behind} behind the latest ACTIVE "
                f"revision {latest} (within {MAX_REVISIONS_BEHIND}: a rollout or a rollback).",
                ev,
            )
        else:
            yield _service_result(
                svc,
                Status.PASS,
                f"Service {name} runs {family}:{running}, the latest ACTIVE revision.",
                ev,
            )


@evidence("TF05-RELEASE-CURRENT")
def _release_evidence(wb: Workbook) -> pd.DataFrame:
    """Per service: the revision it runs, the family's ACTIVE revisions, and when known, dates."""
    table = release_table(wb.inventory)[RELEASE_COLUMNS]
    return table.sort_values(PLACE + ["service"]).reset_index(drop=True)


@plot("releases")
def releases_plot(wb: Workbook) -> Figure:
    """A ledger of releases per task-definition family: ACTIVE revisions, latest, and running."""
    inv = wb.inventory
    tds = inv.task_definitions.drop_duplicates(["region", "family"]).set_index(["region", "family"])
    releases = release_table(inv)
    verdicts = wb.findings_for(check_id="TF05-RELEASE-CURRENT")
    status_of = dict(zip(verdicts["resource_arn"], verdicts["status"], strict=True))
    rows = []
    for region in inv.regions:
        families = _active_revisions(inv, region) or {}
        running = releases[(releases["region"] == region) & (releases["family"] != "")]
        for family in sorted(set(families) | set(running["family"])):
            place = tds.loc[(region, family)] if (region, family) in tds.index else None
            rows.append(
                {
                    "region": region,
                    "family": family,
                    "application": place["application"] if place is not None else family,
                    "environment": place["environment"] if place is not None else "",
                    "active": families.get(family, []),
                    "running": running[running["family"] == family],
                }
            )
    shown = getattr(wb, "applications_shown", None)  # ACTIVE revisions come from the snapshot
    rows = [r for r in rows if shown is None or r["application"] in shown]
    rows.sort(key=lambda r: (r["application"], r["environment"], r["family"], r["region"]))
    fig = Figure(figsize=(10, 0.45 * max(len(rows), 3) + 2.2))
    ax = fig.subplots()
    if not rows:
        empty_axes(ax, "no task definitions")
        return fig
    regions = len({r["region"] for r in rows}) > 1
    right = 1
    for y, row in enumerate(reversed(rows)):
        revs = row["active"] + [int(v) for v in row["running"]["running_revision"].dropna()]
        top = max(revs)
        right = max(right, top)
        # revision numbers are sequential: 1..top were all registered once
        ax.plot([1, top], [y, y], color="#DDDDDD", lw=7, solid_capstyle="round", zorder=1)
        if row["active"]:
            ax.scatter(
                row["active"],
                [y] * len(row["active"]),
                s=45,
                facecolors="white",
                edgecolors="#0072B2",
                linewidths=1.5,
                zorder=2,
            )
            ax.scatter(
                [max(row["active"])],
                [y],
                marker="D",
                s=110,
                facecolors="none",
                edgecolors="black",
                linewidths=1.2,
                zorder=3,
            )
        for i, (_, svc) in enumerate(row["running"].iterrows()):
            if pd.isna(svc["running_revision"]):
                continue
            colour = STATUS_COLOURS.get(status_of.get(svc["service_arn"], ""), "#999999")
            rev = int(svc["running_revision"])
            if row["active"] and rev != max(row["active"]):
                ax.plot([rev, max(row["active"])], [y, y], color=colour, lw=2, zorder=2)
            ax.scatter([rev], [y], s=40, color=colour, zorder=4)
            ax.annotate(
                svc["service"],
                (rev, y),
                xytext=(8, 5 - 10 * i),
                textcoords="offset points",
                fontsize=7,
                color="#333333",
            )
    labels = [
        f"{r['family']}  ({r['application']}, {r['environment'] or '?'}"
        + (f", {r['region']})" if regions else ")")
        for r in reversed(rows)
    ]
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlim(0.5, right + 1.5)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("revision number (an order of releases, not a time)")
    ax.set_title("Releases per task-definition family and the one each service runs")
    legend = [
        Line2D([], [], color="#DDDDDD", lw=7, label="revisions 1..n (unmarked: deregistered)"),
        Line2D([], [], marker="o", ls="", mfc="white", mec="#0072B2", label="ACTIVE revision"),
        Line2D([], [], marker="D", ls="", mfc="none", mec="black", label="latest ACTIVE"),
        Line2D([], [], marker="o", ls="", color=STATUS_COLOURS["PASS"], label="running, PASS"),
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color=STATUS_COLOURS["FAIL"],
            label="running, FAIL: behind or deregistered",
        ),
    ]
    ax.legend(
        handles=legend,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


# -- TF05-BUILT-BY-PIPELINE --------------------------------------------------------------------
def _projects(inv: Inventory) -> list[dict[str, Any]]:
    """CodeBuild projects with what may link them to a repository (values as collected)."""
    placed = {(r.region, r.project): r.application for r in inv.build_projects.itertuples()}
    out = []
    for region in inv.regions:
        for p in inv.snapshot.get(region, "codebuild").get("projects") or []:
            source = p.get("source") or {}
            spec = source.get("buildspec") or ""
            out.append(
                {
                    "region": region,
                    "project": p["name"],
                    "application": placed.get((region, p["name"]), ""),
                    "variables": [
                        (v.get("name", ""), str(v.get("value", "")).strip())
                        for v in (p.get("environment") or {}).get("environmentVariables") or []
                        if v.get("type", "PLAINTEXT") == "PLAINTEXT"
                    ],
                    # a file name in the source ("buildspec.yml") is not read; inline text is
                    "buildspec": spec if "\n" in spec else "",
                }
            )
    return out


def _names_repository(value: str, name: str, uri: str, same_region: bool) -> bool:
    """True when a variable's value is the repository's URI, or (same region) its name."""
    bare = value.split("@", 1)[0]  # without a digest
    candidates = {bare, bare.rsplit(":", 1)[0]}  # with and without a tag
    return uri in candidates or (same_region and name in candidates)


def _mentions(text: str, name: str, uri: str, same_region: bool) -> bool:
    """True when ``text`` names the repository by URI, or (same region) by name, as a whole."""
    if not text:
        return False
    whole = r"(?![\w.-]|/\w)"  # not the start of a longer name: shop/api-v2, shop/api/x
    if re.search(re.escape(uri) + whole, text):
        return True
    return same_region and bool(re.search(rf"(?<![\w./-]){re.escape(name)}{whole}", text))


def _links(
    image: Any, projects: list[dict[str, Any]], repo_apps: dict[tuple[str, str], str], app: str
) -> list[dict[str, Any]]:
    """How CodeBuild projects are linked to one image's repository (strongest evidence first)."""
    name = image["image_repository"]
    uri = f"{image['image_registry']}/{name}"
    region = image["image_region"]
    repo_app = repo_apps.get((region, name)) or name.rsplit("/", 1)[-1]
    strong: list[dict[str, Any]] = []
    weak: list[dict[str, Any]] = []
    for p in projects:
        same_region = p["region"] == region
        hits = [
            f"variable {k}={v}"
            for k, v in p["variables"]
            if _names_repository(v, name, uri, same_region)
        ]
        if hits:
            strong.append({"project": p["project"], "how": ", ".join(hits)})
        elif _mentions(p["buildspec"], name, uri, same_region):
            strong.append({"project": p["project"], "how": f"inline buildspec names {name}"})
        elif same_region and p["application"] and p["application"] in {repo_app, app}:
            weak.append(
                {
                    "project": p["project"],
                    "how": f"name only: project and "
                    f"{'repository' if p['application'] == repo_app else 'service'} belong to "
                    f"{p['application']}",
                }
            )
    return strong or [w | {"weak": True} for w in weak]


def _images_of(
    inv: Inventory,
    svc: Any,
    projects: list[dict[str, Any]],
    repo_apps: dict[tuple[str, str], str],
) -> tuple[list[dict[str, Any]], list[dict[str, str]], list[str]]:
    """(images of this account's ECR with their links, other images, registries out of scope)."""
    # by family and revision, not ARN: moto keeps a "family:revision" given to UpdateService as is
    family, revision = family_revision(svc["task_definition_arn"])
    containers = inv.rows_by("containers", "region", "family", "revision")
    images, others, elsewhere = [], [], set()
    for c in containers.get((svc["region"], family, revision), []):
        ecr = c["image_source"] == "private-ecr"
        if ecr and c["image_account"] == inv.account and c["image_region"] in inv.regions:
            images.append(
                {
                    "container": c["container"],
                    "repository": c["image_repository"],
                    "linked_by": _links(c, projects, repo_apps, svc["application"]),
                }
            )
            continue
        others.append(
            {"container": c["container"], "image": c["image"], "source": c["image_source"]}
        )
        if ecr:
            elsewhere.add(f"account {c['image_account']} in {c['image_region']}")
    return images, others, sorted(elsewhere)


def _link_text(image: dict[str, Any]) -> str:
    link = image["linked_by"][0]
    return f"{image['repository']} by project {link['project']}, {link['how']}"


@check("TF05-BUILT-BY-PIPELINE")
def built_by_pipeline(inv: Inventory, settings: Settings) -> Iterator[Result]:
    projects = _projects(inv)
    repo_apps = {(r.region, r.repository): r.application for r in inv.repositories.itertuples()}
    deployers: dict[tuple[str, str], list[dict[str, str]]] = {}
    for p in inv.pipelines.itertuples():
        for target in filter(None, p.ecs_targets.split(", ")):
            deployers.setdefault((p.region, target), []).append(
                {"pipeline": p.pipeline, "build_projects": p.build_projects}
            )
    tds = inv.task_definitions
    described = set(zip(tds["region"], tds["family"], tds["revision"], strict=True))
    project_gaps = bool(inv.gaps(PROJECT_ACTIONS))
    for svc in inv.rows("services"):
        name = service_id(svc)
        pipelines = deployers.get((svc["region"], name), [])
        readable = bool(svc["task_definition_arn"]) and (
            (svc["region"], *family_revision(svc["task_definition_arn"])) in described
        )
        images, others, elsewhere = (
            _images_of(inv, svc, projects, repo_apps) if readable else ([], [], [])
        )
        ev = {"pipelines": pipelines, "images": images, "other_images": others}
        if pipelines:
            names = ", ".join(p["pipeline"] for p in pipelines)
            builds = ", ".join(filter(None, (p["build_projects"] for p in pipelines)))
            yield _service_result(
                svc,
                Status.PASS,
                f"Service {name} is deployed by pipeline {names}"
                + (f", which builds with CodeBuild project {builds}." if builds else "."),
                ev,
            )
            continue
        if not svc["task_definition_arn"]:
            yield _service_result(
                svc,
                Status.SKIP,
                f"Service {name} names no task definition of its own (deployment controller "
                f"{svc['deployment_controller']}): the images of its task sets are not read.",
                ev,
            )
            continue
        if not readable:
            yield _service_result(
                svc,
                Status.ERROR,
                f"Could not tell how the images of service {name} are built: its task "
                "definition could not be read.",
                ev | {"task_definition": svc["task_definition_arn"]},
            )
            continue
        unlinked = sorted({i["repository"] for i in images if not i["linked_by"]})
        guessed = [i for i in images if i["linked_by"] and i["linked_by"][0].get("weak")]
        gap = bool(inv.gaps(PIPELINE_ACTIONS, svc["region"])) or project_gaps
        if not images and elsewhere:
            yield _service_result(
                svc,
                Status.SKIP,
                f"Service {name} runs images from ECR registries outside this audit "
                f"({', '.join(elsewhere)}), whose builds cannot be seen from here.",
                ev,
            )
        elif (unlinked or not images) and gap:
            yield _service_result(
                svc,
                Status.ERROR,
                f"Could not tell how the images of service {name} are built: pipelines or "
                "CodeBuild projects could not be read.",
                ev,
            )
        elif not images:
            shown = ", ".join(o["image"] for o in others) or "no image at all"
            yield _service_result(
                svc,
                Status.FAIL,
                f"Service {name} runs only third-party images ({shown}) and no pipeline deploys "
                "it: no build in this account produces its release.",
                ev,
            )
        elif unlinked:
            yield _service_result(
                svc,
                Status.FAIL,
                f"Service {name} runs images from {', '.join(unlinked)}, which no pipeline "
                "deploys and no CodeBuild project names: they look pushed by hand.",
                ev,
            )
        elif guessed:
            yield _service_result(
                svc,
                Status.INFO,
                f"Service {name} probably runs images built by CodeBuild "
                f"({'; '.join(_link_text(i) for i in guessed)}), but only names agree: no "
                "project names the repository, so confirm it.",
                ev,
            )
        else:
            yield _service_result(
                svc,
                Status.PASS,
                f"Service {name} runs images built by CodeBuild "
                f"({'; '.join(_link_text(i) for i in images)}), though no pipeline deploys it.",
                ev,
            )


@evidence("TF05-BUILT-BY-PIPELINE")
def _built_evidence(wb: Workbook) -> pd.DataFrame:
    """Per service and image: the pipeline that deploys it, or the projects linked to the image."""
    rows = []
    for _, f in wb.findings_for(check_id="TF05-BUILT-BY-PIPELINE").iterrows():
        ev = json.loads(f["evidence"])
        head = {k: f[k] for k in PLACE} | {"service": f["resource_id"], "status": f["status"]}
        pipelines = ", ".join(p["pipeline"] for p in ev.get("pipelines", []))
        for image in ev.get("images", []):
            rows.append(
                head
                | {
                    "container": image["container"],
                    "image": image["repository"],
                    "pipeline": pipelines,
                    "project": ", ".join(link["project"] for link in image["linked_by"]),
                    "linked_by": "; ".join(link["how"] for link in image["linked_by"]),
                }
            )
        for other in ev.get("other_images", []):
            rows.append(
                head
                | {
                    "container": other["container"],
                    "image": other["image"],
                    "pipeline": pipelines,
                    "project": "",
                    "linked_by": f"third-party image ({other['source']}): not ours to build",
                }
            )
        if not ev.get("images") and not ev.get("other_images"):
            rows.append(head | {"pipeline": pipelines})
    cols = PLACE + ["service", "status", "container", "image", "pipeline", "project", "linked_by"]
    frame = pd.DataFrame(rows, columns=cols).fillna("")
    return frame.sort_values(PLACE + ["service", "container"]).reset_index(drop=True)


# -- TF05-DEPLOYMENT-ROLLBACK ------------------------------------------------------------------
def _deployment(inv: Inventory) -> pd.DataFrame:
    """inventory.services' deployment columns plus what only the raw item says (alarm rollback,
    the alarms and the deployment strategy)."""
    raw = _raw_services(inv)
    services = inv.services.copy()
    configs = [raw.get(arn, {}).get("deploymentConfiguration") for arn in services["service_arn"]]
    alarms = [(c or {}).get("alarms") or {} for c in configs]
    services["configured"] = [c is not None for c in configs]
    services["alarm_rollback"] = [bool(a.get("enable") and a.get("rollback")) for a in alarms]
    services["alarm_names"] = [", ".join(a.get("alarmNames") or []) for a in alarms]
    services["strategy"] = [(c or {}).get("strategy", "") for c in configs]
    return services


def _number(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


@check("TF05-DEPLOYMENT-ROLLBACK")
def deployment_rollback(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for svc in _deployment(inv).to_dict("records"):
        name = service_id(svc)
        controller = svc["deployment_controller"]
        desired = _number(svc["desired_count"]) or 0
        minimum = _number(svc["minimum_healthy_percent"])
        ev = {
            "deployment_controller": controller,
            "circuit_breaker": bool(svc["circuit_breaker"]),
            "rollback": bool(svc["rollback"]),
            "deployment_alarms": bool(svc["deployment_alarms"]),
            "alarm_rollback": bool(svc["alarm_rollback"]),
            "minimum_healthy_percent": minimum,
            "maximum_percent": _number(svc["maximum_percent"]),
            "desired_count": desired,
        }
        if controller == "CODE_DEPLOY":
            yield _service_result(
                svc,
                Status.INFO,
                f"Service {name} deploys blue/green through CodeDeploy: whether a failed "
                "deployment rolls back is set in its CodeDeploy deployment group, which this "
                "audit does not read.",
                ev,
            )
            continue
        if controller == "EXTERNAL":
            yield _service_result(
                svc,
                Status.INFO,
                f"Service {name} is deployed by an external controller through task sets: "
                "the audit cannot see how that controller rolls back.",
                ev,
            )
            continue
        breaker = bool(svc["circuit_breaker"] and svc["rollback"])
        alarms = bool(svc["alarm_rollback"])
        # with more than one task, 0 lets ECS stop every running task before any new one is up
        unsafe = svc["scheduling_strategy"] != "DAEMON" and desired > 1 and minimum == 0
        how = " and ".join(
            w
            for w, on in (
                ("the deployment circuit breaker", breaker),
                (f"CloudWatch alarms ({svc['alarm_names'] or 'named'})", alarms),
            )
            if on
        )
        if (breaker or alarms) and not unsafe:
            yield _service_result(
                svc,
                Status.PASS,
                f"Service {name} rolls a failed deployment back automatically through {how}.",
                ev,
            )
        elif breaker or alarms:
            yield _service_result(
                svc,
                Status.FAIL,
                f"Service {name} rolls back through {how}, but its minimumHealthyPercent of 0 "
                f"lets a deployment stop all {desired} tasks before new ones are healthy.",
                ev,
            )
        elif svc["circuit_breaker"] or svc["deployment_alarms"]:
            yield _service_result(
                svc,
                Status.FAIL,
                f"Service {name} stops a failing deployment "
                f"({'circuit breaker' if svc['circuit_breaker'] else 'alarms'}) but does not "
                "roll it back: the service is left on a half-finished release.",
                ev,
            )
        else:
            yield _service_result(
                svc,
                Status.FAIL,
                f"Service {name} has neither a deployment circuit breaker with rollback nor "
                "alarm-based rollback: a bad release keeps replacing healthy tasks until "
                "someone notices"
                + (
                    " (and minimumHealthyPercent 0 lets it stop them all at once)."
                    if unsafe
                    else "."
                ),
                ev,
            )


@evidence("TF05-DEPLOYMENT-ROLLBACK")
def _rollback_evidence(wb: Workbook) -> pd.DataFrame:
    services = _deployment(wb.inventory)
    services["service"] = [service_id(s) for _, s in services.iterrows()]
    cols = PLACE + [
        "service",
        "deployment_controller",
        "scheduling_strategy",
        "desired_count",
        "circuit_breaker",
        "rollback",
        "deployment_alarms",
        "alarm_rollback",
        "minimum_healthy_percent",
        "maximum_percent",
    ]
    return services[cols].sort_values(PLACE + ["service"]).reset_index(drop=True)


# -- TF05-LIFECYCLE-POLICY ---------------------------------------------------------------------
def _rules(text: str | None) -> list[str]:
    """One line per lifecycle rule: what it selects and when it expires images."""
    if not text:
        return []
    try:
        rules = json.loads(text).get("rules") or []
    except (ValueError, AttributeError):
        return ["(unreadable policy)"]
    out = []
    for rule in sorted(rules, key=lambda r: r.get("rulePriority", 0)):
        sel = rule.get("selection") or {}
        prefixes = sel.get("tagPrefixList") or sel.get("tagPatternList") or []
        what = sel.get("tagStatus", "any") + (f" {'/'.join(prefixes)}*" if prefixes else "")
        if sel.get("countType") == "imageCountMoreThan":
            when = f"beyond {sel.get('countNumber')} images"
        else:
            when = f"older than {sel.get('countNumber')} {sel.get('countUnit', 'days')}"
        out.append(f"{what}: expire {when}")
    return out


def _lifecycle(inv: Inventory) -> pd.DataFrame:
    texts = {
        r["repositoryArn"]: r.get("lifecyclePolicyText")
        for region in inv.regions
        for r in inv.snapshot.get(region, "ecr").get("repositories") or []
    }
    repos = inv.repositories.copy()
    repos["rules"] = ["; ".join(_rules(texts.get(arn))) for arn in repos["repository_arn"]]
    return repos


@check("TF05-LIFECYCLE-POLICY")
def lifecycle_policy(inv: Inventory, settings: Settings) -> Iterator[Result]:
    unread = {g.get("resource") for g in inv.gaps(["ecr:GetLifecyclePolicy"])}
    for repo in _lifecycle(inv).to_dict("records"):
        if repo["repository_arn"] in unread:
            continue  # the engine reports the failed GetLifecyclePolicy for this repository
        ev = {"rules": repo["rules"], "images": _number(repo["image_count"])}
        if repo["has_lifecycle_policy"]:
            status = Status.PASS
            message = f"Repository {repo['repository']} has a lifecycle policy ({repo['rules']})."
        else:
            status = Status.FAIL
            message = (
                f"Repository {repo['repository']} has no lifecycle policy: every image pushed "
                f"stays for ever ({ev['images'] if ev['images'] is not None else '?'} now)."
            )
        yield result(
            repo,
            status,
            message,
            resource_type="AwsEcrRepository",
            resource_id=repo["repository"],
            resource_arn=repo["repository_arn"],
            evidence=ev,
        )


@evidence("TF05-LIFECYCLE-POLICY")
def _lifecycle_evidence(wb: Workbook) -> pd.DataFrame:
    cols = PLACE + ["repository", "has_lifecycle_policy", "rules", "image_count", "tag_mutability"]
    return _lifecycle(wb.inventory)[cols].sort_values(PLACE + ["repository"]).reset_index(drop=True)


# -- TF05-BUILD-NO-PLAINTEXT-CREDS -------------------------------------------------------------
def _credential_kinds(inv: Inventory) -> dict[tuple[str, str], list[dict[str, str]]]:
    """(region, project) -> the flagged PLAINTEXT variables, with why each was flagged."""
    flagged = {
        (r.region, r.project): set(filter(None, r.plaintext_secret_variables.split(", ")))
        for r in inv.build_projects.itertuples()
    }
    out: dict[tuple[str, str], list[dict[str, str]]] = {}
    for region in inv.regions:
        for p in inv.snapshot.get(region, "codebuild").get("projects") or []:
            names = flagged.get((region, p["name"]), set())
            out[(region, p["name"])] = [
                {
                    "name": v.get("name", ""),
                    "detected": marker.kind
                    if (marker := parse_marker(v.get("value")))
                    else "aws-credential-name"
                    if v.get("name") in ECS8_NAMES
                    else "secret-looking-name",
                }
                for v in (p.get("environment") or {}).get("environmentVariables") or []
                if v.get("type", "PLAINTEXT") == "PLAINTEXT" and v.get("name", "") in names
            ]
    return out


def _raw_project(inv: Inventory, p: pd.Series) -> dict:
    for raw in inv.snapshot.get(p["region"], "codebuild").get("projects") or []:
        if raw.get("name") == p["project"]:
            return raw
    return {}


def _has_inline_buildspec(inv: Inventory, p: pd.Series) -> bool:
    raw = _raw_project(inv, p)
    sources = [raw.get("source") or {}, *(raw.get("secondarySources") or [])]
    return any("\n" in str(s.get("buildspec") or "") for s in sources)


def _pipeline_credentials(inv: Inventory, p: pd.Series) -> list[dict[str, str]]:
    """PLAINTEXT variables a pipeline's CodeBuild action passes to this project that hold (or
    are named like) credentials."""
    out = []
    for pipeline in inv.snapshot.get(p["region"], "codepipeline").get("pipelines") or []:
        for stage in pipeline.get("stages") or []:
            for action in stage.get("actions") or []:
                config = action.get("configuration") or {}
                variables = config.get("EnvironmentVariables")
                if config.get("ProjectName") != p["project"] or not isinstance(variables, list):
                    continue
                for v in variables:
                    name, value = v.get("name", ""), v.get("value")
                    marker = parse_marker(value)
                    if v.get("type", "PLAINTEXT") == "PLAINTEXT" and (
                        marker or name in ECS8_NAMES or looks_secret_name(name)
                    ):
                        out.append(
                            {
                                "name": f"{name} (from pipeline {pipeline.get('name', '?')})",
                                "detected": marker.kind if marker else "secret-looking-name",
                            }
                        )
    return out


@check("TF05-BUILD-NO-PLAINTEXT-CREDS")
def build_no_plaintext_creds(inv: Inventory, settings: Settings) -> Iterator[Result]:
    kinds = _credential_kinds(inv)
    for p in inv.rows("build_projects"):
        found = kinds.get((p["region"], p["project"]), []) + _pipeline_credentials(inv, p)
        plain = [n for n in p["plaintext_variables"].split(", ") if n]
        inline = _has_inline_buildspec(inv, p)
        if found:
            status = Status.FAIL
            message = (
                f"CodeBuild project {p['project']} keeps credentials in PLAINTEXT environment "
                f"variables: {', '.join(v['name'] for v in found)}."
            )
        elif inline:
            status = Status.INFO
            message = (
                f"CodeBuild project {p['project']} has no credentials among its {len(plain)} "
                "PLAINTEXT environment variables, but its inline buildspec is not kept by the "
                "audit (commands may hold credentials): review it."
            )
        else:
            status = Status.PASS
            message = (
                f"CodeBuild project {p['project']} has no credentials among its "
                f"{len(plain)} PLAINTEXT environment variables."
            )
        yield result(
            p,
            status,
            message,
            resource_type="AwsCodeBuildProject",
            resource_id=p["project"],
            resource_arn=p["project_arn"],
            evidence={"plaintext_variables": plain, "flagged": found},
        )


@evidence("TF05-BUILD-NO-PLAINTEXT-CREDS")
def _creds_evidence(wb: Workbook) -> pd.DataFrame:
    """Every PLAINTEXT variable of every project; flagged values appear only as markers."""
    inv = wb.inventory
    kinds = _credential_kinds(inv)
    rows = [
        {k: getattr(p, k) for k in PLACE}
        | {
            "project": p.project,
            "source_type": p.source_type,
            "plaintext_variables": p.plaintext_variables,
            "flagged": ", ".join(
                f"{v['name']} ({v['detected']})" for v in kinds.get((p.region, p.project), [])
            ),
        }
        for p in inv.build_projects.itertuples()
    ]
    cols = PLACE + ["project", "source_type", "plaintext_variables", "flagged"]
    return pd.DataFrame(rows, columns=cols).sort_values(PLACE + ["project"]).reset_index(drop=True)
