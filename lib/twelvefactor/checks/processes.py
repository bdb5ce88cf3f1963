"""Factor VI, Processes: stateless, share-nothing processes -- one per container.

Five checks over the task definitions that services run (and the latest revision of every
family) and the target groups in front of ECS services:

* ``TF06-NO-LOCAL-STATE``: no writable host paths or shared Docker volumes; EFS only with
  encryption in transit. Task-scoped scratch volumes, read-only host mounts and host sockets are
  not state (a Docker socket is noted: it is a security problem, not a state problem).
* ``TF06-READONLY-ROOT``: every container runs with a read-only root filesystem (ECS.5).
* ``TF06-NO-STICKY-SESSIONS``: target groups that front ECS services do not pin clients.
* ``TF06-ONE-PROCESS``: a container's command line starts one long-running process (the rule is
  spelled out in :func:`analyse_command`).
* ``TF06-EPHEMERAL-STORAGE``: Fargate tasks keep the default-sized scratch disk; a much larger
  one hints at local state. EC2 tasks get a SKIP: their disk is the instance's.

The inventory keeps volumes as flat lists; volume names, mount points and ``command`` /
``entryPoint`` as lists are read from the raw task definitions in the snapshot.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import Inventory
from ..plots import STATUS_COLOURS, empty_axes, factor_matrix, plot
from ..settings import Settings
from . import check
from .common import container_id, container_result, result, td_id, td_result

if TYPE_CHECKING:
    from ..workbook import Workbook

FACTOR = 6
CHECK_IDS = (
    "TF06-NO-LOCAL-STATE",
    "TF06-READONLY-ROOT",
    "TF06-NO-STICKY-SESSIONS",
    "TF06-ONE-PROCESS",
    "TF06-EPHEMERAL-STORAGE",
)

#: Fargate's scratch disk without an ``ephemeralStorage`` setting, and the size above which a
#: larger one is reported as a hint of local state (21-30 GiB is room for big images or temp
#: files, not yet a local store).
DEFAULT_EPHEMERAL_GIB = 20
EPHEMERAL_HINT_GIB = 30


# -- raw task definitions --------------------------------------------------------------------
def _raw_task_definitions(inv: Inventory) -> dict[str, dict[str, Any]]:
    """Raw describe_task_definition results by ARN (the inventory flattens what we need)."""
    return {
        td["taskDefinitionArn"]: td
        for region in inv.regions
        for td in inv.snapshot.get(region, "ecs").get("task_definitions") or []
    }


def _mounts(raw_td: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """volume name -> [{container, path, read_only}], following volumesFrom one level."""
    containers = {c.get("name", ""): c for c in raw_td.get("containerDefinitions") or []}
    out: dict[str, list[dict[str, Any]]] = {}
    for name, c in containers.items():
        for m in c.get("mountPoints") or []:
            out.setdefault(m.get("sourceVolume", ""), []).append(
                {
                    "container": name,
                    "path": m.get("containerPath", ""),
                    "read_only": bool(m.get("readOnly", False)),
                }
            )
        for vf in c.get("volumesFrom") or []:
            source = containers.get(vf.get("sourceContainer", ""), {})
            for m in source.get("mountPoints") or []:
                out.setdefault(m.get("sourceVolume", ""), []).append(
                    {
                        "container": name,
                        "path": m.get("containerPath", ""),
                        "read_only": bool(vf.get("readOnly", False) or m.get("readOnly", False)),
                    }
                )
    return out


def _mount_text(m: dict[str, Any]) -> str:
    return f"{m['container']}:{m['path']} ({'ro' if m['read_only'] else 'rw'})"


# -- TF06-NO-LOCAL-STATE ---------------------------------------------------------------------
#: Host paths that are never application state: sockets of host daemons and kernel interfaces
#: (monitoring agents mount them). The Docker/containerd sockets are a security problem instead.
HOST_SYSTEM_PREFIXES = ("/proc", "/sys", "/dev")
CONTAINER_RUNTIME_SOCKETS = frozenset(
    {
        "/var/run/docker.sock",
        "/run/docker.sock",
        "/var/run/containerd/containerd.sock",
        "/run/containerd/containerd.sock",
    }
)
#: Verdicts of a volume that fail the task definition.
STATE_VERDICTS = ("local state", "EFS without TLS")


def _host_system_path(path: str) -> bool:
    path = posixpath.normpath(path or "/")
    return (
        path.endswith((".sock", ".socket"))
        or path in CONTAINER_RUNTIME_SOCKETS
        or any(path == p or path.startswith(p + "/") for p in HOST_SYSTEM_PREFIXES)
    )


def classify_volumes(raw_td: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per volume of a task definition: kind, source, mounts, verdict and reason.

    Verdicts: "local state" and "EFS without TLS" fail the check; "fine", "not state" and
    "unused" do not.
    """
    mounts = _mounts(raw_td)
    rows = []
    for v in raw_td.get("volumes") or []:
        name = v.get("name", "")
        used = mounts.get(name, [])
        writable = [m for m in used if not m["read_only"]]
        host = v.get("host") or {}
        docker = v.get("dockerVolumeConfiguration")
        efs = v.get("efsVolumeConfiguration")
        fsx = v.get("fsxWindowsFileServerVolumeConfiguration")
        if host.get("sourcePath"):
            kind, source = "host path", host["sourcePath"]
            if _host_system_path(source):
                verdict = "not state"
                reason = f"{source} is a host socket or kernel interface, not application data"
                if posixpath.normpath(source) in CONTAINER_RUNTIME_SOCKETS:
                    reason = (
                        f"{source} is not state, but it hands the container the host's "
                        "container runtime: a security problem of its own (full control of the "
                        "instance)"
                    )
            elif not used:
                verdict, reason = "unused", f"host path {source} is declared but mounted nowhere"
            elif not writable:
                verdict = "not state"
                reason = f"host path {source} is mounted read-only: the task reads host files "
                reason += "but keeps nothing there"
            else:
                verdict = "local state"
                reason = (
                    f"host path {source} is mounted writable at "
                    + ", ".join(f"{m['container']}:{m['path']}" for m in writable)
                    + ": the data stays on one instance"
                )
        elif docker is not None:
            scope = docker.get("scope") or "task"  # ECS's default scope is "task"
            driver = docker.get("driver") or "local"
            source = f"docker volume, scope {scope}, driver {driver}"
            kind = f"docker ({scope})"
            if scope != "shared":
                verdict = "fine"
                reason = "a task-scoped Docker volume: created and deleted with the task"
            elif not used:
                verdict, reason = "unused", "a shared Docker volume declared but mounted nowhere"
            elif not writable:
                verdict = "not state"
                reason = "a shared Docker volume, mounted read-only only"
            else:
                verdict = "local state"
                reason = (
                    "a shared Docker volume"
                    + (" (autoprovisioned)" if docker.get("autoprovision") else "")
                    + " outlives the task on its instance and is written at "
                    + ", ".join(f"{m['container']}:{m['path']}" for m in writable)
                )
        elif efs is not None:
            kind, source = "efs", efs.get("fileSystemId", "")
            if efs.get("transitEncryption", "DISABLED") == "ENABLED":
                verdict = "fine"
                reason = (
                    f"EFS file system {source}, encrypted in transit: shared storage outside the "
                    "task (review what lives there: files other tasks must see)"
                )
            else:
                verdict = "EFS without TLS"
                reason = f"EFS file system {source} is mounted without encryption in transit"
        elif fsx is not None:
            kind, source = "fsx-windows", fsx.get("fileSystemId", "")
            verdict = "fine"
            reason = f"FSx for Windows file share {source}: network storage outside the task"
        elif v.get("configuredAtLaunch"):
            kind, source = "ebs at launch", "attached by the service when the task starts"
            verdict = "fine"
            reason = "an EBS volume attached per task at launch (check its termination policy)"
        else:  # no host path: Docker (EC2) or Fargate gives the task its own empty directory
            kind, source = "task scratch", "(empty, task-scoped)"
            verdict = "fine" if used else "unused"
            reason = "task-scoped scratch space, deleted with the task"
        rows.append(
            {
                "volume": name,
                "kind": kind,
                "source": source,
                "mounted_at": [_mount_text(m) for m in used],
                "verdict": verdict,
                "reason": reason,
            }
        )
    return rows


