"""``twelvefactor audit``: collect once, run the notebooks on that snapshot, write the report."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigurationError
from .findings import COLUMNS, Severity
from .report import notebook_html, write_findings, write_index
from .settings import Settings, data_dir
from .workbook import Workbook, acquire_snapshot

log = logging.getLogger(__name__)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FAIL_ON = ("critical", "high", "medium", "low")


def notebooks_dir() -> Path:
    return data_dir().parent / "notebooks"


def notebook_paths(selection: list[str] | None = None) -> list[Path]:
    paths = sorted(notebooks_dir().glob("[0-9][0-9]-*.ipynb"))
    if selection:
        paths = [p for p in paths if any(p.name.startswith(s) for s in selection)]
    return paths


def failing(findings: pd.DataFrame, fail_on: str) -> pd.DataFrame:
    """Unmuted FAIL findings at or above the ``fail_on`` severity."""
    if fail_on not in FAIL_ON:
        raise ConfigurationError(
            "fail-on", f"unknown severity {fail_on!r}.", f"use one of {FAIL_ON}."
        )
    threshold = Severity(fail_on).rank
    ranks = findings["severity"].map(lambda s: Severity(s).rank)
    return findings[(findings["status"] == "FAIL") & (ranks <= threshold)]


def run_notebook(path: Path, out: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    import papermill

    target = out / "notebooks" / path.name
    record: dict[str, Any] = {"name": path.stem, "ipynb": f"notebooks/{path.name}"}
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(target),
            parameters=parameters,
            progress_bar=False,
            cwd=str(path.parent),
            kernel_name="python3",
        )
        record["status"] = "ok"
    except Exception as exc:  # one failing notebook must not stop the others
        record["status"] = "failed"
        last_line = (str(exc).strip().splitlines() or [""])[-1][:300]
        record["error"] = f"{type(exc).__name__}: {last_line}"
        log.error("notebook %s failed: %s", path.name, record["error"])
    record["seconds"] = round(time.perf_counter() - t0, 2)
    if target.exists():
        try:
            html_path = out / "html" / f"{path.stem}.html"
            notebook_html(target, html_path)
            record["html"] = f"html/{path.stem}.html"
        except Exception as exc:  # a broken page must not lose the rest of the report
            record.setdefault("error", f"HTML export failed: {exc}")
    return record


def run_notebooks_in_parallel(
    paths: list[Path], out: Path, params: dict[str, Any], progress: bool
) -> list[dict[str, Any]]:
    """Run notebooks in worker processes, at most one per core; results in notebook order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    workers = max(1, min(len(paths), os.cpu_count() or 1))
    records: dict[Path, dict[str, Any]] = {}
    bar = tqdm(total=len(paths), desc="notebooks", unit="nb", disable=not progress, leave=False)
    # spawn: fresh interpreters, nothing inherited from this (threaded) process
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run_notebook, path, out, params): path for path in paths}
        for future in as_completed(futures):
            path = futures[future]
            try:
                records[path] = future.result()
            except Exception as exc:  # the worker itself died: still a record, still a report
                records[path] = {"name": path.stem, "status": "failed", "error": repr(exc)}
            bar.set_postfix_str(path.stem, refresh=False)
            bar.update()
    bar.close()
    return [records[p] for p in paths]


