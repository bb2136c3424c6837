"""Real-data loaders and the synthetic generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml.datasets import (
    DatasetNotFoundError,
    load_bank_marketing,
    load_cdnow_summary,
    load_online_retail,
    make_synthetic_crm,
)
from crmml.schema import validate_customers, validate_events, validate_leads, validate_products, validate_transactions


def test_load_cdnow_full_shape_and_schema(cdnow):
    assert cdnow.shape == (69659, 4)
    assert list(cdnow.columns) == ["customer_id", "timestamp", "amount", "quantity"]
    assert cdnow["customer_id"].nunique() == 23570
    assert cdnow["timestamp"].min() == pd.Timestamp("1997-01-01")
    assert cdnow["timestamp"].max() == pd.Timestamp("1998-06-30")
    assert str(cdnow["timestamp"].dtype) == "datetime64[ns]"


def test_cdnow_summary_is_the_papers_sample():
    s = load_cdnow_summary()
    assert len(s) == 2357 and {"frequency", "recency", "T"} <= set(s.columns)


def test_online_retail_full(online_retail):
    assert len(online_retail) == 406829
    assert online_retail["customer_id"].nunique() == 4372
    returns = online_retail["transaction_id"].str.startswith("C")
    assert (online_retail.loc[returns, "amount"] <= 0).all()          # cancellations kept as negative
    assert returns.sum() > 8000


def test_shipped_samples_load_without_shared_data(monkeypatch, tmp_path):
    monkeypatch.setenv("CRMML_SHARED_DATA", str(tmp_path))            # an empty folder
    tx = load_online_retail(sample=True)
    assert tx["customer_id"].nunique() == 1500
    leads = load_bank_marketing(sample=True)
    assert len(leads) == 41188 and "duration" not in leads.columns
    assert 0.10 < leads["converted"].mean() < 0.12
    with pytest.raises(DatasetNotFoundError, match=r"online_retail/online_retail.csv.gz was not found.*"
                                                   r"sample=True"):
        load_online_retail()


def test_bank_marketing_duration_optional(bank_leads):
    assert "duration" not in bank_leads.columns
    with_dur = load_bank_marketing(drop_duration=False)
    assert "duration" in with_dur.columns and "emp_var_rate" in with_dur.columns


def test_grocery_has_no_amounts(grocery):
    assert grocery.shape[0] == 10483 and grocery["customer_id"].nunique() == 1525
    assert grocery["amount"].isna().all()


def test_synthetic_frames_fit_the_schema():
    crm = make_synthetic_crm(n_customers=300, seed=3)
    for fn, df in [(validate_transactions, crm.transactions), (validate_customers, crm.customers),
                   (validate_events, crm.events), (validate_products, crm.products),
                   (validate_leads, crm.leads)]:
        out = fn(df)
        assert len(out) == len(df)
    assert set(crm.transactions["customer_id"]) == set(crm.customers["customer_id"])
    assert crm.transactions["timestamp"].max() < crm.end
    assert set(crm.events["event_type"].unique()) == set(crm.params["event_rates"])


def test_synthetic_is_seeded():
    a, b = make_synthetic_crm(200, seed=7), make_synthetic_crm(200, seed=7)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    c = make_synthetic_crm(200, seed=8)
    assert not a.transactions["amount"].equals(c.transactions["amount"])


def test_synthetic_rejects_bad_params():
    with pytest.raises(ValueError, match=r"The 'n_customers' parameter of make_synthetic_crm must be a positive "
                                         r"int. Got 0 instead."):
        make_synthetic_crm(0)
    with pytest.raises(ValueError, match=r"Unknown keys in 'params' of make_synthetic_crm: \['rr'\]"):
        make_synthetic_crm(10, params={"rr": 1.0})
    # n_days and start were unchecked: -5 days gave an empty log, 20240701 was read as nanoseconds since 1970
    with pytest.raises(ValueError, match=r"The 'n_days' parameter of make_synthetic_crm must be an int in \[1, 36500\]"):
        make_synthetic_crm(10, n_days=-5)
    with pytest.raises(ValueError, match=r"The 'start' parameter of make_synthetic_crm must be a date, not a number"):
        make_synthetic_crm(10, start=20240701)
    with pytest.raises(ValueError, match=r"reaches past 2262-04-11, the last date pandas holds"):
        make_synthetic_crm(10, start="2262-01-01")
    late = make_synthetic_crm(50, start="2259-01-01", n_days=30, with_events=False)   # near the limit: still fine
    assert late.transactions["timestamp"].min() >= pd.Timestamp("2259-01-01")


def _continuous_summary(crm):
    """frequency/recency/T in days from purchase occasions (positive lines), as BG/NBD assumes."""
    tx = crm.transactions[crm.transactions["amount"] > 0]
    g = tx.groupby("customer_id")
    first, last = g["timestamp"].min(), g["timestamp"].max()
    days = 86400.0
    return pd.DataFrame({"frequency": g["transaction_id"].nunique() - 1,
                         "recency": (last - first).dt.total_seconds() / days,
                         "T": (crm.end - first).dt.total_seconds() / days})


@pytest.mark.slow
def test_betageo_fitter_recovers_generating_parameters():
    """Checks the generator: lifetimes' BG/NBD fit on its data recovers r, alpha, a, b within 15%."""
    from lifetimes import BetaGeoFitter

    crm = make_synthetic_crm(n_customers=20_000, seed=11, with_events=False)
    s = _continuous_summary(crm)
    fit = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    for name in ["r", "alpha", "a", "b"]:
        truth = crm.params[name]
        assert abs(fit.params_[name] - truth) / truth < 0.15, (name, fit.params_[name], truth)


