"""The least-privilege IAM policy of the audit, derived from the collectors (not hand-written)."""

from __future__ import annotations

import json
from typing import Any

from .collect import required_actions


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
