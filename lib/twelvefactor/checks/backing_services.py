"""Factor IV, Backing services: treat backing services as attached resources.

A deploy reaches its database, cache, queue, bucket or file system through a locator kept in its
config, and each environment attaches its own. Which task definition attaches which resource is
worked out once, by :func:`attachments`: every container's plain environment values (redaction
markers kept as they are), the targets of its secret references, the SSM parameter names of its own
``/<application>/<environment>/`` hierarchy and its EFS volumes are matched against the
``locators`` of every datastore (endpoints, names, ARNs and URLs; see ``inventory.datastores``).
Checks, evidence tables and the picture all read that one table.

How a locator is found in a value: values and locators are compared in lower case; a locator made
of one token (a host name, a table, bucket or queue name, a file system id) must be a whole token of
the value, where tokens are the runs of ``A-Z a-z 0-9 . _ -`` (so ``orders-db`` is found in
``postgres://u:p@orders-db:5432/x`` but not in ``orders-db-replica``); a locator with other
characters (a URL or an ARN) must appear with no token character on either side. In a plain value
that is a file path (``/var/cache/orders``) one-token locators count only as the whole value: its
segments name directories. An S3 bucket is also found in its regional virtual-hosted name
(``BUCKET.s3.REGION.amazonaws.com``), and an RDS database in the ARN of the secret RDS manages for
it (``MasterUserSecret``).
"""

from __future__ import annotations

import ipaddress
import json
import re
import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..apps import ENVIRONMENT_TOKENS, normalise_environment
from ..evidence import PLACE, evidence
from ..findings import Result, Status
from ..inventory import Inventory, Row
from ..plots import STATUS_COLOURS, plot
from ..redaction import MARKER_RE
from ..settings import Settings
from . import check
from .common import td_id, td_result

if TYPE_CHECKING:
    from ..workbook import Workbook


# -- matching configuration against locators ---------------------------------------------------
_TOKEN = re.compile(r"[a-z0-9._-]+")
_S3_HOST = re.compile(r"^(?P<bucket>[a-z0-9.-]+)\.s3[.-]")

ATTACHMENT_COLUMNS = [
    "account",
    "region",
    "application",
    "environment",
    "task_definition",
    "task_definition_arn",
    "in_use",
    "container",
    "source",
    "name",
    "value",
    "datastore",
    "kind",
    "datastore_region",
    "datastore_application",
    "datastore_environment",
    "datastore_arn",
    "locator",
    "relation",
]

#: Values of ``attachments().source``: where in a task definition the locator was found.
SOURCES = ("environment", "secret", "parameter-name", "efs-volume")


class _LocatorIndex:
    """Every datastore's locators, indexed by token so that matching stays linear in the input."""

    def __init__(self, stores: pd.DataFrame, extra: dict[int, list[str]]):
        self.by_token: dict[str, list[tuple[str, int, bool]]] = {}
        self.kinds = dict(zip(stores.index, stores["kind"], strict=True))
        for idx, raw in zip(stores.index, stores["locators"], strict=True):
            locators = json.loads(raw) if raw else []
            for locator in {str(x).lower() for x in [*locators, *extra.get(idx, [])] if x}:
                tokens = _TOKEN.findall(locator)
                if not tokens:
                    continue
                whole = tokens == [locator]  # one token: looked up as it is
                # a URL or an ARN ends with the resource's own name: the most selective token
                key = locator if whole else tokens[-1]
                self.by_token.setdefault(key, []).append((locator, idx, whole))

    def match(self, text: str, parts: bool = True) -> dict[int, str]:
        """datastore index -> the longest of its locators found in ``text``.

        ``parts=False``: a one-token locator counts only as the whole text, not as a part of it
        (URLs and ARNs are still found anywhere)."""
        text = MARKER_RE.sub(" ", text or "").lower()
        found: dict[int, str] = {}
        for token in set(_TOKEN.findall(text)):
            candidates = list(self.by_token.get(token, []))
            bucket = _S3_HOST.match(token)
            if bucket and token.endswith((".amazonaws.com", ".amazonaws.com.cn")):
                candidates += [
                    (token, idx, True)
                    for _, idx, whole in self.by_token.get(bucket["bucket"], [])
                    if whole and self.kinds[idx] == "s3"
                ]
            for locator, idx, whole in candidates:
                if whole and not parts and locator != text.strip():
                    continue
                if not whole and not _bounded_in(locator, text):
                    continue
                if len(locator) > len(found.get(idx, "")):
                    found[idx] = locator
        return found


def _bounded_in(locator: str, text: str) -> bool:
    """Whether ``locator`` occurs in ``text`` with no token character right before or after."""
    start = text.find(locator)
    while start >= 0:
        end = start + len(locator)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not _TOKEN.match(before) and not _TOKEN.match(after):
            return True
        start = text.find(locator, start + 1)
    return False


