"""Benchmarks: API calls, wall time and peak memory of audits of synthetic accounts of size N.

For each N (default 50, 500, 5000) a moto server on 127.0.0.1 (benchmarks/server.py, its own
process) is seeded with the synthetic account (synthetic.py), then audited twice by the real
command line, each run a fresh process tree measured from outside:

1. ``twelvefactor audit --no-notebooks``: collection and evaluation (inventory + every check);
2. ``twelvefactor audit``: the full audit with every notebook and the HTML report.

Then the demo audit (``twelvefactor demo``) is taken apart: collection, evaluation, each notebook,
a kernel's start, the workbook's opening in a kernel, the HTML export.

Prints the figures and writes benchmarks/results.md (and results.json, which keeps the sizes not
measured this time, so ``make bench N=50`` updates one row). Never asserts on time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import synthetic
from common import OUT, REGION, BenchServer, audit_env, by_operation, machine, measure

HERE = Path(__file__).resolve().parent
#: The floor of each operation for the synthetic account (C = 2 clusters, R = N/2 repositories).
FORMULA = {
    "sts:GetCallerIdentity": "1",
    "ecs:ListClusters": "⌈C/100⌉",
    "ecs:DescribeClusters": "⌈C/100⌉",
    "ecs:ListServices": "Σ over clusters ⌈services/100⌉",
    "ecs:DescribeServices": "Σ over clusters ⌈services/10⌉",
    "ecs:ListTaskDefinitions": "⌈3N/100⌉ (every ACTIVE revision, listed)",
    "ecs:DescribeTaskDefinition": "revisions run + latest per family = N + pinned services "
    "(no batch API)",
    "ecs:ListTasks": "2 per cluster (running, stopped) × pages",
    "ecs:ListContainerInstances": "1 per cluster × pages",
    "ecr:DescribeRepositories": "⌈R/100⌉",
    "ecr:DescribeImages": "R × ⌈5/100⌉ (per repository)",
    "ecr:GetLifecyclePolicy": "R (no batch API)",
    "ecr:ListTagsForResource": "R (no batch API in ECR)",
    "ssm:DescribeParameters": "⌈5N/50⌉ (moto: ⌊5N/10⌋+1)",
    "logs:DescribeLogGroups": "⌈(N/4)/50⌉",
}
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "results.md"
TWELVEFACTOR = str(Path(sys.executable).parent / "twelvefactor")


def audit_argv(url: str, out: Path, *, notebooks: bool) -> list[str]:
    argv = [TWELVEFACTOR, "audit", "--endpoint-url", url, "--region", REGION, "--out", str(out)]
    argv += ["--quiet", "--allow-errors"]
    return argv if notebooks else [*argv, "--no-notebooks"]


def run_json(out: Path) -> dict[str, Any]:
    return json.loads((out / "run.json").read_text())


def bench_size(
    server: BenchServer,
    n: int,
    *,
    notebooks: bool,
    without_notebooks: bool = True,
    partial: Callable[[dict[str, Any]], None] = lambda row: None,
) -> dict[str, Any]:
    """Seed N, then the full audit (with notebooks) and the audit without notebooks.

    Collection and evaluation times, API calls and findings come from the run record of the
    audit without notebooks when there is one, else from the full audit's (the same phases)."""
    print(f"N={n}: seeding {synthetic.counts(n)} ...", flush=True)
    row: dict[str, Any] = {"n": n, "counts": synthetic.counts(n), "seed_seconds": server.seed(n)}
    print(f"N={n}: seeded in {row['seed_seconds']} s", flush=True)
    env = audit_env()
    runs: list[tuple[str, bool]] = []
    if without_notebooks or not notebooks:
        runs.append(("no_notebooks", False))
    if notebooks:
        runs.append(("full", True))
    for key, with_notebooks in runs:
        out = OUT / f"n{n}" / key
        shutil.rmtree(out, ignore_errors=True)
        server.reset_calls()
        m = measure(audit_argv(server.url, out, notebooks=with_notebooks), env=env)
        if not (out / "run.json").exists():
            raise RuntimeError(f"audit of N={n} failed ({m.returncode}): {m.stderr[-2000:]}")
        run = run_json(out)
        failed = [nb["name"] for nb in run.get("notebooks", []) if nb["status"] != "ok"]
        row[key] = {
            "returncode": m.returncode,
            "seconds": round(m.seconds, 2),
            "cpu_seconds": round(m.cpu_seconds, 1),
            "peak_tree_mb": round(m.peak_tree_mb),
            "peak_process_mb": round(m.peak_process_mb),
            "notebooks_seconds": run["seconds"].get("notebooks"),
            "failed_notebooks": failed,
        }
        row["api_calls"] = by_operation(run["snapshot"]["api_calls"])
        row["api_call_total"] = run["snapshot"]["api_call_total"]
        row["server_calls"] = by_operation(server.calls())
        row["retries"] = sum(r.get("retries", 0) for r in run["snapshot"]["api_calls"])
        row["collection_errors"] = len(run["snapshot"]["errors"])
        row["findings"] = run["counts"]
        row["collect_seconds"] = run["seconds"]["collect"]
        row["evaluate_seconds"] = run["seconds"]["checks"]
        row["floor"] = synthetic.call_floor(n)
        print(
            f"N={n} ({key}): {row['api_call_total']} API calls, collection "
            f"{row['collect_seconds']} s, evaluation {row['evaluate_seconds']} s, "
            f"process {m.seconds:.1f} s ({m.cpu_seconds:.0f} s CPU), peak {m.peak_tree_mb:.0f} MB "
            f"(largest process {m.peak_process_mb:.0f} MB)"
            + (f", FAILED notebooks: {failed}" if failed else ""),
            flush=True,
        )
        partial(row)
    row["evaluation"] = bench_evaluation(n)
    partial(row)
    return row


