"""Findings in the formats other tools import: AWS Security Finding Format and OCSF.

* **ASFF** (``findings.asff.json``): a list of ``AwsSecurityFinding`` objects, ready for
  Security Hub's ``BatchImportFindings`` (at most 100 per call). Validated against botocore's
  own model of that operation, plus the documented length limits the model does not carry.
* **OCSF** (``findings.ocsf.json``): a list of OCSF 1.1.0 Detection Finding events
  (``class_uid`` 2004), validated against the schema subset in ``data/schemas/``.

Both carry the stable identity of a finding (check, account, region, resource) as their id, so a
re-import updates a finding instead of duplicating it. Evidence is exported as the workbook keeps
it: secret values were replaced by redaction markers at collection time and stay so here.

Both files are written a finding at a time (``write_exports``): memory does not grow with them.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .catalog import load_catalog
from .findings import IDENTITY
from .jsonfiles import write_array

PRODUCT_NAME = "Twelve-Factor AWS Workbook"
COMPANY_NAME = "twelvefactor"
ASFF_SCHEMA_VERSION = "2018-10-08"
ASFF_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards/Twelve-Factor App"
#: Length limits of ASFF fields documented by Security Hub (botocore's model has no maxima).
ASFF_LIMITS = {
    "Id": 512,
    "GeneratorId": 512,
    "Title": 256,
    "Description": 1024,
    "Remediation.Recommendation.Text": 512,
    "Note.Text": 512,
    "ProductFields.key": 128,
    "ProductFields.value": 2048,
    "ProductFields.items": 50,
    "Resources.items": 32,
    "Resources.Details.Other.key": 128,
    "Resources.Details.Other.value": 1024,
}
OCSF_VERSION = "1.1.0"
OCSF_SCHEMA = "ocsf-1.1.0-detection-finding.schema.json"

_COMPLIANCE = {
    "PASS": "PASSED",
    "FAIL": "FAILED",
    "INFO": "WARNING",
    "SKIP": "NOT_AVAILABLE",
    "ERROR": "NOT_AVAILABLE",
}
_OCSF_SEVERITY = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_OCSF_SEVERITY_NAME = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}


def finding_uid(row: dict[str, Any]) -> str:
    """The stable id of a finding: ``twelvefactor/<check>/<account>/<region>/<resource>``.

    Ids longer than ASFF allows keep their start and end a hash of the whole.
    """
    uid = "twelvefactor/" + "/".join([str(row[k]) or "-" for k in IDENTITY])
    if len(uid) > ASFF_LIMITS["Id"]:
        digest = hashlib.sha256(uid.encode()).hexdigest()[:16]
        uid = f"{uid[: ASFF_LIMITS['Id'] - 17]}#{digest}"
    return uid


def _cut(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _timestamp(when: datetime | str | None) -> datetime:
    if isinstance(when, datetime):
        return when.astimezone(UTC)
    if when:
        return datetime.fromisoformat(str(when)).astimezone(UTC)
    return datetime.now(UTC)


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def records(findings: pd.DataFrame, chunk: int = 2000) -> Iterator[dict[str, Any]]:
    """The rows as dicts (as ``to_dict(orient="records")`` gives them), a chunk at a time."""
    names = list(findings.columns)
    for start in range(0, len(findings), chunk):
        part = findings.iloc[start : start + chunk]
        for values in zip(*(part[name].tolist() for name in names), strict=True):
            yield dict(zip(names, values, strict=True))


# -- ASFF ---------------------------------------------------------------------------------------
def to_asff(
    findings: pd.DataFrame, *, when: datetime | str | None = None, default_region: str = ""
) -> list[dict[str, Any]]:
    """Every finding as an ``AwsSecurityFinding``; ``default_region`` for findings without one."""
    return list(iter_asff(findings, when=when, default_region=default_region))


def iter_asff(
    findings: pd.DataFrame, *, when: datetime | str | None = None, default_region: str = ""
) -> Iterator[dict[str, Any]]:
    """The findings of ``to_asff``, one at a time."""
    catalog = load_catalog()
    stamp = _timestamp(when).isoformat(timespec="seconds").replace("+00:00", "Z")
    remedies: dict[str, str] = {}  # a check's remediation text, cut once
    for row in records(findings):
        meta = catalog.get(row["check_id"])
        region = row["region"] or default_region or "us-east-1"
        account = str(row["account"])
        status, muted = row["status"], bool(row.get("muted"))
        severity = str(row["severity"]).upper() if status == "FAIL" else "INFORMATIONAL"
        other = {
            "application": row["application"],
            "environment": row["environment"],
            "resource_id": row["resource_id"],
        }
        resource = {
            "Type": row["resource_type"] or "Other",
            "Id": row["resource_arn"] or row["resource_id"],
            "Partition": _partition(region),
            "Region": region,
            "Details": {
                "Other": {
                    k: _cut(v, ASFF_LIMITS["Resources.Details.Other.value"])
                    for k, v in other.items()
                    if v
                }
            },
        }
        if not resource["Details"]["Other"]:
            del resource["Details"]
        fields = {
            "twelvefactor/factor": str(row["factor"]),
            "twelvefactor/status": status,
            "twelvefactor/check_id": row["check_id"],
        }
        if len(row["evidence"]) <= ASFF_LIMITS["ProductFields.value"]:
            fields["twelvefactor/evidence"] = row["evidence"]
        finding: dict[str, Any] = {
            "SchemaVersion": ASFF_SCHEMA_VERSION,
            "Id": finding_uid(row),
            "ProductArn": f"arn:{_partition(region)}:securityhub:{region}:{account}:product/"
            f"{account}/default",
            "ProductName": PRODUCT_NAME,
            "CompanyName": COMPANY_NAME,
            "GeneratorId": row["check_id"],
            "AwsAccountId": account,
            "Types": [ASFF_TYPE],
            "CreatedAt": stamp,
            "UpdatedAt": stamp,
            "Severity": {"Label": severity, "Original": str(row["severity"])},
            "Title": _cut(f"{row['check_id']} {row['title']}", ASFF_LIMITS["Title"]),
            "Description": _cut(row["message"], ASFF_LIMITS["Description"]),
            "Resources": [resource],
            "Compliance": {"Status": _COMPLIANCE[status]},
            "Workflow": {
                "Status": "SUPPRESSED" if muted else ("RESOLVED" if status == "PASS" else "NEW")
            },
            "RecordState": "ACTIVE",
            "ProductFields": fields,
        }
        if meta is not None:
            if meta.id not in remedies:
                remedies[meta.id] = _cut(
                    meta.remediation, ASFF_LIMITS["Remediation.Recommendation.Text"]
                )
            recommendation = {"Text": remedies[meta.id]}
            if meta.references:
                recommendation["Url"] = meta.references[0]
            finding["Remediation"] = {"Recommendation": recommendation}
        if muted:
            finding["Note"] = {
                "Text": _cut(f"Suppressed: {row['muted_reason']}", ASFF_LIMITS["Note.Text"]),
                "UpdatedBy": COMPANY_NAME,
                "UpdatedAt": stamp,
            }
        yield finding


def _member_names(shape: Any, seen: set[str] | None = None) -> set[str]:
    """Every member name of every structure reachable from a botocore shape."""
    seen = set() if seen is None else seen
    if shape.name in seen:
        return set()
    seen.add(shape.name)
    if shape.type_name == "structure":
        names = set(shape.members)
        for member in shape.members.values():
            names |= _member_names(member, seen)
        return names
    if shape.type_name == "list":
        return _member_names(shape.member, seen)
    if shape.type_name == "map":
        return _member_names(shape.key, seen) | _member_names(shape.value, seen)
    return set()


class AsffValidator:
    """Checks ``AwsSecurityFinding`` objects as they are made, for ``BatchImportFindings``.

    * the documented length limits (which botocore's model does not carry): on every finding;
    * botocore's model of the operation: on one finding of each *shape*. The model's validation
      looks at keys, types, list lengths and minimum lengths, never at the text of a string
      (Security Hub's model sets no string minimum above 1 and no timestamp members:
      ``tests/unit/test_exports.py`` keeps that true). The shape of a finding is it encoded with
      every string that is not a member name of the model replaced by whether it is empty
      (numbers kept), so two findings of one shape get the same verdict, and botocore runs a
      few times per export (a handful of shapes: muted or not, evidence kept or too long ...)
      instead of once per finding. A finding holding values JSON does not know is validated
      by itself. Each is validated as a batch of one, so the request around the findings is
      validated too (``Findings``: a list of 1 to 100; ``batches`` says how many
      ``BatchImportFindings`` calls an import takes).
    """

    def __init__(self) -> None:
        import botocore.session
        from botocore.validate import ParamValidator

        model = botocore.session.get_session().get_service_model("securityhub")
        self.model = model.operation_model("BatchImportFindings").input_shape
        self.validator = ParamValidator()
        self.seen: set[str] = set()
        self.count = 0
        names = frozenset(_member_names(self.model))

        def string(text: str) -> str:
            return f'"{text}"' if text in names else ('"1"' if text else '""')

        def refuse(value: Any) -> Any:
            raise TypeError(type(value).__name__)

        make = json.encoder.c_make_encoder  # type: ignore[attr-defined]
        self._encode = (
            make(None, refuse, string, None, ":", ",", False, False, True) if make else None
        )

    @property
    def batches(self) -> int:
        return -(-self.count // 100)

    def shape(self, finding: dict[str, Any]) -> str | None:
        """``finding`` as it matters to botocore's validation (None: validate it by itself)."""
        if self._encode is None:
            return None
        try:
            return "".join(self._encode(finding, 0))
        except TypeError:
            return None

    def check(self, finding: dict[str, Any]) -> dict[str, Any]:
        """Raise ValueError unless ``finding`` is valid; the finding."""
        index = self.count
        self.count += 1
        _check_limits(finding)
        shape = self.shape(finding)
        if shape is None or shape not in self.seen:
            report = self.validator.validate({"Findings": [finding]}, self.model)
            if report.has_errors():
                raise ValueError(
                    f"ASFF finding {index} ({finding.get('Id', '?')}): "
                    + report.generate_report().replace("Findings[0].", "")
                )
            if shape is not None:
                self.seen.add(shape)
        return finding

    def checked(self, findings: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for finding in findings:
            yield self.check(finding)


def _check_limits(f: dict[str, Any]) -> None:
    problems = [
        f"{name} longer than {ASFF_LIMITS[name]}"
        for name, value in (
            ("Id", f.get("Id", "")),
            ("GeneratorId", f.get("GeneratorId", "")),
            ("Title", f.get("Title", "")),
            ("Description", f.get("Description", "")),
            ("Note.Text", f.get("Note", {}).get("Text", "")),
            (
                "Remediation.Recommendation.Text",
                f.get("Remediation", {}).get("Recommendation", {}).get("Text", ""),
            ),
        )
        if isinstance(value, str) and len(value) > ASFF_LIMITS[name]
    ]
    if not 1 <= len(f.get("Resources", [])) <= ASFF_LIMITS["Resources.items"]:
        problems.append("Resources must hold 1 to 32 resources")
    fields = f.get("ProductFields", {})
    if len(fields) > ASFF_LIMITS["ProductFields.items"]:
        problems.append("more than 50 ProductFields")
    problems += [
        f"ProductFields {k!r} too long"
        for k, v in fields.items()
        if len(k) > ASFF_LIMITS["ProductFields.key"] or len(v) > ASFF_LIMITS["ProductFields.value"]
    ]
    if problems:
        raise ValueError(f"ASFF finding {f.get('Id', '?')}: {'; '.join(problems)}")


def validate_asff(findings: Iterable[dict[str, Any]]) -> None:
    """Raise ValueError unless every finding is a valid ``BatchImportFindings`` input.

    The documented length limits on every finding, botocore's model of Security Hub on one
    finding of each shape: see ``AsffValidator``.
    """
    validator = AsffValidator()
    for finding in findings:
        validator.check(finding)


# -- OCSF ---------------------------------------------------------------------------------------
def to_ocsf(
    findings: pd.DataFrame, *, when: datetime | str | None = None, default_region: str = ""
) -> list[dict[str, Any]]:
    """Every finding as an OCSF 1.1.0 Detection Finding event (class 2004, activity Create)."""
    return list(iter_ocsf(findings, when=when, default_region=default_region))


def iter_ocsf(
    findings: pd.DataFrame, *, when: datetime | str | None = None, default_region: str = ""
) -> Iterator[dict[str, Any]]:
    """The events of ``to_ocsf``, one at a time."""
    catalog = load_catalog()
    ms = int(_timestamp(when).timestamp() * 1000)
    for row in records(findings):
        meta = catalog.get(row["check_id"])
        region = row["region"] or default_region
        status, muted = row["status"], bool(row.get("muted"))
        severity_id = _OCSF_SEVERITY[str(row["severity"])] if status == "FAIL" else 1
        status_id = 3 if muted else 1  # Suppressed / New
        resource: dict[str, Any] = {
            "uid": row["resource_arn"] or row["resource_id"],
            "name": row["resource_id"],
            "type": row["resource_type"],
            "cloud_partition": _partition(region),
            "data": {"application": row["application"], "environment": row["environment"]},
        }
        if region:
            resource["region"] = region
        cloud: dict[str, Any] = {
            "provider": "AWS",
            "account": {"uid": str(row["account"]), "type": "AWS Account", "type_id": 10},
        }
        if region:
            cloud["region"] = region
        event: dict[str, Any] = {
            "activity_id": 1,
            "activity_name": "Create",
            "category_uid": 2,
            "category_name": "Findings",
            "class_uid": 2004,
            "class_name": "Detection Finding",
            "type_uid": 200401,
            "type_name": "Detection Finding: Create",
            "severity_id": severity_id,
            "severity": _OCSF_SEVERITY_NAME[severity_id],
            "status_id": status_id,
            "status": "Suppressed" if muted else "New",
            "status_code": status,
            "status_detail": row["message"],
            "time": ms,
            "message": row["message"],
            "is_alert": status == "FAIL" and not muted,
            "metadata": {
                "version": OCSF_VERSION,
                "product": {
                    "name": PRODUCT_NAME,
                    "vendor_name": COMPANY_NAME,
                    "version": __version__,
                },
                "event_code": row["check_id"],
                "profiles": ["cloud"],
            },
            "finding_info": {
                "uid": finding_uid(row),
                "title": f"{row['check_id']} {row['title']}",
                "desc": row["message"],
                "types": [f"Twelve-Factor App/Factor {int(row['factor'])}"],
                "created_time": ms,
                "analytic": {
                    "uid": row["check_id"],
                    "name": row["title"],
                    "type_id": 1,
                    "type": "Rule",
                },
            },
            "cloud": cloud,
            "resources": [resource],
            "unmapped": {
                "factor": int(row["factor"]),
                "check_severity": str(row["severity"]),
                "evidence": json.loads(row["evidence"] or "{}"),
                "muted": muted,
                "muted_reason": row.get("muted_reason", ""),
            },
        }
        if meta is not None:
            event["remediation"] = {"desc": meta.remediation, "references": list(meta.references)}
        yield event


def ocsf_schema() -> dict[str, Any]:
    from .settings import data_dir

    return json.loads((data_dir() / "schemas" / OCSF_SCHEMA).read_text())


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with its local ``#/$defs/...`` references replaced by their targets.

    The vendored schema has no cycles; inlining makes validation several times faster.
    """
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def validate_ocsf(events: list[dict[str, Any]]) -> None:
    """Raise ValueError unless every event is valid against the vendored OCSF schema subset."""
    import jsonschema

    schema = ocsf_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(_inline(schema, schema.get("$defs", {})))
    for i, event in enumerate(events):
        if not validator.is_valid(event):
            errors = sorted(validator.iter_errors(event), key=lambda e: list(e.absolute_path))
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(event)"
            raise ValueError(f"OCSF event {i} at {where}: {errors[0].message}")
        if event["type_uid"] != event["class_uid"] * 100 + event["activity_id"]:
            raise ValueError(f"OCSF event {i}: type_uid is not class_uid * 100 + activity_id")


def write_exports(
    findings: pd.DataFrame,
    out: Path,
    *,
    when: datetime | str | None = None,
    default_region: str = "",
) -> dict[str, str]:
    """Write findings.asff.json and findings.ocsf.json into ``out``; their names.

    Each file is written a finding at a time (``jsonfiles.write_array``: the bytes of
    ``json.dumps(..., indent=1, ensure_ascii=False)``), so memory does not grow with the files.
    ASFF is validated as it is written (``AsffValidator``: botocore is loaded anyway); an invalid
    finding stops the export and leaves no ASFF file. The OCSF export is validated by the tests
    (``validate_ocsf``), as importing jsonschema's format checkers costs seconds on every run.
    """
    asff = AsffValidator()
    write_array(
        out / "findings.asff.json",
        asff.checked(iter_asff(findings, when=when, default_region=default_region)),
        ensure_ascii=False,
    )
    write_array(
        out / "findings.ocsf.json",
        iter_ocsf(findings, when=when, default_region=default_region),
        ensure_ascii=False,
    )
    return {"asff": "findings.asff.json", "ocsf": "findings.ocsf.json"}
