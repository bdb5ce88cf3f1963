"""Bad input, one case a test: the CLI stops with one line naming the parameter and the fix.

The table (case -> message) is in the module's CASES; each runs ``twelvefactor audit`` in-process
and checks stderr is exactly one line ``twelvefactor: error: <parameter>: <problem> Fix: <fix>``
and the exit code 2. The suppressions-file cases are tested with the suppressions feature.
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
from faultkit import free_port

from twelvefactor.cli import main
from twelvefactor.snapshot import SCHEMA_VERSION, Snapshot


class FakeSts(http.server.BaseHTTPRequestHandler):
    """An endpoint that answers every request with one STS error (code set per server)."""

    code = "ExpiredToken"

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{self.code}</Code>"
            "<Message>nope</Message></Error><RequestId>1</RequestId></ErrorResponse>"
        ).encode()
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(params=["ExpiredToken", "InvalidClientTokenId"])
def fake_sts(request):
    handler = type("Handler", (FakeSts,), {"code": request.param})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield request.param, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def snapshot_dir(tmp_path) -> Path:
    """A small but complete snapshot on disk (one ECS cluster)."""
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "tool_version": "test",
        "source": "live",
        "account": "111122223333",
        "caller_arn": "arn:aws:iam::111122223333:user/auditor",
        "regions": ["eu-west-1"],
        "services": ["ecs"],
        "errors": [],
        "api_calls": [],
        "api_call_total": 0,
    }
    data = {("eu-west-1", "ecs"): {"clusters": [{"clusterName": "c", "tags": []}]}}
    return Snapshot(manifest=manifest, data=data).write(tmp_path / "snap")


def one_line_error(capsys, argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1, err
    line = err[0]
    assert line.startswith("twelvefactor: error: ") and " Fix: " in line, line
    return line.removeprefix("twelvefactor: error: ")


def test_unknown_region(capsys):
    line = one_line_error(capsys, ["audit", "--live", "--region", "eu-westt-1"])
    assert line.startswith("regions: unknown region 'eu-westt-1'. Did you mean 'eu-west-1'?")


def test_unknown_profile(capsys):
    line = one_line_error(capsys, ["audit", "--profile", "nosuch", "--region", "eu-west-1"])
    assert line.startswith("profile: no AWS profile named 'nosuch'")


def test_missing_credentials(capsys):
    line = one_line_error(capsys, ["audit", "--live", "--region", "eu-west-1"])
    assert line.startswith("credentials: no AWS credentials found.")


def test_expired_or_rejected_credentials(capsys, monkeypatch, fake_sts):
    code, endpoint = fake_sts
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    line = one_line_error(
        capsys, ["audit", "--endpoint-url", endpoint, "--region", "eu-west-1", "--no-notebooks"]
    )
    expected = {
        "ExpiredToken": "credentials: your AWS credentials have expired.",
        "InvalidClientTokenId": "credentials: AWS rejected the credentials in eu-west-1",
    }
    assert line.startswith(expected[code]), line


def test_endpoint_that_does_not_answer(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    closed = f"http://127.0.0.1:{free_port()}"
    line = one_line_error(capsys, ["audit", "--endpoint-url", closed, "--region", "eu-west-1"])
    assert line.startswith("endpoint_url: could not reach AWS (")


def test_endpoint_that_is_not_a_url(capsys):
    argv = ["audit", "--endpoint-url", "localhost:5000", "--region", "eu-west-1"]
    line = one_line_error(capsys, argv)
    assert line.startswith("endpoint_url: 'localhost:5000' is not an http(s) URL.")


def _edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


SNAPSHOT_CASES = {
    "another schema version": (
        lambda d: _edit_json(d / "manifest.json", schema_version=SCHEMA_VERSION + 1),
        "snapshot: ",
        f"this twelvefactor reads version {SCHEMA_VERSION}.",
    ),
    "truncated manifest": (
        lambda d: (d / "manifest.json").write_bytes((d / "manifest.json").read_bytes()[:40]),
        "snapshot: ",
        "it may be truncated.",
    ),
    "truncated data file": (
        lambda d: (d / "eu-west-1/ecs.json").write_bytes(b'{"clusters": ['),
        "snapshot: ",
        "was changed after collection (checksum mismatch).",
    ),
    "hand-edited data file": (
        lambda d: _edit_json(d / "eu-west-1/ecs.json", clusters=[]),
        "snapshot: ",
        "was changed after collection (checksum mismatch).",
    ),
    "missing data file": (
        lambda d: (d / "eu-west-1/ecs.json").unlink(),
        "snapshot: ",
        "listed in the manifest is missing.",
    ),
    "no manifest": (
        lambda d: (d / "manifest.json").unlink(),
        "snapshot: ",
        "has no manifest.json.",
    ),
}


@pytest.mark.parametrize("case", sorted(SNAPSHOT_CASES))
def test_bad_snapshot(capsys, snapshot_dir, case):
    spoil, prefix, problem = SNAPSHOT_CASES[case]
    assert main(
        [
            "audit",
            "--snapshot",
            str(snapshot_dir),
            "--no-notebooks",
            "--out",
            str(snapshot_dir.parent / "ok"),
        ]
    ) in (0, 1, 2)  # intact: it runs
    capsys.readouterr()
    spoil(snapshot_dir)
    line = one_line_error(
        capsys, ["audit", "--snapshot", str(snapshot_dir), "--out", str(snapshot_dir.parent / "r")]
    )
    assert line.startswith(prefix) and problem in line, line


def test_unknown_notebook_parameter_is_refused_by_the_notebook(tmp_path):
    """papermill only warns about a parameter the notebook lacks; the notebook stops on it."""
    import papermill

    from twelvefactor.runner import notebook_paths

    notebook = notebook_paths(["01"])[0]
    with pytest.raises(papermill.PapermillExecutionError) as info:
        papermill.execute_notebook(
            str(notebook),
            str(tmp_path / "out.ipynb"),
            parameters={"regoins": "eu-west-1", "source": "snapshot", "snapshot": "/nowhere"},
            progress_bar=False,
            cwd=str(notebook.parent),
            kernel_name="python3",
        )
    assert info.value.ename == "ConfigurationError"
    assert info.value.evalue.startswith(
        "regoins: not a parameter of this notebook (papermill passed it on with only a warning). "
        "Fix: did you mean 'regions'? use one of "
    )
