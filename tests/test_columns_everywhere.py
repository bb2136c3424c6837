"""``columns=`` (user column names -> canonical) at every public entry point that takes a frame.

Each test calls the entry point on frames with the user's names plus ``columns=`` and compares the result with
the call on canonical frames: the mapping must give exactly the same result.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from crmml.datasets import make_synthetic_crm
from crmml.schema import SchemaError, map_frames

TX_NAMES = {"customer_id": "CustomerID", "timestamp": "InvoiceDate", "amount": "Total", "product_id": "StockCode"}
EV_NAMES = {"customer_id": "CustomerID", "timestamp": "EventTime", "event_type": "Kind"}
CU_NAMES = {"customer_id": "CustomerID", "signup_date": "Joined"}
PR_NAMES = {"product_id": "StockCode"}


def _columns(*frames):
    """One flat mapping over the given frames' names (each frame renames the names it has)."""
    return {v: k for names in frames for k, v in names.items()}


TX_COLUMNS = _columns(TX_NAMES)


@pytest.fixture(scope="module")
def crm():
    return make_synthetic_crm(n_customers=150, seed=3)


def _theirs(df, names):
    return df.rename(columns=names)


@pytest.fixture(scope="module")
def theirs(crm):
    return {"transactions": _theirs(crm.transactions, TX_NAMES), "events": _theirs(crm.events, EV_NAMES),
            "customers": _theirs(crm.customers, CU_NAMES), "products": _theirs(crm.products, PR_NAMES)}


def test_build_features_columns(crm, theirs):
    from crmml.features import build_features

    want = build_features(crm.transactions, "2024-06-01", crm.events, crm.customers, windows=(30, 90))
    got = build_features(theirs["transactions"], "2024-06-01", theirs["events"], theirs["customers"],
                         windows=(30, 90), columns=_columns(TX_NAMES, EV_NAMES, CU_NAMES))
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_make_churn_snapshot_columns(crm, theirs):
    from crmml.churn import make_churn_snapshot

    X0, y0 = make_churn_snapshot(crm.transactions, "2024-06-01", events=crm.events, windows=(30, 90))
    X1, y1 = make_churn_snapshot(theirs["transactions"], "2024-06-01", events=theirs["events"], windows=(30, 90),
                                 columns=_columns(TX_NAMES, EV_NAMES))
    pd.testing.assert_frame_equal(X1, X0, check_exact=True)
    pd.testing.assert_series_equal(y1, y0)


def test_make_churn_labels_columns(crm, theirs):
    from crmml.churn import make_churn_labels

    pd.testing.assert_frame_equal(make_churn_labels(theirs["transactions"], "2024-06-01", columns=TX_COLUMNS),
                                  make_churn_labels(crm.transactions, "2024-06-01"))


def test_backtest_columns(crm, theirs):
    from crmml.churn import ChurnModel, backtest

    kw = dict(windows=(30, 90), n_train_snapshots=1, model=ChurnModel(n_estimators=10))
    want = backtest(crm.transactions, ["2024-06-01"], events=crm.events, **kw).metrics
    got = backtest(theirs["transactions"], ["2024-06-01"], events=theirs["events"],
                   columns=_columns(TX_NAMES, EV_NAMES), **kw).metrics
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("name", ["NextBestOffer", "PopularityBaseline", "PastPurchasesBaseline"])
def test_recommender_fit_columns(crm, theirs, name):
    import crmml.recommend as rec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # cold-start warnings are not the point here
        want = getattr(rec, name)().fit(crm.transactions, crm.products, as_of="2024-06-01")
        got = getattr(rec, name)().fit(theirs["transactions"], theirs["products"], as_of="2024-06-01",
                                       columns=_columns(TX_NAMES, PR_NAMES))
        ids = crm.transactions["customer_id"].unique()[:40]
        pd.testing.assert_frame_equal(got.recommend(ids, k=3), want.recommend(ids, k=3))


def test_evaluate_recommendations_and_time_split_columns(crm, theirs):
    from crmml.recommend import NextBestOffer, evaluate_recommendations, time_split

    want = evaluate_recommendations(NextBestOffer(), crm.transactions, "2024-06-01", products=crm.products)
    got = evaluate_recommendations(NextBestOffer(), theirs["transactions"], "2024-06-01",
                                   products=theirs["products"], columns=_columns(TX_NAMES, PR_NAMES))
    pd.testing.assert_frame_equal(got, want)
    train, rel = time_split(theirs["transactions"], "2024-06-01", columns=TX_COLUMNS)
    assert {"customer_id", "timestamp", "amount", "product_id"} <= set(train.columns) and len(rel) > 0


@pytest.mark.parametrize("entry", ["rfm_table", "summarize", "calibration_holdout", "CLVModel.fit"])
def test_entry_points_that_already_took_columns(crm, theirs, entry):
    from crmml.clv import CLVModel, calibration_holdout, summarize
    from crmml.segmentation import rfm_table

    call = {"rfm_table": lambda tx, c: rfm_table(tx, "2024-06-01", columns=c),
            "summarize": lambda tx, c: summarize(tx, "2024-06-01", columns=c),
            "calibration_holdout": lambda tx, c: calibration_holdout(tx, "2024-03-01", "2024-06-01", columns=c),
            "CLVModel.fit": lambda tx, c: CLVModel().fit(tx, "2024-06-01", columns=c).predict()}[entry]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.testing.assert_frame_equal(call(theirs["transactions"], TX_COLUMNS), call(crm.transactions, None))


def test_per_frame_mapping_and_refusals(crm, theirs):
    tx = theirs["transactions"].rename(columns={"InvoiceDate": "Date"})
    ev = theirs["events"].rename(columns={"EventTime": "Date"})            # same name, same meaning
    out = map_frames({"transactions": {"CustomerID": "customer_id", "Date": "timestamp", "Total": "amount"},
                      "events": {"CustomerID": "customer_id", "Date": "timestamp", "Kind": "event_type"}},
                     transactions=tx, events=ev)
    assert {"customer_id", "timestamp", "event_type"} <= set(out["events"].columns)
    with pytest.raises(SchemaError, match=r"in none of the frames: \['Custmer'\]"):
        map_frames({"Custmer": "customer_id"}, transactions=tx, events=ev)
    with pytest.raises(SchemaError, match=r"names frames \['orders'\]"):
        map_frames({"orders": {"a": "b"}}, transactions=tx)
    with pytest.raises(SchemaError, match="must be a dict"):
        map_frames(["CustomerID"], transactions=tx)
    from crmml.features import build_features

    with pytest.raises(SchemaError, match="transactions: the column mapping renames 'Total' to 'amount'"):
        build_features(tx.assign(amount=1.0), "2024-06-01", columns={"Total": "amount"})
