"""crmml.recommend._matrices.occasions against its definition: a pandas groupby of the coded lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml.recommend._matrices import occasions


def _reference(tx, items, customers):
    """The definition (and the implementation before 2026-12): codes, then groupby(sort=False).min()."""
    c = customers.get_indexer(tx["customer_id"])
    i = items.get_indexer(tx["product_id"])
    ts = tx["timestamp"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    key = tx["transaction_id"] if "transaction_id" in tx.columns else tx["timestamp"]
    kc = pd.factorize(tx["customer_id"].to_numpy())[0].astype(np.int64)
    kt = pd.factorize(key.to_numpy())[0].astype(np.int64)
    basket = pd.factorize(kc * (int(kt.max()) + 1) + kt)[0]
    occ = pd.DataFrame({"c": c, "i": i, "basket": basket, "ts": ts})
    occ = occ[(occ["c"] >= 0) & (occ["i"] >= 0)]
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
