"""Diff by stable identity, and the scorecard's tables from whatever findings exist."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_suppressions import finding, frame

from twelvefactor.diff import diff, load_findings
from twelvefactor.errors import ConfigurationError
from twelvefactor.findings import Severity, Status
from twelvefactor.scorecard import APPLICATIONS_NAMED, HEATMAP_ROWS, NOT_CHECKED, Scorecard
from twelvefactor.suppressions import apply, parse


def test_new_resolved_and_changed_by_identity():
    old = frame(
        finding(),  # will be fixed
        finding(check_id="TF02-IMAGE-PINNED", resource_id="a", severity=Severity.HIGH),  # stays
        finding(check_id="TF02-IMAGE-PINNED", resource_id="gone", severity=Severity.HIGH),
    )
    new = frame(
        finding(status=Status.PASS, message="now injected as a secret"),
        finding(
            check_id="TF02-IMAGE-PINNED",
            resource_id="a",
            severity=Severity.HIGH,
            message="the message may change",
        ),
        finding(check_id="TF02-IMAGE-PINNED", resource_id="b", severity=Severity.HIGH),
    )
    d = diff(old, new)
    assert d.counts() == {"new": 1, "resolved": 1, "changed": 1}
    assert d.new[["check_id", "resource_id", "status"]].values.tolist() == [
        ["TF02-IMAGE-PINNED", "b", "FAIL"]
    ]
    assert d.resolved["resource_id"].tolist() == ["gone"]
    row = d.changed.iloc[0]
    assert (row["check_id"], row["old_status"], row["new_status"]) == (
        "TF03-SECRETS-IN-ENV",
        "FAIL",
        "PASS",
    )
    text = d.text()
    assert text.splitlines()[0] == "1 new, 1 resolved, 1 changed findings"
    assert "FAIL -> PASS TF03-SECRETS-IN-ENV eu-west-1 payments-prod:1" in text
    assert diff(new, new).empty


def test_muting_is_a_change_and_the_region_is_part_of_the_identity():
    old = frame(finding(), finding(region="us-east-1"))
    new = apply(old, parse("suppressions:\n  - check: '*'\n    region: us-east-1\n    reason: r\n"))
    d = diff(old, new)
    assert d.counts() == {"new": 0, "resolved": 0, "changed": 1}
    assert "FAIL -> FAIL(muted) TF03-SECRETS-IN-ENV us-east-1" in d.text()


def test_repeated_identities_are_compared_in_order():
    old = frame(finding(), finding())
    new = frame(finding())
    assert diff(old, new).counts() == {"new": 0, "resolved": 1, "changed": 0}


def test_load_findings_reads_report_folders_and_files(tmp_path):
    rows = json.loads(frame(finding()).to_json(orient="records"))
    for row in rows:  # a report written before suppressions existed
        del row["muted"], row["muted_reason"]
    (tmp_path / "findings.json").write_text(json.dumps(rows))
    loaded = load_findings(tmp_path)
    assert loaded["muted"].tolist() == [False]
    assert load_findings(tmp_path / "findings.json").equals(loaded)
    with pytest.raises(ConfigurationError, match=r"^OLD: .* is neither a report folder"):
        load_findings(tmp_path / "nothing", "OLD")


def scorecard_findings() -> pd.DataFrame:
    return frame(
        finding(),  # payments, III: FAIL critical
        finding(check_id="TF03-SECRET-ROTATION", status=Status.PASS, resource_id="x"),
        finding(
            check_id="TF01-REPO-PER-APP",
            status=Status.PASS,
            severity=Severity.MEDIUM,
            application="orders-api",
        ),
        finding(
            check_id="TF01-IMAGE-TRACEABLE",
            status=Status.FAIL,
            severity=Severity.MEDIUM,
            application="orders-api",
            resource_id="i1",
        ),
        finding(
            check_id="TF01-IMAGE-TRACEABLE",
            status=Status.FAIL,
            severity=Severity.MEDIUM,
            application="orders-api",
            resource_id="i2",
        ),
        finding(
            check_id="TF02-IMAGE-SCANNING",
            status=Status.ERROR,
            severity=Severity.HIGH,
            application="",
            resource_id="eu-west-1",
            evidence=json.dumps({"missing_action": "ecr:DescribeRegistry"}),
            message="Could not evaluate: ecr:DescribeRegistry failed",
        ),
    )


def test_the_matrix_shows_worst_status_and_factors_without_checks():
    grid = Scorecard(scorecard_findings()).matrix()
    assert list(grid.columns) == [
        "I",
        "II",
        "III",
        "IV",
        "V",
        "VI",
        "VII",
        "VIII",
        "IX",
        "X",
        "XI",
        "XII",
    ]
    assert grid.loc["payments", "III"] == "FAIL"  # FAIL beats PASS
    assert grid.loc["orders-api", "I"] == "FAIL"
    assert grid.loc["payments", "I"] == ""  # no finding there
    assert grid.loc["(account-wide)", "II"] == "ERROR"
    assert (grid[["IV", "V", "VI", "VII", "XII"]] == NOT_CHECKED).all().all()
    assert list(grid.index)[-1] == "(account-wide)"


def test_muted_findings_leave_the_matrix_and_the_fix_list():
    f = apply(
        scorecard_findings(), parse("suppressions:\n  - check: TF03-SECRETS-*\n    reason: r\n")
    )
    sc = Scorecard(f)
    assert sc.matrix().loc["payments", "III"] == "PASS"
    assert "TF03-SECRETS-IN-ENV" not in set(sc.top()["check_id"])
    assert sc.muted()["muted_reason"].tolist() == ["r"]
    counts = sc.counts()
    assert counts.loc["critical", "FAIL"] == 0 and counts.loc["critical", "muted"] == 1
    assert counts.loc["total", "FAIL"] == 2


def test_top_orders_by_severity_then_resources_with_remedy():
    top = Scorecard(scorecard_findings()).top()
    assert top["check_id"].tolist() == ["TF03-SECRETS-IN-ENV", "TF01-IMAGE-TRACEABLE"]
    assert top["resources"].tolist() == [1, 2]
    assert all(top["remedy"].str.len() > 20)


def test_not_evaluated_names_the_missing_permission_and_collection_errors():
    manifest = {
        "errors": [
            {
                "service": "ssm",
                "operation": "DescribeParameters",
                "region": "eu-west-1",
                "code": "AccessDeniedException",
                "kind": "access-denied",
            }
        ]
    }
    table = Scorecard(scorecard_findings(), manifest=manifest).not_evaluated()
    assert table["missing permission"].tolist() == [
        "ecr:DescribeRegistry",
        "ssm:DescribeParameters",
    ]


def test_an_empty_run_still_draws(tmp_path):
    sc = Scorecard(frame())
    assert (sc.matrix().shape[0], sc.top().empty, sc.changes().empty) == (0, True, True)
    assert sc.save_png(tmp_path / "s.png").stat().st_size > 1000


def many_applications(n: int) -> pd.DataFrame:
    """``n`` applications; app-K fails K of the factors I..XII (up to 12), plus account-wide."""
    checks = [f"TF{f:02d}-X" for f in range(1, 13)]
    rows = [
        finding(
            check_id=checks[f],
            status=Status.FAIL if f < k % 13 else Status.PASS,
            severity=Severity.HIGH if k % 2 else Severity.LOW,
            application=f"app-{k:03d}",
            resource_id=f"r{k}-{f}",
        )
        for k in range(n)
        for f in range(12)
    ]
    rows.append(finding(check_id="TF12-X", application="", resource_id="account"))
    return frame(*rows)


def test_a_large_account_draws_its_worst_applications_and_counts_the_rest(tmp_path):
    sc = Scorecard(many_applications(100))
    grid, left_out = sc.heatmap_rows()
    assert (len(grid), left_out) == (HEATMAP_ROWS + 1, 100 - HEATMAP_ROWS)
    assert list(grid.index)[-1] == "(account-wide)"  # always drawn, last
    fails = (grid.drop(index="(account-wide)") == "FAIL").sum(axis=1).tolist()
    assert fails == sorted(fails, reverse=True) and fails[0] == 12
    drawn = set(grid.index) - {"(account-wide)"}
    rest = sc.matrix().drop(index=sorted(drawn) + ["(account-wide)"])
    assert (rest == "FAIL").sum(axis=1).max() <= min(fails)  # nothing worse was left out
    # among equals, more severe failures first: app-011 (high) before app-024 (low), both 11
    assert list(grid.index).index("app-011") < list(grid.index).index("app-024")

    figure = sc.figure()
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert f"... and {100 - HEATMAP_ROWS} more applications" in texts[-1]
    assert "all 100 are in the scorecard's table" in texts[-1]
    assert figure.get_size_inches()[1] <= 1.6 + 0.42 * (HEATMAP_ROWS + 2)
    assert "the 40 of 100 applications with most failures" in figure._suptitle.get_text()
    assert len(pd.read_csv(sc.save_csv(tmp_path / "s.csv"))) == 101  # the table keeps them all


def test_a_small_account_draws_every_application_in_matrix_order():
    sc = Scorecard(many_applications(HEATMAP_ROWS))
    grid, left_out = sc.heatmap_rows()
    assert left_out == 0 and grid.equals(sc.matrix())
    assert not any("more applications" in t.get_text() for t in sc.figure().axes[0].texts)


def test_top_names_a_few_applications_and_counts_the_others():
    f = many_applications(30)
    high = f[(f["check_id"] == "TF01-X") & (f["status"] == "FAIL") & (f["severity"] == "high")]
    failing = high["application"].nunique()
    top = Scorecard(f).top().set_index(["check_id", "severity"])
    named = top.loc[("TF01-X", "high"), "applications"]
    assert failing > APPLICATIONS_NAMED
    assert named.endswith(f" and {failing - APPLICATIONS_NAMED} more")
    assert named.count(", ") == APPLICATIONS_NAMED - 1
    assert top.loc[("TF12-X", "critical"), "applications"] == "(account-wide)"