@check("TF06-NO-LOCAL-STATE")
def no_local_state(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_task_definitions(inv)
    for td in inv.rows("task_definitions"):
        volumes = classify_volumes(raw.get(td["task_definition_arn"], {}))
        bad = [v for v in volumes if v["verdict"] in STATE_VERDICTS]
        sockets = [v for v in volumes if "container runtime" in v["reason"]]
        evidence = {"volumes": volumes, "in_use": bool(td["in_use"])}
        if bad:
            yield td_result(
                td,
                Status.FAIL,
                f"Task definition {td_id(td)} keeps state outside backing services: "
                + "; ".join(v["reason"] for v in bad)
                + ".",
                evidence,
            )
            continue
        if not volumes:
            message = f"Task definition {td_id(td)} declares no volumes: nothing outlives a task."
        else:
            message = (
                f"Task definition {td_id(td)} keeps nothing on its instances: none of its "
                f"{len(volumes)} volume(s) is a writable host path, a shared Docker volume or "
                "unencrypted EFS"
                + (
                    f" (but it mounts {sockets[0]['source']}: see the evidence)."
                    if sockets
                    else "."
                )
            )
        yield td_result(td, Status.PASS, message, evidence)


# -- TF06-READONLY-ROOT ----------------------------------------------------------------------
def _os_family(raw_td: dict[str, Any]) -> str:
    return ((raw_td.get("runtimePlatform") or {}).get("operatingSystemFamily") or "").upper()


@check("TF06-READONLY-ROOT")
def readonly_root(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_task_definitions(inv)
    for c in inv.rows("containers"):
        writable = [
            f"{m['containerPath']}"
            for m in json.loads(c["mount_points"] or "[]")
            if not m.get("readOnly")
        ]
        evidence = {"essential": bool(c["essential"]), "writable_mounts": writable}
        family = _os_family(raw.get(c["task_definition_arn"], {}))
        if family.startswith("WINDOWS"):
            yield container_result(
                c,
                Status.SKIP,
                f"Container {container_id(c)} runs on Windows, where ECS does not support a "
                "read-only root filesystem.",
                evidence | {"operating_system_family": family},
            )
        elif c["readonly_root_filesystem"]:
            yield container_result(
                c,
                Status.PASS,
                f"Container {container_id(c)} runs with a read-only root filesystem"
                + (f" and writes only to {', '.join(writable)}." if writable else "."),
                evidence,
            )
        else:
            yield container_result(
                c,
                Status.FAIL,
                f"Container {container_id(c)} can write anywhere in its root filesystem, where "
                "files live only as long as that one task.",
                evidence,
            )


# -- TF06-NO-STICKY-SESSIONS -----------------------------------------------------------------
def _raw_target_groups(inv: Inventory) -> dict[str, dict[str, Any]]:
    return {
        tg["TargetGroupArn"]: tg
        for region in inv.regions
        for tg in inv.snapshot.get(region, "elbv2").get("target_groups") or []
    }


def _fronted_services(inv: Inventory) -> dict[str, list[pd.Series]]:
    """target group ARN -> the ECS services registered with it."""
    out: dict[str, list[pd.Series]] = {}
    for s in inv.rows("services"):
        for arn in json.loads(s["target_group_arns"] or "[]"):
            out.setdefault(arn, []).append(s)
    return out


def _stickiness(attributes: dict[str, str], kind: str) -> dict[str, Any]:
    """The stickiness settings that matter for ``kind`` (lb_cookie, app_cookie, source_ip ...)."""
    out: dict[str, Any] = {"type": kind}
    if kind == "lb_cookie":
        out["duration_seconds"] = attributes.get("stickiness.lb_cookie.duration_seconds", "")
    elif kind == "app_cookie":
        out["cookie_name"] = attributes.get("stickiness.app_cookie.cookie_name", "")
        out["duration_seconds"] = attributes.get("stickiness.app_cookie.duration_seconds", "")
    return out


@check("TF06-NO-STICKY-SESSIONS")
def no_sticky_sessions(inv: Inventory, settings: Settings) -> Iterator[Result]:
    fronted = _fronted_services(inv)
    raw = _raw_target_groups(inv)
    for tg in inv.rows("target_groups"):
        services = fronted.get(tg["target_group_arn"])
        if not services:
            continue  # not in front of an ECS service: not this audit's business
        names = sorted(f"{s['cluster']}/{s['service']}" for s in services)
        # a target group named like no application is placed like the service(s) it fronts
        row = dict(tg)
        for key in ("application", "environment"):
            values = {s[key] for s in services if s[key]}
            if not row[key] and len(values) == 1:
                row[key] = values.pop()
        evidence: dict[str, Any] = {"services": names}
        attributes = (raw.get(tg["target_group_arn"]) or {}).get("attributes")
        if attributes is None:
            yield _tg_result(
                row,
                Status.ERROR,
                f"Could not read the attributes of target group {tg['target_group']}, so its "
                "stickiness is unknown.",
                evidence,
            )
        elif tg["stickiness_enabled"]:
            sticky = _stickiness(attributes, tg["stickiness_type"])
            duration = sticky.get("duration_seconds")
            yield _tg_result(
                row,
                Status.FAIL,
                f"Target group {tg['target_group']} pins each client to one task of "
                f"{', '.join(names)} ({tg['stickiness_type'] or 'sticky'} stickiness"
                + (f" for {duration} s)." if duration else ")."),
                evidence | {"stickiness": sticky},
            )
        else:
            yield _tg_result(
                row,
                Status.PASS,
                f"Target group {tg['target_group']} spreads requests over the tasks of "
                f"{', '.join(names)} without sticky sessions.",
                evidence | {"stickiness": None},
            )


def _tg_result(row: dict[str, Any], status: Status, message: str, evidence: dict) -> Result:
    return result(
        row,
        status,
        message,
        resource_type="AwsElbv2TargetGroup",
        resource_id=row["target_group"],
        resource_arn=row["target_group_arn"],
        evidence=evidence,
    )


# -- TF06-ONE-PROCESS ------------------------------------------------------------------------
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})
#: Minimal inits that run ONE child (signal forwarding, zombie reaping): look at the child.
INITS = frozenset({"tini", "tini-static", "dumb-init", "docker-init", "catatonit"})
INIT_OPTIONS_WITH_VALUE = frozenset({"-p", "-e", "-r", "--rewrite"})
#: Process managers: they start, restart or multiply processes inside the container.
MANAGERS = frozenset(
    {
        "supervisord",
        "s6-svscan",
        "s6-supervise",
        "runsvdir",
        "runsv",
        "pm2",
        "pm2-runtime",
        "pm2-docker",
        "forever",
        "circusd",
        "honcho",
        "foreman",
        "overmind",
        "multirun",
        "concurrently",
        "run-p",
        "monit",
        "systemd",
    }
)
INIT_SYSTEMS = {"/init": "s6-overlay (/init)", "/sbin/init": "an init system (/sbin/init)"}
#: Programs that put themselves in the background unless given the flag that keeps them in the
#: foreground.
SELF_DAEMONISING = {
    "cron": "-f",
    "crond": "-f",
    "atd": "-f",
    "sshd": "-D",
    "rsyslogd": "-n",
    "syslogd": "-n",
    "dbus-daemon": "--nofork",
}
SERVICE_STARTERS = frozenset({"service", "rc-service", "systemctl", "apachectl", "apache2ctl"})
POSITIONAL = frozenset({"$@", "$*", "${@}", "${*}"})
IDLE = frozenset({"wait", "true", ":", "set", "export", "cd", "trap", "echo", "printf", "umask"})
_OPS = re.compile(r"&>>?|[0-9]*[<>]{1,2}&?|&&|\|\||\|&|;;|[;&|]")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class Analysis:
    """What a command line leaves running: ``resident`` processes (backgrounded or
    daemonised) plus the ``final`` foreground one; process ``managers`` among them; ``setup``
    steps that run to completion first; an ``opaque`` script whose content is not visible."""

    resident: list[str] = field(default_factory=list)
    final: str | None = None
    managers: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    opaque: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def processes(self) -> list[str]:
        return self.resident + ([self.final] if self.final else [])


