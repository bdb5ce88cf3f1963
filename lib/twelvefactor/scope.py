"""A workbook narrowed to some applications, so that a figure stays readable at any size.

A figure with a row per application (and environment) is a good picture of a dozen applications
and an unreadable, slow one of five hundred: 400 inches of rows, tens of seconds and a gigabyte to
draw. ``Workbook.plot`` therefore draws the applications that matter most -- the most serious FAILs
first -- when an account has more than ``max_apps`` of them, and says so under the figure.

The narrowing is of what a figure *shows*, never of what is evaluated: findings and evidence come
from the whole account (a check that compares applications sees them all) and are then filtered;
only the inventory's tables are narrowed before a figure reads them. Rows that belong to no
application (shared clusters, subnets, account-wide findings) are kept.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from .inventory import SCHEMA, Inventory

if TYPE_CHECKING:
    from .workbook import Workbook

#: Applications a figure draws by default: as many as the demo has, the size the figures were
#: designed for.
MAX_APPS = 12
#: How much a FAIL of each severity weighs when choosing which applications to draw.
SEVERITY_WEIGHT = {"critical": 1_000_000, "high": 10_000, "medium": 100, "low": 1}


def applications(inv: Inventory) -> list[str]:
    """Every application named by any table of the inventory, sorted."""
    names: set[str] = set()
    for frame in inv.tables().values():
        if "application" in frame.columns:
            names.update(a for a in frame["application"].dropna().unique() if a)
    return sorted(names)


def factor_of(draw: Any, kwargs: dict[str, Any]) -> int | None:
    """The factor a figure belongs to: that of its ``check_id``, else that of the checks defined
    beside it (the figures of checks/config.py are factor III's); None for a figure of all."""
    from .catalog import load_catalog
    from .checks import registry

    catalog = load_catalog()
    if getattr(draw, "factor", None):
        return draw.factor
    if kwargs.get("check_id") in catalog:
        return catalog[kwargs["check_id"]].factor
    factors = {
        catalog[cid].factor
        for cid, fn in registry().items()
        if fn.__module__ == draw.__module__ and cid in catalog
    }
    return factors.pop() if len(factors) == 1 else None


def worst_first(findings: pd.DataFrame, names: Iterable[str]) -> list[str]:
    """``names`` ordered by the weight of their FAIL findings in ``findings`` (muted ones not
    counted), then by name."""
    fails = findings[(findings["status"] == "FAIL") & ~findings["muted"].astype(bool)]
    weight = fails["severity"].map(SEVERITY_WEIGHT).fillna(0).groupby(fails["application"]).sum()
    return sorted(names, key=lambda a: (-weight.get(a, 0), a))


def _keep(frame: pd.DataFrame, apps: frozenset[str]) -> pd.DataFrame:
    if "application" not in frame.columns:
        return frame
    app = frame["application"].fillna("")
    return frame[app.isin(apps) | (app == "")]


def scoped_inventory(inv: Inventory, apps: frozenset[str]) -> Inventory:
    """A copy of ``inv`` whose tables hold only ``apps`` (and rows of no application).

    Nothing derived from the whole account is carried over (lookups are rebuilt from the narrowed
    tables on first use)."""
    scoped = copy.copy(inv)
    base = {k: v for k, v in inv.__dict__.items() if k in ("snapshot", "settings", "account")}
    scoped.__dict__.clear()
    scoped.__dict__.update(base, regions=inv.regions, _rows={})
    for name in SCHEMA:
        scoped.__dict__[name] = _keep(getattr(inv, name), apps)
    return scoped


class ScopedWorkbook:
    """What a figure reads of a workbook, for some applications only (see the module's text).

    Anything not narrowed here is the whole workbook's."""

    def __init__(self, wb: Workbook, apps: Iterable[str]):
        self._wb = wb
        self._apps = frozenset(apps)
        self.inventory = scoped_inventory(wb.inventory, self._apps)

    @property
    def applications_shown(self) -> frozenset[str]:
        """For a figure that reads the snapshot itself rather than the inventory's tables."""
        return self._apps

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wb, name)

    @property
    def findings(self) -> pd.DataFrame:
        return _keep(self._wb.findings, self._apps).reset_index(drop=True)

    def findings_for(self, factor: int | None = None, check_id: str | None = None) -> pd.DataFrame:
        return _keep(self._wb.findings_for(factor, check_id), self._apps).reset_index(drop=True)

    def evidence(self, check_id: str) -> pd.DataFrame:
        return _keep(self._wb.evidence(check_id), self._apps).reset_index(drop=True)

    def summary(self, factor: int | None = None) -> pd.DataFrame:
        from .workbook import Workbook

        return Workbook.summary(self, factor)  # type: ignore[arg-type]


def note(shown: int, total: int, plot: str) -> str:
    return (
        f"{shown} of {total} applications drawn, those with the most serious FAILs first. "
        f"wb.plot({plot!r}, max_apps=None) draws them all (slow for large accounts); "
        "the tables above list every one."
    )
