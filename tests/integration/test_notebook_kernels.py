"""Notebooks share kernels one after another (runner.Kernel): nothing leaks between them, a
notebook that kills its kernel costs only itself, and a snapshot is opened once per kernel."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from twelvefactor import runner
from twelvefactor.workbook import Workbook

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _notebook(folder, name: str, *cells: str) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell('x: str = ""', metadata={"tags": ["parameters"]})]
        + [nbformat.v4.new_code_cell(c) for c in cells],
        metadata={"kernelspec": KERNELSPEC},
    )
    nbformat.write(nb, folder / f"{name}.ipynb")


def _run(tmp_path, monkeypatch, kernels: int):
    monkeypatch.setattr(runner, "notebook_workers", lambda count: min(count, kernels))
    folder, out = tmp_path / "nb", tmp_path / "out"
    out.joinpath("notebooks").mkdir(parents=True)
    out.joinpath("html").mkdir()
    paths = sorted(folder.glob("*.ipynb"))
    return runner.run_notebooks_in_parallel(paths, out, {"x": "given"}, progress=False), out


def test_the_next_notebook_starts_clean_in_the_same_kernel(tmp_path, monkeypatch):
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder, "01-first", "import os\nleak = os.getpid()\nprint(leak)")
    _notebook(
        folder,
        "02-second",
        "import os\nassert 'leak' not in globals(), 'a name leaked'\nprint(os.getpid())",
    )
    records, out = _run(tmp_path, monkeypatch, kernels=1)
    assert [r["status"] for r in records] == ["ok", "ok"], records
    first, second = (
        nbformat.read(out / "notebooks" / p, 4) for p in ("01-first.ipynb", "02-second.ipynb")
    )
    pid = [c.outputs[0]["text"].strip() for c in (first.cells[-1], second.cells[-1])]
    assert pid[0] == pid[1]  # one kernel ran both ...
    counts = [c.execution_count for c in second.cells if c.cell_type == "code"]
    assert counts[0] == 1  # ... and the second notebook's cells are numbered from 1
    assert all(r.get("html") for r in records)


def test_a_notebook_that_kills_its_kernel_fails_alone(tmp_path, monkeypatch):
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder, "01-dies", "import os\nos._exit(3)")
    _notebook(folder, "02-after", "print(x)")
    records, out = _run(tmp_path, monkeypatch, kernels=1)
    assert [r["status"] for r in records] == ["failed", "ok"], records
    after = nbformat.read(out / "notebooks" / "02-after.ipynb", 4)
    assert after.cells[-1].outputs[0]["text"].strip() == "given"  # its parameter reached it


def test_the_environment_reaches_every_kernel(tmp_path, monkeypatch):
    folder = tmp_path / "nb"
    folder.mkdir()
    for name in ("01-a", "02-b", "03-c"):
        _notebook(folder, name, "import os\nprint(os.environ['TWELVEFACTOR_PROBE'])")
    monkeypatch.setattr(runner, "notebook_workers", lambda count: 2)
    out = tmp_path / "out"
    out.joinpath("notebooks").mkdir(parents=True)
    out.joinpath("html").mkdir()
    paths = sorted(folder.glob("*.ipynb"))
    records = runner.run_notebooks_in_parallel(
        paths, out, {}, progress=False, env={"TWELVEFACTOR_PROBE": "seen"}
    )
    assert [r["status"] for r in records] == ["ok"] * 3
    assert "TWELVEFACTOR_PROBE" not in os.environ  # given to the kernels, not set here
    for p in paths:
        nb = nbformat.read(out / "notebooks" / p.name, 4)
        assert nb.cells[-1].outputs[0]["text"].strip() == "seen"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    from twelvefactor.settings import resolve
    from twelvefactor.workbook import acquire_snapshot

    _, snap = acquire_snapshot(resolve(source="demo", endpoint_url=""))
    return snap.write(tmp_path_factory.mktemp("snap") / "snapshot")


def test_a_snapshot_is_opened_once_until_its_files_change(snapshot, tmp_path):
    first = Workbook.open(source="snapshot", snapshot=str(snapshot))
    assert Workbook.open(source="snapshot", snapshot=str(snapshot)) is first
    suppressions = tmp_path / "s.yaml"
    suppressions.write_text("suppressions: []\n")
    muted = Workbook.open(source="snapshot", snapshot=str(snapshot), suppressions=str(suppressions))
    assert muted is not first  # other settings, another workbook
    suppressions.write_text(
        "suppressions:\n  - check: TF03-SECRETS-IN-ENV\n    reason: edited meanwhile\n"
    )
    os.utime(suppressions, ns=(1, 1))  # a different stamp even within the clock's resolution
    again = Workbook.open(source="snapshot", snapshot=str(snapshot), suppressions=str(suppressions))
    assert again is not muted
    assert again.findings_for(check_id="TF03-SECRETS-IN-ENV")["muted"].any()
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["source"]  # the replayed snapshot is left as it was


def test_a_live_or_demo_account_is_opened_afresh():
    from twelvefactor.settings import resolve
    from twelvefactor.workbook import _replay_key

    assert _replay_key(resolve(source="demo", endpoint_url="")) is None
    assert (
        _replay_key(resolve(source="live", endpoint_url="http://127.0.0.1:1", regions="eu-west-1"))
        is None
    )
