"""Factor II, Dependencies: declare and isolate them -- in images, registries and repositories.

On ECS a service's dependencies travel inside its container image, so the account-level evidence
is where images come from (a registry the account controls), how they are referenced (a digest,
or a tag that cannot move), whether the registry scans them, and whether containers install
anything when they start. Local clones of the source repositories (optional, ``repo_paths``)
add what only the code shows: pinned base images, lock files, and ``.env`` files kept out of git.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..apps import place
from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import PULL_THROUGH_PREFIXES, Inventory
from ..plots import STATUS_COLOURS, empty_axes, plot
from ..settings import Settings
from . import check
from .common import container_id, container_result, result

if TYPE_CHECKING:
    from ..workbook import Workbook

REPOSITORY = "AwsEcrRepository"
LOCAL = "LocalRepository"

#: ECR Public namespaces that AWS itself publishes (agents and sidecars such as the ADOT
#: collector, FireLens/Fluent Bit, X-Ray, CloudWatch agent, App Mesh Envoy, base images).
AWS_PUBLIC_NAMESPACES = frozenset(
    {
        "aws-observability",
        "xray",
        "cloudwatch-agent",
        "appmesh",
        "aws-appmesh",
        "aws-guardduty-agent",
        "ecs",
        "amazonlinux",
        "aws-cli",
        "lambda",
        "eks",
        "eks-distro",
        "aws-containers",
        "aws-secrets-manager",
    }
)

SOURCE_WORDS = {
    "private-ecr": "a private ECR repository",
    "ecr-pull-through": "an ECR pull-through cache",
    "public-ecr": "ECR Public (public.ecr.aws)",
    "docker-hub": "Docker Hub",
    "other-registry": "a registry outside ECR",
}


# -- shared helpers --------------------------------------------------------------------------


def _containers(inv: Inventory) -> pd.DataFrame:
    c = inv.containers
    return c[c["image"].str.strip() != ""].sort_values(
        ["region", "family", "revision", "container"], kind="stable"
    )


def _raw_repositories(inv: Inventory) -> dict[tuple[str, str], dict[str, Any]]:
    """(region, repository name) -> the DescribeRepositories item, as collected."""
    return {
        (region, r["repositoryName"]): r
        for region in inv.regions
        for r in inv.snapshot.get(region, "ecr").get("repositories") or []
    }


def wildcard(pattern: str, text: str, *, contains_without_star: bool) -> bool:
    """ECR's WILDCARD filters: ``*`` stands for any characters. Scanning filters without a
    ``*`` match any repository name that contains them; tag filters match whole tags."""
    if "*" not in pattern and contains_without_star:
        return pattern in text
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, text) is not None


def tag_is_immutable(repo: dict[str, Any], tag: str) -> bool | None:
    """Whether ``tag`` cannot be moved in ``repo`` (None when the setting is unknown)."""
    mode = repo.get("imageTagMutability") or ""
    filters = [
        f.get("filter", "")
        for f in repo.get("imageTagMutabilityExclusionFilters") or []
        if f.get("filter")
    ]
    excluded = any(wildcard(f, tag, contains_without_star=False) for f in filters)
    if mode == "IMMUTABLE":
        return True
    if mode == "MUTABLE":
        return False
    if mode == "IMMUTABLE_WITH_EXCLUSION":
        return not excluded
    if mode == "MUTABLE_WITH_EXCLUSION":
        return excluded
    return None


def _short(digest: str) -> str:
    return digest[:19] + "…" if len(digest) > 19 else digest


# -- TF02-PRIVATE-REGISTRY -------------------------------------------------------------------
@check("TF02-PRIVATE-REGISTRY")
def private_registry(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for c in _containers(inv).to_dict("records"):
        source = c["image_source"]
        name = container_id(c)
        ev = {"image": c["image"], "source": source, "registry": c["image_registry"]}
        if source == "private-ecr":
            where = []
            if c["image_account"] and c["image_account"] != inv.account:
                where.append(f"account {c['image_account']}")
            if c["image_region"] and c["image_region"] != c["region"]:
                where.append(f"region {c['image_region']}")
            yield container_result(
                c,
                Status.PASS,
                f"Container {name} pulls {c['image_repository']} from a private ECR repository"
                + (f" in {' and '.join(where)}." if where else "."),
                ev,
            )
        elif source == "ecr-pull-through":
            yield container_result(
                c,
                Status.PASS,
                f"Container {name} pulls {c['image_repository']} through an ECR pull-through "
                "cache, so the image stays available when the upstream registry is not.",
                ev,
            )
        elif source == "public-ecr" and c["image_repository"].split("/")[0] in (
            AWS_PUBLIC_NAMESPACES
        ):
            yield container_result(
                c,
                Status.INFO,
                f"Container {name} pulls {c['image_repository']}, published by AWS on ECR "
                "Public; acceptable, though a pull-through cache would keep a copy in your "
                "registry.",
                ev,
            )
        else:
            yield container_result(
                c,
                Status.FAIL,
                f"Container {name} pulls {c['image']} from {SOURCE_WORDS.get(source, source)}, "
                "a registry the account does not control: rate limits, outages or a changed "
                "image reach production at the next task start.",
                ev,
            )


# -- TF02-IMAGE-PINNED -----------------------------------------------------------------------
@check("TF02-IMAGE-PINNED")
def image_pinned(inv: Inventory, settings: Settings) -> Iterator[Result]:
    repos = _raw_repositories(inv)
    for c in _containers(inv).to_dict("records"):
        name = container_id(c)
        tag, digest = c["image_tag"], c["image_digest"]
        ev: dict[str, Any] = {
            "image": c["image"],
            "tag": tag,
            "digest": digest,
            "repository": c["image_repository"],
            "tag_mutability": "",
        }
        if digest:
            yield container_result(
                c,
                Status.PASS,
                f"Container {name} references its image by digest ({_short(digest)}): every "
                "task runs exactly the same image.",
                ev,
            )
            continue
        if not tag or tag == "latest":
            yield container_result(
                c,
                Status.FAIL,
                f"Container {name} runs {c['image_repository']}:latest"
                + ("" if tag else " (no tag given)")
                + ": each task start may pull a different image.",
                ev,
            )
            continue
        in_scope = (
            c["image_source"] in {"private-ecr", "ecr-pull-through"}
            and c["image_account"] == inv.account
            and c["image_region"] in inv.regions
        )
        if not in_scope:
            where = (
                "an ECR repository outside this audit"
                if c["image_source"] in {"private-ecr", "ecr-pull-through"}
                else SOURCE_WORDS.get(c["image_source"], c["image_source"])
            )
            yield container_result(
                c,
                Status.FAIL,
                f"Container {name} references tag {tag} in {where}, where nothing shows the tag "
                "cannot be moved; reference the image by digest.",
                ev,
            )
            continue
        region = c["image_region"]
        if inv.gaps(["ecr:DescribeRepositories"], region):
            yield container_result(
                c,
                Status.ERROR,
                f"Could not tell whether tag {tag} of container {name} can move: the ECR "
                f"repositories of {region} could not be listed.",
                ev,
            )
            continue
        repo = repos.get((region, c["image_repository"]))
        if repo is None:
            yield container_result(
                c,
                Status.FAIL,
                f"Container {name} references {c['image_repository']}:{tag}, but no such "
                f"repository exists in {region}: the next task start cannot pull it.",
                ev,
            )
            continue
        mode = ev["tag_mutability"] = repo.get("imageTagMutability", "")
        if tag_is_immutable(repo, tag):
            yield container_result(
                c,
                Status.PASS,
                f"Container {name} references tag {tag} in {c['image_repository']}, where that "
                "tag cannot be overwritten: it always names the same image.",
                ev,
            )
            continue
        why = {
            "MUTABLE": "whose tags are mutable",
            "": "whose tag mutability is unknown",
        }.get(mode, f"where its tag immutability setting ({mode}) leaves this tag mutable")
        yield container_result(
            c,
            Status.FAIL,
            f"Container {name} references tag {tag} in {c['image_repository']}, {why}: a push "
            "can change what the tag means.",
            ev,
        )


# -- TF02-TAG-IMMUTABILITY -------------------------------------------------------------------
def _repo_result(row: Any, status: Status, message: str, ev: dict[str, Any]) -> Result:
    return result(
        row,
        status,
        message,
        resource_type=REPOSITORY,
        resource_id=row["repository"],
        resource_arn=row["repository_arn"],
        evidence=ev,
    )


@check("TF02-TAG-IMMUTABILITY")
def tag_immutability(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_repositories(inv)
    for r in inv.repositories.sort_values(["region", "repository"]).to_dict("records"):
        repo = raw.get((r["region"], r["repository"]), {})
        mode = r["tag_mutability"]
        exclusions = [
            f.get("filter", "") for f in repo.get("imageTagMutabilityExclusionFilters") or []
        ]
        cache = (
            r["repository"].split("/", 1)[0] in PULL_THROUGH_PREFIXES and "/" in (r["repository"])
        )
        ev = {
            "tag_mutability": mode,
            "exclusions": exclusions,
            "image_count": None if pd.isna(r["image_count"]) else int(r["image_count"]),
            "pull_through_cache": cache,
        }
        name = r["repository"]
        if mode == "IMMUTABLE":
            yield _repo_result(
                r, Status.PASS, f"Repository {name} has immutable tags: no push can move one.", ev
            )
        elif mode == "IMMUTABLE_WITH_EXCLUSION":
            yield _repo_result(
                r,
                Status.PASS,
                f"Repository {name} has immutable tags, except those matching "
                f"{', '.join(exclusions) or 'its exclusion filters'}.",
                ev,
            )
        elif not mode:
            yield _repo_result(
                r,
                Status.ERROR,
                f"Repository {name} was listed without its tag mutability setting.",
                ev,
            )
        elif cache:
            yield _repo_result(
                r,
                Status.INFO,
                f"Repository {name} looks like a pull-through cache, whose tags follow the "
                "upstream registry; reference its images by digest instead.",
                ev,
            )
        else:
            protected = (
                f" (only tags matching {', '.join(exclusions)} are protected)"
                if mode == "MUTABLE_WITH_EXCLUSION"
                else ""
            )
            yield _repo_result(
                r,
                Status.FAIL,
                f"Repository {name} has mutable tags{protected}: pushing again can change what "
                "a running service's tag refers to.",
                ev,
            )


# -- TF02-IMAGE-SCANNING ---------------------------------------------------------------------
def scanning_of(config: dict[str, Any], repository: str, scan_on_push: bool) -> dict[str, Any]:
    """How ``repository`` is scanned under registry scanning ``config``: registry rules first,
    then (basic scanning only) the repository's own deprecated scanOnPush setting."""
    scan_type = config.get("scanType") or "BASIC"
    matched = []
    for rule in config.get("rules") or []:
        filters = [f.get("filter", "") for f in rule.get("repositoryFilters") or []]
        hit = next(
            (f for f in filters if wildcard(f, repository, contains_without_star=True)),
            None if filters else "(all repositories)",
        )
        if hit is not None:
            matched.append((rule.get("scanFrequency", "MANUAL"), hit))
    wanted = ["CONTINUOUS_SCAN", "SCAN_ON_PUSH"] if scan_type == "ENHANCED" else ["SCAN_ON_PUSH"]
    for frequency in wanted:
        for freq, hit in matched:
            if freq == frequency:
                return {
                    "scan_type": scan_type,
                    "frequency": frequency,
                    "decided_by": "registry rule",
                    "matched_filter": hit,
                }
    if scan_type == "BASIC" and scan_on_push:
        return {
            "scan_type": scan_type,
            "frequency": "SCAN_ON_PUSH",
            "decided_by": "repository setting",
            "matched_filter": "",
        }
    return {
        "scan_type": scan_type,
        "frequency": "" if scan_type == "ENHANCED" else "MANUAL",
        "decided_by": "",
        "matched_filter": "",
    }


