"""Figures stay readable in a large account: Workbook.plot draws the applications that matter
most (scope.py), says so, and never changes what is evaluated."""

from __future__ import annotations

import pandas as pd
import pytest

from twelvefactor import scope
from twelvefactor.checks import registry
from twelvefactor.errors import ConfigurationError
from twelvefactor.plots import PLOTS
from twelvefactor.workbook import Workbook


@pytest.fixture(scope="module")
def demo_wb() -> Workbook:
    return Workbook.open(source="demo", endpoint_url="")


def _labels(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]


def _texts(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts)


def _weight(findings: pd.DataFrame) -> dict[str, int]:
    fails = findings[(findings["status"] == "FAIL") & ~findings["muted"]]
    return {
        app: sum(scope.SEVERITY_WEIGHT[s] for s in group["severity"])
        for app, group in fails.groupby("application")
    }


def test_demo_figures_are_not_narrowed(demo_wb):
    assert len(scope.applications(demo_wb.inventory)) <= scope.MAX_APPS
    fig = demo_wb.plot("config-sources")
    assert "applications drawn" not in _texts(fig)


def test_a_narrowed_figure_draws_the_worst_applications_and_says_so(demo_wb):
    every = demo_wb.plot("config-sources", max_apps=None)
    narrowed = demo_wb.plot("config-sources", max_apps=3)
    drawn = {label.split(" (")[0] for label in _labels(narrowed)}
    assert len(drawn) == 3
    assert drawn < {label.split(" (")[0] for label in _labels(every)}
    total = len(scope.applications(demo_wb.inventory))
    assert f"3 of {total} applications drawn" in _texts(narrowed)
    assert "max_apps=None" in _texts(narrowed)
    # the worst by factor III's FAILs: nobody left out weighs more than anybody drawn
    weight = _weight(demo_wb.findings_for(factor=3))
    left_out = set(scope.applications(demo_wb.inventory)) - drawn
    assert min(weight.get(a, 0) for a in drawn) >= max(weight.get(a, 0) for a in left_out)
    assert max(weight.get(a, 0) for a in drawn) > 0


def test_narrowing_shows_less_but_evaluates_the_same(demo_wb):
    before = demo_wb.findings.copy()
    apps = scope.applications(demo_wb.inventory)[:2]
    view = scope.ScopedWorkbook(demo_wb, apps)
    for name in ("services", "task_definitions", "parameters", "repositories"):
        kept = set(getattr(view.inventory, name)["application"])
        assert kept <= {*apps, ""}, name
        assert len(getattr(view.inventory, name)) < len(getattr(demo_wb.inventory, name)), name
    # lookups are rebuilt from the narrowed tables, not carried over from the whole account
    assert {r["application"] for r in view.inventory.rows("services")} <= set(apps)
    assert set(view.findings_for(factor=3)["application"]) <= {*apps, ""}
    assert set(view.evidence("TF03-SECRETS-IN-ENV")["application"]) <= {*apps, ""}
    pd.testing.assert_frame_equal(demo_wb.findings, before)
    assert view.applications_shown == frozenset(apps)
    assert demo_wb.applications_shown is None


def test_every_figure_by_application_draws_with_two(demo_wb):
    for name, draw in sorted(PLOTS.items()):
        kwargs = {"check_id": "TF03-ENV-NAMES-PARITY"} if name == "presence" else {}
        fig = demo_wb.plot(name, max_apps=2, **kwargs)
        if getattr(draw, "by_application", True):
            assert "2 of" in _texts(fig), name
        else:
            assert "applications drawn" not in _texts(fig), name


def test_the_releases_ledger_is_narrowed_too(demo_wb):
    """It reads ACTIVE revisions from the snapshot, not the inventory: narrowed by its hook."""
    every = demo_wb.plot("releases", max_apps=None)
    two = demo_wb.plot("releases", max_apps=2)
    assert 0 < len(_labels(two)) < len(_labels(every))


def test_figures_of_the_whole_account_are_never_narrowed(demo_wb):
    every = demo_wb.plot("status", max_apps=None)
    one = demo_wb.plot("status", max_apps=1)
    assert _labels(one) == _labels(every)


def test_a_figure_knows_its_factor():
    registry()  # the factor modules register their figures
    assert scope.factor_of(PLOTS["capacity"], {}) == 8
    assert scope.factor_of(PLOTS["config-sources"], {}) == 3
    assert scope.factor_of(PLOTS["presence"], {"check_id": "TF03-PARAM-HIERARCHY"}) == 3
    assert scope.factor_of(PLOTS["status"], {}) is None


@pytest.mark.parametrize("bad", [0, -3, "ten", 2.5])
def test_a_bad_max_apps_is_refused_by_name(demo_wb, bad):
    with pytest.raises(ConfigurationError, match="max_apps"):
        demo_wb.plot("capacity", max_apps=bad)
