"""The report folder of a run: findings files, HTML pages of the notebooks, index, run record."""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from .findings import COLUMNS


def write_findings(findings: pd.DataFrame, out: Path) -> None:
    """findings.csv and findings.json (a list of rows, ``indent=1``), a chunk of rows at a time."""
    from .exports import records
    from .jsonfiles import write_array

    findings[COLUMNS].to_csv(out / "findings.csv", index=False)
    write_array(out / "findings.json", records(findings[COLUMNS]), default=str)


#: The lab template without anything fetched from the network (require.js, MathJax, mermaid and
#: widget scripts come from CDNs by default), with a link back to the index and print styles.
_PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block extra_css %}<style>
nav.tf-back{font:14px system-ui,sans-serif;padding:8px 16px;border-bottom:1px solid #ddd}
.jp-RenderedHTMLCommon table{font-size:12px}
img{max-width:100%}
@media print{nav.tf-back{display:none}
 .jp-Cell{break-inside:avoid-page}
 .jp-RenderedImage img{break-inside:avoid}
 .jp-RenderedHTMLCommon table{font-size:9pt}
 .jp-OutputArea-output{overflow:visible!important}
 a{color:#000}}
</style>{% endblock extra_css %}
{%- block body_header -%}
{{ super() }}
<nav class="tf-back"><a href="../index.html">&larr; back to the report index</a></nav>
{%- endblock body_header -%}
"""


_EXPORTERS = threading.local()  # one HTML exporter per thread: its templates load once


def notebook_html(ipynb: Path, target: Path) -> None:
    """The executed notebook as HTML: code hidden, outputs kept, nothing loaded from the network."""
    import nbformat

    exporter = getattr(_EXPORTERS, "html", None)
    if exporter is None:
        from jinja2 import DictLoader
        from nbconvert import HTMLExporter

        exporter = _EXPORTERS.html = HTMLExporter(
            template_name="lab",
            extra_loaders=[DictLoader({"twelvefactor-page.html.j2": _PAGE_TEMPLATE})],
            template_file="twelvefactor-page.html.j2",
            embed_images=True,
        )
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nbformat.read(ipynb, as_version=4))
    target.write_text(body)


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1200px;margin:1.5em auto;
color:#222;padding:0 1em;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right}td.id{white-space:nowrap}
.FAIL{color:#fff;background:#D55E00;font-weight:bold}.ERROR{color:#fff;background:#CC79A7}
.PASS{color:#fff;background:#009E73}.SKIP{background:#ddd}.INFO{background:#56B4E9}
.failed,.inconsistent{color:#fff;background:#D55E00;font-weight:bold}.ok{color:#009E73}
.expired{background:#fff3cd;font-weight:bold}
.meta{color:#444}.exit{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;
font-weight:bold}.exit0{background:#009E73}.exit1{background:#D55E00}.exit2{background:#CC79A7}
img.scorecard{max-width:100%;border:1px solid #eee}
.note{color:#555;font-size:13px}
nav a{margin-right:1em}
@media print{body{max-width:none;margin:0}nav{display:none}a{color:#000;text-decoration:none}
h2{break-after:avoid}tr,img{break-inside:avoid}table{font-size:9pt}
.FAIL,.ERROR,.PASS,.SKIP,.INFO,.exit,.failed{-webkit-print-color-adjust:exact;
print-color-adjust:exact}}
"""


#: Rows of the changes table in the index; diff.txt has them all.
CHANGES_SHOWN = 50
#: Rows of the failures and of the muted findings in the index; findings.csv has them all.
FINDINGS_SHOWN = 200


def _table(
    frame: pd.DataFrame,
    status_cols: tuple[str, ...] = (),
    links: tuple[str, ...] = (),
    empty: str = "none",
) -> str:
    """An HTML table; values are escaped except in ``links`` columns (built here, not data)."""
    if frame.empty:
        return f'<p class="note">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for col, value in row.items():
            cls = ""
            if col in status_cols and str(value):
                cls = f' class="{html.escape(str(value).split()[0])}"'
            elif col in ("check_id", "region", "expires"):
                cls = ' class="id"'
            elif isinstance(value, int | float) and not isinstance(value, bool):
                cls = ' class="num"'
            text = str(value) if col in links else html.escape(str(value))
            cells.append(f"<td{cls}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _link(href: str, text: str) -> str:
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'


def _more(shown: int, total: int, where: str) -> str:
    if total <= shown:
        return ""
    return f'<p class="note">... and {total - shown:,} more in {where}.</p>'


def _failing_checks(failing: pd.DataFrame, pages: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """FAIL and ERROR findings counted by check, worst first, with the factor notebook's page."""
    from .findings import Severity

    grouped = (
        failing.groupby(["check_id", "factor", "severity", "title"], sort=False)
        .agg(
            FAIL=("status", lambda s: int((s == "FAIL").sum())),
            ERROR=("status", lambda s: int((s == "ERROR").sum())),
            applications=("application", lambda s: s[s != ""].nunique()),
        )
        .reset_index()
    )
    grouped["_rank"] = grouped["severity"].map(lambda s: Severity(s).rank)
    grouped = grouped.sort_values(["_rank", "FAIL", "check_id"], ascending=[True, False, True])
    by_factor = {name[:2]: n for name, n in pages.items()}
    grouped["notebook"] = [
        _link(by_factor[f"{f:02d}"]["html"], by_factor[f"{f:02d}"]["name"])
        if by_factor.get(f"{f:02d}", {}).get("html")
        else ""
        for f in grouped["factor"]
    ]
    columns = ["severity", "check_id", "title", "FAIL", "ERROR", "applications", "notebook"]
    return grouped[columns].reset_index(drop=True)


def _failures_html(active: pd.DataFrame, pages: dict[str, dict[str, Any]]) -> str:
    """Every FAIL and ERROR finding, or for a large account: by check, then the worst of them."""
    from .findings import Severity

    failing = active[active["status"].isin(["FAIL", "ERROR"])]
    columns = ["status", "severity", "check_id", "application", "environment", "region", "message"]
    if len(failing) <= FINDINGS_SHOWN:
        return _table(failing[columns], status_cols=("status",), empty="no FAIL or ERROR findings")
    worst = failing.assign(
        _status=failing["status"].map({"FAIL": 0, "ERROR": 1}),
        _rank=failing["severity"].map(lambda s: Severity(s).rank),
    ).sort_values(["_status", "_rank"], kind="stable")
    link = _link("findings.csv", "findings.csv")
    return (
        f"<p>{len(failing):,} findings: counted by check first, then the "
        f"{FINDINGS_SHOWN} most severe; all of them are in {link}.</p>"
        "<h3>By check</h3>"
        + _table(_failing_checks(failing, pages), links=("notebook",))
        + f"<h3>The {FINDINGS_SHOWN} most severe</h3>"
        + _table(worst.head(FINDINGS_SHOWN)[columns], status_cols=("status",))
        + _more(FINDINGS_SHOWN, len(failing), link)
    )


def write_index(out: Path, run: dict[str, Any], findings: pd.DataFrame, scorecard: Any) -> Path:
    """index.html: opens on the scorecard, then links every page and file; no network needed.

    Its size does not grow with the account beyond a bound: the heatmap draws the worst
    applications (``Scorecard.heatmap_rows``), long lists show their first rows and say how many
    more are in which file. Also writes scorecard.csv, the heatmap's whole table.
    """
    import base64

    m = run["snapshot"]
    notebooks = run["notebooks"]
    pages = {n["name"]: n for n in notebooks}
    nb_rows = pd.DataFrame(
        [
            {
                "notebook": n["name"],
                "result": n["status"],
                "page": _link(n["html"], "HTML") if n.get("html") else "",
                "notebook file": _link(n["ipynb"], "ipynb") if n.get("ipynb") else "",
                "seconds": n.get("seconds", ""),
                "error": n.get("error", ""),
            }
            for n in notebooks
        ],
        columns=["notebook", "result", "page", "notebook file", "seconds", "error"],
    )
    scorecard.save_csv(out / "scorecard.csv")
    _, left_out = scorecard.heatmap_rows()
    png = out / "scorecard.png"
    image = (
        f'<img class="scorecard" alt="scorecard: worst status per application and factor" '
        f'src="data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}">'
        if png.is_file()
        else ""
    )
    sc_page = pages.get("99-scorecard", {}).get("html")
    files = [
        ("findings.csv", "findings, CSV"),
        ("findings.json", "findings, JSON"),
        ("findings.asff.json", "AWS Security Finding Format (Security Hub)"),
        ("findings.ocsf.json", "OCSF Detection Finding"),
        ("scorecard.png", "scorecard figure"),
        ("scorecard.csv", "scorecard table: worst status per application and factor"),
        ("run.json", "run record"),
        ("diff.txt", "changes since the previous run"),
        ("snapshot/manifest.json", "snapshot manifest"),
    ]
    file_links = " &middot; ".join(
        f"{_link(name, name)} <span class=note>({html.escape(what)})</span>"
        for name, what in files
        if (out / name).is_file()
    )
    failed_nb = [n["name"] for n in notebooks if n["status"] != "ok"]
    failed_note = (
        f'<p class="failed">&nbsp;Notebooks that did not complete: '
        f"{html.escape(', '.join(failed_nb))} (see the table of notebooks).&nbsp;</p>"
        if failed_nb
        else ""
    )
    supp = scorecard.suppression_entries()
    supp_html = ""
    muted = scorecard.muted()
    if run["suppressions"]["file"]:
        supp_html = (
            f"<p>File: <code>{html.escape(run['suppressions']['file'])}</code>. Muted findings "
            "keep their status and do not count toward the exit code. An expired entry mutes "
            "nothing.</p>"
            + _table(supp, status_cols=("state",))
            + "<h3>Muted findings</h3>"
            + _table(muted.head(FINDINGS_SHOWN), status_cols=("status",), empty="nothing muted")
            + _more(FINDINGS_SHOWN, len(muted), _link("findings.csv", "findings.csv"))
        )
    else:
        supp_html = '<p class="note">No suppressions file was given (--suppressions).</p>'
    changes_html = ""
    changes = scorecard.changes()
    if run.get("changes") is not None:
        changes_html = (
            f"<h2 id=changes>Changes since the previous run</h2><p>Previous: "
            f"<code>{html.escape(run['previous'])}</code> &middot; {_link('diff.txt', 'diff.txt')}"
            f"</p>"
            + _table(
                changes.head(CHANGES_SHOWN), status_cols=("was", "now"), empty="nothing changed"
            )
            + (
                f'<p class="note">... and {len(changes) - CHANGES_SHOWN} more in '
                f"{_link('diff.txt', 'diff.txt')}.</p>"
                if len(changes) > CHANGES_SHOWN
                else ""
            )
        )
    active = findings[~findings["muted"].astype(bool)]
    left_out_note = (
        f"<p>The figure draws the applications with most failures; {left_out:,} more are in "
        f"{_link('scorecard.csv', 'scorecard.csv')} (every application) and in "
        f"{_link('findings.csv', 'findings.csv')}.</p>"
        if left_out
        else ""
    )
    exit_code = int(run["exit_code"])
    nb_table = _table(
        nb_rows,
        status_cols=("result",),
        links=("page", "notebook file"),
        empty="no notebooks were run",
    )
    counts = scorecard.counts().reset_index()
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Twelve-Factor audit of {html.escape(m["account"])}</title>
<style>{_STYLE}</style></head><body>
<h1>Twelve-Factor audit of account {html.escape(m["account"])}</h1>
<p class="meta">Source: {html.escape(m["source"])} &middot; regions:
{html.escape(", ".join(m["regions"]))} &middot; {html.escape(run["started_at"])} &middot;
{m["api_call_total"]} API calls &middot; {len(m["errors"])} collection errors &middot;
<span class="exit exit{exit_code}">exit code {exit_code}</span>
({run["failing_at_threshold"]} FAIL at {html.escape(run["fail_on"])} or above, not muted)</p>
<nav>{_link("#scorecard", "Scorecard")} {_link("#fix", "Fix first")}
{_link("#not-evaluated", "Not evaluated")} {_link("#suppressions", "Suppressions")}
{_link("#changes", "Changes") if changes_html else ""} {_link("#notebooks", "Notebooks")}
{_link("#findings", "Failures")}</nav>
<p class="note">Files: {file_links}</p>
{failed_note}
<h2 id="scorecard">Scorecard</h2>
{image}
{left_out_note}
<p class="note">Okabe-Ito colours, readable by colour-blind readers and labelled in every cell.
{_link(sc_page, "The scorecard notebook") + " has the same tables." if sc_page else ""}</p>
{_table(scorecard.headline().reset_index().rename(columns={"index": ""}))}
<h3>Findings by severity and status</h3>{_table(counts)}
<h2 id="fix">Fix first</h2>
{_table(scorecard.top(10), empty="no FAIL findings")}
<h2 id="not-evaluated">Could not be evaluated</h2>
{_table(scorecard.not_evaluated(), empty="everything could be evaluated")}
<h2 id="suppressions">Suppressions</h2>{supp_html}
{changes_html}
<h2 id="notebooks">Notebooks</h2>
<p class="note">{run.get("notebooks_in_parallel", 0)} at a time; wall time
{run["seconds"]["notebooks"]} s.</p>
{nb_table}
<h2 id="findings">Failures and errors (not muted)</h2>
{_failures_html(active, pages)}
</body></html>"""
    path = out / "index.html"
    path.write_text(page)
    return path
