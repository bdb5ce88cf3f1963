"""The call floor: a collection reads the account once, in pages and full batches.

For the synthetic account of benchmarks/synthetic.py at two sizes, the collection's calls per
operation equal a formula of the account's size (``synthetic.call_floor``) exactly. A regression to
per-resource calls where a batch exists, a batch left half full, a resource read twice, every
ACTIVE revision described, or a page size forgotten changes a count and fails here.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections import Counter
from pathlib import Path

import pytest

from twelvefactor.aws import AwsAccess
from twelvefactor.collect import collect
from twelvefactor.demo import in_process
from twelvefactor.settings import Settings

SYNTHETIC = Path(__file__).resolve().parents[2] / "benchmarks" / "synthetic.py"
REGION = "eu-west-1"
SIZES = (7, 23)


def _load_synthetic():
    spec = importlib.util.spec_from_file_location("synthetic", SYNTHETIC)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


synthetic = _load_synthetic()


class Recorder:
    """Every request the collection sends: (region, service, operation, parameters), and the
    thread that sent it."""

    def __init__(self, access: AwsAccess):
        self.requests: Counter[tuple[str, str, str, str]] = Counter()
        self.threads: set[int] = set()
        new_client = access._new_client

        def recorded(service, region, *args, **kwargs):
            client = new_client(service, region, *args, **kwargs)

            def record(params, model, **_):
                key = json.dumps(params, sort_keys=True, default=str)
                self.requests[(region, service, model.name, key)] += 1
                if model.name != "GetCallerIdentity":
                    self.threads.add(threading.get_ident())

            client.meta.events.register("before-parameter-build", record)
            return client

        access._new_client = recorded


def _collect(n: int, max_workers: int = 8):
    settings = Settings(regions=(REGION,), redaction_salt="test", max_workers=max_workers)
    with in_process(synthetic.scenario(n)):
        access = AwsAccess(settings, demo_in_process=True)
        recorder = Recorder(access)
        snap = collect(access, settings, source="demo")
    return snap, recorder


@pytest.fixture(scope="module", params=SIZES, ids=[f"N={n}" for n in SIZES])
def collected(request):
    n = request.param
    snap, recorder = _collect(n)
    return n, snap, recorder


def test_the_synthetic_account_is_what_the_formula_counts(collected):
    n, snap, _ = collected
    counts = synthetic.counts(n)
    ecs = snap.get(REGION, "ecs")
    assert len(ecs["services"]) == counts["services"]
    assert len(ecs["active_task_definition_arns"]) == counts["task_definition_revisions"]
    assert len(snap.get(REGION, "ecr")["repositories"]) == counts["repositories"]
    assert sum(len(i) for i in snap.get(REGION, "ecr")["images"].values()) == counts["images"]
    assert len(snap.get(REGION, "ssm")["parameters"]) == counts["parameters"]
    assert len(snap.get(REGION, "logs")["log_groups"]) == counts["log_groups"]


def test_calls_per_operation_sit_on_the_floor(collected):
    n, snap, _ = collected
    calls = {f"{r['service']}:{r['operation']}": r["calls"] for r in snap.manifest["api_calls"]}
    floor = synthetic.call_floor(n)
    assert {op: calls.get(op, 0) for op in floor} == floor
    # everything else lists a service this account does not use: one empty page each
    others = {op: c for op, c in calls.items() if op not in floor}
    assert others, "the collection reads other services too"
    assert {op: c for op, c in others.items() if c != 1} == {}
    assert snap.manifest["api_call_total"] == sum(floor.values()) + len(others)


def test_task_definitions_described_are_those_run_and_the_latest(collected):
    n, snap, _ = collected
    ecs = snap.get(REGION, "ecs")
    described = {td["taskDefinitionArn"] for td in ecs["task_definitions"]}
    running = {s["taskDefinition"] for s in ecs["services"]}
    latest = {f"{td['family']}:3" for td in ecs["task_definitions"]}
    assert running <= described
    assert {arn.rsplit("/", 1)[1] for arn in described} >= latest
    # not every ACTIVE revision: three per family exist, at most two per family are read
    assert len(described) == synthetic.call_floor(n)["ecs:DescribeTaskDefinition"] < 3 * n


def test_no_request_is_sent_twice(collected):
    _, _, recorder = collected
    assert {k: v for k, v in recorder.requests.items() if v > 1} == {}


def test_collection_threads_are_bounded_by_max_workers():
    # one pool for the (region, service) jobs, one shared pool for their per-resource calls
    _, recorder = _collect(5, max_workers=2)
    assert 1 <= len(recorder.threads) <= 2 * 2
