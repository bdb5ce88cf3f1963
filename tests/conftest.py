"""Shared test set-up: no test ever sees the developer's AWS configuration or credentials."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_CLEARED_PREFIXES = ("AWS_", "TWELVEFACTOR_")


@contextlib.contextmanager
def clean_environment() -> Iterator[pytest.MonkeyPatch]:
    """No AWS_* / TWELVEFACTOR_* variables, empty AWS config files, no instance metadata."""
    with pytest.MonkeyPatch.context() as mp, tempfile.NamedTemporaryFile() as empty:
        for name in list(os.environ):
            if name.startswith(_CLEARED_PREFIXES):
                mp.delenv(name, raising=False)
        mp.setenv("AWS_CONFIG_FILE", empty.name)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", empty.name)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield mp


#: What moto does not implement, so every demo collection records it (honestly) as unsupported.
MOTO_GAPS = {("codecommit", "ListRepositories")}


def unexpected_errors(errors: list[dict]) -> list[dict]:
    """Collection errors other than moto's known gaps."""
    return [
        e
        for e in errors
        if not ((e["service"], e["operation"]) in MOTO_GAPS and e["kind"] == "unsupported")
    ]


@pytest.fixture(autouse=True)
def isolated_environment():
    with clean_environment():
        yield


# -- browser tests (tests/browser): Debian's chromium driven by Playwright, no browser download --
_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = _ROOT / "reports" / "screenshots"


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
