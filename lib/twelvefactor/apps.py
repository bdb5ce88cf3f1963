"""Which application and environment a resource belongs to.

Order: an explicit mapping (``app_map``: glob on the resource name -> "application/environment"),
then tags (``Environment``/``env``/``Stage`` ...; ``Application``/``App``/``Service`` ...), then
tokens of the name (``orders-api-prod`` -> orders-api / production), then the parent resource.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .settings import Settings

ENVIRONMENT_TOKENS = {
    "prod": "production",
    "prd": "production",
    "production": "production",
    "live": "production",
    "staging": "staging",
    "stage": "staging",
    "stg": "staging",
    "preprod": "preprod",
    "uat": "uat",
    "qa": "qa",
    "test": "test",
    "dev": "development",
    "development": "development",
    "sandbox": "sandbox",
}
_SPLIT = re.compile(r"[-_/.:]+")
#: Tokens that name the platform, not the application ("/ecs/orders-api-prod").
GENERIC_TOKENS = frozenset({"ecs", "aws", "svc"})


def normalise_environment(value: str) -> str:
    value = value.strip().lower()
    return ENVIRONMENT_TOKENS.get(value, value)


def tag_dict(tags: Iterable[Mapping[str, str]] | Mapping[str, str] | None) -> dict[str, str]:
    """Tags as a dict, from AWS's many shapes ([{key, value}], [{Key, Value}] or a dict)."""
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    out = {}
    for tag in tags:
        key = tag.get("key", tag.get("Key"))
        if key is not None:
            out[str(key)] = str(tag.get("value", tag.get("Value", "")))
    return out


@dataclass(frozen=True)
class Placement:
    application: str = ""
    environment: str = ""

    def or_(self, other: Placement) -> Placement:
        return Placement(
            self.application or other.application, self.environment or other.environment
        )


def from_name(name: str) -> Placement:
    """Split a name into application and environment tokens: 'orders-api-prod' -> both."""
    tokens = [t for t in _SPLIT.split(name.lower()) if t]
    env = next((ENVIRONMENT_TOKENS[t] for t in tokens if t in ENVIRONMENT_TOKENS), "")
    if not env:
        return Placement("", "")
    app = "-".join(t for t in tokens if t not in ENVIRONMENT_TOKENS and t not in GENERIC_TOKENS)
    return Placement(app, env)


def place(
    name: str,
    tags: Mapping[str, str],
    settings: Settings,
    parent: Placement | None = None,
    *,
    name_gives_app: bool = True,
) -> Placement:
    """Application and environment of a resource called ``name`` with ``tags``."""
    explicit = Placement()
    for pattern, target in settings.app_map.items():
        if fnmatch.fnmatchcase(name, pattern):
            app, _, env = target.partition("/")
            explicit = Placement(app, normalise_environment(env) if env else "")
            break
    tagged = Placement(
        next((tags[k] for k in settings.app_tag_keys if tags.get(k)), ""),
        normalise_environment(next((tags[k] for k in settings.env_tag_keys if tags.get(k)), "")),
    )
    named = from_name(name)
    if not name_gives_app:
        named = Placement("", named.environment)
    return explicit.or_(tagged).or_(named).or_(parent or Placement())


def split_hierarchy(path: str) -> tuple[str, str, str]:
    """('orders-api', 'production', 'DB_HOST') for '/orders-api/prod/DB_HOST' (or for
    '/prod/orders-api/DB_HOST'); '' where absent."""
    parts = [p for p in path.strip("/").split("/") if p]
    for i, part in enumerate(parts):
        env = ENVIRONMENT_TOKENS.get(part.lower())
        if env and 0 < i < len(parts) - 1:  # /orders-api/prod/DB_HOST
            return "/".join(parts[:i]), env, "/".join(parts[i + 1 :])
        if env and i == 0 and len(parts) >= 3:  # /prod/orders-api/DB_HOST
            return parts[1], env, "/".join(parts[2:])
    return "", "", "/".join(parts)
