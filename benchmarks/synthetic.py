"""A synthetic account of any size N, in the demo scenario's shape, seeded into a moto server.

The mix (issue 7): N ECS services over two clusters (staging and production), three task-definition
revisions each, N/2 ECR repositories with 5 images, 5*N SSM parameters, N/4 log groups -- with the
demo's good and bad practice planted at fixed strides, so every size exercises the same checks:

- application ``app-K`` runs in staging (service 2K) and production (service 2K+1), one repository
  ``bench/app-K`` for both, one task-definition family per environment, three revisions each;
- every 10th production service pastes a token into its environment (TF03-SECRETS-IN-ENV FAIL),
  every 12th staging service puts a password inside a URL;
- every 3rd application keeps its DB password as a plaintext String parameter (not SecureString);
- every 8th application's production grows a key staging lacks (hierarchy and parity FAIL);
- odd repositories are MUTABLE, without scan on push or lifecycle policy; some run ":latest";
- every 7th service stays pinned to revision 1 of 3; every 4th has a circuit breaker with rollback;
- the log groups of the first N/4 services, every other one without retention.

``python benchmarks/synthetic.py 50 --yaml out.yaml`` writes the scenario; ``--seed URL`` seeds it.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import yaml

from twelvefactor.demo.scenario import Scenario
from twelvefactor.demo.seed import DemoClients, Seeder, seed_server

REGION = "eu-west-1"
ACCOUNT = "123456789012"
CLUSTERS = {"staging": "bench-staging", "production": "bench-prod"}
ENV_TOKEN = {"staging": "staging", "production": "prod"}
IMAGES_PER_REPO = 5
REVISIONS = 3
APP_RE = re.compile(r"app-(\d+)")


def counts(n: int) -> dict[str, int]:
    """How many of each resource an account of size ``n`` holds."""
    return {
        "services": n,
        "clusters": 2,
        "applications": (n + 1) // 2,
        "task_definition_families": n,
        "task_definition_revisions": REVISIONS * n,
        "repositories": n // 2,
        "images": IMAGES_PER_REPO * (n // 2),
        "parameters": 5 * n,
        "log_groups": n // 4,
    }


def _tags(k: int) -> list[str]:
    """Five images per repository: semver tags, the last two also tagged with a git SHA."""
    tags: list[Any] = []
    for i in range(IMAGES_PER_REPO):
        semver = f"1.{k % 10}.{i}"
        tags.append(
            [semver, f"git-{(k * 7919 + i * 104729) % 0xFFFFFFF:07x}"] if i >= 3 else semver
        )
    return tags


def _image(k: int, revision: int, repos: int) -> str:
    """The image of revision ``revision`` (0-based) of application ``k``'s task definitions."""
    if k >= repos:  # more applications than repositories: a public image, pinned or not
        return "public.ecr.aws/docker/library/nginx:1.27" if k % 2 else "nginx:latest"
    if k % 5 == 4:
        return (
            f"ecr:bench/app-{k}:latest"
            if revision == REVISIONS - 1
            else f"ecr:bench/app-{k}:1.{k % 10}.{revision}"
        )
    return f"ecr:bench/app-{k}@1.{k % 10}.{revision + 2}"