def _short(words: list[str], limit: int = 80) -> str:
    text = " ".join(words)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unwrap(argv: list[str]) -> list[str]:
    """argv without wrappers that exec one program: exec, env, nohup, gosu, tini ..."""
    argv = list(argv)
    while argv:
        head = posixpath.basename(argv[0])
        if _ASSIGNMENT.match(argv[0]) or head in {"exec", "nohup", "time", "stdbuf", "npx"}:
            argv = argv[1:]
        elif head == "env":
            argv = argv[1:]
            while argv and (argv[0].startswith("-") or _ASSIGNMENT.match(argv[0])):
                argv = argv[2:] if argv[0] in {"-u", "--unset", "-C", "--chdir"} else argv[1:]
        elif head == "nice":
            argv = argv[1:]
            if argv[:1] == ["-n"]:
                argv = argv[2:]
            elif argv and argv[0].startswith("-"):
                argv = argv[1:]
        elif head in {"gosu", "su-exec", "setuidgid", "s6-setuidgid"}:
            argv = argv[2:]
        elif head in INITS:
            if "--" in argv:
                argv = argv[argv.index("--") + 1 :]
                continue
            argv = argv[1:]
            while argv and argv[0].startswith("-"):
                argv = argv[2:] if argv[0] in INIT_OPTIONS_WITH_VALUE else argv[1:]
        else:
            break
    return argv


