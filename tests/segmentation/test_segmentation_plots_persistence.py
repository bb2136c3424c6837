"""Segmentation plots return Axes; fitted segmenters survive crmml.persistence save/load."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmml.segmentation import (  # noqa: E402
    CustomerClusterer,
    RFMSegmenter,
    RuleSegmenter,
    default_rfm_segments,
    plot_cluster_profiles,
    plot_rf_grid,
    plot_segment_sizes,
    rfm_table,
)


@pytest.fixture(scope="module")
def rfm(synthetic_crm):
    return rfm_table(synthetic_crm.transactions, synthetic_crm.end).iloc[:1500]


def test_plots(rfm):
    seg = RFMSegmenter().fit(rfm)
    fig, axes = plt.subplots(1, 3)
    ax = plot_segment_sizes(seg.summary(rfm), ax=axes[0])
    assert ax is axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Champions" and labels[-1] == "Lost"  # table order, top to bottom
    assert ax.get_yticks()[0] == max(ax.get_yticks())
    assert len(ax.patches) == 2 * len(seg.segment_names_)     # customers and revenue bars
    ax = plot_rf_grid(seg, rfm, ax=axes[1])
    img = ax.images[0].get_array()
    s = seg.score_table(rfm)
    top = rfm.loc[(s["r_score"] == 5) & (s["f_score"] == 5), "monetary"].mean()
    assert img[0, 4] == pytest.approx(top)                    # top-right cell = R5 F5
    cc = CustomerClusterer(n_clusters=3, features=["recency", "frequency", "monetary"]).fit(rfm)
    ax = plot_cluster_profiles(cc, ax=axes[2])
    np.testing.assert_allclose(ax.images[0].get_array(), cc.zscores_.to_numpy())
    assert cc.names_[0] in ax.get_yticklabels()[0].get_text()
    with pytest.raises(ValueError, match="plot_rf_grid: column 'clv' is not in the RFM table"):
        plot_rf_grid(seg, rfm, value="clv")
    plt.close("all")


def test_persistence_round_trip(rfm, tmp_path):
    persistence = pytest.importorskip("crmml.persistence")
    seg = RFMSegmenter().fit(rfm)
    loaded = persistence.load(persistence.save(seg, tmp_path / "rfm.zip"))
    pd.testing.assert_frame_equal(loaded.transform(rfm), seg.transform(rfm))
    custom = default_rfm_segments()
    custom.loc[0, "segment"] = "Stars"
    seg2 = RFMSegmenter(segments=custom).fit(rfm)
    loaded = persistence.load(persistence.save(seg2, tmp_path / "rfm2.zip"))
    pd.testing.assert_frame_equal(loaded.transform(rfm), seg2.transform(rfm))
    assert "Stars" in loaded.segment_names_

    cc = CustomerClusterer(n_clusters=3, features=["recency", "frequency", "monetary"]).fit(rfm)
    loaded = persistence.load(persistence.save(cc, tmp_path / "cc.zip"))
    pd.testing.assert_frame_equal(loaded.transform(rfm), cc.transform(rfm))
    pd.testing.assert_frame_equal(loaded.rules(), cc.rules())

    rs = RuleSegmenter([("vip", "monetary > 1000"), ("active", "recency < 60")]).fit(rfm)
    loaded = persistence.load(persistence.save(rs, tmp_path / "rs.zip"))
    pd.testing.assert_frame_equal(loaded.transform(rfm), rs.transform(rfm))

    with_callable = RuleSegmenter([("vip", lambda d: d["monetary"] > 1000)]).fit(rfm)
    with pytest.raises(TypeError, match="callable"):  # functions are not data: documented as unsaveable
        persistence.save(with_callable, tmp_path / "bad.zip")