def scenario_dict(n: int) -> dict[str, Any]:
    """The scenario of size ``n`` as the YAML document Seeder reads (``load_scenario`` shape)."""
    if n < 1:
        raise ValueError(f"n: {n} is not a positive number of services; use e.g. 50.")
    apps = (n + 1) // 2
    repos = n // 2
    resources: dict[str, Any] = {
        "clusters": [
            {
                "name": CLUSTERS[env],
                "container_insights": "enabled" if env == "production" else "disabled",
                "tags": {"Environment": env},
            }
            for env in ("staging", "production")
        ],
        "repositories": [],
        "parameters": [],
        "log_groups": [],
        "task_definitions": [],
        "services": [],
    }
    for k in range(repos):
        mutable = k % 2 == 1
        repo: dict[str, Any] = {
            "name": f"bench/app-{k}",
            "mutability": "MUTABLE" if mutable else "IMMUTABLE",
            "scan_on_push": not mutable,
            "images": _tags(k),
        }
        if not mutable:
            repo["lifecycle_policy"] = True
            repo["tags"] = {"Application": f"app-{k}"}
        if k % 5 == 4:  # a moving ":latest" on a mutable repository is the point; keep 5 images
            repo["images"] = [*_tags(k)[:4], [f"1.{k % 10}.4", "latest"]]
        resources["repositories"].append(repo)

    for i in range(n):
        k, env = divmod(i, 2)
        env_name = ("staging", "production")[env]
        token = ENV_TOKEN[env_name]
        family = f"app-{k}-{token}"
        base = f"/app-{k}/{token}"
        plaintext = k % 3 == 0
        extra_key = "FEATURE_FLAGS" if (k % 8 == 7 and env_name == "production") else "TIMEOUT_MS"
        resources["parameters"] += [
            {
                "name": f"{base}/DB_HOST",
                "type": "String",
                "value": f"db-{k}.{token}.bench.internal",
            },
            {"name": f"{base}/LOG_LEVEL", "type": "String", "value": "info"},
            {
                "name": f"{base}/DB_PASSWORD",
                "type": "String" if plaintext else "SecureString",
                "value": f"bench-{token}-db-Pw-{k:05d}",
            },
            {
                "name": f"{base}/API_URL",
                "type": "String",
                "value": f"https://api-{k}.example/{token}",
            },
            {"name": f"{base}/{extra_key}", "type": "String", "value": "3000"},
        ]
        environment: dict[str, str] = {
            "PORT": "8080",
            "LOG_LEVEL": "info",
            "DB_HOST": f"db-{k}.{token}.bench.internal",
            "API_URL": f"https://api-{k}.example/{token}",
        }
        if env_name == "production" and k % 10 == 0:
            environment["PAYMENT_API_KEY"] = f"sk_live_51Bench{k:06d}PlantedKeyTwelveFactor"
        if env_name == "staging" and k % 12 == 5:
            environment["DATABASE_URL"] = f"postgres://app:Bench-pw-{k:05d}@db-{k}.staging:5432/app"
        if k % 8 == 7 and env_name == "production":
            environment["FEATURE_FLAGS"] = "instant"
        container: dict[str, Any] = {
            "name": "app",
            "image": _image(k, 0, repos),
            "port": 8080,
            "environment": environment,
            "secrets": {"DB_PASSWORD": f"ssm:{base}/DB_PASSWORD"},
        }
        if k % 4 == 0:
            container["readonly_root"] = True
        resources["task_definitions"].append(
            {
                "family": family,
                "tags": {"Application": f"app-{k}", "Environment": env_name},
                "containers": [container],
                "revisions": [{"app": _image(k, r, repos)} for r in range(1, REVISIONS)],
            }
        )
        service: dict[str, Any] = {
            "cluster": CLUSTERS[env_name],
            "name": f"app-{k}",
            "task_definition": f"{family}:1" if i % 7 == 3 else family,
            "desired_count": 2 if env_name == "production" else 1,
            "tags": {"Application": f"app-{k}"},
        }
        if i % 4 == 1:
            service["deployment"] = {"circuit_breaker": True, "rollback": True}
        resources["services"].append(service)
        if i < n // 4:
            group: dict[str, Any] = {"name": f"/ecs/{family}"}
            if i % 2 == 0:
                group["retention_days"] = 30
            resources["log_groups"].append(group)
    assert len(resources["parameters"]) == 5 * n and apps == (n + 1) // 2
    return {
        "name": f"bench-{n}",
        "account": ACCOUNT,
        "seed": 42,
        "regions": [REGION],
        "redaction_salt": "twelvefactor-bench",
        "regions_resources": {REGION: resources},
    }


def scenario(n: int) -> Scenario:
    """The scenario of size ``n`` as the object Seeder takes."""
    raw = scenario_dict(n)
    return Scenario(
        name=raw["name"],
        account=raw["account"],
        seed=raw["seed"],
        regions=tuple(raw["regions"]),
        redaction_salt=raw["redaction_salt"],
        planted_secrets=(),
        resources=raw["regions_resources"],
    )


#: Items per page as AWS serves them to the collectors (the page sizes they ask for, or the
#: service's default and maximum where they ask for none).
AWS_PAGES = {
    "ecs:ListClusters": 100,
    "ecs:ListServices": 100,
    "ecs:ListTaskDefinitions": 100,
    "ecr:DescribeRepositories": 100,
    "ecr:DescribeImages": 100,
    "ssm:DescribeParameters": 50,
    "logs:DescribeLogGroups": 50,
}
#: The same as moto 5 serves them: the ECS and ECR listings in one page whatever their length,
#: DescribeParameters ten at a time whatever MaxResults asks, and with a token after every full
#: page, so a multiple of ten ends with an empty page (moto/ssm/responses.py): size -10.
MOTO_PAGES = AWS_PAGES | {
    "ecs:ListClusters": None,
    "ecs:ListServices": None,
    "ecs:ListTaskDefinitions": None,
    "ecr:DescribeRepositories": None,
    "ecr:DescribeImages": None,
    "ssm:DescribeParameters": -10,
}