def _manager(argv: list[str]) -> str:
    prog = argv[0]
    if prog in INIT_SYSTEMS:
        return INIT_SYSTEMS[prog]
    base = posixpath.basename(prog)
    if base in MANAGERS:
        return base
    if base == "npm-run-all" and any(a in {"-p", "--parallel"} for a in argv[1:]):
        return "npm-run-all --parallel"
    return ""


def _daemonises(argv: list[str]) -> bool:
    base, args = posixpath.basename(argv[0]), argv[1:]
    if base in SELF_DAEMONISING:
        return SELF_DAEMONISING[base] not in args
    if base in SERVICE_STARTERS or argv[0].startswith("/etc/init.d/"):
        return any(a in {"start", "restart", "graceful"} for a in args)
    if base in {"httpd", "apache2"}:
        return "start" in args and "-k" in args
    if base == "nginx":
        return "daemon off;" not in " ".join(args) and not {"-s", "-t", "-T", "-v"} & set(args)
    if base == "start-stop-daemon":
        return "--start" in args or "-S" in args
    if re.fullmatch(r"php-fpm[0-9.]*", base):
        return "-D" in args or "--daemonize" in args
    if base == "memcached":
        return "-d" in args
    for i, a in enumerate(args):
        if a in {"--daemon", "--daemonize", "-daemon"}:
            return args[i + 1 : i + 2] not in (["no"], ["false"])
        if a in {"--daemonize=yes", "--daemon=true", "--daemonize=true"}:
            return True
    return False


