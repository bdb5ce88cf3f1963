"""The shipped policy is least privilege in both directions, measured on the demo audit.

Every call of the demo audit is in the policy (also tested end to end in the demo audit test), and
the policy holds no action the audit does not call -- except the few in NOT_REACHED_BY_DEMO, each
explained, and each shown here to be called when the account has the data.
"""

from __future__ import annotations

import json

import moto
import pytest
from botocore.stub import Stubber
from faultkit import clean_demo

from twelvefactor.aws import AwsAccess
from twelvefactor.collect import COLLECTORS
from twelvefactor.policy import NOT_REACHED_BY_DEMO, policy_document
from twelvefactor.settings import Settings, data_dir

REGION = "eu-west-1"

#: How to make each NOT_REACHED_BY_DEMO action happen: the collector's service and the stubbed
#: answers (operation, response) it needs before it calls the action.
REACH = {
    "codecommit:BatchGetRepositories": (
        "codecommit",
        [
            ("list_repositories", {"repositories": [{"repositoryName": "payments"}]}),
            ("batch_get_repositories", {"repositories": [{"repositoryName": "payments"}]}),
        ],
    ),
}


@pytest.fixture(scope="module")
def demo_calls() -> set[str]:
    return {c["action"] for c in clean_demo().snapshot.manifest["api_calls"]}


def policy_actions() -> set[str]:
    return set(policy_document()["Statement"][0]["Action"])


def test_the_shipped_file_is_the_derived_policy():
    shipped = json.loads((data_dir() / "iam-policy.json").read_text())
    assert shipped == policy_document()


def test_every_demo_call_is_allowed(demo_calls):
    assert demo_calls <= policy_actions(), demo_calls - policy_actions()


def test_the_policy_holds_nothing_the_demo_does_not_call_but_the_explained(demo_calls):
    unused = policy_actions() - demo_calls
    assert unused == set(NOT_REACHED_BY_DEMO), (
        f"in the policy, not called by the demo and not explained: "
        f"{sorted(unused - set(NOT_REACHED_BY_DEMO))}; "
        f"explained but called by the demo (stale): {sorted(set(NOT_REACHED_BY_DEMO) - unused)}"
    )
    print(
        f"\npolicy: {len(policy_actions())} actions, {len(demo_calls)} called by the demo, "
        f"not reached: {sorted(NOT_REACHED_BY_DEMO)}"
    )


@pytest.mark.parametrize("action", sorted(NOT_REACHED_BY_DEMO))
def test_an_action_the_demo_does_not_reach_is_called_when_the_data_exists(action, monkeypatch):
    assert action in REACH, f"show how {action} is reached: add it to REACH"
    service, answers = REACH[action]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        access = AwsAccess(Settings(regions=(REGION,)), demo_in_process=True)
        collector = COLLECTORS[service](access, REGION)
        with Stubber(collector.client) as stub:
            for operation, response in answers:
                stub.add_response(operation, response)
            collector.collect()
            stub.assert_no_pending_responses()
    assert collector.errors == []
    assert action in {c["action"] for c in access.meter.as_records()}
