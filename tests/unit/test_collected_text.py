"""Free text the collectors meet (buildspecs, pipeline variables, requirement includes) never
carries a secret into the snapshot."""

from __future__ import annotations

import json

from twelvefactor.collect.build import _parse_action_variables, buildspec_references
from twelvefactor.collect.local import collect_repos
from twelvefactor.redaction import Redactor


def test_inline_buildspec_keeps_references_only():
    spec = (
        "version: 0.2\nphases:\n  build:\n    commands:\n"
        "      - docker login -u admin -p Hunter2Hunter2\n"
        "      - mysql -pHunter22 -h db\n"
        "      - docker build -t shop/worker:1 .\n"
        "      - docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/worker:1\n"
    )
    kept = buildspec_references(spec)
    assert "Hunter2Hunter2" not in kept and "Hunter22" not in kept
    assert "shop/worker:1" in kept.splitlines()
    assert "\n" in kept  # still recognisable as an inline buildspec


def test_pipeline_action_variables_are_redacted_by_name():
    pipeline = {
        "stages": [
            {
                "actions": [
                    {
                        "configuration": {
                            "ProjectName": "build",
                            "EnvironmentVariables": json.dumps(
                                [
                                    {
                                        "name": "DB_PASSWORD",
                                        "value": "hunter2hunter2",
                                        "type": "PLAINTEXT",
                                    }
                                ]
                            ),
                        }
                    }
                ]
            }
        ]
    }
    _parse_action_variables(pipeline)
    redacted = Redactor(salt="s").tree(pipeline)
    assert "hunter2hunter2" not in json.dumps(redacted)


def test_requirement_includes_never_leave_the_repository(tmp_path):
    outside = tmp_path / "netrc"
    outside.write_text("machine github.com login bob password ghs_NotARealSecret123\n")
    repo = tmp_path / "svc"
    repo.mkdir()
    (repo / "requirements.txt").write_text(f"-r {outside}\nflask\n")
    result = json.dumps(collect_repos([str(repo)]))
    assert "ghs_NotARealSecret123" not in result
    assert "flask" in result  # the repository's own unpinned line is still reported
