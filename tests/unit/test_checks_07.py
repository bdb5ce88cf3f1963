"""Unit tests for the factor VII checks (twelvefactor.checks.port_binding), run through the engine.

Every check gets a PASS, a FAIL, an empty account (one SKIP from the engine) and a
could-not-evaluate case (an access-denied collection error on one of its catalog iam_actions:
an ERROR naming the action, and no PASS), plus the shapes real accounts have.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fixtures import (
    ACCOUNT,
    REGION,
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
from matplotlib.figure import Figure

from twelvefactor.catalog import load_catalog
from twelvefactor.checks.port_binding import CHECK_IDS, route_table
from twelvefactor.findings import Status
from twelvefactor.plots import factor_matrix_table
from twelvefactor.workbook import Workbook

LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/shop-prod/50dc6c495c"
NS_ARN = f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:service/srv-orders"


# -- local builders --------------------------------------------------------------------------
def ctr(name: str = "app", ports: list[dict[str, Any]] | None = None, **extra: Any) -> dict:
    out = container(name)
    out["portMappings"] = ports if ports is not None else [{"containerPort": 8080}]
    return out | extra


def port(container_port: int = 8080, host_port: int | None = None) -> dict[str, Any]:
    return {"containerPort": container_port, "protocol": "tcp"} | (
        {"hostPort": host_port} if host_port is not None else {}
    )


def tdef(
    family: str = "orders-api-prod",
    mode: str | None = "awsvpc",
    containers: list[dict[str, Any]] | None = None,
    revision: int = 1,
) -> dict[str, Any]:
    out = td(family, revision, containers=containers or [ctr()])
    if mode is None:
        out.pop("networkMode")
    else:
        out["networkMode"] = mode
    if mode != "awsvpc":
        out["requiresCompatibilities"] = ["EC2"]
    return out


def svc(
    family: str = "orders-api-prod", env: str = "production", revision: int = 1, **extra: Any
) -> dict[str, Any]:
    name = family.rsplit("-", 1)[0]
    return service(f"shop-{env}", name, td_arn(family, revision), env) | extra


def tg_arn(name: str) -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/73e2d6bc24d8a067"


def target_group(name: str = "orders-api-prod", **extra: Any) -> dict[str, Any]:
    return {
        "TargetGroupArn": tg_arn(name),
        "TargetGroupName": name,
        "Protocol": "HTTP",
        "Port": 8080,
        "TargetType": "ip",
        "HealthCheckPort": "traffic-port",
        "HealthCheckPath": "/health",
        "LoadBalancerArns": [LB_ARN],
        "attributes": {"stickiness.enabled": "false"},
        "Tags": [],
    } | extra


def behind(s: dict[str, Any], tg: str = "orders-api-prod", container_port: int = 8080) -> dict:
    return s | {
        "loadBalancers": [
            {"targetGroupArn": tg_arn(tg), "containerName": "app", "containerPort": container_port}
        ]
    }


def listener(port_: int, protocol: str, actions: list[dict[str, Any]] | None = None) -> dict:
    return {
        "ListenerArn": f"{LB_ARN.replace('loadbalancer', 'listener')}/{port_}",
        "LoadBalancerArn": LB_ARN,
        "Port": port_,
        "Protocol": protocol,
        "DefaultActions": actions or [{"Type": "forward", "TargetGroupArn": tg_arn("x")}],
    }


REDIRECT = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443"}}]


def with_elbv2(snap, groups=None, listeners=None, scheme: str = "internet-facing"):
    snap.data[(REGION, "elbv2")] = {
        "load_balancers": [
            {
                "LoadBalancerArn": LB_ARN,
                "LoadBalancerName": "shop-prod",
                "Scheme": scheme,
                "Type": "application",
                "Tags": [],
            }
        ],
        "target_groups": groups if groups is not None else [target_group()],
        "listeners": listeners or [],
    }
    return snap


def assert_could_not_evaluate(findings, check_id: str, action: str):
    assert action in load_catalog()[check_id].iam_actions
    assert all(f.status not in (Status.PASS, Status.SKIP) for f in findings), findings
    gap = only(f for f in findings if action in f.message)
    assert gap.status == Status.ERROR
    assert gap.message.startswith(f"Could not evaluate: {action} failed in {REGION}")
    assert evidence(gap)["missing_action"] == action


# -- shared ----------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_empty_account_gives_one_skip(check_id):
    f = only(run(snapshot(), check_id))
    assert f.status == Status.SKIP and f.resource_id == "*"


def test_catalog_holds_exactly_these_factor_vii_checks():
    catalog = load_catalog()
    assert {c for c, m in catalog.items() if m.factor == 7} == set(CHECK_IDS)
    for check_id in CHECK_IDS:
        assert catalog[check_id].iam_actions


@pytest.mark.parametrize(
    ("check_id", "action"),
    [
        ("TF07-AWSVPC", "ecs:ListTaskDefinitions"),
        ("TF07-NO-FIXED-HOST-PORT", "ecs:DescribeServices"),
        ("TF07-SERVICE-EXPORTED", "ecs:DescribeServices"),
        ("TF07-PORTS-MATCH", "elasticloadbalancing:DescribeTargetGroups"),
        ("TF07-NO-PUBLIC-IP", "ecs:ListServices"),
        ("TF07-HTTPS-LISTENERS", "elasticloadbalancing:DescribeListeners"),
    ],
)
def test_could_not_evaluate(check_id, action):
    service_name, operation = action.split(":")
    snap = snapshot(
        task_definitions=[tdef()],
        services=[behind(svc())],
        errors=[error("elbv2" if service_name != "ecs" else "ecs", operation)],
    )
    with_elbv2(snap, listeners=[listener(443, "HTTPS")])
    assert_could_not_evaluate(run(snap, check_id), check_id, action)


# -- TF07-AWSVPC -----------------------------------------------------------------------------
class TestAwsvpc:
    ID = "TF07-AWSVPC"

    @pytest.mark.parametrize(
        ("mode", "status"),
        [
            ("awsvpc", Status.PASS),
            ("host", Status.FAIL),
            ("bridge", Status.FAIL),
            (None, Status.FAIL),  # not set: bridge on Linux instances
            ("none", Status.SKIP),
        ],
    )
    def test_network_modes(self, mode, status):
        f = only(run(snapshot(task_definitions=[tdef(mode=mode)]), self.ID))
        assert (f.resource_id, f.status) == ("orders-api-prod:1", status)
        if mode is None:
            assert "bridge (the default)" in f.message
            assert evidence(f)["network_mode"] == "(not set: bridge)"


# -- TF07-NO-FIXED-HOST-PORT -----------------------------------------------------------------
class TestNoFixedHostPort:
    ID = "TF07-NO-FIXED-HOST-PORT"

    def judge(self, mode, ports, services=()):
        snap = snapshot(
            task_definitions=[tdef(mode=mode, containers=[ctr(ports=ports)])],
            services=list(services),
        )
        return only(run(snap, self.ID))

    @pytest.mark.parametrize(
        ("mode", "mapping", "status"),
        [
            ("awsvpc", port(8080), Status.PASS),
            ("awsvpc", port(8080, 8080), Status.PASS),  # ECS fills hostPort in awsvpc
            ("bridge", port(80), Status.PASS),  # dynamic
            ("bridge", port(80, 0), Status.PASS),  # dynamic, spelled 0
            ("bridge", port(80, 80), Status.FAIL),
            ("bridge", port(80, 8081), Status.FAIL),
            (None, port(80, 80), Status.FAIL),
            ("host", port(80), Status.FAIL),
            ("none", port(80), Status.SKIP),
        ],
    )
    def test_port_mappings(self, mode, mapping, status):
        f = self.judge(mode, [mapping])
        assert (f.resource_id, f.status) == ("orders-api-prod:1/app", status)

    def test_fixed_host_port_message_names_the_mapping(self):
        f = self.judge("bridge", [port(80, 80), port(9000)])
        assert "80 -> 80" in f.message and "9000" not in f.message.split(":")[1]

    def test_containers_without_ports_are_not_judged(self):
        snap = snapshot(task_definitions=[tdef(containers=[ctr(ports=[]), ctr("otel", ports=[])])])
        assert only(run(snap, self.ID)).resource_id == "*"  # the engine's SKIP

    def test_a_routed_port_the_container_does_not_declare_fails(self):
        f = self.judge("awsvpc", [port(8080)], [behind(svc(), container_port=9090)])
        assert f.status == Status.FAIL
        assert "9090" in f.message and evidence(f)["routed_ports"] == [9090]

    def test_a_routed_container_without_ports_fails(self):
        f = self.judge("awsvpc", [], [behind(svc())])
        assert f.status == Status.FAIL


# -- TF07-SERVICE-EXPORTED -------------------------------------------------------------------
class TestServiceExported:
    ID = "TF07-SERVICE-EXPORTED"

    def judge(self, s, containers=None, cloud_map=()):
        snap = snapshot(task_definitions=[tdef(containers=containers)], services=[s])
        with_elbv2(snap)
        snap.data[(REGION, "servicediscovery")] = {
            "namespaces": [{"Id": "ns-1", "Name": "shop.local"}],
            "services": list(cloud_map),
        }
        return only(run(snap, self.ID))

    def test_behind_a_load_balancer_passes(self):
        f = self.judge(behind(svc()))
        assert (f.resource_id, f.status) == ("shop-production/orders-api", Status.PASS)
        assert "target group orders-api-prod" in f.message

    def test_cloud_map_passes_and_is_named(self):
        registry = {"Id": "srv-orders", "Name": "orders-api", "NamespaceId": "ns-1", "Arn": NS_ARN}
        f = self.judge(svc(serviceRegistries=[{"registryArn": NS_ARN}]), cloud_map=[registry])
        assert f.status == Status.PASS
        assert evidence(f)["cloud_map"] == ["orders-api.shop.local"]

    def test_service_connect_server_passes(self):
        connect = {"enabled": True, "namespace": "shop", "services": [{"portName": "http"}]}
        f = self.judge(svc(deployments=[{"serviceConnectConfiguration": connect}]))
        assert f.status == Status.PASS
        assert evidence(f)["service_connect"] == ["http"]

    def test_service_connect_client_only_does_not_export(self):
        connect = {"enabled": True, "namespace": "shop"}
        f = self.judge(svc(deployments=[{"serviceConnectConfiguration": connect}]))
        assert f.status == Status.FAIL

    def test_a_port_reached_by_nothing_fails(self):
        f = self.judge(svc())
        assert f.status == Status.FAIL
        assert "app:8080" in f.message and "changing IP addresses" in f.message

    def test_a_worker_without_ports_is_skipped(self):
        f = self.judge(svc(), containers=[ctr(ports=[])])
        assert f.status == Status.SKIP

    def test_an_unreadable_task_definition_is_an_error(self):
        snap = snapshot(services=[svc()])
        f = only(run(snap, self.ID))
        assert f.status == Status.ERROR and "could not be read" in f.message


# -- TF07-PORTS-MATCH ------------------------------------------------------------------------
class TestPortsMatch:
    ID = "TF07-PORTS-MATCH"

    def judge(self, group=None, mode="awsvpc", ports=None, container_port=8080, services=None):
        snap = snapshot(
            task_definitions=[tdef(mode=mode, containers=[ctr(ports=ports)])],
            services=services or [behind(svc(), container_port=container_port)],
        )
        with_elbv2(snap, [group or target_group()])
        return run(snap, self.ID)

    def test_matching_ports_pass(self):
        f = only(self.judge())
        assert (f.resource_id, f.status) == ("orders-api-prod", Status.PASS)
        assert f.resource_arn == tg_arn("orders-api-prod")

    def test_health_checks_on_another_port_fail(self):
        f = only(self.judge(target_group(HealthCheckPort="8081")))
        assert f.status == Status.FAIL
        assert "health checks probe port 8081" in f.message

    def test_health_check_port_equal_to_the_container_port_passes(self):
        assert only(self.judge(target_group(HealthCheckPort="8080"))).status == Status.PASS

    def test_target_group_port_differing_from_the_container_fails(self):
        f = only(self.judge(target_group(Port=80)))
        assert f.status == Status.FAIL and "port is 80" in f.message

    def test_undeclared_container_port_fails(self):
        f = only(self.judge(container_port=9090, group=target_group(Port=9090)))
        assert f.status == Status.FAIL and "declares no port 9090" in f.message

    def test_bridge_with_dynamic_ports_needs_the_traffic_port(self):
        dynamic = [port(80)]
        ok = only(self.judge(target_group(Port=80), "bridge", dynamic, 80))
        assert ok.status == Status.PASS and "dynamic host ports" in ok.message
        bad = only(self.judge(target_group(Port=80, HealthCheckPort="80"), "bridge", dynamic, 80))
        assert bad.status == Status.FAIL and "dynamic host ports" in bad.message

    def test_bridge_with_a_fixed_host_port_compares_the_host_port(self):
        fixed = [port(80, 8000)]
        f = only(self.judge(target_group(Port=8000), "bridge", fixed, 80))
        assert f.status == Status.PASS

    def test_target_groups_in_front_of_no_service_are_not_judged(self):
        snap = snapshot(task_definitions=[tdef()], services=[svc()])
        with_elbv2(snap, [target_group()])
        assert only(run(snap, self.ID)).status == Status.SKIP

    def test_a_service_registered_with_a_deleted_target_group_fails(self):
        snap = snapshot(task_definitions=[tdef()], services=[behind(svc(), "gone")])
        with_elbv2(snap, [])
        f = only(run(snap, self.ID))
        assert (f.resource_id, f.status) == ("gone", Status.FAIL)

    def test_placed_like_the_services_it_fronts(self):
        f = only(self.judge(target_group(TargetGroupName="tg-1")))
        assert (f.application, f.environment) == ("orders-api", "production")


# -- TF07-NO-PUBLIC-IP -----------------------------------------------------------------------
def vpc(assign: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"]}
    if assign is not None:
        config["assignPublicIp"] = assign
    return {"networkConfiguration": {"awsvpcConfiguration": config}}


class TestNoPublicIp:
    ID = "TF07-NO-PUBLIC-IP"

    def judge(self, s, mode="awsvpc"):
        return only(run(snapshot(task_definitions=[tdef(mode=mode)], services=[s]), self.ID))

    @pytest.mark.parametrize(
        ("assign", "status"),
        [("DISABLED", Status.PASS), (None, Status.PASS), ("ENABLED", Status.FAIL)],
    )
    def test_assign_public_ip(self, assign, status):
        f = self.judge(svc(**vpc(assign)))
        assert (f.resource_id, f.status) == ("shop-production/orders-api", status)

    def test_a_task_set_with_public_ip_fails(self):
        task_set = {"id": "ecs-svc/123"} | vpc("ENABLED")
        f = self.judge(svc(taskSets=[task_set], **vpc("DISABLED")))
        assert f.status == Status.FAIL and "task set ecs-svc/123" in f.message

    def test_bridge_services_on_instances_are_skipped(self):
        f = self.judge(svc(launchType="EC2"), mode="bridge")
        assert f.status == Status.SKIP

    def test_unknown_network_mode_is_an_error(self):
        s = svc(launchType="EC2")
        f = only(run(snapshot(services=[s]), self.ID))
        assert f.status == Status.ERROR


# -- TF07-HTTPS-LISTENERS --------------------------------------------------------------------
class TestHttpsListeners:
    ID = "TF07-HTTPS-LISTENERS"

    def judge(self, listeners, scheme="internet-facing", services=None):
        snap = snapshot(task_definitions=[tdef()], services=services or [behind(svc())])
        with_elbv2(snap, listeners=listeners, scheme=scheme)
        return run(snap, self.ID)

    def test_https_and_redirect_pass_plain_http_fails(self):
        findings = self.judge(
            [listener(443, "HTTPS"), listener(80, "HTTP", REDIRECT), listener(8080, "HTTP")]
        )
        assert statuses(findings) == {
            "shop-prod:443": Status.PASS,
            "shop-prod:80": Status.PASS,
            "shop-prod:8080": Status.FAIL,
        }
        fail = only(findings, Status.FAIL)
        assert "shop-production/orders-api" in fail.message
        assert (fail.application, fail.environment) == ("orders-api", "production")

    def test_redirect_to_http_is_not_enough(self):
        to_http = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTP", "Port": "8080"}}]
        assert only(self.judge([listener(80, "HTTP", to_http)])).status == Status.FAIL

    def test_tls_passes_and_tcp_is_skipped(self):
        findings = self.judge([listener(443, "TLS"), listener(5432, "TCP")])
        assert statuses(findings) == {
            "shop-prod:443": Status.PASS,
            "shop-prod:5432": Status.SKIP,
        }

    def test_internal_load_balancers_are_not_judged(self):
        f = only(self.judge([listener(80, "HTTP")], scheme="internal"))
        assert f.resource_id == "*" and f.status == Status.SKIP

    def test_load_balancers_in_front_of_no_service_are_not_judged(self):
        f = only(self.judge([listener(80, "HTTP")], services=[svc()]))
        assert f.resource_id == "*"


# -- evidence tables and pictures ------------------------------------------------------------
@pytest.fixture
def workbook():
    snap = snapshot(
        task_definitions=[
            tdef(),
            tdef("orders-api-staging"),
            tdef("legacy", mode="bridge", containers=[ctr(ports=[port(80, 80)])]),
        ],
        services=[
            behind(svc(**vpc("ENABLED"))),
            svc("orders-api-staging", env="staging"),
            behind(service("legacy", "legacy", td_arn("legacy"), "production"), "legacy", 80),
        ],
    )
    with_elbv2(
        snap,
        [target_group(), target_group("legacy", Port=80, HealthCheckPort="8080")],
        [listener(80, "HTTP")],
    )
    return Workbook(settings(), snap)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_every_check_has_an_evidence_table(workbook, check_id):
    table = workbook.evidence(check_id)
    assert isinstance(table, pd.DataFrame) and not table.empty
    assert list(table.columns[:3]) == ["application", "environment", "region"]


def test_evidence_tables_keep_their_columns_on_an_empty_account():
    wb = Workbook(settings(), snapshot())
    for check_id in CHECK_IDS:
        table = wb.evidence(check_id)
        assert table.empty and "application" in table.columns


def test_ports_table_shows_both_sides_of_the_load_balancer(workbook):
    table = workbook.evidence("TF07-PORTS-MATCH").set_index("target_group")
    assert table.loc["legacy", "health_check_port"] == "8080"
    assert table.loc["legacy", "registered_port"] == "80"
    assert table.loc["legacy", "status"] == "FAIL"


def test_matrix_and_routes(workbook):
    matrix = factor_matrix_table(workbook, 7).set_index(["row", "check_id"])
    assert matrix.loc[("orders-api (production)", "TF07-NO-PUBLIC-IP"), "status"] == "FAIL"
    assert matrix.loc[("orders-api (staging)", "TF07-SERVICE-EXPORTED"), "status"] == "FAIL"
    routes = route_table(workbook)
    assert routes.loc["staging", "not exported"] == 1
    assert routes.loc["production", "load balancer"] == 2


@pytest.mark.parametrize("name", ["port-matrix", "service-routes"])
def test_plots_are_figures(workbook, name):
    assert isinstance(workbook.plot(name), Figure)
    assert isinstance(Workbook(settings(), snapshot()).plot(name), Figure)


def test_listeners_of_one_load_balancer_not_read_is_an_error():
    snap = snapshot(
        task_definitions=[tdef()],
        services=[behind(svc())],
        errors=[error("elbv2", "DescribeListeners", resource=LB_ARN)],
    )
    with_elbv2(snap, listeners=[])
    f = only(run(snap, "TF07-HTTPS-LISTENERS"))
    assert f.status == Status.ERROR and f.resource_id == LB_ARN
    assert "elasticloadbalancing:DescribeListeners" in f.message
