"""The whole audit at a glance: applications x factors, counts, what to fix first, what is missing.

Built from whatever findings a run has -- no fixed list of checks: a factor without findings is
shown as "no checks" in the heatmap. Used by ``notebooks/99-scorecard.ipynb`` and by the report's
``index.html`` (the same figure, saved as ``scorecard.png``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .findings import STATUS_ORDER, Severity, from_records
from .plots import STATUS_COLOURS

if TYPE_CHECKING:
    from .diff import Diff
    from .workbook import Workbook

FACTORS = {
    1: "I. Codebase",
    2: "II. Dependencies",
    3: "III. Config",
    4: "IV. Backing services",
    5: "V. Build, release, run",
    6: "VI. Processes",
    7: "VII. Port binding",
    8: "VIII. Concurrency",
    9: "IX. Disposability",
    10: "X. Dev/prod parity",
    11: "XI. Logs",
    12: "XII. Admin processes",
}
ROMAN = {n: label.split(".")[0] for n, label in FACTORS.items()}
NO_APPLICATION = "(account-wide)"
NOT_CHECKED = "no checks"
SHORT = {"FAIL": "FAIL", "ERROR": "ERR", "SKIP": "skip", "INFO": "info", "PASS": "pass"}
#: Applications drawn in the heatmap at most (the worst first); ``matrix()`` keeps them all.
HEATMAP_ROWS = 40
#: Applications named in a row of ``top()`` at most; the others are counted.
APPLICATIONS_NAMED = 8


def _row_counts(grid: pd.DataFrame) -> tuple[dict[str, int], dict[str, int]]:
    """Per row of a status grid: the rank of its worst status (99: none), its FAIL cells."""
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    worst, fails = {}, {}
    for app, *cells in grid.itertuples(name=None):
        worst[app] = min((rank.get(v, 99) for v in cells), default=99)
        fails[app] = sum(v == "FAIL" for v in cells)
    return worst, fails


def _named(applications: pd.Series) -> str:
    names = sorted({v for v in applications if v})
    if not names:
        return NO_APPLICATION
    if len(names) <= APPLICATIONS_NAMED:
        return ", ".join(names)
    return f"{', '.join(names[:APPLICATIONS_NAMED])} and {len(names) - APPLICATIONS_NAMED} more"


class Scorecard:
    """Tables and the figure of the scorecard, from a run's findings."""

    def __init__(
        self,
        findings: pd.DataFrame,
        *,
        manifest: dict[str, Any] | None = None,
        suppressions: list[dict[str, Any]] | None = None,
        changes: Diff | None = None,
        previous: str = "",
    ):
        self.findings = findings
        self.manifest = manifest or {}
        self.suppressions = suppressions or []
        self.changes_ = changes
        self.previous = previous
        self._matrix: pd.DataFrame | None = None

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def from_workbook(cls, wb: Workbook, previous: str = "") -> Scorecard:
        """The scorecard of an open workbook; ``previous``: an earlier report or snapshot."""
        from . import suppressions

        findings = wb.findings
        entries = suppressions.load(wb.settings.suppressions)
        changes = None
        if previous:
            from .diff import diff, load_findings

            changes = diff(load_findings(previous, "previous", wb.settings.suppressions), findings)
        return cls(
            findings,
            manifest=wb.snapshot.manifest,
            suppressions=suppressions.report(findings, entries, wb.inventory),
            changes=changes,
            previous=str(previous),
        )

    @classmethod
    def from_report(cls, folder: str | Path) -> Scorecard:
        """The scorecard of a report folder (findings.json and run.json)."""
        folder = Path(folder)
        findings = from_records(json.loads((folder / "findings.json").read_text()))
        run = json.loads((folder / "run.json").read_text())
        return cls(
            findings,
            manifest=run.get("snapshot", {}),
            suppressions=run.get("suppressions", {}).get("entries", []),
        )

    # -- tables ---------------------------------------------------------------------------------
    @property
    def active(self) -> pd.DataFrame:
        """The findings that count: everything not muted."""
        return self.findings[~self.findings["muted"].astype(bool)]

    def headline(self) -> pd.DataFrame:
        """One table: the account, what ran, and the numbers that matter."""
        f, a = self.findings, self.active
        m = self.manifest
        fails = a[a["status"] == "FAIL"]
        rows = {
            "account": m.get("account", ""),
            "source": m.get("source", ""),
            "regions": ", ".join(m.get("regions", [])),
            "factors with checks": f"{f['factor'].nunique()} of 12",
            "checks run": int(f["check_id"].nunique()),
            "findings": len(f),
            "FAIL (not muted)": len(fails),
            "FAIL critical/high": int(fails["severity"].isin(["critical", "high"]).sum()),
            "could not evaluate (ERROR)": int((a["status"] == "ERROR").sum()),
            "muted by suppressions": int(f["muted"].astype(bool).sum()),
            "collection errors": len(m.get("errors", [])),
        }
        if self.changes_ is not None:
            c = self.changes_.counts()
            rows["since the previous run"] = (
                f"{c['new']} new, {c['resolved']} resolved, {c['changed']} changed"
            )
        return pd.Series(rows, name="this audit").to_frame()

    def matrix(self) -> pd.DataFrame:
        """Applications x factors 1-12: the worst status of the findings that count.

        "" means the application has no finding in a factor that has checks; ``no checks``
        marks a factor without any finding in this run.
        """
        if self._matrix is None:
            self._matrix = self._make_matrix()
        return self._matrix.copy()

    def _make_matrix(self) -> pd.DataFrame:
        rank = {s: i for i, s in enumerate(STATUS_ORDER)}
        a = self.active
        a = a.assign(
            application=a["application"].replace("", NO_APPLICATION),
            rank=a["status"].map(rank),
        )
        worst = a.groupby(["application", "factor"])["rank"].min().unstack("factor")
        grid = worst.reindex(columns=list(FACTORS))
        grid = grid.map(lambda r: "" if pd.isna(r) else STATUS_ORDER[int(r)]).astype("object")
        checked = set(self.findings["factor"])
        for factor in FACTORS:
            if factor not in checked:
                grid[factor] = NOT_CHECKED
        worst_rank, fail_cells = _row_counts(grid)
        order = sorted(
            grid.index,
            key=lambda app: (app == NO_APPLICATION, worst_rank[app], -fail_cells[app], app),
        )
        grid = grid.loc[order]
        grid.columns = [ROMAN[c] for c in grid.columns]
        grid.index.name = "application"
        return grid

    def heatmap_rows(self, limit: int = HEATMAP_ROWS) -> tuple[pd.DataFrame, int]:
        """The rows the heatmap draws, and how many applications it leaves out.

        Up to ``limit`` applications: all of them, in ``matrix()`` order, when there are no more;
        otherwise the worst -- by worst status, then failing factors, then critical and high
        FAIL findings, then FAIL findings -- worst first. The account-wide row is kept, last.
        """
        grid = self.matrix()
        apps = [a for a in grid.index if a != NO_APPLICATION]
        if len(apps) <= limit:
            return grid, 0
        fails = self.active[self.active["status"] == "FAIL"]
        by_app = fails.assign(application=fails["application"].replace("", NO_APPLICATION))
        severe = by_app[by_app["severity"].isin(["critical", "high"])].groupby("application").size()
        failing = by_app.groupby("application").size()
        worst_rank, fail_cells = _row_counts(grid)
        order = sorted(
            apps,
            key=lambda app: (
                worst_rank[app],
                -fail_cells[app],
                -int(severe.get(app, 0)),
                -int(failing.get(app, 0)),
                app,
            ),
        )[:limit]
        if NO_APPLICATION in grid.index:
            order.append(NO_APPLICATION)
        return grid.loc[order], len(apps) - limit

    def counts(self) -> pd.DataFrame:
        """Findings by severity and status (muted findings in their own column)."""
        f = self.findings
        table = pd.crosstab(self.active["severity"], self.active["status"])
        table = table.reindex(
            index=[s.value for s in Severity], columns=STATUS_ORDER, fill_value=0
        ).fillna(0)
        table["muted"] = (
            f[f["muted"].astype(bool)].groupby("severity").size().reindex(table.index).fillna(0)
        )
        table = table.astype(int)
        table.loc["total"] = table.sum()
        table.index.name = "severity"
        return table

    def top(self, n: int = 10) -> pd.DataFrame:
        """The failing checks to fix first: by severity, then by how many resources fail."""
        from .catalog import load_catalog

        fails = self.active[self.active["status"] == "FAIL"]
        if fails.empty:
            return pd.DataFrame(
                columns=["severity", "check_id", "title", "resources", "applications", "remedy"]
            )
        catalog = load_catalog()
        grouped = (
            fails.groupby(["check_id", "severity", "title"])
            .agg(
                resources=("resource_id", "nunique"),
                applications=("application", _named),
            )
            .reset_index()
        )
        grouped["_rank"] = grouped["severity"].map(lambda s: Severity(s).rank)
        grouped["remedy"] = grouped["check_id"].map(
            lambda c: catalog[c].remediation if c in catalog else ""
        )
        return (
            grouped.sort_values(["_rank", "resources", "check_id"], ascending=[True, False, True])
            .head(n)[["severity", "check_id", "title", "resources", "applications", "remedy"]]
            .reset_index(drop=True)
        )

    def not_evaluated(self) -> pd.DataFrame:
        """What could not be evaluated and why: ERROR findings and collection errors.

        A missing permission is named as the IAM action to grant.
        """
        rows = []
        errors = self.active[self.active["status"] == "ERROR"]
        for check_id, group in errors.groupby("check_id"):
            actions = sorted(
                {json.loads(e or "{}").get("missing_action", "") for e in group["evidence"]} - {""}
            )
            rows.append(
                {
                    "what": check_id,
                    "regions": ", ".join(sorted(set(group["region"]) - {""})),
                    "why": group["message"].iloc[0],
                    "missing permission": ", ".join(actions),
                }
            )
        from .aws import iam_action

        for e in self.manifest.get("errors", []):
            action = e.get("action") or iam_action(e["service"], e["operation"])
            rows.append(
                {
                    "what": f"collect {e['service']}:{e['operation']}",
                    "regions": e.get("region", ""),
                    "why": f"{e.get('kind', '')}: {e.get('code', '')}",
                    "missing permission": action if e.get("kind") == "access-denied" else "",
                }
            )
        return pd.DataFrame(rows, columns=["what", "regions", "why", "missing permission"])

    def muted(self) -> pd.DataFrame:
        """Muted findings, shown apart with their reasons."""
        f = self.findings[self.findings["muted"].astype(bool)]
        return f[
            [
                "status",
                "severity",
                "check_id",
                "application",
                "environment",
                "resource_id",
                "muted_reason",
            ]
        ].reset_index(drop=True)

    def suppression_entries(self) -> pd.DataFrame:
        """Every entry of the suppressions file: active or expired, and how much it mutes."""
        return pd.DataFrame(
            self.suppressions, columns=["line", "entry", "reason", "expires", "state", "muted"]
        )

    def changes(self) -> pd.DataFrame:
        """What changed since the previous run (new, resolved, changed), worst first."""
        cols = ["change", "check_id", "region", "resource_id", "was", "now", "message"]
        if self.changes_ is None:
            return pd.DataFrame(columns=cols)
        d = self.changes_
        parts = [
            pd.DataFrame(
                {
                    "change": "new",
                    "check_id": d.new["check_id"],
                    "region": d.new["region"],
                    "resource_id": d.new["resource_id"],
                    "was": "",
                    "now": d.new["status"],
                    "message": d.new["message"],
                }
            ),
            pd.DataFrame(
                {
                    "change": "resolved",
                    "check_id": d.resolved["check_id"],
                    "region": d.resolved["region"],
                    "resource_id": d.resolved["resource_id"],
                    "was": d.resolved["status"],
                    "now": "",
                    "message": "no longer reported",
                }
            ),
            pd.DataFrame(
                {
                    "change": "changed",
                    "check_id": d.changed["check_id"],
                    "region": d.changed["region"],
                    "resource_id": d.changed["resource_id"],
                    "was": d.changed["old_status"]
                    + d.changed["old_muted"].map({True: " (muted)", False: ""}),
                    "now": d.changed["new_status"]
                    + d.changed["new_muted"].map({True: " (muted)", False: ""}),
                    "message": d.changed["message"],
                }
            ),
        ]
        parts = [p for p in parts if not p.empty]
        if not parts:
            return pd.DataFrame(columns=cols)
        return pd.concat(parts, ignore_index=True)[cols]

    # -- the figure ----------------------------------------------------------------------------
    def figure(self) -> Figure:
        """Heatmap of applications x factors: worst status per cell, labelled, colour-blind-safe."""
        grid, left_out = self.heatmap_rows()
        n_rows = max(len(grid), 1) + (1 if left_out else 0)  # a line for the rest
        fig = Figure(figsize=(12, 1.6 + 0.42 * n_rows), layout="constrained")
        ax = fig.add_subplot()
        ax.set_xlim(0, 12)
        ax.set_ylim(n_rows, 0)
        fails = self.active[self.active["status"] == "FAIL"]
        fail_counts = (
            fails.assign(application=fails["application"].replace("", NO_APPLICATION))
            .groupby(["application", "factor"])
            .size()
        )
        for i, app in enumerate(grid.index):
            for j, factor in enumerate(FACTORS):
                status = grid.iloc[i, j]
                if status == NOT_CHECKED:
                    colour, hatch, label = "#ffffff", "//", ""
                elif status == "":
                    colour, hatch, label = "#f2f2f2", None, ""
                else:
                    colour, hatch = STATUS_COLOURS[status], None
                    label = SHORT[status]
                    if status == "FAIL":
                        label = f"FAIL {int(fail_counts.get((app, factor), 0))}"
                ax.add_patch(_rect(j, i, colour, hatch))
                if label:
                    dark = status in ("FAIL", "PASS", "ERROR")
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        label,
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if dark else "#222222",
                        fontweight="bold" if status == "FAIL" else "normal",
                        in_layout=False,  # inside its cell: no need to measure it for the layout
                    )
        drawn = sum(app != NO_APPLICATION for app in grid.index)
        if left_out:
            ax.text(
                0.05,
                n_rows - 0.5,
                f"... and {left_out} more applications, with fewer failures: all "
                f"{drawn + left_out} are in the scorecard's table (scorecard.csv, "
                "Scorecard.matrix()) and in findings.csv",
                ha="left",
                va="center",
                fontsize=9,
                color="#222222",
            )
        ax.set_xticks([j + 0.5 for j in range(12)])
        ax.set_xticklabels(
            [
                _factor_label(f, grid.iloc[:, j].eq(NOT_CHECKED).all())
                for j, f in enumerate(FACTORS)
            ],
            fontsize=8,
        )
        ax.xaxis.tick_top()
        ax.set_yticks([i + 0.5 for i in range(len(grid))])
        ax.set_yticklabels(list(grid.index), fontsize=9)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        if grid.empty:
            ax.text(6, 0.5, "no findings", ha="center", va="center", color="#555555")
        handles = [Patch(facecolor=STATUS_COLOURS[s], label=s) for s in STATUS_ORDER] + [
            Patch(facecolor="#f2f2f2", label="no finding"),
            Patch(facecolor="#ffffff", edgecolor="#999999", hatch="//", label=NOT_CHECKED),
        ]
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=len(handles),
            frameon=False,
            fontsize=8,
        )
        shown = (
            f"the {drawn} of {drawn + left_out} applications with most failures; "
            if left_out
            else ""
        )
        fig.suptitle(
            f"Worst status per application and factor ({shown}muted findings left out; "
            "FAIL n = n failing findings)",
            fontsize=10,
            x=0.01,
            ha="left",
        )
        return fig

    def plot(self) -> Figure:
        """The heatmap, shown as a picture in a notebook."""
        from .workbook import _display_figures_in_notebooks

        _display_figures_in_notebooks()
        return self.figure()

    def save_png(self, path: str | Path) -> Path:
        path = Path(path)
        self.figure().savefig(path, dpi=110)
        return path

    def save_csv(self, path: str | Path) -> Path:
        """The whole heatmap as a table: every application x factor, worst status per cell."""
        path = Path(path)
        self.matrix().to_csv(path)
        return path


def _factor_label(factor: int, unchecked: bool) -> str:
    """'III' over 'Config' (and '(no checks)' for a factor without findings)."""
    name = FACTORS[factor].split(". ", 1)[1]
    if len(name) > 11:  # two lines, so that neighbouring labels never touch
        name = name.replace(" ", "\n", 1)
    return "\n".join([ROMAN[factor], name] + ([f"({NOT_CHECKED})"] if unchecked else []))


def _rect(x: int, y: int, colour: str, hatch: str | None):
    from matplotlib.patches import Rectangle

    return Rectangle(
        (x + 0.04, y + 0.06),
        0.92,
        0.88,
        facecolor=colour,
        edgecolor="#999999" if hatch else colour,
        hatch=hatch,
        linewidth=0.6,
    )
