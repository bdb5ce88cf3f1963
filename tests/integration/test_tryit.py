""" "Try it": each exercise changes the demo account and turns its finding from FAIL to PASS."""

from __future__ import annotations

import socket
import types

import pytest

from twelvefactor.demo import load_scenario, seed_server, tryit
from twelvefactor.errors import ConfigurationError
from twelvefactor.settings import Settings
from twelvefactor.workbook import Workbook


@pytest.fixture(scope="module")
def demo_wb() -> Workbook:
    return Workbook.open(source="demo", endpoint_url="")


@pytest.mark.parametrize("check_id", sorted(tryit.EXERCISES))
def test_exercise_turns_the_finding_from_fail_to_pass(demo_wb, check_id, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    ex = tryit.EXERCISES[check_id]
    before = demo_wb.findings_for(check_id=check_id)
    subjects = before["resource_id"].map(tryit.subject)
    assert set(before[subjects.isin(ex.subjects)]["status"]) == {"FAIL"}

    result = tryit.exercise(demo_wb, check_id)

    assert result.flipped, result
    after = result.workbook.findings_for(check_id=check_id)
    changed = after[after["resource_id"].map(tryit.subject).isin(ex.subjects)]
    assert set(changed["status"]) == {"PASS"}
    assert list(result.table["status before"]) == ["FAIL"] * len(ex.subjects)
    assert list(result.table["status after"]) == ["PASS"] * len(ex.subjects)
    assert result.done and "FAIL -> PASS" in result.note
    # the notebook's own workbook is untouched (in-process: a fresh copy was changed)
    assert demo_wb.findings_for(check_id=check_id).equals(before)
    # nothing secret in what the notebook shows
    shown = repr(result) + result._repr_html_()
    for value in load_scenario().planted_secrets:
        assert value not in shown


def test_only_the_checked_resources_change_status(demo_wb, monkeypatch):
    """The exercise is a targeted change: the other findings of its check stay as they were."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    result = tryit.exercise(demo_wb, "TF02-TAG-IMMUTABILITY")
    key = ["resource_id", "status"]
    before = set(map(tuple, demo_wb.findings_for(check_id="TF02-TAG-IMMUTABILITY")[key].values))
    after = set(
        map(tuple, result.workbook.findings_for(check_id="TF02-TAG-IMMUTABILITY")[key].values)
    )
    assert before - after == {("shop/payments", "FAIL")}
    assert after - before == {("shop/payments", "PASS")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    seed_server(load_scenario(), url)
    yield url
    server.stop()


def test_on_the_demo_server_the_change_stays_until_reset(demo_server):
    check = "TF05-DEPLOYMENT-ROLLBACK"

    def status() -> str:
        wb = Workbook.open(source="demo", endpoint_url=demo_server)
        row = wb.findings_for(check_id=check).query("resource_id == 'shop-prod/payments'")
        return row["status"].item()

    wb = Workbook.open(source="demo", endpoint_url=demo_server)
    result = tryit.exercise(wb, check)
    assert result.flipped and "stays on the demo server" in result.note
    assert status() == "PASS"  # re-running the notebook sees the change
    again = tryit.exercise(result.workbook, check)  # idempotent; says it was done already
    assert not again.flipped and again.note.startswith("Already PASS before")
    assert tryit.reset(wb).startswith(f"reset: the demo account at {demo_server} is as seeded")
    assert status() == "FAIL"


def test_demo_client_writes_to_the_demo_server_only(demo_server, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    ecr = tryit.demo_client("ecr", endpoint_url=demo_server)
    names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    assert "shop/payments" in names
    with pytest.raises(ConfigurationError, match="no demo account to change"):
        tryit.demo_client("ecr")  # no server given, no in-process demo open
    with pytest.raises(ConfigurationError, match="is not the demo server"):
        tryit.demo_client("ecr", endpoint_url="https://api.ecr.eu-west-1.amazonaws.com")
    with pytest.raises(ConfigurationError, match="is not the demo server"):
        tryit.demo_client("ecr", endpoint_url="http://10.0.0.5:5005")
    with pytest.raises(ConfigurationError, match="no demo \\(moto\\) server answers"):
        tryit.demo_client("ecr", endpoint_url=f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("AWS_ENDPOINT_URL", demo_server)  # the lab's kernels have it set
    assert tryit.demo_client("ecr").describe_repositories()["repositories"]


@pytest.mark.parametrize("source", ["live", "snapshot"])
def test_on_any_other_account_nothing_is_changed(source, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a client was created")

    monkeypatch.setattr(tryit, "DemoClients", refuse)
    wb = types.SimpleNamespace(settings=Settings(source=source, endpoint_url=""))
    result = tryit.exercise(wb, "TF03-SECRETS-IN-ENV")
    assert result.exercise is None and result.workbook is None and not result.flipped
    expected = {"live": "reads a live AWS account", "snapshot": "replays a saved snapshot"}
    assert f"{expected[source]}, not the demo account: nothing was changed" in result.note
    assert "nothing was changed" in result._repr_html_()
    assert tryit.reset(wb).endswith("nothing was changed.")


def test_an_unknown_exercise_names_the_choices(demo_wb):
    with pytest.raises(ConfigurationError, match="check_id: no Try-it exercise for 'TF99-X'"):
        tryit.exercise(demo_wb, "TF99-X")
