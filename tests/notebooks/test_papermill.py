"""Notebooks run by papermill with parameters; values read back and compared with the library."""

from __future__ import annotations

import json

import papermill
import pytest
from conftest import clean_environment

from twelvefactor.findings import COLUMNS
from twelvefactor.runner import notebooks_dir
from twelvefactor.settings import resolve
from twelvefactor.workbook import Workbook, acquire_snapshot


@pytest.fixture(scope="module")
def snapshot_dir(tmp_path_factory):
    with clean_environment():
        settings, snap = acquire_snapshot(resolve(source="demo"))
    return snap.write(tmp_path_factory.mktemp("snap") / "snapshot"), settings


def test_config_notebook_on_a_snapshot_matches_the_library(snapshot_dir, tmp_path):
    snap, _ = snapshot_dir
    papermill.execute_notebook(
        str(notebooks_dir() / "03-config.ipynb"),
        str(tmp_path / "03.ipynb"),
        parameters={"source": "snapshot", "snapshot": str(snap), "output_dir": str(tmp_path)},
        progress_bar=False,
        kernel_name="python3",
    )
    exported = json.loads((tmp_path / "findings-03.json").read_text())
    wb = Workbook.open(source="snapshot", snapshot=str(snap))
    expected = json.loads(json.dumps(wb.findings_for(factor=3)[COLUMNS].to_dict("records")))
    assert exported == expected
    assert any(row["status"] == "FAIL" for row in exported)


def test_a_bad_parameter_fails_in_the_first_setup_cell(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(notebooks_dir() / "03-config.ipynb"),
            str(tmp_path / "03.ipynb"),
            parameters={"regions": "mars-north-1x"},
            progress_bar=False,
            kernel_name="python3",
        )
    assert err.value.ename == "ConfigurationError"
    assert "regions" in err.value.evalue and "Fix:" in err.value.evalue
    # the error surfaced in the setup cell, right after the parameters
    nb = json.loads((tmp_path / "03.ipynb").read_text())
    failed = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code"
        and any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    assert failed == [code[2]]  # parameters, injected parameters, then setup
