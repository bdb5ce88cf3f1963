"""The workbook object the notebooks use: one line to open, then tables and plots by check id."""

from __future__ import annotations

import json
import logging
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from . import scope
from . import settings as settings_mod
from .aws import AwsAccess
from .catalog import CheckMeta, load_catalog
from .checks import run_checks
from .errors import ConfigurationError
from .findings import COLUMNS, to_frame
from .inventory import Inventory
from .settings import Settings
from .snapshot import Snapshot

log = logging.getLogger(__name__)

SHOWN = ["status", "application", "environment", "region", "resource_id", "message"]


def acquire_snapshot(settings: Settings, *, progress: bool = False) -> tuple[Settings, Snapshot]:
    """The one place that decides where a Snapshot comes from: demo, live or disk."""
    settings, snap = _acquire_account(settings, progress=progress)
    if settings.source != "snapshot":
        _add_local_repos(settings, snap)
    return settings, snap


def _add_local_repos(settings: Settings, snap: Snapshot) -> None:
    """Local source repositories (optional): read once, redacted, kept in the snapshot."""
    if not settings.repo_paths:
        return
    from .collect.local import collect_repos
    from .redaction import Redactor

    snap.data[("local", "repos")] = Redactor(settings.redaction_salt).tree(
        collect_repos(list(settings.repo_paths))
    )
    snap.manifest["repo_paths"] = list(settings.repo_paths)


def _acquire_account(settings: Settings, *, progress: bool) -> tuple[Settings, Snapshot]:
    from .collect import collect

    if settings.source == "snapshot":
        snap = Snapshot.load(settings.snapshot)
        if settings.regions and not set(settings.regions) <= set(snap.regions):
            raise ConfigurationError(
                "regions",
                f"{list(settings.regions)} are not all in the snapshot ({snap.regions}).",
                "leave regions empty to use the snapshot's, or collect a new snapshot.",
            )
        recorded = snap.manifest.get("settings", {})
        return settings.with_(
            regions=tuple(snap.regions),
            # classify as the collection did, unless told otherwise
            app_map=settings.app_map or recorded.get("app_map") or {},
        ), snap
    if settings.source == "demo":
        from .demo import in_process, load_scenario

        scenario = load_scenario()
        settings = settings.with_(
            regions=settings.regions or scenario.regions,
            redaction_salt=settings.redaction_salt or scenario.redaction_salt,
            repo_paths=settings.repo_paths or scenario.repo_paths,
        )
        if settings.endpoint_url:  # a demo server someone seeded (make lab, twelvefactor demo)
            access = AwsAccess(settings, demo=True)
            return settings, collect(access, settings, progress=progress, source="demo")
        with in_process(scenario):
            access = AwsAccess(settings, demo_in_process=True)
            return settings, collect(access, settings, progress=progress, source="demo")
    access = AwsAccess(settings)
    return settings, collect(access, settings, progress=progress, source="live")


#: The first line of the cell papermill injects after a notebook's ``parameters`` cell.
PAPERMILL_INJECTED = "# Parameters\n"


