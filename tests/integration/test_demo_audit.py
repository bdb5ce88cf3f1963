"""End to end: `twelvefactor audit --demo` produces exactly the scenario's expected findings."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import clean_environment, unexpected_errors

from twelvefactor.catalog import load_catalog
from twelvefactor.checks import registry
from twelvefactor.demo import load_scenario
from twelvefactor.findings import COLUMNS
from twelvefactor.runner import audit, notebook_paths
from twelvefactor.settings import resolve


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-audit")
    with clean_environment():
        run = audit(resolve(source="demo"), out, progress=False)
    return out, run


def test_report_folder_holds_every_artefact(demo_run):
    out, run = demo_run
    names = [p.stem for p in notebook_paths()]
    assert {"00-start-here", "03-config"} <= set(names)
    for rel in [
        "findings.csv",
        "findings.json",
        "run.json",
        "index.html",
        "snapshot/manifest.json",
    ]:
        assert (out / rel).is_file(), rel
    for name in names:
        assert (out / "notebooks" / f"{name}.ipynb").is_file(), name
        assert (out / "html" / f"{name}.html").is_file(), name
    assert [n["name"] for n in run["notebooks"]] == names
    assert all(n["status"] == "ok" for n in run["notebooks"]), run["notebooks"]


def test_findings_have_the_design_columns_in_order(demo_run):
    out, _ = demo_run
    csv = pd.read_csv(out / "findings.csv")
    assert list(csv.columns) == COLUMNS
    rows = json.loads((out / "findings.json").read_text())
    assert rows and all(list(r) == COLUMNS for r in rows)
    assert set(csv["status"]) <= {"PASS", "FAIL", "INFO", "SKIP", "ERROR"}
    assert set(csv["factor"]) <= set(range(1, 13))
    for evidence in csv["evidence"]:
        json.loads(evidence)


def test_findings_are_exactly_the_scenarios_expected_findings(demo_run):
    out, _ = demo_run
    csv = pd.read_csv(out / "findings.csv")
    got = set(zip(csv["check_id"], csv["resource_id"], csv["status"], strict=True))
    assert got == load_scenario().expected_rows()


def test_every_implemented_check_passes_and_fails_somewhere_in_the_demo():
    expected = load_scenario().expected_rows()
    for check_id in registry():
        statuses = {s for c, _, s in expected if c == check_id}
        assert {"PASS", "FAIL"} <= statuses, check_id
    assert set(registry()) <= set(load_catalog())


def test_exit_code_and_run_record(demo_run):
    _, run = demo_run
    assert run["exit_code"] == 1  # the demo plants critical and high failures
    assert run["failing_at_threshold"] > 0
    assert run["snapshot"]["api_call_total"] > 0
    assert unexpected_errors(run["snapshot"]["errors"]) == []
    assert set(run["seconds"]) == {"collect", "checks", "notebooks", "total"}


def test_replaying_the_snapshot_gives_identical_findings(demo_run, tmp_path):
    out, _ = demo_run
    replay = audit(
        resolve(source="snapshot", snapshot=out / "snapshot"),
        tmp_path,
        run_notebooks=False,
        progress=False,
    )
    assert replay["exit_code"] == 1
    assert (tmp_path / "findings.csv").read_text() == (out / "findings.csv").read_text()


def test_no_planted_secret_appears_in_any_artefact(demo_run):
    out, _ = demo_run
    planted = load_scenario().planted_secrets
    files = [p for p in Path(out).rglob("*") if p.is_file()]
    assert len(files) > 8
    for path in files:
        data = path.read_bytes()
        for secret in planted:
            assert secret.encode() not in data, f"{secret!r} leaked into {path}"


def test_planted_secrets_are_really_planted():
    """The list is not stale: every value is seeded into the demo account."""
    scenario = load_scenario()
    seeded = json.dumps(scenario.resources)
    for secret in scenario.planted_secrets:
        assert secret in seeded, secret


def test_every_call_of_the_demo_audit_is_in_the_shipped_policy(demo_run):
    from twelvefactor.settings import data_dir

    _, run = demo_run
    policy = json.loads((data_dir() / "iam-policy.json").read_text())
    allowed = set(policy["Statement"][0]["Action"])
    used = {c["action"] for c in run["snapshot"]["api_calls"]}
    assert used <= allowed, used - allowed
    assert len(used) >= 10


def test_every_plot_is_shown_as_a_picture(demo_run):
    out, _ = demo_run
    plots = 0
    for path in sorted((out / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code" and "wb.plot(" in "".join(cell["source"]):
                plots += 1
                kinds = {k for o in cell.get("outputs", []) for k in o.get("data", {})}
                assert "image/png" in kinds, (path.name, "".join(cell["source"]))
    assert plots >= 10


# -- the report: self-contained pages, scorecard, exports (issue 5) ---------------------------
def _fetched(page: str) -> list[str]:
    """What a page would load by itself: src of any element, href of <link> elements."""
    import re

    srcs = re.findall(r"""\bsrc\s*=\s*["']([^"']+)""", page, re.I)
    links = re.findall(r"""<link\b[^>]*\bhref\s*=\s*["']([^"']+)""", page, re.I)
    imports = re.findall(r"""@import\s+(?:url\()?["']?([^"')\s]+)""", page, re.I)
    return srcs + links + imports


def test_every_page_is_self_contained(demo_run):
    out, _ = demo_run
    pages = [out / "index.html", *sorted((out / "html").glob("*.html"))]
    assert len(pages) >= 3
    for page in pages:
        text = page.read_text()
        remote = [u for u in _fetched(text) if not u.startswith(("data:", "#"))]
        remote = [u for u in remote if "://" in u or u.startswith("//")]
        assert remote == [], (page.name, remote)
        assert "require.min.js" not in text and "MathJax" not in text, page.name
    index = (out / "index.html").read_text()
    assert 'src="data:image/png;base64,' in index  # the scorecard, inline
    assert 'href="html/99-scorecard.html"' in index
    assert (out / "scorecard.png").stat().st_size > 10_000


def test_index_opens_in_a_browser_without_errors(demo_run, tmp_path):
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("no chromium (Debian package 'chromium') on this machine")
    out, _ = demo_run
    for page in [out / "index.html", out / "html" / "99-scorecard.html"]:
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
             "--v=0", "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path}",
             "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "Scorecard" in result.stdout, result.stderr[-2000:]
        console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
        assert console == [], console


def test_the_scorecard_notebook_shows_the_heatmap(demo_run):
    out, run = demo_run
    assert run["notebooks_in_parallel"] >= 1
    nb = json.loads((out / "notebooks" / "99-scorecard.ipynb").read_text())
    plot_cells = [c for c in nb["cells"] if "".join(c["source"]).strip() == "sc.plot()"]
    assert plot_cells
    assert "image/png" in {k for o in plot_cells[0]["outputs"] for k in o.get("data", {})}


def test_exports_validate_and_match_the_findings(demo_run):
    from twelvefactor.exports import validate_asff, validate_ocsf

    out, _ = demo_run
    rows = json.loads((out / "findings.json").read_text())
    asff = json.loads((out / "findings.asff.json").read_text())
    ocsf = json.loads((out / "findings.ocsf.json").read_text())
    validate_asff(asff)
    validate_ocsf(ocsf)
    assert len(asff) == len(ocsf) == len(rows)
    assert len({f["Id"] for f in asff}) == len(rows)  # the identity is unique in the demo
