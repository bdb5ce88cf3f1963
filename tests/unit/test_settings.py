"""Unit tests for twelvefactor.settings.resolve: precedence and errors that name the fix."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from twelvefactor.errors import ConfigurationError
from twelvefactor.settings import (
    DEFAULT_APP_TAG_KEYS,
    DEFAULT_ENV_TAG_KEYS,
    Settings,
    resolve,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No AWS_* or TWELVEFACTOR_* from the machine; AWS config files empty."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "TWELVEFACTOR_")):
            monkeypatch.delenv(name)
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


@pytest.fixture
def aws_config(monkeypatch, tmp_path):
    """Write an AWS config file with the given body and point AWS_CONFIG_FILE at it."""

    def write(body: str):
        path = tmp_path / "aws-config"
        path.write_text(body)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
        return path

    return write


def config_error(parameter: str, **kwargs) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        resolve(**kwargs)
    error = info.value
    assert error.parameter == parameter, str(error)
    assert "Fix:" in str(error)
    assert str(error).startswith(f"{parameter}: ")
    assert error.fix and error.problem
    return error


# -- defaults ---------------------------------------------------------------------------------
def test_defaults():
    settings = resolve()
    assert settings == Settings(
        source="demo",
        snapshot="",
        profile="",
        regions=(),
        endpoint_url="",
        output_dir="",
        app_map={},
        env_tag_keys=DEFAULT_ENV_TAG_KEYS,
        app_tag_keys=DEFAULT_APP_TAG_KEYS,
        max_workers=8,
        redaction_salt="",
    )


# -- precedence -------------------------------------------------------------------------------
def test_regions_explicit_beats_env_beats_aws_region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert resolve(source="live").regions == ("ap-southeast-2",)
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert resolve(source="live").regions == ("us-west-2",)
    monkeypatch.setenv("TWELVEFACTOR_REGIONS", "eu-central-1, us-east-1")
    assert resolve(source="live").regions == ("eu-central-1", "us-east-1")
    assert resolve(source="live", regions="eu-west-1").regions == ("eu-west-1",)
    assert resolve(source="live", regions=["eu-west-2"]).regions == ("eu-west-2",)
    # "" and None mean unset
    assert resolve(source="live", regions="").regions == ("eu-central-1", "us-east-1")
    assert resolve(source="live", regions=None).regions == ("eu-central-1", "us-east-1")


def test_aws_config_region_is_the_last_fallback(aws_config, monkeypatch):
    aws_config("[default]\nregion = sa-east-1\n")
    assert resolve(source="live").regions == ("sa-east-1",)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ca-central-1")
    assert resolve(source="live").regions == ("ca-central-1",)


def test_aws_region_ignored_outside_live(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert resolve(source="demo").regions == ()
    monkeypatch.setenv("TWELVEFACTOR_REGIONS", "eu-west-1")
    assert resolve(source="demo").regions == ("eu-west-1",)


def test_regions_string_split_and_deduplicated():
    settings = resolve(regions=" eu-west-1,us-east-1 ,, eu-west-1,us-east-1,eu-central-1 ")
    assert settings.regions == ("eu-west-1", "us-east-1", "eu-central-1")
    assert resolve(regions=["us-east-1", "us-east-1"]).regions == ("us-east-1",)


def test_env_regions_deduplicated(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_REGIONS", "eu-west-1,eu-west-1, us-east-1")
    assert resolve().regions == ("eu-west-1", "us-east-1")


def test_source_explicit_beats_env(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_SOURCE", "LIVE ")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert resolve().source == "live"
    assert resolve(source="demo").source == "demo"
    assert resolve(source="Demo").source == "demo"


def test_snapshot_env_implies_snapshot_source(monkeypatch, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    monkeypatch.setenv("TWELVEFACTOR_SNAPSHOT", str(first))
    settings = resolve()
    assert (settings.source, settings.snapshot) == ("snapshot", str(first))
    settings = resolve(snapshot=second)
    assert (settings.source, settings.snapshot) == ("snapshot", str(second))
    # an explicit source wins over the implied one
    assert resolve(source="demo").source == "demo"


def test_endpoint_url_explicit_beats_env(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert resolve().endpoint_url == "http://127.0.0.1:5000"
    assert resolve(endpoint_url="https://localhost:4566").endpoint_url == "https://localhost:4566"


def test_max_workers_explicit_beats_env(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_MAX_WORKERS", "3")
    assert resolve().max_workers == 3
    assert resolve(max_workers=5).max_workers == 5
    assert resolve(max_workers="6").max_workers == 6
    assert resolve(max_workers="").max_workers == 3


def test_output_dir_explicit_beats_env(monkeypatch, tmp_path):
    monkeypatch.setenv("TWELVEFACTOR_OUTPUT_DIR", "/from/env")
    assert resolve().output_dir == "/from/env"
    assert resolve(output_dir=tmp_path).output_dir == str(tmp_path)


def test_app_map_explicit_beats_env(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_APP_MAP", json.dumps({"legacy-*": "legacy/production"}))
    assert resolve().app_map == {"legacy-*": "legacy/production"}
    assert resolve(app_map={"web-*": "web/"}).app_map == {"web-*": "web/"}
    assert resolve(app_map='{"api-*": "/staging"}').app_map == {"api-*": "/staging"}
    # None and "" mean unset
    assert resolve(app_map=None).app_map == {"legacy-*": "legacy/production"}
    assert resolve(app_map="").app_map == {"legacy-*": "legacy/production"}


def test_tag_keys_and_salt_from_env(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_ENV_TAG_KEYS", "Tier, Lane")
    monkeypatch.setenv("TWELVEFACTOR_APP_TAG_KEYS", "Product")
    monkeypatch.setenv("TWELVEFACTOR_REDACTION_SALT", "s3cret-salt-value")
    settings = resolve()
    assert settings.env_tag_keys == ("Tier", "Lane")
    assert settings.app_tag_keys == ("Product",)
    assert settings.redaction_salt == "s3cret-salt-value"


def test_profile_explicit_beats_env(monkeypatch, aws_config):
    aws_config("[profile staging]\nregion = eu-west-1\n[profile prod]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_PROFILE", "staging")
    assert resolve(source="live").profile == "staging"
    assert resolve(source="live", profile="prod").profile == "prod"


def test_public_has_no_salt(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_REDACTION_SALT", "s3cret-salt-value")
    settings = resolve(regions="eu-west-1", app_map={"a-*": "a/prod"})
    public = settings.public()
    assert "redaction_salt" not in public
    assert "s3cret-salt-value" not in json.dumps(public)
    assert public["regions"] == ["eu-west-1"]
    assert public["app_map"] == {"a-*": "a/prod"}
    assert public["max_workers"] == 8
    # every other setting is recorded (run.json says how the run was made, faults included)
    private = {"redaction_salt", "output_dir"}
    assert set(public) == {f.name for f in dataclasses.fields(Settings)} - private
    assert public["faults"] == ""


def test_with_returns_changed_copy():
    settings = resolve()
    other = settings.with_(max_workers=2)
    assert other.max_workers == 2 and settings.max_workers == 8


# -- errors -----------------------------------------------------------------------------------
def test_unknown_source():
    error = config_error("source", source="prod")
    assert "'prod'" in str(error)
    assert "demo, live, snapshot" in str(error)


def test_unknown_source_from_env(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_SOURCE", "moto")
    config_error("source")


def test_snapshot_source_without_snapshot():
    error = config_error("snapshot", source="snapshot")
    assert "TWELVEFACTOR_SNAPSHOT" in error.fix


def test_snapshot_directory_missing(tmp_path):
    missing = tmp_path / "nope"
    error = config_error("snapshot", snapshot=missing)
    assert str(missing) in str(error)


def test_snapshot_that_is_a_file(tmp_path):
    file = tmp_path / "manifest.json"
    file.write_text("{}")
    config_error("snapshot", snapshot=file)


def test_unknown_region_with_hint():
    error = config_error("regions", regions="eu-west-1a")
    assert "'eu-west-1a'" in str(error)
    assert "Did you mean 'eu-west-1'" in str(error)


def test_unknown_region_in_env(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_REGIONS", "us-east-1,useast1")
    config_error("regions")


def test_region_unknown_to_botocore_is_rejected():
    # a region-shaped name botocore does not know is refused (typos look just like this)
    err = config_error("regions", regions="xx-newplace-7")
    assert "upgrade boto3" in str(err)


@pytest.mark.parametrize("typo", ["eu-westt-1", "us-esat-1"])
def test_region_typo_is_rejected_with_hint(typo):
    error = config_error("regions", regions=typo)
    assert "Did you mean" in str(error)


def test_live_without_any_region():
    error = config_error("regions", source="live")
    assert "AWS_REGION" in error.fix


def test_unknown_profile_live():
    error = config_error("profile", source="live", profile="nosuch", regions="eu-west-1")
    assert "'nosuch'" in str(error)
    assert "(none configured)" in str(error)


def test_unknown_profile_from_env(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    config_error("profile", source="live", regions="eu-west-1")


@pytest.mark.parametrize(
    ("kwargs", "profile"),
    [
        ({"source": "live", "profile": "staging", "regions": "eu-west-1"}, "staging"),
        ({"source": "live", "regions": "eu-west-1", "check_profile": False}, "nosuch"),
        ({"source": "demo", "regions": "eu-west-1"}, "nosuch"),
    ],
)
def test_missing_env_profile_does_not_break_other_paths(monkeypatch, aws_config, kwargs, profile):
    aws_config("[profile staging]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    assert resolve(**kwargs).profile == profile


def test_missing_env_profile_harmless_without_aws_lookups(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    assert resolve(source="demo").profile == "nosuch"


def test_unknown_profile_hint(aws_config):
    aws_config("[profile staging]\nregion = eu-west-1\n")
    error = config_error("profile", source="live", profile="stagign", regions="eu-west-1")
    assert "Did you mean 'staging'" in str(error)


def test_profile_not_checked_outside_live_or_when_disabled():
    assert resolve(source="demo", profile="nosuch").profile == "nosuch"
    settings = resolve(source="live", profile="nosuch", regions="eu-west-1", check_profile=False)
    assert settings.profile == "nosuch"


@pytest.mark.parametrize("url", ["127.0.0.1:5000", "ftp://host", "localhost", "htp://x"])
def test_endpoint_url_must_be_http(url):
    error = config_error("endpoint_url", endpoint_url=url)
    assert repr(url) in str(error)


def test_endpoint_url_from_env_validated(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "localhost:5000")
    config_error("endpoint_url")


@pytest.mark.parametrize(
    ("app_map", "snippet"),
    [
        ("{not json", "not valid JSON"),
        ('{"legacy-*": "legacy/production"', "not valid JSON"),
        ('["legacy/production"]', "must be a JSON object"),
        ('"legacy/production"', "must be a JSON object"),
    ],
)
def test_app_map_bad_json(app_map, snippet):
    error = config_error("app_map", app_map=app_map)
    assert snippet in str(error)


@pytest.mark.parametrize(
    "app_map",
    [
        {"legacy-*": "legacy"},
        {"legacy-*": 3},
        {"legacy-*": None},
        '{"legacy-*": "production"}',
        '{"legacy-*": ["legacy", "production"]}',
    ],
)
def test_app_map_wrong_shape(app_map):
    error = config_error("app_map", app_map=app_map)
    assert "application/environment" in str(error)


def test_app_map_bad_json_in_env_names_the_variable(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_APP_MAP", "{oops")
    config_error("TWELVEFACTOR_APP_MAP")


@pytest.mark.parametrize("workers", [0, -1, "0", "abc", "2.5", " "])
def test_max_workers_invalid(workers):
    error = config_error("max_workers", max_workers=workers)
    assert repr(workers) in str(error)


def test_max_workers_invalid_in_env(monkeypatch):
    monkeypatch.setenv("TWELVEFACTOR_MAX_WORKERS", "many")
    error = config_error("max_workers")
    assert "'many'" in str(error)
