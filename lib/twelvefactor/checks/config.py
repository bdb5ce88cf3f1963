"""Factor III, Config: store config in the environment -- and secrets out of plain sight."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import pandas as pd

from ..findings import Result, Status
from ..inventory import Inventory
from ..redaction import looks_secret_name
from ..settings import Settings
from . import check
from .common import result, td_id, td_result


@check("TF03-SECRETS-IN-ENV")
def secrets_in_env(inv: Inventory, settings: Settings) -> Iterator[Result]:
    env = inv.rows_by("environment", "task_definition_arn")
    containers = inv.rows_by("containers", "task_definition_arn")
    for td in inv.rows("task_definitions"):
        variables = env.get(td["task_definition_arn"], [])
        bad = [v for v in variables if v["redacted_kind"] != "" or v["ecs8_name"]]
        files = [
            c["container"]
            for c in containers.get(td["task_definition_arn"], [])
            if c["env_files"] > 0
        ]
        if not bad and files:
            yield td_result(
                td,
                Status.INFO,
                f"Task definition {td_id(td)} has no secret-looking plaintext variables, but "
                f"loads environment files from S3 ({', '.join(files)}) that the "
                "audit does not read: check them for secrets.",
                {"variables_checked": len(variables), "environment_files": True},
            )
            continue
        if not bad:
            yield td_result(
                td,
                Status.PASS,
                f"Task definition {td_id(td)} has no secret-looking values in its "
                f"{len(variables)} plaintext environment variables.",
                {"variables_checked": len(variables), "in_use": bool(td["in_use"])},
            )
            continue
        found = [
            {
                "container": r["container"],
                "name": r["name"],
                "detected": r["redacted_kind"] or "ecs8-key-name",
            }
            for r in bad
        ]
        names = ", ".join(sorted({f["name"] for f in found}))
        yield td_result(
            td,
            Status.FAIL,
            f"Task definition {td_id(td)} passes secrets as plaintext environment variables: "
            f"{names}.",
            {"variables": found, "in_use": bool(td["in_use"])},
        )


class _Stores(NamedTuple):
    """What secret references resolve against, by name (built once: a scan of every parameter
    or secret for every reference grows with their product)."""

    #: (region, name without a leading "/") -> type of the first parameter of that name
    parameter_types: dict[tuple[str, str], str]
    #: (region, name) of every secret, by its name and by the name in its ARN (with suffix)
    secret_names: set[tuple[str, str]]


def _secret_arn_name(arn: str) -> str | None:
    """'orders/db-AbCdEf' from arn:aws:secretsmanager:region:account:secret:orders/db-AbCdEf."""
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 else None


def _stores(inv: Inventory) -> _Stores:
    types: dict[tuple[str, str], str] = {}
    for p in inv.rows("parameters"):
        types.setdefault((p["region"], p["name"].lstrip("/")), p["type"])
    names = set()
    for secret in inv.rows("secrets"):
        names.add((secret["region"], secret["name"]))
        names.add((secret["region"], _secret_arn_name(secret["secret_arn"])))
    return _Stores(types, names)


def _resolve(ref: Any, inv: Inventory, stores: _Stores) -> tuple[str, str]:
    """(verdict, detail) for one secrets[].valueFrom; verdict: ok, fail, unknown, out-of-scope."""
    if ref["target_account"] != inv.account:
        return "out-of-scope", f"in account {ref['target_account']}, not audited"
    if ref["target_region"] not in inv.regions:
        return "out-of-scope", f"in region {ref['target_region']}, not audited"
    if ref["store"] == "ssm":
        if inv.gaps(["ssm:DescribeParameters"], ref["target_region"]):
            return "unknown", "parameters could not be listed"
        name = ref["target_name"]
        # top-level parameters have no leading "/" in their name but do in an ARN
        kind = stores.parameter_types.get((ref["target_region"], name.lstrip("/")))
        if kind is None:
            return "fail", f"SSM parameter {name} does not exist"
        if kind == "SecureString":
            return "ok", f"SSM SecureString {name}"
        if looks_secret_name(ref["name"]) or looks_secret_name(name.rsplit("/", 1)[-1]):
            return "fail", f"SSM parameter {name} is a {kind}, not a SecureString"
        return "ok", f"SSM {kind} {name} (plain config injected at start-up, not a secret)"
    if ref["store"] == "secretsmanager":
        if inv.gaps(["secretsmanager:ListSecrets"], ref["target_region"]):
            return "unknown", "secrets could not be listed"
        name = ref["target_name"]
        if (ref["target_region"], name) in stores.secret_names:
            return "ok", f"Secrets Manager secret {name}"
        return "fail", f"Secrets Manager secret {name} does not exist"
    if ref["store"] == "invalid":
        return "fail", f"{ref['value_from']} is not a valid parameter or secret ARN"
    return "fail", f"{ref['value_from']} is neither an SSM parameter nor a Secrets Manager secret"


@check("TF03-SECRET-REFS-RESOLVE")
def secret_refs_resolve(inv: Inventory, settings: Settings) -> Iterator[Result]:
    stores = _stores(inv)
    refs = inv.rows_by("secret_refs", "task_definition_arn")
    for arn in sorted(refs):
        group = refs[arn]
        td = group[0]
        verdicts = []
        for ref in group:
            verdict, detail = _resolve(ref, inv, stores)
            verdicts.append(
                {
                    "container": ref["container"],
                    "name": ref["name"],
                    "verdict": verdict,
                    "detail": detail,
                }
            )
        kinds = {v["verdict"] for v in verdicts}
        broken = [v for v in verdicts if v["verdict"] == "fail"]
        if broken:
            status = Status.FAIL
            message = (
                f"Task definition {td_id(td)} has {len(broken)} secret reference(s) that "
                f"do not resolve to a secret: " + "; ".join(b["detail"] for b in broken) + "."
            )
        elif "unknown" in kinds:
            status = Status.ERROR
            message = (
                f"Could not verify the secret references of {td_id(td)}: the store could "
                "not be read."
            )
        elif "out-of-scope" in kinds:
            status = Status.SKIP
            message = (
                f"Some secret references of {td_id(td)} point outside the audited "
                "accounts or regions."
            )
        else:
            status = Status.PASS
            message = (
                f"All {len(verdicts)} secret references of {td_id(td)} resolve: secrets to "
                "Secrets Manager or SecureString parameters, plain config to String parameters."
            )
        yield td_result(td, status, message, evidence={"references": verdicts})


def _days(value) -> int | str:
    return "?" if pd.isna(value) else int(value)


@check("TF03-SECRET-ROTATION")
def secret_rotation(inv: Inventory, settings: Settings) -> Iterator[Result]:
    used: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ref in inv.rows("secret_refs"):
        if (
            ref["in_use"]
            and ref["store"] == "secretsmanager"
            and ref["target_account"] == inv.account
        ):
            used.setdefault((ref["target_region"], ref["target_name"]), []).append(ref)
    for secret in inv.rows("secrets"):
        region = secret["region"]
        users = [
            *used.get((region, _secret_arn_name(secret["secret_arn"])), []),
            *used.get((region, secret["name"]), []),
        ]
        if not users:
            continue
        who = sorted({td_id(u) for u in users})
        if secret["rotation_enabled"]:
            yield result(
                secret,
                Status.PASS,
                f"Secret {secret['name']} rotates automatically every "
                f"{_days(secret['rotation_days'])} days.",
                resource_type="AwsSecretsManagerSecret",
                resource_id=secret["name"],
                resource_arn=secret["secret_arn"],
                evidence={"used_by": who, "rotation_days": _days(secret["rotation_days"])},
            )
        else:
            yield result(
                secret,
                Status.FAIL,
                f"Secret {secret['name']} is used by running services but never rotates.",
                resource_type="AwsSecretsManagerSecret",
                resource_id=secret["name"],
                resource_arn=secret["secret_arn"],
                evidence={"used_by": who, "rotation_enabled": False},
            )


@check("TF03-PARAM-PLAINTEXT-SECRET")
def param_plaintext_secret(inv: Inventory, settings: Settings) -> Iterator[Result]:
    for p in inv.rows("parameters"):
        if not p["secret_name"]:
            continue
        ok = p["type"] == "SecureString"
        yield result(
            p,
            Status.PASS if ok else Status.FAIL,
            f"Parameter {p['name']} is stored as a SecureString."
            if ok
            else f"Parameter {p['name']} has a secret-looking name but is stored as a plaintext "
            f"{p['type']}.",
            resource_type="AwsSsmParameter",
            resource_id=p["name"],
            evidence={"type": p["type"], "key_id": p["key_id"]},
        )


def _envs_of_services(inv: Inventory) -> dict[str, set[str]]:
    services = inv.services[inv.services["environment"] != ""]
    return services.groupby("application")["environment"].agg(set).to_dict()


@check("TF03-PARAM-HIERARCHY", account_scope=True)
def param_hierarchy(inv: Inventory, settings: Settings) -> Iterator[Result]:
    tree: dict[str, list[dict[str, Any]]] = {}  # application -> its parameters in a hierarchy
    for p in inv.rows("parameters"):
        if p["hierarchy_key"] != "":
            tree.setdefault(p["application"], []).append(p)
    service_envs = _envs_of_services(inv)
    for app in sorted(tree):
        group = tree[app]
        keys: dict[str, set[str]] = {}  # environment -> hierarchy keys
        for p in group:
            keys.setdefault(p["environment"], set()).add(p["hierarchy_key"])
        envs = sorted(set(keys) | service_envs.get(app, set()))
        if len(envs) < 2:
            continue
        union = set().union(*keys.values())
        missing = {env: sorted(union - keys.get(env, set())) for env in envs}
        missing = {env: ks for env, ks in missing.items() if ks}
        row = {
            "account": inv.account,
            "region": ",".join(sorted({p["region"] for p in group})),
            "application": app,
            "environment": ",".join(envs),
        }
        evidence = {"keys": {env: sorted(keys.get(env, set())) for env in envs}, "missing": missing}
        if missing:
            detail = "; ".join(f"{env} lacks {', '.join(ks)}" for env, ks in missing.items())
            yield result(
                row,
                Status.FAIL,
                f"Application {app}'s parameter hierarchies differ across environments: {detail}.",
                resource_type="AwsSsmParameterHierarchy",
                resource_id=f"/{app}/*",
                evidence=evidence,
            )
        else:
            yield result(
                row,
                Status.PASS,
                f"Application {app} has the same {len(union)} parameter keys under "
                f"/{app}/<env>/ in {', '.join(envs)}.",
                resource_type="AwsSsmParameterHierarchy",
                resource_id=f"/{app}/*",
                evidence=evidence,
            )


@check("TF03-ENV-NAMES-PARITY", account_scope=True)
def env_names_parity(inv: Inventory, settings: Settings) -> Iterator[Result]:
    # (application, environment, container) -> {variable name: plain | secret}; a name that is
    # both takes the kind of its secret
    names: dict[tuple[str, str, str], dict[str, str]] = {}
    for table, kind in (("environment", "plain"), ("secret_refs", "secret")):
        for r in inv.rows(table):
            if r["in_use"]:
                where = (r["application"], r["environment"], r["container"])
                names.setdefault(where, {})[r["name"]] = kind
    apps: dict[str, list[dict[str, Any]]] = {}  # application -> its containers in use
    for c in inv.rows("containers"):
        if c["in_use"]:
            apps.setdefault(c["application"], []).append(c)
    for app in sorted(apps):
        group = apps[app]
        envs = sorted({c["environment"] for c in group if c["environment"]})
        if len(envs) < 2:
            continue
        deployed = {(c["container"], c["environment"]) for c in group}
        differences = {}
        for container in sorted({c["container"] for c in group}):
            per_env = {  # environment -> {variable name: plain | secret}
                e: names.get((app, e, container), {}) for e in envs if (container, e) in deployed
            }
            union = set().union(*per_env.values())
            missing = {e: sorted(union - set(ns)) for e, ns in per_env.items() if union - set(ns)}
            kinds = {
                name: {e: ns[name] for e, ns in per_env.items() if name in ns}
                for name in sorted(union)
            }
            mixed = {
                name: by_env for name, by_env in kinds.items() if len(set(by_env.values())) > 1
            }
            absent = sorted(set(envs) - set(per_env))
            if missing or mixed or absent:
                differences[container] = {"missing": missing, "mixed": mixed, "absent_in": absent}
        row = {
            "account": inv.account,
            "region": ",".join(sorted({c["region"] for c in group})),
            "application": app,
            "environment": ",".join(envs),
        }
        if differences:
            yield result(
                row,
                Status.FAIL,
                f"Application {app} does not give its containers the same variables in "
                f"{' and '.join(envs)}: {_describe(differences)}.",
                resource_type="Application",
                resource_id=app,
                evidence={"differences": differences},
            )
        else:
            yield result(
                row,
                Status.PASS,
                f"Application {app} uses the same variable names, injected the same way, in "
                f"{' and '.join(envs)}; only values differ.",
                resource_type="Application",
                resource_id=app,
                evidence={"containers": sorted({c["container"] for c in group})},
            )


def _describe(differences: dict) -> str:
    parts = []
    for container, d in differences.items():
        bits = [f"{e} lacks {', '.join(ns)}" for e, ns in d["missing"].items()]
        bits += [
            f"{name} is "
            + " but ".join(
                f"{'a secret' if k == 'secret' else 'plain text'} in {e}"
                for e, k in sorted(by_env.items())
            )
            for name, by_env in d["mixed"].items()
        ]
        if d["absent_in"]:
            bits.append(f"no {container} container in {', '.join(d['absent_in'])}")
        parts.append(f"{container}: " + "; ".join(bits))
    return "; ".join(parts)
