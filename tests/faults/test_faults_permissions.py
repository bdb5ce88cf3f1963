"""Partial permissions, enforced by moto's own IAM: the audit completes and says what it missed.

A moto server in this process is seeded with the demo account (unauthenticated, as moto allows
before enforcement starts), then two IAM users are made: one with the shipped least-privilege
policy, one with that policy minus a few actions. From then on moto authenticates every request
(SigV4 with the user's keys) and authorises it against the user's policy, and each user audits the
account. The partial run may differ from the full run only by ERROR/SKIP verdicts, names each
missing action, and PASSes nothing that needed it.
"""

from __future__ import annotations

import json

import boto3
import pandas as pd
import pytest
from conftest import MOTO_GAPS, clean_environment
from faultkit import assert_degraded_honestly, free_port, moto_api

from twelvefactor.demo import load_scenario, seed_server
from twelvefactor.policy import policy_document
from twelvefactor.runner import audit, summary_text
from twelvefactor.settings import resolve

#: Taken away from the partial user: metadata of images and of parameters.
LOST = ("ecr:DescribeImages", "ssm:DescribeParameters")


def _user(iam, name: str, actions: list[str]) -> dict[str, str]:
    document = policy_document()
    document["Statement"][0]["Action"] = actions
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="audit", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def _audit_as(
    credentials: dict[str, str], endpoint: str, out, scenario
) -> tuple[dict, pd.DataFrame]:
    with clean_environment() as env:
        for name, value in credentials.items():
            env.setenv(name, value)
        env.setenv("TWELVEFACTOR_REDACTION_SALT", scenario.redaction_salt)
        settings = resolve(
            source="live",
            endpoint_url=endpoint,
            regions=list(scenario.regions),
            repo_paths=list(scenario.repo_paths),
        )
        run = audit(settings, out, run_notebooks=False, progress=False)
    findings = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    return run, findings


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from moto.server import ThreadedMotoServer

    scenario = load_scenario()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    previous = None
    try:
        seed_server(scenario, endpoint)
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        allowed = policy_document()["Statement"][0]["Action"]
        assert set(LOST) <= set(allowed)
        full_keys = _user(iam, "auditor", allowed)
        partial_keys = _user(iam, "partial-auditor", [a for a in allowed if a not in LOST])
        # from here on every request is authenticated and authorised against IAM
        answer = json.loads(moto_api(endpoint, "/moto-api/reset-auth", b"0"))
        previous = str(answer["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]).encode()
        # a request with unknown keys is refused: enforcement is really on
        stranger = boto3.client(
            "ecs",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="AKIAUNKNOWNUNKNOWN00",
            aws_secret_access_key="unknown",
        )
        with pytest.raises(Exception, match="403|InvalidClientTokenId|UnrecognizedClient"):
            stranger.list_clusters()
        full = _audit_as(full_keys, endpoint, tmp_path_factory.mktemp("full"), scenario)
        partial = _audit_as(partial_keys, endpoint, tmp_path_factory.mktemp("partial"), scenario)
        yield {"full": full, "partial": partial, "keys": partial_keys}
    finally:
        if previous is not None:
            moto_api(endpoint, "/moto-api/reset-auth", previous)
        server.stop()


def _signature_gap(error: dict) -> bool:
    """moto cannot verify SigV4 of some REST services (it answers SignatureDoesNotMatch)."""
    return "SignatureDoesNotMatch" in error.get("message", "")


def test_the_full_policy_reads_everything_moto_can_authorise(runs):
    run, _ = runs["full"]
    errors = run["snapshot"]["errors"]
    unexplained = [
        e
        for e in errors
        if (e["service"], e["operation"]) not in MOTO_GAPS and not _signature_gap(e)
    ]
    assert unexplained == []
    assert run["snapshot"]["caller_arn"].endswith(":user/auditor")
    gaps = sorted({e["action"] for e in errors if _signature_gap(e)})
    print(f"\nmoto authorises every audited service; SigV4 not verifiable by moto for: {gaps}")


def test_missing_actions_become_errors_naming_them_and_nothing_else_changes(runs):
    full_run, full = runs["full"]
    partial_run, partial = runs["partial"]
    assert partial_run["snapshot"]["caller_arn"].endswith(":user/partial-auditor")
    errors = partial_run["snapshot"]["errors"]
    denied = [e for e in errors if e["action"] in LOST]
    assert denied and {e["kind"] for e in denied} == {"access-denied"}

    # only the lost actions were added to the full run's errors
    def key(e):
        return (e["region"], e["action"], e["resource"])

    assert {key(e) for e in errors} - {key(e) for e in full_run["snapshot"]["errors"]} == {
        key(e) for e in denied
    }
    figures = assert_degraded_honestly(full, partial, errors, LOST)
    for action in LOST:  # the remedy names the action
        assert partial["message"].str.contains(f"grant {action} to the audit role").any(), action
    print(f"\npartial permissions (without {', '.join(LOST)}): {figures}")


def test_the_run_record_and_report_list_the_gaps(runs, tmp_path):
    full_run, _ = runs["full"]
    partial_run, partial = runs["partial"]
    assert partial_run["could_not_evaluate"] > full_run["could_not_evaluate"]
    assert partial_run["could_not_evaluate"] == int((partial["status"] == "ERROR").sum())
    text = summary_text(partial_run, tmp_path)
    assert "could not be evaluated (ERROR)" in text
    recorded = {e["action"] for e in partial_run["snapshot"]["errors"]}
    assert set(LOST) <= recorded


def test_the_keys_in_use_are_not_kept(runs):
    secret = runs["keys"]["AWS_SECRET_ACCESS_KEY"]
    key_id = runs["keys"]["AWS_ACCESS_KEY_ID"]
    run, findings = runs["partial"]
    blob = json.dumps(run, default=str) + findings.to_csv()
    assert secret not in blob
    assert key_id not in blob
