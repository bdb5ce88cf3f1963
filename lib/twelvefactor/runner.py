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
from .findings import COLUMNS, STATUS_ORDER, Severity
from .report import notebook_html, write_findings, write_index
from .settings import Settings, data_dir
from .workbook import Workbook, acquire_snapshot

log = logging.getLogger(__name__)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FAIL_ON = ("critical", "high", "medium", "low")


def notebooks_dir() -> Path:
    return data_dir().parent / "notebooks"


def notebook_paths(selection: list[str] | None = None, folder: Path | None = None) -> list[Path]:
    paths = sorted((folder or notebooks_dir()).glob("[0-9][0-9]-*.ipynb"))
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
    unmuted = ~findings["muted"].astype(bool)
    return findings[(findings["status"] == "FAIL") & (ranks <= threshold) & unmuted]


def notebook_workers(count: int) -> int:
    """How many notebooks run at once: at most one per core."""
    return max(1, min(count, os.cpu_count() or 1))


#: Run in a kernel between two notebooks: nothing one notebook defined reaches the next, and the
#: next one's cells are numbered from 1 again. What stays is what is imported, and the workbooks
#: opened from the same snapshot (Workbook.open's cache): the reasons to reuse a kernel.
RESET = (
    "get_ipython().reset(new_session=True, aggressive=False)\n"
    "import matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt\n"
)


class Kernel:
    """One Jupyter kernel that runs notebooks one after another (see RESET), started on first use
    and started again after a notebook that killed it. Used from one thread only."""

    def __init__(self, cwd: Path, env: dict[str, str]):
        self.cwd, self.env = cwd, env
        self.km: Any = None
        self.used = False

    def manager(self) -> Any:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        if self.km is not None and run_sync(self.km.is_alive)():
            if not self.used:
                return self.km
            try:
                self._reset()
                return self.km
            except Exception as exc:  # a kernel that cannot be reset is replaced
                log.warning("kernel reset failed (%s): starting a new kernel", exc)
        self.shutdown()
        self.km = AsyncKernelManager(kernel_name="python3")
        run_sync(self.km.start_kernel)(
            cwd=str(self.cwd),
            env={**os.environ, **self.env},
            # no history database on disk (parallel kernels would contend for its lock)
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
        )
        self.used = False
        return self.km

    def _reset(self) -> None:
        kc = self.km.blocking_client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            reply = kc.execute_interactive(RESET, store_history=False, timeout=60, output_hook=None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"kernel reset failed: {reply['content'].get('evalue', '')}")
        finally:
            kc.stop_channels()

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception as exc:  # already gone: nothing to stop
                log.debug("kernel shutdown: %s", exc)
            self.km = None


