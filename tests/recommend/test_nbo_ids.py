"""Requested ids are converted to the fitted id type (schema rule) or refused; unknown ids are counted (issue 12)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from crmml.exceptions import ColdStartWarning, IdTypeError
from crmml.recommend import NextBestOffer, PastPurchasesBaseline, PopularityBaseline


def _tx(ids):
    return pd.DataFrame({"customer_id": ids, "transaction_id": [1, 1, 2, 2, 3, 3, 4],
                         "timestamp": pd.to_datetime(["2024-01-01"] * 7), "amount": 10.0,
                         "product_id": ["tea", "mug", "tea", "mug", "tea", "cake", "tea"]})


@pytest.fixture(scope="module")
def int_model():
    return NextBestOffer(repurchase="never").fit(_tx([1, 1, 2, 2, 3, 3, 4]))


def test_text_and_float_ids_find_integer_customers(int_model):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ColdStartWarning)       # nothing is cold start here
        by_text = int_model.recommend(["4", " 3", "1"], k=2)
        by_float = int_model.recommend([4.0, 3.0, 1.0], k=2)
    expected = int_model.recommend([4, 3, 1], k=2)
    pd.testing.assert_frame_equal(by_text, expected)
    pd.testing.assert_frame_equal(by_float, expected)
    assert expected.loc[expected["customer_id"] == 4, "product_id"].iloc[0] == "mug"   # personalised, not cold start
    assert by_text["customer_id"].dtype == "int64"


def test_one_customer_is_not_two(int_model):
    recs = int_model.recommend([1, 1.0, "1"], k=5)
    assert recs["customer_id"].nunique() == 1


@pytest.mark.parametrize("ids, match", [
    (["C1", 2, "x"], r"fitted on integer customer ids, but 2 requested id\(s\) are not integers, e.g. 'C1', 'x'"),
    ([1.5], r"not integers, e.g. 1.5"),
    ([True], r"not integers, e.g. True"),
    ([1, None], r"1 missing customer id\(s\)"),
    # hostile audit: an id beyond int64 raised Python's OverflowError "int too large to convert to C long"
    (["99999999999999999999999999"], r"1 requested id\(s\) are integers beyond the int64 range"),
])
def test_unconvertible_ids_are_refused(int_model, ids, match):
    with pytest.raises(IdTypeError, match=match):
        int_model.recommend(ids)


def test_unknown_ids_warn_with_count(int_model):
    with pytest.warns(ColdStartWarning, match=r"2 of 3 customer id\(s\) were not seen in fit \(e.g. \[98, 99\]\)"):
        recs = int_model.recommend([98, 1, "99"], k=1)
    assert list(pd.unique(recs["customer_id"])) == [98, 1, 99]


def test_text_ids_model_converts_numbers_to_text():
    m = NextBestOffer(repurchase="never").fit(_tx(["A", "A", "B", "B", "7", "7", "D"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ColdStartWarning)
        recs = m.recommend([7, 7.0, "D"], k=1)
    assert list(recs["customer_id"]) == ["7", "D"]


def test_baselines_use_the_same_rule():
    tx = _tx([1, 1, 2, 2, 3, 3, 4])
    past = PastPurchasesBaseline(fill_popular=False).fit(tx)
    pd.testing.assert_frame_equal(past.recommend(["1"], k=2), past.recommend([1], k=2))
    with pytest.raises(IdTypeError):
        past.recommend(["C1"])
    with pytest.warns(ColdStartWarning, match="1 of 1"):
        past.recommend([77])
    pop = PopularityBaseline(exclude_bought=True).fit(tx)
    pd.testing.assert_frame_equal(pop.recommend(["4"], k=2), pop.recommend([4], k=2))
    for model in (past, pop):                           # an id requested twice is answered once (documented)
        pd.testing.assert_frame_equal(model.recommend([4, "4", 4.0], k=2), model.recommend([4], k=2))



def test_the_cold_start_warning_says_what_unknown_customers_get():
    """PastPurchasesBaseline(fill_popular=False) gives an unknown customer no rows; its warning said they got
    the cold-start list (recent popular products)."""
    tx = _tx([1, 1, 2, 2, 3, 3, 4])
    with pytest.warns(ColdStartWarning, match=r"1 of 2 .* they get no rows \(fill_popular=False\)"):
        recs = PastPurchasesBaseline(fill_popular=False).fit(tx).recommend([1, 77], k=2)
    assert 77 not in set(recs["customer_id"]) and 1 in set(recs["customer_id"])
    with pytest.warns(ColdStartWarning, match=r"they get the cold-start list \(recent popular products\)"):
        recs = PastPurchasesBaseline().fit(tx).recommend([77], k=2)
    assert list(recs["product_id"]) == ["tea", "mug"]

def test_batch_size_bounded():
    with pytest.raises(ValueError, match=r"The 'batch_size' parameter of NextBestOffer must be an int in \[1, 100000\]"):
        NextBestOffer(batch_size=10**9).fit(_tx([1, 1, 2, 2, 3, 3, 4]))
