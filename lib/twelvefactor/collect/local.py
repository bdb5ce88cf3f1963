"""Local source repositories: metadata about dependencies and .env files, for factor II.

``collect_repos(paths)`` walks each folder once and records *what exists*, never what a secret
is: Dockerfile ``FROM`` lines (and whether each base image is pinned by digest), dependency
manifests and whether a lock file pins them (for ``requirements.txt``, the requirement lines
that are not pinned with ``==``), the ``.env``-style files in the tree and whether the
repository's ignore rules cover them. The contents of ``.env`` files are never opened.

A folder that is the top of a git work tree is asked through git (``git ls-files`` for tracked
``.env`` files, ``git check-ignore`` for ignore rules), with a timeout and never a network call.
Any other folder -- including a sub-folder of a larger work tree, like the demo's fixtures inside
this project -- is read as a plain folder: its own ``.gitignore`` files, parsed simply.

The result is JSON-like (lists sorted, paths relative to each repository) and is redacted by the
caller before it is kept in a snapshot.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

#: Folders never walked: dependencies, virtualenvs, caches and build output.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".terraform",
        ".gradle",
        ".next",
        ".idea",
        "site-packages",
        "vendor",
        "target",
        "dist",
        "build",
    }
)
MAX_FILES = 50_000  # files looked at per repository before the walk stops (recorded as truncated)
MAX_DEPTH = 12
MAX_READ = 1_000_000  # bytes read of a manifest or Dockerfile at most
GIT_TIMEOUT = 20  # seconds per git command
MAX_LISTED = 50  # unpinned lines kept per requirements file

#: Suffixes of .env files that document variables rather than hold them.
EXAMPLE_SUFFIXES = (".example", ".sample", ".template", ".tmpl", ".dist", ".schema")
#: Lock files by ecosystem (looked for beside the manifest or, for workspaces, above it).
NODE_LOCKS = (
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
)
PYTHON_LOCKS = ("poetry.lock", "uv.lock", "pdm.lock", "pylock.toml", "Pipfile.lock")
DIGEST_RE = re.compile(r"@sha(?:256|384|512):[0-9a-fA-F]{32,}")
ARG_RE = re.compile(r"\$\{([A-Za-z_]\w*)(?::?[-+]([^}]*))?\}|\$([A-Za-z_]\w*)")
URL_USERINFO_RE = re.compile(r"(://)[^/@\s]+@")


# -- the entry point -----------------------------------------------------------------------------
def collect_repos(paths: Iterable[str | os.PathLike[str]]) -> dict[str, Any]:
    """Metadata of every folder in ``paths`` (see the module docstring), one entry each."""
    folders = [Path(p).expanduser().resolve() for p in paths]
    names = _unique_names(folders)
    repositories = []
    for folder, name in zip(folders, names, strict=True):
        if not folder.is_dir():
            repositories.append(
                {
                    "repository": name,
                    "path": str(folder),
                    "errors": [_problem("repository", "", "not a directory")],
                }
            )
            continue
        repositories.append(read_repo(folder, name))
    return {"repositories": repositories}


def _unique_names(folders: list[Path]) -> list[str]:
    """Folder names, with the parent's name prefixed where two folders share a name."""
    counts: dict[str, int] = {}
    for f in folders:
        counts[f.name] = counts.get(f.name, 0) + 1
    return [f"{f.parent.name}/{f.name}" if counts[f.name] > 1 else f.name for f in folders]


def read_repo(root: Path, name: str | None = None) -> dict[str, Any]:
    """Everything factor II wants to know about one folder."""
    errors: list[dict[str, str]] = []
    files, truncated = _walk(root)
    git = _git_info(root, errors)
    dockerfiles = [
        {"path": rel, "stages": dockerfile_from_lines(_read(root / rel, errors, rel))}
        for rel in files
        if is_dockerfile(PurePosixPath(rel).name)
    ]
    manifests = _manifests(root, files, errors)
    ignore_files = sorted(f for f in files if PurePosixPath(f).name == ".gitignore")
    if git["work_tree"]:
        rules = None  # git itself answers
        probe = _git_ignored(root, [".env"], errors)
        dotenv_ignored = None if probe is None else ".env" in probe
    else:
        rules = _ignore_rules(root, ignore_files, errors)
        dotenv_ignored = path_ignored(rules, ".env")
    env_files = _env_files(root, files, rules, errors)
    return {
        "repository": name or root.name,
        "path": str(root),
        "git": git,
        "truncated": truncated,
        "files_seen": len(files),
        "dockerfiles": dockerfiles,
        "manifests": manifests,
        "ignore_files": ignore_files,
        "dotenv_ignored": dotenv_ignored,
        "env_files": env_files,
        "errors": errors,
    }


