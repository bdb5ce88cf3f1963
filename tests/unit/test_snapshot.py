"""Unit tests for twelvefactor.snapshot: round trip and every way a snapshot can be broken."""

from __future__ import annotations

import hashlib
import json

import pytest

from twelvefactor.errors import ConfigurationError, SnapshotError
from twelvefactor.snapshot import SCHEMA_VERSION, Snapshot

MANIFEST = {
    "schema_version": SCHEMA_VERSION,
    "tool_version": "0.1.0",
    "account": "123456789012",
    "caller": "arn:aws:sts::123456789012:assumed-role/audit/me",
    "regions": ["eu-west-1", "us-east-1"],
    "started": "2024-05-01T10:00:00+00:00",
    "finished": "2024-05-01T10:01:00+00:00",
    "api_calls": [{"service": "ecs", "operation": "ListClusters", "calls": 2}],
    "errors": [{"region": "us-east-1", "service": "ecr", "error": "AccessDenied"}],
    "settings": {"source": "live", "max_workers": 8},
}
DATA = {
    ("eu-west-1", "ecs"): {
        "clusters": [{"clusterName": "prod", "status": "ACTIVE"}],
        "taskDefinitions": [
            {
                "family": "web",
                "revision": 42,
                "containerDefinitions": [
                    {
                        "name": "web",
                        "environment": [
                            {"name": "LOG_LEVEL", "value": "info"},
                            {
                                "name": "DB_PASSWORD",
                                "value": "[REDACTED kind=secret-name len=7 hash=0123abcd]",
                            },
                        ],
                    }
                ],
            }
        ],
    },
    ("eu-west-1", "ssm"): {"parameters": [{"Name": "/app/prod/KEY", "Type": "SecureString"}]},
    ("us-east-1", "ecs"): {"clusters": [], "unicode": "caf\u00e9 \u2713", "n": 1.5, "ok": True},
    ("us-east-1", "logs"): {},
}


def build() -> Snapshot:
    return Snapshot(manifest=dict(MANIFEST), data={key: dict(v) for key, v in DATA.items()})


@pytest.fixture
def written(tmp_path):
    directory = tmp_path / "snap"
    build().write(directory)
    return directory


def snapshot_error(directory) -> SnapshotError:
    with pytest.raises(SnapshotError) as info:
        Snapshot.load(directory)
    error = info.value
    assert isinstance(error, ConfigurationError)
    assert error.parameter == "snapshot"
    assert "Fix:" in str(error)
    return error


# -- round trip -------------------------------------------------------------------------------
def test_write_then_load_round_trips(tmp_path):
    directory = tmp_path / "out" / "snap"  # parents are created
    assert build().write(directory) == directory
    loaded = Snapshot.load(directory)
    assert loaded.data == DATA
    assert {k: v for k, v in loaded.manifest.items() if k != "files"} == MANIFEST
    assert loaded.account == "123456789012"
    assert loaded.regions == ["eu-west-1", "us-east-1"]
    assert loaded.get("eu-west-1", "ssm") == DATA[("eu-west-1", "ssm")]
    assert loaded.get("eu-west-1", "lambda") == {}


def test_layout_and_checksums(written):
    manifest = json.loads((written / "manifest.json").read_text())
    assert sorted(manifest["files"]) == [
        "eu-west-1/ecs.json",
        "eu-west-1/ssm.json",
        "us-east-1/ecs.json",
        "us-east-1/logs.json",
    ]
    for rel, checksum in manifest["files"].items():
        raw = (written / rel).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == checksum
    ssm = json.loads((written / "eu-west-1" / "ssm.json").read_text())
    assert ssm == DATA[("eu-west-1", "ssm")]


def test_write_does_not_modify_the_manifest(tmp_path):
    snap = build()
    snap.write(tmp_path / "snap")
    assert "files" not in snap.manifest


def test_write_is_deterministic(tmp_path):
    build().write(tmp_path / "a")
    build().write(tmp_path / "b")
    for rel in ("manifest.json", "eu-west-1/ecs.json", "us-east-1/logs.json"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_rewrite_round_trips(written, tmp_path):
    again = tmp_path / "again"
    Snapshot.load(written).write(again)
    assert Snapshot.load(again).data == DATA
    assert Snapshot.load(again).manifest == Snapshot.load(written).manifest


def test_empty_snapshot_round_trips(tmp_path):
    Snapshot(manifest=dict(MANIFEST)).write(tmp_path / "empty")
    loaded = Snapshot.load(tmp_path / "empty")
    assert loaded.data == {}
    assert loaded.manifest["files"] == {}


def test_non_json_values_written_as_strings(tmp_path):
    import datetime as dt

    when = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
    Snapshot(manifest=dict(MANIFEST), data={("eu-west-1", "ecs"): {"at": when}}).write(tmp_path)
    assert Snapshot.load(tmp_path).get("eu-west-1", "ecs") == {"at": str(when)}


# -- broken snapshots ---------------------------------------------------------------------------
def test_no_manifest(tmp_path):
    error = snapshot_error(tmp_path)
    assert "manifest.json" in str(error)


def test_directory_missing(tmp_path):
    snapshot_error(tmp_path / "nope")


def test_truncated_manifest(written):
    path = written / "manifest.json"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    error = snapshot_error(written)
    assert "not valid JSON" in str(error)


def test_empty_manifest(written):
    (written / "manifest.json").write_bytes(b"")
    snapshot_error(written)


@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, 0, "1", None])
def test_other_schema_version(written, version):
    path = written / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["schema_version"] = version
    path.write_text(json.dumps(manifest))
    error = snapshot_error(written)
    assert "schema version" in str(error)
    assert repr(version) in str(error)


def test_missing_schema_version(written):
    path = written / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["schema_version"]
    path.write_text(json.dumps(manifest))
    snapshot_error(written)


@pytest.mark.parametrize("key", ["files", "account", "regions", "errors"])
def test_manifest_lacking_a_field(written, key):
    path = written / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest[key]
    path.write_text(json.dumps(manifest))
    error = snapshot_error(written)
    assert repr(key) in str(error)


def test_data_file_edited(written):
    path = written / "eu-west-1" / "ecs.json"
    data = json.loads(path.read_text())
    data["clusters"][0]["status"] = "INACTIVE"
    path.write_text(json.dumps(data, indent=1, sort_keys=True))
    error = snapshot_error(written)
    assert "checksum" in str(error)
    assert "ecs.json" in str(error)


def test_data_file_whitespace_edit_detected(written):
    path = written / "us-east-1" / "logs.json"
    path.write_bytes(path.read_bytes() + b"\n")
    snapshot_error(written)


def test_data_file_truncated(written):
    path = written / "eu-west-1" / "ecs.json"
    raw = path.read_bytes()
    path.write_bytes(raw[:10])
    snapshot_error(written)


def test_data_file_deleted(written):
    (written / "eu-west-1" / "ssm.json").unlink()
    error = snapshot_error(written)
    assert "missing" in str(error)
    assert "ssm.json" in str(error)


def test_unlisted_extra_file_is_ignored(written):
    (written / "eu-west-1" / "lambda.json").write_text('{"functions": []}')
    assert Snapshot.load(written).get("eu-west-1", "lambda") == {}


@pytest.mark.parametrize("raw", [b"[]", b"null", b"\x80\x81 binary garbage"])
def test_manifest_not_an_object(written, raw):
    (written / "manifest.json").write_bytes(raw)
    snapshot_error(written)


def test_manifest_files_not_an_object(written):
    path = written / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"] = list(manifest["files"])
    path.write_text(json.dumps(manifest))
    snapshot_error(written)
