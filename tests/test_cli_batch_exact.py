"""``crmml score --batch N`` gives exactly the unbatched output on the full Online Retail data (issue 12).

Churn, CLV and segments models are trained once with ``crmml train``; each is then scored without batches and
with ``--batch`` 7, 1000 and the number of customers on the whole file, and every output (sorted by customer) must
equal the unbatched one bit for bit. One-customer batches (``--batch 1``) run on a file of the customers most likely
to break them -- every customer with fewer than 3 lines or only returns, 150 with a single purchase day, 150 with
some returns -- plus 300 at random, and must give those customers' rows of the full unbatched output. (Until
2026-12 ``--batch 1`` also ran on all 4,372 customers: 13,000 one-customer runs, 7 of the suite's 20 minutes.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml.cli import main

pytestmark = pytest.mark.slow

AS_OF = "2011-12-10"        # explicit: the default (day after the file's last row) differs for a subset file
KINDS = ("churn", "clv", "segments")


@pytest.fixture(scope="module")
def retail_models(online_retail, tmp_path_factory):
    d = tmp_path_factory.mktemp("batch_exact")
    tx_path = d / "tx.parquet"
    online_retail.to_parquet(tx_path, index=False)
    for kind in KINDS:
        assert main(["--quiet", "train", kind, "--input", str(tx_path), "--model", str(d / f"{kind}.zip"),
                     "--as-of", AS_OF]) == 0
    return d, tx_path, int(online_retail["customer_id"].nunique())


def _score(d, kind, tx_path, batch=None):
    out = d / f"{kind}_{tx_path.stem}_{batch}.parquet"
    args = ["--quiet", "score", "--model", str(d / f"{kind}.zip"), "--input", str(tx_path),
            "--output", str(out), "--as-of", AS_OF]
    assert main(args + ([] if batch is None else ["--batch", str(batch)])) == 0
    df = pd.read_parquet(out)
    return df.sort_values("customer_id", kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("kind", KINDS)
def test_batched_score_equals_unbatched_exactly(retail_models, kind):
    d, tx_path, n_customers = retail_models
    whole = _score(d, kind, tx_path)
    assert len(whole) > 0.9 * n_customers
    for batch in (7, 1000, n_customers):
        pd.testing.assert_frame_equal(_score(d, kind, tx_path, batch), whole, check_exact=True,
                                      obj=f"{kind} --batch {batch}")


def _unusual_and_random_customers(tx):
    """Every customer with < 3 lines or only returns, 150 with one purchase day, 150 with some returns, 300 more."""
    tx = tx[tx["timestamp"] < pd.Timestamp(AS_OF)]
    g = tx.assign(day=tx["timestamp"].dt.normalize(), ret=tx["amount"] < 0).groupby("customer_id")
    per = pd.DataFrame({"lines": g.size(), "days": g["day"].nunique(), "returns": g["ret"].sum()})
    rng = np.random.default_rng(12)
    pick = lambda ids, n: rng.choice(ids, min(n, len(ids)), replace=False)  # noqa: E731
    chosen = set(per.index[(per["lines"] < 3) | (per["returns"] == per["lines"])])
    chosen |= set(pick(per.index[per["days"] == 1].to_numpy(), 150))
    chosen |= set(pick(per.index[(per["returns"] > 0) & (per["returns"] < per["lines"])].to_numpy(), 150))
    rest = per.index.difference(list(chosen)).to_numpy()
    return np.array(sorted(chosen | set(pick(rest, 300))))


@pytest.mark.parametrize("kind", KINDS)
def test_one_customer_batches_on_a_subset_equal_the_whole_base(retail_models, online_retail, kind):
    d, tx_path, _ = retail_models
    ids = _unusual_and_random_customers(online_retail)
    sub_path = d / "subset.parquet"
    if not sub_path.exists():
        online_retail[online_retail["customer_id"].isin(ids)].to_parquet(sub_path, index=False)
    whole = _score(d, kind, tx_path)
    expected = whole[whole["customer_id"].isin(ids)].reset_index(drop=True)
    assert len(expected) > 0.9 * len(ids)
    pd.testing.assert_frame_equal(_score(d, kind, sub_path, 1), expected, check_exact=True,
                                  obj=f"{kind} --batch 1 on {len(ids)} customers")
