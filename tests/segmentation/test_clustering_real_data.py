"""Acceptance on real data: clustering the UCI Online Retail customers' RFM table."""

from __future__ import annotations

import pandas as pd
import pytest

from crmml.segmentation import CustomerClusterer, rfm_table

from test_clustering import _check_names_match_numbers


@pytest.mark.slow
def test_clustering_online_retail(online_retail):
    rfm = rfm_table(online_retail, "2011-12-10")
    params = dict(features=["recency", "frequency", "monetary", "tenure"], k_range=(3, 6), sample_size=2000,
                  random_state=3)
    cc = CustomerClusterer(**params).fit(rfm)
    assert 3 <= cc.n_clusters_ <= 6
    assert list(cc.k_scores_.index) == [3, 4, 5, 6] and cc.k_scores_.idxmax() == cc.n_clusters_
    _check_names_match_numbers(cc)
    assert len(set(cc.names_)) == cc.n_clusters_
    # the most valuable cluster is named as such and holds most revenue per head
    assert "high spenders" in cc.names_[0]
    assert cc.profiles_.loc[0, "revenue_share"] > cc.profiles_.loc[0, "share"]
    assert 0.5 < cc.fidelity_ <= 1.0
    rules = cc.rules()
    assert set(rules["cluster"]) <= set(range(cc.n_clusters_)) and rules["customers"].sum() == len(rfm)
    again = CustomerClusterer(**params).fit(rfm)
    pd.testing.assert_series_equal(again.labels_, cc.labels_)
