"""Browser tests: Debian's chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "reports" / "screenshots"


def chromium_path() -> str | None:
    """Debian's chromium (or $TWELVEFACTOR_TEST_CHROMIUM), never a browser Playwright downloads."""
    for candidate in (
        os.environ.get("TWELVEFACTOR_TEST_CHROMIUM", ""),
        "/usr/bin/chromium",
        shutil.which("chromium") or "",
        shutil.which("chromium-browser") or "",
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None and os.environ.get("CI"):
        pytest.fail("chromium is missing on CI: .ci/run should have installed it (apt-get)")
    if path is None:
        pytest.skip(
            "chromium is not installed: `apt-get install -y chromium` (CI's .ci/run installs it)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="playwright missing: pip install -c requirements.lock -e .[dev]",
    )
    with sync_api.sync_playwright() as p:
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start
        b = p.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
