""" "Try it": change the demo account, re-collect, and watch a finding turn from FAIL to PASS.

The audit's AWS access is read-only and stays so. The changes here go through a separate, writable
client (:func:`demo_client`) that refuses to run unless its target is the demo account: moto in this
process (inside :func:`twelvefactor.demo.in_process`) or the demo server of ``twelvefactor lab`` /
``twelvefactor demo serve`` on 127.0.0.1.

A notebook's "Try it" section is one line over :func:`exercise`::

    tryit.exercise(wb, "TF03-SECRETS-IN-ENV")

On the demo it makes the exercise's change, collects the account again and shows the finding
before and after. On any other account (live, a snapshot) it changes nothing and says so.
"""

from __future__ import annotations

import html
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..checks import run_checks
from ..errors import ConfigurationError
from ..findings import to_frame
from .scenario import load_scenario
from .seed import DemoClients, in_process, in_process_active, seed_server

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_NOT_DEMO = {
    "live": "this workbook reads a live AWS account",
    "snapshot": "this workbook replays a saved snapshot",
}
DEMO_REGION = "eu-west-1"


# -- the writable demo client -----------------------------------------------------------------
def require_demo_server(endpoint_url: str) -> str:
    """Return ``endpoint_url`` if it is a moto server on this machine's loopback, else raise."""
    parsed = urllib.parse.urlparse(endpoint_url)
    if parsed.scheme != "http" or parsed.hostname not in LOOPBACK_HOSTS:
        raise ConfigurationError(
            "endpoint_url",
            f"{endpoint_url!r} is not the demo server: the demo's writable client only talks to "
            "a moto server on 127.0.0.1.",
            "start one with `twelvefactor lab` or `twelvefactor demo serve` and use its URL "
            "(e.g. http://127.0.0.1:5005).",
        )
    base = endpoint_url.rstrip("/")
    try:
        with urllib.request.urlopen(base + "/moto-api/config", timeout=5) as resp:  # noqa: S310
            json.loads(resp.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError):
        raise ConfigurationError(
            "endpoint_url",
            f"no demo (moto) server answers at {base}.",
            "start one with `twelvefactor lab` or `twelvefactor demo serve --port N`.",
        ) from None
    return base


def _target(endpoint_url: str | None) -> str | None:
    """Where the writable client goes: an explicit URL, in-process moto, or $AWS_ENDPOINT_URL."""
    if endpoint_url:
        return require_demo_server(endpoint_url)
    if in_process_active():
        return None
    env = os.environ.get("AWS_ENDPOINT_URL", "")
    if env:
        return require_demo_server(env)
    raise ConfigurationError(
        "endpoint_url",
        "no demo account to change: the demo's writable client works only inside "
        "twelvefactor.demo.in_process(...) or against the demo server on 127.0.0.1.",
        "start the demo server (`twelvefactor lab`, or `twelvefactor demo serve`) and set "
        "AWS_ENDPOINT_URL to its URL, or pass endpoint_url=.",
    )


def demo_client(service: str, region: str = DEMO_REGION, endpoint_url: str | None = None):
    """A writable boto3 client of the demo account, never of a real one (see the module doc)."""
    return DemoClients(_target(endpoint_url))(service, region)


def reset(wb: Any = None, endpoint_url: str | None = None) -> str:
    """Put the demo server back as seeded; returns a one-line note for the notebook or CLI."""
    url = endpoint_url or (wb.settings.endpoint_url if wb is not None else "") or ""
    if wb is not None and wb.settings.source != "demo":
        return f"reset: {_NOT_DEMO[wb.settings.source]}; nothing was changed."
    if not url and wb is not None:
        return "reset: the in-process demo account starts afresh at every open; nothing to reset."
    base = _target(url or None)
    if base is None:
        return "reset: the in-process demo account starts afresh at every open; nothing to reset."
    seed_server(load_scenario(), base)
    return f"reset: the demo account at {base} is as seeded again."


# -- changes ---------------------------------------------------------------------------------
Clients = Callable[[str, str], Any]

