"""LeadScorer on synthetic leads with known truth: scores, grades, reasons, robustness, fallbacks, saving."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone

from crmml.exceptions import LeakageWarning
from crmml.schema import SchemaError
from crmml.scoring import InsufficientDataWarning, LeadScorer, RuleLeadScorer


@pytest.fixture(scope="module")
def syn(synthetic_crm):
    """2,500 synthetic leads, scored 14 days after creation, with their events and the true probabilities."""
    leads = synthetic_crm.leads.assign(score_time=synthetic_crm.leads["created_at"] + pd.Timedelta(days=14))
    return leads, synthetic_crm.lead_events, synthetic_crm.lead_truth


@pytest.fixture(scope="module")
def fitted(syn):
    leads, events, _ = syn
    return LeadScorer(cv=3, random_state=0).fit(leads, events)


def test_scores_track_the_true_conversion_probability(syn, fitted):
    leads, events, truth = syn
    out = fitted.score_leads(leads, events)
    assert list(out.columns) == ["probability", "score", "grade", "fit_score", "engagement_score"]
    assert out.index.name == "lead_id" and out.index.equals(pd.Index(leads["lead_id"]))
    assert out["score"].between(0, 100).all() and set(out["grade"]) <= set("ABCD")
    assert np.corrcoef(out["probability"], truth.loc[out.index, "p_convert"])[0, 1] > 0.9
    # calibrated on the pooled forward (out-of-time) predictions: their mean matches their conversion rate;
    # on the training leads the level also carries the drift the forward folds saw (here the last quarter
    # of the leads converts 27% against 30% before), so it may sit a little lower
    assert fitted.validation_.startswith("time-ordered")
    assert abs(fitted.oof_["probability"].mean() - fitted.oof_["converted"].mean()) < 0.01
    assert abs(out["probability"].mean() - leads["converted"].mean()) < 0.03
    # sub-scores: the engagement score follows the latent engagement, the fit score does not need events
    assert spearmanr(out["engagement_score"], truth.loc[out.index, "engagement"])[0] > 0.4
    assert spearmanr(out["fit_score"], truth.loc[out.index, "p_convert"])[0] > 0.6


def test_model_selection_keeps_the_best_cross_validated_family(fitted):
    cv = fitted.cv_results_
    assert set(cv.index) == {"logistic", "xgboost"}
    assert fitted.model_kind_ == cv["roc_auc"].idxmax()
    assert (cv["roc_auc"] > 0.7).all() and (cv["pr_auc"] > fitted.base_rate_).all()


def test_cross_validated_evaluation_has_monotone_grades(fitted):
    ev = fitted.evaluate()
    assert ev["roc_auc"] == pytest.approx(fitted.cv_results_.loc[fitted.model_kind_, "roc_auc"], abs=0.02)
    rates = ev["grades"]["conversion_rate"].to_numpy()
    assert np.all(np.diff(rates) < 0), ev["grades"]
    assert ev["gains"]["cum_capture"].iloc[-1] == pytest.approx(1.0)
    assert ev["gains"]["lift"].iloc[0] > 2


def test_reasons_are_readable_and_consistent_with_the_model(syn, fitted):
    leads, events, _ = syn
    ex = fitted.explain(leads.head(20), events, top_n=2)
    assert list(ex.columns) == ["score", "grade", "top_positive", "top_negative"]
    pat = re.compile(r"^[\w]+ = .+ \([+-]\d+\.\d\d\)$")
    for txt, sign in [(t, "+") for t in ex["top_positive"]] + [(t, "-") for t in ex["top_negative"]]:
        parts = [p for p in txt.split("; ") if p]
        assert len(parts) <= 2
        assert all(pat.match(p) and p.rsplit("(", 1)[1].startswith(sign) for p in parts), txt
    contrib = fitted.contributions(leads, events)
    assert {"industry", "source", "events_total_count"} <= set(contrib.columns)
    # contributions add up (with a constant) to the model's log-odds: same order as the probability
    p = fitted.score_leads(leads, events)["probability"]
    assert spearmanr(contrib.sum(axis=1), p)[0] > 0.999


@pytest.mark.parametrize("kind", ["logistic", "xgboost"])
def test_both_families_explain_additively(syn, kind):
    leads, _, _ = syn
    s = LeadScorer(model=kind, cv=2, random_state=0).fit(leads.drop(columns="score_time"))
    assert list(s.cv_results_.index) == [kind]
    contrib = s.contributions(leads)
    assert spearmanr(contrib.sum(axis=1), s.score_leads(leads)["probability"])[0] > 0.999
    fast = s.contributions(leads.head(300), approximate=True)
    assert np.allclose(fast.sum(axis=1), contrib.head(300).sum(axis=1), atol=1e-4)
    out = s.score_leads(leads)
    assert out["fit_score"].equals(out["score"]) and out["engagement_score"].isna().all()


def test_unseen_categories_missing_optional_and_extra_columns(syn, fitted):
    leads, events, _ = syn
    new = leads.head(50).copy()
    new["industry"] = "space_mining"            # unseen category
    new = new.drop(columns=["employees"])       # optional: it had missing values in training
    new["notes"] = "call back"                  # extra column
    out = fitted.score_leads(new, events)
    assert len(out) == 50 and out["probability"].notna().all()
    assert fitted.explain(new, events)["top_positive"].str.len().gt(0).any()
    with pytest.raises(SchemaError, match=r"leads.source: required column is missing"):
        fitted.score_leads(leads.drop(columns="source"), events)
    with pytest.raises(SchemaError, match=r"leads.lead_id: required column is missing"):
        fitted.score_leads(leads.drop(columns="lead_id"), events)
    with pytest.raises(SchemaError, match="fitted with lead events; pass events="):
        fitted.score_leads(leads)


def test_optional_and_exclude(syn):
    leads, _, _ = syn
    with pytest.warns(LeakageWarning, match=r"exclude= names \['nope'\] are not columns of the leads, so they "
                                            r"exclude nothing; check their spelling") as caught:
        s = LeadScorer(model="logistic", cv=2, exclude=["has_budget", "nope"], optional=["seniority"],
                       random_state=0).fit(leads)
    assert {w.filename for w in caught if "exclude=" in str(w.message)} == {__file__}    # the line calling fit
    assert "has_budget" not in s.attributes_ and "seniority" not in s.required_
    out = s.score_leads(leads.drop(columns=["has_budget", "seniority"]).head(10))
    assert out["probability"].notna().all()


def test_scoring_is_partitionable_by_lead(syn, fitted):
    leads, events, _ = syn
    whole = fitted.score_leads(leads, events)
    halves = pd.concat([fitted.score_leads(leads.iloc[::2], events),
                        fitted.score_leads(leads.iloc[1::2], events)]).loc[whole.index]
    pd.testing.assert_frame_equal(whole, halves)


def test_quantile_and_score_grades(syn):
    leads, _, _ = syn
    s = LeadScorer(model="logistic", cv=2, grade_by="quantile", random_state=0).fit(leads)
    counts = s.evaluate()["grades"]["count"]           # the out-of-fold leads (forward folds: not the 1st block)
    assert counts.sum() == len(s.oof_) < len(leads)
    shares = counts / counts.sum()
    assert shares.to_numpy() == pytest.approx([0.1, 0.2, 0.3, 0.4], abs=0.02)
    s2 = LeadScorer(model="logistic", cv=2, grade_by="score", grade_thresholds=(60, 40, 20), random_state=0)
    out = s2.fit(leads).score_leads(leads)
    assert (out.loc[out["score"] >= 61, "grade"] == "A").all() and (out.loc[out["score"] < 19, "grade"] == "D").all()


def test_too_little_data_warns_and_falls_back(syn):
    leads, _, _ = syn
    few = leads.head(60)
    with pytest.warns(InsufficientDataWarning, match="too little for a stable model"):
        s = LeadScorer().fit(few)
    assert s.model_kind_ == "prior"
    p = s.score_leads(leads)["probability"]
    assert p.nunique() == 1 and p.iloc[0] == pytest.approx((few["converted"].sum() + 1) / 62)
    assert (s.explain(leads.head(3))["top_positive"] == "").all()
    rules = RuleLeadScorer({"budget": ("has_budget == 1", 50), "senior": ("seniority >= 2", 50)})
    with pytest.warns(InsufficientDataWarning):
        s = LeadScorer(fallback=rules).fit(few)
    assert s.model_kind_ == "rules"
    ref = clone(rules).fit(few).score_leads(leads)
    assert s.score_leads(leads)["probability"].equals(ref["probability"])
    assert s.explain(leads.head(3))["top_positive"].str.contains("budget|senior").any()


def test_parameter_errors(syn):
    leads, _, _ = syn
    with pytest.raises(ValueError, match="'model' parameter of LeadScorer must be one of"):
        LeadScorer(model="forest").fit(leads)
    with pytest.raises(ValueError, match=r"'cv' parameter of LeadScorer must be an int in \[2, 100\]"):
        LeadScorer(cv=1).fit(leads)
    with pytest.raises(ValueError, match="'grade_thresholds' parameter of LeadScorer must be 3 strictly"):
        LeadScorer(grade_thresholds=(1, 2, 3)).fit(leads)
    with pytest.raises(ValueError, match="strictly increasing shares in"):
        LeadScorer(grade_by="quantile", grade_thresholds=(0.5, 0.8, 1.5)).fit(leads)
    with pytest.raises(ValueError, match="'fallback' parameter of LeadScorer must be 'prior' or a RuleLeadScorer"):
        LeadScorer(fallback="rules").fit(leads)
    with pytest.raises(SchemaError, match="leads: no attribute columns to learn from"):
        LeadScorer(date_features=False).fit(leads[["lead_id", "created_at", "converted"]])
    with pytest.raises(ValueError, match="'validation' parameter of LeadScorer must be one of"):
        LeadScorer(validation="forward").fit(leads)
    with pytest.raises(ValueError, match="validation='time' needs forward folds on created_at, but the leads "
                                         "have no created_at"):
        LeadScorer(validation="time").fit(leads.drop(columns=["created_at"]))
    with pytest.raises(SchemaError, match="leads.converted: required column is missing"):
        LeadScorer().fit(leads.drop(columns="converted"))
    with pytest.raises(ValueError, match="'as_of' parameter of lead_event_features is required"):
        LeadScorer().fit(leads.drop(columns="score_time"), pd.DataFrame(
            {"lead_id": [1], "timestamp": [pd.Timestamp("2024-01-01")], "event_type": ["x"]}))
    s = LeadScorer(model="logistic", cv=2).fit(leads)
    with pytest.raises(ValueError, match="'top_n' parameter of LeadScorer.explain must be an int >= 1"):
        s.explain(leads, top_n=0)


def test_save_and_load_round_trip(tmp_path, syn, fitted):
    from crmml.persistence import load, save

    leads, events, _ = syn
    assert clone(fitted).get_params() == fitted.get_params()
    back = load(save(fitted, tmp_path / "scorer.zip"))
    pd.testing.assert_frame_equal(back.score_leads(leads, events), fitted.score_leads(leads, events))
    pd.testing.assert_frame_equal(back.explain(leads.head(5), events), fitted.explain(leads.head(5), events))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsufficientDataWarning)
        prior = LeadScorer().fit(leads.head(30))
        ruled = LeadScorer(fallback=RuleLeadScorer({"b": ("has_budget == 1", 10)})).fit(leads.head(30))
    assert load(save(prior, tmp_path / "prior.zip")).score_leads(leads)["probability"].nunique() == 1
    back = load(save(ruled, tmp_path / "ruled.zip"))
    pd.testing.assert_frame_equal(back.score_leads(leads), ruled.score_leads(leads))


def test_default_grades_stay_reachable_when_conversions_are_common():
    rng = np.random.default_rng(3)
    x = rng.normal(size=3000)
    leads = pd.DataFrame({"lead_id": np.arange(3000), "x": x,
                          "converted": (rng.random(3000) < 1 / (1 + np.exp(-(0.6 + 2.5 * x)))).astype(int)})
    s = LeadScorer(model="logistic", cv=3, random_state=0).fit(leads)
    assert s.base_rate_ > 0.55
    g = s.evaluate()["grades"]
    assert (g["count"] > 100).all(), g
    assert np.all(np.diff(g["conversion_rate"].to_numpy()) < 0)
    odds = s.grade_cutoffs_ / (1 - s.grade_cutoffs_) / (s.base_rate_ / (1 - s.base_rate_))
    assert odds == pytest.approx([2.0, 1.0, 0.5])


def test_mixed_dtypes_and_missing_values_at_scoring_time():
    rng = np.random.default_rng(7)
    n = 800
    seg = rng.choice(["smb", "mid", "ent"], n)
    leads = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)],
        "segment": pd.Categorical(seg),
        "partner": rng.random(n) < 0.3,                                    # bool
        "country": pd.Series(rng.choice(["PT", "ES", "FR", None], n), dtype=object),
        "visits": rng.poisson(3, n),                                       # int, skewed count
        "revenue": np.where(rng.random(n) < 0.2, np.nan, rng.lognormal(10, 1, n)),
        "last_contact": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"),  # ignored
    })
    logit = -1 + 1.2 * (seg == "ent") + 0.3 * leads["visits"] + 0.8 * leads["partner"]
    leads["converted"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    s = LeadScorer(model="logistic", cv=3, random_state=0).fit(leads)
    assert "last_contact" not in s.attributes_ and "revenue" not in s.required_
    assert s.evaluate()["roc_auc"] > 0.65
    new = leads.head(6).copy()
    new["segment"] = pd.Categorical(["gov", None, "smb", "ent", "mid", "smb"])
    new["visits"] = [np.nan, 1, 2, 3, 4, 5]                             # missing where training had none
    new["country"] = ["XX", None, "PT", "ES", "FR", "PT"]
    out = s.score_leads(new.drop(columns=["revenue", "converted"]))
    assert out["probability"].notna().all() and list(out.index) == list(new["lead_id"])
    ex = s.explain(new.drop(columns=["revenue"]))
    assert ex.loc["L0", "top_positive"] + ex.loc["L0", "top_negative"] != ""
    l0 = ex.loc["L0", "top_positive"] + "; " + ex.loc["L0", "top_negative"]
    assert "visits = 0" not in l0 and ("visits" not in l0 or "visits = missing" in l0)


def test_columns_that_are_no_feature_are_named_at_fit(syn):
    """A date, a duration or a period column is no feature: fit names them (before: dates were left out without a
    word, durations and periods were even required at scoring time though never read)."""
    from crmml.exceptions import DroppedCustomersWarning

    leads, _, _ = syn
    days = pd.to_timedelta(np.arange(len(leads)) % 30, unit="D")
    extra = leads.assign(last_contact_date=leads["created_at"] - days, wait=days,
                         quarter=leads["created_at"].dt.to_period("Q"))
    with pytest.warns(DroppedCustomersWarning) as caught:
        s = LeadScorer(model="logistic", cv=2, random_state=0).fit(extra)
    msg = [str(w.message) for w in caught if w.category is DroppedCustomersWarning]
    assert len(msg) == 1 and msg[0].startswith("LeadScorer.fit: 3 columns of the leads are not features")
    assert re.search(r"'last_contact_date' \(datetime64\[\w+\]\), 'wait' \(timedelta64\[\w+\]\), "
                     r"'quarter' \(period\[Q-DEC\]\)", msg[0])
    assert "days from the date to created_at" in msg[0] and "exclude=" in msg[0]
    assert not {"last_contact_date", "wait", "quarter"} & set(s.attributes_ + s.required_)
    plain = LeadScorer(model="logistic", cv=2, random_state=0).fit(leads)
    assert s.attributes_ == plain.attributes_
    pd.testing.assert_frame_equal(s.score_leads(leads), plain.score_leads(leads))  # scored without them
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedCustomersWarning)
        LeadScorer(model="logistic", cv=2, exclude=["last_contact_date", "wait", "quarter"],
                   random_state=0).fit(extra)
    # RuleLeadScorer reads the columns its conditions name, dates included
    rules = RuleLeadScorer(rules=[{"name": "recent", "condition": "last_contact_date > '2024-01-01'", "points": 1}])
    got = rules.fit(extra).score_leads(extra)["score"].to_numpy()
    np.testing.assert_array_equal(got, np.where(extra["last_contact_date"] > "2024-01-01", 100, 0))


def test_dates_read_as_text_are_no_feature_either(syn):
    """A date column read from a CSV is text: it was one-hot encoded as categories (each date a rare level, and
    never the same level for a later lead). It is now named at fit like a date column; text that is not all dates
    (codes, a few date-like values) stays a feature."""
    from crmml.exceptions import DroppedCustomersWarning

    leads, _, _ = syn
    days = pd.to_timedelta(np.arange(len(leads)) % 40, unit="D")
    text = leads.assign(last_contact=(leads["created_at"] - days).dt.strftime("%Y-%m-%d"),
                        visit=(leads["created_at"] - days).dt.strftime("%d/%m/%Y %H:%M"),
                        plan=np.where(np.arange(len(leads)) % 2, "basic", "pro"),
                        code=np.where(np.arange(len(leads)) % 3, "2024-01-01", "none"))
    with pytest.warns(DroppedCustomersWarning) as caught:
        s = LeadScorer(model="logistic", cv=2, random_state=0).fit(text)
    msg = [str(w.message) for w in caught if w.category is DroppedCustomersWarning]
    assert len(msg) == 1 and "'last_contact' (dates as text), 'visit' (dates as text)" in msg[0], msg
    assert {"plan", "code"} <= set(s.attributes_) and not {"last_contact", "visit"} & set(s.attributes_)
    plain = LeadScorer(model="logistic", cv=2, random_state=0).fit(text.drop(columns=["last_contact", "visit"]))
    pd.testing.assert_frame_equal(s.score_leads(text), plain.score_leads(text), check_exact=True)