def row_from_snapshot(n: int) -> dict[str, Any]:
    """A size's row from the snapshot of a full audit stopped after collection."""
    manifest = json.loads((OUT / f"n{n}" / "full" / "snapshot" / "manifest.json").read_text())
    server_log = OUT / f"n{n}" / "seeded.json"
    seeded = json.loads(server_log.read_text()) if server_log.exists() else {}
    row = {
        "n": n,
        "counts": synthetic.counts(n),
        "seed_seconds": seeded.get("seconds"),
        "api_calls": by_operation(manifest["api_calls"]),
        "api_call_total": manifest["api_call_total"],
        "retries": sum(r.get("retries", 0) for r in manifest["api_calls"]),
        "server_calls": {},
        "collection_errors": len(manifest["errors"]),
        "collect_seconds": manifest["collect_seconds"],
        "evaluate_seconds": None,
        "floor": synthetic.call_floor(n),
        "full": {"stopped": "after collection (time)"},
    }
    row["evaluation"] = bench_evaluation(n)
    # the rest of an audit, without and with notebooks, replaying that snapshot (no collection)
    snapshot = OUT / f"n{n}" / "full" / "snapshot"
    for key, extra in (("replay_no_notebooks", ["--no-notebooks"]), ("replay_full", [])):
        out = OUT / f"n{n}" / key
        shutil.rmtree(out, ignore_errors=True)
        argv = [TWELVEFACTOR, "audit", "--snapshot", str(snapshot), "--out", str(out), "--quiet"]
        m = measure([*argv, "--allow-errors", *extra], env=audit_env())
        if not (out / "run.json").exists():
            print(f"N={n} {key} failed ({m.returncode}): {m.stderr[-2000:]}", flush=True)
            continue
        run = run_json(out)
        row["evaluate_seconds"] = run["seconds"]["checks"]
        row["findings"] = run["counts"]
        row[key] = {
            "returncode": m.returncode,
            "seconds": round(m.seconds, 2),
            "cpu_seconds": round(m.cpu_seconds, 1),
            "peak_tree_mb": round(m.peak_tree_mb),
            "notebooks_seconds": run["seconds"].get("notebooks"),
            "failed_notebooks": [nb["name"] for nb in run["notebooks"] if nb["status"] != "ok"],
        }
        print(f"N={n} {key}: {row[key]}", flush=True)
    return row


