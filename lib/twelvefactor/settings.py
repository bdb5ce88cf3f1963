"""Settings: papermill parameters / CLI flags, then environment variables, then AWS's own config.

Validated once, early, with errors that name the parameter and the fix.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

SOURCES = ("demo", "live", "snapshot")
DEFAULT_ENV_TAG_KEYS = ("Environment", "environment", "Env", "env", "Stage", "stage")
DEFAULT_APP_TAG_KEYS = ("Application", "application", "App", "app", "Service", "service")

#: Every environment variable the tool reads, with what it means (kept in sync with .env.example
#: by a test).
ENVIRONMENT_VARIABLES = {
    "TWELVEFACTOR_SOURCE": "where the account comes from: demo, live or snapshot",
    "TWELVEFACTOR_SNAPSHOT": "snapshot directory to replay (source=snapshot)",
    "TWELVEFACTOR_REGIONS": "comma-separated regions to audit",
    "TWELVEFACTOR_OUTPUT_DIR": "where notebooks write findings when run by papermill",
    "TWELVEFACTOR_MAX_WORKERS": "collection threads (and botocore connection pool size)",
    "TWELVEFACTOR_REDACTION_SALT": "salt of the short hashes kept for redacted secret values",
    "TWELVEFACTOR_ENV_TAG_KEYS": "comma-separated tag keys naming a resource's environment",
    "TWELVEFACTOR_APP_TAG_KEYS": "comma-separated tag keys naming a resource's application",
    "TWELVEFACTOR_APP_MAP": 'JSON object: resource-name glob -> "application/environment"',
    "TWELVEFACTOR_DATA_DIR": "folder holding the check catalog and demo scenario (default: data/)",
    "TWELVEFACTOR_REPO_PATHS": "comma-separated local source repositories to inspect (optional)",
    "TWELVEFACTOR_LAB_PORT": "port of the demo server of `twelvefactor lab` / `demo serve` (5005)",
    "TWELVEFACTOR_SUPPRESSIONS": "YAML file of suppressions that mute findings (optional)",
    "TWELVEFACTOR_FAULTS": "tests and benchmarks only: inject throttling/5xx answers, e.g. "
    "'share=0.3;attempts=1;seed=7' (off unless set; see twelvefactor.aws.FaultPlan)",
    "AWS_PROFILE": "AWS named profile (live source)",
    "AWS_REGION": "region, when no regions are given (read by this tool, not by boto3)",
    "AWS_DEFAULT_REGION": "region, when neither regions nor AWS_REGION are given",
    "AWS_ENDPOINT_URL": "endpoint of every AWS service, e.g. a moto server on 127.0.0.1",
}


def data_dir() -> Path:
    """The project's data folder (check catalog, demo scenario, IAM policy)."""
    env = os.environ.get("TWELVEFACTOR_DATA_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "data"
    if not any((path / "checks").glob("*.yaml")):
        raise ConfigurationError(
            "TWELVEFACTOR_DATA_DIR",
            f"no check catalog in {path / 'checks'}.",
            "install the project in editable mode (`pip install -e .`, as `make` does) or set "
            "TWELVEFACTOR_DATA_DIR to the project's data/ folder.",
        )
    return path


def _env_list(name: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]


def _profile_free_session():
    """A botocore session that ignores AWS_PROFILE (for facts that need no profile)."""
    import botocore.session

    return botocore.session.Session(session_vars={"profile": (None, None, None, None)})


def _known_regions() -> set[str]:
    session = _profile_free_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ecs", partition_name=partition))
    return regions


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved and validated."""

    source: str = "demo"
    snapshot: str = ""
    profile: str = ""
    regions: tuple[str, ...] = ()
    endpoint_url: str = ""
    output_dir: str = ""
    repo_paths: tuple[str, ...] = ()
    app_map: dict[str, str] = field(default_factory=dict)
    env_tag_keys: tuple[str, ...] = DEFAULT_ENV_TAG_KEYS
    app_tag_keys: tuple[str, ...] = DEFAULT_APP_TAG_KEYS
    max_workers: int = 8
    redaction_salt: str = ""
    suppressions: str = ""  # YAML file of suppressions (see twelvefactor.suppressions)
    #: tests and benchmarks only: injected AWS faults (twelvefactor.aws.FaultPlan); "" is off
    faults: str = ""

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """What may be written to run.json and manifests (no salt, no credentials)."""
        return {
            "source": self.source,
            "snapshot": self.snapshot,
            "profile": self.profile,
            "regions": list(self.regions),
            "endpoint_url": self.endpoint_url,
            "repo_paths": list(self.repo_paths),
            "app_map": dict(self.app_map),
            "env_tag_keys": list(self.env_tag_keys),
            "app_tag_keys": list(self.app_tag_keys),
            "max_workers": self.max_workers,
            "suppressions": self.suppressions,
            "faults": self.faults,
        }


def resolve(
    source: str | None = None,
    snapshot: str | os.PathLike | None = None,
    profile: str | None = None,
    regions: str | list[str] | tuple[str, ...] | None = None,
    endpoint_url: str | None = None,
    output_dir: str | os.PathLike | None = None,
    app_map: dict[str, str] | str | None = None,
    max_workers: int | str | None = None,
    repo_paths: str | list[str] | tuple[str, ...] | None = None,
    check_profile: bool = True,
    suppressions: str | os.PathLike | None = None,
) -> Settings:
    """Resolve settings: explicit values first (None or "" means unset), then the environment.

    Raises ConfigurationError naming the parameter and the fix for anything invalid.
    """
    env = os.environ
    snapshot = str(snapshot or env.get("TWELVEFACTOR_SNAPSHOT", ""))
    source = source or env.get("TWELVEFACTOR_SOURCE", "") or ("snapshot" if snapshot else "demo")
    source = source.strip().lower()
    if source not in SOURCES:
        raise ConfigurationError(
            "source", f"unknown source {source!r}.", f"use one of {', '.join(SOURCES)}."
        )
    if source == "snapshot" and not snapshot:
        raise ConfigurationError(
            "snapshot",
            "source is 'snapshot' but no snapshot directory was given.",
            "pass snapshot=<dir> (CLI: --snapshot DIR) or set TWELVEFACTOR_SNAPSHOT.",
        )
    if snapshot and not Path(snapshot).is_dir():
        raise ConfigurationError(
            "snapshot",
            f"{snapshot} is not a directory.",
            "give the folder written by `twelvefactor snapshot` or an audit's <out>/snapshot.",
        )

    profile = profile or env.get("AWS_PROFILE", "")
    if profile and source == "live" and check_profile:
        available = _profile_free_session().available_profiles
        if profile not in available:
            near = difflib.get_close_matches(profile, available, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise ConfigurationError(
                "profile",
                f"no AWS profile named {profile!r} in your AWS config.{hint}",
                f"use one of {sorted(available) or '(none configured)'} or run "
                "`aws configure --profile NAME`.",
            )

    if isinstance(regions, str):
        regions = [r.strip() for r in regions.split(",") if r.strip()]
    region_list = list(regions or _env_list("TWELVEFACTOR_REGIONS"))
    if not region_list and source == "live":
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not region:
            import boto3
            import botocore.exceptions

            try:
                region = boto3.session.Session(profile_name=profile or None).region_name
            except botocore.exceptions.ProfileNotFound:
                raise ConfigurationError(
                    "profile",
                    f"no AWS profile named {profile!r} in your AWS config.",
                    "set AWS_PROFILE / profile to a configured profile, or unset it.",
                ) from None
        if not region:
            raise ConfigurationError(
                "regions",
                "no region given and none configured.",
                "pass regions=['eu-west-1'] (CLI: --region eu-west-1) or set AWS_REGION.",
            )
        region_list = [region]
    if region_list:
        known = _known_regions()
        for region in region_list:
            if region not in known:
                near = difflib.get_close_matches(region, sorted(known), n=1)
                hint = f" Did you mean {near[0]!r}?" if near else ""
                raise ConfigurationError(
                    "regions",
                    f"unknown region {region!r}.{hint}",
                    "use a region code such as 'eu-west-1' (`aws ec2 describe-regions` lists "
                    "them); for a region newer than this botocore, upgrade boto3.",
                )
    region_list = list(dict.fromkeys(region_list))  # de-duplicate, keep order

    endpoint_url = endpoint_url or env.get("AWS_ENDPOINT_URL", "")
    if endpoint_url and not re.match(r"https?://", endpoint_url):
        raise ConfigurationError(
            "endpoint_url",
            f"{endpoint_url!r} is not an http(s) URL.",
            "give a URL such as http://127.0.0.1:5000, or leave it empty for AWS.",
        )

    if isinstance(app_map, str) and app_map.strip():
        app_map = _parse_app_map(app_map, "app_map")
    elif not app_map:
        raw = env.get("TWELVEFACTOR_APP_MAP", "")
        app_map = _parse_app_map(raw, "TWELVEFACTOR_APP_MAP") if raw else {}
    for pattern, target in app_map.items():
        if not isinstance(target, str) or "/" not in target:
            raise ConfigurationError(
                "app_map",
                f"entry {pattern!r}: {target!r} is not of the form 'application/environment'.",
                'write it like {"legacy-*": "legacy/production"} (either side may be empty).',
            )

    workers_raw = (
        max_workers if max_workers not in (None, "") else env.get("TWELVEFACTOR_MAX_WORKERS", "8")
    )
    try:
        workers = int(workers_raw)
        if workers < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigurationError(
            "max_workers", f"{workers_raw!r} is not a positive whole number.", "use e.g. 8."
        ) from None

    if isinstance(repo_paths, str):
        repo_paths = [p.strip() for p in repo_paths.split(",") if p.strip()]
    repo_list = list(repo_paths or _env_list("TWELVEFACTOR_REPO_PATHS"))
    for path in repo_list:
        if not Path(path).is_dir():
            raise ConfigurationError(
                "repo_paths",
                f"{path} is not a directory.",
                "give local clones of the services' source repositories, comma-separated.",
            )

    faults = env.get("TWELVEFACTOR_FAULTS", "")
    if faults:
        from .aws import FaultPlan

        FaultPlan.parse(faults)  # a malformed plan stops here, naming the variable

    suppressions = str(suppressions or env.get("TWELVEFACTOR_SUPPRESSIONS", ""))
    if suppressions:
        from .suppressions import load as load_suppressions

        load_suppressions(suppressions)  # a missing or malformed file stops here, with its line

    return Settings(
        source=source,
        suppressions=suppressions,
        faults=faults,
        repo_paths=tuple(repo_list),
        snapshot=snapshot,
        profile=profile,
        regions=tuple(region_list),
        endpoint_url=endpoint_url,
        output_dir=str(output_dir or env.get("TWELVEFACTOR_OUTPUT_DIR", "")),
        app_map=dict(app_map),
        env_tag_keys=tuple(_env_list("TWELVEFACTOR_ENV_TAG_KEYS")) or DEFAULT_ENV_TAG_KEYS,
        app_tag_keys=tuple(_env_list("TWELVEFACTOR_APP_TAG_KEYS")) or DEFAULT_APP_TAG_KEYS,
        max_workers=workers,
        redaction_salt=env.get("TWELVEFACTOR_REDACTION_SALT", ""),
    )


def _parse_app_map(raw: str, parameter: str) -> dict[str, str]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            parameter,
            f"not valid JSON ({exc.msg} at character {exc.pos}).",
            'write a JSON object such as {"legacy-*": "legacy/production"}.',
        ) from None
    if not isinstance(value, dict):
        raise ConfigurationError(
            parameter, "must be a JSON object.", 'write e.g. {"legacy-*": "legacy/production"}.'
        )
    return value
