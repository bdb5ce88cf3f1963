"""The ``twelvefactor`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .errors import TwelveFactorError

EPILOG = """exit codes: 0 clean; 1 FAIL findings at or above --fail-on; 2 could not run
completely (bad input, a notebook failed, or -- without FAILs and without --allow-errors --
some checks could not be evaluated)."""


def _source_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--demo", action="store_true", help="audit the built-in demo account (no AWS)")
    g.add_argument("--snapshot", metavar="DIR", help="replay a saved snapshot (no AWS)")
    g.add_argument(
        "--live",
        action="store_true",
        help="audit a real account (the default when --profile or --endpoint-url is given)",
    )
    p.add_argument("--profile", help="AWS named profile (default: $AWS_PROFILE)")
    p.add_argument(
        "--region",
        action="append",
        dest="regions",
        metavar="REGION",
        help="region to audit; repeat for several (default: $TWELVEFACTOR_REGIONS, "
        "$AWS_REGION, $AWS_DEFAULT_REGION, the profile's region)",
    )
    p.add_argument(
        "--endpoint-url", help="AWS endpoint, e.g. a moto server (default: $AWS_ENDPOINT_URL)"
    )
    p.add_argument(
        "--app-map", metavar="JSON", help='resource-name glob -> "application/environment", as JSON'
    )
    p.add_argument("--max-workers", type=int, help="collection threads (default 8)")
    p.add_argument(
        "--repo-path",
        action="append",
        dest="repo_paths",
        metavar="DIR",
        help="a local clone of a service's source repository to inspect (repeatable; default: "
        "$TWELVEFACTOR_REPO_PATHS; the demo uses its own)",
    )


def _settings(args: argparse.Namespace):
    from .settings import resolve

    source = None
    if args.demo:
        source = "demo"
    elif args.snapshot:
        source = "snapshot"
    elif args.live or args.profile or args.endpoint_url:
        source = "live"
    elif not os.environ.get("TWELVEFACTOR_SOURCE") and args.command != "demo":
        print(
            "twelvefactor: no --profile, --live or --snapshot given: auditing the built-in demo "
            "account (--demo).",
            file=sys.stderr,
        )
    return resolve(
        source=source,
        snapshot=args.snapshot,
        profile=args.profile,
        regions=args.regions,
        endpoint_url=args.endpoint_url,
        app_map=args.app_map,
        max_workers=args.max_workers,
        repo_paths=args.repo_paths,
        suppressions=getattr(args, "suppressions", None),
    )


def cmd_audit(args: argparse.Namespace) -> int:
    from .runner import audit, default_out, isatty, summary_text

    settings = _settings(args)
    out = Path(args.out) if args.out else default_out(settings)
    run = audit(
        settings,
        out,
        fail_on=args.fail_on,
        notebooks=args.notebook,
        run_notebooks=not args.no_notebooks,
        progress=not args.quiet and isatty(),
        allow_errors=args.allow_errors,
        previous=args.previous,
    )
    if not args.quiet or run["exit_code"]:
        print(summary_text(run, out))
    return run["exit_code"]


def cmd_snapshot(args: argparse.Namespace) -> int:
    from .workbook import acquire_snapshot

    settings = _settings(args)
    _, snap = acquire_snapshot(settings, progress=sys.stderr.isatty())
    path = snap.write(args.out)
    print(
        f"snapshot of {snap.account} ({', '.join(snap.regions)}): "
        f"{snap.manifest['api_call_total']} API calls, {len(snap.manifest['errors'])} errors "
        f"-> {path}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.action == "serve":
        from .lab import serve

        return serve(args.port)
    if args.action == "reset":
        from .demo.tryit import reset
        from .lab import HOST, lab_port

        url = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or ""
        print(reset(endpoint_url=url or f"http://{HOST}:{lab_port(args.port)}"))
        return 0
    if args.action == "seed":
        from .demo import load_scenario, seed_server

        if not args.endpoint_url:
            raise TwelveFactorError(
                "endpoint-url: seeding needs a moto server. Fix: start one "
                "(`moto_server -H 127.0.0.1 -p 5000`) and pass --endpoint-url "
                "http://127.0.0.1:5000."
            )
        seed_server(load_scenario(), args.endpoint_url)
        print(f"seeded the demo account into {args.endpoint_url}")
        return 0
    args.demo, args.snapshot, args.live, args.profile = True, None, False, None
    args.regions, args.app_map, args.max_workers, args.repo_paths = None, None, None, None
    args.out = args.out or "reports/demo"
    return cmd_audit(args)


def cmd_lab(args: argparse.Namespace) -> int:
    from .lab import run_lab

    return run_lab(
        args.port,
        open_browser=not args.no_browser,
        notebook_dir=args.notebook_dir,
        jupyter_port=args.jupyter_port,
    )


def cmd_checks(args: argparse.Namespace) -> int:
    from .catalog import load_catalog
    from .checks import registry

    impl = registry()
    for meta in load_catalog().values():
        if args.factor and meta.factor != args.factor:
            continue
        mark = "" if meta.id in impl else "  (not implemented)"
        print(f"{meta.id:32} {meta.severity.value:9} {meta.title}{mark}")
    return 0


def cmd_policy(args: argparse.Namespace) -> int:
    from .policy import policy_json

    print(policy_json(), end="")
    return 0


def _audit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        metavar="DIR",
        help="report folder (default: reports/demo for the demo, reports/audit-<time> otherwise)",
    )
    p.add_argument(
        "--fail-on",
        default="high",
        choices=["critical", "high", "medium", "low"],
        help="exit 1 when a FAIL of this severity or above is found (default: high)",
    )
    p.add_argument(
        "--notebook",
        action="append",
        metavar="PREFIX",
        help="run only notebooks whose names start with PREFIX (repeatable)",
    )
    p.add_argument("--no-notebooks", action="store_true", help="findings only, no notebooks")
    p.add_argument(
        "--allow-errors",
        action="store_true",
        help="exit 0 even when some checks could not be evaluated (ERROR findings)",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars; print the summary only when the exit code is not 0",
    )
    p.add_argument(
        "--suppressions",
        metavar="FILE",
        help="YAML file of suppressions: muted findings keep their status but do not count "
        "toward the exit code (default: $TWELVEFACTOR_SUPPRESSIONS)",
    )
    p.add_argument(
        "--previous",
        metavar="DIR",
        help="an earlier report or snapshot folder: show what changed (diff.txt, scorecard)",
    )


def cmd_diff(args: argparse.Namespace) -> int:
    import json

    from .diff import diff_paths
    from .settings import resolve

    suppressions = resolve(suppressions=args.suppressions).suppressions
    result = diff_paths(args.old, args.new, suppressions)
    if args.json:
        print(json.dumps(result.as_dict(), indent=1, default=str))
    else:
        print(result.text(limit=args.limit))
    return 0 if result.empty else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="twelvefactor",
        description="Audit an AWS account against the twelve factors.",
        epilog=EPILOG,
    )
    p.add_argument("--version", action="version", version=f"twelvefactor {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log API failures as they happen")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("audit", help="collect, run the notebooks, write the report", epilog=EPILOG)
    _source_args(a)
    _audit_args(a)
    a.set_defaults(func=cmd_audit)

    s = sub.add_parser("snapshot", help="collect only, into a snapshot folder")
    _source_args(s)
    s.add_argument("--out", required=True, metavar="DIR", help="snapshot folder to write")
    s.set_defaults(func=cmd_snapshot)

    d = sub.add_parser("demo", help="audit the demo account, or seed it into a moto server")
    d.add_argument(
        "action",
        nargs="?",
        choices=["audit", "seed", "serve", "reset"],
        default="audit",
        help="audit (default); serve: the demo account as a server on 127.0.0.1 until Ctrl-C; "
        "reset: put that server's account back as seeded; seed: seed a moto server you started",
    )
    d.add_argument(
        "--endpoint-url",
        help="moto server to seed or reset (reset's default: $AWS_ENDPOINT_URL, else the lab port)",
    )
    d.add_argument(
        "--port",
        type=int,
        help="port of the demo server (serve, reset; default: 5005 or $TWELVEFACTOR_LAB_PORT)",
    )
    _audit_args(d)
    d.set_defaults(func=cmd_demo)

    lab = sub.add_parser(
        "lab",
        help="workshop: the demo account on 127.0.0.1 and JupyterLab pointed at it (Ctrl-C stops "
        "both)",
    )
    lab.add_argument(
        "--port", type=int, help="port of the demo server (default: 5005 or $TWELVEFACTOR_LAB_PORT)"
    )
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.add_argument(
        "--jupyter-port", type=int, help="JupyterLab's port (default: JupyterLab's own, 8888 up)"
    )
    lab.add_argument(
        "--notebook-dir", metavar="DIR", help="folder of notebooks (default: the project's)"
    )
    lab.set_defaults(func=cmd_lab)

    c = sub.add_parser("checks", help="list the check catalog")
    c.add_argument("--factor", type=int, help="only this factor (1-12)")
    c.set_defaults(func=cmd_checks)

    df = sub.add_parser(
        "diff",
        help="new, resolved and changed findings between two runs",
        epilog="OLD and NEW are report folders, snapshot folders (evaluated by the checks) or "
        "findings.json files. Exit codes: 0 nothing changed; 1 something changed; 2 bad input.",
    )
    df.add_argument("old", metavar="OLD", help="the earlier report or snapshot folder")
    df.add_argument("new", metavar="NEW", help="the later report or snapshot folder")
    df.add_argument("--json", action="store_true", help="print the diff as JSON")
    df.add_argument("--limit", type=int, default=40, help="lines per section of the text")
    df.add_argument(
        "--suppressions",
        metavar="FILE",
        help="mute findings of snapshot folders with this file (default: "
        "$TWELVEFACTOR_SUPPRESSIONS)",
    )
    df.set_defaults(func=cmd_diff)

    pol = sub.add_parser("policy", help="print the least-privilege IAM policy of the audit")
    pol.set_defaults(func=cmd_policy)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except TwelveFactorError as exc:
        print(f"twelvefactor: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("twelvefactor: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line (the traceback with -v), and "could not run"
        if args.verbose:
            raise
        print(
            f"twelvefactor: internal error: {type(exc).__name__}: {exc} "
            "(run again with -v for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
