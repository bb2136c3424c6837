"""LeadScorer validated the way it is used: forward in time, with date features, a leakage screen and grades
that keep their meaning when the conversion rate moves."""

import warnings

import numpy as np
import pandas as pd
import pytest

from crmml._utils import ProbabilityCalibrator
from crmml.evaluation import roc_auc
from crmml.exceptions import LeakageWarning
from crmml.scoring import LeadScorer
from crmml.scoring._validation import time_folds


def _drifting_leads(n=12000, seed=0, months=48):
    """Leads over ``months`` months: a stable weak signal ``x`` and a ``campaign`` code that changes every month
    and carries that month's conversion rate. Random folds learn every month's rate (the months they test on are
    in their training data); on later leads the campaign codes are new, so only ``x`` ranks them."""
    rng = np.random.default_rng(seed)
    month = np.sort(rng.integers(0, months, n))
    created = pd.Timestamp("2021-01-01") + pd.to_timedelta(month * 30 + rng.integers(0, 28, n), unit="D")
    month_effect = rng.normal(0, 0.6, months)
    x = rng.normal(0, 1, n)
    p = 1 / (1 + np.exp(-(-1.5 + 0.8 * x + month_effect[month])))
    return pd.DataFrame({"lead_id": np.arange(n), "created_at": created, "x": x,
                         "campaign": [f"c{m:02d}" for m in month], "converted": (rng.random(n) < p).astype(int)})


def test_forward_folds_train_on_the_past_only():
    rng = np.random.default_rng(1)
    t = (np.datetime64("2024-01-01") + rng.integers(0, 40, 500).astype("timedelta64[D]")).astype("datetime64[ns]")
    y = rng.integers(0, 2, 500)
    folds, why = time_folds(t, y, 4)
    assert why == "" and len(folds) == 4
    covered = np.concatenate([te for _, te in folds])
    assert len(np.unique(covered)) == len(covered)                      # each lead tested at most once
    for tr, te in folds:
        assert t[tr].max() < t[te].min()                                 # strictly earlier: no date straddles
    # a lead without created_at cannot be placed in time; one class only in a block drops that fold
    t2 = t.copy()
    t2[3] = np.datetime64("NaT")
    assert time_folds(t2, y, 4) == ([], "1 leads have no created_at")
    assert time_folds(t, np.zeros(500, int), 4)[0] == []


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_evaluate_matches_the_forward_roc_auc_where_random_folds_overstate_it(seed):
    """Measured (seeds 0-3): forward error -0.010..+0.017, random folds +0.061..+0.107; ~1-2 s per seed."""
    leads = _drifting_leads(seed=seed)
    train, test = leads[leads["created_at"] < "2022-12-20"], leads[leads["created_at"] >= "2022-12-20"]
    fwd = {}
    for validation in ("auto", "random"):
        s = LeadScorer(model="logistic", validation=validation, random_state=0).fit(train)
        fwd[validation] = (s.evaluate()["roc_auc"], s.evaluate(test)["roc_auc"], s.evaluate()["validation"])
    (est_t, real_t, how_t), (est_r, real_r, how_r) = fwd["auto"], fwd["random"]
    assert how_t.startswith("time-ordered") and how_r.startswith("random")
    assert real_t == pytest.approx(real_r, abs=1e-9)          # same family and data: same order of the leads
    assert abs(est_t - real_t) <= 0.02, (est_t, real_t)
    assert est_r > real_r + 0.05, (est_r, real_r)              # random folds promise what never comes


def test_without_created_at_random_folds_are_used_and_said():
    leads = _drifting_leads(n=1500).drop(columns="created_at")
    s = LeadScorer(model="logistic", cv=3, random_state=0).fit(leads)
    assert s.validation_ == "random: stratified 3-fold (the leads have no created_at)"
    assert s.date_features_ == [] and len(s.oof_) == len(leads)