def _shell(argv: list[str]) -> tuple[str, str, list[str]]:
    """How a shell is started: ("script", text, positional) for ``sh -c``, ("file", path, [])
    for ``sh script.sh``, ("", "", []) for neither (an interactive shell)."""
    args, has_c = argv[1:], False
    while args and args[0].startswith(("-", "+")) and args[0] != "--":
        if args[0] in {"-o", "+o"}:
            args = args[2:]
            continue
        has_c = has_c or (not args[0].startswith("--") and "c" in args[0][1:])
        args = args[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        return "", "", []
    if has_c:
        return "script", args[0], args[2:]  # args[1] is $0
    return "file", args[0], []


def _pipelines(script: str) -> list[tuple[list[list[str]], bool]]:
    """The steps of a shell script: (commands of one pipeline, run in the background?)."""
    lex = shlex.shlex(script, posix=True, punctuation_chars="();<>|&\n")
    lex.whitespace = " \t\r"
    lex.whitespace_split = True
    lex.commenters = ""
    steps: list[tuple[list[list[str]], bool]] = []
    pipeline: list[list[str]] = [[]]
    skip_next = False

    def flush(background: bool) -> None:
        nonlocal pipeline
        commands = [c for c in pipeline if c]
        if commands:
            steps.append((commands, background))
        pipeline = [[]]

    for token in lex:
        if token and all(ch in "();<>|&\n" for ch in token):
            for op in _OPS.findall(token.replace("\n", ";")):
                if op == "&":
                    flush(True)
                elif op in {";", ";;", "&&", "||"}:
                    flush(False)
                elif op in {"|", "|&"}:
                    pipeline.append([])
                else:  # a redirection: drop its file descriptor and its target ("2>&1")
                    if pipeline[-1] and pipeline[-1][-1].isdigit():
                        pipeline[-1].pop()
                    skip_next = True
            continue
        if skip_next:
            skip_next = False
            continue
        if token in {"{", "}"}:
            continue
        pipeline[-1].append(token)
    flush(False)
    return steps


def analyse_command(argv: list[str], depth: int = 0) -> Analysis:
    """What ``argv`` (entryPoint + command) keeps running, read the way a shell would.

    The rule: sequential steps (``a && b``, ``a; b``, ``a || b``) run one after the other, so
    ``sh -c "migrate && exec app"`` leaves ONE process; a step ended by ``&``, or a program that
    daemonises itself (``service x start``, ``cron``, ``nginx`` without ``daemon off;`` ...),
    stays running next to the final foreground step. ``wait`` and shell builtins are not
    processes; a pipeline counts as one. Minimal inits (tini, dumb-init) and wrappers (exec,
    env, gosu, nohup) are looked through. A script file is opaque.
    """
    argv = _unwrap(argv)
    if not argv:
        return Analysis()
    base = posixpath.basename(argv[0])
    if base in SHELLS and depth < 4:
        kind, text, positional = _shell(argv)
        if kind == "script":
            return _analyse_script(text, positional, depth + 1)
        if kind == "file":
            return Analysis(final=_short(argv), opaque=text)
        return Analysis(final=_short(argv), opaque=argv[0])
    manager = _manager(argv)
    if manager:
        return Analysis(final=_short(argv), managers=[manager])
    if base.endswith(".sh"):
        # an entry-point script conventionally ends with exec "$@": judge its arguments too
        sub = (
            analyse_command(argv[1:], depth + 1)
            if argv[1:] and not argv[1].startswith("-")
            else Analysis()
        )
        return Analysis(
            resident=sub.resident,
            final=sub.final or _short(argv),
            managers=sub.managers,
            opaque=argv[0],
            notes=sub.notes,
        )
    return Analysis(final=_short(argv))


def _analyse_script(script: str, positional: list[str], depth: int) -> Analysis:
    try:
        steps = _pipelines(script)
    except ValueError:  # unbalanced quotes: not something a shell would run either
        return Analysis(final=_short([script]), opaque="an unparsable shell script")
    out = Analysis()
    for i, (commands, background) in enumerate(steps):
        commands = [
            [w for word in c for w in (positional if word in POSITIONAL else [word])]
            for c in commands
        ]
        last = i == len(steps) - 1
        text = " | ".join(_short(c, 60) for c in commands)
        if len(commands) > 1:
            out.notes.append(f"pipeline: {text}")
        for c in commands[1:]:
            manager = _manager(_unwrap(c) or [""])
            out.managers += [manager] if manager else []
        head = _unwrap(commands[0])
        if not head or posixpath.basename(head[0]) in IDLE:
            continue
        sub = analyse_command(head, depth)
        out.managers += sub.managers
        out.notes += sub.notes
        if background:
            out.resident += [f"{p} &" for p in sub.processes]
            out.opaque = out.opaque or sub.opaque
        elif _daemonises(head):
            out.resident.append(f"{_short(head)} (daemonises)")
        elif last:
            out.resident += sub.resident
            out.final = sub.final
            out.opaque = out.opaque or sub.opaque
        else:
            out.resident += sub.resident
            out.setup.append(text)
            if sub.opaque:
                out.notes.append(f"setup step {sub.opaque} not read")
    return out


@check("TF06-ONE-PROCESS")
def one_process(inv: Inventory, settings: Settings) -> Iterator[Result]:
    raw = _raw_task_definitions(inv)
    for c in inv.rows("containers"):
        definition = next(
            (
                d
                for d in raw.get(c["task_definition_arn"], {}).get("containerDefinitions") or []
                if d.get("name") == c["container"]
            ),
            {},
        )
        entry = [str(a) for a in definition.get("entryPoint") or []]
        command = [str(a) for a in definition.get("command") or []]
        argv = entry + command
        who = f"Container {container_id(c)}"
        if not argv:
            yield container_result(
                c,
                Status.SKIP,
                f"{who} runs its image's own ENTRYPOINT/CMD, which the task definition does not "
                "show.",
                {"entry_point": [], "command": []},
            )
            continue
        if not entry and command[0].startswith("-"):
            yield container_result(
                c,
                Status.SKIP,
                f"{who} only passes options ({_short(command, 40)}) to its image's entry point, "
                "which the task definition does not show.",
                {"entry_point": [], "command": command},
            )
            continue
        a = analyse_command(argv)
        evidence = {
            "entry_point": entry,
            "command": command,
            "processes": a.processes,
            "managers": a.managers,
            "setup_steps": a.setup,
        } | ({"notes": a.notes} if a.notes else {})
        if a.managers:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} runs a process manager ({', '.join(a.managers)}) that starts and restarts "
                "processes inside the container, out of ECS's sight.",
                evidence,
            )
        elif len(a.processes) > 1:
            yield container_result(
                c,
                Status.FAIL,
                f"{who} keeps {len(a.processes)} processes running side by side: "
                + "; ".join(a.processes)
                + ".",
                evidence,
            )
        elif a.opaque:
            yield container_result(
                c,
                Status.SKIP,
                f"{who} starts the script {a.opaque}, whose content the audit cannot read.",
                evidence | {"opaque": a.opaque},
            )
        elif not a.processes:
            yield container_result(
                c,
                Status.SKIP,
                f"{who} leaves no long-running process in its command line.",
                evidence,
            )
        else:
            yield container_result(
                c,
                Status.PASS,
                f"{who} runs one process in the foreground: {a.processes[0]}"
                + (f", after {len(a.setup)} setup step(s)." if a.setup else "."),
                evidence,
            )


