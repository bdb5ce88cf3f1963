"""Unit tests for the factor V checks (twelvefactor.checks.build_release_run), run through the
engine on fixture snapshots.

Every check gets a PASS, a FAIL, an empty account (one SKIP from the engine) and a
could-not-evaluate case (a collection error on one of its catalog iam_actions: an ERROR naming
the action, and no PASS), plus the edge cases real accounts have.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
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
    settings,
    snapshot,
    statuses,
    td,
    td_arn,
)

from twelvefactor.catalog import load_catalog
from twelvefactor.checks.build_release_run import MAX_REVISIONS_BEHIND, release_table
from twelvefactor.findings import Status
from twelvefactor.inventory import Inventory
from twelvefactor.redaction import Redactor
from twelvefactor.snapshot import Snapshot

OTHER_REGION = "us-east-1"
CHECK_IDS = (
    "TF05-RELEASE-CURRENT",
    "TF05-BUILT-BY-PIPELINE",
    "TF05-DEPLOYMENT-ROLLBACK",
    "TF05-LIFECYCLE-POLICY",
    "TF05-BUILD-NO-PLAINTEXT-CREDS",
)
# Fake credentials planted in raw data; none may reach a finding.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOCKER_PASSWORD = "dckr-Pw-Example-99f1"
KEEP_30 = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "keep the last 30 images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 30,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


BUILDSPEC = "version: 0.2\nphases:\n  build:\n    commands:\n      - {command}\n"


# -- local builders (boto3-shaped) -----------------------------------------------------------
def ecr_image(repo: str, tag: str = "git-3f2a9c1", region: str = REGION, account=ACCOUNT) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{repo}:{tag}"


def ecr_uri(repo: str, region: str = REGION) -> str:
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repo}"


def app_td(family: str, revision: int = 1, *images: str, region: str = REGION) -> dict:
    """A task definition with one container per image (app, sidecar1, ...)."""
    images = images or (ecr_image("shop/orders-api", region=region),)
    names = ["app"] + [f"sidecar{i}" for i in range(1, len(images))]
    return td(
        family,
        revision,
        containers=[container(n, image=i) for n, i in zip(names, images, strict=True)],
        region=region,
    )


def svc(
    cluster: str,
    name: str,
    task_definition: str,
    env: str | None = None,
    *,
    desired: int = 1,
    deployment: Mapping[str, Any] | None = None,
    controller: str | None = None,
    strategy: str = "REPLICA",
) -> dict:
    """A describe_services item with a deploymentConfiguration (when given) and controller."""
    out = service(cluster, name, task_definition, env)
    out |= {"desiredCount": desired, "runningCount": desired, "schedulingStrategy": strategy}
    if deployment is not None:
        out["deploymentConfiguration"] = dict(deployment)
    if controller:
        out["deploymentController"] = {"type": controller}
    out["deployments"] = [
        {"status": "PRIMARY", "taskDefinition": task_definition, "rolloutState": "COMPLETED"}
    ]
    return out


def breaker(rollback: bool = True, minimum: int = 100, maximum: int = 200) -> dict:
    return {
        "deploymentCircuitBreaker": {"enable": True, "rollback": rollback},
        "minimumHealthyPercent": minimum,
        "maximumPercent": maximum,
    }


def project(
    name: str,
    variables: Iterable[tuple[str, str, str]] = (),
    *,
    buildspec: str = "buildspec.yml",
    tags: Mapping[str, str] | None = None,
    region: str = REGION,
) -> dict:
    """A BatchGetProjects item; ``variables`` are (name, value, type)."""
    return {
        "name": name,
        "arn": f"arn:aws:codebuild:{region}:{ACCOUNT}:project/{name}",
        "source": {
            "type": "GITHUB",
            "location": f"https://github.com/shop/{name}.git",
            "buildspec": buildspec,
        },
        "artifacts": {"type": "NO_ARTIFACTS"},
        "environment": {
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "environmentVariables": [{"name": n, "value": v, "type": t} for n, v, t in variables],
            "privilegedMode": True,
        },
        "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/codebuild-{name}",
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
        "_region": region,
    }


def pipeline(name: str, deploys: Iterable[tuple[str, str]], build_project: str = "") -> dict:
    """A GetPipeline ``pipeline``: source, optional CodeBuild build, ECS deploy actions."""

    def action(category: str, provider: str, configuration: dict) -> dict:
        kind = {"category": category, "owner": "AWS", "provider": provider, "version": "1"}
        return {"name": provider, "actionTypeId": kind, "configuration": configuration}

    stages = [
        {
            "name": "Source",
            "actions": [
                action(
                    "Source",
                    "CodeStarSourceConnection",
                    {"FullRepositoryId": "shop/orders-api", "BranchName": "main"},
                )
            ],
        }
    ]
    if build_project:
        stages.append(
            {
                "name": "Build",
                "actions": [action("Build", "CodeBuild", {"ProjectName": build_project})],
            }
        )
    stages.append(
        {
            "name": "Deploy",
            "actions": [
                action("Deploy", "ECS", {"ClusterName": c, "ServiceName": s}) for c, s in deploys
            ],
        }
    )
    return {"name": name, "stages": stages}


def repository(
    name: str, lifecycle: str | None = None, images: int = 2, region: str = REGION, tags=None
) -> dict:
    """A DescribeRepositories item as the collector keeps it (lifecyclePolicyText, tags)."""
    return {
        "repositoryArn": f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{name}",
        "registryId": ACCOUNT,
        "repositoryName": name,
        "repositoryUri": ecr_uri(name, region),
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfiguration": {"encryptionType": "AES256"},
        "lifecyclePolicyText": lifecycle,
        "tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "_region": region,
        "_images": images,
    }


def account(
    *,
    task_definitions: Iterable[dict] = (),
    services: Iterable[dict] = (),
    projects: Iterable[dict] | None = (),
    pipelines: Iterable[dict] | None = (),
    repositories: Iterable[dict] | None = (),
    errors: Iterable[dict] = (),
    active: Mapping[str, list[str] | None] | None = None,
    regions: Iterable[str] = (REGION,),
) -> Snapshot:
    """fixtures.snapshot plus CodeBuild, CodePipeline and ECR data, redacted the same way.

    ``active`` overrides a region's ACTIVE task definition ARNs (None: not listed); ``None``
    for projects, pipelines or repositories leaves that listing None, as a failed collection does.
    """
    snap = snapshot(
        task_definitions=task_definitions, services=services, errors=errors, regions=regions
    )
    redactor = Redactor(salt=SALT)
    for region in snap.regions:
        data: dict[tuple[str, str], dict[str, Any]] = {
            (region, "codebuild"): {
                "projects": None
                if projects is None
                else [
                    {k: v for k, v in p.items() if k != "_region"}
                    for p in projects
                    if p["_region"] == region
                ],
                "builds": [],
            },
            (region, "codepipeline"): {
                "pipelines": None
                if pipelines is None
                else list(pipelines)
                if region == REGION
                else []
            },
            (region, "ecr"): {
                "repositories": None
                if repositories is None
                else [
                    {k: v for k, v in r.items() if not k.startswith("_")}
                    for r in repositories
                    if r["_region"] == region
                ],
                "images": {
                    r["repositoryName"]: [
                        {"imageDigest": f"sha256:{i:064x}"} for i in range(r["_images"])
                    ]
                    for r in repositories or []
                    if r["_region"] == region
                },
            },
        }
        snap.data.update({key: redactor.tree(payload) for key, payload in data.items()})
    for region, arns in (active or {}).items():
        snap.data.setdefault((region, "ecs"), {})["active_task_definition_arns"] = arns
    return snap


def assert_could_not_evaluate(findings, check_id: str, action: str, region: str = REGION):
    """An ERROR naming ``action`` (a catalog iam_action of the check) and no PASS."""
    assert action in load_catalog()[check_id].iam_actions
    assert all(f.status != Status.PASS for f in findings), findings
    gap = only(f for f in findings if action in f.message)
    assert gap.status == Status.ERROR
    assert gap.region == region
    assert gap.message.startswith(f"Could not evaluate: {action} failed in {region}")
    assert evidence(gap)["missing_action"] == action
    return gap


def no_planted_values(findings, *values: str) -> None:
    text = json.dumps([f.__dict__ for f in findings], default=str)
    for value in values:
        assert value not in text


# -- all checks ------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_empty_account_gives_one_skip(check_id):
    f = only(run(account(), check_id))
    assert f.status == Status.SKIP
    assert f.resource_id == "*"
    assert f.message.startswith("Nothing to evaluate")


def test_every_factor_v_check_is_catalogued_with_its_anchors():
    catalog = load_catalog()
    for check_id in CHECK_IDS:
        assert catalog[check_id].factor == 5
    assert catalog["TF05-LIFECYCLE-POLICY"].related["securityhub"] == ("ECR.3",)
    assert catalog["TF05-BUILD-NO-PLAINTEXT-CREDS"].related["securityhub"] == ("CodeBuild.2",)
    assert catalog["TF05-BUILD-NO-PLAINTEXT-CREDS"].severity == "critical"
    assert catalog["TF05-DEPLOYMENT-ROLLBACK"].severity == "high"


# -- TF05-RELEASE-CURRENT --------------------------------------------------------------------
class TestReleaseCurrent:
    ID = "TF05-RELEASE-CURRENT"

    def family(self, revisions: int, running: int, **kw) -> Snapshot:
        tds = [app_td("catalog-prod", r) for r in range(1, revisions + 1)]
        return account(
            task_definitions=tds,
            services=[svc("shop-prod", "catalog", td_arn("catalog-prod", running), "production")],
            **kw,
        )

    def test_latest_revision_passes(self):
        f = only(run(self.family(3, 3), self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "shop-prod/catalog"
        assert f.resource_type == "AwsEcsService"
        assert f.resource_arn.endswith(":service/shop-prod/catalog")
        assert "catalog-prod:3, the latest ACTIVE revision" in f.message

    def test_within_the_threshold_passes_and_says_so(self):
        f = only(run(self.family(1 + MAX_REVISIONS_BEHIND, 1), self.ID))
        assert f.status == Status.PASS
        assert f"{MAX_REVISIONS_BEHIND} behind" in f.message
        assert evidence(f)["revisions_behind"] == MAX_REVISIONS_BEHIND

    def test_beyond_the_threshold_fails(self):
        f = only(run(self.family(5, 1), self.ID))
        assert f.status == Status.FAIL
        assert "4 revisions behind the latest ACTIVE revision 5" in f.message
        assert evidence(f)["active_revisions"] == "1-5"

    def test_a_deregistered_running_revision_fails_even_when_behind_is_negative(self):
        # revisions 1..3 registered, 3 (the running one) deregistered: behind would be -1
        snap = self.family(3, 3, active={REGION: [td_arn("catalog-prod", r) for r in (1, 2)]})
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "deregistered" in f.message
        assert evidence(f)["running_deregistered"] is True

    def test_a_deregistered_running_revision_fails_when_the_family_has_none_active(self):
        snap = self.family(1, 1, active={REGION: []})
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "deregistered" in f.message

    def test_deregistered_gaps_in_the_ledger_do_not_matter(self):
        # :2 was deregistered; the service runs :3 of ACTIVE 1, 3
        active = {REGION: [td_arn("catalog-prod", 1), td_arn("catalog-prod", 3)]}
        f = only(run(self.family(3, 3, active=active), self.ID))
        assert f.status == Status.PASS
        assert evidence(f)["active_revisions"] == "1, 3"

    def test_same_service_name_in_two_clusters_gives_two_findings(self):
        snap = account(
            task_definitions=[
                app_td("api-staging", 1),
                app_td("api-prod", 1),
                app_td("api-prod", 2),
            ],
            services=[
                svc("shop-staging", "api", td_arn("api-staging", 1), "staging"),
                svc("shop-prod", "api", td_arn("api-prod", 2), "production"),
            ],
        )
        assert statuses(run(snap, self.ID)) == {
            "shop-staging/api": Status.PASS,
            "shop-prod/api": Status.PASS,
        }

    def test_a_service_without_a_task_definition_is_skipped(self):
        snap = self.family(1, 1)
        raw = snap.data[(REGION, "ecs")]["services"][0]
        raw.pop("taskDefinition")
        raw["deploymentController"] = {"type": "EXTERNAL"}
        f = only(run(snap, self.ID))
        assert f.status == Status.SKIP
        assert "EXTERNAL" in f.message

    def test_could_not_list_active_revisions(self):
        snap = self.family(
            5,
            1,
            errors=[error("ecs", "ListTaskDefinitions")],
            active={REGION: None},
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:ListTaskDefinitions")
        service_finding = only(f for f in findings if f.resource_id == "shop-prod/catalog")
        assert service_finding.status == Status.ERROR  # neither PASS nor a FAIL on no evidence

    def test_access_denied_elsewhere_taints_no_other_region(self):
        snap = account(
            task_definitions=[app_td("api-prod", 1)],
            services=[svc("shop-prod", "api", td_arn("api-prod", 1), "production")],
            errors=[error("ecs", "DescribeServices", OTHER_REGION)],
            regions=(REGION, OTHER_REGION),
        )
        findings = run(snap, self.ID, settings(regions=(REGION, OTHER_REGION)))
        assert only(f for f in findings if f.resource_id == "shop-prod/api").status == Status.PASS
        gap = assert_could_not_evaluate_some(findings, self.ID, "ecs:DescribeServices")
        assert gap.region == OTHER_REGION

    def test_release_table_shows_registered_at_when_described(self):
        inv = Inventory(self.family(3, 1), settings())
        row = release_table(inv).iloc[0]
        assert row["running_revision"] == 1 and row["latest_revision"] == 3
        assert row["running_registered_at"] and row["latest_registered_at"]
        assert row["rollout_state"] == "COMPLETED"


# -- TF05-BUILT-BY-PIPELINE ------------------------------------------------------------------
class TestBuiltByPipeline:
    ID = "TF05-BUILT-BY-PIPELINE"

    def one(self, *images: str, **kw) -> Snapshot:
        return account(
            task_definitions=[app_td("orders-api-prod", 1, *images)],
            services=[svc("shop-prod", "orders-api", td_arn("orders-api-prod"), "production")],
            **kw,
        )

    def test_a_pipeline_deploying_the_service_passes(self):
        snap = self.one(
            pipelines=[pipeline("orders-api", [("shop-prod", "orders-api")], "orders-api-build")]
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert "deployed by pipeline orders-api" in f.message
        assert "orders-api-build" in f.message

    def test_a_pipeline_for_another_cluster_does_not_count(self):
        snap = self.one(pipelines=[pipeline("orders-api", [("shop-staging", "orders-api")])])
        assert only(run(snap, self.ID)).status == Status.FAIL

    def test_a_project_naming_the_repository_passes(self):
        snap = self.one(
            projects=[project("builder", [("IMAGE_REPO_NAME", "shop/orders-api", "PLAINTEXT")])]
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert "builder" in f.message and "IMAGE_REPO_NAME=shop/orders-api" in f.message

    def test_a_repository_uri_with_a_tag_links_from_another_region(self):
        uri = ecr_uri("shop/orders-api") + ":latest"
        snap = self.one(
            projects=[
                project("builder", [("REPOSITORY_URI", uri, "PLAINTEXT")], region=OTHER_REGION)
            ],
            regions=(REGION, OTHER_REGION),
        )
        findings = run(snap, self.ID, settings(regions=(REGION, OTHER_REGION)))
        assert only(findings).status == Status.PASS

    def test_a_bare_name_in_another_region_does_not_link(self):
        snap = self.one(
            projects=[
                project(
                    "builder",
                    [("IMAGE_REPO_NAME", "shop/orders-api", "PLAINTEXT")],
                    region=OTHER_REGION,
                )
            ],
            regions=(REGION, OTHER_REGION),
        )
        findings = run(snap, self.ID, settings(regions=(REGION, OTHER_REGION)))
        assert only(findings).status == Status.FAIL

    def test_a_parameter_store_variable_is_not_read_as_a_name(self):
        snap = self.one(
            projects=[project("builder", [("REPO", "shop/orders-api", "PARAMETER_STORE")])]
        )
        assert only(run(snap, self.ID)).status == Status.FAIL

    def test_an_inline_buildspec_naming_the_repository_passes(self):
        spec = BUILDSPEC.format(command="docker build -t shop/orders-api:$TAG .")
        snap = self.one(projects=[project("builder", buildspec=spec)])
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert "inline buildspec names shop/orders-api" in f.message

    def test_a_buildspec_that_only_contains_the_name_inside_another_does_not_link(self):
        spec = BUILDSPEC.format(command="docker build -t shop/orders-api-v2 .")
        snap = self.one(projects=[project("builder", buildspec=spec)])
        assert only(run(snap, self.ID)).status == Status.FAIL

    def test_matching_names_only_is_info_not_pass(self):
        snap = self.one(projects=[project("orders-api-build")])
        f = only(run(snap, self.ID))
        assert f.status == Status.INFO
        assert "only names agree" in f.message
        assert "orders-api-build" in f.message

    def test_images_nobody_builds_fail(self):
        snap = self.one(
            projects=[project("payments-build", [("ECR_REPOSITORY", "shop/payments", "PLAINTEXT")])]
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "shop/orders-api" in f.message and "pushed by hand" in f.message

    def test_third_party_sidecars_are_not_judged(self):
        snap = self.one(
            ecr_image("shop/orders-api"),
            "public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1",
            projects=[project("b", [("ECR_REPOSITORY", "shop/orders-api", "PLAINTEXT")])],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert evidence(f)["other_images"][0]["source"] == "public-ecr"

    def test_third_party_images_only_fail(self):
        snap = self.one("php:7.4-apache", "mysql:5.7")
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "only third-party images (php:7.4-apache, mysql:5.7)" in f.message

    def test_images_from_another_accounts_registry_are_skipped(self):
        snap = self.one(ecr_image("shop/orders-api", account=OTHER_ACCOUNT))
        f = only(run(snap, self.ID))
        assert f.status == Status.SKIP
        assert OTHER_ACCOUNT in f.message

    def test_could_not_read_projects_is_error_not_fail(self):
        snap = self.one(projects=None, errors=[error("codebuild", "ListProjects")])
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "codebuild:ListProjects")
        assert all(f.status != Status.FAIL for f in findings)

    def test_could_not_read_pipelines_taints_a_project_link_too(self):
        snap = self.one(
            pipelines=None,
            projects=[project("b", [("ECR_REPOSITORY", "shop/orders-api", "PLAINTEXT")])],
            errors=[error("codepipeline", "ListPipelines")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "codepipeline:ListPipelines")

    def test_unreadable_task_definition_is_error(self):
        snap = self.one(
            errors=[error("ecs", "DescribeTaskDefinition", resource=td_arn("orders-api-prod"))]
        )
        snap.data[(REGION, "ecs")]["task_definitions"] = []
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:DescribeTaskDefinition")
        svc_finding = only(f for f in findings if f.resource_id == "shop-prod/orders-api")
        assert svc_finding.status == Status.ERROR


# -- TF05-DEPLOYMENT-ROLLBACK ----------------------------------------------------------------
class TestDeploymentRollback:
    ID = "TF05-DEPLOYMENT-ROLLBACK"

    def one(self, **kw) -> Snapshot:
        return account(
            task_definitions=[app_td("api-prod")],
            services=[svc("shop-prod", "api", td_arn("api-prod"), "production", **kw)],
        )

    def test_circuit_breaker_with_rollback_passes(self):
        f = only(run(self.one(deployment=breaker(), desired=3), self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "shop-prod/api"
        assert "circuit breaker" in f.message

    def test_alarms_with_rollback_pass(self):
        alarms = {"alarmNames": ["api-5xx"], "enable": True, "rollback": True}
        f = only(run(self.one(deployment={"alarms": alarms}), self.ID))
        assert f.status == Status.PASS
        assert "api-5xx" in f.message
        assert evidence(f)["alarm_rollback"] is True

    def test_no_deployment_configuration_fails(self):
        f = only(run(self.one(), self.ID))
        assert f.status == Status.FAIL
        assert "neither a deployment circuit breaker" in f.message

    def test_breaker_without_rollback_fails(self):
        f = only(run(self.one(deployment=breaker(rollback=False)), self.ID))
        assert f.status == Status.FAIL
        assert "does not roll it back" in f.message

    def test_alarms_without_rollback_fail(self):
        alarms = {"alarmNames": ["api-5xx"], "enable": True, "rollback": False}
        f = only(run(self.one(deployment={"alarms": alarms}), self.ID))
        assert f.status == Status.FAIL
        assert "does not roll it back" in f.message

    def test_minimum_healthy_zero_with_several_tasks_fails_despite_rollback(self):
        f = only(run(self.one(deployment=breaker(minimum=0), desired=3), self.ID))
        assert f.status == Status.FAIL
        assert "minimumHealthyPercent of 0" in f.message and "all 3 tasks" in f.message

    def test_minimum_healthy_zero_with_one_task_passes(self):
        f = only(run(self.one(deployment=breaker(minimum=0), desired=1), self.ID))
        assert f.status == Status.PASS

    def test_daemon_services_may_use_zero(self):
        snap = self.one(deployment=breaker(minimum=0), desired=4, strategy="DAEMON")
        assert only(run(snap, self.ID)).status == Status.PASS

    @pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
    def test_other_controllers_are_info(self, controller):
        f = only(run(self.one(controller=controller), self.ID))
        assert f.status == Status.INFO
        assert "does not read" in f.message or "cannot see" in f.message

    def test_could_not_describe_services(self):
        snap = self.one(deployment=breaker(), desired=3)
        snap.manifest["errors"].append(error("ecs", "DescribeServices"))
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:DescribeServices")


# -- TF05-LIFECYCLE-POLICY -------------------------------------------------------------------
class TestLifecyclePolicy:
    ID = "TF05-LIFECYCLE-POLICY"

    def test_policy_present_passes_and_absent_fails(self):
        snap = account(
            repositories=[
                repository("shop/orders-api", KEEP_30),
                repository("shop/payments", images=7),
            ]
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {"shop/orders-api": Status.PASS, "shop/payments": Status.FAIL}
        passed = only(findings, Status.PASS)
        assert passed.resource_type == "AwsEcrRepository"
        assert "any: expire beyond 30 images" in passed.message
        failed = only(findings, Status.FAIL)
        assert "(7 now)" in failed.message
        assert failed.resource_arn.endswith(":repository/shop/payments")

    def test_an_age_rule_is_summarised(self):
        policy = json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {
                            "tagStatus": "untagged",
                            "countType": "sinceImagePushed",
                            "countUnit": "days",
                            "countNumber": 14,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            }
        )
        f = only(run(account(repositories=[repository("r", policy)]), self.ID))
        assert f.status == Status.PASS
        assert evidence(f)["rules"] == "untagged: expire older than 14 days"

    def test_a_repository_whose_policy_could_not_be_read_is_not_failed(self):
        good, unread = repository("shop/orders-api", KEEP_30), repository("shop/payments")
        snap = account(
            repositories=[good, unread],
            errors=[
                error("ecr", "GetLifecyclePolicy", resource=unread["repositoryArn"]),
            ],
        )
        findings = run(snap, self.ID)
        gap = assert_could_not_evaluate_some(findings, self.ID, "ecr:GetLifecyclePolicy")
        assert gap.resource_id == unread["repositoryArn"]
        # the other repository keeps its verdict; the unread one gets no FAIL
        assert only(findings, Status.PASS).resource_id == "shop/orders-api"
        assert not [f for f in findings if f.status == Status.FAIL]

    def test_could_not_list_repositories(self):
        snap = account(repositories=None, errors=[error("ecr", "DescribeRepositories")])
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "ecr:DescribeRepositories")


def assert_could_not_evaluate_some(findings, check_id, action):
    """Like assert_could_not_evaluate, but resources the gap does not touch may still PASS."""
    assert action in load_catalog()[check_id].iam_actions
    gap = only(f for f in findings if action in f.message)
    assert gap.status == Status.ERROR
    assert gap.message.startswith(f"Could not evaluate: {action} failed in {gap.region}")
    return gap


# -- TF05-BUILD-NO-PLAINTEXT-CREDS -----------------------------------------------------------
class TestBuildNoPlaintextCreds:
    ID = "TF05-BUILD-NO-PLAINTEXT-CREDS"

    def test_references_and_plain_config_pass(self):
        p = project(
            "orders-api-build",
            [
                ("ECR_REPOSITORY", "shop/orders-api", "PLAINTEXT"),
                ("SONAR_TOKEN", "arn:aws:secretsmanager:eu-west-1:1:secret:x", "SECRETS_MANAGER"),
                ("NPM_TOKEN", "/ci/npm-token", "PARAMETER_STORE"),
            ],
        )
        f = only(run(account(projects=[p]), self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "orders-api-build"
        assert f.resource_type == "AwsCodeBuildProject"
        assert "1 PLAINTEXT" in f.message

    def test_a_static_aws_key_pair_fails_without_leaking_it(self):
        p = project(
            "payments-build",
            [
                ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID, "PLAINTEXT"),
                ("AWS_SECRET_ACCESS_KEY", SECRET_KEY, "PLAINTEXT"),
            ],
        )
        findings = run(account(projects=[p]), self.ID)
        f = only(findings)
        assert f.status == Status.FAIL
        assert "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" in f.message
        kinds = {v["name"]: v["detected"] for v in evidence(f)["flagged"]}
        assert kinds["AWS_ACCESS_KEY_ID"] == "aws-access-key-id"
        no_planted_values(findings, ACCESS_KEY_ID, SECRET_KEY)

    def test_a_secret_named_variable_fails(self):
        p = project("images", [("DOCKERHUB_PASSWORD", DOCKER_PASSWORD, "PLAINTEXT")])
        findings = run(account(projects=[p]), self.ID)
        assert only(findings).status == Status.FAIL
        no_planted_values(findings, DOCKER_PASSWORD)

    def test_a_project_without_variables_passes(self):
        assert only(run(account(projects=[project("plain")]), self.ID)).status == Status.PASS

    def test_could_not_read_projects(self):
        snap = account(projects=None, errors=[error("codebuild", "BatchGetProjects")])
        assert_could_not_evaluate(run(snap, self.ID), self.ID, "codebuild:BatchGetProjects")


# -- evidence tables and the plot ------------------------------------------------------------
class FakeWorkbook:
    """What evidence tables and plots use of a Workbook: inventory and findings."""

    def __init__(self, snap: Snapshot, regions=(REGION,)):
        from twelvefactor.checks import run_checks
        from twelvefactor.findings import to_frame

        config = settings(regions=tuple(regions))
        self.inventory = Inventory(snap, config)
        self._findings = to_frame(run_checks(self.inventory, config, factors=[5]))

    def findings_for(self, factor=None, check_id=None):
        f = self._findings
        return f[f["check_id"] == check_id].reset_index(drop=True) if check_id else f


def test_evidence_tables_and_releases_plot():
    from twelvefactor.checks import registry
    from twelvefactor.evidence import EVIDENCE
    from twelvefactor.plots import PLOTS

    registry()
    snap = account(
        task_definitions=[app_td("orders-api-prod", r) for r in (1, 2, 3, 4)],
        services=[
            svc("shop-prod", "orders-api", td_arn("orders-api-prod", 1), "production"),
        ],
        projects=[project("b", [("AWS_SECRET_ACCESS_KEY", SECRET_KEY, "PLAINTEXT")])],
        repositories=[repository("shop/orders-api")],
    )
    wb = FakeWorkbook(snap)
    for check_id in CHECK_IDS:
        table = EVIDENCE[check_id](wb)
        assert not table.empty, check_id
        assert SECRET_KEY not in table.to_string()
    built = EVIDENCE["TF05-BUILT-BY-PIPELINE"](wb)
    assert built.loc[0, "image"] == "shop/orders-api"
    fig = PLOTS["releases"](wb)
    assert fig.axes and fig.axes[0].get_yticklabels()
    empty = PLOTS["releases"](FakeWorkbook(account()))
    assert empty.axes


def test_built_by_pipeline_skips_a_service_without_a_task_definition():
    snap = account(
        task_definitions=[app_td("api-prod")],
        services=[svc("shop-prod", "api", td_arn("api-prod"), "production", controller="EXTERNAL")],
    )
    snap.data[(REGION, "ecs")]["services"][0].pop("taskDefinition")
    f = only(run(snap, "TF05-BUILT-BY-PIPELINE"))
    assert f.status == Status.SKIP
    assert "EXTERNAL" in f.message


def test_built_by_pipeline_reads_a_short_task_definition_reference():
    # moto keeps "family:revision" as given to UpdateService (AWS returns the ARN)
    snap = account(
        task_definitions=[app_td("api-prod", 1), app_td("api-prod", 2)],
        services=[svc("shop-prod", "api", td_arn("api-prod", 2), "production")],
        projects=[project("b", [("ECR_REPOSITORY", "shop/orders-api", "PLAINTEXT")])],
    )
    snap.data[(REGION, "ecs")]["services"][0]["taskDefinition"] = "api-prod:2"
    assert only(run(snap, "TF05-BUILT-BY-PIPELINE")).status == Status.PASS


def test_a_buildspec_naming_the_repository_uri_links_from_another_region_but_not_a_longer_one():
    def with_spec(command: str):
        spec = BUILDSPEC.format(command=command)
        return account(
            task_definitions=[app_td("orders-api-prod")],
            services=[svc("shop-prod", "orders-api", td_arn("orders-api-prod"), "production")],
            projects=[project("builder", buildspec=spec, region=OTHER_REGION)],
            regions=(REGION, OTHER_REGION),
        )

    config = settings(regions=(REGION, OTHER_REGION))
    uri = ecr_uri("shop/orders-api")
    linked = run(with_spec(f"docker push {uri}:$TAG"), "TF05-BUILT-BY-PIPELINE", config)
    assert only(linked).status == Status.PASS
    longer = run(with_spec(f"docker push {uri}-v2:$TAG"), "TF05-BUILT-BY-PIPELINE", config)
    assert only(longer).status == Status.FAIL
