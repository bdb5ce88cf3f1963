"""Build and release: CodeBuild projects and recent builds, CodePipeline pipelines, CodeCommit
repositories.
"""

from __future__ import annotations

from typing import Any

from .base import ServiceCollector, chunks


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
                pipelines.append(pipeline)
        return {"pipelines": pipelines if summaries is not None else None}


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
