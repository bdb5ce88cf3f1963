"""Find secret-looking values and replace them by a marker before anything is written.

The marker keeps what the detector saw -- its kind, the value's length and a short salted hash --
so checks can still say *what* was found (and whether two environments share one secret) without
the value ever reaching a snapshot, notebook, report or log.

    [REDACTED kind=aws-access-key-id len=20 hash=1f3a9c0d]
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

MARKER_RE = re.compile(
    r"\[REDACTED kind=(?P<kind>[a-z0-9-]+) len=(?P<length>\d+) hash=(?P<hash>[0-9a-f]{8})\]"
)

#: Variable names that say "this is a secret" (Security Hub ECS.8 keys included).
SECRET_NAME_RE = re.compile(
    r"(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|"
    r"AUTH_DATA|CLIENT_?KEY|SIGNING_?KEY|ENCRYPTION_?KEY|DSN)",
    re.IGNORECASE,
)
#: Names that point at a secret or configure its handling rather than hold it
#: (JWT_SECRET_NAME, SECRETS_MANAGER_REGION, TOKEN_TTL, API_KEY_HEADER ...).
NOT_SECRET_SUFFIX_RE = re.compile(
    r"(_|^)(ARN|NAME|ID|REGION|TTL|PATH|URL|URI|HEADER|ENDPOINT|HOST|PORT|LENGTH|FILE|ENABLED|"
    r"TIMEOUT|EXPIRY|EXPIRES|SECONDS|MINUTES|DAYS|VERSION|PROVIDER|TYPE|PARAM|PARAMETER)$",
    re.IGNORECASE,
)


def looks_secret_name(name: str | None) -> bool:
    """True for a name that says its value is a secret (DB_PASSWORD), not a pointer to one."""
    return bool(name and SECRET_NAME_RE.search(name) and not NOT_SECRET_SUFFIX_RE.search(name))


#: Names that Security Hub ECS.8 / AWS Config ecs-no-environment-secrets flag on sight.
ECS8_NAMES = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"})

# Patterns found anywhere inside a string: (kind, regex, group to redact)
_SUBSTRING_DETECTORS: list[tuple[str, re.Pattern[str], int]] = [
    (
        "private-key",
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        0,
    ),
    ("aws-access-key-id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), 0),
    ("url-password", re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@"), 1),
    (
        # password=..., "token": "...", -Dx.password=..., api_key=... inside any text
        "assigned-secret",
        re.compile(
            r"(?i)(?<![a-z:])(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key)"
            r"[\"']?\s*[=:]\s*[\"']?(?!\[REDACTED)([^;&\s\"',}\]]{3,})"
        ),
        1,
    ),
    (
        "token",
        re.compile(
            r"(?:ghp_[A-Za-z0-9]{36}|github_pat_\w{22,}|xox[abprs]-[A-Za-z0-9-]{10,}"
            r"|sk_(?:live|test)_[A-Za-z0-9]{16,}|glpat-[A-Za-z0-9_-]{20,}"
            r"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
            r"|hooks\.slack\.com/services/[A-Za-z0-9/]{16,})"
        ),
        0,
    ),
]
_AWS_SECRET_KEY_RE = re.compile(r"^[A-Za-z0-9/+]{40}$")
# base64-ish with no separators a hostname or resource name would have ("." and "-")
_TOKENISH_RE = re.compile(r"^[A-Za-z0-9+/=_]{20,}$")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_REFERENCE_RE = re.compile(
    r"^(arn:aws[a-z-]*:|/[\w./-]+$|\{\{resolve:|ssm:|secretsmanager:|s3://|https?://[^@\s?#]+$)"
)
_PLAIN_RE = re.compile(r"^(true|false|yes|no|on|off|none|null|-?\d+(\.\d+)?)$", re.I)
_BOOLEAN_RE = re.compile(r"^(true|false|yes|no|on|off|none|null|)$", re.I)


@dataclass(frozen=True)
class Redacted:
    """What a marker tells about the value it replaced."""

    kind: str
    length: int
    hash: str


def parse_marker(value: Any) -> Redacted | None:
    """The redaction in ``value`` (the first, if several), or None."""
    if not isinstance(value, str):
        return None
    match = MARKER_RE.search(value)
    if not match:
        return None
    return Redacted(match["kind"], int(match["length"]), match["hash"])


def is_reference(value: str) -> bool:
    """True for values that point at a secret rather than hold one (ARNs, SSM paths, ...)."""
    return bool(_REFERENCE_RE.match(value.strip()))


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def detect(value: str, name: str | None = None) -> str | None:
    """The kind of secret ``value`` (named ``name``) looks like, or None."""
    if not isinstance(value, str) or not value:
        return None
    if MARKER_RE.search(value):
        # already redacted: only look for further secrets in the text around the marker(s)
        rest = MARKER_RE.sub(" ", value)
        return next((k for k, p, _ in _SUBSTRING_DETECTORS if p.search(rest)), None)
    for kind, pattern, _ in _SUBSTRING_DETECTORS:
        if pattern.search(value):
            return kind
    stripped = value.strip()
    # before the reference test: a secret key may start with "/" and look like an SSM path
    if _AWS_SECRET_KEY_RE.match(stripped) and (
        (name and "SECRET" in name.upper()) or shannon_entropy(stripped) >= 4.2
    ):
        return "aws-secret-access-key"
    if is_reference(stripped):
        return None
    if looks_secret_name(name) and not _BOOLEAN_RE.match(stripped):
        return "secret-name"  # numbers too: DB_PASSWORD=123456 is still a password
    if _PLAIN_RE.match(stripped):
        return None
    if (
        _TOKENISH_RE.match(stripped)
        and not _UUID_RE.match(stripped)
        # a random token mixes cases and digits; names and identifiers rarely do all three
        and re.search(r"[a-z]", stripped)
        and re.search(r"[A-Z]", stripped)
        and re.search(r"\d", stripped)
        and shannon_entropy(stripped) >= 4.0
    ):
        return "high-entropy"
    return None


#: Maps whose keys name their values: Lambda variables, docker labels, log driver options
#: (FireLens/Datadog "apikey" ...).
NAME_KEYED_MAPS = frozenset({"Variables", "dockerLabels", "options"})
#: Name/value pairs whose value is where a secret lives, not the secret (CodeBuild variables).
REFERENCE_TYPES = frozenset({"PARAMETER_STORE", "SECRETS_MANAGER"})


class Redactor:
    """Replaces secret-looking values by markers; the salt keeps hashes unlinkable across audits."""

    def __init__(self, salt: str = ""):
        self.salt = salt or secrets.token_hex(16)
        self.count: Counter[str] = Counter()
        self._lock = threading.Lock()  # collectors share one Redactor across threads

    def marker(self, kind: str, value: str) -> str:
        with self._lock:
            self.count[kind] += 1
        digest = hashlib.sha256((self.salt + value).encode()).hexdigest()[:8]
        return f"[REDACTED kind={kind} len={len(value)} hash={digest}]"

    def value(self, value: str, name: str | None = None) -> str:
        """Redact a whole value (of a variable called ``name``), or the secret parts inside it."""
        kind = detect(value, name)
        if kind is None:
            return value
        if kind in {
            "secret-name",
            "aws-secret-access-key",
            "high-entropy",
        } and not MARKER_RE.search(value):
            return self.marker(kind, value)
        return self.text(value)

    def text(self, text: str) -> str:
        """Redact the secret-looking parts of free text, keeping the rest readable."""
        for kind, pattern, group in _SUBSTRING_DETECTORS:

            def repl(match: re.Match[str], kind: str = kind, group: int = group) -> str:
                whole = match.group(0)
                secret = match.group(group)
                start = match.start(group) - match.start(0)
                return whole[:start] + self.marker(kind, secret) + whole[start + len(secret) :]

            text = pattern.sub(repl, text)
        return text

    def tree(self, obj: Any) -> Any:
        """A copy of a JSON-like structure with every secret-looking value redacted.

        Name/value pairs (ECS ``environment``, CodeBuild variables) and name-keyed maps (Lambda
        ``Variables``, ``dockerLabels``) are judged by name and value; any other string only by
        the patterns that are secrets wherever they stand (keys, private keys, URL passwords).
        """
        if isinstance(obj, dict):
            if isinstance(obj.get("name"), str) and isinstance(obj.get("value"), str):
                out = {k: self.tree(v) for k, v in obj.items() if k != "value"}
                if obj.get("type") in REFERENCE_TYPES:  # CodeBuild: the value names a secret
                    out["value"] = self.text(obj["value"])
                else:
                    out["value"] = self.value(obj["value"], obj["name"])
                return out
            return {
                k: (
                    {
                        n: self.value(v, n) if isinstance(v, str) else self.tree(v)
                        for n, v in vs.items()
                    }
                    if k in NAME_KEYED_MAPS and isinstance(vs, dict)
                    else self.tree(vs)
                )
                for k, vs in obj.items()
            }
        if isinstance(obj, list):
            return [self.tree(v) for v in obj]
        if isinstance(obj, str):
            return self.text(obj)
        return obj