# -- walking -------------------------------------------------------------------------------------
def _walk(root: Path) -> tuple[list[str], bool]:
    """Relative POSIX paths of the files under ``root`` (pruned, bounded), sorted."""
    out: list[str] = []
    truncated = False
    for current, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(current).relative_to(root)
        depth = len(rel_dir.parts)
        # a folder called ".env" is a virtualenv, not a dotenv file
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and d != ".env" and depth < MAX_DEPTH
        )
        for f in sorted(filenames):
            if len(out) >= MAX_FILES:
                truncated = True
                break
            out.append((rel_dir / f).as_posix())
        if truncated:
            break
    return sorted(out), truncated


def _problem(scope: str, path: str, detail: str) -> dict[str, str]:
    """A problem met while reading: scope is repository, read, parse or git."""
    return {"scope": scope, "path": path, "detail": detail}


def _read(path: Path, errors: list[dict[str, str]], rel: str) -> str:
    if path.is_symlink():  # never follow a link out of the repository
        errors.append(_problem("read", rel, "a symbolic link, not followed"))
        return ""
    try:
        with path.open("rb") as fh:
            return fh.read(MAX_READ).decode("utf-8", errors="replace")
    except OSError as exc:
        errors.append(_problem("read", rel, exc.strerror or type(exc).__name__))
        return ""


# -- Dockerfiles ---------------------------------------------------------------------------------
def is_dockerfile(name: str) -> bool:
    lower = name.lower()
    return (
        lower in {"dockerfile", "containerfile"}
        or lower.startswith(("dockerfile.", "containerfile."))
        or lower.endswith((".dockerfile", ".containerfile"))
    )


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, instruction) with continuations joined and comments dropped."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue  # comments inside a continued instruction are skipped by Docker too
        if not buf:
            start = number
        if line.endswith("\\"):
            buf.append(line[:-1].strip())
            continue
        buf.append(line)
        out.append((start, " ".join(b for b in buf if b)))
        buf = []
    if buf:
        out.append((start, " ".join(b for b in buf if b)))
    return out


def dockerfile_from_lines(text: str) -> list[dict[str, Any]]:
    """The base images of a Dockerfile, one entry per FROM that names an image.

    ``ARG`` defaults declared before a FROM are substituted; a reference to an earlier stage
    (``FROM build``) and ``scratch`` are not images and are left out. ``pinned`` means the
    reference carries a digest (``@sha256:...``); ``unresolved`` that a variable had no default.
    """
    args: dict[str, str] = {}
    aliases: set[str] = set()
    out: list[dict[str, Any]] = []
    seen_from = False
    for number, line in _logical_lines(text):
        keyword, *more = line.split(None, 1)
        keyword, rest = keyword.upper(), more[0] if more else ""
        if keyword == "ARG" and not seen_from:  # only ARGs before the first FROM reach FROMs
            for item in rest.split():
                key, eq, value = item.partition("=")
                if key and not key.startswith("-"):
                    args[key] = value.strip("\"'") if eq else args.get(key, "")
            continue
        if keyword != "FROM":
            continue
        seen_from = True
        tokens = [t for t in rest.split() if not t.startswith("--")]
        if not tokens:
            continue
        alias = tokens[2].lower() if len(tokens) >= 3 and tokens[1].lower() == "as" else ""
        image, unresolved = _substitute(tokens[0], args)
        stage = image.lower() in aliases
        if alias:
            aliases.add(alias)
        if stage or image.lower() == "scratch":
            continue
        out.append(
            {
                "line": number,
                "image": image,
                "pinned": bool(DIGEST_RE.search(image)),
                "alias": alias,
                "unresolved": unresolved,
            }
        )
    return out


