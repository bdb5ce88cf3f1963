"""ASFF and OCSF exports: valid against their schemas, and the validators do refuse bad input."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pandas as pd
import pytest
from test_suppressions import finding, frame

from twelvefactor import exports
from twelvefactor.exports import ASFF_TYPE
from twelvefactor.findings import Severity, Status
from twelvefactor.suppressions import apply, parse

WHEN = "2026-11-28T08:21:14+00:00"


@pytest.fixture
def findings():
    f = frame(
        finding(),
        finding(check_id="TF02-IMAGE-PINNED", severity=Severity.HIGH, status=Status.PASS),
        finding(check_id="TF02-IMAGE-SCANNING", status=Status.ERROR, region="", resource_arn=""),
        finding(check_id="TF06-ONE-PROCESS", status=Status.SKIP, message="x" * 3000),
        finding(
            check_id="TF01-REPO-PER-APP", status=Status.INFO, evidence='{"a": "' + "y" * 3000 + '"}'
        ),
    )
    return apply(f, parse("suppressions:\n  - check: TF03-*\n    reason: accepted\n"))


def test_asff_is_valid_for_batch_import_findings(findings):
    asff = exports.to_asff(findings, when=WHEN, default_region="eu-west-1")
    exports.validate_asff(asff)
    by_generator = {f["GeneratorId"]: f for f in asff}
    secrets = by_generator["TF03-SECRETS-IN-ENV"]
    assert secrets["Id"] == (
        "twelvefactor/TF03-SECRETS-IN-ENV/123456789012/eu-west-1/payments-prod:1"
    )
    assert secrets["Severity"] == {"Label": "CRITICAL", "Original": "critical"}
    assert secrets["Compliance"] == {"Status": "FAILED"}
    assert secrets["Workflow"] == {"Status": "SUPPRESSED"}  # muted
    assert secrets["Note"]["Text"] == "Suppressed: accepted"
    assert secrets["Remediation"]["Recommendation"]["Url"].startswith("https://")
    assert secrets["CreatedAt"] == "2026-11-28T08:21:14Z"
    passed = by_generator["TF02-IMAGE-PINNED"]
    assert passed["Severity"]["Label"] == "INFORMATIONAL"
    assert passed["Workflow"] == {"Status": "RESOLVED"}
    error = by_generator["TF02-IMAGE-SCANNING"]
    assert error["Compliance"] == {"Status": "NOT_AVAILABLE"}
    assert error["Resources"][0]["Region"] == "eu-west-1"  # the default for region-less findings
    assert len(by_generator["TF06-ONE-PROCESS"]["Description"]) == 1024
    assert "twelvefactor/evidence" not in by_generator["TF01-REPO-PER-APP"]["ProductFields"]


def test_more_than_100_findings_validate_in_batches(findings):
    many = exports.to_asff(findings, when=WHEN) * 41  # 205: three BatchImportFindings calls
    exports.validate_asff(many)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda f: f.pop("AwsAccountId"), "AwsAccountId"),
        (lambda f: f.__setitem__("Resources", []), "Resources"),
        (lambda f: f["Severity"].__setitem__("Label", 3), "Label"),
        (lambda f: f.__setitem__("Title", "t" * 300), "Title longer than 256"),
        (lambda f: f["ProductFields"].__setitem__("k" * 200, "v"), "ProductFields"),
    ],
)
def test_the_asff_validator_refuses_invalid_findings(findings, damage, match):
    asff = exports.to_asff(findings, when=WHEN)
    broken = copy.deepcopy(asff)
    damage(broken[0])
    with pytest.raises(ValueError, match=match):
        exports.validate_asff(broken)


def test_ocsf_detection_findings_are_valid(findings):
    events = exports.to_ocsf(findings, when=WHEN, default_region="eu-west-1")
    exports.validate_ocsf(events)
    first = events[0]
    assert (first["class_uid"], first["category_uid"], first["type_uid"]) == (2004, 2, 200401)
    assert first["metadata"]["version"] == "1.1.0"
    assert first["time"] == int(datetime.fromisoformat(WHEN).timestamp()) * 1000
    by_check = {e["metadata"]["event_code"]: e for e in events}
    secrets = by_check["TF03-SECRETS-IN-ENV"]
    assert (secrets["status_id"], secrets["status"], secrets["status_code"]) == (
        3,
        "Suppressed",
        "FAIL",
    )
    assert secrets["severity_id"] == 5 and secrets["is_alert"] is False
    assert secrets["finding_info"]["uid"] == exports.finding_uid(
        findings[findings["check_id"] == "TF03-SECRETS-IN-ENV"].iloc[0].to_dict()
    )
    assert by_check["TF02-IMAGE-PINNED"]["severity_id"] == 1  # a PASS is informational
    assert secrets["cloud"]["account"]["uid"] == "123456789012"


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda e: e.__setitem__("class_uid", 2001), "2004"),
        (lambda e: e["finding_info"].pop("uid"), "uid"),
        (lambda e: e["metadata"].pop("product"), "product"),
        (lambda e: e.__setitem__("severity_id", 7), "severity_id"),
        (lambda e: e.__setitem__("time", "2026-11-28"), "time"),
        (lambda e: e.__setitem__("finding", {}), "finding"),  # not an OCSF attribute
        (lambda e: e.__setitem__("type_uid", 200402), "type_uid"),
    ],
)
def test_the_ocsf_schema_refuses_invalid_events(findings, damage, match):
    events = copy.deepcopy(exports.to_ocsf(findings, when=WHEN))
    damage(events[0])
    with pytest.raises(ValueError, match=match):
        exports.validate_ocsf(events)


def test_ids_are_stable_and_bounded():
    long = finding(resource_id="r" * 600).as_dict()
    uid = exports.finding_uid(long)
    assert len(uid) == 512 and uid == exports.finding_uid(dict(long))
    assert uid != exports.finding_uid({**long, "resource_id": "r" * 599 + "s"})


def test_write_exports_writes_both_files(findings, tmp_path):
    names = exports.write_exports(findings, tmp_path, when=WHEN, default_region="eu-west-1")
    assert names == {"asff": "findings.asff.json", "ocsf": "findings.ocsf.json"}
    assert len(json.loads((tmp_path / "findings.asff.json").read_text())) == len(findings)
    written = json.loads((tmp_path / "findings.ocsf.json").read_text())
    assert len(written) == len(findings)
    exports.validate_ocsf(written)


def test_the_streamed_files_are_the_bytes_of_one_json_dumps(findings, tmp_path):
    """Written a finding at a time, the files are what dumping the whole list would give."""
    many = pd.concat([findings] * 3, ignore_index=True)  # several shapes, repeated
    exports.write_exports(many, tmp_path, when=WHEN, default_region="eu-west-1")
    for name, whole in [
        ("findings.asff.json", exports.to_asff(many, when=WHEN, default_region="eu-west-1")),
        ("findings.ocsf.json", exports.to_ocsf(many, when=WHEN, default_region="eu-west-1")),
    ]:
        expected = json.dumps(whole, indent=1, ensure_ascii=False).encode()
        assert (tmp_path / name).read_bytes() == expected, name
    exports.write_exports(many.iloc[:0], tmp_path, when=WHEN)
    assert (tmp_path / "findings.asff.json").read_text() == "[]"


def test_records_are_the_rows_of_to_dict(findings):
    assert list(exports.records(findings, chunk=2)) == findings.to_dict(orient="records")
    assert list(exports.records(findings.iloc[:0])) == []


def test_botocore_runs_once_per_shape_and_still_catches_one_bad_finding(findings):
    # 205 findings of 5 shapes at most, none sharing a dict with another
    many = [copy.deepcopy(f) for f in exports.to_asff(findings, when=WHEN) * 41]
    validator = exports.AsffValidator()
    calls = []
    real = validator.validator.validate
    validator.validator.validate = lambda *a: calls.append(1) or real(*a)
    for one in many:
        validator.check(one)
    assert 1 <= len(calls) == len(validator.seen) <= 5
    assert validator.batches == 3  # BatchImportFindings takes 100 at a time

    # a finding shaped like no other is validated: a missing member, a wrong type, a string for a
    # list member, an unknown member, deep in the list: the finding is named
    for damage, match in [
        (lambda f: f.pop("AwsAccountId"), "AwsAccountId"),
        (lambda f: f["Resources"][0].__setitem__("Region", 7), "Resources\\[0\\].Region"),
        (lambda f: f.__setitem__("Types", ASFF_TYPE), "Types"),
        (lambda f: f["Workflow"].__setitem__("Statuss", "NEW"), "Statuss"),
    ]:
        broken = copy.deepcopy(many)
        damage(broken[150])
        with pytest.raises(ValueError, match=f"ASFF finding 150 .*{match}"):
            exports.validate_asff(broken)


def test_shapes_hold_all_that_botocore_validates():
    """Equal shapes, equal verdicts: botocore's model of the request must not look at text.

    Its validator checks types, required and unknown members, and minimum lengths and values;
    the shape keeps all of these except a string's length, which must then not matter beyond
    empty or not. A botocore upgrade that breaks this fails here, not silently.
    """
    validator = exports.AsffValidator()
    kinds, seen = [], set()

    def walk(shape):
        if shape.name in seen:
            return
        seen.add(shape.name)
        kinds.append((shape.type_name, shape.metadata.get("min")))
        for child in {
            "structure": lambda: shape.members.values(),
            "list": lambda: [shape.member],
            "map": lambda: [shape.key, shape.value],
        }.get(shape.type_name, list)():
            walk(child)

    walk(validator.model)
    assert len(kinds) > 500  # the whole model of a finding was walked
    assert all(minimum in (None, 0, 1) for kind, minimum in kinds if kind == "string")
    assert not any(kind in ("timestamp", "blob") for kind, _ in kinds)
    one = exports.to_asff(frame(finding()), when=WHEN)[0]
    other = exports.to_asff(frame(finding(message="a different text", resource_id="x")), when=WHEN)
    assert validator.shape(one) == validator.shape(other[0])
    assert validator.shape({**one, "Title": ""}) != validator.shape(one)
    assert validator.shape({**one, "Title": 1}) != validator.shape({**one, "Title": "1"})


def test_an_invalid_finding_stops_the_export_and_leaves_no_asff_file(
    findings, tmp_path, monkeypatch
):
    made = exports.iter_asff

    def with_a_bad_one(*args, **kwargs):
        for i, f in enumerate(made(*args, **kwargs)):
            if i == 3:
                f["Severity"]["Label"] = 3
            yield f

    monkeypatch.setattr(exports, "iter_asff", with_a_bad_one)
    with pytest.raises(ValueError, match="ASFF finding 3 .*Label"):
        exports.write_exports(findings, tmp_path, when=WHEN)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
