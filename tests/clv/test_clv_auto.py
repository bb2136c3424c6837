"""CLVModel(purchase_model="auto"): the choice on the user's own split, its record, and the BG/NBD floor."""

import numpy as np
import pandas as pd
import pytest

from crmml.clv import BetaGeoModel, CLVModel, NBDModel, _selection, summarize
from crmml.datasets import load_cdnow


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow()


def test_auto_records_the_comparison_and_keeps_the_best(cdnow):
    m = CLVModel("auto", freq="W", horizon_days=273).fit(cdnow, "1997-10-01")
    sel = m.selection_
    assert list(sel.index) == ["bgnbd", "mbgnbd", "paretonbd"] and sel["chosen"].sum() == 1
    chosen = sel.index[sel["chosen"]][0]
    assert sel.loc[chosen, "holdout_error"] == sel["holdout_error"].min() <= sel.loc["bgnbd", "holdout_error"]
    assert type(m.purchase_model_) is _selection.AUTO_CANDIDATES[chosen]
    assert sel.attrs["holdout_days"] == 91                               # a third of the 273 days of history
    # the chosen model is refit on the whole history: same parameters as naming it directly
    direct = CLVModel(chosen, freq="W", horizon_days=273).fit(cdnow, "1997-10-01")
    pd.testing.assert_series_equal(m.purchase_model_.params_, direct.purchase_model_.params_)


def test_auto_reads_nothing_at_or_after_as_of(cdnow):
    later = cdnow[cdnow["timestamp"] >= "1997-10-01"].copy()
    later["amount"] *= 50                                              # very different future
    more = pd.concat([cdnow, later, later])
    a = CLVModel("auto", freq="W", horizon_days=273).fit(cdnow[cdnow["timestamp"] < "1997-10-01"], "1997-10-01")
    b = CLVModel("auto", freq="W", horizon_days=273).fit(more, "1997-10-01")
    pd.testing.assert_frame_equal(a.selection_, b.selection_)


def test_auto_never_picks_a_model_that_loses_to_bgnbd(cdnow, monkeypatch):
    """NBD (no dropout) overforecasts CDNOW's holdout; offered alone beside BG/NBD it must not be chosen."""
    monkeypatch.setattr(_selection, "AUTO_CANDIDATES", {"bgnbd": BetaGeoModel, "nbd": NBDModel})
    m = CLVModel("auto", freq="W", horizon_days=273).fit(cdnow, "1997-10-01")
    assert m.selection_.loc["nbd", "holdout_error"] > m.selection_.loc["bgnbd", "holdout_error"]
    assert m.selection_.loc["bgnbd", "chosen"] and isinstance(m.purchase_model_, BetaGeoModel)


def test_auto_falls_back_to_bgnbd_on_short_history_and_refuses_fit_summary(cdnow):
    m = CLVModel("auto", freq="D", horizon_days=30).fit(cdnow, "1997-01-10")
    assert m.selection_.empty and "too short for a holdout" in m.selection_.attrs["reason"]
    assert type(m.purchase_model_) is BetaGeoModel
    with pytest.raises(ValueError, match="purchase_model='auto'\\) chooses its model on a calibration/holdout split"):
        CLVModel("auto").fit_summary(summarize(cdnow, "1997-10-01"), "1997-10-01")
    with pytest.raises(ValueError, match="The 'purchase_model' parameter of CLVModel must be one of"):
        CLVModel("best").fit(cdnow, "1997-10-01")
    assert np.isfinite(m.predict()["expected_purchases"]).all()
