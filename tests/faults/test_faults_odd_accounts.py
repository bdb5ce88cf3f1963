"""Accounts at the edges: empty, thousands of revisions, and odd-but-valid task definitions.

None of them may crash the inventory, a check, an evidence table or a plot; an empty account
gives no PASS and no FAIL; thousands of revisions cost pages, not calls per revision, and the
running revision's lag is still seen (Prowler's issue #12132 turned such a case into PASS).
"""

from __future__ import annotations

import boto3
import moto
import nbformat
import pytest
from conftest import MOTO_GAPS
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from twelvefactor.checks import registry, run_checks
from twelvefactor.inventory import Inventory
from twelvefactor.redaction import Redactor
from twelvefactor.runner import notebook_paths
from twelvefactor.settings import Settings
from twelvefactor.snapshot import SCHEMA_VERSION, Snapshot
from twelvefactor.workbook import Workbook

REGION = "eu-west-1"
ACCOUNT = "123456789012"
CRASHED = "The check itself failed"


@pytest.fixture
def mocked(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        yield


def everything_renders(wb: Workbook) -> None:
    """Every inventory table, finding and evidence table builds, and every code cell of every
    notebook runs on ``wb`` (executed here, without a kernel: the same calls, much quicker)."""
    import matplotlib.pyplot as plt

    for name, table in wb.inventory.tables().items():
        assert "region" in table.columns, name
    findings = wb.findings
    crashed = findings[findings["message"].str.startswith(CRASHED)]["message"].tolist()
    assert crashed == []
    for check_id in registry():
        wb.evidence(check_id)
    cells = 0
    for path in notebook_paths():
        namespace = {"display": lambda *args, **kwargs: None}
        for cell in nbformat.read(path, as_version=4).cells:
            source = "".join(cell.source)
            if cell.cell_type != "code" or "twelvefactor.open(" in source:
                continue
            namespace["wb"] = wb
            try:
                exec(compile(source, f"{path.name}", "exec"), namespace)  # noqa: S102
            except Exception as exc:
                raise AssertionError(f"{path.name}: {source!r} failed: {exc!r}") from exc
            cells += 1
        plt.close("all")
    assert cells > 20


def test_an_empty_account(mocked):
    wb = Workbook.open(source="live", regions=f"{REGION},us-east-1")
    errors = wb.snapshot.manifest["errors"]
    assert {(e["service"], e["operation"]) for e in errors} <= MOTO_GAPS
    findings = wb.findings
    assert set(findings["check_id"]) == set(registry())  # every check says something
    assert set(findings["status"]) <= {"SKIP", "ERROR"}, findings["status"].value_counts()
    gap_actions = {e["action"] for e in errors}
    for message in findings[findings["status"] == "ERROR"]["message"]:
        assert any(a in message for a in gap_actions), message
    everything_renders(wb)


def test_thousands_of_revisions(mocked):
    revisions = 2000
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName="big-prod")
    container = {"name": "app", "image": "nginx:1.27", "memory": 128, "essential": True}
    for _ in range(revisions):
        ecs.register_task_definition(family="big-prod", containerDefinitions=[container])
    ecs.create_service(
        cluster="big-prod", serviceName="big", taskDefinition="big-prod:1", desiredCount=1
    )
    wb = Workbook.open(source="live", regions=REGION)
    assert (
        wb.snapshot.manifest["errors"] == []
        or {(e["service"], e["operation"]) for e in wb.snapshot.manifest["errors"]} <= MOTO_GAPS
    )
    calls = {c["action"]: c["calls"] for c in wb.snapshot.manifest["api_calls"]}
    assert len(wb.snapshot.get(REGION, "ecs")["active_task_definition_arns"]) == revisions
    assert calls["ecs:DescribeTaskDefinition"] <= 2  # the running and the latest revision
    assert calls["ecs:ListTaskDefinitions"] <= revisions // 100 + 1
    current = wb.findings_for(check_id="TF05-RELEASE-CURRENT")
    assert list(current["status"]) == ["FAIL"], current[["status", "message"]]
    assert str(revisions - 1) in current["message"].iloc[0]
    print(f"\n{revisions} revisions: {sum(calls.values())} API calls in all")


