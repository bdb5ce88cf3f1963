"""Catalog consistency: catalog, registry, evidence tables and notebooks agree."""

from __future__ import annotations

from twelvefactor.catalog import ID_RE, load_catalog
from twelvefactor.checks import registry
from twelvefactor.evidence import EVIDENCE


def test_every_catalog_entry_is_implemented_and_vice_versa():
    assert set(load_catalog()) == set(registry())


def test_every_check_has_an_evidence_table():
    assert set(registry()) <= set(EVIDENCE)


def test_catalog_entries_are_complete():
    for check_id, meta in load_catalog().items():
        assert ID_RE.match(check_id)
        assert meta.factor == int(check_id[2:4])
        assert meta.rationale and meta.remediation and meta.references, check_id
        # every check that reads AWS names what it needs; local-repository checks need nothing
        assert meta.iam_actions or meta.resource_type == "LocalRepository", check_id
        assert all(a.split(":", 1)[0] and a.split(":", 1)[1][0].isupper() for a in meta.iam_actions)


def test_shipped_iam_policy_is_the_derived_one():
    from twelvefactor.policy import policy_json
    from twelvefactor.settings import data_dir

    assert (data_dir() / "iam-policy.json").read_text() == policy_json(), (
        "data/iam-policy.json is stale: run `twelvefactor policy > data/iam-policy.json`"
    )
