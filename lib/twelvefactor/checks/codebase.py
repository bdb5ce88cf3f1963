"""Factor I, Codebase: one codebase tracked in version control, many deploys.

What the checks read, and the decisions they share:

* **Main container.** A task definition may run sidecars (a log router, an OpenTelemetry
  collector, a proxy) next to the application. The repository checks judge only the *main*
  container of every task definition that a service runs: among its containers the essential
  ones first, then those whose image comes from a private ECR repository (the account's own
  code, not a third-party image), then one named like its application (the container's name,
  or the last segment of its image repository), then the first in definition order.
* **Repository identity.** An ECR repository is named by its path, without region: a
  replicated repository keeps its name in every region, and is one codebase.
* **Source revision.** An image is traced to a commit by a tag that looks like a git SHA, by a
  recorded CodeBuild build of a version-controlled project that pushed it, or by the pipeline
  (with a version-control source) that deploys its service, whose executions record the commit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..collect.build import CodePipelineCollector
from ..evidence import evidence
from ..findings import Result, Status
from ..inventory import Inventory
from ..plots import STATUS_COLOURS, plot
from ..settings import Settings
from . import check
from .common import result

#: CodeBuild source types that are version control systems.
VCS_SOURCE_TYPES = frozenset(
    {"GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "CODECOMMIT", "GITLAB", "GITLAB_SELF_MANAGED"}
)
#: CodePipeline source providers that are version control systems (GitHub, GitLab and
#: Bitbucket all come through CodeStarSourceConnection; "GitHub" is the old OAuth action).
VCS_PIPELINE_PROVIDERS = frozenset({"CodeStarSourceConnection", "CodeCommit", "GitHub"})
#: Tag tokens that announce a commit: git-3f2a9c1, sha-3f2a9c1, commit.3f2a9c1, v1.2.3-4-g3f2a9c1.
SHA_PREFIXES = ("git", "sha", "commit", "rev", "g")
_HEX = re.compile(r"^[0-9a-f]{7,40}$")
_PREFIXED = re.compile(r"^(?P<prefix>git|sha|commit|rev|g)(?P<sha>[0-9a-f]{7,40})$")
_TOKENS = re.compile(r"[-_.+/:]+")
#: A build pushes its image while it runs; allow this much clock skew either side.
PUSH_SLACK = pd.Timedelta(minutes=2)

BUILD_ACTIONS = (
    "codebuild:ListProjects",
    "codebuild:BatchGetProjects",
    "codebuild:ListBuilds",
    "codebuild:BatchGetBuilds",
)
PIPELINE_ACTIONS = CodePipelineCollector.actions  # what reading the pipelines needs
IMAGE_ACTIONS = ("ecr:DescribeRepositories", "ecr:DescribeImages")


# -- shared evidence ------------------------------------------------------------------------
def sha_in_tag(tag: str) -> str:
    """The commit a tag names ("git-3f2a9c1" -> "3f2a9c1"), or "".

    A bare hexadecimal token (``1.4.2-3f2a9c1``, ``3f2a9c1``) must mix digits and letters, so
    that dates, build numbers and words made of a-f are not taken for commits; after a prefix
    token (``git``, ``sha``, ``commit``, ``rev``; ``g`` as git describe writes it) any 7 to 40
    hexadecimal digits count.
    """
    tokens = [t for t in _TOKENS.split(tag) if t]
    for i, token in enumerate(tokens):
        low = token.lower()
        if _HEX.match(low) and i > 0 and tokens[i - 1].lower() in SHA_PREFIXES:
            return low
        if _HEX.match(token) and re.search(r"\d", token) and re.search(r"[a-f]", token):
            return token
        m = _PREFIXED.match(low)
        # "g" alone is a weak prefix (git describe's): its digits must include a number
        if m and (m["prefix"] != "g" or re.search(r"\d", m["sha"])):
            return m["sha"]
    return ""


def commit_of(build: Any) -> str:
    """The commit a CodeBuild build built (resolved, or asked for by SHA), or ""."""
    for value in (build["resolved_source_version"], build["source_version"]):
        value = str(value or "").strip().lower()
        if _HEX.match(value):
            return value
    return ""


def _image_ref(row: Any) -> str:
    """A short, stable name for a container's image: repository[:tag][@sha256:<12 hex>]."""
    if row["image_source"] in ("private-ecr", "ecr-pull-through"):
        ref = row["image_repository"]
        if row["image_tag"]:
            ref += f":{row['image_tag']}"
    else:
        ref = str(row["image"]).partition("@")[0]
    digest = row["image_digest"]
    if digest:
        algo, _, hexa = digest.partition(":")
        ref += f"@{algo}:{hexa[:12]}" if hexa else f"@{digest}"
    return ref