def bench_evaluation(n: int) -> dict[str, Any] | None:
    """Evaluation alone (snapshot, inventory, every check; no report) in a fresh process."""
    snapshots = [OUT / f"n{n}" / key / "snapshot" for key in ("no_notebooks", "full")]
    snapshot = next((s for s in snapshots if (s / "manifest.json").exists()), None)
    if snapshot is None:
        return None
    m = measure(
        [sys.executable, str(HERE / "evaluation.py"), str(snapshot), "--json"], env=audit_env()
    )
    if m.returncode != 0:
        raise RuntimeError(f"evaluation of N={n} failed: {m.stderr[-2000:]}")
    timings = json.loads(m.stdout.strip().splitlines()[-1])
    slowest = sorted(timings["checks"].items(), key=lambda kv: -kv[1])[:5]
    result = {
        "seconds": round(m.seconds, 2),
        "cpu_seconds": round(m.cpu_seconds, 1),
        "peak_tree_mb": round(m.peak_tree_mb),
        "checks_cpu_seconds": round(sum(timings["checks"].values()), 1),
        "tables_cpu_seconds": round(sum(timings["tables"].values()), 1),
        "slowest_checks": {k: round(v, 1) for k, v in slowest},
    }
    print(f"N={n} evaluation alone: {result}", flush=True)
    return result


def kernel_costs(snapshot: Path) -> dict[str, float]:
    """A kernel's start, then in it: import twelvefactor, open the workbook, its findings."""
    from jupyter_client.manager import start_new_kernel

    t0 = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="python3")
    costs = {"kernel start": time.perf_counter() - t0}
    steps = [
        ("import twelvefactor", "import twelvefactor"),
        (
            "open the workbook (snapshot, inventory)",
            f"wb = twelvefactor.open(source='snapshot', snapshot={str(snapshot)!r})",
        ),
        ("every check (wb.findings)", "wb.findings"),
    ]
    try:
        for label, code in steps:
            t = time.perf_counter()
            reply = kc.execute_interactive(code, timeout=600, output_hook=lambda msg: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"{label} failed in the kernel: {reply['content']}")
            costs[label] = time.perf_counter() - t
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return {k: round(v, 2) for k, v in costs.items()}


def html_costs(executed: Path) -> dict[str, float]:
    from twelvefactor.report import notebook_html

    scratch = OUT / "html-timing"
    scratch.mkdir(parents=True, exist_ok=True)
    costs = {}
    for nb in sorted(executed.glob("*.ipynb")):
        t = time.perf_counter()
        notebook_html(nb, scratch / f"{nb.stem}.html")
        costs[nb.stem] = round(time.perf_counter() - t, 2)
    return costs


def bench_demo() -> dict[str, Any]:
    print("demo: full audit ...", flush=True)
    out = OUT / "demo"
    shutil.rmtree(out, ignore_errors=True)
    m = measure([TWELVEFACTOR, "demo", "--out", str(out), "--quiet"], env=audit_env())
    run = run_json(out)
    demo = {
        "seconds": round(m.seconds, 2),
        "peak_tree_mb": round(m.peak_tree_mb),
        "run_seconds": run["seconds"],
        "api_call_total": run["snapshot"]["api_call_total"],
        "notebooks": {nb["name"]: nb["seconds"] for nb in run["notebooks"]},
        "kernels": run["notebooks_in_parallel"],
    }
    print("demo: kernel and HTML costs ...", flush=True)
    demo["kernel"] = kernel_costs(out / "snapshot")
    demo["html"] = html_costs(out / "notebooks")
    return demo


# -- the report ---------------------------------------------------------------------------------
def _mb(x: Any) -> str:
    return f"{x:,.0f} MB" if isinstance(x, int | float) else "—"


def _s(x: Any) -> str:
    return f"{x:,.1f} s" if isinstance(x, int | float) else "—"


