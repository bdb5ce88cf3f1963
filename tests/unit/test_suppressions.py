"""Suppressions: the file format, its errors (with line numbers), matching, expiry, exit codes."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from twelvefactor import suppressions
from twelvefactor.errors import ConfigurationError
from twelvefactor.findings import COLUMNS, Finding, Severity, Status, to_frame
from twelvefactor.runner import failing
from twelvefactor.settings import data_dir, resolve

TODAY = date(2026, 11, 28)


def finding(check_id="TF03-SECRETS-IN-ENV", status=Status.FAIL, **kw) -> Finding:
    base = dict(
        check_id=check_id,
        factor=int(check_id[2:4]),
        title="t",
        status=status,
        severity=Severity.CRITICAL,
        account="123456789012",
        region="eu-west-1",
        application="payments",
        environment="production",
        resource_type="AwsEcsTaskDefinition",
        resource_id="payments-prod:1",
        resource_arn="arn:aws:ecs:eu-west-1:123456789012:task-definition/payments-prod:1",
        message="m",
        evidence="{}",
    )
    base.update(kw)
    return Finding(**base)


def frame(*findings: Finding) -> pd.DataFrame:
    return to_frame(list(findings))


class FakeInventory:
    """Only what suppressions read: tables with tags."""

    def __init__(self, tables: dict[str, pd.DataFrame]):
        self._tables = tables

    def tables(self) -> dict[str, pd.DataFrame]:
        return self._tables


def test_the_demo_example_file_parses_with_lines():
    entries = suppressions.load(data_dir() / "demo" / "suppressions.yaml")
    assert [e.check for e in entries] == [
        "TF02-IMAGE-PINNED",
        "TF05-LIFECYCLE-POLICY",
        "TF06-READONLY-ROOT",
    ]
    assert all(e.reason and e.line > 0 for e in entries)
    assert entries[1].tags == {"Application": "shared-worker"}
    assert entries[2].expired(TODAY) and not entries[0].expired(TODAY)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("suppressions:\n  - check: TF03-X\n", 2, "has no 'reason'"),
        ("suppressions:\n  - reason: because\n", 2, "has no 'check'"),
        ("suppressions:\n  - check: A\n    reason: r\n    expires: soon\n", 4, "not a date"),
        ("suppressions:\n  - check: A\n    reason: r\n    expires: 2027-02-30\n", 4, "not a date"),
        (
            "suppressions:\n  - check: A\n    reason: r\n    resorce: x\n",
            4,
            "unknown key 'resorce'",
        ),
        ("suppressions:\n  - check: A\n    reason: r\n    tags: prod\n", 4, "'tags' must be"),
        ("suppressions:\n  - check: A\n    reason: ''\n", 3, "non-empty"),
        ("suppressions:\n  - check: A\n    reason: r\n    reason: s\n", 4, "given twice"),
        ("suppressions:\n  check: A\n", 2, "must be a list"),
        ("suppressions:\n  - just a string\n", 2, "must be a mapping"),
        ("mutes:\n  - check: A\n", 1, "one key, 'suppressions:'"),
        ("suppressions:\n  - check: [A\n", 3, "not valid YAML"),
    ],
)
def test_a_malformed_file_names_the_line_and_the_problem(tmp_path, text, line, problem):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as err:
        suppressions.load(path)
    message = str(err.value)
    assert message.startswith(f"suppressions: {path} line {line}: "), message
    assert problem in message
    assert "Fix:" in message


def test_settings_reject_a_missing_or_malformed_file_early(tmp_path, monkeypatch):
    with pytest.raises(ConfigurationError, match=r"^suppressions: .* is not a file"):
        resolve(suppressions=str(tmp_path / "nope.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("suppressions:\n  - check: A\n")
    monkeypatch.setenv("TWELVEFACTOR_SUPPRESSIONS", str(bad))
    with pytest.raises(ConfigurationError, match="line 2"):
        resolve()
    good = tmp_path / "good.yaml"
    good.write_text("suppressions: []\n")
    monkeypatch.setenv("TWELVEFACTOR_SUPPRESSIONS", str(good))
    assert resolve().suppressions == str(good)
    assert resolve().public()["suppressions"] == str(good)


def test_an_empty_file_mutes_nothing():
    assert suppressions.parse("") == []
    assert suppressions.parse("suppressions:\n") == []


def mute(findings: pd.DataFrame, text: str, inventory=None, today=TODAY) -> pd.DataFrame:
    return suppressions.apply(findings, suppressions.parse(text), inventory, today=today)


@pytest.mark.parametrize(
    ("entry", "muted"),
    [
        ("check: TF03-SECRETS-IN-ENV", True),
        ("check: TF03-*", True),
        ("check: TF04-*", False),
        ("check: '*'\n    account: '123456789012'", True),
        ("check: '*'\n    account: '999999999999'", False),
        ("check: '*'\n    region: eu-west-1", True),
        ("check: '*'\n    region: us-east-1", False),
        ("check: '*'\n    resource: payments-*", True),
        ("check: '*'\n    resource: '*:task-definition/payments-prod:1'", True),  # the ARN
        ("check: '*'\n    resource: orders-*", False),
        ("check: '*'\n    application: payments\n    environment: prod*", True),
        ("check: '*'\n    environment: staging", False),
        ("check: '*'\n    expires: 2026-11-29", True),
        ("check: '*'\n    expires: 2026-11-28", False),  # expires on that day
    ],
)
def test_matching(entry, muted):
    out = mute(frame(finding()), f"suppressions:\n  - {entry}\n    reason: accepted risk\n")
    assert bool(out.loc[0, "muted"]) is muted
    assert out.loc[0, "muted_reason"] == ("accepted risk" if muted else "")
    assert out.loc[0, "status"] == "FAIL"  # a muted finding keeps its status


def test_tags_match_the_resources_own_tags():
    arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/payments-prod:1"
    inventory = FakeInventory(
        {
            "task_definitions": pd.DataFrame(
                [{"task_definition_arn": arn, "tags": json.dumps({"Team": "billing"})}]
            ),
            "clusters": pd.DataFrame(columns=["cluster_arn", "tags"]),
        }
    )
    text = "suppressions:\n  - check: '*'\n    tags: {{Team: {team}}}\n    reason: r\n"
    assert mute(frame(finding()), text.format(team="billing"), inventory)["muted"].all()
    assert not mute(frame(finding()), text.format(team="search"), inventory)["muted"].any()
    assert not mute(frame(finding()), text.format(team="billing"), None)["muted"].any()


def test_first_matching_entry_gives_the_reason_and_the_report_counts_it():
    f = frame(finding(), finding(resource_id="payments-stg:1", environment="staging"))
    text = (
        "suppressions:\n"
        "  - check: '*'\n    environment: staging\n    reason: staging only\n"
        "  - check: '*'\n    reason: everything else\n"
        "  - check: '*'\n    reason: too late\n    expires: 2026-01-01\n"
    )
    entries = suppressions.parse(text)
    out = suppressions.apply(f, entries, today=TODAY)
    assert sorted(out["muted_reason"]) == ["everything else", "staging only"]
    report = suppressions.report(out, entries, today=TODAY)
    assert [(r["line"], r["state"], r["muted"]) for r in report] == [
        (2, "active", 1),
        (5, "active", 1),
        (7, "expired", 0),
    ]


def test_muted_findings_do_not_count_toward_the_exit_code():
    f = frame(finding(), finding(check_id="TF02-IMAGE-PINNED", severity=Severity.HIGH))
    assert len(failing(f, "high")) == 2
    out = mute(f, "suppressions:\n  - check: TF03-*\n    reason: r\n")
    assert list(failing(out, "high")["check_id"]) == ["TF02-IMAGE-PINNED"]
    assert list(out.columns) == COLUMNS
