"""The Twelve-Factor AWS Workbook: audit an AWS account against the twelve factors."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "open"]


def open(**parameters):  # noqa: A001 - the notebooks' one-liner
    """Open the workbook: resolve settings, get a snapshot (demo, live, saved), build inventory."""
    import pandas as pd

    from .workbook import Workbook

    # notebooks show whole messages and evidence, not the first 50 characters
    pd.set_option("display.max_colwidth", 300)
    pd.set_option("display.max_rows", 500)
    return Workbook.open(**parameters)
