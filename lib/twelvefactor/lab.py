"""Workshop mode: the demo account as a moto server on 127.0.0.1, and JupyterLab pointed at it.

``twelvefactor lab`` = start the server, seed the demo, start JupyterLab with an environment that
sends every notebook to that server (dummy credentials, in the child's environment only, never
written to disk). One Ctrl-C stops both. ``twelvefactor demo serve`` is the server alone, for
trainers who start JupyterLab themselves.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ConfigurationError

DEFAULT_PORT = 5005
PORT_VARIABLE = "TWELVEFACTOR_LAB_PORT"
HOST = "127.0.0.1"

#: Variables that could send the lab's notebooks anywhere but the demo server.
_DROPPED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "TWELVEFACTOR_SNAPSHOT")


def lab_port(port: int | str | None = None) -> int:
    """The demo server's port: ``port``, else $TWELVEFACTOR_LAB_PORT, else 5005; validated."""
    raw = port if port not in (None, "") else os.environ.get(PORT_VARIABLE, "") or DEFAULT_PORT
    try:
        value = int(raw)
        if not 1 <= value <= 65535:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigurationError(
            "port", f"{raw!r} is not a port number.", f"pass --port N or set {PORT_VARIABLE}."
        ) from None
    return value


def require_free(port: int) -> None:
    """Raise one clear line when something already listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            raise ConfigurationError(
                "port",
                f"{HOST}:{port} is already in use (another demo server, or another program).",
                f"pass another port with --port N (e.g. --port {port + 1}) or set {PORT_VARIABLE}.",
            ) from None


@contextmanager
def demo_server(port: int) -> Iterator[str]:
    """A moto server on 127.0.0.1:port seeded with the demo account; yields its URL."""
    from moto.server import ThreadedMotoServer

    from .demo import load_scenario, seed_server

    require_free(port)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    url = f"http://{HOST}:{port}"
    try:
        seed_server(load_scenario(), url)
        yield url
    finally:
        server.stop()


def lab_environment(url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of JupyterLab and its kernels: every notebook opens the demo server."""
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if k not in _DROPPED and not k.startswith("AWS_ENDPOINT_URL_")
    }
    env.update(
        TWELVEFACTOR_SOURCE="demo",
        AWS_ENDPOINT_URL=url,
        # dummy credentials of the demo account, for any client that looks for some
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
    )
    return env


def default_notebook_dir() -> Path:
    from .runner import notebooks_dir

    return notebooks_dir()


def jupyter_command(
    notebook_dir: Path, *, open_browser: bool, jupyter_port: int | None
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={notebook_dir}",
        f"--ServerApp.ip={HOST}",
    ]
    if jupyter_port:
        cmd += [f"--ServerApp.port={jupyter_port}", "--ServerApp.port_retries=0"]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers, CI
        cmd.append("--ServerApp.allow_root=True")
    return cmd


def _interrupt_on_signals() -> dict[int, object]:
    """Ctrl-C (SIGINT) and SIGTERM (a supervisor, `kill`) both raise KeyboardInterrupt -- even
    when the shell started us with SIGINT ignored (a background job of a script)."""
    return {
        sig: signal.signal(sig, signal.default_int_handler)
        for sig in (signal.SIGINT, signal.SIGTERM)
    }


def _restore(handlers: dict[int, object]) -> None:
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def _stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Stop JupyterLab and everything in its process group: SIGTERM (a clean shutdown that
    also shuts its kernels down), then SIGKILL for whatever is left."""
    if not hasattr(os, "killpg"):  # Windows: no process groups; JupyterLab stops its kernels
        proc.terminate()
        proc.wait(timeout)
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue


def run_lab(
    port: int | None = None,
    *,
    open_browser: bool = True,
    notebook_dir: str | Path | None = None,
    jupyter_port: int | None = None,
) -> int:
    """Serve the demo and run JupyterLab on it until Ctrl-C (or JupyterLab exits)."""
    port = lab_port(port)
    nb_dir = Path(notebook_dir) if notebook_dir else default_notebook_dir()
    if not nb_dir.is_dir():
        raise ConfigurationError(
            "notebook-dir", f"{nb_dir} is not a folder.", "give the folder of the notebooks."
        )
    handlers = _interrupt_on_signals()
    try:
        print(f"twelvefactor lab: seeding the demo account on {HOST}:{port} ...", flush=True)
        with demo_server(port) as url:
            print(
                f"twelvefactor lab: demo account ready at {url}; starting JupyterLab on "
                f"{nb_dir} (Ctrl-C stops both)",
                flush=True,
            )
            # JupyterLab in a session of its own: the terminal's Ctrl-C reaches only this process,
            # which then shuts JupyterLab down without its "Shutdown this server (y/[n])?" prompt
            proc = subprocess.Popen(
                jupyter_command(nb_dir, open_browser=open_browser, jupyter_port=jupyter_port),
                env=lab_environment(url),
                start_new_session=True,
            )
            try:
                code = proc.wait()
            except KeyboardInterrupt:
                print("\ntwelvefactor lab: stopping JupyterLab and the demo server ...", flush=True)
                _stop(proc)
                code = 0
            finally:
                if proc.poll() is None:
                    _stop(proc)
        if code:
            print(f"twelvefactor lab: JupyterLab exited with code {code} (see above).", flush=True)
        print("twelvefactor lab: stopped.", flush=True)
        return code
    finally:
        _restore(handlers)


def serve(port: int | None = None) -> int:
    """The demo server alone, in the foreground, until Ctrl-C (the by-hand path)."""
    port = lab_port(port)
    handlers = _interrupt_on_signals()
    try:
        with demo_server(port) as url:
            print(
                f"twelvefactor: demo account served at {url} (Ctrl-C stops it). In another "
                "terminal:\n"
                f"  export TWELVEFACTOR_SOURCE=demo AWS_ENDPOINT_URL={url}\n"
                "  .venv/bin/jupyter lab notebooks/\n"
                f"Reset the account: twelvefactor demo reset --endpoint-url {url}",
                flush=True,
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print("\ntwelvefactor: demo server stopped.", flush=True)
        return 0
    finally:
        _restore(handlers)