def _substitute(ref: str, args: dict[str, str]) -> tuple[str, bool]:
    unresolved = False

    def value(m: re.Match[str]) -> str:
        nonlocal unresolved
        name, default = m.group(1) or m.group(3), m.group(2)
        if args.get(name):
            return args[name]
        if default is not None:
            return default
        unresolved = True
        return m.group(0)

    return ARG_RE.sub(value, ref), unresolved


# -- dependency manifests ------------------------------------------------------------------------
def _manifests(root: Path, files: list[str], errors: list[dict[str, str]]) -> list[dict[str, Any]]:
    present = set(files)
    out: list[dict[str, Any]] = []
    for rel in files:
        path = PurePosixPath(rel)
        reader = MANIFESTS.get(path.name)
        if reader is None:
            continue
        text = _read(root / rel, errors, rel)
        entry = {"path": rel} | reader(root, path, text, present, errors)
        out.append(entry)
    return out


def _beside_or_above(path: PurePosixPath, names: Iterable[str], present: set[str]) -> list[str]:
    """Lock files named ``names`` beside ``path`` or in a folder above it (workspaces)."""
    names = tuple(names)
    folder = path.parent
    while True:
        found = [
            (folder / n).as_posix().removeprefix("./")
            for n in names
            if (folder / n).as_posix().removeprefix("./") in present
        ]
        if found:
            return found
        if folder == folder.parent or str(folder) in {"", "."}:
            return []
        folder = folder.parent


def _beside(path: PurePosixPath, names: Iterable[str], present: set[str]) -> list[str]:
    return [
        (path.parent / n).as_posix().removeprefix("./")
        for n in names
        if (path.parent / n).as_posix().removeprefix("./") in present
    ]


def _entry(ecosystem: str, declares: bool | None, locks: list[str], how: str = "") -> dict:
    return {
        "ecosystem": ecosystem,
        "declares_dependencies": declares,
        "lock_files": locks,
        "locked": bool(locks) or declares is False,
        "how": how or (f"lock file {', '.join(locks)}" if locks else ""),
        "unpinned": [],
    }


def requirement_unpinned(line: str) -> bool | None:
    """True for a requirement not pinned to one version, False when pinned, None for no
    requirement (blank, comment, option, include, local path)."""
    text = line.split(" #", 1)[0].strip()
    if not text or text.startswith("#"):
        return None
    editable = re.match(r"^(?:-e|--editable)(?:\s+|=)(.+)$", text)
    if editable:
        target = editable.group(1).strip()
        if target.startswith((".", "/", "file:")):
            return None  # the project itself, or a folder of the repository
        return not _direct_reference_pinned(target)
    if text.startswith("-"):
        return None  # -r/-c includes, --index-url and other options
    if text.startswith((".", "/", "file:")):
        return None
    requirement = re.split(r"\s--", text, maxsplit=1)[0]  # drop --hash=... options
    requirement = requirement.split(";", 1)[0].strip()  # drop environment markers
    if "://" in requirement or " @ " in requirement or requirement.startswith("git+"):
        return not _direct_reference_pinned(requirement)
    match = re.search(r"===?\s*([^\s,]+)", requirement)
    return not (match and "*" not in match.group(1) and "," not in requirement)


def _direct_reference_pinned(ref: str) -> bool:
    return bool(re.search(r"@[0-9a-f]{40}\b|#sha(256|384|512)=", ref))


def _requirement_name(line: str) -> str:
    """The normalised project name a requirement line starts with ("" for none)."""
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else ""


