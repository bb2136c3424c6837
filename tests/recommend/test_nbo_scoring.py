"""NextBestOffer's block scores kept sparse (crmml.recommend._scoring) against the dense definition, and the
sparse and dense rankings of ``recommend`` against each other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import crmml.recommend._model as nbo_model
from crmml.recommend import NextBestOffer
from crmml.recommend._scoring import dense_scores, fill_scores, history_cells


def _dense_definition(a, sim, weights, pop, value, counts, banned, eligible):
    """The scores as the dense block the class docstring defines, in the documented order of float32 operations."""
    w_cooc, w_rep, _, w_freq = weights
    c = (a @ sim).toarray()
    tot = c.astype(np.float64).sum(axis=1)          # row sums in float64 (rounded to float32 below)
    score = c * (np.float32(w_cooc) / np.where(tot > 0, tot, 1.0).astype(np.float32))[:, None]
    score = score + np.float32(w_rep) * a.toarray()
    if w_freq > 0:
        score = score + np.float32(w_freq) * counts.toarray().astype(np.float32)
    score = (score + pop) * value
    score[:, ~eligible] = -np.inf
    score[banned.toarray()] = -np.inf
    return score


@pytest.mark.parametrize("seed", range(10))
def test_history_cells_over_the_fill_equal_the_dense_definition(seed):
    rng = np.random.default_rng(seed)
    n_rows, n_items = int(rng.integers(1, 40)), int(rng.integers(2, 60))
    a = sp.random(n_rows, n_items, density=0.1, random_state=seed, format="csr", dtype=np.float32)
    sim = sp.random(n_items, n_items, density=0.2, random_state=seed + 1, format="csr", dtype=np.float32)
    counts = sp.csr_matrix((a > 0).astype(np.float32) * rng.integers(1, 5))
    banned = sp.csr_matrix(sp.random(n_rows, n_items, density=0.05, random_state=seed + 2) > 0)
    pop = (rng.random(n_items) * 0.01).astype(np.float32)
    value = rng.choice([0.0, 0.5, 1.0, 3.0], n_items).astype(np.float32)          # value 0: worth nothing
    eligible = rng.random(n_items) > 0.2
    weights = (1.0, float(rng.choice([0.0, 0.5, 2.0])), 0.5, float(rng.choice([0.0, 1.0])))
    cells = history_cells(a, sim, weights, pop, value, counts=counts, banned=banned, eligible=eligible)
    got = dense_scores(cells, fill_scores(pop, value, eligible))
    want = _dense_definition(a, sim, weights, pop, value, counts, banned, eligible)
    want[np.isnan(want)] = -np.inf                  # a banned cell worth 0 (-inf * 0): never offered either way
    np.testing.assert_array_equal(got, want.astype(np.float32))


@pytest.fixture(scope="module")
def fitted(synthetic_crm):
    tx = synthetic_crm.transactions
    as_of = synthetic_crm.start + pd.Timedelta(days=500)
    products = synthetic_crm.products.copy()
    products["in_stock"] = np.random.default_rng(0).random(len(products)) > 0.2
    return tx, products, as_of


@pytest.mark.filterwarnings("ignore::crmml.exceptions.ColdStartWarning")
@pytest.mark.parametrize("params", [
    {},
    {"max_per_category": 2, "exclude_recent_days": 30, "value_column": "price", "eligible": "in_stock"},
    {"repurchase": "never", "max_per_category": 1},
    {"cooccurrence_weight": 0.0, "popularity_weight": 0.0},          # only repurchase: short lists, no fill
])
def test_sparse_and_dense_ranking_give_identical_recommendations(fitted, monkeypatch, params):
    """``recommend`` ranks a block sparse when the history reaches few of its cells and dense otherwise: both
    give the same rows, products, scores and reasons, for every rule."""
    tx, products, as_of = fitted
    m = NextBestOffer(blend="fixed", batch_size=97, **params).fit(tx, products, as_of=as_of)
    ids = list(m.customers_[:600]) + [10**9]                 # an unknown id: cold start
    monkeypatch.setattr(nbo_model, "SPARSE_BELOW", 1.0)
    sparse = m.recommend(ids, k=10)
    monkeypatch.setattr(nbo_model, "SPARSE_BELOW", 0.0)
    dense = m.recommend(ids, k=10)
    assert len(sparse) > 0
    pd.testing.assert_frame_equal(sparse, dense, check_exact=True)


def test_non_numeric_customer_weights_get_a_named_error():
    # hostile audit: customer_weights={1: "x"} raised pandas' "could not convert string to float"
    tx = pd.DataFrame({"customer_id": [1, 1, 2],
                       "timestamp": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-01-03"]), "amount": [5.0, 3.0, 4.0], "product_id": ["a", "b", "a"]})
    nbo = NextBestOffer().fit(tx)
    with pytest.raises(ValueError, match=r"The 'customer_weights' parameter of NextBestOffer.recommend must hold "
                                         r"numbers; 1 value is not \(e.g. \['x'\]\)"):
        nbo.recommend([1, 2], k=1, customer_weights={1: "x", 2: 2.0})
    assert len(nbo.recommend([1, 2], k=1, customer_weights={1: np.nan, 2: -2.0})) == 2   # NaN = missing = 1
