"""Unit tests for the factor III checks (twelvefactor.checks.config), run through the engine.

Every check gets a PASS, a FAIL, an empty account (one SKIP from the engine) and a
could-not-evaluate case (an access-denied collection error on one of its catalog iam_actions:
an ERROR naming the action, and no PASS).
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from fixtures import (
    ACCOUNT,
    OTHER_ACCOUNT,
    REGION,
    container,
    error,
    evidence,
    only,
    parameter,
    run,
    secret,
    service,
    sm_arn,
    snapshot,
    ssm_arn,
    statuses,
    td,
    td_arn,
)

from twelvefactor.catalog import load_catalog
from twelvefactor.findings import Status

OTHER_REGION = "us-east-1"

# Fake secrets planted in raw data; none may reach a finding.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
URL_PASSWORD = "S3cr3tPassw0rd"
DB_PASSWORD = "hunter2-Correct-Horse"
STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
PLANTED = (ACCESS_KEY_ID, URL_PASSWORD, DB_PASSWORD, STRIPE_KEY)

CHECK_IDS = (
    "TF03-SECRETS-IN-ENV",
    "TF03-SECRET-REFS-RESOLVE",
    "TF03-SECRET-ROTATION",
    "TF03-PARAM-PLAINTEXT-SECRET",
    "TF03-PARAM-HIERARCHY",
    "TF03-ENV-NAMES-PARITY",
)


def deployed(family: str, env: str, revision: int = 1, region: str = REGION) -> dict:
    """A service running ``family:revision`` in cluster shop-<env>, tagged with its environment."""
    name = family.rsplit("-", 1)[0]
    return service(f"shop-{env}", name, td_arn(family, revision, region), env)


def assert_could_not_evaluate(findings, check_id: str, action: str, region: str = REGION):
    """An ERROR naming ``action`` (a catalog iam_action of the check) and no PASS."""
    assert action in load_catalog()[check_id].iam_actions
    assert all(f.status != Status.PASS for f in findings), findings
    assert all(f.status != Status.SKIP for f in findings), findings
    gap = only(f for f in findings if action in f.message)
    assert gap.status == Status.ERROR
    assert gap.check_id == check_id
    assert gap.region == region
    assert gap.message.startswith(f"Could not evaluate: {action} failed in {region}")
    assert f"grant {action} to the audit role" in gap.message
    assert evidence(gap)["missing_action"] == action
    return gap


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_empty_account_gives_one_skip(check_id):
    findings = run(snapshot(), check_id)
    f = only(findings)
    assert f.status == Status.SKIP
    assert f.check_id == check_id
    assert f.resource_id == "*"
    assert f.account == ACCOUNT
    assert f.region == REGION
    assert f.message.startswith("Nothing to evaluate")


def test_every_factor_iii_check_is_registered_and_catalogued():
    catalog = load_catalog()
    for check_id in CHECK_IDS:
        assert catalog[check_id].factor == 3
        assert catalog[check_id].iam_actions


# -- TF03-SECRETS-IN-ENV ---------------------------------------------------------------------
class TestSecretsInEnv:
    ID = "TF03-SECRETS-IN-ENV"

    def test_ordinary_variables_pass(self):
        snap = snapshot(
            task_definitions=[
                td(
                    "orders-api-prod",
                    env={
                        "PORT": "8080",
                        "LOG_LEVEL": "info",
                        "DB_HOST": "orders-db.prod.shop.internal",
                        "REQUEST_ID": "9f6b2c1e-3a7d-4f1b-8e2a-5c9d0b7a6e41",
                        "API_URL": "https://api.stripe.example/live",
                    },
                    secrets={"DB_PASSWORD": sm_arn("orders-api/prod/db-password")},
                )
            ],
            services=[deployed("orders-api-prod", "production")],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "orders-api-prod:1"
        assert f.resource_arn == td_arn("orders-api-prod")
        assert (f.application, f.environment) == ("orders-api", "production")
        assert f.severity == "critical"
        assert evidence(f) == {"variables_checked": 5, "in_use": True}

    def test_task_definition_without_environment_passes(self):
        snap = snapshot(task_definitions=[td("worker-prod")])
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert evidence(f)["variables_checked"] == 0

    @pytest.mark.parametrize(
        ("name", "value", "detected"),
        [
            ("UPSTREAM_KEY", ACCESS_KEY_ID, "aws-access-key-id"),
            (
                "DATABASE_URL",
                f"postgres://orders:{URL_PASSWORD}@db.internal:5432/orders",
                "url-password",
            ),
            ("DB_PASSWORD", DB_PASSWORD, "secret-name"),
            ("PAYMENT_PROVIDER", STRIPE_KEY, "token"),
        ],
    )
    def test_secret_looking_variable_fails_naming_it(self, name, value, detected):
        snap = snapshot(
            task_definitions=[td("payments-prod", 3, env={"LOG_LEVEL": "info", name: value})],
            services=[deployed("payments-prod", "production", 3)],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.resource_id == "payments-prod:3"
        assert name in f.message
        assert "LOG_LEVEL" not in f.message
        assert evidence(f) == {
            "variables": [{"container": "app", "name": name, "detected": detected}],
            "in_use": True,
        }
        assert value not in json.dumps(dataclasses.asdict(f))

    def test_ecs8_name_with_reference_value_still_fails(self):
        reference = sm_arn("ci/aws-access-key")
        snap = snapshot(
            task_definitions=[td("legacy-monolith", env={"AWS_ACCESS_KEY_ID": reference})]
        )
        # the value is a reference, so the redactor kept it: only the name gives it away
        env = snap.get(REGION, "ecs")["task_definitions"][0]["containerDefinitions"][0]
        assert env["environment"] == [{"name": "AWS_ACCESS_KEY_ID", "value": reference}]
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "AWS_ACCESS_KEY_ID" in f.message
        assert evidence(f)["variables"] == [
            {"container": "app", "name": "AWS_ACCESS_KEY_ID", "detected": "ecs8-key-name"}
        ]
        assert evidence(f)["in_use"] is False

    def test_every_offending_variable_of_every_container_is_listed(self):
        snap = snapshot(
            task_definitions=[
                td(
                    "legacy-monolith",
                    containers=[
                        container("web", {"AWS_SECRET_ACCESS_KEY": "abc", "PORT": "80"}),
                        container("cron", {"JWT_SECRET": DB_PASSWORD, "TZ": "UTC"}),
                    ],
                )
            ]
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.message.endswith("AWS_SECRET_ACCESS_KEY, JWT_SECRET.")
        found = {(v["container"], v["name"]) for v in evidence(f)["variables"]}
        assert found == {("web", "AWS_SECRET_ACCESS_KEY"), ("cron", "JWT_SECRET")}

    def test_one_finding_per_task_definition(self):
        snap = snapshot(
            task_definitions=[
                td("orders-api-staging", env={"LOG_LEVEL": "debug"}),
                td("orders-api-prod", env={"LOG_LEVEL": "info", "DB_PASSWORD": DB_PASSWORD}),
                td("orders-api-prod", 2, env={"LOG_LEVEL": "info"}),
            ],
            services=[
                deployed("orders-api-staging", "staging"),
                deployed("orders-api-prod", "production", 2),
            ],
        )
        assert statuses(run(snap, self.ID)) == {
            "orders-api-staging:1": Status.PASS,
            "orders-api-prod:1": Status.FAIL,
            "orders-api-prod:2": Status.PASS,
        }

    def test_raw_secrets_never_reach_snapshot_or_findings(self):
        snap = snapshot(
            task_definitions=[
                td(
                    "payments-prod",
                    env={
                        "UPSTREAM_KEY": ACCESS_KEY_ID,
                        "DATABASE_URL": f"mysql://app:{URL_PASSWORD}@db/app",
                        "DB_PASSWORD": DB_PASSWORD,
                        "STRIPE_API_KEY": STRIPE_KEY,
                    },
                )
            ]
        )
        dumped = json.dumps(list(snap.data.values()), default=str)
        findings = run(snap, self.ID)
        dumped += json.dumps([dataclasses.asdict(f) for f in findings], default=str)
        for planted in PLANTED:
            assert planted not in dumped
        assert dumped.count("[REDACTED kind=") >= len(PLANTED)

    def test_could_not_evaluate(self):
        # ListTaskDefinitions denied: task definitions of services are still described, but
        # the PASS on them rests on an incomplete region
        snap = snapshot(
            task_definitions=[td("orders-api-prod", env={"LOG_LEVEL": "info"})],
            services=[deployed("orders-api-prod", "production")],
            errors=[error("ecs", "ListTaskDefinitions")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:ListTaskDefinitions")
        tainted = only(f for f in findings if f.resource_id == "orders-api-prod:1")
        assert tainted.status == Status.ERROR
        assert tainted.message.endswith("(not trusted: data it needs is incomplete)")


# -- TF03-SECRET-REFS-RESOLVE ----------------------------------------------------------------
class TestSecretRefsResolve:
    ID = "TF03-SECRET-REFS-RESOLVE"

    def run_refs(self, refs, *, parameters=(), secrets=(), errors=(), regions=(REGION,)):
        snap = snapshot(
            task_definitions=[td("orders-api-prod", secrets=refs)],
            services=[deployed("orders-api-prod", "production")],
            parameters=parameters,
            secrets=secrets,
            errors=errors,
            regions=regions,
        )
        return run(snap, self.ID)

    def test_references_to_securestring_and_secret_pass(self):
        f = only(
            self.run_refs(
                {
                    "DB_PASSWORD": ssm_arn("/orders-api/prod/DB_PASSWORD"),
                    "API_TOKEN": "/orders-api/prod/API_TOKEN",
                    "STRIPE_KEY": sm_arn("orders-api/prod/stripe-key"),
                },
                parameters=[
                    parameter("/orders-api/prod/DB_PASSWORD", "SecureString"),
                    parameter("/orders-api/prod/API_TOKEN", "SecureString"),
                ],
                secrets=[secret("orders-api/prod/stripe-key")],
            )
        )
        assert f.status == Status.PASS
        assert f.resource_id == "orders-api-prod:1"
        assert (f.application, f.environment) == ("orders-api", "production")
        assert {r["name"]: r["verdict"] for r in evidence(f)["references"]} == {
            "DB_PASSWORD": "ok",
            "API_TOKEN": "ok",
            "STRIPE_KEY": "ok",
        }

    def test_reference_to_string_parameter_fails(self):
        f = only(
            self.run_refs(
                {"DB_PASSWORD": ssm_arn("/orders-api/prod/DB_PASSWORD")},
                parameters=[parameter("/orders-api/prod/DB_PASSWORD", "String")],
            )
        )
        assert f.status == Status.FAIL
        assert "/orders-api/prod/DB_PASSWORD is a String, not a SecureString" in f.message
        (ref,) = evidence(f)["references"]
        assert ref["verdict"] == "fail"
        assert ref["name"] == "DB_PASSWORD"

    def test_reference_to_missing_secret_fails(self):
        f = only(
            self.run_refs(
                {"STRIPE_KEY": sm_arn("payments/prod/stripe-key", suffix="Zz9Yx8")},
                secrets=[secret("payments/prod/other-key")],
            )
        )
        assert f.status == Status.FAIL
        assert "Secrets Manager secret payments/prod/stripe-key-Zz9Yx8 does not exist" in (
            f.message
        )

    def test_reference_to_missing_parameter_fails(self):
        f = only(self.run_refs({"DB_HOST": "/orders-api/prod/DB_HOST"}))
        assert f.status == Status.FAIL
        assert "SSM parameter /orders-api/prod/DB_HOST does not exist" in f.message

    def test_one_broken_reference_fails_the_task_definition(self):
        f = only(
            self.run_refs(
                {
                    "A": sm_arn("orders-api/prod/a"),
                    "B": sm_arn("orders-api/prod/b"),
                },
                secrets=[secret("orders-api/prod/a")],
            )
        )
        assert f.status == Status.FAIL
        assert "has 1 secret reference(s)" in f.message
        verdicts = {r["name"]: r["verdict"] for r in evidence(f)["references"]}
        assert verdicts == {"A": "ok", "B": "fail"}

    def test_partial_arn_without_suffix_resolves_by_name(self):
        f = only(
            self.run_refs(
                {"DB_PASSWORD": sm_arn("orders-api/prod/db-password", suffix=None)},
                secrets=[secret("orders-api/prod/db-password", suffix="Q1w2E3")],
            )
        )
        assert f.status == Status.PASS

    def test_full_arn_with_json_key_resolves(self):
        value_from = sm_arn("orders-api/prod/db", suffix="Q1w2E3") + ":password::"
        f = only(
            self.run_refs(
                {"DB_PASSWORD": value_from},
                secrets=[secret("orders-api/prod/db", suffix="Q1w2E3")],
            )
        )
        assert f.status == Status.PASS

    def test_full_arn_with_another_suffix_does_not_resolve(self):
        # a deleted and re-created secret gets a new suffix; the old ARN no longer resolves
        f = only(
            self.run_refs(
                {"DB_PASSWORD": sm_arn("orders-api/prod/db", suffix="OldOne")},
                secrets=[secret("orders-api/prod/db", suffix="NewOne")],
            )
        )
        assert f.status == Status.FAIL

    def test_bare_name_of_top_level_parameter_resolves(self):
        f = only(
            self.run_refs(
                {"DB_PASSWORD": "DB_PASSWORD"},
                parameters=[parameter("DB_PASSWORD", "SecureString")],
            )
        )
        assert f.status == Status.PASS

    def test_arn_of_top_level_parameter_resolves(self):
        f = only(
            self.run_refs(
                {"DB_PASSWORD": ssm_arn("DB_PASSWORD")},
                parameters=[parameter("DB_PASSWORD", "SecureString")],
            )
        )
        assert f.status == Status.PASS

    def test_reference_into_region_not_audited_skips(self):
        f = only(
            self.run_refs(
                {"DB_PASSWORD": sm_arn("orders-api/prod/db", region=OTHER_REGION)},
                secrets=[secret("orders-api/prod/db")],
            )
        )
        assert f.status == Status.SKIP
        assert f.resource_id == "orders-api-prod:1"
        (ref,) = evidence(f)["references"]
        assert ref["verdict"] == "out-of-scope"
        assert OTHER_REGION in ref["detail"]

    def test_reference_into_another_account_skips(self):
        f = only(
            self.run_refs(
                {"DB_PASSWORD": sm_arn("shared/db", account=OTHER_ACCOUNT)},
                secrets=[secret("shared/db")],
            )
        )
        assert f.status == Status.SKIP
        assert OTHER_ACCOUNT in evidence(f)["references"][0]["detail"]

    def test_reference_into_other_audited_region_resolves_there(self):
        refs = {"DB_PASSWORD": ssm_arn("/orders-api/prod/DB_PASSWORD", region=OTHER_REGION)}
        here = [parameter("/orders-api/prod/DB_PASSWORD", "SecureString")]
        assert only(self.run_refs(refs, parameters=here)).status == Status.SKIP
        there = [parameter("/orders-api/prod/DB_PASSWORD", "SecureString", region=OTHER_REGION)]
        both = (REGION, OTHER_REGION)
        assert only(self.run_refs(refs, parameters=here, regions=both)).status == Status.FAIL
        assert only(self.run_refs(refs, parameters=there, regions=both)).status == Status.PASS

    def test_task_definitions_without_references_give_skip(self):
        snap = snapshot(task_definitions=[td("orders-api-prod", env={"LOG_LEVEL": "info"})])
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_describe_parameters_denied_is_error_never_pass(self):
        findings = self.run_refs(
            {"DB_PASSWORD": ssm_arn("/orders-api/prod/DB_PASSWORD")},
            parameters=[parameter("/orders-api/prod/DB_PASSWORD", "SecureString")],
            errors=[error("ssm", "DescribeParameters")],
        )
        assert_could_not_evaluate(findings, self.ID, "ssm:DescribeParameters")
        f = only(f for f in findings if f.resource_id == "orders-api-prod:1")
        assert f.status == Status.ERROR
        assert "Could not verify the secret references of orders-api-prod:1" in f.message
        assert evidence(f)["references"][0]["verdict"] == "unknown"

    def test_list_secrets_denied_is_error_never_pass(self):
        findings = self.run_refs(
            {"STRIPE_KEY": sm_arn("orders-api/prod/stripe-key")},
            secrets=[secret("orders-api/prod/stripe-key")],
            errors=[error("secretsmanager", "ListSecrets")],
        )
        assert_could_not_evaluate(findings, self.ID, "secretsmanager:ListSecrets")
        f = only(f for f in findings if f.resource_id == "orders-api-prod:1")
        assert f.status == Status.ERROR

    def test_broken_reference_still_fails_when_another_store_is_unreadable(self):
        findings = self.run_refs(
            {
                "DB_PASSWORD": ssm_arn("/orders-api/prod/DB_PASSWORD"),
                "STRIPE_KEY": sm_arn("orders-api/prod/stripe-key"),
            },
            errors=[error("ssm", "DescribeParameters")],
        )
        f = only(f for f in findings if f.resource_id == "orders-api-prod:1")
        assert f.status == Status.FAIL
        verdicts = {r["name"]: r["verdict"] for r in evidence(f)["references"]}
        assert verdicts == {"DB_PASSWORD": "unknown", "STRIPE_KEY": "fail"}


# -- TF03-SECRET-ROTATION --------------------------------------------------------------------
class TestSecretRotation:
    ID = "TF03-SECRET-ROTATION"

    def shop(self, *secrets, refs=None, in_use=True, errors=()):
        refs = refs or {"DB_PASSWORD": sm_arn("orders-api/prod/db-password")}
        return snapshot(
            task_definitions=[td("orders-api-prod", secrets=refs)],
            services=[deployed("orders-api-prod", "production")] if in_use else [],
            secrets=secrets,
            errors=errors,
        )

    def test_rotating_secret_passes(self):
        f = only(run(self.shop(secret("orders-api/prod/db-password", 30)), self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "orders-api/prod/db-password"
        assert f.resource_arn == sm_arn("orders-api/prod/db-password")
        assert f.resource_type == "AwsSecretsManagerSecret"
        assert (f.application, f.environment) == ("orders-api", "production")
        assert "every 30 days" in f.message
        assert evidence(f) == {"used_by": ["orders-api-prod:1"], "rotation_days": 30}

    def test_secret_without_rotation_fails(self):
        f = only(run(self.shop(secret("orders-api/prod/db-password")), self.ID))
        assert f.status == Status.FAIL
        assert "never rotates" in f.message
        assert evidence(f) == {"used_by": ["orders-api-prod:1"], "rotation_enabled": False}

    def test_partial_arn_reference_counts_as_use(self):
        snap = self.shop(
            secret("orders-api/prod/db-password"),
            refs={"DB_PASSWORD": sm_arn("orders-api/prod/db-password", suffix=None)},
        )
        assert only(run(snap, self.ID)).status == Status.FAIL

    def test_unreferenced_secrets_give_nothing(self):
        snap = self.shop(
            secret("orders-api/prod/db-password", 30),
            secret("orders-api/staging/db-password"),
            secret("payments/prod/stripe-key"),
        )
        assert statuses(run(snap, self.ID)) == {"orders-api/prod/db-password": Status.PASS}

    def test_secret_used_only_by_unused_task_definition_gives_nothing(self):
        snap = self.shop(secret("orders-api/prod/db-password"), in_use=False)
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_ssm_references_are_not_rotation_candidates(self):
        snap = self.shop(
            secret("orders-api/prod/db-password"),
            refs={"DB_PASSWORD": ssm_arn("/orders-api/prod/db-password")},
        )
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_reference_to_another_accounts_secret_is_not_a_use(self):
        snap = self.shop(
            secret("shared/db-password"),
            refs={"DB_PASSWORD": sm_arn("shared/db-password", account=OTHER_ACCOUNT, suffix=None)},
        )
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_could_not_evaluate_list_secrets(self):
        snap = self.shop(
            secret("orders-api/prod/db-password", 30),
            errors=[error("secretsmanager", "ListSecrets")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "secretsmanager:ListSecrets")
        assert len(findings) == 1

    def test_could_not_evaluate_task_definitions(self):
        snap = self.shop(
            secret("orders-api/prod/db-password", 30),
            errors=[error("ecs", "DescribeTaskDefinition")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:DescribeTaskDefinition")
        tainted = only(f for f in findings if f.resource_id == "orders-api/prod/db-password")
        assert tainted.status == Status.ERROR


# -- TF03-PARAM-PLAINTEXT-SECRET -------------------------------------------------------------
class TestParamPlaintextSecret:
    ID = "TF03-PARAM-PLAINTEXT-SECRET"

    def test_plaintext_password_fails_securestring_passes_others_ignored(self):
        snap = snapshot(
            parameters=[
                parameter("/app/prod/DB_PASSWORD", "String"),
                parameter("/app/staging/DB_PASSWORD", "SecureString"),
                parameter("/app/prod/API_TOKENS", "StringList"),
                parameter("/app/prod/LOG_LEVEL", "String"),
                parameter("/app/prod/DB_HOST", "String"),
            ]
        )
        findings = run(snap, self.ID)
        assert statuses(findings) == {
            "/app/prod/DB_PASSWORD": Status.FAIL,
            "/app/staging/DB_PASSWORD": Status.PASS,
            "/app/prod/API_TOKENS": Status.FAIL,
        }
        fail = only(f for f in findings if f.resource_id == "/app/prod/DB_PASSWORD")
        assert fail.message == (
            "Parameter /app/prod/DB_PASSWORD has a secret-looking name but is stored as a "
            "plaintext String."
        )
        assert (fail.application, fail.environment) == ("app", "production")
        assert evidence(fail) == {"type": "String", "key_id": ""}
        ok = only(f for f in findings if f.resource_id == "/app/staging/DB_PASSWORD")
        assert evidence(ok) == {"type": "SecureString", "key_id": "alias/aws/ssm"}
        assert ok.environment == "staging"

    def test_only_the_last_path_segment_is_judged(self):
        snap = snapshot(parameters=[parameter("/secrets-service/prod/LOG_LEVEL", "String")])
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_only_non_secret_parameters_give_skip(self):
        snap = snapshot(parameters=[parameter("/app/prod/LOG_LEVEL", "String")])
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_could_not_evaluate(self):
        snap = snapshot(
            parameters=[parameter("/app/prod/DB_PASSWORD", "SecureString")],
            errors=[error("ssm", "DescribeParameters")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ssm:DescribeParameters")
        assert len(findings) == 1

    def test_denied_region_does_not_hide_the_other_region(self):
        snap = snapshot(
            parameters=[parameter("/app/prod/DB_PASSWORD", "SecureString")],
            errors=[error("ssm", "DescribeParameters", OTHER_REGION)],
            regions=(REGION, OTHER_REGION),
        )
        findings = run(snap, self.ID)
        # a region-scoped check: the gap in us-east-1 does not taint eu-west-1's PASS
        assert statuses(findings) == {OTHER_REGION: Status.ERROR, "/app/prod/DB_PASSWORD": "PASS"}
        assert "ssm:DescribeParameters" in only(findings, Status.ERROR).message


# -- TF03-PARAM-HIERARCHY --------------------------------------------------------------------
def params(app: str, env: str, *keys: str, region: str = REGION) -> list[dict]:
    return [parameter(f"/{app}/{env}/{k}", region=region) for k in keys]


class TestParamHierarchy:
    ID = "TF03-PARAM-HIERARCHY"

    def test_identical_keys_pass(self):
        snap = snapshot(
            parameters=params("orders-api", "staging", "DB_HOST", "LOG_LEVEL")
            + params("orders-api", "prod", "DB_HOST", "LOG_LEVEL")
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "/orders-api/*"
        assert f.application == "orders-api"
        assert f.environment == "production,staging"
        assert f.region == REGION
        assert evidence(f) == {
            "keys": {"production": ["DB_HOST", "LOG_LEVEL"], "staging": ["DB_HOST", "LOG_LEVEL"]},
            "missing": {},
        }

    def test_missing_key_fails(self):
        snap = snapshot(
            parameters=params("payments", "staging", "API_URL", "TIMEOUT_MS")
            + params("payments", "prod", "API_URL", "TIMEOUT_MS", "FEATURE_INSTANT_PAYOUTS")
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "staging lacks FEATURE_INSTANT_PAYOUTS" in f.message
        assert evidence(f)["missing"] == {"staging": ["FEATURE_INSTANT_PAYOUTS"]}

    def test_environment_with_services_but_no_hierarchy_fails(self):
        snap = snapshot(
            parameters=params("orders-api", "prod", "DB_HOST", "LOG_LEVEL"),
            task_definitions=[td("orders-api-staging"), td("orders-api-prod")],
            services=[
                deployed("orders-api-staging", "staging"),
                deployed("orders-api-prod", "production"),
            ],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert f.environment == "production,staging"
        assert evidence(f)["missing"] == {"staging": ["DB_HOST", "LOG_LEVEL"]}
        assert evidence(f)["keys"]["staging"] == []

    def test_one_finding_per_application(self):
        snap = snapshot(
            parameters=params("orders-api", "staging", "A")
            + params("orders-api", "prod", "A")
            + params("payments", "staging", "A")
            + params("payments", "prod", "A", "B")
            + params("catalog", "prod", "A")
            + [parameter("/standalone/KEY")]
        )
        assert statuses(run(snap, self.ID)) == {
            "/orders-api/*": Status.PASS,
            "/payments/*": Status.FAIL,
        }

    def test_single_environment_gives_skip(self):
        snap = snapshot(parameters=params("catalog", "prod", "A", "B"))
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_could_not_evaluate(self):
        snap = snapshot(
            parameters=params("orders-api", "staging", "A") + params("orders-api", "prod", "A"),
            errors=[error("ssm", "DescribeParameters")],
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ssm:DescribeParameters")

    def test_gap_anywhere_turns_pass_into_error(self):
        snap = snapshot(
            parameters=params("orders-api", "staging", "A") + params("orders-api", "prod", "A"),
            errors=[error("ecs", "DescribeServices", OTHER_REGION, resource="shop-prod")],
            regions=(REGION, OTHER_REGION),
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:DescribeServices", OTHER_REGION)
        f = only(f for f in findings if f.resource_id == "/orders-api/*")
        assert f.status == Status.ERROR
        assert f.region == REGION
        assert "not trusted" in f.message


# -- TF03-ENV-NAMES-PARITY -------------------------------------------------------------------
class TestEnvNamesParity:
    ID = "TF03-ENV-NAMES-PARITY"
    SECRETS = {"DB_PASSWORD": sm_arn("orders-api/any/db-password")}

    def app(self, staging_env, prod_env, *, secrets=SECRETS, extra_tds=(), **kw):
        return snapshot(
            task_definitions=[
                td("orders-api-staging", env=staging_env, secrets=secrets),
                td("orders-api-prod", env=prod_env, secrets=secrets),
                *extra_tds,
            ],
            services=[
                deployed("orders-api-staging", "staging"),
                deployed("orders-api-prod", "production"),
            ],
            **kw,
        )

    def test_same_names_pass(self):
        snap = self.app(
            {"PORT": "8080", "LOG_LEVEL": "debug", "DB_HOST": "db.staging"},
            {"PORT": "8080", "LOG_LEVEL": "info", "DB_HOST": "db.prod"},
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.PASS
        assert f.resource_id == "orders-api"
        assert f.resource_type == "Application"
        assert f.environment == "production,staging"
        assert "only values differ" in f.message
        assert evidence(f) == {"containers": ["app"]}

    def test_extra_variable_in_prod_fails_naming_it(self):
        snap = self.app(
            {"PORT": "8080", "LOG_LEVEL": "debug"},
            {"PORT": "8080", "LOG_LEVEL": "info", "FEATURE_INSTANT_PAYOUTS": "true"},
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert "FEATURE_INSTANT_PAYOUTS" in f.message
        assert "staging lacks FEATURE_INSTANT_PAYOUTS" in f.message
        assert evidence(f) == {
            "differences": {
                "app": {
                    "missing": {"staging": ["FEATURE_INSTANT_PAYOUTS"]},
                    "mixed": {},
                    "absent_in": [],
                }
            }
        }

    def test_secret_names_count_too(self):
        snap = snapshot(
            task_definitions=[
                td("orders-api-staging", env={"PORT": "1"}, secrets=self.SECRETS),
                td("orders-api-prod", env={"PORT": "1"}),
            ],
            services=[
                deployed("orders-api-staging", "staging"),
                deployed("orders-api-prod", "production"),
            ],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert evidence(f)["differences"]["app"]["missing"] == {"production": ["DB_PASSWORD"]}

    def test_container_in_one_environment_only_fails(self):
        snap = snapshot(
            task_definitions=[
                td("orders-api-staging", env={"PORT": "1"}, secrets=self.SECRETS),
                td(
                    "orders-api-prod",
                    containers=[
                        container("app", {"PORT": "1"}, self.SECRETS),
                        container("xray", {"AWS_XRAY_DAEMON_ADDRESS": "0.0.0.0:2000"}),
                    ],
                ),
            ],
            services=[
                deployed("orders-api-staging", "staging"),
                deployed("orders-api-prod", "production"),
            ],
        )
        f = only(run(snap, self.ID))
        assert f.status == Status.FAIL
        assert evidence(f)["differences"] == {
            "xray": {"missing": {}, "mixed": {}, "absent_in": ["staging"]}
        }
        assert "no xray container in staging" in f.message

    def test_task_definitions_not_in_use_are_ignored(self):
        snap = self.app(
            {"PORT": "8080"},
            {"PORT": "8080"},
            extra_tds=[td("orders-api-prod", 2, env={"PORT": "8080", "NEW_FLAG": "1"})],
        )
        assert only(run(snap, self.ID)).status == Status.PASS

    def test_single_environment_app_gives_nothing(self):
        snap = snapshot(
            task_definitions=[
                td("catalog-prod", env={"PORT": "1"}, secrets=self.SECRETS),
                td("orders-api-staging", env={"PORT": "1"}, secrets=self.SECRETS),
                td("orders-api-prod", env={"PORT": "1", "X": "1"}, secrets=self.SECRETS),
            ],
            services=[
                deployed("catalog-prod", "production"),
                deployed("orders-api-staging", "staging"),
                deployed("orders-api-prod", "production"),
            ],
        )
        assert statuses(run(snap, self.ID)) == {"orders-api": Status.FAIL}

    def test_single_environment_account_gives_skip(self):
        snap = snapshot(
            task_definitions=[td("catalog-prod", env={"PORT": "1"}, secrets=self.SECRETS)],
            services=[deployed("catalog-prod", "production")],
        )
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_app_without_secret_references_passes(self):
        # regression: an account with no `secrets` anywhere (empty secret_refs) used to crash
        snap = self.app({"PORT": "8080"}, {"PORT": "8080"}, secrets=None)
        assert only(run(snap, self.ID)).status == Status.PASS

    def test_app_with_only_secret_references_passes(self):
        # regression: an account with no plaintext variables (empty environment) used to crash
        snap = self.app(None, None)
        assert only(run(snap, self.ID)).status == Status.PASS

    def test_could_not_evaluate(self):
        snap = self.app(
            {"PORT": "8080"},
            {"PORT": "8080"},
            errors=[error("ecs", "DescribeServices", OTHER_REGION)],
            regions=(REGION, OTHER_REGION),
        )
        findings = run(snap, self.ID)
        assert_could_not_evaluate(findings, self.ID, "ecs:DescribeServices", OTHER_REGION)
        assert only(f for f in findings if f.resource_id == "orders-api").status == Status.ERROR


class TestRealAccountShapes:
    """Shapes found in real accounts that the demo does not plant (from a code review)."""

    def test_secret_injected_in_one_environment_and_plain_in_the_other_fails(self):
        snap = snapshot(
            task_definitions=[
                td("pay-staging", secrets={"STRIPE_KEY": sm_arn("pay/staging/stripe")}),
                td("pay-prod", env={"STRIPE_KEY": "sk_live_0123456789abcdefABCD"}),
            ],
            services=[deployed("pay-staging", "staging"), deployed("pay-prod", "production")],
            secrets=[secret("pay/staging/stripe")],
        )
        f = only(run(snap, "TF03-ENV-NAMES-PARITY"))
        assert f.status == Status.FAIL
        assert "STRIPE_KEY is plain text in production but a secret in staging" in f.message

    def test_string_parameter_with_plain_config_resolves(self):
        snap = snapshot(
            task_definitions=[
                td("web-prod", secrets={"FEATURE_FLAGS": ssm_arn("/web/prod/FLAGS")})
            ],
            services=[deployed("web-prod", "production")],
            parameters=[parameter("/web/prod/FLAGS", "String")],
        )
        assert only(run(snap, "TF03-SECRET-REFS-RESOLVE")).status == Status.PASS

    def test_secrets_manager_through_parameter_store_resolves(self):
        ref = ssm_arn("/aws/reference/secretsmanager/web/prod/db")
        snap = snapshot(
            task_definitions=[td("web-prod", secrets={"DB_PASSWORD": ref})],
            services=[deployed("web-prod", "production")],
            secrets=[secret("web/prod/db")],
        )
        assert only(run(snap, "TF03-SECRET-REFS-RESOLVE")).status == Status.PASS

    def test_malformed_reference_fails_only_its_task_definition(self):
        snap = snapshot(
            task_definitions=[
                td("web-prod", secrets={"DB_PASSWORD": "arn:aws:secretsmanager:eu-west-1"}),
                td("api-prod", secrets={"DB_PASSWORD": sm_arn("api/prod/db")}),
            ],
            services=[deployed("web-prod", "production"), deployed("api-prod", "production")],
            secrets=[secret("api/prod/db")],
        )
        got = statuses(run(snap, "TF03-SECRET-REFS-RESOLVE"))
        assert got == {"web-prod:1": Status.FAIL, "api-prod:1": Status.PASS}

    def test_environment_files_are_info_not_pass(self):
        definition = td("web-prod", env={"PORT": "80"})
        definition["containerDefinitions"][0]["environmentFiles"] = [
            {"value": "arn:aws:s3:::cfg/web.env", "type": "s3"}
        ]
        snap = snapshot(
            task_definitions=[definition], services=[deployed("web-prod", "production")]
        )
        assert only(run(snap, "TF03-SECRETS-IN-ENV")).status == Status.INFO

    def test_a_service_scaled_to_zero_does_not_count_as_running(self):
        idle = deployed("pay-prod", "production")
        idle["desiredCount"] = idle["runningCount"] = 0
        snap = snapshot(
            task_definitions=[
                td("pay-staging", secrets={"KEY": sm_arn("pay/staging/key")}),
                td("pay-prod", env={"LEFTOVER": "1"}),
            ],
            services=[deployed("pay-staging", "staging"), idle],
            secrets=[secret("pay/staging/key")],
        )
        # only staging runs: nothing to compare, and the old production revision is not "in use"
        assert only(run(snap, "TF03-ENV-NAMES-PARITY")).status == Status.SKIP

    def test_environment_first_hierarchies_are_compared(self):
        snap = snapshot(
            parameters=[
                parameter("/staging/web/DB_HOST"),
                parameter("/prod/web/DB_HOST"),
                parameter("/prod/web/EXTRA"),
            ]
        )
        f = only(run(snap, "TF03-PARAM-HIERARCHY"))
        assert f.status == Status.FAIL and f.resource_id == "/web/*"
