"""Unit tests for twelvefactor.redaction: what is detected, what is kept, what markers say."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest

from twelvefactor.redaction import (
    MARKER_RE,
    Redacted,
    Redactor,
    detect,
    is_reference,
    parse_marker,
)

# Planted secrets. Each is distinctive enough that finding it in a JSON dump means it leaked.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
SLACK_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
DB_PASSWORD = "hunter2-Correct-Horse"
URL_PASSWORD = "S3cr3tPassw0rd"
HIGH_ENTROPY = "q8Zr2LmX7pV4nT9sKw3YbH6jF1cD5gA0"


# -- detect: what is a secret ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "name", "kind"),
    [
        pytest.param(ACCESS_KEY_ID, None, "aws-access-key-id", id="akia-no-name"),
        pytest.param(ACCESS_KEY_ID, "SOME_ID", "aws-access-key-id", id="akia-any-name"),
        pytest.param("ASIAIOSFODNN7EXAMPLE", None, "aws-access-key-id", id="asia"),
        pytest.param(f"key={ACCESS_KEY_ID};", None, "aws-access-key-id", id="akia-embedded"),
        pytest.param(
            SECRET_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", "aws-secret-access-key", id="aws-secret"
        ),
        pytest.param(SECRET_ACCESS_KEY, "my_secret", "aws-secret-access-key", id="aws-secret-lc"),
        pytest.param(PRIVATE_KEY, None, "private-key", id="private-key"),
        pytest.param(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA",
            None,
            "private-key",
            id="private-key-truncated",
        ),
        pytest.param(
            f"postgres://user:{URL_PASSWORD}@db.internal/app", None, "url-password", id="url-pw"
        ),
        pytest.param(GITHUB_TOKEN, None, "token", id="ghp"),
        pytest.param(STRIPE_KEY, None, "token", id="sk-live"),
        pytest.param(SLACK_TOKEN, None, "token", id="xoxb"),
        pytest.param(JWT, None, "token", id="jwt"),
        pytest.param(f"Bearer {JWT}", "AUTH_HEADER", "token", id="jwt-embedded"),
        pytest.param("hunter2", "DB_PASSWORD", "secret-name", id="db-password"),
        pytest.param("hunter2", "db_password", "secret-name", id="db-password-lc"),
        pytest.param("abc", "API_KEY", "secret-name", id="api-key"),
        pytest.param("abc", "APIKEY", "secret-name", id="apikey"),
        pytest.param("something", "SENTRY_DSN", "secret-name", id="dsn"),
        pytest.param("something", "ECS_ENGINE_AUTH_DATA", "secret-name", id="ecs8-auth-data"),
        pytest.param(HIGH_ENTROPY, None, "high-entropy", id="high-entropy"),
        pytest.param(HIGH_ENTROPY, "UPSTREAM_HEADER", "high-entropy", id="high-entropy-named"),
    ],
)
def test_detect_finds_secrets(value, name, kind):
    assert detect(value, name) == kind


@pytest.mark.parametrize(
    ("value", "name"),
    [
        pytest.param(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
            "DB_PASSWORD",
            id="secretsmanager-arn",
        ),
        pytest.param(
            "arn:aws:ssm:eu-west-1:123456789012:parameter/app/prod/KEY", "API_KEY", id="ssm-arn"
        ),
        pytest.param("/app/prod/KEY", "API_KEY", id="ssm-path"),
        pytest.param("/app/prod/DB_PASSWORD", "DB_PASSWORD", id="ssm-path-2"),
        pytest.param("{{resolve:secretsmanager:prod/db}}", "DB_PASSWORD", id="cfn-resolve"),
        pytest.param("3600", "TOKEN_TTL", id="number"),
        pytest.param("true", "SECRET_ROTATION_ENABLED", id="bool-true"),
        pytest.param("OFF", "TOKEN_CACHE", id="bool-off"),
        pytest.param("https://api.example.com/v1/items", None, id="plain-url"),
        pytest.param("https://api.example.com/v1/items", "TOKEN_ENDPOINT", id="plain-url-named"),
        pytest.param("123e4567-e89b-12d3-a456-426614174000", None, id="uuid"),
        pytest.param("info", "LOG_LEVEL", id="log-level"),
        pytest.param("eu-west-1", "AWS_REGION", id="region"),
        pytest.param("production", "ENVIRONMENT", id="environment"),
        pytest.param("9fceb02d0ae598e95dc970b74767f19372d61af8", "GIT_SHA", id="git-sha"),
        pytest.param("", "DB_PASSWORD", id="empty"),
        pytest.param("[REDACTED kind=token len=40 hash=0123abcd]", "API_TOKEN", id="marker"),
    ],
)
def test_detect_leaves_non_secrets_alone(value, name):
    assert detect(value, name) is None


def test_detect_ignores_non_strings():
    assert detect(None, "DB_PASSWORD") is None  # type: ignore[arg-type]
    assert detect(3600, "TOKEN_TTL") is None  # type: ignore[arg-type]


def test_is_reference():
    assert is_reference("arn:aws:ssm:eu-west-1:123456789012:parameter/x")
    assert is_reference("arn:aws-us-gov:secretsmanager:us-gov-west-1:1:secret:x")
    assert is_reference("  /app/prod/KEY  ")
    assert is_reference("s3://bucket/key")
    assert not is_reference("hunter2")
    assert not is_reference("https://user:pw@host/")


def test_aws_secret_key_starting_with_slash_is_detected():
    value = "/K7MDENG/bPxRfiCYEXAMPLEKEYwJalrXUtnFEMI"
    assert len(value) == 40
    assert detect(value, "AWS_SECRET_ACCESS_KEY") is not None


# -- markers ---------------------------------------------------------------------------------
def test_marker_format_and_parse():
    redactor = Redactor(salt="pepper")
    marker = redactor.marker("token", GITHUB_TOKEN)
    assert MARKER_RE.fullmatch(marker)
    expected_hash = hashlib.sha256(("pepper" + GITHUB_TOKEN).encode()).hexdigest()[:8]
    assert parse_marker(marker) == Redacted("token", len(GITHUB_TOKEN), expected_hash)
    assert parse_marker(f"prefix {marker} suffix") == Redacted(
        "token", len(GITHUB_TOKEN), expected_hash
    )
    assert redactor.count["token"] == 1


@pytest.mark.parametrize("value", [None, 42, "plain text", "[REDACTED kind=x len=1]"])
def test_parse_marker_returns_none_without_marker(value):
    assert parse_marker(value) is None


def test_hash_depends_on_value_and_salt():
    a1, a2, b = Redactor(salt="audit-a"), Redactor(salt="audit-a"), Redactor(salt="audit-b")
    assert a1.value("hunter2", "DB_PASSWORD") == a2.value("hunter2", "DB_PASSWORD")
    assert (
        parse_marker(a1.value("hunter2", "DB_PASSWORD")).hash
        != parse_marker(b.value("hunter2", "DB_PASSWORD")).hash
    )
    assert (
        parse_marker(a1.value("hunter2", "DB_PASSWORD")).hash
        != parse_marker(a1.value("hunter3", "DB_PASSWORD")).hash
    )


def test_default_salt_is_random():
    first, second = Redactor(), Redactor()
    assert first.salt and second.salt and first.salt != second.salt
    assert first.value("hunter2", "DB_PASSWORD") != second.value("hunter2", "DB_PASSWORD")


# -- value / text -----------------------------------------------------------------------------
def test_url_password_only_password_replaced():
    redactor = Redactor(salt="s")
    out = redactor.value(f"postgres://app_user:{URL_PASSWORD}@db.internal:5432/app", "DATABASE_URL")
    assert URL_PASSWORD not in out
    assert out.startswith("postgres://app_user:[REDACTED kind=url-password ")
    assert out.endswith("]@db.internal:5432/app")
    assert parse_marker(out).length == len(URL_PASSWORD)


def test_text_redacts_every_secret_and_keeps_prose():
    redactor = Redactor(salt="s")
    text = f"export AWS_ACCESS_KEY_ID={ACCESS_KEY_ID} && curl -H 'x: {GITHUB_TOKEN}' https://h/"
    out = redactor.text(text)
    assert ACCESS_KEY_ID not in out and GITHUB_TOKEN not in out
    assert out.startswith("export AWS_ACCESS_KEY_ID=[REDACTED kind=aws-access-key-id len=20 ")
    assert "curl -H 'x: [REDACTED kind=token " in out and out.endswith("' https://h/")
    assert redactor.count == {"aws-access-key-id": 1, "token": 1}


def test_text_redacts_assigned_secrets_but_not_ordinary_words():
    # free text: `password=...`-style assignments are secrets wherever they stand
    out = Redactor(salt="s").text("export DB_PASSWORD=hunter2 && run --verbose")
    assert "hunter2" not in out and out.startswith("export DB_PASSWORD=[REDACTED kind=")
    assert out.endswith(" && run --verbose")
    plain = "reset your password at https://example.com/help"
    assert Redactor(salt="s").text(plain) == plain


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("CONN", "Server=db;User Id=sa;Password=Hunter2!x;", "Hunter2!x"),
        ("JDBC_URL", "jdbc:postgresql://db/shop?user=app&password=s3cr3tpw", "s3cr3tpw"),
        ("CONFIG_JSON", '{"db":{"password":"jsonpw123"}}', "jsonpw123"),
        ("JAVA_TOOL_OPTIONS", "-Dspring.datasource.password=javapw99", "javapw99"),
        ("REDIS_URL", "redis://:Sup3rS3cretPw@cache:6379/0", "Sup3rS3cretPw"),
        ("DB_PASSWORD", "123456", "123456"),
        (
            "SLACK",
            "https://hooks.slack.com/services/T000AAAA/B000BBBB/XXXXXXXXXXXXXXXXXXXX",
            "XXXXXXXXXXXXXXXXXXXX",
        ),
        ("API", "https://api.example.com/v1?api_key=abcd1234efgh", "abcd1234efgh"),
    ],
)
def test_embedded_secrets_are_redacted(name, value, secret):
    out = Redactor(salt="s").value(value, name)
    assert secret not in out and "[REDACTED kind=" in out


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_HOST", "orders-db.cluster-cabcdefghijk.eu-west-1.rds.amazonaws.com"),
        ("BUCKET", "shop-assets-prod-eu-west-1-123456789012"),
        ("QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"),
        ("JWT_SECRET_NAME", "prod/jwt"),
        ("SECRETS_MANAGER_REGION", "eu-west-1"),
        ("TOKEN_TTL", "3600s"),
        ("REQUEST_ID_PREFIX", "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        ("GIT_SHA", "9fceb02d0ae598e95dc970b74767f19372d61af8"),
        ("KMS_KEY", "mrk-1234abcd12ab34cd56ef1234567890ab"),
        ("SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf"),
    ],
)
def test_ordinary_aws_values_are_not_secrets(name, value):
    assert detect(value, name) is None


def test_whole_value_markers_keep_full_length():
    redactor = Redactor(salt="s")
    for value, name, kind in [
        (DB_PASSWORD, "DB_PASSWORD", "secret-name"),
        (SECRET_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", "aws-secret-access-key"),
        (HIGH_ENTROPY, "UPSTREAM_HEADER", "high-entropy"),
    ]:
        out = redactor.value(value, name)
        assert MARKER_RE.fullmatch(out), out
        assert parse_marker(out).kind == kind
        assert parse_marker(out).length == len(value)


# -- tree on a realistic ECS task definition ------------------------------------------------
def task_definition() -> dict:
    return {
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:42",
        "family": "web",
        "revision": 42,
        "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
        "cpu": "512",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [
            {
                "name": "web",
                "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2",
                "essential": True,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "command": [
                    "sh",
                    "-c",
                    f"psql postgres://app_user:{URL_PASSWORD}@db.internal:5432/app -c 'select 1'",
                ],
                "environment": [
                    {"name": "AWS_ACCESS_KEY_ID", "value": ACCESS_KEY_ID},
                    {"name": "AWS_SECRET_ACCESS_KEY", "value": SECRET_ACCESS_KEY},
                    {"name": "DB_PASSWORD", "value": DB_PASSWORD},
                    {"name": "PAYMENTS_KEY", "value": STRIPE_KEY},
                    {"name": "SESSION_SEED", "value": HIGH_ENTROPY},
                    {"name": "TLS_KEY_PEM", "value": PRIVATE_KEY},
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "TOKEN_TTL", "value": "3600"},
                    {"name": "PORT", "value": "8080"},
                    {"name": "FEATURE_X", "value": "true"},
                    {"name": "API_BASE_URL", "value": "https://api.example.com/v1"},
                    {"name": "DB_PASSWORD_PARAM", "value": "/app/prod/DB_PASSWORD"},
                    {"name": "REQUEST_NAMESPACE", "value": "123e4567-e89b-12d3-a456-426614174000"},
                ],
                "secrets": [
                    {
                        "name": "API_TOKEN",
                        "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/app/prod/TOKEN",
                    }
                ],
                "dockerLabels": {
                    "com.example.team": "payments",
                    "com.example.deploy-token": GITHUB_TOKEN,
                    "com.example.notify": SLACK_TOKEN,
                    "com.example.version": "1.4.2",
                },
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1"},
                },
            },
            {
                "name": "sidecar",
                "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
                "environment": [
                    {"name": "OTEL_AUTH", "value": f"Bearer {JWT}"},
                    {"name": "AWS_ACCESS_KEY_ID", "value": ACCESS_KEY_ID},
                ],
            },
        ],
    }


PLANTED = [
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    DB_PASSWORD,
    STRIPE_KEY,
    HIGH_ENTROPY,
    PRIVATE_KEY,
    URL_PASSWORD,
    GITHUB_TOKEN,
    SLACK_TOKEN,
    JWT,
]
KEPT = [
    "info",
    "3600",
    "8080",
    "https://api.example.com/v1",
    "/app/prod/DB_PASSWORD",
    "123e4567-e89b-12d3-a456-426614174000",
    "arn:aws:ssm:eu-west-1:123456789012:parameter/app/prod/TOKEN",
    "arn:aws:iam::123456789012:role/web-task",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2",
    "payments",
    "/ecs/web",
]


def env(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["environment"]}


def test_tree_removes_every_planted_secret():
    original = task_definition()
    dumped = json.dumps(Redactor(salt="s").tree(original))
    for secret in PLANTED:
        assert secret not in dumped, secret
    # the private key body must go too, not only its first line
    assert "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun" not in dumped
    assert original == task_definition(), "tree() must not modify its input"


def test_tree_keeps_non_secrets():
    result = Redactor(salt="s").tree(task_definition())
    web, sidecar = result["containerDefinitions"]
    values = env(web)
    assert values["LOG_LEVEL"] == "info"
    assert values["TOKEN_TTL"] == "3600"
    assert values["PORT"] == "8080"
    assert values["FEATURE_X"] == "true"
    assert values["API_BASE_URL"] == "https://api.example.com/v1"
    assert values["DB_PASSWORD_PARAM"] == "/app/prod/DB_PASSWORD"
    assert values["REQUEST_NAMESPACE"] == "123e4567-e89b-12d3-a456-426614174000"
    assert web["secrets"] == task_definition()["containerDefinitions"][0]["secrets"]
    assert web["dockerLabels"]["com.example.team"] == "payments"
    assert web["dockerLabels"]["com.example.version"] == "1.4.2"
    assert (
        web["logConfiguration"] == task_definition()["containerDefinitions"][0]["logConfiguration"]
    )
    assert web["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    assert web["essential"] is True
    assert result["revision"] == 42
    assert result["family"] == "web"
    assert [c["name"] for c in result["containerDefinitions"]] == ["web", "sidecar"]
    assert [item["name"] for item in web["environment"]] == [
        item["name"] for item in task_definition()["containerDefinitions"][0]["environment"]
    ]
    dumped = json.dumps(result)
    for value in KEPT:
        assert value in dumped, value
    # the command keeps everything but the password
    assert web["command"][:2] == ["sh", "-c"]
    assert web["command"][2].startswith("psql postgres://app_user:[REDACTED kind=url-password ")
    assert web["command"][2].endswith("]@db.internal:5432/app -c 'select 1'")
    assert sidecar["image"] == "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"


def test_tree_markers_are_parseable_and_describe_the_value():
    result = Redactor(salt="s").tree(task_definition())
    web, sidecar = result["containerDefinitions"]
    values = env(web)
    expectations = [
        (values["AWS_ACCESS_KEY_ID"], "aws-access-key-id", ACCESS_KEY_ID),
        (values["AWS_SECRET_ACCESS_KEY"], "aws-secret-access-key", SECRET_ACCESS_KEY),
        (values["DB_PASSWORD"], "secret-name", DB_PASSWORD),
        (values["PAYMENTS_KEY"], "token", STRIPE_KEY),
        (values["SESSION_SEED"], "high-entropy", HIGH_ENTROPY),
        (values["TLS_KEY_PEM"], "private-key", PRIVATE_KEY),
        (web["command"][2], "url-password", URL_PASSWORD),
        (web["dockerLabels"]["com.example.notify"], "token", SLACK_TOKEN),
        (env(sidecar)["OTEL_AUTH"], "token", JWT),
    ]
    for redacted, kind, original in expectations:
        marker = parse_marker(redacted)
        assert marker is not None, redacted
        assert marker.kind == kind, redacted
        assert marker.length == len(original), redacted
        assert len(marker.hash) == 8 and int(marker.hash, 16) >= 0
        assert marker.hash == hashlib.sha256(("s" + original).encode()).hexdigest()[:8]
    # a label named like a token is redacted whatever its kind
    deploy = parse_marker(web["dockerLabels"]["com.example.deploy-token"])
    assert deploy is not None and deploy.length == len(GITHUB_TOKEN)
    assert env(sidecar)["OTEL_AUTH"].startswith("Bearer [REDACTED kind=token ")


def test_tree_same_secret_gets_same_hash_across_containers():
    result = Redactor(salt="s").tree(task_definition())
    web, sidecar = result["containerDefinitions"]
    assert env(web)["AWS_ACCESS_KEY_ID"] == env(sidecar)["AWS_ACCESS_KEY_ID"]


def test_tree_is_idempotent():
    redactor = Redactor(salt="s")
    once = redactor.tree(task_definition())
    twice = redactor.tree(copy.deepcopy(once))
    assert twice == once
    assert Redactor(salt="other").tree(copy.deepcopy(once)) == once


@pytest.mark.parametrize("name", ["DB_DSN", "DB_PASSWORD", "SENTRY_DSN"])
def test_value_with_url_password_under_secret_name_is_idempotent(name):
    redactor = Redactor(salt="s")
    once = redactor.value(f"postgres://app:{URL_PASSWORD}@db.internal/app", name)
    assert redactor.value(once, name) == once


def test_tree_copies_scalars_and_leaves_keys():
    redactor = Redactor(salt="s")
    obj = {"n": 1, "f": 1.5, "b": False, "none": None, ACCESS_KEY_ID: "x"}
    assert redactor.tree(obj) == obj  # dict keys are not values: only values are judged
    assert redactor.tree([ACCESS_KEY_ID])[0].startswith("[REDACTED kind=aws-access-key-id ")


def test_tree_lambda_variables_judged_by_name():
    redactor = Redactor(salt="s")
    out = redactor.tree(
        {"Environment": {"Variables": {"DB_PASSWORD": "hunter2", "STAGE": "prod", "N": 3}}}
    )
    variables = out["Environment"]["Variables"]
    assert parse_marker(variables["DB_PASSWORD"]).kind == "secret-name"
    assert variables["STAGE"] == "prod"
    assert variables["N"] == 3


def test_codebuild_reference_variables_keep_their_secret_names():
    tree = {
        "environmentVariables": [
            {"name": "SONAR_TOKEN", "value": "ci/sonar-token", "type": "SECRETS_MANAGER"},
            {"name": "DB_PASSWORD", "value": "/ci/db-password", "type": "PARAMETER_STORE"},
            {"name": "NPM_TOKEN", "value": "npm_live_value_1234", "type": "PLAINTEXT"},
        ]
    }
    out = Redactor(salt="s").tree(tree)["environmentVariables"]
    assert out[0]["value"] == "ci/sonar-token"
    assert out[1]["value"] == "/ci/db-password"
    assert out[2]["value"].startswith("[REDACTED kind=secret-name")
