"""build_features(families=...): only the requested families, each value as in the full table."""

import pandas as pd
import pytest

from crmml.datasets import make_synthetic_crm
from crmml.exceptions import ParameterError
from crmml.features import REGISTRY, build_features

AS_OF = "2024-06-01"


@pytest.fixture(scope="module")
def crm():
    return make_synthetic_crm(n_customers=400, seed=5)


@pytest.fixture(scope="module")
def full(crm):
    return build_features(crm.transactions, AS_OF, events=crm.events, customers=crm.customers)


def test_the_families_one_at_a_time_rebuild_the_full_table_bit_for_bit(crm, full):
    parts = [build_features(crm.transactions, AS_OF, events=crm.events, customers=crm.customers, families=[f.name])
             for f in REGISTRY]
    assert all(p.shape[1] > 0 for p in parts)
    pd.testing.assert_frame_equal(pd.concat(parts, axis=1), full)     # same rows, columns and values


@pytest.mark.parametrize("families", [["rfm", "lifetime"], ["lifetime", "rfm"], "gaps", ["diversity", "channel"]])
def test_a_subset_is_those_columns_of_the_full_table(crm, full, families):
    part = build_features(crm.transactions, AS_OF, events=crm.events, customers=crm.customers, families=families,
                          n_jobs=1)
    assert 0 < part.shape[1] < full.shape[1]
    pd.testing.assert_frame_equal(part, full[list(part.columns)])
    assert list(part.columns) == [c for c in full.columns if c in set(part.columns)]   # the full table's order


@pytest.mark.parametrize("families", [[], ["rfm", "nope"], "recency"])
def test_unknown_or_empty_families_are_refused_by_name(crm, families):
    with pytest.raises(ParameterError, match="The 'families' parameter of build_features must be a non-empty list"):
        build_features(crm.transactions, AS_OF, families=families)