def _assigned(source: str) -> set[str]:
    """Names a cell of Python assigns at its top level."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def refuse_unknown_notebook_parameters() -> None:
    """Stop a notebook that papermill gave a parameter it does not declare.

    papermill only warns ("Passed unknown parameter") and runs on, so a misspelt ``-p regoins ...``
    would silently audit the default account. In a kernel, the cell papermill injected follows
    the notebook's ``parameters`` cell in the input history: every name it assigns must be
    assigned there too. Outside papermill (Jupyter, nbval, scripts) there is no such cell.
    """
    import difflib

    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    history = list(shell.user_ns.get("In", [])) if shell is not None else []
    for before, cell in zip(history, history[1:], strict=False):
        if not cell.startswith(PAPERMILL_INJECTED):
            continue
        declared = _assigned(before)
        for name in sorted(_assigned(cell) - declared):
            near = difflib.get_close_matches(name, sorted(declared), n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ConfigurationError(
                name,
                "not a parameter of this notebook (papermill passed it on with only a warning).",
                f"{hint}use one of {', '.join(sorted(declared))}.",
            )


def _display_figures_in_notebooks() -> None:
    """In IPython, show a returned matplotlib Figure as a PNG (whatever backend is active)."""
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        select_figure_formats(shell, {"png"})


def _replay_key(settings: Settings) -> str | None:
    """What identifies a workbook opened from a snapshot on disk: its settings and the state of
    its files (a snapshot collected again into the same folder, or suppressions edited, is a new
    workbook). None for a live or demo account, which may change between two opens."""
    if settings.source != "snapshot":
        return None
    stamps = []
    for name in (Path(settings.snapshot) / "manifest.json", settings.suppressions):
        path = Path(name) if name else None
        st = path.stat() if path is not None and path.is_file() else None
        stamps.append(f"{st.st_mtime_ns}:{st.st_size}" if st else "-")
    return f"{settings!r}|{'|'.join(stamps)}"


#: The workbook last opened from a snapshot, by _replay_key: a kernel that runs one notebook
#: after another (runner.Kernel) opens and evaluates a snapshot once, not once per notebook.
_OPENED: dict[str, Workbook] = {}


class Workbook:
    """Settings, snapshot, inventory and findings of one audit, for notebooks and the runner."""

    def __init__(self, settings: Settings, snapshot: Snapshot):
        self.settings = settings
        self.snapshot = snapshot
        self.inventory = Inventory(snapshot, settings)

    #: The applications a figure draws (all of them; see scope.ScopedWorkbook).
    applications_shown: frozenset[str] | None = None

    @classmethod
    def open(cls, progress: bool = False, **parameters: Any) -> Workbook:
        """Open from notebook parameters (empty values fall back to the environment)."""
        refuse_unknown_notebook_parameters()
        settings = settings_mod.resolve(**parameters)
        key = _replay_key(settings)
        if key is not None and key in _OPENED:
            return _OPENED[key]
        settings, snapshot = acquire_snapshot(settings, progress=progress)
        wb = cls(settings, snapshot)
        if key is not None:
            _OPENED.clear()  # one at a time: the memory of one account, not of every one
            _OPENED[key] = wb
        return wb

    # -- findings --------------------------------------------------------------------------
    @cached_property
    def findings(self) -> pd.DataFrame:
        """Every finding of every implemented check, in the schema of DESIGN.md.

        Suppressions (settings.suppressions) are applied here, the one place findings are made.
        """
        from . import suppressions

        return suppressions.apply(
            to_frame(run_checks(self.inventory, self.settings)),
            suppressions.load(self.settings.suppressions),
            self.inventory,
        )

    def findings_for(self, factor: int | None = None, check_id: str | None = None) -> pd.DataFrame:
        if "findings" in self.__dict__ or (factor is None and check_id is None):
            f = self.findings
        else:  # a factor's notebook needs its own factor's checks, not every check
            f = self._factor_findings(factor if factor is not None else self.meta(check_id).factor)
        if factor is not None:
            f = f[f["factor"] == factor]
        if check_id is not None:
            f = f[f["check_id"] == check_id]
        return f.reset_index(drop=True)

    def _factor_findings(self, factor: int) -> pd.DataFrame:
        """The findings of one factor's checks, run once (the same rows ``findings`` holds)."""
        cache = self.__dict__.setdefault("_by_factor", {})
        if factor not in cache:
            from . import suppressions

            cache[factor] = suppressions.apply(
                to_frame(run_checks(self.inventory, self.settings, factors=[factor])),
                suppressions.load(self.settings.suppressions),
                self.inventory,
            )
        return cache[factor]

    def meta(self, check_id: str) -> CheckMeta:
        catalog = load_catalog()
        if check_id not in catalog:
            raise ConfigurationError(
                "check_id", f"no check {check_id!r}.", "see `twelvefactor checks`."
            )
        return catalog[check_id]

    def check(self, check_id: str) -> pd.DataFrame:
        """The findings of one check, the failures first, in a notebook-friendly shape.

        Muted findings (suppressions) come last, with the reason they were muted.
        """
        self.meta(check_id)
        f = self.findings_for(check_id=check_id)
        order = {"FAIL": 0, "ERROR": 1, "SKIP": 2, "INFO": 3, "PASS": 4}
        shown = SHOWN + (["muted_reason"] if f["muted"].any() else [])
        return (
            f.assign(_o=f["status"].map(order))
            .sort_values(
                ["muted", "_o", "application", "environment", "resource_id"], kind="stable"
            )[shown]
            .reset_index(drop=True)
        )

    def evidence(self, check_id: str) -> pd.DataFrame:
        """The evidence behind one check as a table (values of secrets are redacted markers)."""
        from .checks import registry
        from .evidence import EVIDENCE

        self.meta(check_id)
        registry()  # check modules register their evidence tables when imported
        return EVIDENCE[check_id](self)

    def summary(self, factor: int | None = None) -> pd.DataFrame:
        """Counts of findings per check and status (one row per check)."""
        f = self.findings_for(factor=factor)
        table = pd.crosstab([f["check_id"], f["title"]], f["status"])
        for status in ["FAIL", "ERROR", "SKIP", "INFO", "PASS"]:
            if status not in table.columns:
                table[status] = 0
        return table[["FAIL", "ERROR", "SKIP", "INFO", "PASS"]].reset_index()

    def plot(self, name: str, max_apps: int | None = scope.MAX_APPS, **kwargs: Any):
        """A named figure (see twelvefactor.plots.PLOTS).

        A figure drawn per application shows at most ``max_apps`` of them, the most serious
        FAILs first, and says so under it (``max_apps=None``: every one; see scope.py).
        """
        from .checks import registry
        from .plots import PLOTS

        registry()  # check modules may register their own plots
        _display_figures_in_notebooks()
        if name not in PLOTS:
            raise ConfigurationError("plot", f"no plot {name!r}.", f"use one of {sorted(PLOTS)}.")
        if max_apps is not None and (not isinstance(max_apps, int) or max_apps < 1):
            raise ConfigurationError(
                "max_apps",
                f"{max_apps!r} is not a number of applications.",
                "use 1 or more, or None.",
            )
        draw = PLOTS[name]
        if (
            max_apps is None
            or kwargs.get("application")
            or not getattr(draw, "by_application", True)
        ):
            return draw(self, **kwargs)
        apps = scope.applications(self.inventory)
        if len(apps) <= max_apps:
            return draw(self, **kwargs)
        factor = scope.factor_of(draw, kwargs)  # its factor's checks run in its notebook anyway
        ranked = self.findings_for(factor=factor) if factor else self.findings
        shown = scope.worst_first(ranked, apps)[:max_apps]
        fig = draw(scope.ScopedWorkbook(self, shown), **kwargs)
        if hasattr(fig, "text"):
            fig.text(
                0.01,
                -0.01,
                scope.note(max_apps, len(apps), name),
                fontsize=8,
                va="top",
                color="#555555",
                wrap=True,
            )
        return fig

    # -- the account at a glance ----------------------------------------------------------
    def overview(self) -> pd.DataFrame:
        """Resources collected per table, region and environment."""
        rows = []
        for table, frame in self.inventory.tables().items():
            if frame.empty:
                continue
            counts = frame.groupby(["region", "environment"], dropna=False).size()
            for (region, env), n in counts.items():
                rows.append(
                    {
                        "resource": table,
                        "region": region,
                        "environment": env or "(unknown)",
                        "count": int(n),
                    }
                )
        frame = pd.DataFrame(rows, columns=["resource", "region", "environment", "count"])
        return frame.pivot_table(
            index="resource",
            columns=["region", "environment"],
            values="count",
            fill_value=0,
            aggfunc="sum",
        )

    def run_info(self) -> pd.DataFrame:
        """What this audit looked at, as a one-column table."""
        m = self.snapshot.manifest
        return pd.Series(
            {
                "source": m.get("source", ""),
                "account": m.get("account", ""),
                "caller": m.get("caller_arn", ""),
                "regions": ", ".join(m.get("regions", [])),
                "collected": f"{m.get('started_at', '')} .. {m.get('finished_at', '')}",
                "API calls": m.get("api_call_total", 0),
                "collection errors": len(m.get("errors", [])),
                "values redacted": sum(m.get("redactions", {}).values()),
                "tool version": m.get("tool_version", ""),
            },
            name="this audit",
        ).to_frame()

    # -- papermill -------------------------------------------------------------------------
    def export(self, factor: int | None = None) -> Path | None:
        """Write this notebook's findings to output_dir (when set) for the runner to compare."""
        if not self.settings.output_dir:
            return None
        out = Path(self.settings.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        name = f"findings-{factor:02d}.json" if factor is not None else "findings-all.json"
        rows = self.findings_for(factor=factor)[COLUMNS].to_dict(orient="records")
        path = out / name
        path.write_text(json.dumps(rows, indent=1, default=str))
        return path