def _wc(run: dict[str, Any]) -> str:
    """Wall time, and the CPU time of the process tree when measured."""
    if not run:
        return "—"
    cpu = run.get("cpu_seconds")
    return _s(run.get("seconds")) + (f" ({cpu:,.0f} s CPU)" if cpu is not None else "")


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    rows = [results["sizes"][k] for k in sorted(results["sizes"], key=int)]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {m['date']} by `make bench` on {m['cores']} cores ({m['cpu']}), "
        f"{m['memory']} of memory, Python {m['python']} (load average at start: {m['load']}; the "
        "machine is shared, so times are indicative). The account is the synthetic one of "
        "benchmarks/synthetic.py in a moto server on 127.0.0.1 (its own process, not counted): "
        "N ECS services over two clusters, three task-definition revisions each, N/2 ECR "
        "repositories with 5 images, 5·N SSM parameters, N/4 log groups. Each audit is the "
        "`twelvefactor` command line in a fresh process; its wall time is followed by the CPU "
        "time of its whole process tree (user + system: a better guide than wall time on a "
        "busy machine); peak memory is the largest sum of the RSS of its process tree (notebook "
        "kernels included), sampled every 50 ms. Collection, and checks + report files "
        "(findings CSV/JSON, ASFF, OCSF, index), are the phases' wall times in the audit's run "
        "record (run.json); evaluation alone (snapshot, inventory, every check, no files) is "
        "measured in a fresh process by benchmarks/evaluation.py.",
        "",
        "| N | API calls | on the floor | collection | evaluation alone (inventory + checks) "
        "| its peak memory | checks + report files (run.json) | audit without notebooks | peak "
        "memory without notebooks | full audit with notebooks | of which notebooks | peak "
        "memory, full audit | seeding moto |",
        "|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        bare, replay = r.get("no_notebooks", {}), r.get("replay_no_notebooks", {})
        full = r.get("replay_full") or r.get("full", {})
        lines.append(
            f"| {r['n']:,} | {r['api_call_total']:,} | {on_floor(r)} | "
            f"{_s(r['collect_seconds'])} | {_wc(r.get('evaluation') or {})} | "
            f"{_mb((r.get('evaluation') or {}).get('peak_tree_mb'))} | "
            f"{_s(r['evaluate_seconds'])} | "
            f"{_wc(bare or replay)}{' ¹' if replay and not bare else ''} | "
            f"{_mb((bare or replay).get('peak_tree_mb'))} | "
            f"{_wc(full)}{' ¹' if 'replay_full' in r else ''} | "
            f"{_s(full.get('notebooks_seconds'))} | "
            f"{_mb(full.get('peak_tree_mb'))} | {_s(r['seed_seconds'])} |"
        )
    slow = [
        f"N={r['n']:,}: "
        + ", ".join(
            f"{k} {v:.1f} s"
            for k, v in sorted(r["evaluation"]["slowest_checks"].items(), key=lambda kv: -kv[1])
        )
        for r in rows
        if r.get("evaluation")
    ]
    if slow:
        lines += [
            "",
            "Slowest checks (CPU seconds; benchmarks/evaluation.py lists them all): "
            + "; ".join(slow)
            + ".",
        ]
    failed = {
        r["n"]: (r.get("replay_full") or r["full"])["failed_notebooks"]
        for r in rows
        if (r.get("replay_full") or r.get("full", {})).get("failed_notebooks")
    }
    if failed:
        lines += ["", f"Notebooks that failed: {failed}."]
    stopped = [f"N={r['n']:,}" for r in rows if r.get("full", {}).get("stopped")]
    if stopped:
        lines += [
            "",
            f"{', '.join(stopped)}: the collection of an earlier audit of this size (its "
            "collection time and calls above) wrote a snapshot; evaluation alone, and ¹ audits "
            "without and with notebooks replaying that snapshot (no collection, so their wall "
            "time is the audit's less its collection), were measured on it.",
        ]
    ops = sorted(
        {op for r in rows for op in r["api_calls"]}, key=lambda op: (op not in FORMULA, op)
    )
    agree = all(
        sum(r["server_calls"].values()) == r["api_call_total"] + r.get("retries", 0)
        for r in rows
        if r["server_calls"]
    )
    lines += [
        "",
        "## API calls by operation",
        "",
        "Counted by the audit's call meter (the manifest's `api_calls`). The moto server's own "
        "count of the requests it answered "
        + (
            "equals it plus botocore's retries (moto answers HTTP 501 to "
            "codecommit:ListRepositories, which it lacks: five retries each run)"
            if agree
            else "differs from it: see results.json"
        )
        + ". *On the floor* means every count equals the formula "
        "(benchmarks/synthetic.py `call_floor`, asserted for N = 7 and 23 by "
        "tests/integration/test_call_floor.py) and every other operation is one empty listing. "
        "The formula's page sizes are AWS's; moto serves the ECS and ECR listings in one page "
        "and DescribeParameters ten at a time, which the counts below reflect.",
        "",
        "| operation | formula (AWS page sizes) | "
        + " | ".join(f"N={r['n']:,}" for r in rows)
        + " |",
        "|---|---|" + "---:|" * len(rows),
    ]
    for op in ops:
        lines.append(
            f"| {op} | {FORMULA.get(op, 'one empty listing')} | "
            + " | ".join(f"{r['api_calls'].get(op, 0):,}" for r in rows)
            + " |"
        )
    lines.append(
        "| **total** | | " + " | ".join(f"**{r['api_call_total']:,}**" for r in rows) + " |"
    )
    demo = results.get("demo")
    if demo:
        rs = demo["run_seconds"]
        kernel = demo["kernel"]
        nb = demo["notebooks"]
        html = demo["html"]
        lines += [
            "",
            "## Where the time of a demo audit goes",
            "",
            f"`twelvefactor demo` took {_s(demo['seconds'])} end to end ({demo['api_call_total']} "
            f"API calls, peak memory {_mb(demo['peak_tree_mb'])}): collection "
            f"{_s(rs['collect'])} (the demo is seeded into in-process moto first, included), "
            f"evaluation and report files {_s(rs['checks'])}, notebooks {_s(rs['notebooks'])} of "
            f"wall time for {len(nb)} notebooks on {demo.get('kernels', 2)} kernels (each runs "
            f"notebooks one after another), {_s(sum(nb.values()))} of notebook time in all. A "
            "kernel pays these once, for the first notebook it runs; the next ones find the "
            "modules imported and the snapshot opened and evaluated:",
            "",
            "| step (measured in one fresh kernel) | seconds |",
            "|---|---:|",
            *(f"| {k} | {v:.2f} |" for k, v in sorted(kernel.items(), key=_kernel_step)),
            "",
            "| notebook | executed (papermill; a kernel's start in its first) | HTML export |",
            "|---|---:|---:|",
            *(f"| {k} | {v:.1f} | {html.get(k, 0):.1f} |" for k, v in nb.items()),
            f"| **sum** | **{sum(nb.values()):.1f}** | **{sum(html.values()):.1f}** |",
        ]
    prowler = results.get("prowler")
    if prowler:
        lines += [
            "",
            "## Side by side with Prowler",
            "",
            "benchmarks/prowler_compare.py: Prowler 5.46 (`--service ecs ecr ssm cloudwatch`, one "
            "region, OCSF output) and our audit, without and with notebooks, against the same "
            "seeded moto server in the same session, measured alike from outside (wall time, peak "
            "RSS of the process tree, API requests counted by the server). Medians; ratio = ours / "
            "Prowler.",
            "",
            "| N | tool | wall | peak memory | API calls | wall ratio | memory ratio "
            "| calls ratio |",
            "|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for n in sorted(prowler, key=int):
            med = prowler[n]["medians"]
            base = med["prowler"]
            for label, m in sorted(med.items(), key=lambda kv: kv[0] != "prowler"):
                wall, mem = m["seconds"] / base["seconds"], m["peak_mb"] / base["peak_mb"]
                calls = m["calls"] / max(base["calls"], 1)
                ratio = " | | " if label == "prowler" else f"{wall:.2f} | {mem:.2f} | {calls:.2f}"
                lines.append(
                    f"| {int(n):,} | {label} | {_s(m['seconds'])} | {_mb(m['peak_mb'])} | "
                    f"{m['calls']:,.0f} | {ratio} |"
                )
        when = ", ".join(
            f"N={int(n):,}: {p['runs']} runs of each, {p['measured']}" for n, p in prowler.items()
        )
        lines += ["", f"Measured {when}."]
    notes = results.get("notes")
    if notes:
        lines += ["", "## Notes", "", *notes]
    return "\n".join(lines) + "\n"


def _kernel_step(item: tuple[str, float]) -> int:
    """kernel_costs' steps in the order they happen (results.json sorts its keys)."""
    order = ("kernel start", "import twelvefactor", "open the workbook", "every check")
    return next((i for i, step in enumerate(order) if item[0].startswith(step)), len(order))


def on_floor(row: dict[str, Any]) -> str:
    """ "yes" when every call count equals the floor formula, else the operations above it."""
    floor, calls = row.get("floor") or synthetic.call_floor(row["n"]), row["api_calls"]
    above = [op for op, c in floor.items() if calls.get(op, 0) != c]
    above += [op for op, c in calls.items() if op not in floor and c != 1]
    return "yes" if not above else "no: " + ", ".join(above)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[50, 500, 5000], metavar="N")
    p.add_argument("--no-notebooks", action="store_true", help="skip the full audits")
    p.add_argument("--no-demo", action="store_true", help="skip the demo audit's breakdown")
    p.add_argument("--demo-only", action="store_true", help="only the demo audit's breakdown")
    p.add_argument("--fresh", action="store_true", help="forget sizes measured before")
    p.add_argument(
        "--single-run-above",
        type=int,
        default=1000,
        metavar="N",
        help="above this size, only the full audit runs (default 1000)",
    )
    p.add_argument("--server", metavar="URL", help="a running benchmarks/server.py to use")
    p.add_argument(
        "--from-snapshot",
        action="store_true",
        help="for an audit stopped after its collection: calls and collection time from the "
        "snapshot it wrote, then evaluation alone",
    )
    p.add_argument(
        "--evaluation-only",
        action="store_true",
        help="measure evaluation alone on the snapshots of earlier runs of these sizes",
    )
    args = p.parse_args(argv)

    if args.fresh:
        RESULTS_JSON.unlink(missing_ok=True)
    results: dict[str, Any] = {"sizes": {}, "machine": machine()}
    if args.demo_only:
        save({"demo": bench_demo()})
        print(RESULTS_MD.read_text())
        return 0
    if args.from_snapshot:
        for n in args.sizes:
            save({"sizes": {str(n): row_from_snapshot(n)}})
        print(RESULTS_MD.read_text())
        return 0
    if args.evaluation_only:
        on_disk = json.loads(RESULTS_JSON.read_text())
        for n in args.sizes:
            row = on_disk["sizes"][str(n)]
            row["evaluation"] = bench_evaluation(n)
            save({"sizes": {str(n): row}})
        print(RESULTS_MD.read_text())
        return 0
    with BenchServer(url=args.server) as server:
        for n in args.sizes:
            results["sizes"][str(n)] = bench_size(
                server,
                n,
                notebooks=not args.no_notebooks,
                without_notebooks=n <= args.single_run_above,
                partial=lambda row, n=n: save(
                    results | {"sizes": results["sizes"] | {str(n): row}}
                ),
            )
            save(results)
    if not args.no_demo:
        results["demo"] = bench_demo()
        save(results)
    print(RESULTS_MD.read_text())
    return 0


def save(results: dict[str, Any]) -> None:
    """Write the results, keeping what another run wrote meanwhile for sizes not measured here
    (two runs may measure different sizes at the same time)."""
    on_disk = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    merged = on_disk | {k: v for k, v in results.items() if k != "sizes"}
    merged["sizes"] = on_disk.get("sizes", {}) | results.get("sizes", {})
    if "demo" not in results and "demo" in on_disk:
        merged["demo"] = on_disk["demo"]
    RESULTS_JSON.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
    RESULTS_MD.write_text(markdown(merged))


if __name__ == "__main__":
    sys.exit(main())
