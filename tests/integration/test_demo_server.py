"""The demo account seeded into a moto server on 127.0.0.1, then audited over HTTP."""

from __future__ import annotations

import socket

import pytest
from conftest import unexpected_errors

from twelvefactor.demo import load_scenario, seed_server
from twelvefactor.findings import to_frame
from twelvefactor.workbook import Workbook


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def moto_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_seeded_server_gives_the_same_findings_as_in_process(moto_server):
    scenario = load_scenario()
    seed_server(scenario, moto_server)
    over_http = Workbook.open(source="demo", endpoint_url=moto_server)
    assert unexpected_errors(over_http.snapshot.manifest["errors"]) == []
    got = set(
        zip(
            over_http.findings["check_id"],
            over_http.findings["resource_id"],
            over_http.findings["status"],
            strict=True,
        )
    )
    assert got == scenario.expected_rows()
    # seeding again resets the account first: still exactly the scenario
    seed_server(scenario, moto_server)
    again = Workbook.open(source="demo", endpoint_url=moto_server)
    assert len(to_frame([])) == 0
    assert len(again.findings) == len(over_http.findings)
