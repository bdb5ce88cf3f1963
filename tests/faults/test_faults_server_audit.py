"""The whole audit, run as a user would (the CLI, in a subprocess, with -v), against a moto server.

Two proofs from one run:

* read-only: the server's own request record (moto's recorder) shows that, after seeding, only
  reads arrived -- each request is named by its operation (X-Amz-Target, Action=, or the REST
  route in botocore's model) and judged by the same rule as the guard in ``twelvefactor.aws``;
* no leaks: no artefact of the run (every file of the report folder, stdout, stderr with the log)
  holds a planted secret, a secret value of the scenario or the credentials in use, raw or
  base64-, URL-, JSON- or HTML-encoded.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import subprocess
import sys
import urllib.request
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import boto3
import botocore.session
import pytest
from conftest import clean_environment
from faultkit import free_port, moto_api

from twelvefactor.aws import refusal_reason
from twelvefactor.demo import load_scenario, seed_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server_run(tmp_path_factory):
    from moto.moto_api import recorder
    from moto.server import ThreadedMotoServer

    scenario = load_scenario()
    work = tmp_path_factory.mktemp("server-audit")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(recorder, "_location", str(work / "moto-recording.jsonl"))
        server.start()
        try:
            moto_api(endpoint, "/moto-api/recorder/reset-recording")
            moto_api(endpoint, "/moto-api/recorder/start-recording")
            seed_server(scenario, endpoint)
            iam = boto3.client(
                "iam",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            iam.create_user(UserName="auditor")
            key = iam.create_access_key(UserName="auditor")["AccessKey"]
            seeded = len(_download(endpoint))
            out = work / "report"
            with clean_environment():
                env = dict(os.environ)
            env |= {
                "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
                "PYTHONUNBUFFERED": "1",
            }
            argv = [sys.executable, "-m", "twelvefactor.cli", "-v", "audit", "--live"]
            argv += ["--endpoint-url", endpoint, "--out", str(out)]
            # two notebooks keep this test quick (the demo audit test runs them all): the
            # account overview with its errors, and config with its secrets evidence
            argv += ["--notebook", "00", "--notebook", "03"]
            for region in scenario.regions:
                argv += ["--region", region]
            for repo in scenario.repo_paths:
                argv += ["--repo-path", repo]
            proc = subprocess.run(argv, env=env, capture_output=True, timeout=900, cwd=work)
            recording = _download(endpoint)
            moto_api(endpoint, "/moto-api/recorder/stop-recording")
        finally:
            server.stop()
    return {
        "proc": proc,
        "out": out,
        "seeding": recording[:seeded],
        "audit": recording[seeded:],
        "key": key,
        "scenario": scenario,
    }


def _download(endpoint: str) -> list[dict]:
    url = endpoint + "/moto-api/recorder/download-recording"
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local moto
        return [json.loads(line) for line in response.read().decode().splitlines() if line]


# -- naming a recorded request ---------------------------------------------------------------
#: botocore client names whose signing name differs (only REST services need a route lookup).
SIGNING_ALIASES = {"elasticfilesystem": ("efs",)}
_SERVICES = frozenset(botocore.session.get_session().get_available_services())


@cache
def _rest_routes(signing_name: str) -> list[tuple[str, re.Pattern, set[str], str]]:
    """(method, path pattern, query keys, operation) of every REST operation of a service."""
    session = botocore.session.get_session()
    routes = []
    # the client names of a signing name; all services (slow: hundreds of models) only if unknown
    likely = [s for s in (signing_name, *SIGNING_ALIASES.get(signing_name, ())) if s in _SERVICES]
    for service in likely or _SERVICES:
        model = session.get_service_model(service)
        if model.signing_name != signing_name or not model.protocol.startswith("rest"):
            continue
        for name in model.operation_names:
            http = model.operation_model(name).http
            path, _, query = http["requestUri"].partition("?")
            pattern = re.sub(r"\\\{[^}]+?\\\+\\\}", ".+", re.escape(path))
            pattern = re.sub(r"\\\{[^}]+?\\\}", "[^/]+", pattern)
            keys = {q.split("=")[0] for q in query.split("&") if q}
            routes.append((http["method"], re.compile(pattern.rstrip("/") + "/?"), keys, name))
    return routes


def operations_of(entry: dict) -> tuple[str, tuple[str, ...]]:
    """(signing service, operation names) of a recorded request; ('', ()) when unsigned.

    One name, except for a REST route several operations share (S3's GET / is ListBuckets or
    ListDirectoryBuckets): then every candidate, and the request counts as a write if any is one.
    """
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    scope = re.search(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/", headers.get("authorization", ""))
    if not scope:
        return "", ()
    service = scope.group(1)
    if headers.get("x-amz-target"):
        return service, (headers["x-amz-target"].rsplit(".", 1)[-1],)
    raw = entry.get("body") or ""
    body = base64.b64decode(raw) if entry.get("body_encoded") else raw.encode()
    url = urlsplit(entry["url"])
    form = parse_qs(body.decode("utf-8", "replace")) | parse_qs(url.query)
    if form.get("Action"):
        return service, (form["Action"][0],)
    query = set(parse_qs(url.query, keep_blank_values=True))
    matches = [
        ((len(keys), len(pattern.pattern)), name)
        for method, pattern, keys, name in _rest_routes(service)
        if method == entry["method"] and pattern.fullmatch(url.path) and keys <= query
    ]
    best = max((score for score, _ in matches), default=None)
    return service, tuple(sorted(name for score, name in matches if score == best))


def is_write(operations: tuple[str, ...]) -> bool:
    return any(refusal_reason(op) for op in operations)


def test_the_cli_audit_completed(server_run):
    proc = server_run["proc"]
    assert proc.returncode == 1, proc.stderr.decode()[-2000:]  # the demo's planted FAILs
    run = json.loads((server_run["out"] / "run.json").read_text())
    assert [n["name"] for n in run["notebooks"]] == ["00-start-here", "03-config"]
    assert all(n["status"] == "ok" for n in run["notebooks"]), run["notebooks"]
    assert run["snapshot"]["caller_arn"].endswith(":user/auditor")


def test_the_request_record_tells_writes_from_reads(server_run):
    """The classifier below is not blind: the seeding's writes are all recognised as writes."""
    named = [operations_of(e) for e in server_run["seeding"]]
    signed = [(s, ops) for s, ops in named if s]
    assert all(ops for _, ops in signed)
    writes = {f"{s}:{op}" for s, ops in signed for op in ops if is_write(ops)}
    for expected in [
        "ecs:CreateCluster",
        "ecs:RegisterTaskDefinition",
        "ssm:PutParameter",
        "secretsmanager:CreateSecret",
        "s3:CreateBucket",
        "elasticfilesystem:CreateFileSystem",
        "elasticloadbalancing:CreateLoadBalancer",
    ]:
        assert expected in writes, expected
    assert len(writes) >= 20


