"""A snapshot: a manifest plus the raw (redacted) API results per region and service.

Layout on disk::

    manifest.json            schema version, tool version, account, caller, regions, times,
                             API calls, collection errors, and a checksum of every data file
    <region>/<service>.json  what the collector for that service returned

A snapshot replays with no AWS at all. Checksums catch truncated or hand-edited files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SnapshotError

SCHEMA_VERSION = 1


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, indent=1, sort_keys=True, default=str).encode()


@dataclass
class Snapshot:
    manifest: dict[str, Any]
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def account(self) -> str:
        return self.manifest["account"]

    @property
    def regions(self) -> list[str]:
        return list(self.manifest["regions"])

    def get(self, region: str, service: str) -> dict[str, Any]:
        return self.data.get((region, service), {})

    def write(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files: dict[str, str] = {}
        for (region, service), payload in sorted(self.data.items()):
            rel = f"{region}/{service}.json"
            raw = _dumps(payload)
            (directory / region).mkdir(exist_ok=True)
            (directory / rel).write_bytes(raw)
            files[rel] = hashlib.sha256(raw).hexdigest()
        manifest = dict(self.manifest, files=files)
        (directory / "manifest.json").write_bytes(_dumps(manifest))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Snapshot:
        directory = Path(directory)
        path = directory / "manifest.json"
        if not path.is_file():
            raise SnapshotError(
                f"{directory} has no manifest.json.",
                "give a folder written by `twelvefactor snapshot` or an audit's <out>/snapshot.",
            )
        try:
            manifest = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            raise SnapshotError(f"{path} is not text.", "collect a new snapshot.") from None
        except json.JSONDecodeError as exc:
            raise SnapshotError(
                f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); it may be truncated.",
                "collect a new snapshot.",
            ) from None
        if not isinstance(manifest, dict):
            raise SnapshotError(f"{path} is not a JSON object.", "collect a new snapshot.")
        version = manifest.get("schema_version")
        if version != SCHEMA_VERSION:
            raise SnapshotError(
                f"{directory} has schema version {version!r}; this twelvefactor reads version "
                f"{SCHEMA_VERSION}.",
                "collect a new snapshot with this version, or use the twelvefactor that wrote it.",
            )
        for key in ("account", "regions", "files", "errors"):
            if key not in manifest:
                raise SnapshotError(f"{path} lacks the field {key!r}.", "collect a new snapshot.")
        if not isinstance(manifest["files"], dict):
            raise SnapshotError(f"{path}: 'files' is not a JSON object.", "collect a new snapshot.")
        data: dict[tuple[str, str], dict[str, Any]] = {}
        for rel, checksum in manifest["files"].items():
            file = directory / rel
            if not file.is_file():
                raise SnapshotError(
                    f"{file} listed in the manifest is missing.", "copy the whole snapshot folder."
                )
            raw = file.read_bytes()
            if hashlib.sha256(raw).hexdigest() != checksum:
                raise SnapshotError(
                    f"{file} was changed after collection (checksum mismatch).",
                    "restore the original file or collect a new snapshot.",
                )
            region, _, service = rel.removesuffix(".json").partition("/")
            data[(region, service)] = json.loads(raw)
        return cls(manifest=manifest, data=data)
