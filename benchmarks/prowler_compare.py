"""Side by side with Prowler: the same synthetic account, the same moto server, the same session.

Prowler is not a dependency of this project: install it in a virtualenv of its own and name its
executable with ``--prowler`` or ``PROWLER_BIN``::

    python3 -m venv /tmp/prowler-venv && /tmp/prowler-venv/bin/pip install prowler
    .venv/bin/python benchmarks/prowler_compare.py --prowler /tmp/prowler-venv/bin/prowler --n 50

For each run, Prowler (restricted to ``--service ecs ecr ssm cloudwatch``, one region) and our
audit (with and without notebooks) are pointed at the moto server by the endpoint environment
variables and measured alike from outside: wall time, and the peak RSS of the process tree. API
calls are counted by the server for both (Prowler has no call meter of its own). Prints medians and
the ratios ours / Prowler. Not part of CI; never asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

from common import OUT, REGION, BenchServer, audit_env, measure

TWELVEFACTOR = str(Path(sys.executable).parent / "twelvefactor")
SERVICES = ["ecs", "ecr", "ssm", "cloudwatch"]


def prowler_argv(prowler: str, out: Path) -> list[str]:
    return [
        prowler,
        "aws",
        "--service",
        *SERVICES,
        "--region",
        REGION,
        "--output-directory",
        str(out),
        "--output-formats",
        "json-ocsf",
        "--no-banner",
        "--ignore-exit-code-3",  # failed checks are findings, not a failed run
    ]


def ours_argv(url: str, out: Path, notebooks: bool) -> list[str]:
    argv = [TWELVEFACTOR, "audit", "--endpoint-url", url, "--region", REGION, "--out", str(out)]
    return [*argv, "--quiet", "--allow-errors"] + ([] if notebooks else ["--no-notebooks"])


def run_once(server: BenchServer, argv: list[str], env: dict[str, str], ok: tuple[int, ...]):
    server.reset_calls()
    m = measure(argv, env=env)
    if m.returncode not in ok:
        raise RuntimeError(
            f"{Path(argv[0]).name} exited {m.returncode}:\n{(m.stderr or m.stdout)[-3000:]}"
        )
    m.extra["calls"] = sum(r["calls"] for r in server.calls())
    return m


def record(n: int, runs: int, medians: dict[str, dict[str, float]]) -> None:
    """Keep the medians in benchmarks/results.json (``prowler``), shown in results.md."""
    import time

    from run import RESULTS_JSON, RESULTS_MD, markdown

    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    results.setdefault("prowler", {})[str(n)] = {
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": runs,
        "medians": medians,
    }
    RESULTS_JSON.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    if "machine" in results:
        RESULTS_MD.write_text(markdown(results))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prowler", default=os.environ.get("PROWLER_BIN"), help="Prowler executable")
    p.add_argument("--n", type=int, nargs="+", default=[50], help="account sizes (default 50)")
    p.add_argument("--runs", type=int, default=3, help="runs of each tool (medians; default 3)")
    args = p.parse_args(argv)
    prowler = args.prowler and shutil.which(args.prowler)
    if not prowler:
        print(
            f"prowler: no executable at {args.prowler or '(none given)'}. Fix: install it in its "
            "own virtualenv (python3 -m venv /tmp/prowler-venv && /tmp/prowler-venv/bin/pip "
            "install prowler) and pass --prowler /tmp/prowler-venv/bin/prowler or set PROWLER_BIN.",
            file=sys.stderr,
        )
        return 2

    with BenchServer() as server:
        # endpoint variables for both tools: every client of either one goes to the moto server
        env = audit_env({"AWS_ENDPOINT_URL": server.url, "AWS_DEFAULT_REGION": REGION})
        for n in args.n:
            print(f"N={n}: seeded in {server.seed(n)} s", flush=True)
            runs: dict[str, list] = {"prowler": [], "ours, no notebooks": [], "ours, full": []}
            for i in range(args.runs):
                out = OUT / "prowler" / f"n{n}-{i}"
                shutil.rmtree(out, ignore_errors=True)
                runs["prowler"].append(run_once(server, prowler_argv(prowler, out), env, (0, 3)))
                for label, notebooks in (("ours, no notebooks", False), ("ours, full", True)):
                    target = out / ("full" if notebooks else "findings")
                    runs[label].append(
                        run_once(server, ours_argv(server.url, target, notebooks), env, (0, 1))
                    )
            med = {
                label: {
                    "seconds": statistics.median(m.seconds for m in ms),
                    "peak_mb": statistics.median(m.peak_tree_mb for m in ms),
                    "calls": statistics.median(m.extra["calls"] for m in ms),
                }
                for label, ms in runs.items()
            }
            print(f"\nN={n}, medians of {args.runs} runs, one moto server on 127.0.0.1:")
            print("| tool | wall | peak memory (tree) | API calls (server) |\n|---|---:|---:|---:|")
            for label, m in med.items():
                print(
                    f"| {label} | {m['seconds']:.1f} s | {m['peak_mb']:.0f} MB | {m['calls']:.0f} |"
                )
            record(n, args.runs, med)
            base = med["prowler"]
            for label in ("ours, no notebooks", "ours, full"):
                m = med[label]
                print(
                    f"{label} / Prowler: wall {m['seconds'] / base['seconds']:.2f}, "
                    f"memory {m['peak_mb'] / base['peak_mb']:.2f}, "
                    f"API calls {m['calls'] / max(base['calls'], 1):.2f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
