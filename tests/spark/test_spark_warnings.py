"""crmml warnings raised on Spark workers reach the driver as the pandas API raises them on the whole data.

Before, every warning of a bucket stayed in its Python worker (rfm_table even silenced them): a returns-only
customer, an event without a type, a cut-off outside the data, ids unseen in fit passed silently on Spark. Each
test runs the pandas API on the same rows (``to_pandas`` of the Spark input) and compares the crmml warnings,
category and message, with those ``to_pandas`` (a ``surface_errors`` block) issues on the driver.
Tiny frames, 4 buckets, one local Spark session (the rootdir ``spark`` fixture).
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from crmml.exceptions import DroppedCustomersWarning

AS_OF = "2024-03-01"


def _tx(n_returns_only=5):
    """Customers 1-8 buy; customers 101.. have only returns before AS_OF (spread over the buckets)."""
    rows = [(c, 10.0 + c, f"2024-01-{c:02d}") for c in range(1, 9)]
    rows += [(c, 12.0, "2024-02-10") for c in range(1, 9, 2)] + [(2, 8.0, "2024-02-29")]
    rows += [(100 + c, -5.0, f"2024-02-{c:02d}") for c in range(1, n_returns_only + 1)]
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "amount": [r[1] for r in rows],
                         "timestamp": pd.to_datetime([r[2] for r in rows])})


def _crmml_warnings(fn):
    """(result, sorted [(category name, message)]) of the crmml warnings ``fn()`` raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    got = sorted((type(w.message).__name__, str(w.message)) for w in caught
                 if type(w.message).__module__.startswith("crmml") or type(w.message) is UserWarning)
    return out, got


def _same(spark_fn, pandas_fn, expect=None):
    """The Spark entry point issues on the driver exactly the pandas API's crmml warnings (and some are expected)."""
    _, want = _crmml_warnings(pandas_fn)
    _, got = _crmml_warnings(spark_fn)
    assert got == want
    for name in expect or ():
        assert any(n == name for n, _ in got), (name, got)
    return dict(got)


@pytest.fixture(scope="module")
def sdf(spark):
    from crmml import spark as cs

    return cs.to_spark(spark, _tx())


def test_rfm_table_and_summarize_count_returns_only_customers_over_the_buckets(sdf):
    """Before: no warning on Spark (rfm_table silenced its buckets'). Now the count of the whole base, once."""
    from crmml import spark as cs
    from crmml.clv import summarize
    from crmml.segmentation import rfm_table

    tx = cs.to_pandas(sdf)
    got = _same(lambda: cs.to_pandas(cs.rfm_table(sdf, AS_OF, n_buckets=4)), lambda: rfm_table(tx, AS_OF),
                ["DroppedCustomersWarning"])
    assert "5 customers with only returns" in got["DroppedCustomersWarning"]
    _same(lambda: cs.to_pandas(cs.summarize(sdf, AS_OF, n_buckets=4)), lambda: summarize(tx, AS_OF),
          ["DroppedCustomersWarning"])
    buckets = cs.to_pandas(cs.rfm_table(sdf, AS_OF, returns_only="keep", n_buckets=4).selectExpr(
        "pmod(xxhash64(customer_id), 4) AS b", "customer_id").where("customer_id > 100"))["b"].nunique()
    assert buckets > 1                       # the count is a sum over buckets, not one bucket's


@pytest.mark.parametrize("as_of", ["2024-09-01", "2023-06-01"])
def test_a_cutoff_outside_the_data_warns_once_for_the_whole_data(sdf, as_of):
    """AsOfWarning after the last row / on or before the first: checked on the merged first and last timestamps
    and row count of every bucket (a bucket's own check would be about its customers only)."""
    from crmml import spark as cs
    from crmml.clv import summarize
    from crmml.features import build_features
    from crmml.segmentation import rfm_table

    tx = cs.to_pandas(sdf)
    for spark_fn, pandas_fn in [(cs.rfm_table, rfm_table), (cs.summarize, summarize)]:
        _same(lambda: cs.to_pandas(spark_fn(sdf, as_of, n_buckets=4)), lambda: pandas_fn(tx, as_of),
              ["AsOfWarning"])
    if as_of > AS_OF:                        # build_features checks the last row only; nothing to build before
        _same(lambda: cs.to_pandas(cs.build_features(sdf, as_of, n_buckets=4)),
              lambda: build_features(tx, as_of), ["AsOfWarning"])