def _pages(items: int, size: int | None) -> int:
    """Calls to list ``items`` things ``size`` at a time (an empty listing is one call; a
    negative size: a full last page is followed by an empty one)."""
    if not size:
        return 1
    if size < 0:
        return items // -size + 1
    return max(1, -(-items // size))


def _batches(items: int, size: int) -> int:
    return -(-items // size)


def call_floor(n: int, pages: dict[str, int | None] = MOTO_PAGES) -> dict[str, int]:
    """The calls a collection of the size-``n`` account needs, by "service:Operation".

    Reading the account once: the listings' pages, the batch APIs in full batches, and one call
    per resource only where AWS has no batch form (a task definition, an ECR repository's images,
    lifecycle policy and tags). Task definitions: the revision each service runs and the latest
    of each family -- not every ACTIVE revision. Every other operation of the collection lists
    a service this account does not use: one (empty) page each, not included here.
    """
    spec = scenario_dict(n)["regions_resources"][REGION]
    per_cluster = [
        sum(s["cluster"] == c["name"] for s in spec["services"]) for c in spec["clusters"]
    ]
    revisions = {td["family"]: 1 + len(td.get("revisions", [])) for td in spec["task_definitions"]}
    described = len(revisions) + sum(  # a service pinned to an older revision adds that one
        1
        for s in spec["services"]
        if ":" in s["task_definition"]
        and int(s["task_definition"].rsplit(":", 1)[1])
        != revisions[s["task_definition"].rsplit(":", 1)[0]]
    )
    clusters, repos = len(spec["clusters"]), spec["repositories"]
    return {
        "sts:GetCallerIdentity": 1,
        "ecs:ListClusters": _pages(clusters, pages["ecs:ListClusters"]),
        "ecs:DescribeClusters": _batches(clusters, 100),
        "ecs:ListServices": sum(_pages(k, pages["ecs:ListServices"]) for k in per_cluster),
        "ecs:DescribeServices": sum(_batches(k, 10) for k in per_cluster),
        "ecs:ListTaskDefinitions": _pages(
            sum(revisions.values()), pages["ecs:ListTaskDefinitions"]
        ),
        "ecs:DescribeTaskDefinition": described,
        # no task runs in moto: one empty page of RUNNING and one of STOPPED tasks per cluster
        "ecs:ListTasks": 2 * clusters,
        "ecs:ListContainerInstances": clusters,
        "ecr:DescribeRepositories": _pages(len(repos), pages["ecr:DescribeRepositories"]),
        "ecr:DescribeImages": sum(
            _pages(len(r["images"]), pages["ecr:DescribeImages"]) for r in repos
        ),
        "ecr:GetLifecyclePolicy": len(repos),
        "ecr:ListTagsForResource": len(repos),
        "ssm:DescribeParameters": _pages(len(spec["parameters"]), pages["ssm:DescribeParameters"]),
        "logs:DescribeLogGroups": _pages(len(spec["log_groups"]), pages["logs:DescribeLogGroups"]),
    }


def _part(whole: Scenario, resources: dict[str, Any]) -> Scenario:
    return Scenario(
        name=whole.name,
        account=whole.account,
        seed=whole.seed,
        regions=whole.regions,
        redaction_salt=whole.redaction_salt,
        planted_secrets=(),
        resources={REGION: resources},
    )


def seed(n: int, endpoint_url: str, *, threads: int = 4) -> float:
    """Reset the moto server at ``endpoint_url`` and seed the size-``n`` account; seconds taken.

    The clusters are seeded first (``seed_server``: reset, seed, clusters); then the rest in
    ``threads`` slices, each a whole set of applications (its repository, parameters, log groups,
    task definitions, services) seeded by its own Seeder, so revision numbers stay as in order.
    """
    t0 = time.perf_counter()
    whole = scenario(n)
    spec = whole.resources[REGION]
    seed_server(_part(whole, {"clusters": spec["clusters"]}), endpoint_url)
    slices: list[dict[str, list[Any]]] = [
        {key: [] for key in spec if key != "clusters"} for _ in range(max(1, threads))
    ]

    def app_of(item: dict[str, Any]) -> int:
        name = item.get("family") or item.get("name") or ""
        return int(APP_RE.search(name)[1])

    for key, items in spec.items():
        if key == "clusters":
            continue
        for item in items:
            slices[app_of(item) % len(slices)][key].append(item)
    clients = DemoClients(endpoint_url.rstrip("/"))
    for service in ("ecs", "ecr", "ssm", "logs"):  # create clients before the threads race
        clients(service, REGION)
    with ThreadPoolExecutor(max_workers=len(slices)) as pool:
        list(pool.map(lambda part: Seeder(_part(whole, part), clients).run(), slices))
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, help="number of ECS services (the account's size)")
    p.add_argument("--yaml", metavar="FILE", help="write the scenario as YAML")
    p.add_argument("--seed", metavar="URL", help="seed it into the moto server at URL")
    p.add_argument("--threads", type=int, default=4, help="seeding threads (default 4)")
    args = p.parse_args(argv)
    if args.yaml:
        with open(args.yaml, "w") as f:
            yaml.safe_dump(scenario_dict(args.n), f, sort_keys=False)
    if args.seed:
        seconds = seed(args.n, args.seed, threads=args.threads)
        print(f"seeded N={args.n} {counts(args.n)} into {args.seed} in {seconds:.1f} s")
    if not (args.yaml or args.seed):
        yaml.safe_dump(scenario_dict(args.n), sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