def _managed_secret_arns(inv: Inventory, stores: pd.DataFrame) -> dict[int, list[str]]:
    """RDS instances and clusters: the ARN of the secret RDS manages for their master user."""
    arns: dict[tuple[str, str], str] = {}
    for region in inv.regions:
        rds = inv.snapshot.get(region, "rds")
        for item in rds.get("db_instances") or []:
            secret = (item.get("MasterUserSecret") or {}).get("SecretArn")
            if secret:
                arns[(region, item.get("DBInstanceIdentifier", ""))] = secret
        for item in rds.get("db_clusters") or []:
            secret = (item.get("MasterUserSecret") or {}).get("SecretArn")
            if secret:
                arns[(region, item.get("DBClusterIdentifier", ""))] = secret
    return {
        idx: [arns[(region, name)]]
        for idx, region, name, kind in zip(
            stores.index, stores["region"], stores["name"], stores["kind"], strict=True
        )
        if kind.startswith("rds-") and (region, name) in arns
    }


#: Words that make a production-sounding environment name a copy of production.
NOT_PRODUCTION_TOKENS = frozenset({"like", "copy", "clone", "mirror", "replica", "shadow"})


def is_production(environment: str) -> bool:
    """Whether an environment name means production: "production", "prod", "live", or a name
    made of such a token and qualifiers ("prod-eu"), but not "preprod", "prod-staging" or
    "production-like"."""
    env = normalise_environment(environment or "")
    if env == "production":
        return True
    tokens = [t for t in re.split(r"[-_ ./]+", env) if t]
    kinds = {ENVIRONMENT_TOKENS[t] for t in tokens if t in ENVIRONMENT_TOKENS}
    return kinds == {"production"} and not NOT_PRODUCTION_TOKENS.intersection(tokens)


def relation(task_environment: str, store_environment: str) -> str:
    """How a task's environment relates to that of a datastore it attaches.

    ``same`` (also two names of production), ``crosses-production`` (one is production and
    the other is not),
    ``other-environment`` (two different environments on the same side of production) or
    ``unknown`` (either environment could not be told).
    """
    if not task_environment or not store_environment:
        return "unknown"
    if task_environment == store_environment:
        return "same"
    if is_production(task_environment) and is_production(store_environment):
        return "same"  # two names of production ("production", "prod-eu")
    if is_production(task_environment) != is_production(store_environment):
        return "crosses-production"
    return "other-environment"


_ATTACHMENTS: weakref.WeakKeyDictionary[Inventory, pd.DataFrame] = weakref.WeakKeyDictionary()


def attachments(inv: Inventory) -> pd.DataFrame:
    """Which task definition attaches which datastore, and through which piece of config.

    One row per (task definition, container, source, name, datastore), columns
    ``ATTACHMENT_COLUMNS``; ``relation`` compares the task's environment with the datastore's
    (see :func:`relation`). Computed once per inventory.
    """
    if inv not in _ATTACHMENTS:
        _ATTACHMENTS[inv] = _attachments(inv)
    return _ATTACHMENTS[inv].copy()


def _config_items(inv: Inventory) -> Iterator[tuple[dict[str, Any], str, str, str, str]]:
    """(task definition row, container, source, name, text to match) for every piece of config."""
    tds = {td["task_definition_arn"]: td for td in inv.rows("task_definitions")}
    for row in inv.environment.itertuples():
        yield tds[row.task_definition_arn], row.container, "environment", row.name, row.value
    for row in inv.secret_refs.itertuples():
        text = f"{row.value_from} {row.target_name}"
        yield tds[row.task_definition_arn], row.container, "secret", row.name, text
    params = inv.parameters[inv.parameters["hierarchy_key"] != ""]
    by_place = params.groupby(["region", "application", "environment"])["name"].agg(list)
    mounts = _mounting_containers(inv)
    for td in tds.values():
        for name in by_place.get((td["region"], td["application"], td["environment"]), []):
            yield td, "", "parameter-name", name, name
        for volume in json.loads(td["efs_volumes"] or "[]"):
            who = mounts.get((td["task_definition_arn"], volume.get("name", "")), "")
            yield td, who, "efs-volume", volume.get("name", ""), volume.get("fileSystemId", "")


def _mounting_containers(inv: Inventory) -> dict[tuple[str, str], str]:
    """(task definition ARN, volume name) -> the containers that mount it, comma-separated."""
    out: dict[tuple[str, str], list[str]] = {}
    for c in inv.containers.itertuples():
        for mount in json.loads(c.mount_points or "[]"):
            out.setdefault((c.task_definition_arn, mount["sourceVolume"]), []).append(c.container)
    return {key: ", ".join(dict.fromkeys(names)) for key, names in out.items()}


