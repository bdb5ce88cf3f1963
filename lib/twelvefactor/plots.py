"""Figures for the notebooks and the report. Colours: Okabe-Ito, safe for colour-blind readers.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot): nothing global, nothing shown
twice in a notebook, nothing leaked between calls. Jupyter displays a returned Figure as PNG.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import matplotlib.colors
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from .workbook import Workbook

STATUS_COLOURS = {
    "FAIL": "#D55E00",  # vermillion
    "ERROR": "#CC79A7",  # reddish purple
    "SKIP": "#999999",  # grey
    "INFO": "#56B4E9",  # sky blue
    "PASS": "#009E73",  # bluish green
}
PLOTS: dict[str, Callable[..., Figure]] = {}


def plot(name: str, *, by_application: bool = True, factor: int | None = None):
    """Register a figure. ``by_application``: it draws rows per application (and environment),
    so ``Workbook.plot`` narrows it to the applications that matter most in a large account,
    judged by the FAILs of ``factor`` (default: the factor of the checks in the figure's module).
    """

    def register(fn):
        fn.by_application = by_application
        fn.factor = factor
        PLOTS[name] = fn
        return fn

    return register


def empty_axes(ax, text: str = "nothing to show") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#555555")
    ax.set_axis_off()


@plot("status", by_application=False)
def status_by_check(wb: Workbook, factor: int | None = None) -> Figure:
    """Stacked horizontal bars: findings per check, by status."""
    summary = wb.summary(factor).set_index("check_id")
    statuses = [s for s in STATUS_COLOURS if s in summary.columns]
    fig = Figure(figsize=(8, 0.5 * max(len(summary), 2) + 1))
    ax = fig.subplots()
    if summary.empty:
        empty_axes(ax)
        return fig
    summary[statuses][::-1].plot.barh(
        stacked=True, ax=ax, color=[STATUS_COLOURS[s] for s in statuses], width=0.7
    )
    ax.set_xlabel("findings")
    ax.set_ylabel("")
    ax.legend(title="status", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    ax.set_title("Findings per check" + (f" (factor {factor})" if factor else ""))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


@plot("inventory", by_application=False)
def inventory_counts(wb: Workbook) -> Figure:
    """Resources collected per kind and environment."""
    rows = [
        {"resource": name, "environment": env or "(unknown)", "count": n}
        for name, frame in wb.inventory.tables().items()
        if not frame.empty
        for env, n in frame.groupby("environment").size().items()
    ]
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    if not rows:
        empty_axes(ax, "no resources collected")
        return fig
    table = pd.DataFrame(rows).pivot_table(
        index="resource", columns="environment", values="count", aggfunc="sum", fill_value=0
    )
    palette = ["#0072B2", "#E69F00", "#999999", "#009E73", "#CC79A7", "#56B4E9"]
    table.plot.barh(stacked=True, ax=ax, color=palette[: len(table.columns)], width=0.7)
    ax.set_xlabel("resources")
    ax.set_ylabel("")
    ax.set_title("What was collected, per environment")
    ax.legend(title="environment", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


@plot("config-sources", factor=3)
def config_sources(wb: Workbook) -> Figure:
    """Per application and environment: plain variables, flagged variables, injected secrets."""
    inv = wb.inventory
    env = inv.environment[inv.environment["in_use"]]
    refs = inv.secret_refs[inv.secret_refs["in_use"]]
    key = ["application", "environment"]
    flagged = (env["redacted_kind"] != "") | env["ecs8_name"]
    table = (
        pd.DataFrame(
            {
                "plain config": env[~flagged].groupby(key).size(),
                "secret in plaintext": env[flagged].groupby(key).size(),
                "injected secret": refs.groupby(key).size(),
            }
        )
        .fillna(0)
        .astype(int)
    )
    fig = Figure(figsize=(8, 0.45 * max(len(table), 2) + 1.2))
    ax = fig.subplots()
    if table.empty:
        empty_axes(ax, "no containers in use")
        return fig
    table.index = [f"{a} ({e})" for a, e in table.index]
    table[::-1].plot.barh(
        stacked=True,
        ax=ax,
        width=0.7,
        color=["#0072B2", STATUS_COLOURS["FAIL"], STATUS_COLOURS["PASS"]],
    )
    ax.set_xlabel("variables given to the containers")
    ax.set_title("Where each service's config comes from")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


@plot("presence")
def presence_matrix(wb: Workbook, check_id: str, application: str | None = None) -> Figure:
    """A key x environment grid (from a presence evidence table): gaps jump out in vermillion."""
    table = wb.evidence(check_id)
    key = table.columns[1] if len(table.columns) > 1 else "key"
    if application:
        table = table[table["application"] == application]
    fig_h = 0.32 * max(len(table), 3) + 1.3
    fig = Figure(figsize=(8, fig_h))
    ax = fig.subplots()
    envs = [c for c in table.columns if c not in ("application", key)]
    if table.empty or not envs:
        empty_axes(ax)
        return fig
    codes = table[envs].replace({"✓": 1.0, "✗": 0.0, "": float("nan")}).astype(float)
    colours = matplotlib.colors.ListedColormap([STATUS_COLOURS["FAIL"], STATUS_COLOURS["PASS"]])
    ax.imshow(codes.to_numpy(), aspect="auto", cmap=colours, vmin=0, vmax=1)
    for (i, j), v in pd.DataFrame(codes.to_numpy()).stack().items():
        ax.text(
            j, i, "✓" if v == 1 else "missing", ha="center", va="center", color="white", fontsize=8
        )
    ax.set_xticks(range(len(envs)), envs)
    ax.xaxis.tick_top()
    ax.set_yticks(
        range(len(table)),
        [f"{a}: {k}" for a, k in zip(table["application"], table[key], strict=True)],
        fontsize=8,
    )
    ax.set_xlabel(
        "green: present  ·  vermillion: missing  ·  blank: not deployed there", fontsize=9
    )
    fig.tight_layout()
    return fig


# -- a factor at a glance (shared by the factor modules) -----------------------------------
#: Which status colours a cell: the worst one that was actually evaluated; SKIP only when
#: nothing in the cell could be evaluated.
CELL_ORDER = ("FAIL", "ERROR", "INFO", "PASS", "SKIP")


def factor_matrix_table(wb: Workbook, factor: int, per_environment: bool = True) -> pd.DataFrame:
    """Application (environment) x check of one factor: the status that colours the cell and
    its counts. ``per_environment=False``: one row per application."""
    f = wb.findings_for(factor=factor)
    f = f[f["resource_id"] != "*"]
    keys = ["application", "environment"] if per_environment else ["application"]
    rows = []
    for (*place, check_id), group in f.groupby([*keys, "check_id"]):
        counts = group["status"].value_counts()
        worst = next(s for s in CELL_ORDER if s in counts)
        label = "\n".join(f"{counts[s]} {s.lower()}" for s in CELL_ORDER if s in counts)
        row = place[0] or "(no application)"
        if per_environment:
            row += f" ({place[1] or 'no environment'})"
        rows.append({"row": row, "check_id": check_id, "status": worst, "label": label})
    return pd.DataFrame(rows, columns=["row", "check_id", "status", "label"])


def factor_matrix(
    wb: Workbook,
    factor: int,
    check_ids: Sequence[str],
    title: str,
    *,
    per_environment: bool = True,
    blank: str = "not applicable",
    note: str = "",
) -> Figure:
    """Rows: application (environment); columns: the factor's checks; cells: worst status.

    ``blank`` labels a cell where the check found nothing; ``note`` adds a line to the legend."""
    table = factor_matrix_table(wb, factor, per_environment)
    rows = sorted(table["row"].unique())
    fig = Figure(figsize=(11, 0.55 * max(len(rows), 3) + 1.6), layout="constrained")
    ax = fig.subplots()
    if table.empty:
        empty_axes(ax)
        return fig
    statuses = list(STATUS_COLOURS)
    colours = matplotlib.colors.ListedColormap([STATUS_COLOURS[s] for s in statuses])
    columns = list(check_ids)
    grid = pd.DataFrame(float("nan"), index=rows, columns=columns)
    labels = pd.DataFrame("", index=rows, columns=columns)
    for r in table.itertuples():
        if r.check_id in columns:
            grid.loc[r.row, r.check_id] = statuses.index(r.status)
            labels.loc[r.row, r.check_id] = r.label
    ax.imshow(grid.to_numpy(), aspect="auto", cmap=colours, vmin=-0.5, vmax=len(statuses) - 0.5)
    for i, row in enumerate(rows):
        for j, check_id in enumerate(columns):
            code = grid.loc[row, check_id]
            if pd.isna(code):
                text, colour = blank, "#777777"
            else:  # dark text on the light grey of SKIP and the sky blue of INFO
                text = labels.loc[row, check_id]
                colour = "black" if statuses[int(code)] in ("SKIP", "INFO") else "white"
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color=colour)
    prefix = f"TF{factor:02d}-"
    ax.set_xticks(range(len(columns)), [c.removeprefix(prefix) for c in columns], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xticks([x - 0.5 for x in range(1, len(columns))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    ax.set_title(title, fontsize=10, pad=28)
    ax.set_xlabel(
        "cell colour: the worst status found (FAIL vermillion, ERROR purple, INFO blue, PASS "
        "green, only SKIP grey) · text: counts" + (f"\n{note}" if note else ""),
        fontsize=8,
    )
    return fig
