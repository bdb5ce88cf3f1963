"""The report folder of a run: findings files, HTML pages of the notebooks, index, run record."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from .findings import COLUMNS


def write_findings(findings: pd.DataFrame, out: Path) -> None:
    findings[COLUMNS].to_csv(out / "findings.csv", index=False)
    (out / "findings.json").write_text(
        json.dumps(findings[COLUMNS].to_dict(orient="records"), indent=1, default=str)
    )


def notebook_html(ipynb: Path, target: Path) -> None:
    """The executed notebook as HTML with the code hidden and outputs kept."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nbformat.read(ipynb, as_version=4))
    target.write_text(body)


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.FAIL{color:#fff;background:#D55E00}.ERROR{color:#fff;background:#CC79A7}
.PASS{color:#fff;background:#009E73}.SKIP{background:#ddd}.INFO{background:#56B4E9}
.failed{color:#D55E00;font-weight:bold}
@media print{a{color:#000}}
"""


def _table(frame: pd.DataFrame, status_col: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for col, value in row.items():
            cls = f' class="{value}"' if col == status_col else ""
            text = str(value) if str(value).startswith("<a ") else html.escape(str(value))
            cells.append(f"<td{cls}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def write_index(out: Path, run: dict[str, Any], findings: pd.DataFrame) -> Path:
    """index.html: the run at a glance, links to every notebook page and file."""
    nb_rows = pd.DataFrame(
        [
            {
                "notebook": n["name"],
                "result": n["status"],
                "page": f'<a href="{n["html"]}">HTML</a>' if n.get("html") else "",
                "notebook file": f'<a href="{n["ipynb"]}">ipynb</a>' if n.get("ipynb") else "",
                "seconds": n.get("seconds", ""),
                "error": n.get("error", ""),
            }
            for n in run["notebooks"]
        ],
        columns=["notebook", "result", "page", "notebook file", "seconds", "error"],
    )
    counts = (
        pd.crosstab(findings["check_id"], findings["status"]).reset_index()
        if not findings.empty
        else pd.DataFrame(columns=["check_id"])
    )
    failing = findings[findings["status"].isin(["FAIL", "ERROR"])][
        ["status", "severity", "check_id", "application", "environment", "region", "message"]
    ]
    m = run["snapshot"]
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Twelve-Factor audit of {html.escape(m["account"])}</title>
<style>{_STYLE}</style></head><body>
<h1>Twelve-Factor audit of account {html.escape(m["account"])}</h1>
<p>Source: {html.escape(m["source"])} &middot; regions: {html.escape(", ".join(m["regions"]))}
&middot; {m["api_call_total"]} API calls &middot; {len(m["errors"])} collection errors
&middot; exit code {run["exit_code"]} (fail on {html.escape(run["fail_on"])} and above)</p>
<p>Files: <a href="findings.csv">findings.csv</a> &middot; <a href="findings.json">findings.json</a>
&middot; <a href="run.json">run.json</a> &middot; <a href="snapshot/manifest.json">snapshot</a></p>
<h2>Notebooks</h2>{_table(nb_rows)}
<h2>Findings per check</h2>{_table(counts)}
<h2>Failures and errors</h2>{_table(failing, status_col="status")}
</body></html>"""
    path = out / "index.html"
    path.write_text(page)
    return path