# -- odd but valid task definitions ----------------------------------------------------------
text = st.text(max_size=40)
names = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True)
images = st.one_of(
    text,
    st.sampled_from(
        [
            "nginx",
            "nginx:latest",
            "library/nginx@sha256:" + "a" * 64,
            f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop/app:1.0",
            f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop/app@sha256:" + "b" * 64,
            "public.ecr.aws/x/y:z",
            "localhost:5000/a/b/c:d",
            ":",
            "",
        ]
    ),
)
pairs = st.lists(st.fixed_dictionaries({"name": text, "value": text}), max_size=4)
secrets = st.lists(
    st.fixed_dictionaries(
        {
            "name": text,
            "valueFrom": st.one_of(
                text,
                st.just(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/a/prod/X"),
                st.just(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:a/prod/x-AbCdEf"),
                st.just(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:a:password::"),
            ),
        }
    ),
    max_size=3,
)
optional = {
    "environment": pairs,
    "secrets": secrets,
    "command": st.lists(text, max_size=4),
    "entryPoint": st.lists(text, max_size=3),
    "memory": st.integers(4, 1 << 20),
    "cpu": st.integers(0, 10240),
    "essential": st.booleans(),
    "readonlyRootFilesystem": st.booleans(),
    "privileged": st.booleans(),
    "user": text,
    "portMappings": st.lists(
        st.fixed_dictionaries(
            {"containerPort": st.integers(0, 65535)},
            optional={
                "hostPort": st.integers(0, 65535),
                "protocol": st.sampled_from(["tcp", "udp"]),
                "name": names,
            },
        ),
        max_size=3,
    ),
    "mountPoints": st.lists(
        st.fixed_dictionaries(
            {"sourceVolume": names, "containerPath": text}, optional={"readOnly": st.booleans()}
        ),
        max_size=3,
    ),
    "volumesFrom": st.lists(st.fixed_dictionaries({"sourceContainer": names}), max_size=2),
    "dockerLabels": st.dictionaries(text, text, max_size=3),
    "logConfiguration": st.fixed_dictionaries(
        {"logDriver": st.sampled_from(["awslogs", "json-file", "splunk", "fluentd", "none"])},
        optional={"options": st.dictionaries(text, text, max_size=3)},
    ),
    "healthCheck": st.fixed_dictionaries(
        {"command": st.lists(text, max_size=3)}, optional={"interval": st.integers(5, 300)}
    ),
    "stopTimeout": st.integers(0, 120),
    "dependsOn": st.lists(
        st.fixed_dictionaries(
            {"containerName": names, "condition": st.sampled_from(["START", "HEALTHY"])}
        ),
        max_size=2,
    ),
    "linuxParameters": st.fixed_dictionaries({}, optional={"initProcessEnabled": st.booleans()}),
    "environmentFiles": st.lists(
        st.fixed_dictionaries({"value": text, "type": st.just("s3")}), max_size=2
    ),
}
containers = st.fixed_dictionaries({"name": names, "image": images}, optional=optional)
volumes = st.lists(
    st.fixed_dictionaries(
        {"name": names},
        optional={
            "host": st.fixed_dictionaries({}, optional={"sourcePath": text}),
            "efsVolumeConfiguration": st.fixed_dictionaries(
                {"fileSystemId": names},
                optional={"transitEncryption": st.sampled_from(["ENABLED", "DISABLED"])},
            ),
            "dockerVolumeConfiguration": st.fixed_dictionaries(
                {}, optional={"scope": st.sampled_from(["task", "shared"])}
            ),
        },
    ),
    max_size=3,
)


@st.composite
def task_definitions(draw):
    family = draw(st.from_regex(r"[a-z][a-z0-9-]{0,15}(-(prod|staging|dev))?", fullmatch=True))
    revision = draw(st.integers(1, 10**6))
    td = {
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}",
        "family": family,
        "revision": revision,
        "status": "ACTIVE",
        "containerDefinitions": draw(st.lists(containers, min_size=1, max_size=3)),
        "volumes": draw(volumes),
        "tags": draw(st.lists(st.fixed_dictionaries({"key": text, "value": text}), max_size=3)),
    }
    extra = {
        "networkMode": st.sampled_from(["awsvpc", "bridge", "host", "none"]),
        "cpu": st.sampled_from(["256", "1024", "4 vCPU"]),
        "memory": st.sampled_from(["512", "2048", "8 GB"]),
        "ephemeralStorage": st.fixed_dictionaries({"sizeInGiB": st.integers(20, 200)}),
        "requiresCompatibilities": st.lists(st.sampled_from(["EC2", "FARGATE"]), max_size=2),
        "pidMode": st.sampled_from(["host", "task"]),
    }
    for key, strategy in extra.items():
        if draw(st.booleans()):
            td[key] = draw(strategy)
    return td


@st.composite
def ecs_accounts(draw):
    tds = draw(st.lists(task_definitions(), min_size=1, max_size=4))
    cluster = draw(st.sampled_from(["shop-prod", "shop-staging", "odd"]))
    services = []
    for i, td in enumerate(tds):
        if draw(st.booleans()):
            service = {
                "serviceName": f"svc{i}",
                "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/svc{i}",
                "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}",
                "taskDefinition": td["taskDefinitionArn"],
                "desiredCount": draw(st.integers(0, 50)),
                "launchType": draw(st.sampled_from(["FARGATE", "EC2"])),
                "tags": [],
            }
            if draw(st.booleans()):
                service["deploymentConfiguration"] = {
                    "deploymentCircuitBreaker": {"enable": draw(st.booleans()), "rollback": True}
                }
            if draw(st.booleans()):
                service["loadBalancers"] = [
                    {
                        "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                        f"targetgroup/tg{i}/0123456789abcdef",
                        "containerName": td["containerDefinitions"][0]["name"],
                        "containerPort": 80,
                    }
                ]
            services.append(service)
    return {
        "clusters": [{"clusterName": cluster, "clusterArn": services[0]["clusterArn"]}]
        if services
        else [],
        "services": services,
        "task_definitions": tds,
        "active_task_definition_arns": [td["taskDefinitionArn"] for td in tds],
    }


@settings(
    max_examples=25,
    database=None,  # nothing written into the repository
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: minutes on this data
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ecs=ecs_accounts())
def test_odd_but_valid_task_definitions_never_crash(ecs):
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "account": ACCOUNT,
        "regions": [REGION],
        "errors": [],
        "api_calls": [],
        "files": {},
    }
    snapshot = Snapshot(manifest=manifest, data={(REGION, "ecs"): Redactor("t").tree(ecs)})
    settings_ = Settings(source="snapshot", regions=(REGION,))
    inventory = Inventory(snapshot, settings_)
    for name, table in inventory.tables().items():
        assert "region" in table.columns, name
    findings = run_checks(inventory, settings_)
    crashed = [f"{f.check_id}: {f.message}" for f in findings if f.message.startswith(CRASHED)]
    assert crashed == []
    assert {f.check_id for f in findings} == set(registry())
