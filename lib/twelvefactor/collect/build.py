"""Build and release: CodeBuild projects and recent builds, CodePipeline pipelines, CodeCommit
repositories.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .base import ServiceCollector, chunks


def buildspec_references(spec: str) -> str:
    """What an inline buildspec names (repository paths, image URIs), one per line, and nothing
    else: its commands can hold credentials (`docker login -p ...`, `mysql -p...`) that no
    pattern finds reliably, so the text itself is never kept."""
    tokens = {
        token.strip("\"'")
        for token in re.findall(r"[\w.:/@${}-]+", spec)
        if "/" in token and "://" not in token and "@" not in token.split("/", 1)[0]
    }
    return "\n".join(["# inline buildspec: references only", *sorted(tokens)])


class CodeBuildCollector(ServiceCollector):
    service = "codebuild"
    actions = (
        "codebuild:ListProjects",
        "codebuild:BatchGetProjects",
        "codebuild:ListBuilds",
        "codebuild:BatchGetBuilds",
    )
    #: Builds read: the newest, one page of ListBuilds.
    MAX_BUILDS = 100

    def collect(self) -> dict[str, Any]:
        names = self.paginate("ListProjects", "projects")
        projects: list[dict[str, Any]] = []
        for batch in chunks(names or [], 100):
            resp = self.call("BatchGetProjects", names=batch)
            projects.extend((resp or {}).get("projects", []))

        ids = self.paginate(
            "ListBuilds",
            "ids",
            sortOrder="DESCENDING",
            PaginationConfig={"MaxItems": self.MAX_BUILDS},
        )
        builds: list[dict[str, Any]] = []
        for batch in chunks((ids or [])[: self.MAX_BUILDS], 100):
            resp = self.call("BatchGetBuilds", ids=batch)
            builds.extend((resp or {}).get("builds", []))
        for item in projects + builds:
            for source in [item.get("source") or {}, *(item.get("secondarySources") or [])]:
                if "\n" in str(source.get("buildspec") or ""):
                    source["buildspec"] = buildspec_references(source["buildspec"])
        return {
            "projects": projects if names is not None else None,
            "builds": builds if ids is not None else None,
        }


class CodePipelineCollector(ServiceCollector):
    service = "codepipeline"
    actions = ("codepipeline:ListPipelines", "codepipeline:GetPipeline")

    def collect(self) -> dict[str, Any]:
        summaries = self.paginate("ListPipelines", "pipelines")
        pipelines: list[dict[str, Any]] = []
        # no batch API: one GetPipeline per pipeline
        for summary in summaries or []:
            name = summary["name"]
            resp = self.call("GetPipeline", resource=name, name=name)
            if resp and resp.get("pipeline"):
                pipeline = resp["pipeline"]
                pipeline["metadata"] = resp.get("metadata", {})
                _parse_action_variables(pipeline)
                pipelines.append(pipeline)
        return {"pipelines": pipelines if summaries is not None else None}


def _parse_action_variables(pipeline: dict[str, Any]) -> None:
    """CodeBuild actions carry EnvironmentVariables as a JSON string: make it the list it is, so
    its name/value pairs are redacted like any other."""
    for stage in pipeline.get("stages") or []:
        for action in stage.get("actions") or []:
            config = action.get("configuration") or {}
            raw = config.get("EnvironmentVariables")
            if isinstance(raw, str):
                try:
                    config["EnvironmentVariables"] = json.loads(raw)
                except json.JSONDecodeError:
                    config["EnvironmentVariables"] = "[unparsable: not kept]"


class CodeCommitCollector(ServiceCollector):
    service = "codecommit"
    actions = ("codecommit:ListRepositories", "codecommit:BatchGetRepositories")

    def collect(self) -> dict[str, Any]:
        listed = self.paginate("ListRepositories", "repositories")
        repositories: list[dict[str, Any]] = []
        names = [r["repositoryName"] for r in listed or []]
        for batch in chunks(names, 25):
            resp = self.call("BatchGetRepositories", repositoryNames=batch)
            repositories.extend((resp or {}).get("repositories", []))
        return {"repositories": repositories if listed is not None else None}
