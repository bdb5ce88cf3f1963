"""The report folder: findings files as json.dumps would write them, an index bounded in size."""

from __future__ import annotations

import json
import re

import pandas as pd
from test_diff_scorecard import many_applications
from test_suppressions import finding, frame

from twelvefactor.findings import COLUMNS, Status
from twelvefactor.report import FINDINGS_SHOWN, write_findings, write_index
from twelvefactor.scorecard import HEATMAP_ROWS, Scorecard


def run_record(notebooks=()) -> dict:
    return {
        "snapshot": {"account": "123456789012", "source": "demo", "regions": ["eu-west-1"],
                     "api_call_total": 10, "errors": []},
        "notebooks": list(notebooks),
        "started_at": "2026-11-28T08:21:14+00:00",
        "exit_code": 1,
        "failing_at_threshold": 3,
        "fail_on": "high",
        "suppressions": {"file": None, "entries": [], "expired": []},
        "seconds": {"notebooks": 0.0},
        "notebooks_in_parallel": 0,
        "changes": None,
        "previous": "",
    }  # fmt: skip


def test_findings_json_is_the_bytes_of_one_dumps(tmp_path):
    f = frame(
        finding(message='naïve ☃ "quoted"\nsecond line', evidence='{"a": "é"}'),
        finding(check_id="TF02-IMAGE-PINNED", status=Status.PASS, resource_id="x"),
    )
    write_findings(f, tmp_path)
    expected = json.dumps(f[COLUMNS].to_dict(orient="records"), indent=1, default=str)
    assert (tmp_path / "findings.json").read_bytes() == expected.encode()
    assert pd.read_csv(tmp_path / "findings.csv").columns.tolist() == COLUMNS


def test_a_small_run_lists_every_failure(tmp_path):
    f = many_applications(5)
    sc = Scorecard(f)
    sc.save_png(tmp_path / "scorecard.png")
    page = write_index(tmp_path, run_record(), f, sc).read_text()
    failing = int((f["status"] == "FAIL").sum())
    assert failing < FINDINGS_SHOWN
    section = page.split('<h2 id="findings">')[1]
    assert section.count('<td class="FAIL">FAIL</td>') == failing
    assert "By check" not in section and "more in" not in page
    assert "more are in" not in page  # every application is in the figure
    assert 'href="scorecard.csv"' in page and (tmp_path / "scorecard.csv").is_file()


def test_a_large_run_keeps_the_index_bounded(tmp_path):
    f = many_applications(100)
    page_of = {"name": "01-codebase", "status": "ok", "html": "html/01-codebase.html"}
    sc = Scorecard(f)
    sc.save_png(tmp_path / "scorecard.png")
    page = write_index(tmp_path, run_record([page_of]), f, sc).read_text()
    failing = int((f["status"] == "FAIL").sum())
    assert failing > FINDINGS_SHOWN
    section = page.split('<h2 id="findings">')[1]
    by_check, worst = section.split("<h3>By check</h3>")[1].split("most severe</h3>")
    assert worst.count('<td class="FAIL">FAIL</td>') == FINDINGS_SHOWN
    assert f"... and {failing - FINDINGS_SHOWN:,} more in" in worst
    # the worst first: every critical and high failure before any low one
    severities = re.findall(r'<td class="FAIL">FAIL</td><td>(\w+)</td>', worst)
    assert severities == sorted(severities, key=["critical", "high", "low"].index)
    # by check: every failing check once, with its counts and its factor's notebook page
    checks = f[f["status"] == "FAIL"][["check_id", "severity"]].drop_duplicates()
    assert by_check.count("<tr>") == 1 + len(checks)  # and the head
    assert '<a href="html/01-codebase.html">01-codebase</a>' in by_check
    assert f"{100 - HEATMAP_ROWS:,} more are in" in page
    assert len(pd.read_csv(tmp_path / "scorecard.csv")) == 101
    # 200 rows of failures, a row per failing check: the page apart from its figure is small
    assert len(re.sub(r"base64,[^\"]*", "", page)) < 100_000