# -- TF06-EPHEMERAL-STORAGE ------------------------------------------------------------------
def _launch_types(inv: Inventory) -> dict[str, set[str]]:
    """task definition ARN -> how services run it: FARGATE, EC2, EXTERNAL (capacity providers
    named FARGATE* count as FARGATE, any other as EC2)."""
    out: dict[str, set[str]] = {}
    for region in inv.regions:
        for s in inv.snapshot.get(region, "ecs").get("services") or []:
            kinds = out.setdefault(s.get("taskDefinition", ""), set())
            if s.get("launchType"):
                kinds.add(s["launchType"])
            for p in s.get("capacityProviderStrategy") or []:
                name = p.get("capacityProvider", "")
                kinds.add("FARGATE" if name.startswith("FARGATE") else "EC2")
    return out


@check("TF06-EPHEMERAL-STORAGE")
def ephemeral_storage(inv: Inventory, settings: Settings) -> Iterator[Result]:
    launch = _launch_types(inv)
    for td in inv.rows("task_definitions"):
        runs_on = launch.get(td["task_definition_arn"], set())
        required = {r.strip() for r in td["requires_compatibilities"].split(",") if r.strip()}
        fargate = "FARGATE" in runs_on or (not runs_on and "FARGATE" in required)
        size = None if pd.isna(td["ephemeral_storage_gib"]) else int(td["ephemeral_storage_gib"])
        evidence = {
            "ephemeral_storage_gib": size,
            "launch": sorted(runs_on or required),
            "in_use": bool(td["in_use"]),
        }
        if not fargate:
            yield td_result(
                td,
                Status.SKIP,
                f"Task definition {td_id(td)} runs on EC2, where scratch space is the "
                "instance's disk and not set in the task definition (host mounts are judged by "
                "TF06-NO-LOCAL-STATE).",
                evidence,
            )
        elif size is None or size <= DEFAULT_EPHEMERAL_GIB:
            yield td_result(
                td,
                Status.PASS,
                f"Task definition {td_id(td)} keeps Fargate's default {DEFAULT_EPHEMERAL_GIB} GiB "
                "of ephemeral storage.",
                evidence,
            )
        elif size <= EPHEMERAL_HINT_GIB:
            yield td_result(
                td,
                Status.PASS,
                f"Task definition {td_id(td)} asks for {size} GiB of ephemeral storage, a little "
                f"above the {DEFAULT_EPHEMERAL_GIB} GiB default (room for large images or "
                "temporary files).",
                evidence,
            )
        else:
            yield td_result(
                td,
                Status.FAIL,
                f"Task definition {td_id(td)} asks for {size} GiB of ephemeral storage "
                f"({DEFAULT_EPHEMERAL_GIB} GiB is the default), a hint that it keeps a local "
                "store or cache that a stateless process would keep in a backing service.",
                evidence,
            )