def test_fewer_than_two_forward_folds_with_both_classes_warn_and_fall_back_to_random_folds():
    """README: when created_at leaves fewer than 2 folds with both classes, a warning says so and stratified random
    folds are used; validation_ and evaluate()["validation"] say which."""
    from crmml.exceptions import InsufficientDataWarning

    leads = _drifting_leads(n=1600, seed=5)
    late = leads["created_at"] >= leads["created_at"].quantile(0.5)
    leads["converted"] = np.where(late, leads["converted"], 0)   # no conversion in the first half of the dates
    t = leads["created_at"].to_numpy()
    assert time_folds(t, leads["converted"].to_numpy(), 3)[0] == []           # blocks 0-1 train on one class
    with pytest.warns(InsufficientDataWarning, match=r"created_at splits the leads into 1 usable forward folds "
                      r"\(2 needed.*validating with stratified random folds instead"):
        s = LeadScorer(model="logistic", cv=3, random_state=0).fit(leads)
    assert s.validation_.startswith("random: stratified 3-fold (created_at splits the leads into 1 usable")
    assert s.evaluate()["validation"] == s.validation_
    assert len(s.oof_) == len(leads)                            # random folds test every lead once
    # one date for every lead: no forward fold at all, same fallback
    with pytest.warns(InsufficientDataWarning, match="into 0 usable forward folds"):
        one_day = LeadScorer(model="logistic", cv=3, random_state=0).fit(leads.assign(created_at=t.min()))
    assert one_day.validation_.startswith("random: stratified 3-fold (created_at splits the leads into 0 usable")
    # with enough dates and conversions throughout: forward folds and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", InsufficientDataWarning)
        ok = LeadScorer(model="logistic", cv=3, random_state=0).fit(_drifting_leads(n=1600, seed=5))
    assert ok.validation_.startswith("time-ordered: 3 forward-chaining folds")


def test_date_features_are_month_and_weekday_and_optional_at_scoring():
    leads = _drifting_leads(n=1500)
    s = LeadScorer(model="logistic", cv=3, random_state=0).fit(leads)
    assert s.date_features_ == ["created_at_month", "created_at_weekday"]
    assert {"created_at_month", "created_at_weekday"} <= set(s.encoder_.columns_)
    monthly = leads.assign(created_at=leads["created_at"].dt.to_period("M").dt.to_timestamp())
    assert LeadScorer(model="logistic", cv=3, random_state=0).fit(monthly).date_features_ == ["created_at_month"]
    assert LeadScorer(model="logistic", cv=3, date_features=False, random_state=0).fit(leads).date_features_ == []
    # leads scored without created_at: the date features are missing, not an error
    out = s.score_leads(leads.drop(columns="created_at").head(50))
    assert out["probability"].notna().all()
    # explained like any attribute
    assert s.explain(leads.head(20), top_n=3)["top_positive"].str.len().gt(0).any()


def test_leakage_screen_names_the_leaking_column_and_not_an_identifier():
    leads = _drifting_leads(n=2000, seed=3)
    rng = np.random.default_rng(3)
    leads["call_seconds"] = np.where(leads["converted"] == 1, 300, 60) + rng.normal(0, 20, len(leads))
    leads["email"] = [f"lead{i}@example.com" for i in range(len(leads))]        # unique: pooled, not a leak
    leads["closed_at"] = leads["created_at"] + pd.Timedelta(days=30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = LeadScorer(model="logistic", cv=3, random_state=0).fit(leads)
    leak = [str(w.message) for w in caught if w.category is LeakageWarning]
    assert len(leak) == 2, leak
    assert {w.filename for w in caught if w.category is LeakageWarning} == {__file__}    # the line calling fit
    assert "'call_seconds' alone separates" in leak[0] and "exclude=['call_seconds']" in leak[0]
    assert "'closed_at' is after created_at for 2000 of 2000 leads" in leak[1]
    assert s.leakage_.loc["call_seconds", "suspect"] and not s.leakage_.loc["email", "suspect"]
    assert s.leakage_.loc["call_seconds", "single_column_roc_auc"] > 0.99
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LeadScorer(model="logistic", cv=3, exclude=["call_seconds"], random_state=0).fit(
            leads.drop(columns="closed_at"))
    assert not [w for w in caught if w.category is LeakageWarning]


def test_leakage_screen_says_nothing_of_a_date_column_the_user_excluded():
    """A date after created_at that the user already passed in exclude= was still warned about ('exclude the ones
    that are not'): there was nothing left to do. A date column not excluded is still warned about."""
    leads = _drifting_leads(n=2000, seed=3)
    leads["closed_at"] = leads["created_at"] + pd.Timedelta(days=30)
    leads["won_at"] = leads["created_at"] + pd.Timedelta(days=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LeadScorer(model="logistic", cv=3, exclude=["closed_at", "won_at"], random_state=0).fit(leads)
    assert not [w for w in caught if w.category is LeakageWarning], [str(w.message) for w in caught]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LeadScorer(model="logistic", cv=3, exclude=["closed_at"], random_state=0).fit(leads)
    leak = [str(w.message) for w in caught if w.category is LeakageWarning]
    assert len(leak) == 1 and "'won_at' is after created_at for 2000 of 2000 leads" in leak[0], leak


def test_grades_keep_their_meaning_when_the_conversion_rate_moves():
    """Grades are fixed calibrated-probability bands: under drift (the new leads are better), the share of A
    grows, the conversion rate still falls from A to D, and each grade converts within its band."""
    rng = np.random.default_rng(7)

    def leads(n, shift, start):
        x = rng.normal(shift, 1, n)
        p = 1 / (1 + np.exp(-(-2.0 + 1.5 * x)))
        created = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 180, n), unit="D")
        return pd.DataFrame({"lead_id": np.arange(n) + (0 if shift == 0 else 10**6), "created_at": created,
                             "x": x, "converted": (rng.random(n) < p).astype(int)}), p

    train, _ = leads(8000, 0.0, "2024-01-01")
    later, p_true = leads(8000, 1.0, "2024-07-01")
    s = LeadScorer(model="logistic", date_features=False, random_state=0).fit(train)
    before, after = s.evaluate()["grades"], s.evaluate(later)["grades"]
    assert later["converted"].mean() > 2 * train["converted"].mean()            # the base rate moved
    assert after.loc["A", "count"] / after["count"].sum() > 2 * before.loc["A", "count"] / before["count"].sum()
    assert np.all(np.diff(after["conversion_rate"].to_numpy()) < 0), after
    cut = s.grade_cutoffs_                                                       # A >= cut[0] > B >= cut[1] ...
    bands = {"A": (cut[0], 1), "B": (cut[1], cut[0]), "C": (cut[2], cut[1]), "D": (0, cut[2])}
    for g, (lo, hi) in bands.items():
        assert lo - 0.03 <= after.loc[g, "conversion_rate"] <= hi + 0.03, (g, lo, hi, after)
    # the grade of a lead does not depend on which other leads are scored with it
    whole = s.score_leads(later)["grade"]
    parts = pd.concat([s.score_leads(later.iloc[:100]), s.score_leads(later.iloc[100:])])["grade"]
    pd.testing.assert_series_equal(whole, parts)