def scan_results(images: list[dict[str, Any]] | None) -> dict[str, Any] | str:
    """Totals of DescribeImages' imageScanFindingsSummary, or why there are none."""
    if images is None:
        return "images not listed"
    summaries = [i["imageScanFindingsSummary"] for i in images if i.get("imageScanFindingsSummary")]
    if not summaries:
        return "none in the snapshot"
    counts: dict[str, int] = {}
    for s in summaries:
        for severity, n in (s.get("findingSeverityCounts") or {}).items():
            counts[severity] = counts.get(severity, 0) + int(n)
    return {"images": len(images), "images_scanned": len(summaries), "findings": counts}


@check("TF02-IMAGE-SCANNING")
def image_scanning(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for r in inv.repositories.sort_values(["region", "repository"]).to_dict("records"):
        ecr = inv.snapshot.get(r["region"], "ecr")
        config = ecr.get("registry_scanning")
        name = r["repository"]
        results = scan_results((ecr.get("images") or {}).get(name))
        if not isinstance(config, dict):
            yield _repo_result(
                r,
                Status.ERROR,
                f"Could not tell whether repository {name} is scanned: the registry scanning "
                f"configuration of {r['region']} could not be read.",
                {"repository_scan_on_push": bool(r["scan_on_push"]), "scan_results": results},
            )
            continue
        how = scanning_of(config, name, bool(r["scan_on_push"]))
        ev = how | {"repository_scan_on_push": bool(r["scan_on_push"]), "scan_results": results}
        if how["decided_by"]:
            by = (
                f"registry rule {how['matched_filter']!r}"
                if how["decided_by"] == "registry rule"
                else "its own scan-on-push setting"
            )
            yield _repo_result(
                r,
                Status.PASS,
                f"Repository {name} is scanned ({how['scan_type'].lower()}, "
                f"{how['frequency'].lower().replace('_', ' ')}) by {by}.",
                ev,
            )
        else:
            ignored = (
                " (its own scan-on-push setting does not apply under enhanced scanning)"
                if how["scan_type"] == "ENHANCED" and r["scan_on_push"]
                else ""
            )
            yield _repo_result(
                r,
                Status.FAIL,
                f"Repository {name} is not scanned automatically: no {how['scan_type'].lower()} "
                f"scanning rule of the registry matches it{ignored}.",
                ev,
            )


# -- TF02-NO-INSTALL-AT-START ----------------------------------------------------------------
_OPTS = r"(?:\s+-{1,2}[\w.=:/@-]+)*"
INSTALLERS: list[tuple[str, re.Pattern[str]]] = [
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in [
        ("pip install", rf"\b(?:pip3?|pip3\.\d+|python3?(?:\.\d+)?\s+-m\s+pip){_OPTS}\s+install\b"),
        ("uv pip install / uv sync", rf"\buv{_OPTS}\s+(?:pip\s+install|sync|add)\b"),
        ("poetry / pipenv install", rf"\b(?:poetry|pipenv){_OPTS}\s+(?:install|add)\b"),
        ("conda install", rf"\b(?:conda|mamba|micromamba){_OPTS}\s+install\b"),
        ("npm install", rf"\bnpm{_OPTS}\s+(?:install|i|ci|add)\b"),
        ("yarn install", rf"\byarn{_OPTS}\s+(?:install|add)\b"),
        ("pnpm install", rf"\bpnpm{_OPTS}\s+(?:install|i|add)\b"),
        ("apt-get install", rf"\bapt(?:-get)?{_OPTS}\s+install\b"),
        ("apk add", rf"\bapk{_OPTS}\s+add\b"),
        ("yum / dnf install", rf"\b(?:yum|dnf|microdnf|zypper){_OPTS}\s+install\b"),
        ("gem install", rf"\bgem{_OPTS}\s+install\b"),
        ("bundle install", rf"\bbundle(?:r)?{_OPTS}\s+install\b"),
        ("composer install", rf"\bcomposer{_OPTS}\s+(?:install|require|update)\b"),
        ("go get / go install", rf"\bgo{_OPTS}\s+(?:get|install|mod\s+download)\b"),
        ("cargo install", rf"\bcargo{_OPTS}\s+install\b"),
        ("curl | sh", r"\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b"),
    ]
]


def installers(text: str) -> list[str]:
    """Labels of the dependency installers that ``text`` (a command line) runs."""
    return [label for label, pattern in INSTALLERS if pattern.search(text)]


@check("TF02-NO-INSTALL-AT-START")
def no_install_at_start(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for c in _containers(inv).to_dict("records"):
        name = container_id(c)
        text = " ".join(p for p in (c["entry_point"], c["command"]) if p)
        ev = {"entry_point": c["entry_point"], "command": c["command"]}
        found = installers(text)
        if found:
            yield container_result(
                c,
                Status.FAIL,
                f"Container {name} installs dependencies when it starts ({', '.join(found)}): "
                "each task may run different versions, starts slowly and fails when the "
                "package index does.",
                ev | {"installs": found},
            )
        elif text:
            yield container_result(
                c,
                Status.PASS,
                f"Container {name} starts without installing anything: its dependencies are "
                "in the image.",
                ev | {"installs": []},
            )
        else:
            yield container_result(
                c,
                Status.INFO,
                f"Container {name} sets no command or entry point: it runs its image's own, "
                "which the audit cannot see (check the Dockerfile's CMD and ENTRYPOINT).",
                ev | {"installs": []},
            )


# -- local repositories ----------------------------------------------------------------------
def local_repositories(inv: Inventory) -> list[dict[str, Any]]:
    """The repositories read from ``repo_paths`` (empty when none were given)."""
    return list(inv.snapshot.get("local", "repos").get("repositories") or [])


def _local_result(
    inv: Inventory, repo: dict[str, Any], status: Status, message: str, ev: dict[str, Any]
) -> Result:
    name = repo["repository"]
    placement = place(name.rsplit("/", 1)[-1], {}, inv.settings)
    row = {
        "account": inv.account,
        "region": "local",
        "application": placement.application or name.rsplit("/", 1)[-1],
        "environment": placement.environment,
    }
    return result(row, status, message, resource_type=LOCAL, resource_id=name, evidence=ev)


def _problems(
    repo: dict[str, Any], scopes: set[str], paths: set[str] | None = None
) -> list[dict[str, str]]:
    return [
        p
        for p in repo.get("errors") or []
        if p["scope"] == "repository"
        or (p["scope"] in scopes and (paths is None or p["path"] in paths))
    ]


def _untrusted(repo: dict[str, Any]) -> str:
    return (
        f" (not trusted: the walk stopped after {repo.get('files_seen')} files)"
        if repo.get("truncated")
        else ""
    )


@check("TF02-DOCKERFILE-PINNED")
def dockerfile_pinned(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for repo in local_repositories(inv):
        name = repo["repository"]
        dockerfiles = repo.get("dockerfiles") or []
        images = [
            {"dockerfile": d["path"], "line": s["line"], "image": s["image"], "pinned": s["pinned"]}
            for d in dockerfiles
            for s in d.get("stages") or []
        ]
        ev = {"dockerfiles": [d["path"] for d in dockerfiles], "base_images": images}
        problems = _problems(repo, {"read"}, {d["path"] for d in dockerfiles})
        loose = [i for i in images if not i["pinned"]]
        if problems:
            yield _local_result(
                inv,
                repo,
                Status.ERROR,
                f"Could not read every Dockerfile of {name}: {problems[0]['detail']}.",
                ev | {"problems": problems},
            )
        elif not dockerfiles:
            yield _local_result(inv, repo, Status.INFO, f"Repository {name} has no Dockerfile.", ev)
        elif not images:
            yield _local_result(
                inv, repo, Status.INFO, f"Repository {name}'s Dockerfiles name no base image.", ev
            )
        elif loose:
            shown = ", ".join(f"{i['image']} ({i['dockerfile']}:{i['line']})" for i in loose)
            yield _local_result(
                inv,
                repo,
                Status.FAIL,
                f"Repository {name} builds on base images without a digest: {shown}; a rebuild "
                "may start from different layers.",
                ev,
            )
        else:
            status = Status.ERROR if repo.get("truncated") else Status.PASS
            yield _local_result(
                inv,
                repo,
                status,
                f"Repository {name} pins all {len(images)} base images of its "
                f"{len(dockerfiles)} Dockerfile(s) by digest{_untrusted(repo)}.",
                ev,
            )


def _manifest_detail(m: dict[str, Any]) -> str:
    if m.get("unpinned"):
        count = m.get("unpinned_count", len(m["unpinned"]))
        listed = ", ".join(m["unpinned"][:4]) + (", …" if count > 4 else "")
        return f"{m['path']} has {count} requirement(s) not pinned to one version ({listed})"
    return f"{m['path']} has no lock file"


@check("TF02-DEPS-LOCKED")
def deps_locked(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for repo in local_repositories(inv):
        name = repo["repository"]
        manifests = [
            m for m in repo.get("manifests") or [] if m.get("declares_dependencies") is not False
        ]
        ev = {
            "manifests": [
                {
                    "path": m["path"],
                    "ecosystem": m["ecosystem"],
                    "locked": m["locked"],
                    "how": m.get("how", ""),
                    "lock_files": m.get("lock_files", []),
                    "unpinned": m.get("unpinned", []),
                }
                for m in manifests
            ]
        }
        problems = _problems(repo, {"read"}, {m["path"] for m in repo.get("manifests") or []})
        loose = [m for m in manifests if not m["locked"]]
        if problems:
            yield _local_result(
                inv,
                repo,
                Status.ERROR,
                f"Could not read every dependency manifest of {name}: "
                f"{problems[0]['path']} ({problems[0]['detail']}).",
                ev | {"problems": problems},
            )
        elif not manifests:
            yield _local_result(
                inv,
                repo,
                Status.INFO,
                f"Repository {name} has no dependency manifest that declares dependencies.",
                ev,
            )
        elif loose:
            yield _local_result(
                inv,
                repo,
                Status.FAIL,
                f"Repository {name} does not lock its dependencies: "
                + "; ".join(_manifest_detail(m) for m in loose)
                + ".",
                ev,
            )
        else:
            status = Status.ERROR if repo.get("truncated") else Status.PASS
            yield _local_result(
                inv,
                repo,
                status,
                f"Repository {name} locks every dependency manifest: "
                + ", ".join(f"{m['path']} ({m['how']})" for m in manifests)
                + f"{_untrusted(repo)}.",
                ev,
            )


def _git_mode(repo: dict[str, Any]) -> str:
    git = repo.get("git") or {}
    if git.get("work_tree"):
        return "git work tree"
    if git.get("inside_work_tree"):
        return "plain folder (inside another git work tree)"
    return "plain folder"


@check("TF02-DOTENV-IGNORED")
def dotenv_ignored(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for repo in local_repositories(inv):
        name = repo["repository"]
        env_files = repo.get("env_files") or []
        real = [f for f in env_files if not f["example"]]
        ev = {
            "mode": _git_mode(repo),
            "ignore_files": repo.get("ignore_files") or [],
            "dotenv_ignored": repo.get("dotenv_ignored"),
            "env_files": env_files,
        }
        problems = _problems(repo, {"git"}) + _problems(
            repo, {"read"}, set(repo.get("ignore_files") or [])
        )
        tracked = [f["path"] for f in real if f["tracked"]]
        exposed = [f["path"] for f in real if f["ignored"] is False and not f["tracked"]]
        if tracked:
            yield _local_result(
                inv,
                repo,
                Status.FAIL,
                f"Repository {name} has .env files committed to git: {', '.join(tracked)}; "
                "remove them from the history and rotate what they hold.",
                ev,
            )
        elif problems or repo.get("dotenv_ignored") is None:
            detail = problems[0]["detail"] if problems else "its ignore rules could not be read"
            yield _local_result(
                inv,
                repo,
                Status.ERROR,
                f"Could not tell whether {name} keeps .env files out of git: {detail}.",
                ev | {"problems": problems},
            )
        elif exposed:
            yield _local_result(
                inv,
                repo,
                Status.FAIL,
                f"Repository {name} has .env files that git would commit: {', '.join(exposed)}.",
                ev,
            )
        elif not repo.get("dotenv_ignored"):
            yield _local_result(
                inv,
                repo,
                Status.FAIL,
                f"Repository {name} does not ignore .env"
                + (" (it has no .gitignore)" if not ev["ignore_files"] else "")
                + ": a developer's local .env would be committed with the next `git add`.",
                ev,
            )
        else:
            status = Status.ERROR if repo.get("truncated") else Status.PASS
            examples = [f["path"] for f in env_files if f["example"]]
            yield _local_result(
                inv,
                repo,
                status,
                f"Repository {name} ignores .env files"
                + (f" and tracks only examples ({', '.join(examples)})" if examples else "")
                + f"{_untrusted(repo)}.",
                ev,
            )


# -- evidence tables -------------------------------------------------------------------------


def _expand(wb: Workbook, check_id: str, fields: list[str]) -> pd.DataFrame:
    """One row per finding of ``check_id`` with its status and the evidence ``fields``."""
    f = wb.findings_for(check_id=check_id)
    f = f[f["resource_id"] != "*"]
    rows = [
        {k: r[k] for k in PLACE}
        | {"resource_id": r["resource_id"], "status": r["status"]}
        | {k: _cell(json.loads(r["evidence"]).get(k, "")) for k in fields}
        for _, r in f.iterrows()
    ]
    return pd.DataFrame(rows, columns=[*PLACE, "resource_id", "status", *fields])


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


@evidence("TF02-PRIVATE-REGISTRY")
def _registry_table(wb: Workbook) -> pd.DataFrame:
    """Every container's image and the registry it comes from."""
    return _expand(wb, "TF02-PRIVATE-REGISTRY", ["source", "image", "in_use"])


@evidence("TF02-IMAGE-PINNED")
def _pinned_table(wb: Workbook) -> pd.DataFrame:
    """Every container's image reference: tag, digest and the tag setting of its repository."""
    table = _expand(
        wb, "TF02-IMAGE-PINNED", ["repository", "tag", "digest", "tag_mutability", "in_use"]
    )
    table["digest"] = table["digest"].map(lambda d: _short(d) if isinstance(d, str) else d)
    return table


@evidence("TF02-TAG-IMMUTABILITY")
def _immutability_table(wb: Workbook) -> pd.DataFrame:
    return _expand(
        wb,
        "TF02-TAG-IMMUTABILITY",
        ["tag_mutability", "exclusions", "image_count", "pull_through_cache"],
    )


@evidence("TF02-IMAGE-SCANNING")
def _scanning_table(wb: Workbook) -> pd.DataFrame:
    """Per repository: the scan type, the rule (or setting) that decides, and scan results."""
    return _expand(
        wb,
        "TF02-IMAGE-SCANNING",
        [
            "scan_type",
            "frequency",
            "decided_by",
            "matched_filter",
            "repository_scan_on_push",
            "scan_results",
        ],
    )


@evidence("TF02-NO-INSTALL-AT-START")
def _install_table(wb: Workbook) -> pd.DataFrame:
    return _expand(wb, "TF02-NO-INSTALL-AT-START", ["installs", "entry_point", "command"])


def _local_rows(wb: Workbook, check_id: str, key: str, fields: list[str]) -> pd.DataFrame:
    """One row per item of evidence list ``key`` of each repository's finding."""
    f = wb.findings_for(check_id=check_id)
    rows = [
        {"repository": r["resource_id"], "status": r["status"]}
        | {k: _cell(item.get(k, "")) for k in fields}
        for _, r in f[f["resource_id"] != "*"].iterrows()
        for item in json.loads(r["evidence"]).get(key) or [{}]
    ]
    return pd.DataFrame(rows, columns=["repository", "status", *fields])


@evidence("TF02-DOCKERFILE-PINNED")
def _dockerfile_table(wb: Workbook) -> pd.DataFrame:
    """Every FROM line of every Dockerfile in the local repositories."""
    return _local_rows(
        wb, "TF02-DOCKERFILE-PINNED", "base_images", ["dockerfile", "line", "image", "pinned"]
    )


@evidence("TF02-DEPS-LOCKED")
def _deps_table(wb: Workbook) -> pd.DataFrame:
    """Every dependency manifest: its ecosystem, how (or whether) it is locked."""
    return _local_rows(
        wb,
        "TF02-DEPS-LOCKED",
        "manifests",
        ["path", "ecosystem", "locked", "how", "lock_files", "unpinned"],
    )


@evidence("TF02-DOTENV-IGNORED")
def _dotenv_table(wb: Workbook) -> pd.DataFrame:
    """Per repository: how it was read, whether .env is ignored, and its .env-style files."""
    f = wb.findings_for(check_id="TF02-DOTENV-IGNORED")
    rows = []
    for _, r in f[f["resource_id"] != "*"].iterrows():
        ev = json.loads(r["evidence"])
        files = ev.get("env_files") or []
        rows.append(
            {
                "repository": r["resource_id"],
                "status": r["status"],
                "read_as": ev.get("mode", ""),
                "ignore_files": ", ".join(ev.get("ignore_files") or []),
                ".env ignored": ev.get("dotenv_ignored"),
                "env files": ", ".join(x["path"] for x in files),
                "committed": ", ".join(x["path"] for x in files if x.get("tracked")),
                "not ignored": ", ".join(
                    x["path"] for x in files if x.get("ignored") is False and not x["example"]
                ),
            }
        )
    columns = ["repository", "status", "read_as", "ignore_files", ".env ignored", "env files"]
    return pd.DataFrame(rows, columns=[*columns, "committed", "not ignored"])


# -- plots -----------------------------------------------------------------------------------
SOURCE_COLOURS = {
    "private-ecr": STATUS_COLOURS["PASS"],
    "ecr-pull-through": "#0072B2",  # blue
    "public-ecr": STATUS_COLOURS["INFO"],
    "docker-hub": STATUS_COLOURS["FAIL"],
    "other-registry": "#E69F00",  # orange
}


@plot("image-sources")
def image_sources(wb: Workbook) -> Figure:
    """Containers per application, coloured by the registry their image comes from."""
    c = _containers(wb.inventory)
    fig = Figure(figsize=(8, 0.45 * max(c["application"].nunique(), 2) + 1.2))
    ax = fig.subplots()
    if c.empty:
        empty_axes(ax, "no containers")
        return fig
    table = pd.crosstab(c["application"], c["image_source"])
    sources = [s for s in SOURCE_COLOURS if s in table.columns]
    table[sources][::-1].plot.barh(
        stacked=True, ax=ax, width=0.7, color=[SOURCE_COLOURS[s] for s in sources]
    )
    ax.set_xlabel("containers (task definitions judged: in use and latest)")
    ax.set_ylabel("")
    ax.set_title("Where each application's images come from")
    ax.legend(title="registry", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


@plot("ecr-repositories")
def ecr_repositories(wb: Workbook) -> Figure:
    """A repository x property grid: immutable tags and automatic scanning, green or vermillion."""
    columns = {"TF02-TAG-IMMUTABILITY": "immutable tags", "TF02-IMAGE-SCANNING": "scanned"}
    f = wb.findings_for(factor=2)  # this factor's checks, not every check
    f = f[f["check_id"].isin(columns) & (f["resource_id"] != "*")]
    fig = Figure(figsize=(6, 0.4 * max(len(f) // 2, 3) + 1.3))
    ax = fig.subplots()
    if f.empty:
        empty_axes(ax, "no repositories")
        return fig
    # one row per repository; repositories of several regions are told apart by region
    label = (
        f["resource_id"] if f["region"].nunique() == 1 else f["region"] + ": " + f["resource_id"]
    )
    grid = (
        f.assign(repository=label)
        .pivot_table(index="repository", columns="check_id", values="status", aggfunc="first")
        .reindex(columns=list(columns))
    )
    for i, repo in enumerate(grid.index):
        for j, check_id in enumerate(grid.columns):
            status = grid.loc[repo, check_id]
            colour = STATUS_COLOURS.get(status, "#FFFFFF") if isinstance(status, str) else "white"
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=colour, edgecolor="white", lw=2))
            text = status if isinstance(status, str) else ""
            label = {"PASS": "yes", "FAIL": "no"}.get(text, text)
            ax.text(j + 0.5, i + 0.5, label, ha="center", va="center", color="white", fontsize=9)
    ax.set_xlim(0, len(grid.columns))
    ax.set_ylim(len(grid.index), 0)
    ax.set_xticks([j + 0.5 for j in range(len(grid.columns))], [columns[c] for c in grid.columns])
    ax.xaxis.tick_top()
    ax.set_yticks([i + 0.5 for i in range(len(grid.index))], list(grid.index), fontsize=9)
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    ax.set_xlabel("green: yes  ·  vermillion: no  ·  other colours: see the findings", fontsize=9)
    fig.tight_layout()
    return fig
