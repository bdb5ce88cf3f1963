"""Inventory tables for resources beyond ECS and the config stores: build and release, load
balancing, backing services. Mixed into :class:`twelvefactor.inventory.Inventory`."""

from __future__ import annotations

#: Columns of the tables defined here (merged into inventory.SCHEMA).
SCHEMA_MORE: dict[str, list[str]] = {}


class MoreTables:
    """Mixin: cached DataFrame properties, built from ``self.snapshot`` like the core tables."""