def audit(
    settings: Settings,
    out: Path,
    *,
    fail_on: str = "high",
    notebooks: list[str] | None = None,
    run_notebooks: bool = True,
    progress: bool = True,
    allow_errors: bool = False,
) -> dict[str, Any]:
    """Run a whole audit into ``out``; returns the run record (also written as run.json)."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    failing(pd.DataFrame(columns=COLUMNS), fail_on)  # validate early
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("notebooks", "html"):
        (out / sub).mkdir(exist_ok=True)
    settings, snapshot = acquire_snapshot(settings, progress=progress)
    t_collect = time.perf_counter() - t0
    snapshot_dir = snapshot.write(out / "snapshot")

    t1 = time.perf_counter()
    wb = Workbook(settings.with_(source="snapshot", snapshot=str(snapshot_dir)), snapshot)
    findings = wb.findings
    write_findings(findings, out)
    t_checks = time.perf_counter() - t1

    records: list[dict[str, Any]] = []
    t_notebooks = 0.0
    if run_notebooks:
        params = {
            "source": "snapshot",
            "snapshot": str(snapshot_dir.resolve()),
            "output_dir": str((out / "notebook-findings").resolve()),
        }
        if settings.app_map:
            params["app_map"] = json.dumps(settings.app_map)
        t2 = time.perf_counter()
        records = run_notebooks_in_parallel(notebook_paths(notebooks), out, params, progress)
        t_notebooks = time.perf_counter() - t2
        _compare_notebook_findings(out, findings, records)

    bad = failing(findings, fail_on)
    incomplete = int((findings["status"] == "ERROR").sum())
    if any(r["status"] != "ok" for r in records):
        exit_code = EXIT_ERROR  # a notebook failed: the report is incomplete
    elif len(bad):
        exit_code = EXIT_FINDINGS
    elif incomplete and not allow_errors:
        exit_code = EXIT_ERROR  # nothing failed, but some checks could not be evaluated
    else:
        exit_code = EXIT_CLEAN
    manifest = {k: v for k, v in snapshot.manifest.items() if k != "files"}
    run = {
        "tool_version": manifest.get("tool_version"),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": {
            "collect": round(t_collect, 3),
            "checks": round(t_checks, 3),
            "notebooks": round(t_notebooks, 3),  # wall time; each notebook's is in "notebooks"
            "total": round(time.perf_counter() - t0, 3),
        },
        "settings": settings.public(),
        "fail_on": fail_on,
        "exit_code": exit_code,
        "counts": {k: int(v) for k, v in findings["status"].value_counts().sort_index().items()},
        "failing_at_threshold": len(bad),
        "could_not_evaluate": incomplete,
        "notebooks": records,
        "snapshot": manifest,
    }
    write_index(out, run, findings)
    (out / "run.json").write_text(json.dumps(run, indent=1, default=str))
    return run


def _compare_notebook_findings(out: Path, findings: pd.DataFrame, records: list[dict]) -> None:
    """Each notebook's exported findings must equal the runner's for its factor."""
    for record in records:
        factor = record["name"][:2]
        path = out / "notebook-findings" / f"findings-{factor}.json"
        if record["status"] != "ok" or not path.exists():
            continue
        mine = findings[findings["factor"] == int(factor)][COLUMNS].to_dict(orient="records")
        theirs = json.loads(path.read_text())
        if json.loads(json.dumps(mine, default=str)) != theirs:
            record["status"] = "inconsistent"
            record["error"] = "the notebook's findings differ from the runner's"


def default_out(settings: Settings) -> Path:
    if settings.source == "demo":
        return Path("reports") / "demo"
    return Path("reports") / datetime.now(UTC).strftime("audit-%Y%m%d-%H%M%S")


def summary_text(run: dict[str, Any], out: Path) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in run["counts"].items())
    failed = [n["name"] for n in run["notebooks"] if n["status"] != "ok"]
    lines = [
        f"account {run['snapshot']['account']} ({run['snapshot']['source']}), regions "
        f"{', '.join(run['snapshot']['regions'])}: {run['snapshot']['api_call_total']} API calls, "
        f"{len(run['snapshot']['errors'])} collection errors",
        f"findings: {counts}; {run['failing_at_threshold']} FAIL at {run['fail_on']} or above",
    ]
    if run["could_not_evaluate"]:
        lines.append(
            f"{run['could_not_evaluate']} findings could not be evaluated (ERROR): see the "
            "collection errors in the report; missing permissions are named there"
        )
    if failed:
        lines.append(f"notebooks that failed: {', '.join(failed)}")
    lines.append(
        f"report: {out / 'index.html'} (exit code {run['exit_code']}, {run['seconds']['total']} s)"
    )
    return "\n".join(lines)


def isatty() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")
