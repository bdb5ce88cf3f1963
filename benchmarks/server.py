"""A moto server on 127.0.0.1 that counts the requests it answers and seeds synthetic accounts.

Run it as its own process (``python benchmarks/server.py --port 5123``), so that neither its time
nor its memory is counted as the audit's. Besides everything moto serves:

- ``POST /bench/seed?n=N``: reset moto and seed the synthetic account of size N (synthetic.py)
  through the demo Seeder, in this process (moto in-process: about four times faster than
  seeding over HTTP, which matters at N = 5,000); answers ``{"seconds": ...}``;
- ``GET /bench/seeded``: ``{"n": N, "seconds": ..., "busy": M}``: the account it holds, and the
  size it is seeding now (null: none);
- ``GET /bench/calls``: the AWS requests answered since the last reset, per service and operation
  (the "request log" by which a tool that has no call meter of its own, such as Prowler, is
  counted); ``POST /bench/calls/reset`` sets them to zero.

The operation is read from the request as AWS reads it: the ``X-Amz-Target`` header (JSON
protocols), the ``Action`` parameter (query protocols), else the method and path (REST); the
service from the credential scope of the signature.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent))

SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def operation_of(environ: dict, body: bytes) -> tuple[str, str]:
    """(service, operation) of one AWS request, as the server saw it."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = SCOPE_RE.search(auth)
    service = match[1] if match else "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    params = parse_qs(environ.get("QUERY_STRING", ""))
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qs(body.decode("utf-8", "replace")))
    if "Action" in params:
        return service, params["Action"][0]
    path = re.sub(r"/[^/]{20,}", "/{id}", environ.get("PATH_INFO", "/"))
    return service, f"{environ.get('REQUEST_METHOD', '?')} {path}"


class BenchApp:
    """moto's WSGI application, with a request counter and a seeding endpoint in front."""

    def __init__(self) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.calls: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/bench/"):
            return self.bench(environ, start_response, path)
        if not path.startswith("/moto-api"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            key = operation_of(environ, body)
            with self.lock:
                self.calls[key] += 1
        return self.moto(environ, start_response)

    def bench(self, environ, start_response, path):
        method = environ.get("REQUEST_METHOD")
        if path == "/bench/calls" and method == "GET":
            with self.lock:
                payload = [
                    {"service": s, "operation": o, "calls": n}
                    for (s, o), n in sorted(self.calls.items())
                ]
            return self.reply(start_response, payload)
        if path == "/bench/calls/reset" and method == "POST":
            with self.lock:
                self.calls.clear()
            return self.reply(start_response, {"ok": True})
        if path == "/bench/seed" and method == "POST":
            n = int(parse_qs(environ.get("QUERY_STRING", "")).get("n", ["0"])[0])
            return self.reply(start_response, {"n": n, "seconds": seed_here(n)})
        if path == "/bench/seeded" and method == "GET":
            return self.reply(start_response, SEEDED)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"unknown /bench endpoint\n"]

    @staticmethod
    def reply(start_response, payload):
        body = json.dumps(payload).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]


class QuietHandler(MotoRequestHandler):
    """moto's request handler without a log line per request (time the audit would pay for)."""

    def log_request(self, *args, **kwargs) -> None:
        pass


_seed_lock = threading.Lock()
#: what this server holds: the size of the synthetic account and the seconds its seeding took
SEEDED: dict[str, float | None] = {"n": None, "seconds": None, "busy": None}


def seed_here(n: int) -> float:
    """Reset moto and seed the size-``n`` account in this process (the server's backends)."""
    import synthetic
    from moto import mock_aws

    from twelvefactor.demo.seed import DemoClients, Seeder, _reseed_moto

    with _seed_lock:
        SEEDED.update(n=None, seconds=None, busy=n)
        t0 = time.perf_counter()
        scenario = synthetic.scenario(n)
        mock = mock_aws()
        mock.start(reset=True)  # reset: the account holds this scenario and nothing else
        try:
            _reseed_moto(scenario.seed)
            Seeder(scenario, DemoClients(None)).run()
        finally:
            mock.stop(remove_data=False)  # keep the data: the server answers from it
        SEEDED.update(n=n, seconds=round(time.perf_counter() - t0, 2), busy=None)
        return SEEDED["seconds"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=5123)
    p.add_argument("--seed", type=int, metavar="N", help="seed the size-N account before serving")
    args = p.parse_args(argv)
    server = make_server(
        "127.0.0.1", args.port, BenchApp(), threaded=True, request_handler=QuietHandler
    )
    print(f"serving on http://127.0.0.1:{args.port}", flush=True)
    if args.seed:  # seeding while serving: /bench/seeded tells when it is done
        threading.Thread(target=seed_here, args=(args.seed,), daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
