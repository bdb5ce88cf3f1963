"""`twelvefactor lab`: the demo server and JupyterLab start together and one Ctrl-C stops both."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from twelvefactor.lab import lab_environment, lab_port

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "twelvefactor.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = next(
                line for line in (proc / "status").read_text().splitlines() if line[:6] == "State:"
            )
        except (OSError, StopIteration):
            continue
        if text in cmdline and "zombie" not in state:
            found.append(int(proc.name))
    return found


def wait_for(url: str, timeout: float = 180.0, proc: subprocess.Popen | None = None) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read()
        except (urllib.error.URLError, OSError):
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"the lab exited early with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=120, env=env or os.environ.copy()
    )


def test_a_port_in_use_is_one_clear_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("lab", "--port", str(port), "--no-browser")
    assert result.returncode == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert f"127.0.0.1:{port} is already in use" in errors[0]
    assert "--port" in errors[0] and "TWELVEFACTOR_LAB_PORT" in errors[0]


def test_a_bad_port_variable_names_it():
    env = os.environ | {"TWELVEFACTOR_LAB_PORT": "five"}
    result = run_cli("demo", "serve", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("twelvefactor: error: port: 'five' is not a port number.")
    assert "TWELVEFACTOR_LAB_PORT" in result.stderr
    assert lab_port("6001") == 6001


def test_the_lab_environment_points_only_at_the_demo_server():
    base = {
        "PATH": "/usr/bin",
        "AWS_PROFILE": "production-admin",
        "AWS_SESSION_TOKEN": "token",
        "AWS_ACCESS_KEY_ID": "AKIAREALKEY",
        "AWS_ENDPOINT_URL_S3": "https://s3.example",
        "TWELVEFACTOR_SNAPSHOT": "/tmp/snap",
    }
    env = lab_environment("http://127.0.0.1:5999", base)
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5999"
    assert env["TWELVEFACTOR_SOURCE"] == "demo"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    dropped = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "TWELVEFACTOR_SNAPSHOT")
    for gone in dropped:
        assert gone not in env
    assert env["PATH"] == "/usr/bin"


def test_demo_reset_refuses_anything_but_a_local_demo_server():
    result = run_cli("demo", "reset", "--endpoint-url", "https://ecs.eu-west-1.amazonaws.com")
    assert result.returncode == 2
    assert "is not the demo server" in result.stderr
    port = free_port()  # nothing listens there
    result = run_cli("demo", "reset", "--endpoint-url", f"http://127.0.0.1:{port}")
    assert result.returncode == 2
    assert f"no demo (moto) server answers at http://127.0.0.1:{port}" in result.stderr


@pytest.fixture
def notebook_copy(tmp_path: Path) -> Path:
    """The notebooks in a scratch folder: JupyterLab may write checkpoints there."""
    target = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", target)
    return target


def start_lab(notebook_dir: Path, token: str) -> tuple[subprocess.Popen, int, int]:
    """`twelvefactor lab` in a session of its own, as a terminal would run it; waits until ready."""
    port, jupyter_port = free_port(), free_port()
    env = os.environ | {"JUPYTER_TOKEN": token}
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [
            *CLI,
            "lab",
            "--port",
            str(port),
            "--jupyter-port",
            str(jupyter_port),
            "--no-browser",
            "--notebook-dir",
            str(notebook_dir),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    wait_for(f"http://127.0.0.1:{jupyter_port}/api/status?token={token}", proc=proc)
    return proc, port, jupyter_port


def stop_lab(proc: subprocess.Popen) -> str:
    """Ctrl-C as the terminal sends it (to the foreground process group); the lab's output."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return out


def test_lab_serves_the_demo_and_one_ctrl_c_stops_everything(notebook_copy: Path):
    token = secrets.token_hex(16)
    proc, port, jupyter_port = start_lab(notebook_copy, token)
    try:
        # the demo server is up and seeded: the lab's notebooks open it
        config = json.loads(wait_for(f"http://127.0.0.1:{port}/moto-api/config"))
        assert isinstance(config, dict)
        assert listening(port) and listening(jupyter_port)
        # JupyterLab serves the notebooks folder it was given
        contents = json.loads(
            wait_for(f"http://127.0.0.1:{jupyter_port}/api/contents?token={token}")
        )
        names = {item["name"] for item in contents["content"]}
        assert "01-codebase.ipynb" in names
        # a running kernel (as an attendee would have) must go down with the lab
        req = urllib.request.Request(
            f"http://127.0.0.1:{jupyter_port}/api/kernels?token={token}",
            data=json.dumps({"name": "python3"}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            kernel_id = json.loads(resp.read())["id"]
        deadline = time.monotonic() + 60
        while not processes_mentioning(kernel_id) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert processes_mentioning(kernel_id), "the kernel process did not start"
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise

    out = stop_lab(proc)
    assert proc.returncode == 0, out
    assert "twelvefactor lab: stopped." in out
    assert "Shutdown this Jupyter server" not in out  # no prompt: one Ctrl-C is enough
    deadline = time.monotonic() + 20
    while processes_mentioning(kernel_id) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert processes_mentioning(kernel_id) == []
    assert processes_mentioning(f"--ServerApp.port={jupyter_port}") == []
    assert not listening(port)
    assert not listening(jupyter_port)


def test_demo_serve_and_reset_by_hand():
    """The by-hand path: `demo serve` in one terminal, changes, `demo reset`, Ctrl-C."""
    from twelvefactor.demo import tryit

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ.copy()
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [*CLI, "demo", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        seen = []
        for line in proc.stdout:  # the line comes once the account is seeded
            seen.append(line)
            if f"demo account served at {url}" in line:
                break
        else:
            raise AssertionError(f"demo serve ended early: {''.join(seen)}")
        ecr = tryit.demo_client("ecr", endpoint_url=url)
        ecr.put_image_tag_mutability(repositoryName="shop/payments", imageTagMutability="IMMUTABLE")

        def mutability() -> str:
            repos = ecr.describe_repositories(repositoryNames=["shop/payments"])["repositories"]
            return repos[0]["imageTagMutability"]

        assert mutability() == "IMMUTABLE"
        result = run_cli("demo", "reset", "--port", str(port), env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"reset: the demo account at {url} is as seeded again."
        assert mutability() == "MUTABLE"
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
    proc.wait(timeout=90)
    out = "".join(seen) + proc.stdout.read()  # (communicate() would skip what was buffered)
    assert proc.returncode == 0, out
    assert "AWS_ENDPOINT_URL=" in out and "demo server stopped" in out
    assert not listening(port)
