"""The auditor's workflow end to end: diff between two states of the demo account, suppressions
that change the exit code, and a failing notebook that does not stop the others."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import nbformat
import pandas as pd
import pytest
from conftest import clean_environment

from twelvefactor.runner import audit, notebooks_dir
from twelvefactor.settings import resolve

EXPECTED_DIFF = {
    "new": {
        ("TF02-IMAGE-SCANNING", "shop/search", "PASS"),
        ("TF02-TAG-IMMUTABILITY", "shop/search", "PASS"),
        ("TF05-LIFECYCLE-POLICY", "shop/search", "FAIL"),
    },
    "resolved": set(),
    "changed": {("TF02-TAG-IMMUTABILITY", "shop/catalog-prod", "FAIL", "PASS")},
}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "twelvefactor.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )


@pytest.fixture(scope="module")
def two_states(tmp_path_factory):
    """The demo account collected, changed through moto (one repository made immutable, one
    repository added), and collected again: two snapshot folders."""
    import boto3

    from twelvefactor.aws import AwsAccess
    from twelvefactor.collect import collect
    from twelvefactor.demo import in_process, load_scenario

    root = tmp_path_factory.mktemp("two-states")
    with clean_environment():
        scenario = load_scenario()
        settings = resolve(source="demo").with_(
            regions=scenario.regions, redaction_salt=scenario.redaction_salt
        )
        with in_process(scenario):
            before = collect(AwsAccess(settings, demo_in_process=True), settings, source="demo")
            ecr = boto3.client("ecr", region_name="eu-west-1")  # the demo's moto, not AWS
            ecr.put_image_tag_mutability(
                repositoryName="shop/catalog-prod", imageTagMutability="IMMUTABLE"
            )
            ecr.create_repository(
                repositoryName="shop/search",
                imageTagMutability="IMMUTABLE",
                imageScanningConfiguration={"scanOnPush": True},
                tags=[{"Key": "Application", "Value": "search"}],
            )
            after = collect(AwsAccess(settings, demo_in_process=True), settings, source="demo")
        return before.write(root / "before"), after.write(root / "after")


def as_sets(result: dict) -> dict:
    return {
        "new": {(r["check_id"], r["resource_id"], r["status"]) for r in result["new"]},
        "resolved": {(r["check_id"], r["resource_id"], r["status"]) for r in result["resolved"]},
        "changed": {
            (r["check_id"], r["resource_id"], r["old_status"], r["new_status"])
            for r in result["changed"]
        },
    }


def test_diff_of_two_snapshots_is_exact(two_states):
    before, after = two_states
    result = cli("diff", str(before), str(after), "--json")
    assert result.returncode == 1, result.stderr  # something changed
    assert as_sets(json.loads(result.stdout)) == EXPECTED_DIFF
    text = cli("diff", str(before), str(after))
    assert text.stdout.splitlines()[0] == "3 new, 0 resolved, 1 changed findings"
    assert "FAIL -> PASS TF02-TAG-IMMUTABILITY eu-west-1 shop/catalog-prod" in text.stdout
    same = cli("diff", str(before), str(before))
    assert (same.returncode, same.stdout.strip()) == (0, "0 new, 0 resolved, 0 changed findings")


def test_diff_of_report_folders_and_previous_in_the_report(two_states, tmp_path):
    before, after = two_states
    with clean_environment():
        old = tmp_path / "old"
        audit(resolve(source="snapshot", snapshot=before), old, run_notebooks=False, progress=False)
        new = tmp_path / "new"
        run = audit(
            resolve(source="snapshot", snapshot=after),
            new,
            run_notebooks=False,
            progress=False,
            previous=old,
        )
    result = cli("diff", str(old), str(new), "--json")
    assert as_sets(json.loads(result.stdout)) == EXPECTED_DIFF
    assert run["changes"] == {"new": 3, "resolved": 0, "changed": 1}
    assert as_sets(json.loads((new / "diff.json").read_text())) == EXPECTED_DIFF
    index = (new / "index.html").read_text()
    assert "Changes since the previous run" in index and "shop/catalog-prod" in index


def test_diff_rejects_a_folder_that_is_neither(tmp_path):
    result = cli("diff", str(tmp_path), str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("twelvefactor: error: OLD: ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def demo_snapshot(two_states):
    return two_states[0]


def test_a_suppression_mutes_planted_findings_and_changes_the_exit_code(demo_snapshot, tmp_path):
    base = ["audit", "--snapshot", str(demo_snapshot), "--no-notebooks", "--fail-on", "critical"]
    strict = cli(*base, "--out", str(tmp_path / "strict"), "--quiet")
    assert strict.returncode == 1, strict.stderr
    findings = pd.read_csv(tmp_path / "strict" / "findings.csv", dtype=str, keep_default_na=False)
    critical = findings[(findings["status"] == "FAIL") & (findings["severity"] == "critical")]
    assert len(critical) >= 3
    entries = [
        f"  - check: {r.check_id}\n    region: {r.region}\n    resource: '{r.resource_id}'\n"
        f"    reason: accepted until the migration (SHOP-{i})\n    expires: 2099-12-31\n"
        for i, r in enumerate(critical.itertuples())
    ]
    expired = "  - check: '*'\n    reason: an old blanket exception\n    expires: 2020-01-01\n"
    path = tmp_path / "suppressions.yaml"
    path.write_text("suppressions:\n" + expired + "".join(entries))

    muted = cli(*base, "--out", str(tmp_path / "muted"), "--suppressions", str(path))
    assert muted.returncode == 0, muted.stdout + muted.stderr
    out = tmp_path / "muted"
    rows = json.loads((out / "findings.json").read_text())
    muted_rows = [r for r in rows if r["muted"]]
    assert len(muted_rows) == len(critical)
    assert all(
        r["status"] == "FAIL" and r["muted_reason"].startswith("accepted") for r in muted_rows
    )
    run = json.loads((out / "run.json").read_text())
    assert run["muted"] == len(critical) and run["failing_at_threshold"] == 0
    assert [e["line"] for e in run["suppressions"]["expired"]] == [2]
    assert "suppression expired on 2020-01-01 (line 2" in muted.stdout
    assert f"{len(critical)} muted by suppressions" in muted.stdout
    assert len(muted.stdout.splitlines()) <= 22  # one screen
    index = (out / "index.html").read_text()
    assert "Muted findings" in index and "accepted until the migration" in index
    assert 'class="expired"' in index
    # ASFF and OCSF carry the mute too
    asff = json.loads((out / "findings.asff.json").read_text())
    assert sum(f["Workflow"]["Status"] == "SUPPRESSED" for f in asff) == len(critical)

    # the same file through the environment variable
    env_run = subprocess.run(
        [
            sys.executable,
            "-m",
            "twelvefactor.cli",
            *base,
            "--out",
            str(tmp_path / "env"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TWELVEFACTOR_SUPPRESSIONS": str(path)},
    )
    assert env_run.returncode == 0, env_run.stdout + env_run.stderr
    assert env_run.stdout == ""  # --quiet and exit code 0: nothing to say


def test_the_demo_example_suppressions_mute_the_legacy_images(demo_snapshot, tmp_path):
    from twelvefactor.settings import data_dir

    example = data_dir() / "demo" / "suppressions.yaml"
    result = cli(
        "audit", "--snapshot", str(demo_snapshot), "--no-notebooks", "--out", str(tmp_path),
        "--suppressions", str(example),
    )  # fmt: skip
    assert result.returncode == 1  # other high failures remain
    rows = json.loads((tmp_path / "findings.json").read_text())
    muted = {(r["check_id"], r["resource_id"]) for r in rows if r["muted"]}
    assert muted == {
        ("TF02-IMAGE-PINNED", "legacy-monolith:1/mysql"),
        ("TF02-IMAGE-PINNED", "legacy-monolith:1/web"),
        ("TF05-LIFECYCLE-POLICY", "shop/shared-worker"),  # matched by the repository's tags
    }


def test_a_malformed_suppressions_file_is_one_line_with_its_line_number(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("suppressions:\n  - check: TF03-SECRETS-IN-ENV\n    expires: 2027-01-01\n")
    result = cli("audit", "--demo", "--no-notebooks", "--out", str(tmp_path / "o"),
                 "--suppressions", str(path))  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"twelvefactor: error: suppressions: {path} line 2: ")
    assert "no 'reason'" in lines[0]


def test_a_failing_notebook_is_marked_and_the_others_complete(demo_snapshot, tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(notebooks_dir() / "03-config.ipynb", folder)
    shutil.copy(notebooks_dir() / "99-scorecard.ipynb", folder)
    broken = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('source: str = ""', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell('raise RuntimeError("this notebook is broken")'),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}},
    )  # fmt: skip
    nbformat.write(broken, folder / "07-broken.ipynb")
    suppressions = tmp_path / "s.yaml"
    suppressions.write_text(
        "suppressions:\n  - check: TF03-SECRETS-IN-ENV\n    reason: accepted for the test\n"
    )
    out = tmp_path / "report"
    with clean_environment():
        run = audit(
            resolve(source="snapshot", snapshot=demo_snapshot, suppressions=str(suppressions)),
            out,
            progress=False,
            notebook_dir=folder,
            previous=demo_snapshot,
        )
    status = {n["name"]: n["status"] for n in run["notebooks"]}
    assert status == {"03-config": "ok", "07-broken": "failed", "99-scorecard": "ok"}
    assert run["exit_code"] == 2
    assert "this notebook is broken" in next(
        n["error"] for n in run["notebooks"] if n["name"] == "07-broken"
    )
    assert run["notebooks_in_parallel"] >= 1
    index = (out / "index.html").read_text()
    assert '<td class="failed">failed</td>' in index
    assert "Notebooks that did not complete: 07-broken" in index
    # the suppressions reached the notebook through the environment: 03's findings (compared
    # with the runner's by the runner itself) carry the mute
    exported = json.loads((out / "notebook-findings" / "findings-03.json").read_text())
    assert any(r["muted"] for r in exported)
    assert "accepted for the test" in (out / "html" / "03-config.html").read_text()  # wb.check
    # the scorecard notebook saw the previous run: nothing changed since the same snapshot
    page = (out / "html" / "99-scorecard.html").read_text()
    assert "since the previous run" in page
    assert "0 new, 0 resolved, 0 changed" in page