#: Fields of describe_task_definition that register_task_definition takes back unchanged.
TASK_DEFINITION_FIELDS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "ephemeralStorage",
    "runtimePlatform",
)


def new_revision(
    clients: Clients,
    region: str,
    cluster: str,
    service: str,
    change: Callable[[dict[str, Any]], None],
) -> str:
    """Register a new revision of the task definition ``service`` runs, changed by ``change``
    (which edits the register_task_definition arguments in place), and deploy it."""
    ecs = clients("ecs", region)
    running = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    described = ecs.describe_task_definition(
        taskDefinition=running["taskDefinition"], include=["TAGS"]
    )
    td = described["taskDefinition"]
    kwargs = {k: td[k] for k in TASK_DEFINITION_FIELDS if td.get(k)}
    if described.get("tags"):
        kwargs["tags"] = described["tags"]
    change(kwargs)
    arn = ecs.register_task_definition(**kwargs)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=cluster, service=service, taskDefinition=arn)
    return arn.rsplit("/", 1)[-1]


def _move_to_secrets_manager(clients: Clients) -> list[str]:
    region, done = DEMO_REGION, []
    sm = clients("secretsmanager", region)

    def secret_arn(name: str, value: str) -> str:
        try:
            return sm.describe_secret(SecretId=name)["ARN"]
        except sm.exceptions.ResourceNotFoundException:
            done.append(f"created the secret `{name}` in Secrets Manager (value not shown)")
            return sm.create_secret(
                Name=name,
                SecretString=value,
                Tags=[{"Key": "Application", "Value": "payments"}],
            )["ARN"]

    names = {"STRIPE_API_KEY": "payments/prod/stripe-key", "WEBHOOK_SIGNATURE": ""}

    def change(td: dict[str, Any]) -> None:
        app = td["containerDefinitions"][0]
        for var in [v for v in app.get("environment", []) if v["name"] in names]:
            name = names[var["name"]] or f"payments/prod/{var['name'].lower().replace('_', '-')}"
            app["environment"].remove(var)
            app.setdefault("secrets", []).append(
                {"name": var["name"], "valueFrom": secret_arn(name, var["value"])}
            )
            done.append(f"`{var['name']}`: from the plain environment to a secret reference")

    revision = new_revision(clients, region, "shop-prod", "payments", change)
    return [*done, f"registered `{revision}` and deployed it to `shop-prod/payments`"]


def _immutable_tags(clients: Clients) -> list[str]:
    clients("ecr", DEMO_REGION).put_image_tag_mutability(
        repositoryName="shop/payments", imageTagMutability="IMMUTABLE"
    )
    return ["set the tags of the ECR repository `shop/payments` to IMMUTABLE"]


def _one_repository(clients: Clients) -> list[str]:
    region = DEMO_REGION
    ecs = clients("ecs", region)
    staging = ecs.describe_services(cluster="shop-staging", services=["catalog"])["services"][0]
    tested = ecs.describe_task_definition(taskDefinition=staging["taskDefinition"])
    image = tested["taskDefinition"]["containerDefinitions"][0]["image"]

    def change(td: dict[str, Any]) -> None:
        td["containerDefinitions"][0]["image"] = image

    revision = new_revision(clients, region, "shop-prod", "catalog", change)
    short = image.split("/", 1)[-1][:40]
    return [f"registered `{revision}` with staging's image `{short}...` and deployed it"]


def _locator_by_name(clients: Clients) -> list[str]:
    def change(td: dict[str, Any]) -> None:
        for var in td["containerDefinitions"][0].get("environment", []):
            if var["name"] == "SMTP_HOST":
                var["value"] = "smtp.prod.shop.internal"

    revision = new_revision(clients, DEMO_REGION, "shop-prod", "notifications-worker", change)
    return [
        "`SMTP_HOST`: `10.0.3.17` replaced by the name `smtp.prod.shop.internal`",
        f"registered `{revision}` and deployed it to `shop-prod/notifications-worker`",
    ]