def run_notebook(
    path: Path, out: Path, parameters: dict[str, Any], kernel: Kernel
) -> dict[str, Any]:
    import papermill

    target = out / "notebooks" / path.name
    record: dict[str, Any] = {"name": path.stem, "ipynb": f"notebooks/{path.name}"}
    t0 = time.perf_counter()
    try:
        km = kernel.manager()
        kernel.used = True
        papermill.execute_notebook(
            str(path),
            str(target),
            parameters=parameters,
            progress_bar=False,
            kernel_name="python3",
            request_save_on_cell_execute=False,  # written once at the end, not after each cell
            km=km,  # the kernel already runs in the notebook's folder (papermill's cwd chdirs)
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
    paths: list[Path],
    out: Path,
    params: dict[str, Any],
    progress: bool,
    env: dict[str, str] | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Run notebooks on at most one kernel per core; results in notebook order.

    Each kernel takes the next notebook waiting when it is free and keeps its imports and the
    opened snapshot from one notebook to the next (see RESET): a notebook costs its own cells,
    not a Python start, pandas and matplotlib imports, and an evaluation of the account again.
    The threads here only wait on their kernels.
    """
    import queue
    import threading

    from tqdm.auto import tqdm

    waiting: queue.Queue[Path] = queue.Queue()
    for path in paths:
        waiting.put(path)
    records: dict[Path, dict[str, Any]] = {}
    bar = tqdm(total=len(paths), desc="notebooks", unit="nb", disable=not progress, leave=False)
    lock = threading.Lock()
    cwd = paths[0].parent if paths else notebooks_dir()

    def work() -> None:
        kernel = Kernel(cwd, env or {})
        try:
            while True:
                try:
                    path = waiting.get_nowait()
                except queue.Empty:
                    return
                try:
                    record = run_notebook(
                        path, out, {**params, **(extra or {}).get(path.stem[:2], {})}, kernel
                    )
                except Exception as exc:  # still a record, still a report
                    record = {"name": path.stem, "status": "failed", "error": repr(exc)}
                with lock:
                    records[path] = record
                    bar.set_postfix_str(path.stem, refresh=False)
                    bar.update()
        finally:
            kernel.shutdown()

    threads = [
        threading.Thread(target=work, daemon=True) for _ in range(notebook_workers(len(paths)))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
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
    previous: str | Path | None = None,
    notebook_dir: Path | None = None,
) -> dict[str, Any]:
    """Run a whole audit into ``out``; returns the run record (also written as run.json).

    ``previous``: an earlier report or snapshot folder; what changed since is written to
    ``diff.json``/``diff.txt`` and shown in the scorecard. ``notebook_dir``: where the notebooks
    are (default: the project's notebooks/).
    """
    from . import suppressions
    from .diff import diff, load_findings
    from .exports import write_exports
    from .scorecard import Scorecard

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    failing(pd.DataFrame(columns=COLUMNS), fail_on)  # validate early
    old_findings = load_findings(previous, "previous", settings.suppressions) if previous else None
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("notebooks", "html"):
        (out / sub).mkdir(exist_ok=True)
    settings, snapshot = acquire_snapshot(settings, progress=progress)
    t_collect = time.perf_counter() - t0
    snapshot_dir = snapshot.write(out / "snapshot")

    t1 = time.perf_counter()
    wb = Workbook(settings.with_(source="snapshot", snapshot=str(snapshot_dir)), snapshot)
    findings = wb.findings  # suppressions applied
    entries = suppressions.load(settings.suppressions)
    suppression_report = suppressions.report(findings, entries, wb.inventory)
    write_findings(findings, out)
    exports = write_exports(
        findings, out, when=started, default_region=(settings.regions or ("",))[0]
    )
    changes = diff(old_findings, findings) if old_findings is not None else None
    if changes is not None:
        (out / "diff.json").write_text(json.dumps(changes.as_dict(), indent=1, default=str))
        (out / "diff.txt").write_text(changes.text(limit=10_000) + "\n")
    t_checks = time.perf_counter() - t1

    records: list[dict[str, Any]] = []
    t_notebooks = 0.0
    paths = notebook_paths(notebooks, notebook_dir) if run_notebooks else []
    if paths:
        params = {
            "source": "snapshot",
            "snapshot": str(snapshot_dir.resolve()),
            "output_dir": str((out / "notebook-findings").resolve()),
        }
        if settings.app_map:
            params["app_map"] = json.dumps(settings.app_map)
        # every notebook opens the workbook from its parameters and the environment: the
        # suppressions file reaches them all through the environment, no parameter cell changes
        env = {}
        if settings.suppressions:
            env["TWELVEFACTOR_SUPPRESSIONS"] = str(Path(settings.suppressions).resolve())
        extra = {"99": {"previous": str(Path(previous).resolve())}} if previous else {}
        t2 = time.perf_counter()
        records = run_notebooks_in_parallel(paths, out, params, progress, env, extra)
        t_notebooks = time.perf_counter() - t2
        _compare_notebook_findings(out, findings, records)

    counted = findings[~findings["muted"].astype(bool)]
    bad = failing(findings, fail_on)
    incomplete = int((counted["status"] == "ERROR").sum())
    if any(r["status"] != "ok" for r in records):
        exit_code = EXIT_ERROR  # a notebook failed: the report is incomplete
    elif len(bad):
        exit_code = EXIT_FINDINGS
    elif incomplete and not allow_errors:
        exit_code = EXIT_ERROR  # nothing failed, but some checks could not be evaluated
    else:
        exit_code = EXIT_CLEAN
    manifest = {k: v for k, v in snapshot.manifest.items() if k != "files"}
    fails = counted[counted["status"] == "FAIL"]
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
        "notebooks_in_parallel": notebook_workers(len(paths)) if paths else 0,
        "settings": settings.public(),
        "fail_on": fail_on,
        "exit_code": exit_code,
        "counts": {
            s: int(n)
            for s, n in findings["status"].value_counts().reindex(STATUS_ORDER).dropna().items()
            if n
        },
        "fail_by_severity": {
            sev.value: int((fails["severity"] == sev.value).sum())
            for sev in Severity
            if (fails["severity"] == sev.value).any()
        },
        "muted": int(findings["muted"].astype(bool).sum()),
        "failing_at_threshold": len(bad),
        "could_not_evaluate": incomplete,
        "suppressions": {
            "file": settings.suppressions,
            "entries": suppression_report,
            "expired": [e for e in suppression_report if e["state"] == "expired"],
        },
        "exports": exports,
        "previous": str(previous or ""),
        "changes": changes.counts() if changes is not None else None,
        "notebooks": records,
        "snapshot": manifest,
    }
    scorecard = Scorecard(
        findings, manifest=manifest, suppressions=suppression_report, changes=changes
    )
    scorecard.save_png(out / "scorecard.png")
    write_index(out, run, findings, scorecard)
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


def summary_text(run: dict[str, Any], out: Path, top: int = 5) -> str:
    """The run on one screen (at most about 20 lines), for the terminal and CI logs."""
    m = run["snapshot"]
    secs = run["seconds"]
    lines = [
        f"account {m['account']} ({m['source']}), regions {', '.join(m['regions'])}: "
        f"{m['api_call_total']} API calls, {len(m['errors'])} collection errors",
    ]
    if run["notebooks"]:
        lines.append(
            f"notebooks: {len(run['notebooks'])} in {secs['notebooks']} s "
            f"({run['notebooks_in_parallel']} in parallel); total {secs['total']} s"
        )
    counts = ", ".join(f"{k} {v}" for k, v in run["counts"].items())
    muted = f"; {run['muted']} muted by suppressions" if run.get("muted") else ""
    lines.append(f"findings: {counts}{muted}")
    if run.get("fail_by_severity"):
        lines.append(
            "FAIL by severity (not muted): "
            + ", ".join(f"{k} {v}" for k, v in run["fail_by_severity"].items())
        )
    worst = _top_failing(out, top)
    if worst:
        lines.append("fix first:")
        lines += [f"  {w}" for w in worst]
    if run["could_not_evaluate"]:
        lines.append(
            f"{run['could_not_evaluate']} findings could not be evaluated (ERROR): see the "
            "collection errors in the report; missing permissions are named there"
        )
    for e in run.get("suppressions", {}).get("expired", []):
        lines.append(
            f"suppression expired on {e['expires']} (line {e['line']}, {e['entry']}): "
            "it no longer mutes anything"
        )
    if run.get("changes"):
        c = run["changes"]
        lines.append(
            f"since {run['previous']}: {c['new']} new, {c['resolved']} resolved, "
            f"{c['changed']} changed (diff.txt)"
        )
    failed = [n["name"] for n in run["notebooks"] if n["status"] != "ok"]
    if failed:
        lines.append(f"notebooks that failed: {', '.join(failed)} (see index.html)")
    lines.append(
        f"{run['failing_at_threshold']} FAIL at {run['fail_on']} or above -> exit code "
        f"{run['exit_code']}; report: {out / 'index.html'}"
    )
    return "\n".join(lines)


def _top_failing(out: Path, n: int) -> list[str]:
    path = out / "findings.json"
    if not path.is_file():
        return []
    from .findings import from_records
    from .scorecard import Scorecard

    top = Scorecard(from_records(json.loads(path.read_text()))).top(n)
    return [
        f"{r.severity:8} {r.check_id:30} {r.resources:3d} x {r.title}"[:110]
        for r in top.itertuples()
    ]


def isatty() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")
