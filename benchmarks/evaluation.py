"""Where evaluation time goes: the inventory's tables and each check, in CPU seconds.

``python benchmarks/evaluation.py reports/bench/n500/no_notebooks/snapshot`` prints the slowest
steps.
Comparing two sizes shows which checks grow faster than the account (per-resource scans of whole
tables are the usual cause).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def timings(snapshot: str) -> dict[str, Any]:
    """Seconds to open the snapshot, to build each inventory table, and to run each check."""
    from twelvefactor.catalog import load_catalog
    from twelvefactor.checks import registry, run_check
    from twelvefactor.inventory import SCHEMA, Inventory
    from twelvefactor.settings import resolve
    from twelvefactor.workbook import acquire_snapshot

    t = time.process_time()
    settings, snap = acquire_snapshot(resolve(source="snapshot", snapshot=snapshot))
    inv = Inventory(snap, settings)
    out: dict[str, Any] = {"open snapshot": time.process_time() - t, "tables": {}, "checks": {}}
    t = time.process_time()
    impl = registry()
    catalog = load_catalog()
    out["import checks + catalog"] = time.process_time() - t
    for name in SCHEMA:
        t = time.process_time()
        getattr(inv, name, None)
        out["tables"][name] = time.process_time() - t
    for check_id, meta in catalog.items():
        if check_id in impl:
            t = time.process_time()
            run_check(meta, impl[check_id], inv, settings)
            out["checks"][check_id] = time.process_time() - t
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("snapshot", help="a snapshot folder (e.g. an audit's <out>/snapshot)")
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--json", action="store_true", help="print the timings as JSON only")
    args = p.parse_args(argv)
    t0 = time.process_time()
    out = timings(args.snapshot)
    total = time.process_time() - t0
    if args.json:
        out["total"] = total
        print(json.dumps(out))
        return 0
    print(
        f"open snapshot {out['open snapshot']:.2f} s, "
        f"imports {out['import checks + catalog']:.2f} s"
    )
    print(f"tables: {sum(out['tables'].values()):.2f} s; slowest:")
    for name, s in sorted(out["tables"].items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {s:8.2f} s  {name}")
    print(f"checks: {sum(out['checks'].values()):.2f} s; total {total:.2f} s; slowest:")
    for check_id, s in sorted(out["checks"].items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {s:8.2f} s  {check_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