def _requirements_lines(
    root: Path,
    path: PurePosixPath,
    text: str,
    errors: list[dict[str, str]],
    seen: set[str],
    constrained: set[str] | None = None,
) -> list[str]:
    """Unpinned requirement lines of ``path`` and of the files it includes with -r.

    Names pinned with == in a constraints file (-c) count as pinned wherever they appear.
    """
    seen.add(path.as_posix())
    constrained = set() if constrained is None else constrained
    lines = [raw.strip() for raw in text.replace("\\\n", " ").splitlines()]
    includes: list[tuple[str, PurePosixPath]] = []
    for line in lines:
        include = re.match(r"^(-r|-c|--requirement|--constraint)[\s=]+(\S+)", line)
        if not include:
            continue
        target = PurePosixPath(os.path.normpath((path.parent / include.group(2)).as_posix()))
        rel = target.as_posix()
        if (
            rel in seen
            or rel.startswith("..")
            or len(seen) > 20
            or not (root / rel).is_file()
            # never follow an include out of the repository (absolute paths, symlinked folders)
            or not (root / rel).resolve().is_relative_to(root.resolve())
        ):
            continue
        kind = "constraint" if include.group(1) in {"-c", "--constraint"} else "requirement"
        includes.append((kind, target))
        if kind == "constraint":
            seen.add(rel)
            constrained |= {
                _requirement_name(x)
                for x in _read(root / rel, errors, rel).splitlines()
                if requirement_unpinned(x) is False
            }
    out: list[str] = []
    for kind, target in includes:
        if kind == "requirement":
            rel = target.as_posix()
            text = _read(root / rel, errors, rel)
            out += _requirements_lines(root, target, text, errors, seen, constrained)
    for line in lines:
        if requirement_unpinned(line) and _requirement_name(line) not in constrained:
            shown = URL_USERINFO_RE.sub(r"\1***@", line.split(" #", 1)[0].strip())
            # a pre-signed URL's query string is a credential too
            shown = re.sub(r"(://[^\s?#]*)\?[^\s#]*", r"\1?***", shown)
            out.append(shown if path.name == "requirements.txt" else f"{path.as_posix()}: {shown}")
    return out


def _requirements(root, path, text, present, errors) -> dict:
    unpinned = _requirements_lines(root, path, text, errors, set())
    declares = any(
        requirement_unpinned(line) is not None for line in text.replace("\\\n", " ").splitlines()
    ) or bool(re.search(r"^\s*(-r|--requirement)\b", text, re.M))
    entry = _entry("python", declares, [])
    if not unpinned and declares:
        entry |= {"locked": True, "how": "every requirement pinned with =="}
    else:
        entry |= {"locked": not declares, "unpinned": unpinned[:MAX_LISTED]}
        entry["unpinned_count"] = len(unpinned)
    return entry


def _pinned_requirements_beside(root, path, present, errors) -> bool:
    beside = (path.parent / "requirements.txt").as_posix().removeprefix("./")
    if beside not in present:
        return False
    text = _read(root / beside, errors, beside)
    lines = _requirements_lines(root, PurePosixPath(beside), text, errors, set())
    return not lines and any(requirement_unpinned(x) is False for x in text.splitlines())


def _pyproject(root, path, text, present, errors) -> dict:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        errors.append(_problem("parse", path.as_posix(), f"not valid TOML ({exc})"))
        data = None
    if data is None:
        declares = None
    else:
        project = data.get("project") or {}
        poetry = ((data.get("tool") or {}).get("poetry") or {}).get("dependencies") or {}
        declares = bool(project.get("dependencies")) or any(k != "python" for k in poetry)
    locks = _beside_or_above(path, PYTHON_LOCKS, present)
    entry = _entry("python", declares, locks)
    if not locks and declares and _pinned_requirements_beside(root, path, present, errors):
        entry |= {"locked": True, "how": "a fully pinned requirements.txt beside it"}
    return entry


def _pipfile(root, path, text, present, errors) -> dict:
    return _entry("python", True, _beside(path, ["Pipfile.lock"], present))


def _package_json(root, path, text, present, errors) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        errors.append(_problem("parse", path.as_posix(), f"not valid JSON ({exc.msg})"))
        data = None
    declares = (
        None
        if not isinstance(data, dict)
        else any(data.get(k) for k in ("dependencies", "devDependencies", "optionalDependencies"))
    )
    return _entry("node", declares, _beside_or_above(path, NODE_LOCKS, present))


def _go_mod(root, path, text, present, errors) -> dict:
    declares = bool(re.search(r"^\s*require\b", text, re.M))
    return _entry("go", declares, _beside(path, ["go.sum"], present))


def _gemfile(root, path, text, present, errors) -> dict:
    lock = "gems.locked" if path.name == "gems.rb" else "Gemfile.lock"
    return _entry("ruby", True, _beside(path, [lock], present))


