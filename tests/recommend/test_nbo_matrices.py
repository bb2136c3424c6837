"""crmml.recommend._matrices.occasions against its definition: a pandas groupby of the coded lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml.recommend._matrices import coded_lines, occasions


def _reference(tx, items, customers):
    """The definition (and the grouping before 2026-12): the coded lines, then groupby(sort=False).min()."""
    c, i, basket, ts = coded_lines(tx, items, customers)
    occ = pd.DataFrame({"c": c, "i": i, "basket": basket, "ts": ts})
    return occ.groupby(["c", "i", "basket"], sort=False, as_index=False)["ts"].min()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("with_transaction_id", [True, False])
def test_occasions_equal_the_groupby_definition(seed, with_transaction_id):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    tx = pd.DataFrame({"customer_id": rng.integers(0, 60, n), "product_id": rng.choice(list("abcdefghij"), n),
                       "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 40, n), "D")})
    if with_transaction_id:
        tx["transaction_id"] = rng.integers(0, 400, n).astype(str)     # ids shared across customers too
    items = pd.Index(list("abcdefgh"))                                  # i, j: unknown items are dropped
    customers = pd.Index(np.arange(0, 60, 2 if seed % 2 else 1))        # odd customers unknown on odd seeds
    got = occasions(tx, items, customers)
    pd.testing.assert_frame_equal(got, _reference(tx, items, customers).reset_index(drop=True), check_exact=True)
