"""The built-in demo account: a scenario in data/demo seeded into moto.

This is the only code that writes to an AWS API, and only to a mocked account: in-process with
``moto.mock_aws`` (tests, headless runs) or into a moto server on 127.0.0.1 (workshops).
"""

from __future__ import annotations

from .scenario import Scenario, load_scenario
from .seed import in_process, seed_server

__all__ = ["Scenario", "in_process", "load_scenario", "seed_server"]