# -- evidence tables -------------------------------------------------------------------------
def _rows(wb: Workbook, check_id: str) -> Iterator[tuple[pd.Series, dict[str, Any]]]:
    """(finding, its evidence) of one check, without the engine's '*' and gap rows."""
    for _, f in wb.findings_for(check_id=check_id).iterrows():
        if f["resource_id"] != "*" and "missing_action" not in f["evidence"]:
            yield f, json.loads(f["evidence"])


def _place(f: pd.Series) -> dict[str, str]:
    return {k: f[k] for k in PLACE}


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


@evidence("TF06-NO-LOCAL-STATE")
def _volume_table(wb: Workbook) -> pd.DataFrame:
    """Every volume of every judged task definition, with where it is mounted and the verdict."""
    rows = [
        _place(f)
        | {"task_definition": f["resource_id"], "status": f["status"]}
        | v
        | {"mounted_at": ", ".join(v["mounted_at"])}
        for f, ev in _rows(wb, "TF06-NO-LOCAL-STATE")
        for v in ev.get("volumes", [])
    ]
    cols = PLACE + ["task_definition", "volume", "kind", "source", "mounted_at", "verdict"]
    return _frame(rows, [*cols, "reason"])


@evidence("TF06-READONLY-ROOT")
def _readonly_table(wb: Workbook) -> pd.DataFrame:
    """Each container: read-only root or not, and the paths it may still write to."""
    rows = [
        _place(f)
        | {
            "container": f["resource_id"],
            "status": f["status"],
            "essential": ev.get("essential"),
            "writable_mounts": ", ".join(ev.get("writable_mounts", [])),
            "in_use": ev.get("in_use"),
        }
        for f, ev in _rows(wb, "TF06-READONLY-ROOT")
    ]
    cols = ["container", "status", "essential", "writable_mounts", "in_use"]
    return _frame(rows, PLACE + cols)