def test_build_features_counts_events_without_a_type(spark, sdf):
    from crmml import spark as cs
    from crmml.features import build_features

    ev = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6], "event_type": ["open", None, None, "click", None, None],
                       "timestamp": pd.to_datetime(["2024-02-01"] * 6)})
    sev = cs.to_spark(spark, ev)
    tx = cs.to_pandas(sdf)
    got = _same(lambda: cs.to_pandas(cs.build_features(sdf, AS_OF, events=sev, n_buckets=4)),
                lambda: build_features(tx, AS_OF, events=cs.to_pandas(sev)), ["DroppedCustomersWarning"])
    assert "4 events before as_of have no event_type" in got["DroppedCustomersWarning"]


def test_make_churn_labels_warns_as_the_pandas_api(spark):
    """Before: the look-back window holding only returns and a cut-off before the data were silent on Spark; a
    cut-off years after the data (no row in the look-back window) warns on both."""
    from crmml import spark as cs
    from crmml.churn import make_churn_labels

    only_returns = _tx(0).assign(amount=lambda d: -d["amount"])
    for tx, as_of in [(only_returns, AS_OF), (_tx(), "2023-06-01"), (_tx(), "2024-02-01"), (_tx(), "2030-01-01")]:
        s = cs.to_spark(spark, tx)
        got = _same(lambda: cs.to_pandas(cs.make_churn_labels(s, as_of, n_buckets=4)),
                    lambda: make_churn_labels(cs.to_pandas(s), as_of))
        assert got


def test_score_and_fits_issue_the_pandas_warnings(spark, sdf):
    from crmml import spark as cs
    from crmml.clv import CLVModel
    from crmml.recommend import NextBestOffer
    from crmml.segmentation import RFMSegmenter, rfm_table

    tx = cs.to_pandas(sdf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = RFMSegmenter().fit(rfm_table(tx, AS_OF))
        clv = CLVModel(horizon_days=90).fit(tx[tx["amount"] > 0], AS_OF)
        nbo = NextBestOffer().fit(tx[tx["customer_id"] <= 4].assign(product_id=1), as_of=AS_OF)
    late = "2024-09-01"
    _same(lambda: cs.to_pandas(cs.score(seg, sdf, late, n_buckets=4)),
          lambda: seg.transform(rfm_table(tx, late)), ["AsOfWarning", "DroppedCustomersWarning"])
    _same(lambda: cs.to_pandas(cs.score(clv, sdf, late, n_buckets=4)),
          lambda: clv.predict(tx, as_of=late), ["AsOfWarning"])
    got = _same(lambda: cs.to_pandas(cs.score(nbo, sdf, AS_OF, n_buckets=4)),
                lambda: nbo.recommend(pd.unique(tx["customer_id"]), k=5), ["ColdStartWarning"])
    assert "9 of 13 customer id(s)" in got["ColdStartWarning"]
    _same(lambda: cs.fit_clv(sdf, late, horizon_days=90), lambda: CLVModel(horizon_days=90).fit(tx, late),
          ["AsOfWarning"])
    _same(lambda: cs.fit_segmenter(sdf, AS_OF), lambda: RFMSegmenter().fit(rfm_table(tx, AS_OF)),
          ["DroppedCustomersWarning"])


def test_clean_input_warns_nothing(spark):
    from crmml import spark as cs

    s = cs.to_spark(spark, _tx(0))
    for fn in (cs.rfm_table, cs.summarize, cs.build_features):
        _, got = _crmml_warnings(lambda: cs.to_pandas(fn(s, AS_OF, n_buckets=4)))
        assert got == []
    _, got = _crmml_warnings(lambda: cs.to_pandas(cs.make_churn_labels(s, "2024-01-20", horizon_days=5)))
    assert got == []


def test_warnings_of_your_own_actions_in_a_surface_errors_block(sdf, tmp_path):
    """A write in a surface_errors block issues the warnings of its jobs once; actions outside any block are not
    reported later by an unrelated to_pandas."""
    from crmml import spark as cs

    table = cs.rfm_table(sdf, AS_OF, n_buckets=4)
    with pytest.warns(DroppedCustomersWarning, match="5 customers with only returns"):
        with cs.surface_errors():
            table.write.parquet(str(tmp_path / "a"))
    table.write.parquet(str(tmp_path / "b"))                 # outside a block: not said, and not said later
    _, got = _crmml_warnings(lambda: cs.to_pandas(cs.to_spark(sdf.sparkSession, _tx(0))))
    assert got == []