def test_synthetic_truth_is_consistent():
    crm = make_synthetic_crm(n_customers=3000, seed=5, with_events=False)
    s = _continuous_summary(crm)
    assert (s["frequency"] == crm.truth["n_repeat"].reindex(s.index)).all()
    # a customer whose dropout falls inside the window makes no purchase after it
    last = crm.transactions[crm.transactions["amount"] > 0].groupby("customer_id")["timestamp"].max()
    assert (last <= crm.truth["dropout"].reindex(last.index) + pd.Timedelta("1s")).all()
    # basket values follow Gamma(p, 1/nu): mean basket value per customer ~ p / nu for active buyers
    occ = crm.transactions[crm.transactions["amount"] > 0].groupby("transaction_id").agg(
        customer_id=("customer_id", "first"), value=("amount", "sum"))
    by_cust = occ.groupby("customer_id")["value"].agg(["mean", "size"])
    heavy = by_cust[by_cust["size"] >= 20]
    expected = crm.params["p"] / crm.truth.loc[heavy.index, "nu"]
    assert np.median(heavy["mean"] / expected) == pytest.approx(1.0, abs=0.05)


def test_synthetic_events_fall_before_dropout():
    crm = make_synthetic_crm(n_customers=4000, seed=2)
    ev = crm.events.merge(crm.truth[["dropout"]], left_on="customer_id", right_index=True)
    visits = ev[ev["event_type"] == "web_visit"]
    before = (visits["timestamp"] < visits["dropout"]).mean()
    assert before > 0.85                 # engagement is mostly while active
    lead_rate = crm.leads.groupby("source")["converted"].mean()
    assert lead_rate["referral"] > lead_rate["cold_call"]


def test_shipped_cdnow_is_the_lifetimes_copy():
    """crmml ships CDNOW itself (lifetimes is only a test-time reference): byte for byte lifetimes' file, and the
    sample summary equal to lifetimes' (columns renamed)."""
    import gzip
    from importlib import resources

    from crmml.datasets._loaders import _shipped_file

    reference = resources.files(pytest.importorskip("lifetimes.datasets"))
    assert gzip.decompress(_shipped_file("cdnow_master.txt.gz").read_bytes()) == \
        (reference / "CDNOW_master.txt").read_bytes()
    theirs = pd.read_csv(reference / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    theirs = theirs.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    pd.testing.assert_frame_equal(load_cdnow_summary(), theirs.rename_axis("customer_id"), check_exact=True)


@pytest.mark.parametrize("loader", ["load_online_retail", "load_bank_marketing", "load_grocery"])
def test_a_missing_explicit_path_is_a_named_error(loader, tmp_path):
    import crmml.datasets

    with pytest.raises(DatasetNotFoundError, match="nope.csv was not found; pass the path of the dataset file"):
        getattr(crmml.datasets, loader)(path=tmp_path / "nope.csv")