def test_calibration_never_reverses_the_order_of_the_scores():
    rng = np.random.default_rng(0)
    s = rng.random(3000)
    y = (rng.random(3000) < 1 - s).astype(int)              # scores rank the outcomes backwards
    cal = ProbabilityCalibrator(method="sigmoid").fit(s, y)
    out = cal.transform(np.sort(s))
    assert np.all(np.diff(out) >= 0) and roc_auc(y, cal.transform(s)) == pytest.approx(roc_auc(y, s))
    assert out.min() == pytest.approx(y.mean(), abs=1e-3) and out.max() == pytest.approx(y.mean(), abs=1e-3)


def test_forward_calibration_takes_its_slope_within_periods():
    """Two periods: the later converts far more, but its scores (from a model of the earlier period) are lower.
    Pooled Platt scaling sees a negative slope; with the periods the slope is the within-period one, and the
    level makes the mean probability equal the conversion rate over both."""
    rng = np.random.default_rng(2)
    z = rng.normal(0, 1, 8000)
    period = np.repeat([0, 1], 4000)
    y = (rng.random(8000) < 1 / (1 + np.exp(-(1.0 * z + np.where(period == 0, -3.0, 1.0))))).astype(int)
    s = 1 / (1 + np.exp(-(z - 3.0 * period)))                 # the later period is scored lower
    pooled = ProbabilityCalibrator(method="sigmoid").fit(s, y)
    assert pooled.coef_ == 1e-6                                 # would have been negative: flattened, not reversed
    cal = ProbabilityCalibrator(method="sigmoid").fit(s, y, periods=period)
    assert cal.coef_ == pytest.approx(1.0, abs=0.1)
    assert cal.transform(s).mean() == pytest.approx(y.mean(), abs=1e-6)
    by_period = cal.transform(s, periods=period)
    for k in (0, 1):
        assert by_period[period == k].mean() == pytest.approx(y[period == k].mean(), abs=0.01)


def _level_rates_reference(s, y, min_count):
    """The leakage screen's category scoring written with pandas text maps (its implementation before 2026-12-08)."""
    v = s.astype(object).where(s.notna(), "__missing__").astype(str)
    counts = v.value_counts()
    v = v.where(v.map(counts).to_numpy() >= min_count, "__other__")
    return v.map(pd.Series(y, index=v.index).groupby(v).mean()).to_numpy(dtype=float)


@pytest.mark.parametrize("seed", range(8))
def test_leakage_screen_scores_categories_as_the_text_map_did(seed):
    from crmml.scoring._validation import _level_rates

    rng = np.random.default_rng(seed)
    pool = np.array(["a", "b", "c", "__other__", "__missing__", "1", 1, 2.0, None, np.nan, True], dtype=object)
    s = pd.Series(pool[rng.integers(0, len(pool), 500)], index=rng.permutation(500) + 7)   # an index not 0..n-1
    y = rng.integers(0, 2, 500)
    for min_count in (1, 5, 40, 1000):
        np.testing.assert_array_equal(_level_rates(s, y, min_count), _level_rates_reference(s, y, min_count))