def _attachments(inv: Inventory) -> pd.DataFrame:
    stores = inv.datastores.reset_index(drop=True)
    index = _LocatorIndex(stores, _managed_secret_arns(inv, stores))
    records = stores.to_dict("records")
    rows: dict[tuple[str, str, str, str, int], dict[str, Any]] = {}
    for td, container, source, name, text in _config_items(inv):
        # a file path ("/var/cache/orders") names directories, not the datastores "cache" or
        # "orders"; URLs and ARNs in it are still found
        path = source == "environment" and text.lstrip().startswith(("/", "./", "../", "~/"))
        for idx, locator in index.match(text, parts=not path).items():
            store = records[idx]
            key = (td["task_definition_arn"], container, source, name, idx)
            rows[key] = {
                "account": td["account"],
                "region": td["region"],
                "application": td["application"],
                "environment": td["environment"],
                "task_definition": td_id(td),
                "task_definition_arn": td["task_definition_arn"],
                "in_use": bool(td["in_use"]),
                "container": container,
                "source": source,
                "name": name,
                "value": text if source != "secret" else text.split(" ", 1)[0],
                "datastore": store["name"],
                "kind": store["kind"],
                "datastore_region": store["region"],
                "datastore_application": store["application"],
                "datastore_environment": store["environment"],
                "datastore_arn": store["arn"],
                "locator": locator,
                "relation": relation(td["environment"], store["environment"]),
            }
    frame = pd.DataFrame(list(rows.values()), columns=ATTACHMENT_COLUMNS)
    frame["in_use"] = frame["in_use"].astype(bool)
    return frame.sort_values(
        ["application", "environment", "task_definition", "container", "source", "name"],
        kind="stable",
    ).reset_index(drop=True)


