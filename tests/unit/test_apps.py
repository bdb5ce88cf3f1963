"""Unit tests for twelvefactor.apps: which application and environment a resource belongs to."""

from __future__ import annotations

import pytest
from fixtures import (
    cluster,
    parameter,
    secret,
    service,
    settings,
    snapshot,
    td,
    td_arn,
)

from twelvefactor.apps import (
    Placement,
    from_name,
    normalise_environment,
    place,
    split_hierarchy,
    tag_dict,
)
from twelvefactor.inventory import Inventory
from twelvefactor.settings import Settings


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orders-api-prod", Placement("orders-api", "production")),
        ("orders-api-staging", Placement("orders-api", "staging")),
        ("orders_api_stg", Placement("orders-api", "staging")),
        ("prd-payments", Placement("payments", "production")),
        ("Catalog-DEV", Placement("catalog", "development")),
        ("/ecs/orders-api-prod", Placement("orders-api", "production")),
        ("svc.notifications-worker.live", Placement("notifications-worker", "production")),
        ("orders-api", Placement("", "")),
        ("legacy-monolith", Placement("", "")),
        ("", Placement("", "")),
    ],
)
def test_from_name(name, expected):
    assert from_name(name) == expected


def test_log_group_name_gives_application_without_platform_prefix():
    assert from_name("/ecs/orders-api-prod").application == "orders-api"
    assert place("/ecs/orders-api-prod", {}, Settings()) == Placement("orders-api", "production")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PRD", "production"),
        ("prod", "production"),
        ("Production", "production"),
        ("live", "production"),
        (" Staging ", "staging"),
        ("stg", "staging"),
        ("dev", "development"),
        ("uat", "uat"),
        ("perf", "perf"),
        ("", ""),
    ],
)
def test_normalise_environment(value, expected):
    assert normalise_environment(value) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/orders-api/prod/DB_HOST", ("orders-api", "production", "DB_HOST")),
        ("/orders-api/staging/DB_HOST", ("orders-api", "staging", "DB_HOST")),
        ("orders-api/PRD/DB_HOST", ("orders-api", "production", "DB_HOST")),
        ("/shop/orders-api/prod/db/HOST", ("shop/orders-api", "production", "db/HOST")),
        ("/DB_HOST", ("", "", "DB_HOST")),
        ("DB_HOST", ("", "", "DB_HOST")),
        ("/prod/DB_HOST", ("", "", "prod/DB_HOST")),  # no application before the environment
        ("/orders-api/prod", ("", "", "orders-api/prod")),  # no key after it
        ("/orders-api/config/DB_HOST", ("", "", "orders-api/config/DB_HOST")),
    ],
)
def test_split_hierarchy(path, expected):
    assert split_hierarchy(path) == expected


@pytest.mark.parametrize(
    "tags",
    [
        [{"key": "Environment", "value": "prod"}],
        [{"Key": "Environment", "Value": "prod"}],
        {"Environment": "prod"},
    ],
)
def test_tag_dict_reads_every_aws_shape(tags):
    assert tag_dict(tags) == {"Environment": "prod"}


def test_tag_dict_of_nothing():
    assert tag_dict(None) == {}
    assert tag_dict([]) == {}


def test_tags_win_over_names():
    tags = {"Application": "shop-orders", "Environment": "Staging"}
    assert place("orders-api-prod", tags, Settings()) == Placement("shop-orders", "staging")


def test_tags_fill_only_what_they_name():
    assert place("orders-api-prod", {"env": "stg"}, Settings()) == Placement(
        "orders-api", "staging"
    )
    assert place("orders-api-prod", {"App": "shop"}, Settings()) == Placement("shop", "production")


def test_tag_keys_come_from_settings():
    config = Settings(env_tag_keys=("tier",), app_tag_keys=("product",))
    tags = {"tier": "qa", "product": "shop", "Environment": "production"}
    assert place("orders-api-dev", tags, config) == Placement("shop", "qa")


def test_app_map_glob_wins_over_tags():
    config = Settings(app_map={"legacy-*": "monolith/prod"})
    tags = {"Application": "legacy", "Environment": "development"}
    assert place("legacy-monolith", tags, config) == Placement("monolith", "production")


def test_app_map_first_matching_pattern_wins():
    config = Settings(app_map={"orders-*": "orders/production", "*": "other/staging"})
    assert place("orders-api-dev", {}, config) == Placement("orders", "production")
    assert place("payments", {}, config) == Placement("other", "staging")


def test_app_map_without_environment_leaves_it_to_tags_and_name():
    config = Settings(app_map={"legacy-*": "monolith/"})
    assert place("legacy-monolith", {"Environment": "prd"}, config) == Placement(
        "monolith", "production"
    )
    assert place("legacy-monolith-stg", {}, config) == Placement("monolith", "staging")


def test_app_map_glob_is_case_sensitive():
    config = Settings(app_map={"legacy-*": "monolith/production"})
    assert place("Legacy-Monolith", {}, config) == Placement("", "")


def test_parent_fills_what_is_left():
    parent = Placement("orders-api", "production")
    assert place("web", {}, Settings(), parent) == parent
    assert place("web-staging", {}, Settings(), parent) == Placement("web", "staging")


def test_name_gives_app_false_keeps_only_the_environment():
    got = place("orders-api-prod", {}, Settings(), name_gives_app=False)
    assert got == Placement("", "production")


def test_placement_or():
    assert Placement("a", "").or_(Placement("b", "staging")) == Placement("a", "staging")


# -- as the inventory applies it -------------------------------------------------------------
def test_inventory_places_services_and_task_definitions():
    snap = snapshot(
        task_definitions=[td("orders-api-prod"), td("web", tags={"Environment": "staging"})],
        services=[
            service("shop-prod", "orders-api-prod", td_arn("orders-api-prod")),
            service("shop", "web", td_arn("web"), tags={"Application": "storefront"}),
        ],
        clusters=[
            cluster("shop-prod", tags={"Environment": "production"}),
            cluster("shop", tags={"Environment": "qa"}),
        ],
    )
    inv = Inventory(snap, settings())
    services = inv.services.set_index("service")
    assert tuple(services.loc["orders-api-prod", ["application", "environment"]]) == (
        "orders-api",
        "production",
    )
    # the cluster gives a service its environment, never its application
    assert tuple(services.loc["web", ["application", "environment"]]) == ("storefront", "qa")
    tds = inv.task_definitions.set_index("family")
    # the task definition's own tag wins over the service that runs it
    assert tuple(tds.loc["web", ["application", "environment"]]) == ("storefront", "staging")


def test_inventory_places_parameters_and_secrets_by_hierarchy():
    snap = snapshot(
        parameters=[parameter("/orders-api/prod/DB_HOST"), parameter("LOG_LEVEL")],
        secrets=[
            secret("orders-api/staging/db-password"),
            secret("shared-db-prod", tags={"Application": "shop"}),
        ],
    )
    inv = Inventory(snap, settings())
    params = inv.parameters.set_index("name")
    assert tuple(params.loc["/orders-api/prod/DB_HOST", ["application", "environment"]]) == (
        "orders-api",
        "production",
    )
    assert params.loc["/orders-api/prod/DB_HOST", "hierarchy_key"] == "DB_HOST"
    assert params.loc["LOG_LEVEL", "hierarchy_key"] == ""
    secrets = inv.secrets.set_index("name")
    assert tuple(secrets.loc["orders-api/staging/db-password", ["application", "environment"]]) == (
        "orders-api",
        "staging",
    )
    assert tuple(secrets.loc["shared-db-prod", ["application", "environment"]]) == (
        "shop",
        "production",
    )