def _composer(root, path, text, present, errors) -> dict:
    try:
        require = json.loads(text).get("require") or {}
        declares = any(k != "php" and not k.startswith("ext-") for k in require)
    except (json.JSONDecodeError, AttributeError):
        declares = None
    return _entry("php", declares, _beside(path, ["composer.lock"], present))


def _cargo(root, path, text, present, errors) -> dict:
    try:
        data = tomllib.loads(text)
        declares = bool(data.get("dependencies")) or bool(
            (data.get("workspace") or {}).get("dependencies")
        )
    except tomllib.TOMLDecodeError:
        declares = None
    return _entry("rust", declares, _beside_or_above(path, ["Cargo.lock"], present))


def _pom(root, path, text, present, errors) -> dict:
    loose = [
        m.group(1).strip()
        for block in re.findall(r"<dependency>(.*?)</dependency>", text, re.S)
        for m in [re.search(r"<version>([^<]*)</version>", block)]
        if m and re.search(r"^[\[(]|SNAPSHOT|LATEST|RELEASE", m.group(1).strip())
    ]
    declares = "<dependency>" in text
    entry = _entry("maven", declares, [])
    if declares and not loose:
        entry |= {"locked": True, "how": "every dependency version is exact"}
    entry |= {"unpinned": loose[:MAX_LISTED]}
    return entry


def _gradle(root, path, text, present, errors) -> dict:
    dynamic = re.findall(r"['\"]([\w.\-]+:[\w.\-]+:[^'\"]*(?:\+|latest\.\w+))['\"]", text)
    locks = _beside_or_above(path, ["gradle.lockfile"], present)
    entry = _entry("gradle", bool(re.search(r"\bdependencies\s*\{", text)), locks)
    if not locks and entry["declares_dependencies"] and not dynamic:
        entry |= {"locked": True, "how": "no dynamic versions"}
    entry |= {"unpinned": dynamic[:MAX_LISTED]}
    return entry


MANIFESTS = {
    "requirements.txt": _requirements,
    "pyproject.toml": _pyproject,
    "Pipfile": _pipfile,
    "package.json": _package_json,
    "go.mod": _go_mod,
    "Gemfile": _gemfile,
    "gems.rb": _gemfile,
    "composer.json": _composer,
    "Cargo.toml": _cargo,
    "pom.xml": _pom,
    "build.gradle": _gradle,
    "build.gradle.kts": _gradle,
}


# -- .env files and ignore rules -----------------------------------------------------------------
def is_env_file(name: str) -> bool:
    """.env, .env.production, prod.env, .envrc (direnv) -- files that hold variables."""
    return name in {".env", ".envrc"} or name.startswith(".env.") or name.endswith(".env")


def is_env_example(name: str) -> bool:
    return name.lower().endswith(EXAMPLE_SUFFIXES)