def repository_label(row: Any) -> str:
    """Where a container's image lives: an ECR repository by its path, others with registry."""
    if row["image_source"] == "private-ecr":
        return row["image_repository"]
    if not row["image_repository"]:
        return str(row["image"])
    return f"{row['image_registry']}/{row['image_repository']}"


def main_containers(inv: Inventory) -> pd.DataFrame:
    """One row per task definition in use: its main container (see the module docstring)."""
    c = inv.containers[inv.containers["in_use"]].copy()
    if c.empty:
        return c.assign(repository="", image_ref="")
    c["_pos"] = c.groupby("task_definition_arn").cumcount()
    last_segment = c["image_repository"].str.rsplit("/", n=1).str[-1]
    c["_named"] = (c["container"] == c["application"]) | (last_segment == c["application"])
    c["_own"] = c["image_source"] == "private-ecr"
    c = c.sort_values(
        ["task_definition_arn", "essential", "_own", "_named", "_pos"],
        ascending=[True, False, False, False, True],
        kind="stable",
    )
    c = c.groupby("task_definition_arn", sort=False).head(1)
    rows = c.to_dict("records")
    c["repository"] = [repository_label(r) for r in rows]
    c["image_ref"] = [_image_ref(r) for r in rows]
    return c.drop(columns=["_pos", "_named", "_own"]).sort_values(
        ["application", "environment", "family"], kind="stable"
    )


def _td(row: Any) -> str:
    return f"{row['family']}:{row['revision']}"


def _joined(values: Any) -> str:
    return ",".join(sorted({str(v) for v in values if v}))


def _place(inv: Inventory, rows: list[dict[str, Any]]) -> dict[str, str]:
    return {
        "account": inv.account,
        "region": _joined(r["region"] for r in rows),
        "application": _joined(r["application"] for r in rows),
        "environment": _joined(r["environment"] for r in rows),
    }