# -- addresses in configuration ----------------------------------------------------------------
#: Variables whose values are not locators of something to connect to: allow and deny lists,
#: proxy exclusions, bind and listen addresses, versions, CORS origins, network ranges.
NOT_A_LOCATOR_NAME = re.compile(
    r"NO_PROXY|ALLOW|WHITELIST|BLACKLIST|BLOCKLIST|DENYLIST|TRUSTED|CIDR|SUBNET|NETMASK|"
    r"BIND|LISTEN|VERSION|ORIGIN|CORS",
    re.I,
)
#: Variables that conventionally address an agent or proxy running beside the application.
SIDECAR_NAME = re.compile(
    r"XRAY|OTEL|OTLP|(?:^|_)DD_|DATADOG|STATSD|JAEGER|ZIPKIN|TRAC(E|ING)|METRIC|AGENT|ENVOY|PROXY|"
    r"COLLECTOR|FLUENT|APPMESH",
    re.I,
)
_IPV4 = re.compile(
    r"(?<![\w.])(?P<address>\d{1,3}(?:\.\d{1,3}){3})(?![\w.])"
    r"(?:(?P<cidr>/\d{1,2})(?![\w.])|:(?P<port>\d{1,5})(?!\d))?"
)
_HOSTS = re.compile(
    r"(?<![\w.-])(?P<address>localhost(?:\.localdomain)?|host\.docker\.internal)(?![\w.-])"
    r"(?::(?P<port>\d{1,5})(?!\d))?",
    re.I,
)
_IPV6_LOOPBACK = re.compile(
    r"\[(?P<b>::1)\](?::(?P<port>\d{1,5})(?!\d))?|(?<![\w:])(?P<a>::1)(?![\w:])"
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_RESERVED = ipaddress.ip_network("240.0.0.0/4")

ADDRESS_COLUMNS = [
    *PLACE,
    "task_definition",
    "task_definition_arn",
    "in_use",
    "container",
    "name",
    "value",
    "address",
    "port",
    "kind",
    "verdict",
    "reason",
]


def find_addresses(value: str) -> list[dict[str, Any]]:
    """IPv4 addresses, loopback names and ``host.docker.internal`` in ``value``.

    Each hit: address, port (int or None), kind (private, public, loopback, unspecified,
    link-local, multicast, reserved, developer-host), cidr (the address has a /prefix) and
    in_url (it is the host part of a URL: ``scheme://`` or ``user@`` right before it).
    """
    text = MARKER_RE.sub(" ", value or "")
    hits: list[dict[str, Any]] = []

    def in_url(start: int) -> bool:
        return text[:start].endswith(("://", "@"))

    for m in _IPV4.finditer(text):
        try:
            ip = ipaddress.IPv4Address(m["address"])
        except ValueError:  # 999.1.2.3: not an address
            continue
        if ip.is_loopback:
            kind = "loopback"
        elif ip.is_unspecified:
            kind = "unspecified"
        elif ip.is_link_local:
            kind = "link-local"
        elif ip.is_multicast:
            kind = "multicast"
        elif ip in _RESERVED:
            kind = "reserved"
        elif ip.is_private or ip in _CGNAT:
            kind = "private"
        else:
            kind = "public"
        hits.append(
            {
                "address": m["address"],
                "port": int(m["port"]) if m["port"] else None,
                "kind": kind,
                "cidr": bool(m["cidr"]) and not in_url(m.start()),
                "in_url": in_url(m.start()),
            }
        )
    for m in _HOSTS.finditer(text):
        address = m["address"].lower()
        hits.append(
            {
                "address": address,
                "port": int(m["port"]) if m["port"] else None,
                "kind": "developer-host" if address == "host.docker.internal" else "loopback",
                "cidr": False,
                "in_url": in_url(m.start()),
            }
        )
    for m in _IPV6_LOOPBACK.finditer(text):
        hits.append(
            {
                "address": "::1",
                "port": int(m["port"]) if m["port"] else None,
                "kind": "loopback",
                "cidr": False,
                "in_url": in_url(m.start()),
            }
        )
    return hits


def _judge(hit: dict[str, Any], name: str, sidecar: str | None) -> tuple[str, str]:
    """(verdict, reason) for one address in variable ``name``: hard-coded, sidecar or ignored.

    ``sidecar`` names a container of the same task that may serve a loopback address.
    """
    kind = hit["kind"]
    if NOT_A_LOCATOR_NAME.search(name):
        return "ignored", "the variable lists, binds or filters addresses; it locates nothing"
    if hit["cidr"]:
        return "ignored", "a network range (CIDR), not the address of a service"
    if kind == "unspecified" and not hit["in_url"]:
        return "ignored", "a wildcard bind address, not the address of a service"
    if kind == "link-local":
        return "ignored", "a fixed AWS platform endpoint (metadata, credentials or DNS)"
    if kind in {"multicast", "reserved"}:
        return "ignored", f"a {kind} address, not the address of one service"
    if kind in {"loopback", "unspecified"} and sidecar:
        return "sidecar", f"served by the {sidecar} container of the same task"
    reasons = {
        "loopback": "the container itself: no backing service runs there",
        "unspecified": "0.0.0.0 as a host reaches the container itself",
        "developer-host": "Docker Desktop's name for a developer's machine",
        "private": "a private IP address: it changes when the resource is replaced",
        "public": "a public IP address: it changes when the resource is replaced",
    }
    return "hard-coded", reasons[kind]


def _containers_by_task(inv: Inventory) -> dict[str, list[Row]]:
    """Task definition ARN -> its containers (rows of ``inventory.containers``)."""
    return inv.rows_by("containers", "task_definition_arn")


def _sidecar(
    task: list[dict[str, Any]], container: str, port: int | None, name: str, shared: bool
) -> str | None:
    """The container of ``task`` (not ``container``, not a datastore) a loopback address may
    reach: the task must share one network namespace (awsvpc or host mode), and the other
    container must declare that port, or the variable must name an agent or proxy."""
    if not shared:
        return None
    for c in task:
        if c["container"] == container or _datastore_engine(c["image_repository"]):
            continue
        ports = {m.get("containerPort") for m in json.loads(c["port_mappings"] or "[]")}
        if (port is not None and port in ports) or SIDECAR_NAME.search(name):
            return c["container"]
    return None


_ADDRESSES: weakref.WeakKeyDictionary[Inventory, pd.DataFrame] = weakref.WeakKeyDictionary()


def addresses(inv: Inventory) -> pd.DataFrame:
    """Every address found in a plain environment value, with its verdict (``ADDRESS_COLUMNS``).

    ``verdict``: ``hard-coded`` (a finding), ``sidecar`` (a loopback address another container
    of the task serves) or ``ignored`` (not a locator; ``reason`` says why).
    """
    if inv not in _ADDRESSES:
        _ADDRESSES[inv] = _addresses(inv)
    return _ADDRESSES[inv].copy()


def _addresses(inv: Inventory) -> pd.DataFrame:
    tds = inv.task_definitions
    modes = dict(zip(tds["task_definition_arn"], tds["network_mode"], strict=True))
    containers = _containers_by_task(inv)
    rows = []
    for var in inv.environment.itertuples():
        hits = find_addresses(var.value)
        if not hits:
            continue
        mode = modes.get(var.task_definition_arn, "")
        task = containers.get(var.task_definition_arn, [])
        for hit in hits:
            sidecar = _sidecar(
                task, var.container, hit["port"], var.name, mode in {"awsvpc", "host"}
            )
            verdict, reason = _judge(hit, var.name, sidecar)
            rows.append(
                {
                    "application": var.application,
                    "environment": var.environment,
                    "region": var.region,
                    "task_definition": f"{var.family}:{var.revision}",
                    "task_definition_arn": var.task_definition_arn,
                    "in_use": bool(var.in_use),
                    "container": var.container,
                    "name": var.name,
                    "value": var.value,
                    "address": hit["address"],
                    "port": hit["port"],
                    "kind": hit["kind"],
                    "verdict": verdict,
                    "reason": reason,
                }
            )
    frame = pd.DataFrame(rows, columns=ADDRESS_COLUMNS)
    frame["port"] = frame["port"].astype("Int64")
    return frame


def _port(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def _address_text(row: Any) -> str:
    port = _port(row["port"])
    return f"{row['name']}={row['address']}{'' if port is None else f':{port}'}"


@check("TF04-NO-HARDCODED-LOCATOR")
def no_hardcoded_locator(inv: Inventory, settings: Settings) -> Iterator[Result]:
    per_task: dict[str, list[dict[str, Any]]] = {}
    for hit in addresses(inv).to_dict("records"):
        per_task.setdefault(hit["task_definition_arn"], []).append(hit)
    counts = inv.environment.groupby("task_definition_arn").size().to_dict()
    for td in inv.rows("task_definitions"):
        variables = int(counts.get(td["task_definition_arn"], 0))
        mine = per_task.get(td["task_definition_arn"], [])
        bad = [h for h in mine if h["verdict"] == "hard-coded"]
        if bad:
            shown = ", ".join(dict.fromkeys(_address_text(h) for h in bad))
            keys = ("container", "name", "address", "port", "kind")
            yield td_result(
                td,
                Status.FAIL,
                f"Task definition {td_id(td)} locates backing services by address instead of "
                f"by name: {shown}.",
                {
                    "addresses": [
                        {k: h[k] for k in keys} | {"port": _port(h["port"])} for h in bad
                    ],
                    "in_use": bool(td["in_use"]),
                },
            )
            continue
        sidecars = [h for h in mine if h["verdict"] == "sidecar"]
        note = (
            " (loopback addresses reach sidecars of the same task: "
            + ", ".join(dict.fromkeys(_address_text(h) for h in sidecars))
            + ")"
            if sidecars
            else ""
        )
        yield td_result(
            td,
            Status.PASS,
            f"Task definition {td_id(td)} names no backing service by IP address or loopback "
            f"host in its {variables} plain environment variables{note}.",
            {
                "variables_checked": variables,
                "ignored": sum(h["verdict"] == "ignored" for h in mine),
                "sidecar": len(sidecars),
                "in_use": bool(td["in_use"]),
            },
        )


@evidence("TF04-NO-HARDCODED-LOCATOR")
def _addresses_evidence(wb: Workbook) -> pd.DataFrame:
    """Every address in a plain environment value, hard-coded ones first."""
    table = addresses(wb.inventory)
    order = {"hard-coded": 0, "sidecar": 1, "ignored": 2}
    cols = [*PLACE, "task_definition", "container", "name", "value", "kind", "verdict", "reason"]
    return (
        table.assign(_o=table["verdict"].map(order))
        .sort_values(["_o", *PLACE, "task_definition", "name"], kind="stable")[cols]
        .reset_index(drop=True)
    )


# -- datastores run as containers ------------------------------------------------------------
#: Last path segments of images that run a datastore, a message broker or a local stand-in for
#: one (Docker Hub official images, Bitnami, Confluent, vendors' own repositories).
DATASTORE_IMAGES = frozenset(
    {
        "postgres",
        "postgresql",
        "postgis",
        "timescaledb",
        "timescaledb-ha",
        "mysql",
        "mysql-server",
        "mariadb",
        "mariadb-galera",
        "percona",
        "percona-server",
        "percona-server-mongodb",
        "redis",
        "redis-stack",
        "redis-stack-server",
        "redis-cluster",
        "valkey",
        "keydb",
        "dragonfly",
        "memcached",
        "mongo",
        "mongodb",
        "mongodb-community-server",
        "elasticsearch",
        "opensearch",
        "solr",
        "rabbitmq",
        "activemq",
        "activemq-artemis",
        "cassandra",
        "scylla",
        "kafka",
        "cp-kafka",
        "cp-server",
        "zookeeper",
        "cp-zookeeper",
        "pulsar",
        "nats",
        "couchdb",
        "couchbase",
        "neo4j",
        "influxdb",
        "clickhouse-server",
        "cockroach",
        "etcd",
        "minio",
        "dynamodb-local",
        "localstack",
    }
)
#: Datastore images whose last segment alone is too generic ("server").
DATASTORE_IMAGE_PATHS = frozenset({"mssql/server", "mssql/rhel/server"})
#: Images of agents and proxies that run beside a datastore or an application; they do not make
#: a task an application of its own.
HELPER_IMAGE = re.compile(
    r"exporter|fluent|otel|opentelemetry|xray|cloudwatch-agent|envoy|datadog|newrelic|"
    r"splunk|log-router|service-connect|ecs-agent|pgbouncer|proxysql"
)


def _datastore_engine(repository: str) -> str:
    """The datastore an image repository runs ("library/mysql" -> "mysql"), or ""."""
    repository = (repository or "").lower()
    last = repository.rsplit("/", 1)[-1]
    if last in DATASTORE_IMAGES:
        return last
    if any(repository == p or repository.endswith("/" + p) for p in DATASTORE_IMAGE_PATHS):
        return repository.rsplit("/", 2)[-2]
    return ""


def datastore_containers(inv: Inventory) -> pd.DataFrame:
    """Every container whose image runs a datastore, with what shares its task and its storage."""
    cols = [
        *PLACE,
        "task_definition",
        "task_definition_arn",
        "in_use",
        "container",
        "image",
        "engine",
        "essential",
        "shares_task_with",
        "volumes",
        "referenced_by",
    ]
    rows = []
    tds = inv.task_definitions
    efs_volumes = dict(zip(tds["task_definition_arn"], tds["efs_volumes"], strict=True))
    env = inv.rows_by("environment", "task_definition_arn")
    host = _host_volumes(inv)
    for arn, task in _containers_by_task(inv).items():
        engines = [_datastore_engine(c["image_repository"]) for c in task]
        if not any(engines):
            continue
        efs = {v["name"] for v in json.loads(efs_volumes.get(arn) or "[]")}
        others_in_task = ", ".join(
            c["container"] for c, e in zip(task, engines, strict=True) if not e
        )
        for c, engine in zip(task, engines, strict=True):
            if not engine:
                continue
            volumes = [
                m["containerPath"]
                + (" (EFS)" if m["sourceVolume"] in efs else "")
                + (" (host disk)" if m["sourceVolume"] in host.get(arn, set()) else "")
                for m in json.loads(c["mount_points"] or "[]")
            ]
            name = c["container"].lower()
            naming = [
                v
                for v in env.get(arn, [])
                if v["container"] != c["container"] and name in _tokens(v["value"])
            ]
            rows.append(
                {
                    "application": c["application"],
                    "environment": c["environment"],
                    "region": c["region"],
                    "task_definition": td_id(c),
                    "task_definition_arn": arn,
                    "in_use": bool(c["in_use"]),
                    "container": c["container"],
                    "image": c["image"],
                    "engine": engine,
                    "essential": bool(c["essential"]),
                    "shares_task_with": others_in_task,
                    "volumes": ", ".join(volumes),
                    "referenced_by": ", ".join(f"{r['container']}/{r['name']}" for r in naming),
                }
            )
    return pd.DataFrame(rows, columns=cols)


def _tokens(value: str) -> set[str]:
    return set(_TOKEN.findall(MARKER_RE.sub(" ", value or "").lower()))


def _host_volumes(inv: Inventory) -> dict[str, set[str]]:
    """Task definition ARN -> the names of its volumes that are host bind mounts."""
    return {
        t["taskDefinitionArn"]: {
            v.get("name", "")
            for v in t.get("volumes") or []
            if (v.get("host") or {}).get("sourcePath")
        }
        for region in inv.regions
        for t in inv.snapshot.get(region, "ecs").get("task_definitions", [])
        if t.get("taskDefinitionArn")
    }


@check("TF04-NO-DATASTORE-CONTAINER")
def no_datastore_container(inv: Inventory, settings: Settings) -> Iterator[Result]:
    stores: dict[str, list[dict[str, Any]]] = {}
    for r in datastore_containers(inv).to_dict("records"):
        stores.setdefault(r["task_definition_arn"], []).append(r)
    containers = _containers_by_task(inv)
    for td in inv.rows("task_definitions"):
        task = containers.get(td["task_definition_arn"], [])
        if not task:
            continue
        mine = stores.get(td["task_definition_arn"], [])
        if not mine:
            yield td_result(
                td,
                Status.PASS,
                f"Task definition {td_id(td)} runs no datastore among its "
                f"{len(task)} container(s).",
                {"containers": sorted(c["container"] for c in task), "in_use": bool(td["in_use"])},
            )
            continue
        keys = ("container", "image", "engine", "volumes", "referenced_by")
        found = [{k: r[k] for k in keys} for r in mine]
        named = ", ".join(f"{f['engine']} (container {f['container']})" for f in found)
        apps = [
            c["container"]
            for c in task
            if not _datastore_engine(c["image_repository"])
            and not HELPER_IMAGE.search((c["image_repository"] or "").lower())
        ]
        evidence_ = {"datastores": found, "application_containers": apps}
        if apps:
            yield td_result(
                td,
                Status.FAIL,
                f"Task definition {td_id(td)} runs {named} inside the same task as "
                f"{', '.join(apps)}: the datastore is deployed, scaled and replaced with the "
                "application instead of being attached to it.",
                evidence_ | {"in_use": bool(td["in_use"])},
            )
        else:
            yield td_result(
                td,
                Status.INFO,
                f"Task definition {td_id(td)} runs {named} as a service of its own: other "
                "applications can attach it by name, but its durability, backups and failover "
                "are yours to run; consider a managed service.",
                evidence_ | {"in_use": bool(td["in_use"])},
            )


@evidence("TF04-NO-DATASTORE-CONTAINER")
def _datastore_containers_evidence(wb: Workbook) -> pd.DataFrame:
    table = datastore_containers(wb.inventory)
    return table.drop(columns=["task_definition_arn"]).sort_values(
        [*PLACE, "task_definition", "container"], kind="stable", ignore_index=True
    )


# -- each environment its own resources ---------------------------------------------------------
@check("TF04-ENV-OWN-RESOURCES", account_scope=True)
def env_own_resources(inv: Inventory, settings: Settings) -> Iterator[Result]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for link in attachments(inv).to_dict("records"):
        groups.setdefault(link["task_definition_arn"], []).append(link)
    tds = {td["task_definition_arn"]: td for td in inv.rows("task_definitions")}
    for arn, group in groups.items():
        td = tds[arn]
        stores = _per_store(group)
        known = [s for s in stores if s["relation"] != "unknown"]
        crossing = [s for s in stores if s["relation"] == "crosses-production"]
        other = [s for s in stores if s["relation"] == "other-environment"]
        evidence_ = {"attached": stores, "in_use": bool(td["in_use"])}
        env = td["environment"]
        if not env:
            placed = [s for s in stores if s["environment"]]
            if placed:
                yield td_result(
                    td,
                    Status.INFO,
                    f"Task definition {td_id(td)} has no known environment, so whether "
                    f"{_names(placed)} belong to it cannot be told: tag it with its "
                    "environment.",
                    evidence_,
                )
            continue
        if crossing:
            side = "non-production" if is_production(env) else "production"
            yield td_result(
                td,
                Status.FAIL,
                f"Task definition {td_id(td)} ({env}) attaches {side} resources: "
                f"{_names(crossing)}.",
                evidence_,
            )
        elif other:
            yield td_result(
                td,
                Status.INFO,
                f"Task definition {td_id(td)} ({env}) shares {_names(other)} with another "
                "non-production environment: production is not involved, but each environment "
                "should attach its own resources.",
                evidence_,
            )
        elif known:
            unknown = len(stores) - len(known)
            yield td_result(
                td,
                Status.PASS,
                f"Task definition {td_id(td)} attaches only {env} resources: "
                f"{_names(known, with_env=False)}"
                + (f" (and {unknown} of unknown environment)" if unknown else "")
                + ".",
                evidence_,
            )
        else:
            yield td_result(
                td,
                Status.INFO,
                f"Task definition {td_id(td)} attaches {_names(stores, with_env=False)}, whose "
                "environment is unknown: tag them with their environment.",
                evidence_,
            )


def _per_store(group: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per datastore a task definition attaches, with how it was found."""
    out: dict[str, dict[str, Any]] = {}
    for r in group:
        entry = out.setdefault(
            r["datastore_arn"] or f"{r['kind']}:{r['datastore']}",
            {
                "datastore": r["datastore"],
                "kind": r["kind"],
                "environment": r["datastore_environment"],
                "relation": r["relation"],
                "via": [],
            },
        )
        container = f"{r['container']}/" if r["container"] else ""
        via = f"{r['source']} {container}{r['name']}"
        if via not in entry["via"]:
            entry["via"].append(via)
    return sorted(out.values(), key=lambda s: (s["kind"], s["datastore"]))


def _names(stores: Iterable[dict[str, Any]], with_env: bool = True) -> str:
    return ", ".join(
        f"{s['kind']} {s['datastore']}" + (f" ({s['environment']})" if with_env else "")
        for s in stores
    )


@evidence("TF04-ENV-OWN-RESOURCES")
def _attachments_evidence(wb: Workbook) -> pd.DataFrame:
    """Every attachment found in config, the environment crossings first."""
    table = attachments(wb.inventory)
    order = {"crosses-production": 0, "other-environment": 1, "unknown": 2, "same": 3}
    cols = [
        *PLACE,
        "task_definition",
        "container",
        "source",
        "name",
        "value",
        "kind",
        "datastore",
        "datastore_environment",
        "relation",
    ]
    return (
        table.assign(_o=table["relation"].map(order))
        .sort_values(["_o", *PLACE, "task_definition", "name"], kind="stable")[cols]
        .reset_index(drop=True)
    )


# -- the picture ---------------------------------------------------------------------------------
ENV_COLOURS = {  # Okabe-Ito
    "production": "#0072B2",  # blue
    "staging": "#E69F00",  # orange
    "development": "#56B4E9",  # sky blue
    "": "#999999",  # grey: unknown
}
OTHER_ENV_COLOUR = "#F0E442"  # yellow
EDGE_STYLES = {  # relation -> (colour, line style, width, legend label)
    "same": (STATUS_COLOURS["PASS"], "-", 1.6, "attached, same environment"),
    "crosses-production": (
        STATUS_COLOURS["FAIL"],
        "-",
        3.2,
        "attached across the production line",
    ),
    "other-environment": ("#E69F00", "--", 2.0, "attached, another non-production env"),
    "unknown": ("#999999", ":", 1.4, "attached, environment unknown"),
    "hard-coded": (STATUS_COLOURS["FAIL"], (0, (1, 1.5)), 2.4, "hard-coded address"),
    "container": (STATUS_COLOURS["ERROR"], "-.", 2.4, "datastore run inside the task"),
}


def _env_colour(env: str) -> str:
    if is_production(env):
        return ENV_COLOURS["production"]
    return ENV_COLOURS.get(env, OTHER_ENV_COLOUR)


def _graph(inv: Inventory, application: str | None) -> tuple[list, list, list]:
    """(left nodes, right nodes, edges) of the attachment picture.

    Left: (application, environment); right: (key, label, environment); edges:
    (left index, right index, style)."""
    links = attachments(inv)
    hard = addresses(inv)
    hard = hard[hard["verdict"] == "hard-coded"]
    local = datastore_containers(inv)
    tds = inv.task_definitions
    if application:
        links, hard, local, tds = (
            f[f["application"] == application] for f in (links, hard, local, tds)
        )
    left = sorted(set(zip(tds["application"], tds["environment"], strict=True)))
    right: dict[tuple, tuple[str, str]] = {}  # key -> (label, environment)
    edges: set[tuple[tuple, tuple, str]] = set()
    for r in links.itertuples():
        key = ("store", r.datastore_arn or r.datastore)
        env = r.datastore_environment
        right[key] = (f"{r.datastore}  [{r.kind}, {env or 'environment unknown'}]", env)
        edges.add(((r.application, r.environment), key, r.relation))
    for r in hard.itertuples():
        port = "" if pd.isna(r.port) else f":{int(r.port)}"
        key = ("address", r.region, r.address, port)
        right[key] = (f"{r.address}{port}  [hard-coded in {r.name}]", "")
        edges.add(((r.application, r.environment), key, "hard-coded"))
    for r in local.itertuples():
        key = ("container", r.task_definition_arn, r.container)
        right[key] = (f"{r.image}  [container {r.container} in the task]", r.environment)
        edges.add(((r.application, r.environment), key, "container"))
    # each resource beside the applications that attach it: fewer crossing lines
    position = {node: i for i, node in enumerate(left)}
    near: dict[tuple, list[int]] = {}
    for a, b, _ in edges:
        near.setdefault(b, []).append(position[a])
    order = sorted(right, key=lambda k: (sum(near[k]) / len(near[k]), right[k][0]))
    return left, [(k, *right[k]) for k in order], sorted(edges, key=str)


@plot("backing-services")
def backing_services(wb: Workbook, application: str | None = None) -> Figure:
    """Applications and environments (left) and the resources their config attaches (right)."""
    left, right, edges = _graph(wb.inventory, application)
    rows = max(len(left), len(right), 3)
    fig = Figure(figsize=(11, 0.42 * rows + 1.8))
    ax = fig.subplots()
    ax.set_axis_off()
    if not edges:
        ax.text(
            0.5,
            0.5,
            "no attached resources found in config",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="#555555",
        )
        return fig

    def ys(n: int) -> list[float]:
        return (
            [rows - 1 - i * (rows - 1) / max(n - 1, 1) for i in range(n)]
            if n > 1
            else [(rows - 1) / 2]
        )

    left_y = dict(zip(left, ys(len(left)), strict=True))
    right_y = {k: y for (k, _, _), y in zip(right, ys(len(right)), strict=True)}
    for a, b, style in edges:
        colour, dash, width, _ = EDGE_STYLES[style]
        ax.plot(
            [0, 1], [left_y[a], right_y[b]], color=colour, linestyle=dash, linewidth=width, zorder=1
        )
    for (app, env), y in left_y.items():
        ax.scatter([0], [y], s=110, color=_env_colour(env), edgecolor="black", zorder=2)
        ax.text(-0.03, y, f"{app} ({env or '?'})", ha="right", va="center", fontsize=9)
    for key, label, env in right:
        marker = "s" if key[0] == "store" else ("X" if key[0] == "address" else "D")
        ax.scatter(
            [1],
            [right_y[key]],
            s=110,
            marker=marker,
            color="white" if key[0] == "address" else _env_colour(env),
            edgecolor="black",
            zorder=2,
        )
        ax.text(1.03, right_y[key], label, ha="left", va="center", fontsize=9)
    ax.set_xlim(-0.9, 2.0)
    ax.set_ylim(-0.8, rows - 0.2)
    used = {s for _, _, s in edges}
    handles = [
        Line2D([], [], color=c, linestyle=d, linewidth=w, label=lab)
        for s, (c, d, w, lab) in EDGE_STYLES.items()
        if s in used
    ]
    envs = {e for _, e in left} | {e for k, _, e in right if k[0] != "address"}
    handles += [
        Patch(facecolor=_env_colour(e), edgecolor="black", label=f"environment: {e or 'unknown'}")
        for e in sorted(envs, key=lambda e: (not is_production(e), e == "", e))
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    ax.set_title(
        "What each application's config attaches (square: service, X: address, diamond: container)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig
