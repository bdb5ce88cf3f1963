"""Unit tests for the factor I checks (twelvefactor.checks.codebase), run through the engine.

Every check gets a PASS, a FAIL, an empty account (one SKIP from the engine) and a
could-not-evaluate case (an access-denied collection error on one of its catalog iam_actions:
an ERROR naming the action, and no PASS), plus the shapes real accounts have: sidecars,
pull-through caches, replicated repositories, images referenced by tag or by digest, builds that
name a branch instead of a commit, pipelines that only release.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fixtures import (
    ACCOUNT,
    OTHER_ACCOUNT,
    REGION,
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
from matplotlib.figure import Figure

from twelvefactor.catalog import load_catalog
from twelvefactor.checks.codebase import commit_of, sha_in_tag
from twelvefactor.findings import Status
from twelvefactor.redaction import Redactor
from twelvefactor.workbook import Workbook

OTHER_REGION = "us-east-1"
PUSHED = "2024-05-01T10:05:00+00:00"
CHECK_IDS = (
    "TF01-REPO-PER-APP",
    "TF01-APP-ONE-REPO",
    "TF01-IMAGE-TRACEABLE",
    "TF01-BUILD-FROM-VCS",
)
SHA = "3f2a9c1d8e4b7a6f5c3e2d1b0a9f8e7d6c5b4a39"


# -- local builders: ECR, CodeBuild, CodePipeline, CodeCommit in boto3's shapes -----------------
def uri(repository: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{repository}"


def digest(repository: str, tag: str) -> str:
    return "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()


def ecr(repository: str, tag: str = "", *, at: str = "", **kw: Any) -> str:
    """An ECR image reference: by tag (``tag``) or by the digest of the image tagged ``at``."""
    if at:
        return f"{uri(repository, **kw)}@{digest(repository, at)}"
    return f"{uri(repository, **kw)}:{tag}"


def box(name: str, image: str, *, essential: bool = True) -> dict[str, Any]:
    return container(name, image=image) | {"essential": essential}


def deployed_td(family: str, *containers: dict, revision: int = 1, region: str = REGION) -> dict:
    return td(family, revision, containers=list(containers), region=region)


def deploy(family: str, env: str, revision: int = 1, region: str = REGION) -> dict:
    """A service named like the family without its environment, in cluster shop-<env>."""
    name = family.rsplit("-", 1)[0]
    return service(f"shop-{env}", name, td_arn(family, revision, region), env)


def repository(name: str, region: str = REGION, tags: dict | None = None) -> dict[str, Any]:
    return {
        "repositoryArn": f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{name}",
        "registryId": ACCOUNT,
        "repositoryName": name,
        "repositoryUri": uri(name, region),
        "imageTagMutability": "MUTABLE",
        "imageScanningConfiguration": {"scanOnPush": False},
        "encryptionConfiguration": {"encryptionType": "AES256"},
        "lifecyclePolicyText": None,
        "tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }


def image(repository: str, *tags: str, pushed: str = PUSHED) -> dict[str, Any]:
    """A DescribeImages item; its digest is the one ``digest(repository, tags[0])`` gives."""
    return {
        "registryId": ACCOUNT,
        "repositoryName": repository,
        "imageDigest": digest(repository, tags[0]),
        "imageTags": list(tags),
        "imageSizeInBytes": 1500,
        "imagePushedAt": pushed,
    }


def project(
    name: str,
    source_type: str = "GITHUB",
    location: str = "https://github.com/shop/app.git",
    *,
    ecr_repository: str = "",
    buildspec: str = "buildspec.yml",
    region: str = REGION,
) -> dict[str, Any]:
    variables = [{"name": "ECR_REPOSITORY", "type": "PLAINTEXT", "value": ecr_repository}]
    return {
        "name": name,
        "arn": f"arn:aws:codebuild:{region}:{ACCOUNT}:project/{name}",
        "source": {"type": source_type, "location": location, "buildspec": buildspec},
        "environment": {
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "environmentVariables": variables if ecr_repository else [],
            "privilegedMode": True,
        },
        "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/codebuild-{name}",
        "tags": [],
    }


def build(
    project_name: str,
    source_version: str = "refs/heads/main",
    resolved: str = SHA,
    *,
    start: str = "2024-05-01T10:00:00+00:00",
    end: str = "2024-05-01T10:08:00+00:00",
    status: str = "SUCCEEDED",
) -> dict[str, Any]:
    out = {
        "id": f"{project_name}:0b6e2f0c",
        "projectName": project_name,
        "buildStatus": status,
        "sourceVersion": source_version,
        "initiator": "codepipeline/app",
        "startTime": start,
        "endTime": end,
    }
    if resolved:
        out["resolvedSourceVersion"] = resolved
    return out


def action(category: str, provider: str, **configuration: str) -> dict[str, Any]:
    return {
        "name": provider,
        "actionTypeId": {
            "category": category,
            "owner": "AWS",
            "provider": provider,
            "version": "1",
        },
        "configuration": configuration,
    }


def pipeline(
    name: str,
    source: dict | None = None,
    build_project: str = "",
    deploys: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    source = source or action(
        "Source",
        "CodeStarSourceConnection",
        FullRepositoryId="shop/app",
        BranchName="main",
        ConnectionArn=f"arn:aws:codestar-connections:{REGION}:{ACCOUNT}:connection/x",
    )
    stages = [{"name": "Source", "actions": [source]}]
    if build_project:
        stages.append(
            {"name": "Build", "actions": [action("Build", "CodeBuild", ProjectName=build_project)]}
        )
    if deploys:
        stages.append(
            {
                "name": "Deploy",
                "actions": [
                    action("Deploy", "ECS", ClusterName=c, ServiceName=s) for c, s in deploys
                ],
            }
        )
    return {"name": name, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/p", "stages": stages}


def shop(
    *,
    task_definitions=(),
    services=(),
    repositories=(),
    images=(),
    projects=(),
    builds=(),
    pipelines=(),
    code_repositories=None,
    errors=(),
    regions=(REGION,),
):
    """fixtures.snapshot plus ECR, CodeBuild, CodePipeline and CodeCommit data (in REGION unless
    an item's ARN says otherwise), with lists left None where an error entry says they failed."""
    errors = list(errors)
    snap = snapshot(
        task_definitions=task_definitions, services=services, errors=errors, regions=regions
    )

    def failed(region: str, service_name: str, operation: str) -> bool:
        return any(
            (e["region"], e["service"], e["operation"]) == (region, service_name, operation)
            for e in errors
        )

    def region_of_arn(arn: str) -> str:
        return arn.split(":")[3]

    redactor = Redactor(salt="t")
    for region in {*regions, *(r["repositoryArn"].split(":")[3] for r in repositories)}:
        repos = [r for r in repositories if region_of_arn(r["repositoryArn"]) == region]
        if failed(region, "ecr", "DescribeRepositories"):
            repos = []
        denied_images = {e["resource"] for e in errors if e["operation"] == "DescribeImages"}
        snap.data[(region, "ecr")] = redactor.tree(
            {
                "repositories": repos,
                "images": {
                    r["repositoryName"]: None
                    if r["repositoryArn"] in denied_images
                    or failed(region, "ecr", "DescribeImages")
                    else [i for i in images if i["repositoryName"] == r["repositoryName"]]
                    for r in repos
                },
            }
        )
        mine = [p for p in projects if region_of_arn(p["arn"]) == region]
        snap.data[(region, "codebuild")] = redactor.tree(
            {
                "projects": None if failed(region, "codebuild", "ListProjects") else mine,
                "builds": None
                if failed(region, "codebuild", "ListBuilds")
                else [b for b in builds if any(p["name"] == b["projectName"] for p in mine)],
            }
        )
        snap.data[(region, "codepipeline")] = {
            "pipelines": None
            if failed(region, "codepipeline", "ListPipelines")
            else (list(pipelines) if region == REGION else [])
        }
        snap.data[(region, "codecommit")] = {
            "repositories": None
            if code_repositories is None
            else [
                {"repositoryName": n, "Arn": f"arn:aws:codecommit:{region}:{ACCOUNT}:{n}"}
                for n in code_repositories
            ]
        }
    return snap


def assert_could_not_evaluate(findings, check_id: str, action_: str, region: str = REGION):
    """An ERROR naming ``action_`` (a catalog iam_action of the check) and no PASS."""
    assert action_ in load_catalog()[check_id].iam_actions
    assert all(f.status != Status.PASS for f in findings), findings
    assert all(f.status != Status.SKIP for f in findings), findings
    gap = only(f for f in findings if f.message.startswith(f"Could not evaluate: {action_}"))
    assert gap.status == Status.ERROR
    assert gap.region == region
    assert f"grant {action_} to the audit role" in gap.message
    assert evidence(gap)["missing_action"] == action_
    return gap


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_empty_account_gives_one_skip(check_id):
    f = only(run(shop(), check_id))
    assert f.status == Status.SKIP
    assert f.resource_id == "*"
    assert f.message.startswith("Nothing to evaluate")


def test_no_check_of_factor_i_needs_codecommit():
    # moto cannot list CodeCommit repositories: a check needing it would be ERROR on the demo
    for check_id in CHECK_IDS:
        meta = load_catalog()[check_id]
        assert meta.factor == 1
        assert not [a for a in meta.iam_actions if a.startswith("codecommit:")]


# -- TF01-REPO-PER-APP ----------------------------------------------------------------------
class TestRepoPerApp:
    ID = "TF01-REPO-PER-APP"

    def test_one_application_in_two_environments_passes(self):
        snap = shop(
            task_definitions=[
                deployed_td("orders-api-staging", box("app", ecr("shop/orders-api", "1.4.2"))),
                deployed_td("orders-api-prod", box("app", ecr("shop/orders-api", at="1.4.1"))),
            ],
            services=[
                deploy("orders-api-staging", "staging"),
                deploy("orders-api-prod", "production"),
            ],
            repositories=[repository("shop/orders-api")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "shop/orders-api"
        assert f.resource_arn == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop/orders-api"
        assert (f.application, f.environment) == ("orders-api", "production,staging")
        assert f.message == "Repository shop/orders-api feeds one application, orders-api."
        ev = evidence(f)
        assert ev["applications"] == {"orders-api": ["production", "staging"]}
        assert ev["task_definitions"] == ["orders-api-prod:1", "orders-api-staging:1"]

    def test_two_applications_sharing_a_repository_fail(self):
        snap = shop(
            task_definitions=[
                deployed_td(
                    "notifications-prod", box("worker", ecr("shop/shared-worker", "latest"))
                ),
                deployed_td("reports-prod", box("worker", ecr("shop/shared-worker", "2.3.0"))),
            ],
            services=[
                deploy("notifications-prod", "production"),
                deploy("reports-prod", "production"),
            ],
            repositories=[repository("shop/shared-worker")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.message == (
            "Repository shop/shared-worker feeds 2 applications: notifications, reports."
        )
        assert f.application == "notifications,reports"
        assert sorted(evidence(f)["images"]) == [
            "shop/shared-worker:2.3.0",
            "shop/shared-worker:latest",
        ]

    def test_shared_sidecar_is_not_counted(self):
        router = ecr("platform/log-router", "2.1")
        snap = shop(
            task_definitions=[
                deployed_td(
                    "orders-prod",
                    box("app", ecr("shop/orders", "1")),
                    box("log-router", router, essential=False),
                ),
                deployed_td(
                    "payments-prod",
                    box("app", ecr("shop/payments", "1")),
                    box("log-router", router, essential=False),
                ),
            ],
            services=[deploy("orders-prod", "production"), deploy("payments-prod", "production")],
        )
        assert statuses(run(snap, self.ID)) == {
            "shop/orders": Status.PASS,
            "shop/payments": Status.PASS,
        }

    def test_main_container_is_the_own_image_not_a_third_party_proxy_listed_first(self):
        snap = shop(
            task_definitions=[
                deployed_td("a-prod", box("nginx", "nginx:1.27"), box("app", ecr("shop/a", "1"))),
                deployed_td("b-prod", box("nginx", "nginx:1.27"), box("app", ecr("shop/a", "2"))),
            ],
            services=[deploy("a-prod", "production"), deploy("b-prod", "production")],
        )
        f = only(run(snap, self.ID))
        assert (f.resource_id, f.status) == ("shop/a", Status.FAIL)

    def test_main_container_named_like_the_application_wins(self):
        snap = shop(
            task_definitions=[
                deployed_td(
                    "orders-prod",
                    box("envoy", ecr("platform/envoy", "1")),
                    box("orders", ecr("shop/orders", "1")),
                ),
            ],
            services=[deploy("orders-prod", "production")],
        )
        assert statuses(run(snap, self.ID)) == {"shop/orders": Status.PASS}

    def test_pull_through_cache_and_public_images_are_not_judged(self):
        snap = shop(
            task_definitions=[
                deployed_td("a-prod", box("app", uri("docker-hub/library/nginx") + ":1.27")),
                deployed_td("b-prod", box("app", uri("docker-hub/library/nginx") + ":1.27")),
                deployed_td("c-prod", box("app", "public.ecr.aws/nginx/nginx:1.27")),
            ],
            services=[deploy(f"{x}-prod", "production") for x in "abc"],
        )
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_task_definitions_no_service_runs_and_unused_repositories_give_nothing(self):
        snap = shop(
            task_definitions=[
                deployed_td("orders-prod", box("app", ecr("shop/orders", "1"))),
                deployed_td("orders-migrate", box("migrate", ecr("shop/tools", "1"))),
                deployed_td("reports-prod", box("app", ecr("shop/tools", "1"))),
            ],
            services=[deploy("orders-prod", "production")],
            repositories=[repository("shop/orders"), repository("shop/unused")],
        )
        assert statuses(run(snap, self.ID)) == {"shop/orders": Status.PASS}

    def test_replicas_in_two_regions_are_one_repository(self):
        snap = shop(
            task_definitions=[
                deployed_td("a-prod", box("app", ecr("shop/a", "1"))),
                deployed_td(
                    "b-prod",
                    box("app", ecr("shop/a", "1", region=OTHER_REGION)),
                    region=OTHER_REGION,
                ),
            ],
            services=[
                deploy("a-prod", "production"),
                deploy("b-prod", "production", region=OTHER_REGION),
            ],
            regions=(REGION, OTHER_REGION),
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.region == f"{REGION},{OTHER_REGION}"

    def test_repository_of_another_account_is_judged_by_its_users_here(self):
        image_ = ecr("platform/app", "1", account=OTHER_ACCOUNT)
        snap = shop(
            task_definitions=[
                deployed_td("a-prod", box("app", image_)),
                deployed_td("b-prod", box("app", image_)),
            ],
            services=[deploy("a-prod", "production"), deploy("b-prod", "production")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.resource_arn == f"arn:aws:ecr:{REGION}:{OTHER_ACCOUNT}:repository/platform/app"

    def test_could_not_evaluate(self):
        snap = shop(
            task_definitions=[deployed_td("orders-prod", box("app", ecr("shop/orders", "1")))],
            services=[deploy("orders-prod", "production")],
            errors=[error("ecr", "DescribeRepositories")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecr:DescribeRepositories")
        tainted = only(f for f in findings if f.resource_id == "shop/orders")
        assert tainted.status == Status.ERROR

    def test_a_gap_in_another_region_taints_the_pass(self):
        # a second user of the repository may run in the region that could not be read
        snap = shop(
            task_definitions=[deployed_td("orders-prod", box("app", ecr("shop/orders", "1")))],
            services=[deploy("orders-prod", "production")],
            errors=[error("ecs", "ListServices", OTHER_REGION)],
            regions=(REGION, OTHER_REGION),
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:ListServices", OTHER_REGION)


# -- TF01-APP-ONE-REPO ----------------------------------------------------------------------
class TestAppOneRepo:
    ID = "TF01-APP-ONE-REPO"

    def app(self, staging: list[dict], prod: list[dict], **kw):
        return shop(
            task_definitions=[
                deployed_td("catalog-staging", *staging),
                deployed_td("catalog-prod", *prod),
            ],
            services=[deploy("catalog-staging", "staging"), deploy("catalog-prod", "production")],
            **kw,
        )

    def test_same_repository_everywhere_passes(self):
        snap = self.app(
            [box("app", ecr("shop/catalog", "3.2.0"))],
            [box("app", ecr("shop/catalog", at="3.1.0"))],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "catalog"
        assert f.resource_type == "Application"
        assert f.environment == "production,staging"
        assert f.message == (
            "Application catalog runs production and staging from the same repository "
            "(shop/catalog)."
        )
        assert evidence(f)["repositories"] == {
            "production": ["shop/catalog"],
            "staging": ["shop/catalog"],
        }

    def test_production_from_another_repository_fails(self):
        snap = self.app(
            [box("app", ecr("shop/catalog", "3.1.0"))],
            [box("app", ecr("shop/catalog-prod", "3.1.0"))],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.message == (
            "Application catalog runs different repositories in different environments: "
            "shop/catalog-prod in production; shop/catalog in staging."
        )

    def test_sidecars_may_differ(self):
        snap = self.app(
            [
                box("app", ecr("shop/catalog", "1")),
                box("xray", "amazon/aws-xray-daemon", essential=False),
            ],
            [box("app", ecr("shop/catalog", "1"))],
        )
        assert only(run(snap, self.ID)).status == Status.PASS

    def test_service_running_in_fewer_environments_is_not_a_fork(self):
        snap = shop(
            task_definitions=[
                deployed_td("catalog-staging", box("app", ecr("shop/catalog", "1"))),
                deployed_td("catalog-prod", box("app", ecr("shop/catalog", "1"))),
                td(
                    "indexer-staging",
                    containers=[box("app", ecr("shop/indexer", "1"))],
                    tags={"Application": "catalog", "Environment": "staging"},
                ),
            ],
            services=[
                deploy("catalog-staging", "staging"),
                deploy("catalog-prod", "production"),
                service("shop-staging", "indexer", td_arn("indexer-staging"), "staging"),
            ],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert "some of its services run in fewer environments" in f.message
        assert evidence(f)["repositories"]["staging"] == ["shop/catalog", "shop/indexer"]

    def test_replicas_in_another_region_are_the_same_repository(self):
        snap = shop(
            task_definitions=[
                deployed_td("catalog-staging", box("app", ecr("shop/catalog", "1"))),
                deployed_td(
                    "catalog-prod",
                    box("app", ecr("shop/catalog", "1", region=OTHER_REGION)),
                    region=OTHER_REGION,
                ),
            ],
            services=[
                deploy("catalog-staging", "staging"),
                deploy("catalog-prod", "production", region=OTHER_REGION),
            ],
            regions=(REGION, OTHER_REGION),
        )
        assert only(run(snap, self.ID)).status == Status.PASS

    def test_public_images_are_compared_by_registry_and_path(self):
        snap = self.app([box("web", "php:7.4-apache")], [box("web", "bitnami/php-fpm:7.4")])
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "docker.io/library/php in staging" in f.message

    def test_single_environment_gives_skip(self):
        snap = shop(
            task_definitions=[deployed_td("reports-prod", box("app", ecr("shop/reports", "1")))],
            services=[deploy("reports-prod", "production")],
        )
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_could_not_evaluate(self):
        snap = self.app(
            [box("app", ecr("shop/catalog", "1"))],
            [box("app", ecr("shop/catalog", "1"))],
            errors=[error("ecs", "DescribeServices", OTHER_REGION)],
            regions=(REGION, OTHER_REGION),
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:DescribeServices", OTHER_REGION)
        assert only(f for f in findings if f.resource_id == "catalog").status == Status.ERROR


# -- TF01-IMAGE-TRACEABLE -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tag", "sha"),
    [
        ("git-3f2a9c1", "3f2a9c1"),
        ("sha-1234567", "1234567"),
        ("commit.3f2a9c1d8e4b", "3f2a9c1d8e4b"),
        ("3f2a9c1", "3f2a9c1"),
        (SHA, SHA),
        ("1.4.2-3f2a9c1", "3f2a9c1"),
        ("v1.4.2+git.3f2a9c1", "3f2a9c1"),
        ("v1.4.2-4-g3f2a9c1", "3f2a9c1"),
        ("main-3f2a9c1-amd64", "3f2a9c1"),
        ("GIT-3f2a9c1", "3f2a9c1"),
    ],
)
def test_tags_naming_a_commit(tag, sha):
    assert sha_in_tag(tag) == sha


@pytest.mark.parametrize(
    "tag",
    [
        "latest",
        "3.1.0",
        "v2.0.0-rc1",
        "20240501",  # a date, all digits
        "1234567",  # a build number
        "deadbeef",  # a word made of a-f
        "3f2a9c",  # too short
        "sha256-" + "a1" * 32,  # a cosign signature tag
        "a1" * 21,  # 42 hexadecimal digits: longer than a commit
        "prod",
        "",
    ],
)
def test_tags_not_naming_a_commit(tag):
    assert sha_in_tag(tag) == ""


def test_commit_of_a_build():
    assert commit_of({"resolved_source_version": SHA, "source_version": "main"}) == SHA
    assert commit_of({"resolved_source_version": "", "source_version": SHA[:12]}) == SHA[:12]
    assert commit_of({"resolved_source_version": "", "source_version": "refs/heads/main"}) == ""


class TestImageTraceable:
    ID = "TF01-IMAGE-TRACEABLE"

    def orders(self, image_: str, *images_: dict, **kw):
        kw.setdefault("repositories", [repository("shop/orders")])
        return shop(
            task_definitions=[
                deployed_td("orders-staging", box("app", image_)),
                deployed_td("orders-prod", box("app", image_)),
            ],
            services=[deploy("orders-staging", "staging"), deploy("orders-prod", "production")],
            images=images_,
            **kw,
        )

    def test_image_by_digest_with_a_git_tag_passes(self):
        snap = self.orders(
            ecr("shop/orders", at="1.4.2"), image("shop/orders", "1.4.2", "git-3f2a9c1")
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "shop/orders@" + digest("shop/orders", "1.4.2")[:19]
        assert f.resource_type == "AwsEcrContainerImage"
        assert f.resource_arn == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop/orders"
        assert (f.application, f.environment) == ("orders", "production,staging")
        assert f.message.endswith("carries the tag git-3f2a9c1, which names commit 3f2a9c1.")
        ev = evidence(f)
        assert ev["route"] == "tag"
        assert ev["tags"] == ["1.4.2", "git-3f2a9c1"]
        assert ev["containers"] == ["orders-prod:1/app", "orders-staging:1/app"]

    def test_image_by_semver_tag_finds_the_git_tag_of_the_same_image(self):
        snap = self.orders(
            ecr("shop/orders", "1.4.2"), image("shop/orders", "1.4.2", "git-3f2a9c1")
        )
        f = only(run(snap, self.ID))
        assert (f.resource_id, f.status) == ("shop/orders:1.4.2", Status.PASS)

    def test_semver_only_image_pushed_by_hand_fails(self):
        snap = self.orders(ecr("shop/orders", "3.1.0"), image("shop/orders", "3.1.0"))
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.message == (
            "Nothing ties image shop/orders:3.1.0 to a commit: its tags (3.1.0) name no commit; "
            "no build project pushes to its repository, and no pipeline deploys its services."
        )
        assert evidence(f)["route"] == "none"

    def test_latest_pushed_by_a_build_of_a_commit_passes(self):
        snap = self.orders(
            ecr("shop/orders", "latest"),
            image("shop/orders", "latest"),
            projects=[project("orders-build", ecr_repository="shop/orders")],
            builds=[build("orders-build")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert "pushed by build orders-build:0b6e2f0c of orders-build" in f.message
        assert evidence(f)["commit"] == SHA

    def test_build_asked_for_a_commit_by_sha_counts(self):
        snap = self.orders(
            ecr("shop/orders", "latest"),
            image("shop/orders", "latest"),
            projects=[project("orders-build", ecr_repository=uri("shop/orders"))],
            builds=[build("orders-build", source_version=SHA[:12], resolved="")],
        )
        assert only(run(snap, self.ID)).status == Status.PASS

    def test_build_of_a_branch_without_resolved_commit_fails(self):
        snap = self.orders(
            ecr("shop/orders", "latest"),
            image("shop/orders", "latest"),
            projects=[project("orders-build", "CODECOMMIT", ecr_repository="shop/orders")],
            builds=[build("orders-build", resolved="")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "no recorded build of orders-build (CODECOMMIT) names a commit" in f.message
        assert evidence(f)["build_projects"] == [
            {"project": "orders-build", "source_type": "CODECOMMIT"}
        ]

    def test_build_that_ran_after_the_push_did_not_push_it(self):
        snap = self.orders(
            ecr("shop/orders", "latest"),
            image("shop/orders", "latest", pushed="2024-05-02T09:00:00+00:00"),
            projects=[project("orders-build", ecr_repository="shop/orders")],
            builds=[build("orders-build")],
        )
        assert only(run(snap, self.ID)).status == Status.FAIL

    def test_failed_build_does_not_count(self):
        snap = self.orders(
            ecr("shop/orders", "latest"),
            image("shop/orders", "latest"),
            projects=[project("orders-build", ecr_repository="shop/orders")],
            builds=[build("orders-build", status="FAILED")],
        )
        assert only(run(snap, self.ID)).status == Status.FAIL

    def test_build_without_source_does_not_trace_even_with_a_clone_in_its_buildspec(self):
        inline = (
            "version: 0.2\nphases:\n  build:\n    commands:\n      - git clone x .\n"
            "      - docker build -t shop/orders:latest .\n"
        )
        snap = self.orders(
            ecr("shop/orders", "latest"),
            image("shop/orders", "latest"),
            projects=[project("worker-build", "NO_SOURCE", "", buildspec=inline)],
            builds=[build("worker-build", source_version="", resolved="")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert evidence(f)["build_projects"] == [
            {"project": "worker-build", "source_type": "NO_SOURCE"}
        ]

    def test_deployed_by_a_pipeline_from_version_control_passes(self):
        snap = self.orders(
            ecr("shop/orders", "latest"),
            image("shop/orders", "latest"),
            pipelines=[
                pipeline(
                    "orders", deploys=(("shop-staging", "orders"), ("shop-production", "orders"))
                )
            ],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert evidence(f)["route"] == "pipeline"
        assert evidence(f)["deploys"] == ["shop-production/orders", "shop-staging/orders"]
        assert "pipeline orders deploys from shop/app/main" in f.message

    def test_pipeline_from_s3_does_not_trace(self):
        s3 = action("Source", "S3", S3Bucket="drops", S3ObjectKey="orders.zip")
        snap = self.orders(
            ecr("shop/orders", "latest"),
            image("shop/orders", "latest"),
            pipelines=[pipeline("orders", source=s3, deploys=(("shop-production", "orders"),))],
        )
        assert only(run(snap, self.ID)).status == Status.FAIL

    def test_image_gone_from_its_repository_fails(self):
        snap = self.orders(ecr("shop/orders", at="1.0.0"), image("shop/orders", "2.0.0"))
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "the image is no longer in repository shop/orders" in f.message

    def test_repository_that_does_not_exist_fails(self):
        snap = self.orders(ecr("shop/orders", "git-3f2a9c1"), repositories=[])
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "(the repository does not exist)" in f.message

    def test_images_of_other_accounts_or_regions_not_audited_skip(self):
        snap = self.orders(ecr("shop/orders", "1", account=OTHER_ACCOUNT))
        f = only(run(snap, self.ID))
        assert f.status == Status.SKIP
        assert OTHER_ACCOUNT in f.message
        snap = self.orders(ecr("shop/orders", "1", region=OTHER_REGION))
        assert OTHER_REGION in only(run(snap, self.ID)).message

    def test_third_party_main_container_is_info_and_sidecars_are_not_judged(self):
        snap = shop(
            task_definitions=[
                deployed_td("legacy-prod", box("web", "php:7.4-apache"), box("db", "mysql:5.7")),
                deployed_td(
                    "orders-prod",
                    box("app", ecr("shop/orders", "git-3f2a9c1")),
                    box("otel", "public.ecr.aws/aws-observability/otel:v1", essential=False),
                ),
            ],
            services=[deploy("legacy-prod", "production"), deploy("orders-prod", "production")],
            repositories=[repository("shop/orders")],
            images=[image("shop/orders", "git-3f2a9c1")],
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "php:7.4-apache": Status.INFO,
            "shop/orders:git-3f2a9c1": Status.PASS,
        }
        info = only(findings, Status.INFO)
        assert info.application == "legacy"
        assert evidence(info)["image_source"] == "docker-hub"

    def test_one_finding_per_image_not_per_container(self):
        snap = shop(
            task_definitions=[
                deployed_td("a-prod", box("app", ecr("shop/a", "1"))),
                deployed_td("a-staging", box("app", ecr("shop/a", "2"))),
                deployed_td("a-dev", box("app", ecr("shop/a", "2"))),
            ],
            services=[
                deploy("a-prod", "production"),
                deploy("a-staging", "staging"),
                deploy("a-dev", "development"),
            ],
            repositories=[repository("shop/a")],
            images=[image("shop/a", "1"), image("shop/a", "2", "git-3f2a9c1")],
        )
        assert statuses(run(snap, self.ID)) == {"shop/a:1": Status.FAIL, "shop/a:2": Status.PASS}

    def test_could_not_evaluate_images(self):
        arn = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop/orders"
        snap = self.orders(
            ecr("shop/orders", "1.4.2"),
            image("shop/orders", "1.4.2", "git-3f2a9c1"),
            errors=[error("ecr", "DescribeImages", resource=arn)],
        )
        findings = run(snap, self.ID)
        gap = only(f for f in findings if f.message.startswith("Could not evaluate"))
        assert gap.status == Status.ERROR
        assert "ecr:DescribeImages" in gap.message
        assert all(f.status != Status.PASS for f in findings)
        f = only(f for f in findings if f.resource_id == "shop/orders:1.4.2")
        assert f.status == Status.ERROR
        assert f.message == (
            "Could not decide whether image shop/orders:1.4.2 can be traced to a commit: "
            "its tags could not be read."
        )

    def test_could_not_evaluate_builds_is_error_not_fail(self):
        snap = self.orders(
            ecr("shop/orders", "latest"),
            image("shop/orders", "latest"),
            errors=[error("codebuild", "ListProjects")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "codebuild:ListProjects")
        f = only(f for f in findings if f.resource_id == "shop/orders:latest")
        assert f.status == Status.ERROR
        assert "the build projects and builds could not be read" in f.message

    def test_a_traceable_pass_is_not_trusted_when_its_region_has_a_gap(self):
        snap = self.orders(
            ecr("shop/orders", "git-3f2a9c1"),
            image("shop/orders", "git-3f2a9c1"),
            errors=[error("codepipeline", "ListPipelines")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "codepipeline:ListPipelines")
        assert only(f for f in findings if f.resource_id == "shop/orders:git-3f2a9c1").status == (
            Status.ERROR
        )


# -- TF01-BUILD-FROM-VCS --------------------------------------------------------------------
class TestBuildFromVcs:
    ID = "TF01-BUILD-FROM-VCS"

    @pytest.mark.parametrize(
        "kind",
        ["GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "CODECOMMIT", "GITLAB", "GITLAB_SELF_MANAGED"],
    )
    def test_version_control_sources_pass(self, kind):
        f = only(run(shop(projects=[project("orders-build", kind)]), self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "orders-build"
        assert f.resource_type == "AwsCodeBuildProject"
        assert f.resource_arn == f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/orders-build"
        assert f.application == "orders"
        assert f.message == (
            f"Build project orders-build builds from {kind} (https://github.com/shop/app.git)."
        )

    @pytest.mark.parametrize(
        ("kind", "location", "what"),
        [
            ("NO_SOURCE", "", "no source at all"),
            ("S3", "drops/orders.zip", "an S3 object (drops/orders.zip)"),
        ],
    )
    def test_no_source_and_s3_fail(self, kind, location, what):
        f = only(run(shop(projects=[project("worker-build", kind, location)]), self.ID))
        assert f.status == Status.FAIL
        assert f.message == (
            f"Build project worker-build builds from {what}, so no build records the commit it "
            "built."
        )
        assert evidence(f) == {"source_type": kind, "source_location": location}

    def test_pipeline_sourced_project_is_judged_by_its_pipeline(self):
        snap = shop(
            projects=[project("orders-build", "CODEPIPELINE", "")],
            pipelines=[pipeline("orders", build_project="orders-build")],
        )
        assert statuses(run(snap, self.ID)) == {
            "orders-build": Status.PASS,
            "orders": Status.PASS,
        }

    def test_pipeline_from_s3_fails_with_its_project(self):
        s3 = action("Source", "S3", S3Bucket="drops", S3ObjectKey="orders.zip")
        snap = shop(
            projects=[project("orders-build", "CODEPIPELINE", "")],
            pipelines=[pipeline("orders-pipeline", source=s3, build_project="orders-build")],
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "orders-build": Status.FAIL,
            "orders-pipeline": Status.FAIL,
        }
        pipe = only(f for f in findings if f.resource_id == "orders-pipeline")
        assert pipe.resource_type == "AwsCodePipelinePipeline"
        assert pipe.message == "Pipeline orders-pipeline builds from S3, not from version control."
        assert pipe.resource_arn == f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:orders-pipeline"

    def test_pipeline_sourced_project_no_pipeline_runs_skips(self):
        snap = shop(projects=[project("orders-build", "CODEPIPELINE", "")])
        f = only(run(snap, self.ID))
        assert f.status == Status.SKIP
        assert f.resource_id == "orders-build"

    def test_release_only_pipeline_from_ecr_is_info(self):
        ecr_source = action("Source", "ECR", RepositoryName="shop/orders", ImageTag="latest")
        snap = shop(
            pipelines=[
                pipeline("orders-release", source=ecr_source, deploys=(("shop-prod", "orders"),))
            ]
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.INFO
        assert "builds nothing" in f.message

    def test_codecommit_repository_is_enrichment_only(self):
        location = f"https://git-codecommit.{REGION}.amazonaws.com/v1/repos/payments"
        unknown = only(
            run(
                shop(
                    projects=[project("p", "CODECOMMIT", location)],
                    errors=[
                        error(
                            "codecommit",
                            "ListRepositories",
                            kind="unsupported",
                            code="NotImplementedError",
                        )
                    ],
                ),
                self.ID,
            )
        )
        assert unknown.status == Status.PASS  # codecommit is no iam_action of this check
        assert evidence(unknown)["codecommit_repository"] == "payments"
        assert evidence(unknown)["codecommit_repository_found"] == "unknown"
        found = only(
            run(
                shop(
                    projects=[project("p", "CODECOMMIT", location)], code_repositories=["payments"]
                ),
                self.ID,
            )
        )
        assert evidence(found)["codecommit_repository_found"] is True
        missing = only(
            run(
                shop(projects=[project("p", "CODECOMMIT", location)], code_repositories=["other"]),
                self.ID,
            )
        )
        assert missing.status == Status.PASS
        assert evidence(missing)["codecommit_repository_found"] is False

    def test_could_not_evaluate(self):
        snap = shop(
            projects=[project("orders-build")],
            pipelines=[pipeline("orders")],
            errors=[error("codebuild", "ListProjects")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "codebuild:ListProjects")
        assert only(f for f in findings if f.resource_id == "orders").status == Status.ERROR

    def test_pipelines_unreadable_leave_pipeline_sourced_projects_undecided(self):
        snap = shop(
            projects=[project("orders-build", "CODEPIPELINE", "")],
            errors=[error("codepipeline", "ListPipelines")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "codepipeline:ListPipelines")
        assert only(f for f in findings if f.resource_id == "orders-build").status == Status.ERROR


# -- evidence tables and the picture --------------------------------------------------------
def workbook(snap) -> Workbook:
    from fixtures import settings

    return Workbook(settings(regions=tuple(snap.regions)), snap)


def test_evidence_tables_and_codebase_map():
    snap = shop(
        task_definitions=[
            deployed_td("catalog-staging", box("app", ecr("shop/catalog", "3.1.0"))),
            deployed_td("catalog-prod", box("app", ecr("shop/catalog-prod", "3.1.0"))),
            deployed_td("reports-prod", box("app", ecr("shop/catalog", "3.1.0"))),
            deployed_td("legacy-prod", box("web", "php:7.4-apache")),
        ],
        services=[
            deploy("catalog-staging", "staging"),
            deploy("catalog-prod", "production"),
            deploy("reports-prod", "production"),
            deploy("legacy-prod", "production"),
        ],
        repositories=[repository("shop/catalog"), repository("shop/catalog-prod")],
        images=[image("shop/catalog", "3.1.0"), image("shop/catalog-prod", "3.1.0")],
        projects=[project("catalog-build", "NO_SOURCE", "")],
        pipelines=[pipeline("catalog")],
    )
    wb = workbook(snap)
    repos = wb.evidence("TF01-REPO-PER-APP")
    assert set(repos["repository"]) == {"shop/catalog", "shop/catalog-prod"}
    assert repos.set_index("task_definition")["applications_fed"]["reports-prod:1"] == 2
    apps = wb.evidence("TF01-APP-ONE-REPO")
    assert list(apps.columns) == ["application", "repositories", "production", "staging"]
    assert apps.set_index("application").loc["catalog", "repositories"] == 2
    images_ = wb.evidence("TF01-IMAGE-TRACEABLE")
    assert set(images_["status"]) == {"FAIL", "INFO"}
    builds_ = wb.evidence("TF01-BUILD-FROM-VCS")
    assert dict(zip(builds_["name"], builds_["status"], strict=True)) == {
        "catalog-build": "FAIL",
        "catalog": "PASS",
    }
    fig = wb.plot("codebase-map")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == 4  # one edge per application/environment and repository
    labels = {t.get_text() for t in ax.texts}
    assert {"catalog (staging)", "shop/catalog-prod", "docker.io/library/php"} <= labels


def test_codebase_map_of_an_empty_account():
    fig = workbook(shop()).plot("codebase-map")
    assert isinstance(fig, Figure)
