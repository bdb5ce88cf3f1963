"""Evidence tables per check id: what a reader needs to see to agree (or not) with a verdict."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from .workbook import Workbook

EVIDENCE: dict[str, Callable[[Workbook], pd.DataFrame]] = {}


def evidence(check_id: str):
    def register(fn):
        EVIDENCE[check_id] = fn
        return fn

    return register


PLACE = ["application", "environment", "region"]


@evidence("TF03-SECRETS-IN-ENV")
def _secrets_in_env(wb: Workbook) -> pd.DataFrame:
    """Every plaintext variable that looks secret; values appear only as redaction markers."""
    env = wb.inventory.environment
    flagged = env[(env["redacted_kind"] != "") | env["ecs8_name"]].copy()
    flagged["detected"] = flagged["redacted_kind"].where(
        flagged["redacted_kind"] != "", "ecs8-key-name"
    )
    flagged["task_definition"] = flagged["family"] + ":" + flagged["revision"].astype(str)
    cols = PLACE + ["task_definition", "container", "name", "detected", "value"]
    return flagged[cols].sort_values(PLACE + ["task_definition", "name"]).reset_index(drop=True)


@evidence("TF03-SECRET-REFS-RESOLVE")
def _secret_refs(wb: Workbook) -> pd.DataFrame:
    """Each secret reference with where it points and whether it resolved."""
    rows = []
    for _, f in wb.findings_for(check_id="TF03-SECRET-REFS-RESOLVE").iterrows():
        for ref in json.loads(f["evidence"]).get("references", []):
            rows.append(
                {
                    "application": f["application"],
                    "environment": f["environment"],
                    "region": f["region"],
                    "task_definition": f["resource_id"],
                }
                | ref
            )
    cols = PLACE + ["task_definition", "container", "name", "verdict", "detail"]
    return pd.DataFrame(rows, columns=cols)


@evidence("TF03-SECRET-ROTATION")
def _rotation(wb: Workbook) -> pd.DataFrame:
    secrets = wb.inventory.secrets
    cols = PLACE + ["name", "rotation_enabled", "rotation_days", "last_rotated", "last_changed"]
    return secrets[cols].sort_values(PLACE + ["name"]).reset_index(drop=True)


@evidence("TF03-PARAM-PLAINTEXT-SECRET")
def _plaintext_params(wb: Workbook) -> pd.DataFrame:
    params = wb.inventory.parameters
    cols = PLACE + ["name", "type", "key_id", "version"]
    return params[params["secret_name"]][cols].sort_values(PLACE + ["name"]).reset_index(drop=True)


def _presence(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """A key x environment matrix per application: ✓ present, ✗ missing, blank not deployed."""
    envs = sorted(e for e in frame["environment"].unique() if e)
    deployed = frame.groupby("application")["environment"].agg(set).to_dict()
    present = set(zip(frame["application"], frame[key], frame["environment"], strict=True))
    rows = []
    for app, k in sorted(set(zip(frame["application"], frame[key], strict=True))):
        row = {"application": app, key: k}
        for env in envs:
            row[env] = ("✓" if (app, k, env) in present else "✗") if env in deployed[app] else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=["application", key, *envs])


@evidence("TF03-PARAM-HIERARCHY")
def _hierarchy(wb: Workbook) -> pd.DataFrame:
    params = wb.inventory.parameters
    tree = params[params["hierarchy_key"] != ""][["application", "environment", "hierarchy_key"]]
    return _presence(tree, "hierarchy_key")


@evidence("TF03-ENV-NAMES-PARITY")
def _names(wb: Workbook) -> pd.DataFrame:
    inv = wb.inventory
    cols = ["application", "environment", "container", "name"]
    env = inv.environment[inv.environment["in_use"]][cols].assign(kind="environment")
    refs = inv.secret_refs[inv.secret_refs["in_use"]][cols].assign(kind="secrets")
    names = pd.concat([env, refs])
    names["variable"] = names["container"] + " / " + names["name"] + " (" + names["kind"] + ")"
    return _presence(names[["application", "environment", "variable"]], "variable")