def _env_files(
    root: Path, files: list[str], rules: list[tuple] | None, errors: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The .env-style files, each with whether it is an example, ignored and tracked.

    ``rules`` are the parsed .gitignore rules of a plain folder; None asks git instead.
    """
    found = {f for f in files if is_env_file(PurePosixPath(f).name)}
    tracked: set[str] | None = None
    ignored: set[str] | None
    if rules is None:
        listed = _git(root, ["ls-files", "-z"], errors)
        if listed is not None:
            tracked = {p for p in listed.split("\0") if p and is_env_file(PurePosixPath(p).name)}
            found |= tracked
        ignored = _git_ignored(root, sorted(found), errors) if found else set()
    else:
        ignored = {f for f in found if path_ignored(rules, f)}
    return [
        {
            "path": f,
            "example": is_env_example(PurePosixPath(f).name),
            "ignored": None if ignored is None else f in ignored,
            "tracked": None if tracked is None else f in tracked,
        }
        for f in sorted(found)
    ]


def _ignore_rules(root: Path, ignore_files: list[str], errors: list[dict[str, str]]) -> list[tuple]:
    """(base folder, pattern, negated, folder only, anchored) from each .gitignore, outer first."""
    rules = []
    for rel in sorted(
        (f for f in ignore_files if PurePosixPath(f).name == ".gitignore"),
        key=lambda f: (f.count("/"), f),
    ):
        base = PurePosixPath(rel).parent.as_posix()
        base = "" if base == "." else base
        for raw in _read(root / rel, errors, rel).splitlines():
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            line = line.replace("\\ ", " ")
            negated = line.startswith("!")
            pattern = line[1:] if negated else line
            pattern = pattern.removeprefix("\\")
            dir_only = pattern.endswith("/")
            pattern = pattern.rstrip("/")
            anchored = "/" in pattern
            pattern = pattern.lstrip("/")
            if pattern.startswith("**/"):
                pattern = pattern[3:]
                anchored = "/" in pattern
            if pattern:
                rules.append((base, pattern, negated, dir_only, anchored))
    return rules


def _matches(rules: list[tuple], rel: str, is_dir: bool) -> bool:
    ignored = False
    for base, pattern, negated, dir_only, anchored in rules:
        if base and not rel.startswith(base + "/"):
            continue
        if dir_only and not is_dir:
            continue
        sub = rel[len(base) + 1 :] if base else rel
        target = sub if anchored else PurePosixPath(sub).name
        if fnmatch.fnmatchcase(target, pattern) or (
            anchored and pattern.endswith("/**") and sub.startswith(pattern[:-3])
        ):
            ignored = not negated
    return ignored


def path_ignored(rules: list[tuple], rel: str) -> bool:
    """Whether .gitignore ``rules`` ignore the file ``rel`` (or a folder above it)."""
    parts = PurePosixPath(rel).parts
    for i in range(1, len(parts)):
        if _matches(rules, "/".join(parts[:i]), True):
            return True  # git does not look inside an ignored folder
    return _matches(rules, rel, False)


# -- git -----------------------------------------------------------------------------------------
def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    return env


def _git(
    root: Path, args: list[str], errors: list[dict[str, str]], stdin: str | None = None
) -> str | None:
    """Output of one local git command in ``root`` (no network, no hooks, no fsmonitor)."""
    git = shutil.which("git")
    if git is None:
        errors.append(_problem("git", "", "git is not installed"))
        return None
    command = [
        git,
        "-C",
        str(root),
        "-c",
        "core.fsmonitor=false",
        "-c",
        f"core.hooksPath={os.devnull}",
        "-c",
        f"core.excludesFile={os.devnull}",
        *args,
    ]
    try:
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env=_git_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        errors.append(_problem("git", "", f"git {args[0]} timed out after {GIT_TIMEOUT} s"))
        return None
    except OSError as exc:
        errors.append(_problem("git", "", f"git {args[0]}: {exc.strerror or type(exc).__name__}"))
        return None
    # check-ignore exits 1 when nothing is ignored: that is an answer, not a failure
    if done.returncode == 0 or (args[0] == "check-ignore" and done.returncode == 1):
        return done.stdout
    detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    errors.append(_problem("git", "", f"git {args[0]}: {detail}"))
    return None


def _git_info(root: Path, errors: list[dict[str, str]]) -> dict[str, Any]:
    """Whether ``root`` is the top of a git work tree (only then is git asked anything)."""
    if shutil.which("git") is None:
        has_dot_git = (root / ".git").exists()
        if has_dot_git:
            errors.append(
                _problem("git", "", "the folder is a git repository, but git is not installed")
            )
        return {"work_tree": False, "inside_work_tree": False, "available": False}
    quiet: list[dict[str, str]] = []
    top = _git(root, ["rev-parse", "--show-toplevel"], quiet)
    if top is None:
        if (root / ".git").exists():  # a repository git refuses to read (ownership, damage)
            errors.extend(quiet)
        return {"work_tree": False, "inside_work_tree": False, "available": True}
    is_top = Path(top.strip()).resolve() == root
    return {"work_tree": is_top, "inside_work_tree": not is_top, "available": True}


def _git_ignored(root: Path, rels: list[str], errors: list[dict[str, str]]) -> set[str] | None:
    """The paths among ``rels`` that the repository's ignore rules ignore (tracked or not)."""
    if not rels:
        return set()
    out = _git(root, ["check-ignore", "--no-index", "-z", "--stdin"], errors, "\0".join(rels))
    if out is None:
        return None
    return {p for p in out.split("\0") if p}
