"""The least-privilege IAM policy of the audit, derived from the collectors (not hand-written)."""

from __future__ import annotations

import json
from typing import Any

from .collect import required_actions

#: Actions of the policy that the demo audit never calls, each with the reason. Kept explicit and
#: minimal: a test fails when the demo reaches one of them (the entry is stale) or calls nothing
#: of an action not listed here, and another test shows each is called once the data exists.
NOT_REACHED_BY_DEMO: dict[str, str] = {
    "codecommit:BatchGetRepositories": (
        "moto does not implement codecommit:ListRepositories, so the demo never has repository "
        "names to describe"
    ),
}


def policy_document() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TwelveFactorAuditReadOnly",
                "Effect": "Allow",
                "Action": required_actions(),
                "Resource": "*",
            }
        ],
    }


def policy_json() -> str:
    return json.dumps(policy_document(), indent=2) + "\n"
