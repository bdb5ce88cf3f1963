"""Unit tests for the factor II checks (twelvefactor.checks.dependencies) and the local
repository reader (twelvefactor.collect.local), run through the engine.

Every check gets a PASS, a FAIL, an empty account (one SKIP from the engine) and a
could-not-evaluate case (an access-denied collection error on one of its catalog iam_actions, or
for the local checks a folder that could not be read: an ERROR, and no PASS).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fixtures import (
    ACCOUNT,
    OTHER_ACCOUNT,
    REGION,
    SALT,
    container,
    error,
    evidence,
    only,
    run,
    service,
    snapshot,
    statuses,
    td,
    td_arn,
)
from fixtures import settings as fixture_settings

from twelvefactor.catalog import load_catalog
from twelvefactor.checks import dependencies as deps
from twelvefactor.collect import local
from twelvefactor.collect.local import collect_repos, dockerfile_from_lines, requirement_unpinned
from twelvefactor.findings import Status
from twelvefactor.redaction import Redactor
from twelvefactor.snapshot import Snapshot

OTHER_REGION = "us-east-1"
ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DIGEST = "sha256:" + "ab" * 32
ACCOUNT_CHECKS = (
    "TF02-PRIVATE-REGISTRY",
    "TF02-IMAGE-PINNED",
    "TF02-TAG-IMMUTABILITY",
    "TF02-IMAGE-SCANNING",
    "TF02-NO-INSTALL-AT-START",
)
LOCAL_CHECKS = ("TF02-DOCKERFILE-PINNED", "TF02-DEPS-LOCKED", "TF02-DOTENV-IGNORED")
BASIC_ALL = {
    "scanType": "BASIC",
    "rules": [
        {
            "scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
        }
    ],
}
BASIC_NONE = {"scanType": "BASIC", "rules": []}
GIT = shutil.which("git")


# -- building snapshots --------------------------------------------------------------------------
def ecr_image(repository: str, tag: str = "", digest: str = "", host: str = ECR_HOST) -> str:
    return f"{host}/{repository}" + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def box(name: str, image: str, command: list[str] | None = None, entry: list[str] | None = None):
    """A container definition with ``image``, ``command`` and ``entryPoint``."""
    out = container(name, image=image)
    if command is not None:
        out["command"] = command
    if entry is not None:
        out["entryPoint"] = entry
    return out


def task(family: str, *containers: dict, revision: int = 1, region: str = REGION) -> dict:
    return td(family, revision, containers=list(containers), region=region)


def repository(
    name: str,
    mutability: str = "MUTABLE",
    scan_on_push: bool = False,
    region: str = REGION,
    exclusions: list[str] | None = None,
) -> dict[str, Any]:
    """A DescribeRepositories item with what the collector adds (lifecycle policy, tags)."""
    out: dict[str, Any] = {
        "repositoryArn": f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{name}",
        "registryId": ACCOUNT,
        "repositoryName": name,
        "repositoryUri": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{name}",
        "createdAt": "2024-05-01T10:00:00+00:00",
        "imageTagMutability": mutability,
        "imageScanningConfiguration": {"scanOnPush": scan_on_push},
        "encryptionConfiguration": {"encryptionType": "AES256"},
        "lifecyclePolicyText": None,
        "tags": [],
    }
    if exclusions:
        out["imageTagMutabilityExclusionFilters"] = [
            {"filter": f, "filterType": "WILDCARD"} for f in exclusions
        ]
    return out


def account(
    task_definitions: list[dict] = (),
    services: list[dict] = (),
    repositories: list[dict] = (),
    images: dict[str, list[dict] | None] | None = None,
    scanning: dict | None | str = "default",
    errors: list[dict] = (),
    regions: tuple[str, ...] = (REGION,),
    repos: dict | None = None,
) -> Snapshot:
    """A fixtures.snapshot plus ECR (per region of each repository) and local repositories."""
    snap = snapshot(
        task_definitions=task_definitions, services=services, errors=errors, regions=regions
    )
    redactor = Redactor(salt=SALT)
    for region in sorted(
        set(snap.regions) | {r["repositoryArn"].split(":")[3] for r in repositories}
    ):
        mine = [r for r in repositories if r["repositoryArn"].split(":")[3] == region]
        snap.data[(region, "ecr")] = redactor.tree(
            {
                "repositories": mine,
                "images": {
                    r["repositoryName"]: (images or {}).get(r["repositoryName"], []) for r in mine
                },
                "registry_scanning": BASIC_NONE if scanning == "default" else scanning,
            }
        )
    if repos is not None:
        snap.data[("local", "repos")] = redactor.tree(repos)
    return snap


def running(family: str, revision: int = 1, env: str = "production") -> dict:
    return service(f"shop-{env}", family.rsplit("-", 1)[0], td_arn(family, revision), env)


def assert_could_not_evaluate(findings, check_id: str, action: str, region: str = REGION):
    """An ERROR naming ``action`` (a catalog iam_action of the check) and no PASS."""
    assert action in load_catalog()[check_id].iam_actions
    assert all(f.status != Status.PASS for f in findings), findings
    assert all(f.status != Status.SKIP for f in findings), findings
    gap = only(f for f in findings if action in f.message and "Could not evaluate" in f.message)
    assert gap.status == Status.ERROR
    assert gap.region == region
    assert f"grant {action} to the audit role" in gap.message
    assert evidence(gap)["missing_action"] == action
    return gap


# -- the catalog and empty accounts --------------------------------------------------------------
def test_factor_ii_checks_are_catalogued_with_their_anchors():
    catalog = load_catalog()
    for check_id in ACCOUNT_CHECKS + LOCAL_CHECKS:
        assert catalog[check_id].factor == 2
    assert catalog["TF02-TAG-IMMUTABILITY"].related["securityhub"] == ("ECR.2",)
    assert catalog["TF02-IMAGE-SCANNING"].related["securityhub"] == ("ECR.1",)
    assert "ecr:GetRegistryScanningConfiguration" in catalog["TF02-IMAGE-SCANNING"].iam_actions
    assert "ecr:DescribeRepositories" in catalog["TF02-IMAGE-PINNED"].iam_actions


@pytest.mark.parametrize("check_id", ACCOUNT_CHECKS + LOCAL_CHECKS)
def test_empty_account_gives_one_skip(check_id):
    f = only(run(account(), check_id))
    assert f.status == Status.SKIP
    assert f.resource_id == "*"
    assert f.message.startswith("Nothing to evaluate")


@pytest.mark.parametrize("check_id", LOCAL_CHECKS)
def test_local_checks_skip_without_repo_paths_even_with_containers(check_id):
    snap = account([task("web-prod", box("app", "nginx:1.27"))])
    assert only(run(snap, check_id)).status == Status.SKIP


# -- TF02-PRIVATE-REGISTRY -----------------------------------------------------------------------
class TestPrivateRegistry:
    ID = "TF02-PRIVATE-REGISTRY"

    def test_sources(self):
        snap = account(
            [
                task(
                    "web-prod",
                    box("app", ecr_image("shop/web", "1.0")),
                    box("cache", ecr_image("docker-hub/library/redis", "7")),
                    box("otel", "public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1"),
                    box("proxy", "public.ecr.aws/nginx/nginx:1.27"),
                    box("db", "postgres:16"),
                    box("tool", "ghcr.io/acme/tool:2"),
                    box(
                        "shared",
                        ecr_image(
                            "base/py", "3", host=f"{OTHER_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
                        ),
                    ),
                )
            ],
            [running("web-prod")],
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "web-prod:1/app": Status.PASS,
            "web-prod:1/cache": Status.PASS,  # a pull-through cache of Docker Hub
            "web-prod:1/otel": Status.INFO,  # published by AWS
            "web-prod:1/proxy": Status.FAIL,  # ECR Public, not AWS's
            "web-prod:1/db": Status.FAIL,  # Docker Hub
            "web-prod:1/tool": Status.FAIL,  # another registry
            "web-prod:1/shared": Status.PASS,  # private ECR of another account
        }
        shared = only(f for f in findings if f.resource_id == "web-prod:1/shared")
        assert OTHER_ACCOUNT in shared.message and "us-east-1" in shared.message
        db = only(f for f in findings if f.resource_id == "web-prod:1/db")
        assert "Docker Hub" in db.message and db.severity == "medium"
        assert db.resource_type == "AwsEcsContainerDefinition"
        assert db.resource_arn == td_arn("web-prod")
        assert evidence(db) == {
            "image": "postgres:16",
            "source": "docker-hub",
            "registry": "docker.io",
            "in_use": True,
        }
        assert (db.application, db.environment) == ("web", "production")

    def test_latest_revision_not_in_use_is_judged_and_says_so(self):
        snap = account([task("web-prod", box("app", "nginx"), revision=3)])
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL and f.resource_id == "web-prod:3/app"
        assert evidence(f)["in_use"] is False

    def test_could_not_evaluate(self):
        snap = account(
            [task("web-prod", box("app", ecr_image("shop/web", "1.0")))],
            errors=[error("ecs", "DescribeTaskDefinition", resource=td_arn("web-prod"))],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:DescribeTaskDefinition")


# -- TF02-IMAGE-PINNED ---------------------------------------------------------------------------
class TestImagePinned:
    ID = "TF02-IMAGE-PINNED"

    def test_digest_or_immutable_tag_passes_anything_else_fails(self):
        repos = [
            repository("shop/web", "IMMUTABLE"),
            repository("shop/worker", "MUTABLE"),
            repository("shop/mixed", "IMMUTABLE_WITH_EXCLUSION", exclusions=["dev-*"]),
            repository("shop/loose", "MUTABLE_WITH_EXCLUSION", exclusions=["release-*"]),
        ]
        snap = account(
            [
                task(
                    "web-prod",
                    box("digest", ecr_image("shop/worker", digest=DIGEST)),
                    box("both", ecr_image("shop/worker", "1.0", DIGEST)),
                    box("immutable", ecr_image("shop/web", "git-8c01d4e")),
                    box("mutable", ecr_image("shop/worker", "1.0")),
                    box("latest", ecr_image("shop/web", "latest")),
                    box("untagged", ecr_image("shop/web")),
                    box("excluded", ecr_image("shop/mixed", "dev-42")),
                    box("kept", ecr_image("shop/mixed", "1.2.0")),
                    box("protected", ecr_image("shop/loose", "release-7")),
                    box("loose", ecr_image("shop/loose", "nightly")),
                    box("missing", ecr_image("shop/gone", "1.0")),
                    box("hub", "nginx:1.27"),
                    box("hub-digest", f"nginx@{DIGEST}"),
                )
            ],
            repositories=repos,
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "web-prod:1/digest": Status.PASS,
            "web-prod:1/both": Status.PASS,
            "web-prod:1/immutable": Status.PASS,
            "web-prod:1/mutable": Status.FAIL,
            "web-prod:1/latest": Status.FAIL,
            "web-prod:1/untagged": Status.FAIL,
            "web-prod:1/excluded": Status.FAIL,
            "web-prod:1/kept": Status.PASS,
            "web-prod:1/protected": Status.PASS,
            "web-prod:1/loose": Status.FAIL,
            "web-prod:1/missing": Status.FAIL,
            "web-prod:1/hub": Status.FAIL,
            "web-prod:1/hub-digest": Status.PASS,
        }
        by_id = {f.resource_id: f for f in findings}
        assert "no tag given" in by_id["web-prod:1/untagged"].message
        assert "no such repository" in by_id["web-prod:1/missing"].message
        assert evidence(by_id["web-prod:1/mutable"])["tag_mutability"] == "MUTABLE"
        assert by_id["web-prod:1/latest"].severity == "high"

    def test_tag_in_a_repository_outside_the_audit_fails(self):
        elsewhere = f"{OTHER_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
        snap = account([task("web-prod", box("app", ecr_image("base/py", "3.12", host=elsewhere)))])
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "outside this audit" in f.message

    def test_could_not_evaluate(self):
        snap = account(
            [task("web-prod", box("app", ecr_image("shop/web", "1.0")))],
            repositories=[],
            errors=[error("ecr", "DescribeRepositories")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecr:DescribeRepositories")
        own = only(f for f in findings if f.resource_id == "web-prod:1/app")
        assert own.status == Status.ERROR and "could not be listed" in own.message

    def test_digest_pass_is_not_trusted_when_task_definitions_failed(self):
        snap = account(
            [task("web-prod", box("app", ecr_image("shop/web", digest=DIGEST)))],
            errors=[error("ecs", "ListTaskDefinitions")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:ListTaskDefinitions")


# -- TF02-TAG-IMMUTABILITY -----------------------------------------------------------------------
class TestTagImmutability:
    ID = "TF02-TAG-IMMUTABILITY"

    def test_settings(self):
        snap = account(
            repositories=[
                repository("shop/web", "IMMUTABLE"),
                repository("shop/worker", "MUTABLE"),
                repository("shop/mixed", "IMMUTABLE_WITH_EXCLUSION", exclusions=["dev-*"]),
                repository("shop/loose", "MUTABLE_WITH_EXCLUSION", exclusions=["release-*"]),
                repository("docker-hub/library/redis", "MUTABLE"),
                repository("shop/odd", ""),
            ]
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "shop/web": Status.PASS,
            "shop/worker": Status.FAIL,
            "shop/mixed": Status.PASS,
            "shop/loose": Status.FAIL,
            "docker-hub/library/redis": Status.INFO,  # a pull-through cache follows upstream
            "shop/odd": Status.ERROR,
        }
        by_id = {f.resource_id: f for f in findings}
        assert "dev-*" in by_id["shop/mixed"].message
        assert "release-*" in by_id["shop/loose"].message
        assert by_id["shop/worker"].resource_type == "AwsEcrRepository"
        assert by_id["shop/worker"].resource_arn.endswith(":repository/shop/worker")
        assert evidence(by_id["shop/mixed"])["exclusions"] == ["dev-*"]

    def test_could_not_evaluate(self):
        snap = account(repositories=[], errors=[error("ecr", "DescribeRepositories")])
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "ecr:DescribeRepositories")

    def test_a_gap_in_one_region_leaves_the_other_region_judged(self):
        snap = account(
            repositories=[repository("shop/web", "IMMUTABLE", region=OTHER_REGION)],
            regions=(REGION, OTHER_REGION),
            errors=[error("ecr", "DescribeRepositories")],
        )
        findings = run(snap, self.ID)
        assert {(f.region, f.status) for f in findings} == {
            (REGION, Status.ERROR),
            (OTHER_REGION, Status.PASS),
        }


# -- TF02-IMAGE-SCANNING -------------------------------------------------------------------------
class TestImageScanning:
    ID = "TF02-IMAGE-SCANNING"

    def test_registry_rules_first_then_repository_setting(self):
        scanning = {
            "scanType": "BASIC",
            "rules": [
                {
                    "scanFrequency": "SCAN_ON_PUSH",
                    "repositoryFilters": [
                        {"filter": "prod", "filterType": "WILDCARD"},
                        {"filter": "shop/api-*", "filterType": "WILDCARD"},
                    ],
                }
            ],
        }
        snap = account(
            repositories=[
                repository("shop/catalog-prod"),  # "prod" without "*": contains
                repository("shop/api-orders"),  # "shop/api-*"
                repository("shop/web", scan_on_push=True),  # no rule: its own flag
                repository("shop/worker"),  # nothing
                repository("team/api-x"),  # "shop/api-*" must match the whole name
            ],
            scanning=scanning,
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "shop/catalog-prod": Status.PASS,
            "shop/api-orders": Status.PASS,
            "shop/web": Status.PASS,
            "shop/worker": Status.FAIL,
            "team/api-x": Status.FAIL,
        }
        by_id = {f.resource_id: f for f in findings}
        assert evidence(by_id["shop/catalog-prod"])["matched_filter"] == "prod"
        assert evidence(by_id["shop/web"])["decided_by"] == "repository setting"
        assert evidence(by_id["shop/worker"])["frequency"] == "MANUAL"
        assert by_id["shop/worker"].severity == "high"

    def test_enhanced_scanning_ignores_the_repository_flag_and_prefers_continuous(self):
        scanning = {
            "scanType": "ENHANCED",
            "rules": [
                {
                    "scanFrequency": "SCAN_ON_PUSH",
                    "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
                },
                {
                    "scanFrequency": "CONTINUOUS_SCAN",
                    "repositoryFilters": [{"filter": "prod-*", "filterType": "WILDCARD"}],
                },
            ],
        }
        snap = account(
            repositories=[repository("prod-api"), repository("dev-api", scan_on_push=True)],
            scanning=scanning,
        )
        findings = run(snap, self.ID)
        by_id = {f.resource_id: f for f in findings}
        assert evidence(by_id["prod-api"])["frequency"] == "CONTINUOUS_SCAN"
        assert evidence(by_id["dev-api"])["frequency"] == "SCAN_ON_PUSH"
        assert {f.status for f in findings} == {Status.PASS}

        only_prod = {"scanType": "ENHANCED", "rules": scanning["rules"][1:]}
        snap = account(repositories=[repository("dev-api", scan_on_push=True)], scanning=only_prod)
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "does not apply under enhanced scanning" in f.message

    def test_manual_rule_is_not_scanning(self):
        manual = {
            "scanType": "BASIC",
            "rules": [
                {
                    "scanFrequency": "MANUAL",
                    "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
                }
            ],
        }
        f = only(run(account(repositories=[repository("shop/web")], scanning=manual), self.ID))
        assert f.status == Status.FAIL

    def test_scan_results_are_shown_when_the_snapshot_has_them(self):
        images = {
            "shop/web": [
                {
                    "imageDigest": DIGEST,
                    "imageTags": ["1.0"],
                    "imageScanStatus": {"status": "COMPLETE"},
                    "imageScanFindingsSummary": {
                        "findingSeverityCounts": {"CRITICAL": 1, "HIGH": 3}
                    },
                },
                {"imageDigest": "sha256:" + "cd" * 32, "imageTags": ["0.9"]},
            ]
        }
        snap = account(repositories=[repository("shop/web")], images=images, scanning=BASIC_ALL)
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert evidence(f)["scan_results"] == {
            "images": 2,
            "images_scanned": 1,
            "findings": {"CRITICAL": 1, "HIGH": 3},
        }

    def test_could_not_evaluate(self):
        snap = account(
            repositories=[repository("shop/web", scan_on_push=True)],
            scanning=None,
            errors=[error("ecr", "GetRegistryScanningConfiguration")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecr:GetRegistryScanningConfiguration")
        own = only(f for f in findings if f.resource_id == "shop/web")
        assert own.status == Status.ERROR

    @pytest.mark.parametrize(
        ("pattern", "name", "contains", "expected"),
        [
            ("prod", "repo-prod-repo", True, True),
            ("*prod", "repo-prod", True, True),
            ("*prod", "prod-repo", True, False),
            ("prod*", "prodrepo", True, True),
            ("prod*repo", "prod-repo", True, True),
            ("prod*repo", "repo-prod", True, False),
            ("*", "anything", True, True),
            ("dev-*", "dev-42", False, True),
            ("latest", "not-latest", False, False),
            ("v1.2", "v1x2", False, False),
        ],
    )
    def test_wildcard_filters_follow_the_ecr_documentation(self, pattern, name, contains, expected):
        assert deps.wildcard(pattern, name, contains_without_star=contains) is expected


# -- TF02-NO-INSTALL-AT-START --------------------------------------------------------------------
class TestNoInstallAtStart:
    ID = "TF02-NO-INSTALL-AT-START"

    def test_commands(self):
        snap = account(
            [
                task(
                    "worker-prod",
                    box(
                        "pip", "img", ["sh", "-c", "pip install -r requirements.txt && python w.py"]
                    ),
                    box("npm", "img", ["npm", "ci"], entry=["/bin/sh", "-c"]),
                    box("apt", "img", ["bash", "-c", "apt-get -y install curl; ./run"]),
                    box("curl", "img", ["sh", "-c", "curl -fsSL https://get.example.sh | sh"]),
                    box("clean", "img", ["gunicorn", "app.wsgi"]),
                    box("pipx", "img", ["python", "-m", "pip", "--quiet", "install", "x"]),
                    box("image-default", "img"),
                )
            ]
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "worker-prod:1/pip": Status.FAIL,
            "worker-prod:1/npm": Status.FAIL,
            "worker-prod:1/apt": Status.FAIL,
            "worker-prod:1/curl": Status.FAIL,
            "worker-prod:1/clean": Status.PASS,
            "worker-prod:1/pipx": Status.FAIL,
            "worker-prod:1/image-default": Status.INFO,
        }
        npm = only(f for f in findings if f.resource_id == "worker-prod:1/npm")
        assert evidence(npm)["installs"] == ["npm install"]
        assert evidence(npm)["entry_point"] == "/bin/sh -c"
        assert npm.severity == "high"

    @pytest.mark.parametrize(
        ("command", "expected"),
        [
            ("pip3 install --no-cache-dir flask", ["pip install"]),
            ("yarn install --frozen-lockfile && node .", ["yarn install"]),
            ("pnpm i && node .", ["pnpm install"]),
            ("apk add --no-cache curl", ["apk add"]),
            ("dnf install -y git", ["yum / dnf install"]),
            ("gem install rails", ["gem install"]),
            ("bundle install && rails s", ["bundle install"]),
            ("composer install && php-fpm", ["composer install"]),
            ("go get ./... && ./app", ["go get / go install"]),
            ("wget -qO- https://x.example/i.sh | bash", ["curl | sh"]),
            ("uv sync && uv run app", ["uv pip install / uv sync"]),
            ("python app.py --install-dir /tmp", []),
            ("echo pip is not run here", []),
            ("npm start", []),
            ("curl -f http://localhost/health", []),
        ],
    )
    def test_installers(self, command, expected):
        assert deps.installers(command) == expected

    def test_could_not_evaluate(self):
        snap = account(
            [task("worker-prod", box("clean", "img", ["gunicorn", "app.wsgi"]))],
            [running("worker-prod")],
            errors=[error("ecs", "ListClusters")],
        )
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "ecs:ListClusters")


# -- the local repository reader -----------------------------------------------------------------
def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


GOOD = {
    "Dockerfile": "FROM python:3.12-slim@" + DIGEST + '\nCMD ["python", "app.py"]\n',
    "requirements.txt": "flask==3.0.3\nrequests==2.32.3 --hash=sha256:" + "1" * 64 + "\n",
    ".gitignore": ".env\n.env.*\n!.env.example\n",
    ".env.example": "PORT=8080\n",
}
BAD = {
    "Dockerfile": "FROM node:latest\nRUN npm install\n",
    "package.json": json.dumps({"name": "bad", "dependencies": {"express": "^4.19.2"}}),
    ".gitignore": "node_modules/\n",
}


def repos_of(*folders: Path) -> dict[str, Any]:
    return collect_repos([str(f) for f in folders])


def one(folder: Path) -> dict[str, Any]:
    return repos_of(folder)["repositories"][0]


class TestDockerfiles:
    def test_from_lines(self):
        text = f"""
        # syntax=docker/dockerfile:1
        ARG BASE=python:3.12-slim@{DIGEST}
        ARG TAG
        FROM --platform=$BUILDPLATFORM golang:1.22 AS build
        RUN go build ./...
        FROM ${{BASE}} AS runtime
        FROM build AS test
        FROM scratch
        FROM gcr.io/distroless/static:${{TAG}}
        FROM alpine:${{VERSION:-3.20}} \\
            AS tools
        COPY --from=build /app /app
        """.replace("        ", "")
        stages = dockerfile_from_lines(text)
        assert [(s["image"], s["pinned"], s["alias"], s["unresolved"]) for s in stages] == [
            ("golang:1.22", False, "build", False),
            (f"python:3.12-slim@{DIGEST}", True, "runtime", False),
            ("gcr.io/distroless/static:${TAG}", False, "", True),
            ("alpine:3.20", False, "tools", False),
        ]
        assert stages[0]["line"] == 5

    def test_args_after_the_first_from_do_not_reach_later_froms(self):
        text = "FROM scratch\nARG TAG=1.0\nFROM\talpine:${TAG}\n"
        (stage,) = dockerfile_from_lines(text)
        assert (stage["image"], stage["unresolved"]) == ("alpine:${TAG}", True)

    def test_dockerfile_names(self):
        assert local.is_dockerfile("Dockerfile")
        assert local.is_dockerfile("Dockerfile.prod")
        assert local.is_dockerfile("api.Dockerfile")
        assert local.is_dockerfile("Containerfile")
        assert not local.is_dockerfile("dockerfile-notes.md")


class TestRequirements:
    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("flask==3.0.3", False),
            ("Flask == 3.0.3  # web", False),
            ("psycopg[binary]==3.1.19 ; python_version >= '3.11'", False),
            ("requests==2.32.3 --hash=sha256:abc", False),
            ("pkg===1.0", False),
            ("flask>=3", True),
            ("flask~=3.0", True),
            ("flask==3.*", True),
            ("flask!=3.0", True),
            ("flask", True),
            ("flask>=3,==3.0.3", True),
            ("-e .", None),
            ("-e git+https://github.com/acme/lib.git#egg=lib", True),
            ("--editable=git+https://github.com/acme/lib.git@" + "a" * 40 + "#egg=lib", False),
            ("lib @ https://files.example/lib-1.0.whl#sha256=" + "b" * 64, False),
            ("lib @ git+https://github.com/acme/lib.git@main", True),
            ("-r base.txt", None),
            ("--index-url https://pypi.example/simple", None),
            ("# a comment", None),
            ("", None),
            ("./vendor/lib", None),
        ],
    )
    def test_requirement_lines(self, line, expected):
        assert requirement_unpinned(line) is expected

    def test_includes_are_followed_and_credentials_never_kept(self, tmp_path):
        secret = "tok3n-Very-Private-99"
        write(
            tmp_path,
            {
                "requirements.txt": "-r requirements/base.txt\nflask==3.0.3\n",
                "requirements/base.txt": (
                    "requests>=2\n"
                    f"-e git+https://ci:{secret}@git.example/acme/lib.git#egg=lib\n"
                    "jinja2==3.1.4 \\\n    --hash=sha256:" + "2" * 64 + "\n"
                ),
            },
        )
        repo = one(tmp_path)
        manifest = only_manifest(repo, "requirements.txt")
        assert manifest["locked"] is False
        assert manifest["unpinned"][0] == "requirements/base.txt: requests>=2"
        assert len(manifest["unpinned"]) == 2
        assert secret not in json.dumps(repo)
        # the nested file is a requirements file, not named requirements.txt: only via -r
        assert [m["path"] for m in repo["manifests"]] == ["requirements.txt"]

    def test_constraints_pin_what_they_name(self, tmp_path):
        write(
            tmp_path,
            {
                "requirements.txt": "-c constraints.txt\nflask\nJinja2>=3\nrequests\n",
                "constraints.txt": "flask==3.0.3\njinja2==3.1.4\n",
            },
        )
        manifest = only_manifest(one(tmp_path), "requirements.txt")
        assert manifest["unpinned"] == ["requests"]


def only_manifest(repo: dict, path: str) -> dict:
    (m,) = [m for m in repo["manifests"] if m["path"] == path]
    return m


class TestManifests:
    def test_ecosystems_and_their_locks(self, tmp_path):
        write(
            tmp_path,
            {
                # a node workspace: the lock file at the root covers the packages below it
                "package.json": json.dumps({"private": True, "workspaces": ["packages/*"]}),
                "package-lock.json": "{}",
                "packages/api/package.json": json.dumps({"dependencies": {"express": "^4"}}),
                # python: poetry with its lock; Pipfile without
                "svc/pyproject.toml": (
                    '[tool.poetry.dependencies]\npython = "^3.12"\nflask = "^3"\n'
                ),
                "svc/poetry.lock": "",
                "legacy/Pipfile": "[packages]\nflask = '*'\n",
                # pyproject used only for tools: nothing to lock
                "tools/pyproject.toml": "[tool.ruff]\nline-length = 100\n",
                "go/go.mod": "module example.com/x\n\ngo 1.22\n\nrequire github.com/a/b v1.2.3\n",
                "go/go.sum": "",
                "ruby/Gemfile": "source 'https://rubygems.org'\ngem 'rails'\n",
                "java/pom.xml": (
                    "<project><version>1.0-SNAPSHOT</version><dependencies>"
                    "<dependency><artifactId>a</artifactId><version>1.2.3</version></dependency>"
                    "<dependency><artifactId>b</artifactId><version>[1.0,2.0)</version></dependency>"
                    "</dependencies></project>"
                ),
                "gradle/build.gradle": "dependencies {\n implementation 'com.acme:lib:1.+'\n}\n",
                "rust/Cargo.toml": '[package]\nname = "x"\n[dependencies]\nserde = "1"\n',
                "rust/Cargo.lock": "",
                "node_modules/left-pad/package.json": json.dumps({"dependencies": {"x": "*"}}),
            },
        )
        repo = one(tmp_path)
        got = {m["path"]: (m["ecosystem"], m["locked"]) for m in repo["manifests"]}
        assert got == {
            "package.json": ("node", True),  # declares nothing itself
            "packages/api/package.json": ("node", True),
            "svc/pyproject.toml": ("python", True),
            "legacy/Pipfile": ("python", False),
            "tools/pyproject.toml": ("python", True),
            "go/go.mod": ("go", True),
            "ruby/Gemfile": ("ruby", False),
            "java/pom.xml": ("maven", False),
            "gradle/build.gradle": ("gradle", False),
            "rust/Cargo.toml": ("rust", True),
        }
        assert only_manifest(repo, "packages/api/package.json")["lock_files"] == [
            "package-lock.json"
        ]
        assert only_manifest(repo, "java/pom.xml")["unpinned"] == ["[1.0,2.0)"]
        assert only_manifest(repo, "tools/pyproject.toml")["declares_dependencies"] is False

    def test_unparsable_manifest_is_treated_as_declaring(self, tmp_path):
        write(tmp_path, {"package.json": "{not json"})
        repo = one(tmp_path)
        assert only_manifest(repo, "package.json")["locked"] is False
        assert repo["errors"][0]["scope"] == "parse"


class TestIgnoreRules:
    @pytest.mark.parametrize(
        ("gitignore", "path", "ignored"),
        [
            (".env\n", ".env", True),
            (".env\n", "config/.env", True),
            ("/.env\n", "config/.env", False),
            (".env*\n!.env.example\n", ".env.example", False),
            (".env*\n!.env.example\n", ".env.local", True),
            ("*.env\n", ".env", True),
            ("*.env\n", "deploy/prod.env", True),
            ("config/\n", "config/.env", True),
            (".env/\n", ".env", False),  # a folder pattern does not ignore a file
            ("**/.env\n", "a/b/.env", True),
            ("secrets/*.env\n", "secrets/prod.env", True),
            ("secrets/*.env\n", "other/secrets/prod.env", False),
            ("# .env\n", ".env", False),
            ("", ".env", False),
        ],
    )
    def test_gitignore_patterns(self, tmp_path, gitignore, path, ignored):
        write(tmp_path, {".gitignore": gitignore})
        rules = local._ignore_rules(tmp_path, [".gitignore"], [])
        assert local.path_ignored(rules, path) is ignored

    def test_nested_gitignore_applies_below_its_folder(self, tmp_path):
        write(tmp_path, {".gitignore": "", "svc/.gitignore": ".env\n"})
        rules = local._ignore_rules(tmp_path, [".gitignore", "svc/.gitignore"], [])
        assert local.path_ignored(rules, "svc/.env")
        assert not local.path_ignored(rules, ".env")

    def test_env_files_found_examples_marked_virtualenv_skipped(self, tmp_path):
        write(
            tmp_path,
            {
                ".gitignore": ".env\n",
                ".env": "PORT=1\n",
                ".env.example": "PORT=\n",
                "deploy/prod.env": "PORT=2\n",
                ".envrc": "export PORT=3\n",
                ".env.d/not-an-env-file": "",
            },
        )
        write(tmp_path / "svc", {".env/pyvenv.cfg": "home = /usr/bin\n"})
        repo = one(tmp_path)
        assert [(f["path"], f["example"], f["ignored"]) for f in repo["env_files"]] == [
            (".env", False, True),
            (".env.example", True, False),
            (".envrc", False, False),
            ("deploy/prod.env", False, False),
        ]
        assert repo["dotenv_ignored"] is True

    def test_env_values_are_never_read(self, tmp_path, monkeypatch):
        write(tmp_path, {".env": "TOKEN=abc\n", ".gitignore": ".env\n"})
        opened = []
        real = local._read

        def spy(path, errors, rel):
            opened.append(rel)
            return real(path, errors, rel)

        monkeypatch.setattr(local, "_read", spy)
        one(tmp_path)
        assert ".env" not in opened


# -- the local checks ----------------------------------------------------------------------------
class TestLocalChecks:
    def test_good_and_bad_repositories(self, tmp_path):
        good = write(tmp_path / "orders-api", GOOD)
        bad = write(tmp_path / "payments-prod", BAD)
        snap = account(repos=repos_of(good, bad))
        results = {check_id: statuses(run(snap, check_id)) for check_id in LOCAL_CHECKS}
        assert results == {
            "TF02-DOCKERFILE-PINNED": {"orders-api": Status.PASS, "payments-prod": Status.FAIL},
            "TF02-DEPS-LOCKED": {"orders-api": Status.PASS, "payments-prod": Status.FAIL},
            "TF02-DOTENV-IGNORED": {"orders-api": Status.PASS, "payments-prod": Status.FAIL},
        }
        f = only(x for x in run(snap, "TF02-DOCKERFILE-PINNED") if x.resource_id == "payments-prod")
        assert "node:latest (Dockerfile:1)" in f.message
        assert (f.account, f.region, f.resource_type) == (ACCOUNT, "local", "LocalRepository")
        assert (f.application, f.environment) == ("payments", "production")
        deps_fail = only(x for x in run(snap, "TF02-DEPS-LOCKED") if x.status == Status.FAIL)
        assert "package.json has no lock file" in deps_fail.message

    def test_repository_without_dockerfile_or_manifest_is_info(self, tmp_path):
        empty = write(tmp_path / "docs", {"README.md": "hello\n", ".gitignore": ".env\n"})
        snap = account(repos=repos_of(empty))
        assert only(run(snap, "TF02-DOCKERFILE-PINNED")).status == Status.INFO
        assert only(run(snap, "TF02-DEPS-LOCKED")).status == Status.INFO
        assert only(run(snap, "TF02-DOTENV-IGNORED")).status == Status.PASS

    def test_env_file_present_and_not_ignored_fails_naming_it(self, tmp_path):
        repo = write(tmp_path / "svc", {".gitignore": ".env\n", "config/app.env": "X=1\n"})
        f = only(run(account(repos=repos_of(repo)), "TF02-DOTENV-IGNORED"))
        assert f.status == Status.FAIL and "config/app.env" in f.message

    def test_no_gitignore_at_all_fails(self, tmp_path):
        repo = write(tmp_path / "svc", {"app.py": ""})
        f = only(run(account(repos=repos_of(repo)), "TF02-DOTENV-IGNORED"))
        assert f.status == Status.FAIL and "no .gitignore" in f.message

    @pytest.mark.parametrize("check_id", LOCAL_CHECKS)
    def test_missing_folder_is_an_error_not_a_pass(self, tmp_path, check_id):
        snap = account(repos=repos_of(tmp_path / "gone"))
        f = only(run(snap, check_id))
        assert f.status == Status.ERROR
        assert "not a directory" in f.message

    def test_unreadable_dockerfile_is_an_error(self, tmp_path):
        repo = write(tmp_path / "svc", GOOD)
        (repo / "Dockerfile").unlink()
        (repo / "Dockerfile").symlink_to("/etc/hostname")
        f = only(run(account(repos=repos_of(repo)), "TF02-DOCKERFILE-PINNED"))
        assert f.status == Status.ERROR and "symbolic link" in f.message

    @pytest.mark.parametrize("check_id", LOCAL_CHECKS)
    def test_truncated_walk_never_passes(self, tmp_path, monkeypatch, check_id):
        monkeypatch.setattr(local, "MAX_FILES", 2)
        repo = write(tmp_path / "svc", GOOD)
        findings = run(account(repos=repos_of(repo)), check_id)
        assert all(f.status != Status.PASS for f in findings)

    @pytest.mark.parametrize("check_id", LOCAL_CHECKS)
    def test_aws_gaps_do_not_affect_local_checks(self, tmp_path, check_id):
        # local checks read files, not AWS: an AWS collection error leaves them alone
        repo = write(tmp_path / "svc", GOOD)
        snap = account(repos=repos_of(repo), errors=[error("sts", "GetCallerIdentity")])
        findings = run(snap, check_id)
        assert findings and all(f.status == Status.PASS for f in findings)

    def test_same_folder_names_are_told_apart(self, tmp_path):
        a = write(tmp_path / "team-a" / "api", GOOD)
        b = write(tmp_path / "team-b" / "api", BAD)
        names = [r["repository"] for r in repos_of(a, b)["repositories"]]
        assert names == ["team-a/api", "team-b/api"]


# -- git work trees ------------------------------------------------------------------------------
def git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, env=env, timeout=30
    )


@pytest.mark.skipif(GIT is None, reason="git is not installed")
class TestGitRepositories:
    def test_tracked_env_file_fails_even_when_ignored_now(self, tmp_path):
        repo = write(tmp_path / "payments", {".env": "PORT=1\n", "app.py": ""})
        git(repo, "init", "-q")
        git(repo, "add", ".env", "app.py")
        (repo / ".gitignore").write_text(".env\n")  # added too late: .env is tracked already
        raw = one(repo)
        assert raw["git"]["work_tree"] is True
        assert raw["env_files"] == [
            {"path": ".env", "example": False, "ignored": True, "tracked": True}
        ]
        f = only(run(account(repos=repos_of(repo)), "TF02-DOTENV-IGNORED"))
        assert f.status == Status.FAIL
        assert "committed to git: .env" in f.message
        assert evidence(f)["mode"] == "git work tree"

    def test_tracked_env_file_outside_the_walk_is_found(self, tmp_path):
        repo = write(tmp_path / "svc", {".gitignore": ".env\n", "vendor/cfg/.env": "X=1\n"})
        git(repo, "init", "-q")
        git(repo, "add", "-f", "vendor/cfg/.env", ".gitignore")
        f = only(run(account(repos=repos_of(repo)), "TF02-DOTENV-IGNORED"))
        assert f.status == Status.FAIL and "vendor/cfg/.env" in f.message

    def test_ignored_untracked_env_file_passes(self, tmp_path):
        repo = write(tmp_path / "orders-api", GOOD | {".env": "PORT=1\n"})
        git(repo, "init", "-q")
        git(repo, "add", ".gitignore", ".env.example", "Dockerfile")
        raw = one(repo)
        assert raw["dotenv_ignored"] is True
        assert {f["path"]: (f["ignored"], f["tracked"]) for f in raw["env_files"]} == {
            ".env": (True, False),
            ".env.example": (False, True),
        }
        f = only(run(account(repos=repos_of(repo)), "TF02-DOTENV-IGNORED"))
        assert f.status == Status.PASS

    def test_global_excludes_do_not_count(self, tmp_path, monkeypatch):
        home = write(tmp_path / "home", {".gitignore_global": ".env\n"})
        monkeypatch.setenv("HOME", str(home))
        git(home, "config", "--global", "core.excludesFile", str(home / ".gitignore_global"))
        repo = write(tmp_path / "svc", {"app.py": ""})
        git(repo, "init", "-q")
        assert one(repo)["dotenv_ignored"] is False

    def test_folder_inside_a_larger_work_tree_is_read_as_a_plain_folder(self, tmp_path):
        outer = write(tmp_path / "mono", {".gitignore": ".env\n", "svc/app.py": ""})
        git(outer, "init", "-q")
        raw = one(outer / "svc")
        assert raw["git"] == {"work_tree": False, "inside_work_tree": True, "available": True}
        assert raw["dotenv_ignored"] is False  # only its own ignore files count
        f = only(run(account(repos=repos_of(outer / "svc")), "TF02-DOTENV-IGNORED"))
        assert "inside another git work tree" in evidence(f)["mode"]

    def test_git_failure_is_an_error(self, tmp_path, monkeypatch):
        repo = write(tmp_path / "svc", GOOD)
        git(repo, "init", "-q")
        real = subprocess.run

        def slow(command, *args, **kwargs):
            if "ls-files" in command:
                raise subprocess.TimeoutExpired(command, local.GIT_TIMEOUT)
            return real(command, *args, **kwargs)

        monkeypatch.setattr(local.subprocess, "run", slow)
        f = only(run(account(repos=repos_of(repo)), "TF02-DOTENV-IGNORED"))
        assert f.status == Status.ERROR and "timed out" in f.message

    def test_git_missing_for_a_git_repository_is_an_error(self, tmp_path, monkeypatch):
        repo = write(tmp_path / "svc", GOOD)
        git(repo, "init", "-q")
        monkeypatch.setattr(local.shutil, "which", lambda name: None)
        f = only(run(account(repos=repos_of(repo)), "TF02-DOTENV-IGNORED"))
        assert f.status == Status.ERROR and "git is not installed" in f.message


# -- the demo fixtures ---------------------------------------------------------------------------
def test_demo_fixture_folders_hold_no_planted_secret_and_no_real_env_file():
    from twelvefactor.demo import load_scenario

    scenario = load_scenario()
    assert [Path(p).name for p in scenario.repo_paths] == ["orders-api", "payments", "workers"]
    for path in scenario.repo_paths:
        for file in Path(path).rglob("*"):
            if file.is_file():
                text = file.read_bytes().decode("utf-8", errors="replace")
                assert not any(s in text for s in scenario.planted_secrets), file
                assert not (local.is_env_file(file.name) and not local.is_env_example(file.name))


def test_evidence_tables_and_plots_on_a_small_account(tmp_path):
    from twelvefactor.workbook import Workbook

    snap = account(
        [task("web-prod", box("app", ecr_image("shop/web", "1.0")), box("db", "postgres:16"))],
        [running("web-prod")],
        repositories=[repository("shop/web", "IMMUTABLE", scan_on_push=True)],
        repos=repos_of(write(tmp_path / "web", GOOD)),
    )
    wb = Workbook(fixture_settings(regions=(REGION,)), snap)
    for check_id in ACCOUNT_CHECKS + LOCAL_CHECKS:
        table = wb.evidence(check_id)
        assert not table.empty, check_id
        assert "status" in table.columns
    assert list(wb.evidence("TF02-PRIVATE-REGISTRY")["resource_id"]) == [
        "web-prod:1/app",
        "web-prod:1/db",
    ]
    assert wb.plot("image-sources").axes
    assert wb.plot("ecr-repositories").axes


def test_evidence_tables_of_an_empty_account_keep_their_columns():
    from twelvefactor.workbook import Workbook

    wb = Workbook(fixture_settings(regions=(REGION,)), account())
    for check_id in ACCOUNT_CHECKS + LOCAL_CHECKS:
        table = wb.evidence(check_id)
        assert table.empty and "status" in table.columns, check_id
    assert wb.plot("image-sources").axes
    assert wb.plot("ecr-repositories").axes
