"""Inventory.rows and Inventory.rows_by: the per-run lookups checks use instead of filtering a
whole table for every resource."""

from __future__ import annotations

import pandas as pd
import pytest
from fixtures import container, service, settings, snapshot, td, td_arn

from twelvefactor.inventory import Inventory


def _inventory() -> Inventory:
    snap = snapshot(
        task_definitions=[
            td("orders-prod", 1, containers=[container("app"), container("proxy")]),
            td("orders-prod", 2, containers=[container("app")]),
            td("billing-prod", 1, containers=[container("app"), container("log-router")]),
        ],
        services=[
            service("shop-prod", "orders", td_arn("orders-prod", 2), "production"),
            service("shop-prod", "billing", td_arn("billing-prod", 1), "production"),
        ],
    )
    return Inventory(snap, settings(regions=tuple(snap.regions)))


def _plain(rows) -> list[dict]:
    return [dict(r) for r in rows]


def _same(left: list[dict], right: list[dict]) -> bool:
    """Equal row by row, NaN matching NaN (a missing number reads as NaN in both)."""

    def equal(x, y) -> bool:
        return x == y or (pd.isna(x) and pd.isna(y))

    return len(left) == len(right) and all(
        a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
        for a, b in zip(left, right, strict=True)
    )


def test_rows_are_the_table_in_order_with_every_column():
    inv = _inventory()
    rows = inv.rows("containers")
    assert _same(_plain(rows), inv.containers.to_dict("records"))
    assert [(r["family"], r["revision"], r["container"]) for r in rows] == [
        ("orders-prod", 1, "app"),
        ("orders-prod", 1, "proxy"),
        ("orders-prod", 2, "app"),
        ("billing-prod", 1, "app"),
        ("billing-prod", 1, "log-router"),
    ]
    # values read like a row of iterrows(): Python scalars, not numpy ones
    assert type(rows[0]["revision"]) is int and type(rows[0]["in_use"]) is bool


def test_rows_and_indexes_are_built_once_per_inventory():
    inv = _inventory()
    assert inv.rows("services") is inv.rows("services")
    by_td = inv.rows_by("containers", "task_definition_arn")
    assert inv.rows_by("containers", "task_definition_arn") is by_td
    # the groups hold the very rows of rows(): no copies per index
    assert by_td[td_arn("orders-prod", 1)][0] is inv.rows("containers")[0]
    # another inventory has its own
    assert _inventory().rows("services") is not inv.rows("services")


def test_rows_cannot_be_changed_by_one_check_under_another():
    inv = _inventory()
    row = inv.rows("services")[0]
    with pytest.raises(TypeError):
        row["application"] = "something else"  # type: ignore[index]
    mine = row.copy()
    mine["application"] = "something else"
    assert inv.rows("services")[0]["application"] != "something else"
    assert dict(row) | {"x": 1} == {**dict(row), "x": 1}


def test_rows_by_one_column_groups_rows_in_table_order():
    inv = _inventory()
    by_td = inv.rows_by("containers", "task_definition_arn")
    assert [r["container"] for r in by_td[td_arn("orders-prod", 1)]] == ["app", "proxy"]
    assert [r["container"] for r in by_td[td_arn("billing-prod", 1)]] == ["app", "log-router"]
    assert set(by_td) == set(inv.containers["task_definition_arn"])
    assert by_td.get(td_arn("nothing-prod", 1), []) == []


def test_rows_by_several_columns_is_keyed_by_tuples_like_a_filter_of_the_table():
    inv = _inventory()
    index = inv.rows_by("containers", "region", "family", "revision")
    c = inv.containers
    for key, group in index.items():
        region, family, revision = key
        mask = (c["region"] == region) & (c["family"] == family) & (c["revision"] == revision)
        assert _same(_plain(group), c[mask].to_dict("records"))
    assert sum(len(g) for g in index.values()) == len(c)


def test_rows_by_of_an_empty_table_is_empty_and_needs_a_column():
    inv = Inventory(snapshot(), settings())
    assert inv.rows("containers") == []
    assert inv.rows_by("services", "task_definition_arn") == {}
    with pytest.raises(ValueError, match="at least one column"):
        inv.rows_by("services")


def test_a_missing_value_matches_nothing():
    inv = _inventory()
    nan = float("nan")
    inv.__dict__["images"] = pd.DataFrame(
        {"repository": [nan, "shop/orders"], "digest": ["a", "b"]}
    )
    index = inv.rows_by("images", "repository")
    assert index.get(nan, []) == [] and [r["digest"] for r in index["shop/orders"]] == ["b"]
