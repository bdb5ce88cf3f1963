"""Shared test set-up: no test ever sees the developer's AWS configuration or credentials."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

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
