"""The command line: bad input gives one clear line naming the parameter, and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "twelvefactor.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,  # a loaded 2-core machine runs a notebook audit in minutes
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "env", "parameter"),
    [
        (["audit", "--demo", "--region", "eu-westt-1"], {}, "regions"),
        (["audit", "--snapshot", "/nonexistent/snap"], {}, "snapshot"),
        (["audit", "--profile", "nosuchprofile", "--region", "eu-west-1"], {}, "profile"),
        (["audit", "--live", "--region", "eu-west-1"], {}, "credentials"),
        (
            ["audit", "--live", "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:9"],
            {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
            "endpoint_url",
        ),
        (["audit", "--demo", "--endpoint-url", "ftp://x"], {}, "endpoint_url"),
        (["audit", "--demo", "--app-map", "{not json"], {}, "app_map"),
        (
            ["audit", "--live", "--region", "eu-west-1"],
            {"TWELVEFACTOR_MAX_WORKERS": "zero"},
            "max_workers",
        ),
    ],
)
def test_bad_input_is_one_clear_line(args, env, parameter, tmp_path):
    result = run(*args, "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"twelvefactor: error: {parameter}:"), lines[0]
    assert "Fix:" in lines[0]
    assert "Traceback" not in result.stderr


def test_checks_lists_the_catalog():
    result = run("checks", "--factor", "3")
    assert result.returncode == 0
    assert "TF03-SECRETS-IN-ENV" in result.stdout
    assert "not implemented" not in result.stdout


def test_snapshot_then_audit_replay_without_notebooks(tmp_path):
    snap = tmp_path / "snap"
    first = run("snapshot", "--demo", "--out", str(snap))
    assert first.returncode == 0, first.stderr
    assert (snap / "manifest.json").is_file()
    out = tmp_path / "report"
    replay = run("audit", "--snapshot", str(snap), "--out", str(out), "--no-notebooks", "--quiet")
    assert replay.returncode == 1, replay.stderr  # the demo has high-severity failures
    assert (out / "findings.csv").is_file()
    lenient = run(
        "audit",
        "--snapshot",
        str(snap),
        "--out",
        str(out),
        "--no-notebooks",
        "--quiet",
        "--fail-on",
        "critical",
    )
    assert lenient.returncode == 1  # critical: plaintext secrets
    edited = snap / "eu-west-1" / "ecs.json"
    edited.write_text(edited.read_text().replace("orders-api", "orders-APP"))
    broken = run("audit", "--snapshot", str(snap), "--out", str(out), "--no-notebooks")
    assert broken.returncode == 2
    assert "changed after collection" in broken.stderr


def test_endpoint_url_alone_means_a_live_account(tmp_path):
    result = run(
        "audit",
        "--region",
        "eu-west-1",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--out",
        str(tmp_path),
        env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("twelvefactor: error: endpoint_url:")


def test_no_source_says_it_audits_the_demo(tmp_path):
    result = run("audit", "--out", str(tmp_path), "--no-notebooks", "--quiet")
    assert result.returncode == 1
    assert "auditing the built-in demo account" in result.stderr


def test_app_map_reaches_the_notebooks(tmp_path):
    result = run(
        "audit",
        "--demo",
        "--app-map",
        '{"payments-*": "billing/"}',
        "--notebook",
        "03",
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    run_record = json.loads((tmp_path / "run.json").read_text())
    assert [n["status"] for n in run_record["notebooks"]] == ["ok"], run_record["notebooks"]
    findings = (tmp_path / "findings.csv").read_text()
    assert "billing" in findings


def test_an_audit_that_could_not_evaluate_exits_2_unless_allowed(tmp_path):
    from twelvefactor.snapshot import Snapshot

    snap = Snapshot.load(_demo_snapshot(tmp_path))
    snap.manifest["errors"] = [
        {
            "region": "eu-west-1",
            "service": "ssm",
            "operation": "DescribeParameters",
            "resource": None,
            "code": "AccessDeniedException",
            "kind": "access-denied",
            "message": "denied",
        }
    ]
    snap.data = {}  # nothing collected but the denied call
    denied = snap.write(tmp_path / "denied")
    strict = run(
        "audit",
        "--snapshot",
        str(denied),
        "--out",
        str(tmp_path / "a"),
        "--no-notebooks",
        "--quiet",
    )
    assert strict.returncode == 2
    assert "could not be evaluated" in strict.stdout
    lenient = run(
        "audit",
        "--snapshot",
        str(denied),
        "--out",
        str(tmp_path / "b"),
        "--no-notebooks",
        "--quiet",
        "--allow-errors",
    )
    assert lenient.returncode == 0


def _demo_snapshot(tmp_path):
    snap = tmp_path / "demo-snap"
    assert run("snapshot", "--demo", "--out", str(snap)).returncode == 0
    return snap
