"""In a real browser: a factor notebook in JupyterLab on the demo server, and the HTML report.

Headless Debian chromium driven by Playwright. JupyterLab is started the way attendees start it
(`twelvefactor lab`), on free ports, with a known token, on a scratch copy of the notebooks (so
saved outputs never reach notebooks/). Screenshots go to reports/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "twelvefactor.cli"]
NOTEBOOK = "01-codebase.ipynb"

#: Runs in the page: every code cell's outputs, from JupyterLab's own notebook model.
OUTPUTS_JS = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  return nb.widgets.filter(c => c.model.type === 'code').map(c => ({
    count: c.model.executionCount,
    source: c.model.sharedModel.getSource().slice(0, 80),
    outputs: c.model.outputs.toJSON(),
  }));
}"""

#: Runs in the page: scroll each rendered image into view and measure it.
IMAGES_JS = """async () => {
  const sizes = [];
  for (const img of document.querySelectorAll('.jp-Notebook .jp-RenderedImage img')) {
    img.scrollIntoView();
    await new Promise(r => setTimeout(r, 50));
    if (!img.complete) await img.decode().catch(() => {});
    const box = img.getBoundingClientRect();
    sizes.push({natural: img.naturalWidth, width: box.width, height: box.height});
  }
  return sizes;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None:
                raise AssertionError(f"the lab exited early with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def lab(tmp_path: Path):
    """`twelvefactor lab` on free ports; yields (JupyterLab base URL, token); one Ctrl-C ends it."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    config = tmp_path / "jupyter-config"  # only to let the test call JupyterLab's commands
    config.mkdir()
    (config / "jupyter_lab_config.json").write_text(
        json.dumps({"LabApp": {"expose_app_in_browser": True}})
    )
    token = secrets.token_hex(16)
    jupyter_port = free_port()
    env = os.environ | {"JUPYTER_TOKEN": token, "JUPYTER_CONFIG_DIR": str(config)}
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [
            *CLI,
            "lab",
            "--port",
            str(free_port()),
            "--jupyter-port",
            str(jupyter_port),
            "--no-browser",
            "--notebook-dir",
            str(notebooks),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{jupyter_port}"
    try:
        wait_for(f"{base}/api/status?token={token}", proc)
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        print(out[-3000:])


def test_factor_notebook_runs_in_jupyterlab_with_plots(lab, page, screenshots):
    base, token = lab
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", timeout=120_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=120_000,
    )
    # Run > Run All Cells; the command's promise settles when the last cell has run
    page.evaluate("async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".filter(c => c.model.type === 'code')"
        ".every(c => c.model.executionCount !== null)"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=300_000,
    )
    cells = page.evaluate(OUTPUTS_JS)
    assert cells and all(c["count"] for c in cells), cells
    errors = [
        (c["source"], o.get("ename"), o.get("evalue"))
        for c in cells
        for o in c["outputs"]
        if o["output_type"] == "error"
    ]
    assert errors == []
    # no error box in the page either (what an attendee would see)
    assert (
        page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
        ).count()
        == 0
    )
    text = "\n".join(
        json.dumps(o.get("data", {}).get("text/plain", "")) for c in cells for o in c["outputs"]
    )
    assert "demo" in text  # the run information: the demo account ...
    html = "\n".join(
        "".join(o.get("data", {}).get("text/html", "")) for c in cells for o in c["outputs"]
    )
    assert "FAIL -&gt; PASS" in html or "FAIL -> PASS" in html  # ... and the Try-it flip

    pngs = sum("image/png" in o.get("data", {}) for c in cells for o in c["outputs"])
    assert pngs >= 2, "the notebook shows its plots"
    sizes = page.evaluate(IMAGES_JS)
    assert len(sizes) == pngs, sizes
    assert all(s["natural"] > 0 and s["width"] > 50 and s["height"] > 50 for s in sizes), sizes

    # the first plot, as an attendee sees it
    page.locator(".jp-Notebook .jp-RenderedImage img").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "notebook-01-codebase.png"))
    page.locator(".jp-Notebook .jp-Cell").filter(
        has_text="tryit.exercise"
    ).first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "notebook-01-codebase-try-it.png"))


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "demo"
    result = subprocess.run(
        [*CLI, "demo", "--out", str(out), "--notebook", "01", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
    )
    assert result.returncode in (0, 1), result.stderr  # 1: the demo's planted FAILs
    assert (out / "index.html").is_file()
    return out


def test_report_index_opens_in_the_browser(report, page, screenshots):
    page.goto((report / "index.html").as_uri())
    assert "findings" in page.content().lower()
    broken = page.evaluate(
        "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
        ".map(i => i.src)"
    )
    assert broken == []
    assert page.evaluate("() => document.images.length") >= 1  # the scorecard
    links = page.evaluate("() => [...document.links].map(a => a.getAttribute('href'))")
    pages = [h for h in links if h and h.startswith("html/") and h.endswith(".html")]
    assert pages, links
    page.screenshot(path=str(screenshots / "report-index.png"))  # the top: scorecard, summary

    # the executed notebook's page: tables and figures kept, code hidden
    page.goto((report / pages[0]).as_uri())
    sizes = page.evaluate(
        "() => [...document.images].map(i => ({natural: i.naturalWidth,"
        " width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height}))"
    )
    assert sizes and all(s["natural"] > 0 and s["width"] > 50 for s in sizes), sizes
    assert page.locator("table").count() > 0
    assert page.locator(".jp-CodeCell").count() > 0
    assert page.locator(".jp-CodeCell:not(.jp-mod-noInput)").count() == 0  # code hidden
    assert "twelvefactor.open(" not in page.inner_text("body")
    page.locator("img").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "report-notebook.png"))
