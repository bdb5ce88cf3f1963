"""Notebook hygiene: names, kernelspec, a parameters cell, no outputs, thin code cells."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from twelvefactor.catalog import load_catalog
from twelvefactor.runner import notebooks_dir

NOTEBOOKS = sorted(notebooks_dir().glob("*.ipynb"))
NAME_RE = re.compile(r"^(00-start-here|0[1-9]-[a-z-]+|1[0-2]-[a-z-]+|99-scorecard)\.ipynb$")
CORE_PARAMETERS = {"source", "snapshot", "profile", "regions", "endpoint_url", "output_dir"}


def code_cells(path: Path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_there_are_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {"00-start-here.ipynb", "03-config.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_name_kernel_and_parameters(path: Path):
    assert NAME_RE.match(path.name), path.name
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    tree = ast.parse(tagged[0].source)
    names = {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    assert names >= CORE_PARAMETERS
    for node in tree.body:  # plain literals only: no derived values in the parameters cell
        assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path):
    for cell in code_cells(path):
        assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_thin(path: Path):
    for cell in code_cells(path):
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(
                node, ast.FunctionDef | ast.ClassDef | ast.For | ast.While | ast.Try | ast.Lambda
            ), f"{path.name}: logic belongs in lib/twelvefactor, not in:\n{cell.source}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(m.startswith(("boto", "moto")) for m in mods), cell.source
        assert len(cell.source.splitlines()) <= 12, cell.source


FACTOR_NOTEBOOKS = [p for p in NOTEBOOKS if p.name[:2] not in {"00", "99"}]


@pytest.mark.parametrize("path", FACTOR_NOTEBOOKS, ids=lambda p: p.name)
def test_factor_notebooks_document_exactly_their_checks(path: Path):
    factor = int(path.name[:2])
    nb = nbformat.read(path, as_version=4)
    headings = {
        m.group(1)
        for c in nb.cells
        if c.cell_type == "markdown"
        for m in re.finditer(r"^## (TF\d\d-[A-Z0-9-]+)", c.source, re.M)
    }
    catalog = {cid for cid, meta in load_catalog().items() if meta.factor == factor}
    assert headings == catalog