def _group(rows: Iterable[dict[str, Any]], *keys: str) -> dict[Any, list[dict[str, Any]]]:
    """Rows by the value of ``keys`` (a tuple when several), sorted by it; rows keep their order."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r[keys[0]] if len(keys) == 1 else tuple(r[k] for k in keys), []).append(r)
    return dict(sorted(groups.items()))


def _repo_arn(inv: Inventory, account: str, region: str, repository: str) -> str:
    mine = inv.rows_by("repositories", "region", "repository").get((region, repository))
    if account == inv.account and mine:
        return mine[0]["repository_arn"]
    return f"arn:aws:ecr:{region}:{account}:repository/{repository}"


# -- TF01-REPO-PER-APP ----------------------------------------------------------------------
@check("TF01-REPO-PER-APP", account_scope=True)
def repo_per_app(inv: Inventory, settings: Settings) -> Iterator[Result]:
    main = main_containers(inv).to_dict("records")
    own = (r for r in main if r["image_source"] == "private-ecr")
    for (account, repository), users in _group(own, "image_account", "image_repository").items():
        apps = {
            app: sorted({r["environment"] for r in group if r["environment"]})
            for app, group in _group(users, "application").items()
        }
        first = users[0]
        evidence_ = {
            "applications": apps,
            "task_definitions": sorted({_td(r) for r in users}),
            "images": sorted({r["image_ref"] for r in users}),
        }
        shared = len(apps) > 1
        yield result(
            _place(inv, users),
            Status.FAIL if shared else Status.PASS,
            f"Repository {repository} feeds {len(apps)} applications: {', '.join(sorted(apps))}."
            if shared
            else f"Repository {repository} feeds one application, {next(iter(apps))}.",
            resource_type="AwsEcrRepository",
            resource_id=repository,
            resource_arn=_repo_arn(inv, account, first["image_region"], repository),
            evidence=evidence_,
        )


@evidence("TF01-REPO-PER-APP")
def _repo_per_app_table(wb: Any) -> pd.DataFrame:
    """Every main container from a private ECR repository: which application it feeds."""
    main = main_containers(wb.inventory)
    own = main[main["image_source"] == "private-ecr"].copy()
    own["task_definition"] = [_td(r) for _, r in own.iterrows()]
    counts = own.groupby("repository")["application"].nunique()
    own["applications_fed"] = own["repository"].map(counts)
    cols = [
        "repository",
        "applications_fed",
        "application",
        "environment",
        "region",
        "task_definition",
        "container",
        "image_ref",
    ]
    return own[cols].sort_values(cols[:4]).reset_index(drop=True)


# -- TF01-APP-ONE-REPO ----------------------------------------------------------------------
def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _nested(sets: list[set[str]]) -> bool:
    """Whether every pair of sets is ordered by inclusion (no environment swaps a repository)."""
    return all(a <= b or b <= a for a in sets for b in sets)


@check("TF01-APP-ONE-REPO", account_scope=True)
def app_one_repo(inv: Inventory, settings: Settings) -> Iterator[Result]:
    main = main_containers(inv).to_dict("records")
    placed = (r for r in main if r["environment"] != "" and r["application"] != "")
    for app, group in _group(placed, "application").items():
        by_env = _group(group, "environment")
        per_env = {e: {r["repository"] for r in rows} for e, rows in by_env.items()}
        if len(per_env) < 2:
            continue  # one environment: nothing to compare
        envs = sorted(per_env)
        repos = sorted(set().union(*per_env.values()))
        evidence_ = {
            "repositories": {e: sorted(per_env[e]) for e in envs},
            "task_definitions": {e: sorted({_td(r) for r in by_env[e]}) for e in envs},
        }
        row = _place(inv, group) | {"application": app}
        if _nested(list(per_env.values())):
            partial = len({frozenset(s) for s in per_env.values()}) > 1
            yield result(
                row,
                Status.PASS,
                f"Application {app} runs {_and(envs)} from the same "
                f"repositor{'ies' if len(repos) > 1 else 'y'} ({', '.join(repos)})"
                + ("; some of its services run in fewer environments." if partial else "."),
                resource_type="Application",
                resource_id=app,
                evidence=evidence_,
            )
        else:
            detail = "; ".join(f"{', '.join(sorted(per_env[e]))} in {e}" for e in envs)
            yield result(
                row,
                Status.FAIL,
                f"Application {app} runs different repositories in different environments: "
                f"{detail}.",
                resource_type="Application",
                resource_id=app,
                evidence=evidence_,
            )


@evidence("TF01-APP-ONE-REPO")
def _app_one_repo_table(wb: Any) -> pd.DataFrame:
    """Application x environment: the repositories its main containers come from."""
    main = main_containers(wb.inventory)
    main = main[(main["environment"] != "") & (main["application"] != "")]
    envs = sorted(set(main["environment"]))
    rows = []
    for app, group in main.groupby("application", sort=True):
        per_env = group.groupby("environment")["repository"].agg(set).to_dict()
        row = {"application": app, "repositories": len(set().union(*per_env.values()))}
        for env in envs:
            row[env] = ", ".join(sorted(per_env.get(env, set())))
        rows.append(row)
    return pd.DataFrame(rows, columns=["application", "repositories", *envs])


# -- TF01-IMAGE-TRACEABLE -------------------------------------------------------------------
def _times(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    frame = frame.copy()
    for col in columns:
        frame[col] = pd.to_datetime(frame[col].replace("", None), utc=True, errors="coerce")
    return frame


def _buildspec_mentions(text: str, repository: str) -> bool:
    pattern = rf"(?:^|[\s'\"=/]){re.escape(repository)}(?=$|[\s'\":@])"
    return bool(re.search(pattern, text, re.M))


def project_repositories(inv: Inventory) -> dict[tuple[str, str], set[str]]:
    """(region, project) -> the ECR repositories that build project pushes to.

    Read from the project: a plain environment variable whose value is the repository's name
    or URI (ECR_REPOSITORY=shop/orders-api), an inline buildspec that names it, or failing
    both, a project placed in the repository's application (orders-api-build, shop/orders-api).
    """
    out: dict[tuple[str, str], set[str]] = {}
    repos = inv.repositories
    projects = inv.build_projects.set_index(["region", "project"])
    for region in inv.regions:
        names = set(repos[repos["region"] == region]["repository"])
        app_of = dict(zip(repos["repository"], repos["application"], strict=True))
        for raw in inv.snapshot.get(region, "codebuild").get("projects") or []:
            env = (raw.get("environment") or {}).get("environmentVariables") or []
            values = [
                str(v.get("value", ""))
                for v in env
                if v.get("type", "PLAINTEXT") == "PLAINTEXT" and v.get("value")
            ]
            buildspec = str((raw.get("source") or {}).get("buildspec") or "")
            inline = buildspec if "\n" in buildspec else ""
            found = {
                name
                for name in names
                if any(v == name or v.endswith("/" + name) for v in values)
                or (inline and _buildspec_mentions(inline, name))
            }
            if not found and (region, raw["name"]) in projects.index:
                app = projects.loc[(region, raw["name"]), "application"]
                found = {
                    name
                    for name in names
                    if app and (app_of.get(name) == app or name.rsplit("/", 1)[-1] == app)
                }
            out[(region, raw["name"])] = found
    return out


def _image_row(inv: Inventory, region: str, repository: str, tag: str, digest: str):
    for image in inv.rows_by("images", "region", "repository").get((region, repository), []):
        if (image["digest"] == digest) if digest else (tag in image["tags"].split(", ")):
            return image
    return None


def _services_of(inv: Inventory, td_arns: set[str]) -> set[tuple[str, str, str]]:
    users = inv.rows_by("services", "task_definition_arn")
    return {
        (s["region"], s["cluster"], s["service"])
        for arn in td_arns
        for s in users.get(arn, [])
        if s["active"]
    }


class _Routes(NamedTuple):
    """What may trace an image to a commit, indexed once per run (not scanned per image)."""

    #: (region, project) -> the repositories the project pushes to
    linked: dict[tuple[str, str], set[str]]
    #: (region, project) -> (position in the table, build) with parsed start and end times
    builds: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]]
    #: (region, cluster, service) -> positions of the pipelines from version control deploying it
    pipelines: dict[tuple[str, str, str], list[int]]


def _routes(inv: Inventory) -> _Routes:
    builds: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
    parsed = _times(inv.builds, "start_time", "end_time").to_dict("records")
    for i, b in enumerate(parsed):
        builds.setdefault((b["region"], b["project"]), []).append((i, b))
    pipelines: dict[tuple[str, str, str], list[int]] = {}
    for i, p in enumerate(inv.rows("pipelines")):
        if set(_providers(p)) & VCS_PIPELINE_PROVIDERS:
            for target in _targets(p):
                pipelines.setdefault(target, []).append(i)
    return _Routes(project_repositories(inv), builds, pipelines)


def _targets(pipeline: Any) -> set[tuple[str, str, str]]:
    """(region, cluster, service) of the ECS services a pipeline deploys."""
    return {
        (pipeline["region"], *t.split("/", 1)) for t in pipeline["ecs_targets"].split(", ") if t
    }


def _pipeline_route(
    inv: Inventory, services: set[tuple[str, str, str]], routes: _Routes
) -> dict[str, Any] | None:
    """The first pipeline (from version control) that deploys any of ``services``."""
    found = [i for s in services for i in routes.pipelines.get(s, [])]
    if not found:
        return None
    p = inv.rows("pipelines")[min(found)]
    return {
        "pipeline": p["pipeline"],
        "source_providers": sorted(set(_providers(p))),
        "source": p["source_locations"],
        "deploys": sorted("/".join(t[1:]) for t in _targets(p) & services),
    }


def _build_route(
    inv: Inventory, region: str, repository: str, image: Any, routes: _Routes
) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """(the build that pushed the image, the projects that push to the repository)."""
    mine = [
        p
        for p in inv.rows_by("build_projects", "region").get(region, [])
        if repository in routes.linked.get((region, p["project"]), set())
    ]
    seen = [{"project": p["project"], "source_type": p["source_type"]} for p in mine]
    vcs = {p["project"]: p["source_type"] for p in mine if _project_is_vcs(inv, p)}
    if not vcs or image is None:
        return None, seen
    pushed = pd.to_datetime(image["pushed_at"] or None, utc=True, errors="coerce")
    # in the order of the builds table, as the projects' builds interleave there
    candidates = sorted(
        (entry for project in vcs for entry in routes.builds.get((region, project), [])),
        key=lambda entry: entry[0],
    )
    for _, b in candidates:
        commit = commit_of(b)
        if not commit or b["build_status"] not in ("SUCCEEDED", "IN_PROGRESS"):
            continue
        if not pd.isna(pushed) and not pd.isna(b["start_time"]):
            end = b["end_time"] if not pd.isna(b["end_time"]) else pushed
            if not (b["start_time"] - PUSH_SLACK <= pushed <= end + PUSH_SLACK):
                continue
        return {
            "project": b["project"],
            "build": b["build_id"],
            "commit": commit,
            "source_type": vcs[b["project"]],
        }, seen
    return None, seen


@check("TF01-IMAGE-TRACEABLE")
def image_traceable(inv: Inventory, settings: Settings) -> Iterator[Result]:
    running = [c for c in inv.rows("containers") if c["in_use"]]
    if not running:
        return
    main = main_containers(inv)
    main_keys = set(zip(main["task_definition_arn"], main["container"], strict=True))
    routes = _routes(inv)
    own = (c for c in running if c["image_source"] == "private-ecr")
    keys = ["image_account", "image_region", "image_repository", "image_tag", "image_digest"]
    for key, users in _group(own, *keys).items():
        yield _judge_image(inv, dict(zip(keys, key, strict=True)), users, routes)
    third: dict[str, list[dict[str, Any]]] = {}
    for c in running:
        if (
            c["image_source"] != "private-ecr"
            and (c["task_definition_arn"], c["container"]) in main_keys
        ):
            third.setdefault(_image_ref(c), []).append(c)
    for ref, users in sorted(third.items()):
        first = users[0]
        apps = _joined(r["application"] for r in users)
        yield result(
            _place(inv, users),
            Status.INFO,
            f"Application {apps} runs its main container from the third-party image {ref} "
            f"({first['image_source']}): no code of its own in it can be traced to a commit; "
            "if the application is copied or mounted in at start-up, it bypasses any build.",
            resource_type="ContainerImage",
            resource_id=ref,
            evidence={
                "image": first["image"],
                "image_source": first["image_source"],
                "containers": sorted(f"{_td(r)}/{r['container']}" for r in users),
            },
        )


def _judge_image(
    inv: Inventory, key: dict[str, str], users: list[dict[str, Any]], routes: _Routes
) -> Result:
    account, region = key["image_account"], key["image_region"]
    repository, tag, digest = key["image_repository"], key["image_tag"], key["image_digest"]
    ref = _image_ref(users[0])
    place = _place(inv, users)
    arn = _repo_arn(inv, account, region, repository)
    containers = sorted(f"{_td(r)}/{r['container']}" for r in users)

    def out(status: Status, message: str, **extra: Any) -> Result:
        return result(
            place,
            status,
            message,
            resource_type="AwsEcrContainerImage",
            resource_id=ref,
            resource_arn=arn,
            evidence={"containers": containers} | extra,
        )

    if account != inv.account or region not in inv.regions:
        where = f"account {account}" if account != inv.account else f"region {region}"
        return out(
            Status.SKIP,
            f"Image {ref} lives in {where}, which this audit did not read.",
            route="out-of-scope",
        )
    repo = inv.rows_by("repositories", "region", "repository").get((region, repository), [])
    repo_known = bool(repo)
    # unreadable: the repositories could not be listed, or this one's images could not be
    images_unreadable = (
        any(pd.isna(r["image_count"]) for r in repo)
        if repo_known
        else bool(inv.gaps(["ecr:DescribeRepositories"], region))
    )
    image = _image_row(inv, region, repository, tag, digest)
    tags = [t for t in (image["tags"].split(", ") if image is not None else []) if t]
    for t in tags:
        sha = sha_in_tag(t)
        if sha:
            return out(
                Status.PASS,
                f"Image {ref} carries the tag {t}, which names commit {sha}.",
                route="tag",
                tags=tags,
                commit=sha,
            )
    build, projects = _build_route(inv, region, repository, image, routes)
    if build:
        return out(
            Status.PASS,
            f"Image {ref} was pushed by build {build['build']} of {build['project']}, which "
            f"built commit {build['commit'][:12]} from {build['source_type']}.",
            route="build",
            tags=tags,
            **build,
        )
    td_arns = {r["task_definition_arn"] for r in users}
    pipeline = _pipeline_route(inv, _services_of(inv, td_arns), routes)
    if pipeline:
        return out(
            Status.PASS,
            f"Image {ref} runs in services that pipeline {pipeline['pipeline']} deploys from "
            f"{pipeline['source'] or ', '.join(pipeline['source_providers'])}; its executions "
            "record each commit.",
            route="pipeline",
            tags=tags,
            **pipeline,
        )
    unreadable = [
        what
        for what, gap in (
            ("its tags", images_unreadable),
            ("the build projects and builds", bool(inv.gaps(BUILD_ACTIONS, region))),
            ("the pipelines", bool(inv.gaps(PIPELINE_ACTIONS, region))),
        )
        if gap
    ]
    if unreadable:
        return out(
            Status.ERROR,
            f"Could not decide whether image {ref} can be traced to a commit: "
            f"{' and '.join(unreadable)} could not be read.",
            route="unknown",
            tags=tags,
            build_projects=projects,
        )
    if image is None:
        why = f"the image is no longer in repository {repository}" + (
            "" if repo_known else " (the repository does not exist)"
        )
    else:
        why = (
            f"its tags ({', '.join(tags)}) name no commit"
            if tags
            else "it has no tags that could name a commit"
        )
    if projects:
        names = ", ".join(f"{p['project']} ({p['source_type'] or 'no source'})" for p in projects)
        why += f"; no recorded build of {names} names a commit and matches its push"
    else:
        why += "; no build project pushes to its repository"
    return out(
        Status.FAIL,
        f"Nothing ties image {ref} to a commit: {why}, and no pipeline deploys its services.",
        route="none",
        tags=tags,
        build_projects=projects,
    )


def _traced_by(ev: dict[str, Any]) -> str:
    route = ev.get("route", "")
    if route == "tag":
        return f"tag → commit {ev.get('commit', '')}"
    if route == "build":
        return f"build {ev.get('build', '')} → commit {ev.get('commit', '')[:12]}"
    if route == "pipeline":
        return f"pipeline {ev.get('pipeline', '')} ← {ev.get('source', '')}"
    return ""


@evidence("TF01-IMAGE-TRACEABLE")
def _image_table(wb: Any) -> pd.DataFrame:
    """Each running image judged: who runs it, its tags, and what traces it (or not)."""
    rows = []
    for _, f in wb.findings_for(check_id="TF01-IMAGE-TRACEABLE").iterrows():
        if f["resource_id"] == "*" or f["message"].startswith("Could not evaluate"):
            continue
        ev = json.loads(f["evidence"])
        rows.append(
            {
                "status": f["status"],
                "image": f["resource_id"],
                "application": f["application"],
                "environment": f["environment"],
                "tags": ", ".join(ev.get("tags", [])),
                "traced_by": _traced_by(ev),
                "build_projects": ", ".join(
                    f"{p['project']} ({p['source_type'] or 'no source'})"
                    for p in ev.get("build_projects", [])
                ),
                "containers": ", ".join(ev.get("containers", [])),
            }
        )
    cols = [
        "status",
        "image",
        "application",
        "environment",
        "tags",
        "traced_by",
        "build_projects",
        "containers",
    ]
    return (
        pd.DataFrame(rows, columns=cols)
        .sort_values(["application", "image"])
        .reset_index(drop=True)
    )


# -- TF01-BUILD-FROM-VCS --------------------------------------------------------------------
def _project_is_vcs(inv: Inventory, project: Any) -> bool:
    """Whether a project builds from version control (directly, or through its pipelines)."""
    if project["source_type"] in VCS_SOURCE_TYPES:
        return True
    if project["source_type"] == "CODEPIPELINE":
        runners = _pipelines_running(inv, project["region"], project["project"])
        return bool(runners) and all(_pipeline_is_vcs(p) for p in runners)
    return False


def _pipelines_running(inv: Inventory, region: str, project: str) -> list[dict[str, Any]]:
    return [
        p
        for p in inv.rows_by("pipelines", "region").get(region, [])
        if project in p["build_projects"].split(", ")
    ]


def _providers(pipeline: Any) -> list[str]:
    return [x for x in pipeline["source_providers"].split(", ") if x]


def _pipeline_is_vcs(pipeline: Any) -> bool:
    return bool(set(_providers(pipeline)) & VCS_PIPELINE_PROVIDERS)


def _codecommit(inv: Inventory, region: str, name: str) -> dict[str, Any]:
    """Optional enrichment: does the CodeCommit repository a source names exist?"""
    if not name:
        return {"codecommit_repository": "", "codecommit_repository_found": "unknown"}
    if inv.gaps(["codecommit:ListRepositories", "codecommit:BatchGetRepositories"], region):
        found: bool | str = "unknown"
    else:
        repos = inv.code_repositories
        found = bool(((repos["region"] == region) & (repos["repository"] == name)).any())
    return {"codecommit_repository": name, "codecommit_repository_found": found}


@check("TF01-BUILD-FROM-VCS")
def build_from_vcs(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for p in inv.rows("build_projects"):
        kind, location = p["source_type"], p["source_location"]
        ev: dict[str, Any] = {"source_type": kind, "source_location": location}

        def out(status: Status, message: str, p: Any = p, ev: dict = ev) -> Result:
            return result(
                p,
                status,
                message,
                resource_type="AwsCodeBuildProject",
                resource_id=p["project"],
                resource_arn=p["project_arn"],
                evidence=ev,
            )

        if kind in VCS_SOURCE_TYPES:
            if kind == "CODECOMMIT":
                ev |= _codecommit(inv, p["region"], location.rstrip("/").rsplit("/", 1)[-1])
            yield out(
                Status.PASS,
                f"Build project {p['project']} builds from {kind}"
                + (f" ({location})." if location else "."),
            )
        elif kind == "CODEPIPELINE":
            runners = _pipelines_running(inv, p["region"], p["project"])
            ev["pipelines"] = {r["pipeline"]: _providers(r) for r in runners}
            if not runners and inv.gaps(PIPELINE_ACTIONS, p["region"]):
                yield out(
                    Status.ERROR,
                    f"Build project {p['project']} takes its source from CodePipeline, but the "
                    "pipelines could not be read.",
                )
            elif not runners:
                yield out(
                    Status.SKIP,
                    f"Build project {p['project']} takes its source from CodePipeline, but no "
                    "audited pipeline runs it.",
                )
            elif all(_pipeline_is_vcs(r) for r in runners):
                yield out(
                    Status.PASS,
                    f"Build project {p['project']} builds what pipeline(s) "
                    f"{', '.join(sorted(ev['pipelines']))} fetch from version control.",
                )
            else:
                bad = sorted(r["pipeline"] for r in runners if not _pipeline_is_vcs(r))
                yield out(
                    Status.FAIL,
                    f"Build project {p['project']} builds what pipeline(s) {', '.join(bad)} "
                    "fetch from outside version control.",
                )
        elif kind in ("NO_SOURCE", "S3"):
            what = "no source at all" if kind == "NO_SOURCE" else f"an S3 object ({location})"
            yield out(
                Status.FAIL,
                f"Build project {p['project']} builds from {what}, so no build records the "
                "commit it built.",
            )
        else:
            yield out(
                Status.SKIP,
                f"Build project {p['project']} has a source type the audit does not know "
                f"({kind or 'none'}).",
            )
    for pipe in inv.rows("pipelines"):
        providers = _providers(pipe)
        ev = {
            "source_providers": providers,
            "source_locations": pipe["source_locations"],
            "build_projects": [x for x in pipe["build_projects"].split(", ") if x],
        }
        if "CodeCommit" in providers:
            ev |= _codecommit(inv, pipe["region"], pipe["source_locations"].split("/", 1)[0])
        arn = f"arn:aws:codepipeline:{pipe['region']}:{inv.account}:{pipe['pipeline']}"
        if _pipeline_is_vcs(pipe):
            status = Status.PASS
            message = (
                f"Pipeline {pipe['pipeline']} starts from version control "
                f"({', '.join(p for p in providers if p in VCS_PIPELINE_PROVIDERS)}"
                + (f": {pipe['source_locations']})." if pipe["source_locations"] else ").")
            )
        elif ev["build_projects"]:
            status = Status.FAIL
            message = (
                f"Pipeline {pipe['pipeline']} builds from "
                f"{', '.join(providers) or 'no source action'}, not from version control."
            )
        else:
            status = Status.INFO
            message = (
                f"Pipeline {pipe['pipeline']} builds nothing: it releases artifacts from "
                f"{', '.join(providers) or 'no source action'}, built elsewhere."
            )
        yield result(
            pipe,
            status,
            message,
            resource_type="AwsCodePipelinePipeline",
            resource_id=pipe["pipeline"],
            resource_arn=arn,
            evidence=ev,
        )


@evidence("TF01-BUILD-FROM-VCS")
def _build_table(wb: Any) -> pd.DataFrame:
    """Build projects and pipelines with where their source comes from."""
    inv = wb.inventory
    projects = inv.build_projects.assign(
        kind="build project", name=inv.build_projects["project"]
    ).rename(columns={"source_type": "source", "source_location": "location"})
    pipes = inv.pipelines.assign(kind="pipeline", name=inv.pipelines["pipeline"]).rename(
        columns={"source_providers": "source", "source_locations": "location"}
    )
    cols = ["kind", "name", "application", "environment", "region", "source", "location"]
    table = pd.concat([projects[cols], pipes[cols]], ignore_index=True)
    found = wb.findings_for(check_id="TF01-BUILD-FROM-VCS")
    kinds = {"AwsCodeBuildProject": "build project", "AwsCodePipelinePipeline": "pipeline"}
    verdict = {
        (kinds.get(t, t), r): s
        for t, r, s in zip(
            found["resource_type"], found["resource_id"], found["status"], strict=True
        )
    }
    table.insert(
        0, "status", [verdict.get(k, "") for k in zip(table["kind"], table["name"], strict=True)]
    )
    return table.sort_values(["kind", "application", "name"]).reset_index(drop=True)


# -- the picture: which application runs which repository ----------------------------------
def _worst(statuses: list[str]) -> str:
    for s in ("FAIL", "ERROR", "PASS"):
        if s in statuses:
            return s
    return "SKIP"


@plot("codebase-map")
def codebase_map(wb: Any) -> Figure:
    """Applications per environment (left) and the repositories of their main containers
    (right). Nodes and edges are coloured by TF01-APP-ONE-REPO (left) and TF01-REPO-PER-APP
    (right); grey is not judged (one environment only, or not a private ECR repository)."""
    main = main_containers(wb.inventory)
    fig = Figure(figsize=(9, 0.42 * max(len(main), 3) + 1.6))
    ax = fig.subplots()
    if main.empty:
        ax.text(0.5, 0.5, "no containers in use", ha="center", va="center", color="#555555")
        ax.set_axis_off()
        return fig
    main = main.assign(environment=main["environment"].replace("", "?"))
    apps = wb.findings_for(check_id="TF01-APP-ONE-REPO")
    repos = wb.findings_for(check_id="TF01-REPO-PER-APP")
    app_status = dict(zip(apps["resource_id"], apps["status"], strict=True))
    repo_status = dict(zip(repos["resource_id"], repos["status"], strict=True))

    left = list(dict.fromkeys(zip(main["application"], main["environment"], strict=True)))
    left_y = {node: -i for i, node in enumerate(left)}
    # repositories ordered by the mean height of the applications they feed: fewer crossings
    heights = {}
    for _, r in main.iterrows():
        heights.setdefault(r["repository"], []).append(left_y[(r["application"], r["environment"])])
    right = sorted(heights, key=lambda repo: (-sum(heights[repo]) / len(heights[repo]), repo))
    span = max(len(left) - 1, 1)
    step = span / max(len(right) - 1, 1) if len(right) > 1 else 0
    right_y = {
        repo: -i * step - (0 if len(right) > 1 else span / 2) for i, repo in enumerate(right)
    }

    colour = {s: STATUS_COLOURS[s] for s in ("FAIL", "ERROR", "PASS")} | {"SKIP": "#BBBBBB"}
    for _, r in main.drop_duplicates(["application", "environment", "repository"]).iterrows():
        status = _worst(
            [app_status.get(r["application"], ""), repo_status.get(r["image_repository"], "")]
            if r["image_source"] == "private-ecr"
            else [app_status.get(r["application"], "")]
        )
        y0, y1 = left_y[(r["application"], r["environment"])], right_y[r["repository"]]
        ax.plot([0, 1], [y0, y1], color=colour[status], lw=2.4 if status == "FAIL" else 1.6)
    for (app, env), y in left_y.items():
        c = colour[_worst([app_status.get(app, "")])]
        ax.scatter([0], [y], s=60, color=c, zorder=3)
        ax.text(-0.03, y, f"{app} ({env})", ha="right", va="center", fontsize=9)
    for repo, y in right_y.items():
        c = colour[_worst([repo_status.get(repo, "")])]
        ax.scatter([1], [y], s=60, color=c, marker="s", zorder=3)
        ax.text(1.03, y, repo, ha="left", va="center", fontsize=9)
    ax.set_xlim(-1.1, 2.1)
    ax.set_ylim(-span - 0.6, 1.1)
    ax.set_axis_off()
    ax.set_title("Which repository each application runs (main containers)", fontsize=11)
    ax.text(-0.03, 0.8, "application (environment)", ha="right", fontsize=9, color="#555555")
    ax.text(1.03, 0.8, "image repository", ha="left", fontsize=9, color="#555555")
    handles = [
        Line2D([], [], color=colour["PASS"], lw=2, label="one repository, one application"),
        Line2D([], [], color=colour["FAIL"], lw=2.4, label="shared repository or forked app"),
        Line2D([], [], color=colour["ERROR"], lw=2, label="could not evaluate"),
        Line2D([], [], color=colour["SKIP"], lw=2, label="not judged"),
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=2,
        frameon=False,
        fontsize=9,
    )
    fig.tight_layout()
    return fig