def test_no_write_request_reached_the_server_during_the_audit(server_run):
    requests = server_run["audit"]
    assert len(requests) >= 50
    named = [operations_of(e) for e in requests]
    assert all(service for service, _ in named), "an unsigned request reached the server"
    unknown = [e["url"] for e, (_, ops) in zip(requests, named, strict=True) if not ops]
    assert unknown == []
    writes = sorted({f"{s}:{'|'.join(ops)}" for s, ops in named if is_write(ops)})
    assert writes == []
    # the server saw exactly the calls the run counted, operation by operation
    run = json.loads((server_run["out"] / "run.json").read_text())
    counted = {}
    for call in run["snapshot"]["api_calls"]:
        counted[call["operation"]] = counted.get(call["operation"], 0) + call["calls"]
        counted[call["operation"]] += call["retries"]
    seen = {}
    for _, ops in named:
        op = next((o for o in ops if o in counted), ops[0])  # a shared route: the one counted
        seen[op] = seen.get(op, 0) + 1
    assert seen == counted
    print(f"\nserver record: {len(requests)} requests, {len(seen)} operations, 0 writes")


# -- no leaks --------------------------------------------------------------------------------
def _secret_values(scenario, key) -> set[str]:
    values = set(scenario.planted_secrets) | {key["SecretAccessKey"], key["AccessKeyId"]}
    for region in scenario.resources.values():
        values |= {s["value"] for s in region.get("secrets", [])}
        values |= {d["password"] for d in region.get("databases", []) if d.get("password")}
        values |= {
            p["value"] for p in region.get("parameters", []) if p.get("type") == "SecureString"
        }
    return {v for v in values if len(v) >= 8}


def _encodings(value: str) -> set[bytes]:
    raw = value.encode()
    forms = {
        raw,
        quote(value, safe="").encode(),
        quote(value).encode(),
        quote_plus(value).encode(),
        json.dumps(value)[1:-1].encode(),
        html.escape(value).encode(),
    }
    for shift in range(3):  # base64 of the value wherever it starts in a longer encoded text
        encoded = base64.b64encode(b"\0" * shift + raw)
        start = (shift * 4 + 2) // 3 + (1 if shift else 0)
        end = len(encoded) - (3 if len(b"\0" * shift + raw) % 3 else 0) - 1
        if end - start >= 8:
            forms.add(encoded[start:end])
    return forms


def test_encoded_forms_are_found():
    """The scanner finds a value hidden in a base64 blob, at any alignment, and URL-encoded."""
    value = "s3cret/Value+with=odd&chars"
    for prefix in (b"", b"x", b"xy", b"xyz"):
        blob = base64.b64encode(prefix + value.encode() + b" trailing")
        assert any(form in blob for form in _encodings(value)), prefix
    assert any(form in quote(value).encode() for form in _encodings(value))


def test_no_secret_or_credential_in_any_artefact(server_run):
    secrets = _secret_values(server_run["scenario"], server_run["key"])
    assert len(secrets) >= len(server_run["scenario"].planted_secrets)
    artefacts = {"stdout": server_run["proc"].stdout, "stderr": server_run["proc"].stderr}
    for path in sorted(server_run["out"].rglob("*")):
        if path.is_file():
            artefacts[str(path.relative_to(server_run["out"]))] = path.read_bytes()
    kinds = {Path(name).suffix for name in artefacts}
    assert {".json", ".csv", ".html", ".ipynb"} <= kinds, kinds
    assert b"INFO" in artefacts["stderr"] or b"ERROR" in artefacts["stderr"]  # -v logged
    leaks = [
        (name, secret)
        for secret in sorted(secrets)
        for form in _encodings(secret)
        for name, data in artefacts.items()
        if form in data
    ]
    assert leaks == []
    print(f"\nscanned {len(artefacts)} artefacts for {len(secrets)} values: no leak")