def _rollback(clients: Clients) -> list[str]:
    clients("ecs", DEMO_REGION).update_service(
        cluster="shop-prod",
        service="payments",
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
    )
    return ["turned on the deployment circuit breaker with rollback on `shop-prod/payments`"]


def _readonly_root(clients: Clients) -> list[str]:
    def change(td: dict[str, Any]) -> None:
        worker = td["containerDefinitions"][0]
        worker["readonlyRootFilesystem"] = True
        if not any(v["name"] == "scratch" for v in td.get("volumes", [])):
            td["volumes"] = [*td.get("volumes", []), {"name": "scratch"}]
            worker["mountPoints"] = [
                *worker.get("mountPoints", []),
                {"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False},
            ]

    revision = new_revision(clients, DEMO_REGION, "shop-prod", "reports", change)
    return [
        "`worker`: read-only root filesystem, a task-scoped `scratch` volume at `/tmp`",
        f"registered `{revision}` and deployed it to `shop-prod/reports`",
    ]


def _autoscale_payments(clients: Clients) -> list[str]:
    aas = clients("application-autoscaling", DEMO_REGION)
    common = {
        "ServiceNamespace": "ecs",
        "ResourceId": "service/shop-prod/payments",
        "ScalableDimension": "ecs:service:DesiredCount",
    }
    aas.register_scalable_target(**common, MinCapacity=2, MaxCapacity=8)
    aas.put_scaling_policy(
        **common,
        PolicyName="payments-cpu60",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
    )
    return [
        "widened the scalable target of `shop-prod/payments` from 2-2 to 2-8 tasks",
        "added the target-tracking policy `payments-cpu60` (average CPU at 60 %)",
    ]


def _real_health_check(clients: Clients) -> list[str]:
    def change(td: dict[str, Any]) -> None:
        td["containerDefinitions"][0]["healthCheck"] = {
            "command": ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"],
            "interval": 15,
            "retries": 3,
            "startPeriod": 30,
        }

    revision = new_revision(clients, DEMO_REGION, "shop-prod", "payments", change)
    return [
        "`app`: the health check `curl -f ... || exit 0` (always healthy) replaced by "
        "`curl -fs http://localhost:8080/health || exit 1`",
        f"registered `{revision}` and deployed it to `shop-prod/payments`",
    ]


def _private_addresses(clients: Clients) -> list[str]:
    ecs = clients("ecs", DEMO_REGION)
    running = ecs.describe_services(cluster="shop-prod", services=["payments"])["services"][0]
    vpc = dict(running["networkConfiguration"]["awsvpcConfiguration"])
    vpc["assignPublicIp"] = "DISABLED"
    ecs.update_service(
        cluster="shop-prod",
        service="payments",
        networkConfiguration={"awsvpcConfiguration": vpc},
    )
    return ["`shop-prod/payments`: `assignPublicIp` from ENABLED to DISABLED (same subnets)"]


def _log_retention(clients: Clients) -> list[str]:
    clients("logs", DEMO_REGION).put_retention_policy(
        logGroupName="/ecs/payments-prod", retentionInDays=90
    )
    return ["set the retention of the log group `/ecs/payments-prod` to 90 days"]


def _platform_latest(clients: Clients) -> list[str]:
    clients("ecs", DEMO_REGION).update_service(
        cluster="shop-prod", service="payments", platformVersion="LATEST"
    )
    return ["`shop-prod/payments`: Fargate platform version from 1.3.0 to LATEST, as staging"]


def _pin_schedule(clients: Clients) -> list[str]:
    ecs, scheduler = clients("ecs", DEMO_REGION), clients("scheduler", DEMO_REGION)
    running = ecs.describe_services(cluster="shop-prod", services=["reports"])["services"][0]
    schedule = scheduler.get_schedule(Name="reports-daily", GroupName="default")
    target = dict(schedule["Target"])
    target["EcsParameters"] = dict(target["EcsParameters"])
    target["EcsParameters"]["TaskDefinitionArn"] = running["taskDefinition"]
    scheduler.update_schedule(
        Name="reports-daily",
        GroupName="default",
        ScheduleExpression=schedule["ScheduleExpression"],
        FlexibleTimeWindow=schedule["FlexibleTimeWindow"],
        State=schedule.get("State", "ENABLED"),
        Target=target,
    )
    revision = running["taskDefinition"].rsplit("/", 1)[-1]
    return [f"the schedule `reports-daily` now runs `{revision}`, the revision `reports` runs"]


@dataclass(frozen=True)
class Exercise:
    """One change to the demo account that turns one check's finding from FAIL to PASS."""

    check_id: str
    title: str
    #: the resource(s) whose finding flips, revision numbers left out ("payments-prod", ...)
    subjects: tuple[str, ...]
    change: Callable[[Clients], list[str]]


EXERCISES: dict[str, Exercise] = {
    e.check_id: e
    for e in [
        Exercise(
            "TF01-APP-ONE-REPO",
            "deploy to production the image staging tested, from the same repository",
            ("catalog",),
            _one_repository,
        ),
        Exercise(
            "TF02-TAG-IMMUTABILITY",
            "make the tags of shop/payments immutable",
            ("shop/payments",),
            _immutable_tags,
        ),
        Exercise(
            "TF03-SECRETS-IN-ENV",
            "move payments' pasted secrets into Secrets Manager",
            ("payments-prod",),
            _move_to_secrets_manager,
        ),
        Exercise(
            "TF04-NO-HARDCODED-LOCATOR",
            "give notifications-worker its SMTP server by name, not by IP address",
            ("notifications-worker-prod",),
            _locator_by_name,
        ),
        Exercise(
            "TF05-DEPLOYMENT-ROLLBACK",
            "deploy payments with a circuit breaker that rolls back",
            ("shop-prod/payments",),
            _rollback,
        ),
        Exercise(
            "TF06-READONLY-ROOT",
            "run the reports worker on a read-only root filesystem",
            ("reports-prod/worker",),
            _readonly_root,
        ),
        Exercise(
            "TF08-AUTOSCALING",
            "let payments scale with its load: a real range and a target-tracking policy",
            ("shop-prod/payments",),
            _autoscale_payments,
        ),
        Exercise(
            "TF09-HEALTH-CHECK",
            "give payments a health check that can fail",
            ("payments-prod/app",),
            _real_health_check,
        ),
        Exercise(
            "TF07-NO-PUBLIC-IP",
            "keep the payments tasks on private addresses",
            ("shop-prod/payments",),
            _private_addresses,
        ),
        Exercise(
            "TF11-LOG-RETENTION",
            "let payments' production logs expire after 90 days",
            ("/ecs/payments-prod",),
            _log_retention,
        ),
        Exercise(
            "TF10-PLATFORM-VERSION",
            "run payments on the same Fargate platform version in production as in staging",
            ("payments",),
            _platform_latest,
        ),
        Exercise(
            "TF12-SCHEDULE-PINNED",
            "pin the reports-daily schedule to the revision the reports service runs",
            ("schedule/reports-daily",),
            _pin_schedule,
        ),
    ]
}


# -- run an exercise --------------------------------------------------------------------------
_REVISION = re.compile(r":\d+(?=/|$)")


def subject(resource_id: str) -> str:
    """A resource id without its task-definition revision ("payments-prod:1/app" -> .../app)."""
    return _REVISION.sub("", resource_id)


@dataclass
class TryIt:
    """What an exercise did and the finding before and after (displays itself in a notebook)."""

    exercise: Exercise | None
    note: str
    done: list[str]
    table: pd.DataFrame
    workbook: Any = None

    @property
    def flipped(self) -> bool:
        """Every subject was FAIL before and is PASS after."""
        t = self.table
        return bool(len(t)) and bool(
            ((t["status before"] == "FAIL") & (t["status after"] == "PASS")).all()
        )

    def _repr_html_(self) -> str:
        if self.exercise is None:
            return f"<p><b>Try it:</b> {html.escape(self.note)}</p>"
        steps = "".join(f"<li>{_md_code(s)}</li>" for s in self.done)
        return (
            f"<p><b>Try it: {html.escape(self.exercise.title)}</b> "
            f"({html.escape(self.exercise.check_id)})</p><ul>{steps}</ul>"
            f"{self.table.to_html(index=False)}<p>{_md_code(self.note)}</p>"
        )

    def __repr__(self) -> str:
        lines = [f"Try it: {self.note}", *(f"- {s}" for s in self.done)]
        if len(self.table):
            lines.append(self.table.to_string(index=False))
        return "\n".join(lines)


def _md_code(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _compare(ex: Exercise, before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name in ex.subjects:
        b = before[before["resource_id"].map(subject) == name]
        a = after[after["resource_id"].map(subject) == name]
        rows.append(
            {
                "resource": name,
                "before": ", ".join(b["resource_id"]) or "(none)",
                "status before": "/".join(sorted(set(b["status"]))) or "(none)",
                "after": ", ".join(a["resource_id"]) or "(none)",
                "status after": "/".join(sorted(set(a["status"]))) or "(none)",
                "message after": " ".join(a["message"]),
            }
        )
    return pd.DataFrame(rows)


def _recollect(wb: Any, change: Callable[[Clients], list[str]]) -> tuple[list[str], Any]:
    from ..workbook import Workbook, acquire_snapshot

    settings = wb.settings
    if settings.endpoint_url:  # the lab's demo server: the change stays until `reset`
        base = require_demo_server(settings.endpoint_url)
        done = change(DemoClients(base))
        return done, Workbook(*acquire_snapshot(settings))
    # in-process moto: seed a fresh demo, change it, collect it, all inside one mock
    from ..aws import AwsAccess
    from ..collect import collect
    from ..workbook import _add_local_repos

    with in_process(load_scenario()):
        done = change(DemoClients(None))
        snap = collect(AwsAccess(settings, demo_in_process=True), settings, source="demo")
    _add_local_repos(settings, snap)
    return done, Workbook(settings, snap)


def exercise(wb: Any, check_id: str) -> TryIt:
    """Run the "Try it" exercise of ``check_id`` on the demo account behind ``wb``.

    Makes the change through the demo's writable client, collects the account again and returns
    the finding before and after. Changes nothing unless ``wb`` is on the demo account.
    """
    if check_id not in EXERCISES:
        raise ConfigurationError(
            "check_id", f"no Try-it exercise for {check_id!r}.", f"use one of {sorted(EXERCISES)}."
        )
    ex = EXERCISES[check_id]
    if wb.settings.source != "demo":
        return TryIt(
            None,
            f"{_NOT_DEMO[wb.settings.source]}, not the demo account: nothing was changed. The "
            "exercises run only on the built-in demo account (`make lab`).",
            [],
            pd.DataFrame(),
        )
    before = wb.findings_for(check_id=check_id)
    done, after_wb = _recollect(wb, ex.change)
    # only this check is evaluated again (the whole catalog would take seconds more)
    after = to_frame(run_checks(after_wb.inventory, after_wb.settings, ids=[check_id]))
    result = TryIt(ex, "", done, _compare(ex, before, after))
    result.workbook = after_wb
    where = (
        "The change stays on the demo server: re-run the notebook from the top to see every "
        "table with it; `tryit.reset(wb)` puts the demo back as seeded."
        if wb.settings.endpoint_url
        else "This ran on a fresh in-process copy of the demo, which starts afresh at every open; "
        "to keep changes and explore them, use the demo server (`make lab`)."
    )
    if result.flipped:
        result.note = f"FAIL -> PASS: the finding turned. {where}"
    elif set(result.table["status before"]) == {"PASS"}:
        result.note = f"Already PASS before: the change was made earlier. {where}"
    else:
        result.note = f"The finding did not turn from FAIL to PASS: see the table. {where}"
    return result
