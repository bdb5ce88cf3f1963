"""What the benchmark scripts share: the machine, the moto server, measuring a process tree."""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
REGION = "eu-west-1"
#: scratch output of benchmark runs (git-ignored, like every report)
OUT = ROOT / "reports" / "bench"


def machine() -> dict[str, str]:
    """Date, cores, CPU model and memory of this machine (for the results' header)."""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "cpu": model or platform.processor() or "unknown",
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "python": platform.python_version(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def audit_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without any AWS or twelvefactor settings, plus dummy credentials."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TWELVEFACTOR_", "MOTO_"))
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        CI="1",  # no progress bars
    )
    env.update(extra or {})
    return env


class BenchServer:
    """benchmarks/server.py in its own process on 127.0.0.1 (its memory is not the audit's)."""

    def __init__(self, port: int | None = None, *, url: str | None = None):
        """Start a server on ``port`` (default: a free one), or use the one running at ``url``."""
        self.proc: subprocess.Popen | None = None
        if url:
            self.url = url.rstrip("/")
            self.calls()
            return
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        OUT.mkdir(parents=True, exist_ok=True)
        self.log = open(OUT / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "server.py"), "--port", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=audit_env(),
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                self.calls()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"bench server exited: see {OUT / 'server.log'}") from None
                time.sleep(0.3)
        raise RuntimeError("bench server did not start within 60 s")

    def _request(self, path: str, method: str = "GET", timeout: float = 10) -> Any:
        req = urllib.request.Request(self.url + path, method=method, data=b"" if method else None)
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - our server
            return json.loads(resp.read())

    def seed(self, n: int) -> float:
        """Reset the account and seed the size-``n`` synthetic one; seconds taken.

        A server that already holds (or is seeding) that account is not seeded again."""
        while (seeded := self._request("/bench/seeded"))["busy"] == n:
            time.sleep(5)
        if seeded["n"] == n:
            return seeded["seconds"]
        return self._request(f"/bench/seed?n={n}", "POST", timeout=7200)["seconds"]

    def calls(self) -> list[dict[str, Any]]:
        return self._request("/bench/calls")

    def reset_calls(self) -> None:
        self._request("/bench/calls/reset", "POST")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def __enter__(self) -> BenchServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Measured:
    """One command, measured: wall time and peak memory of its whole process tree."""

    argv: list[str]
    returncode: int = 0
    seconds: float = 0.0
    #: the largest sum of RSS over the process and all its descendants, sampled every 50 ms
    peak_tree_mb: float = 0.0
    #: the largest RSS of any single process of the tree
    peak_process_mb: float = 0.0
    #: CPU time (user + system) of the whole tree: less sensitive than wall time to a busy machine
    cpu_seconds: float = 0.0
    stdout: str = ""
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def measure(argv: list[str], *, env: dict[str, str], cwd: Path | None = None) -> Measured:
    """Run ``argv``; sample the RSS of its process tree until it ends."""
    result = Measured(argv=argv)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            total = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                result.peak_process_mb = max(result.peak_process_mb, rss / 2**20)
            result.peak_tree_mb = max(result.peak_tree_mb, total / 2**20)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result.stdout, result.stderr = proc.communicate()
    result.seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    result.returncode = proc.returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # every process of the tree is waited for by its parent, so its time reaches us
    result.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def by_operation(records: list[dict[str, Any]]) -> dict[str, int]:
    """{"service:Operation": calls} from a meter's or the server's records."""
    out: dict[str, int] = {}
    for r in records:
        key = f"{r['service']}:{r['operation']}"
        out[key] = out.get(key, 0) + int(r["calls"])
    return dict(sorted(out.items()))