@evidence("TF06-NO-STICKY-SESSIONS")
def _sticky_table(wb: Workbook) -> pd.DataFrame:
    """Target groups in front of ECS services, with their stickiness settings."""
    rows = []
    for f, ev in _rows(wb, "TF06-NO-STICKY-SESSIONS"):
        sticky = ev.get("stickiness") or {}
        rows.append(
            _place(f)
            | {
                "target_group": f["resource_id"],
                "services": ", ".join(ev.get("services", [])),
                "status": f["status"],
                "stickiness": sticky.get("type", "off" if f["status"] == "PASS" else "?"),
                "duration_seconds": sticky.get("duration_seconds", ""),
                "cookie_name": sticky.get("cookie_name", ""),
            }
        )
    cols = ["target_group", "services", "status", "stickiness", "duration_seconds", "cookie_name"]
    return _frame(rows, PLACE + cols)


@evidence("TF06-ONE-PROCESS")
def _process_table(wb: Workbook) -> pd.DataFrame:
    """Each container's command line and what it leaves running."""
    rows = [
        _place(f)
        | {
            "container": f["resource_id"],
            "status": f["status"],
            "command_line": shlex.join(ev.get("entry_point", []) + ev.get("command", [])),
            "processes": " ; ".join(ev.get("processes", [])),
            "managers": ", ".join(ev.get("managers", [])),
            "setup_steps": " ; ".join(ev.get("setup_steps", [])),
        }
        for f, ev in _rows(wb, "TF06-ONE-PROCESS")
    ]
    cols = ["container", "status", "command_line", "processes", "managers", "setup_steps"]
    return _frame(rows, PLACE + cols)


@evidence("TF06-EPHEMERAL-STORAGE")
def _ephemeral_table(wb: Workbook) -> pd.DataFrame:
    """Each task definition's launch type and ephemeral storage (empty: the default)."""
    rows = [
        _place(f)
        | {
            "task_definition": f["resource_id"],
            "status": f["status"],
            "launch": ", ".join(ev.get("launch", [])),
            "ephemeral_storage_gib": ev.get("ephemeral_storage_gib"),
            "in_use": ev.get("in_use"),
        }
        for f, ev in _rows(wb, "TF06-EPHEMERAL-STORAGE")
    ]
    cols = ["task_definition", "status", "launch", "ephemeral_storage_gib", "in_use"]
    table = _frame(rows, PLACE + cols)
    table["ephemeral_storage_gib"] = table["ephemeral_storage_gib"].astype("Int64")
    return table


@plot("process-matrix")
def process_matrix(wb: Workbook) -> Figure:
    """Factor VI per application and environment."""
    return factor_matrix(wb, FACTOR, CHECK_IDS, "Factor VI per application and environment")


@plot("ephemeral-storage")
def ephemeral_storage_bars(wb: Workbook) -> Figure:
    """Ephemeral storage per Fargate task definition, against the default and the hint line."""
    table = wb.evidence("TF06-EPHEMERAL-STORAGE")
    table = table[table["status"] != "SKIP"].copy()
    fig = Figure(figsize=(8, 0.35 * max(len(table), 3) + 1.3), layout="constrained")
    ax = fig.subplots()
    if table.empty:
        empty_axes(ax, "no Fargate task definitions")
        return fig
    table["gib"] = table["ephemeral_storage_gib"].fillna(DEFAULT_EPHEMERAL_GIB).astype(float)
    table = table.sort_values(["gib", "task_definition"])
    ax.barh(
        table["task_definition"],
        table["gib"],
        color=[STATUS_COLOURS.get(s, "#999999") for s in table["status"]],
    )
    ax.axvline(DEFAULT_EPHEMERAL_GIB, color="#000000", linestyle=":", linewidth=1)
    ax.axvline(EPHEMERAL_HINT_GIB, color="#E69F00", linestyle="--", linewidth=1.5)
    top = ax.get_xaxis_transform()  # x in data units, y in axes units
    ax.text(DEFAULT_EPHEMERAL_GIB, 1.01, "default ", fontsize=8, ha="right", transform=top)
    ax.text(
        EPHEMERAL_HINT_GIB, 1.01, f" hint above {EPHEMERAL_HINT_GIB}", fontsize=8, transform=top
    )
    ax.set_xlabel("ephemeral storage (GiB); green: default or modest · vermillion: a hint")
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
